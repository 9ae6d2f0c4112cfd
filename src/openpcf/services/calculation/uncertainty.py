"""Monte Carlo of a project's footprint under a profile: `openpcf calc MODEL --uncertainty N`.

What is sampled, each as a multiplier of its stated value (`domain/uncertainty.py`):
- the amount of every input with `uncertainty` (`pedigree: true`: a lognormal whose gsd comes
  from the input's dq ratings, `factors/pedigree.py`); it scales the whole line, or, for a
  sub-assembly, the line's coefficient in the technosphere of the models;
- every factor with `uncertainty`, once per iteration wherever it is used (lines sharing a
  factor share its error);
- the value of every supplier footprint (`pcf:`) with `uncertainty`, and the amount of every
  direct emission with `uncertainty`, each its own parameter;
- the uncertain exchanges of every background database a `process:` input draws on (the
  database's technosphere and biosphere entries; `engine.uncertainty.background_scores`).

When nothing carries a distribution, each input with dq ratings gets a pedigree lognormal on its
amount (as `pedigree: true` would) and the result says so (`derived`); without ratings either
the run is refused rather than print an interval of zero width.

Each iteration's line values are kg CO2e counted by the profile's accounting (GWP set, gases,
biogenic CO2, dLUC), so the sampled total is the deterministic `calculate_under` total with the
stated values replaced; the run checks this by reproducing the deterministic total through the
same arrays. Contributions to variance are the squared Spearman rank correlations between each
input line's contribution and the total, normalised to add up to 1 (a rank measure, robust to
the skew of lognormals; lines sharing an uncertain factor share its credit).
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from openpcf.domain.errors import CalculationError
from openpcf.domain.factor import Factor
from openpcf.domain.gases import Flow
from openpcf.domain.methodology import Accounting
from openpcf.domain.model import DataQuality
from openpcf.domain.result import UncertaintyResult, VarianceContribution
from openpcf.domain.uncertainty import Uncertainty
from openpcf.engine import background as bg
from openpcf.engine import uncertainty as mc
from openpcf.engine.solve import SingularSystem
from openpcf.factors.bundled import gwp_table
from openpcf.factors.pedigree import INDICATORS, pedigree_sigma, pedigree_table
from openpcf.io.lci_package import StoredDatabase
from openpcf.services.calculation.calculate import calculate_under, counts_in_total
from openpcf.services.calculation.inventory import (
    Inventory,
    Line,
    build_inventory,
    reference_per_declared,
)
from openpcf.services.calculation.project import Project
from openpcf.services.lci.databases import factorisation, open_database

#: Called with (iterations done, iterations in all) while background databases are sampled.
Progress = Callable[[int, int], None]

#: The distribution of an amount derived from its dq ratings (no distribution stated anywhere).
_PEDIGREE = Uncertainty(distribution="lognormal", pedigree=True)

SENSITIVITY = (
    "squared Spearman rank correlation of each input line's contribution with the total, "
    "normalised to add up to 1"
)


@dataclass
class _Parameters:
    """The uncertain numbers of the foreground, one column of multipliers each."""

    kind: list[int] = field(default_factory=list)
    p: list[tuple[float, float, float]] = field(default_factory=list)
    described: list[str] = field(default_factory=list)
    factor_index: dict[str, int] = field(default_factory=dict)

    def add(self, relative: tuple[int, float, float, float], what: str) -> int:
        self.kind.append(relative[0])
        self.p.append(relative[1:])
        self.described.append(what)
        return len(self.kind) - 1

    def sample(self, iterations: int, rng: np.random.Generator) -> np.ndarray:
        if not self.kind:
            return np.ones((iterations, 0))
        p = np.asarray(self.p, dtype=np.float64).reshape(-1, 3)
        return mc.sample_multipliers(np.asarray(self.kind), p[:, 0], p[:, 1], p[:, 2],
                                     iterations, rng)  # fmt: skip


HISTOGRAM_BINS = 24


def monte_carlo(
    project: Project,
    acc: Accounting,
    iterations: int,
    seed: int | None = None,
    progress: Progress | None = None,
    deterministic: float | None = None,
) -> UncertaintyResult:
    """Statistics of `iterations` sampled footprints per declared unit, reproducible by `seed`
    (drawn and reported when not given). `deterministic`: the total `calculate_under` gave, to
    check the arrays against (computed when not given)."""
    if iterations < 2:
        raise CalculationError(f"--uncertainty needs at least 2 iterations, got {iterations}")
    if seed is None:
        seed = secrets.randbelow(2**32)
    if seed < 0:
        raise CalculationError(f"the seed must be 0 or more, got {seed}")
    if deterministic is None:
        deterministic = calculate_under(project, acc).pcf.value
    inv = build_inventory(project, acc)
    params = _Parameters()
    weight = _weights(inv, acc)
    amount_param = {id(ln): _amount_parameter(ln, params) for c in inv.columns for ln in c.lines}
    value_param = _value_parameters(project, inv, params)
    for c in inv.columns:
        for ln in c.lines:
            for factor, _ in ln.parts:
                _factor_parameter(factor, params)
    background, notes = _background(inv, acc, iterations, seed, progress)
    derived = None
    if not params.kind and not background:
        derived = _derive_from_data_quality(project, inv, amount_param, params)
    fg = params.sample(iterations, _rng(seed, 0))

    def run(mult: np.ndarray, scores: dict[tuple[str, int], np.ndarray], n: int) -> np.ndarray:
        return _totals(project, inv, weight, amount_param, value_param, params, mult, scores, n,
                       acc.excluded_stages)  # fmt: skip

    certain = {key: s.deterministic for key, s in background.items()}
    check = run(np.ones((1, len(params.kind))), certain, 1)[-1, 0]
    if not math.isclose(check, deterministic, rel_tol=1e-9, abs_tol=1e-12):
        raise CalculationError(f"internal check failed: the Monte Carlo arrays give {check} "
                               f"with the stated values, the calculation {deterministic}")  # fmt: skip
    sampled = {key: s.scores for key, s in background.items()}
    parts = run(fg, sampled, iterations)
    total = parts[-1]
    lines = [ln for ln in inv.columns[0].lines if ln.stage not in acc.excluded_stages]
    stats = mc.summary(total)
    counts, edges = np.histogram(total, bins=HISTOGRAM_BINS)
    rho = mc.rank_correlations(parts[:-1], total) if len(lines) else np.zeros(0)
    shares = mc.variance_shares(rho)
    contributions = sorted(
        (VarianceContribution(name=ln.name, stage=ln.stage, kind=ln.kind, line=ln.line,
                              rank_correlation=float(r), share=float(s))
         for ln, r, s in zip(lines, rho, shares, strict=True)),
        key=lambda c: (-c.share, c.name),
    )  # fmt: skip
    return UncertaintyResult(
        iterations=iterations,
        seed=seed,
        deterministic=deterministic,
        mean=stats.mean,
        sd=stats.sd,
        standard_error=stats.standard_error,
        median=stats.median,
        percentile_2_5=stats.p2_5,
        percentile_97_5=stats.p97_5,
        method=_method(iterations, seed, inv, notes, _sampled_a(inv, amount_param))
        + (f"; {derived}" if derived else ""),
        derived=derived,
        sensitivity=SENSITIVITY,
        sampled=(*params.described, *dict.fromkeys(s.described for s in background.values())),
        contributions=tuple(contributions),
        histogram=tuple(int(n) for n in counts),
        histogram_min=float(edges[0]),
        histogram_max=float(edges[-1]),
    )


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream,))))


def _weights(inv: Inventory, acc: Accounting) -> dict[Flow, float]:
    """kg CO2e the profile counts per kg of each flow of the inventory."""
    flows = {f for c in inv.columns for ln in c.lines for f in ln.flows}
    table = gwp_table()
    return {f: table.gwp(f, acc.gwp) * counts_in_total(f, acc) for f in flows}


def _kg_co2e(flows: dict[Flow, float], weight: dict[Flow, float]) -> float:
    return sum(kg * weight[f] for f, kg in flows.items())


def _describe(u: Uncertainty, sigma: float | None = None) -> str:
    if u.distribution == "lognormal":
        gsd = math.exp(sigma) if sigma is not None else u.gsd
        return f"lognormal, gsd {gsd:.4g}" + (" (pedigree)" if u.pedigree else "")
    if u.distribution == "normal":
        return f"normal, sd {u.sd:g}"
    if u.distribution == "uniform":
        return f"uniform, {u.min:g} … {u.max:g}"
    return f"triangular, {u.min:g} / {u.mode:g} / {u.max:g}"


def _amount_parameter(ln: Line, params: _Parameters) -> int | None:
    inp = ln.input
    if inp is None or inp.uncertainty is None:
        return None
    u = inp.uncertainty
    sigma = pedigree_sigma(inp.dq, u.basic_gsd) if u.pedigree and inp.dq else None
    label = f"input '{ln.name}' amount {inp.amount:g} {inp.unit}"
    if ln.line is not None:
        label += f" (line {ln.line})"
    return params.add(u.relative(inp.amount, sigma), f"{label}: {_describe(u, sigma)}")


def _derive_from_data_quality(
    project: Project, inv: Inventory, amount_param: dict[int, int | None], params: _Parameters
) -> str:
    """No input, factor, supplier PCF, emission or database carries a distribution: give each
    input with dq ratings a lognormal amount whose gsd the pedigree approach derives from them,
    and say so. Without ratings either there is nothing to sample: refuse, since an interval of
    zero width would pass for certainty (unless background databases stored without
    distributions are drawn on: the run is then kept, as before, and says nothing was sampled)."""
    rated = [(k, ln) for k, c in enumerate(inv.columns) for ln in c.lines
             if ln.input is not None and ln.input.dq]  # fmt: skip
    if not rated and any(ln.background for c in inv.columns for ln in c.lines):
        # a database stored before uncertainty was kept: the run stays, and says it is certain
        return ("nothing was sampled: no value carries a distribution or data-quality ratings, "
                "and the background databases carry none; the interval has zero width")  # fmt: skip
    if not rated:
        raise CalculationError(
            "--uncertainty has nothing to sample: no input, factor, supplier PCF, direct emission "
            "or background database carries a distribution (uncertainty:), and no input has "
            "data-quality ratings (dq:) to derive one from; a Monte Carlo run would print an "
            "interval of zero width. Add dq: {technological, geographical, temporal, "
            "completeness, reliability} (1-5) or uncertainty: to the inputs (docs/uncertainty.md)"
        )
    models = [m.model.product.name for m in project.models]
    for k, ln in rated:
        inp = ln.input
        assert inp is not None and inp.dq is not None
        sigma = pedigree_sigma(inp.dq)
        prefix = "" if k == 0 else f"{models[k]} / "
        label = f"input '{prefix}{ln.name}' amount {inp.amount:g} {inp.unit}"
        if ln.line is not None:
            label += f" (line {ln.line})"
        amount_param[id(ln)] = params.add(
            _PEDIGREE.relative(inp.amount, sigma),
            f"{label}: lognormal, gsd {math.exp(sigma):.4g} (derived from dq {_ratings(inp.dq)})",
        )
    unrated = [ln.name for c in inv.columns for ln in c.lines
               if ln.input is not None and not ln.input.dq]  # fmt: skip
    table = pedigree_table()
    text = (
        "no input carried a distribution, so each input's amount with data-quality ratings "
        f"({len(rated)}) was sampled as a lognormal around its stated value with σ² = basic "
        f"variance {table['basic_uncertainty']['variance']} + the pedigree variance of each "
        "indicator at its score (ecoinvent v3 factors, Weidema et al. 2013, Data quality "
        "guideline for the ecoinvent database version 3, section 10.2; "
        "factors/data/pedigree.json)"
    )
    if unrated:
        text += f"; held at their stated values, having no ratings: {', '.join(unrated)}"
    return text


def _ratings(dq: DataQuality) -> str:
    return ", ".join(f"{name} {getattr(dq, name)}" for name in INDICATORS)


def _factor_parameter(factor: Factor, params: _Parameters) -> int | None:
    if factor.uncertainty is None:
        return None
    if factor.id not in params.factor_index:
        u = factor.uncertainty
        params.factor_index[factor.id] = params.add(
            u.relative(factor.value), f"factor {factor.id}: {_describe(u)}"
        )
    return params.factor_index[factor.id]


def _value_parameters(project: Project, inv: Inventory, params: _Parameters) -> dict[int, int]:
    """Parameters of the lines whose own value is uncertain: a supplier PCF's value, a direct
    emission's amount. Keyed by id(line)."""
    out: dict[int, int] = {}
    for index, col in enumerate(inv.columns):
        model = project.models[index].model
        prefix = "" if index == 0 else f"{model.product.name} / "
        for ln in col.lines:
            pcf = ln.input.pcf if ln.input is not None else None
            if pcf is not None and pcf.uncertainty is not None:
                u = pcf.uncertainty
                out[id(ln)] = params.add(
                    u.relative(pcf.value), f"supplier PCF of input '{prefix}{ln.name}' "
                    f"{pcf.value:g} {pcf.unit}: {_describe(u)}",
                )  # fmt: skip
        # build_inventory appends one line per direct emission, in order, after the inputs
        emitted = [ln for ln in col.lines if ln.kind == "emission"]
        if len(emitted) != len(model.emissions):
            raise CalculationError(f"internal check failed: {len(emitted)} emission lines for "
                                   f"{len(model.emissions)} emissions of {model.product.name}")  # fmt: skip
        for ln, em in zip(emitted, model.emissions, strict=True):
            if em.uncertainty is not None:
                out[id(ln)] = params.add(
                    em.uncertainty.relative(em.amount), f"direct emission '{prefix}{ln.name}' "
                    f"{em.amount:g} {em.unit} {em.gas}: {_describe(em.uncertainty)}",
                )  # fmt: skip
    return out


@dataclass(frozen=True)
class _Background:
    scores: np.ndarray  # (iterations,) kg CO2e counted per unit of the process
    deterministic: np.ndarray  # (1,) the same with the stated values
    described: str


#: A Dask scheduler's address (tcp://host:8786), as for `openpcf recompute`: large background
#: Monte Carlo runs send their batches there.
SCHEDULER_ENV = "OPENPCF_DASK_SCHEDULER"
#: Iterations × processes from which a run goes to the cluster (below, sending the database
#: costs more than the run).
DASK_MIN_WORK = 2_000_000


@contextmanager
def _batch_executor(iterations: int, processes: int) -> Iterator[bg.Submit | None]:
    """A Dask client's `submit` for a large run when OPENPCF_DASK_SCHEDULER names a
    scheduler, else None (the batches run here). The numbers are the same either way."""
    address = os.environ.get(SCHEDULER_ENV)
    if not address or iterations * processes < DASK_MIN_WORK:
        yield None
        return
    from distributed import Client

    with Client(address, timeout="30s") as client:
        yield client.submit


def _background(
    inv: Inventory, acc: Accounting, iterations: int, seed: int, progress: Progress | None
) -> tuple[dict[tuple[str, int], _Background], list[str]]:
    """Sampled scores of every background process a line draws on, per database."""
    wanted: dict[str, set[int]] = {}
    for c in inv.columns:
        for ln in c.lines:
            if ln.background is not None:
                wanted.setdefault(ln.background[0], set()).add(ln.background[1])
    out: dict[tuple[str, int], _Background] = {}
    notes: list[str] = []
    uncertain = []
    for label in sorted(wanted):
        db = open_database(label)
        a_unc, b_unc = db.technosphere_uncertainty, db.biosphere_uncertainty
        if not ((a_unc is not None and a_unc.size) or (b_unc is not None and b_unc.size)):
            stored = "predates uncertainty" if a_unc is None else "has no distributions"
            notes.append(f"{label} {stored}: its processes are taken as certain")
            continue
        uncertain.append((label, db))
    done = [0] * len(uncertain)
    for k, (label, db) in enumerate(uncertain):
        processes = np.array(sorted(wanted[label]))
        weights = _flow_weights(db, acc)
        fact = factorisation(db)

        def report(d: int, _: int, k: int = k) -> None:
            done[k] = d
            if progress is not None:
                progress(sum(done), iterations * len(uncertain))

        stream = np.random.SeedSequence(seed, spawn_key=(1 + k,))
        assert db.technosphere_uncertainty is not None and db.biosphere_uncertainty is not None
        try:
            with _batch_executor(iterations, len(db.processes)) as submit:
                run = bg.background_scores(
                    fact, db.technosphere, db.technosphere_uncertainty, db.biosphere,
                    db.biosphere_uncertainty, weights, processes, iterations, stream,
                    progress=report, submit=submit,
                )  # fmt: skip
        except SingularSystem as exc:
            raise CalculationError(f"a sampled technosphere of {label} cannot be solved: "
                                   f"{exc}") from None  # fmt: skip
        det = fact.solve(np.asarray(db.biosphere.T @ weights).ravel(), transposed=True)
        a_n, b_n = db.technosphere_uncertainty.size, db.biosphere_uncertainty.size
        described = (f"database {label}: {a_n} technosphere and {b_n} biosphere entries with "
                     "distributions")  # fmt: skip
        for i, p in enumerate(processes):
            out[(label, int(p))] = _Background(run.scores[:, i], det[[p]], described)
        how = {
            "gmres": f"GMRES preconditioned with the mean system's LU ({run.steps} steps in all; "
            f"{run.retried} iterations retried alone with scipy's gmres, {run.direct} "
            "factorised)",
            "bicgstab": f"BiCGSTAB with Jacobi preconditioning from the mean system's solution "
            f"({run.steps} iterations in all; {run.direct} factorised)",
        }.get(run.method, f"{run.method} solves")
        notes.append(
            f"{label}: the upstream of {len(processes)} process(es), {run.solved} of "
            f"{run.processes} processes, {run.sampled} uncertain entries sampled, solved in "
            f"{run.batches} batches of up to {run.batch} iterations by {how}"
        )
    return out, notes


def _flow_weights(db: StoredDatabase, acc: Accounting) -> np.ndarray:
    """kg CO2e the profile counts per unit of each elementary flow of a database."""
    table = gwp_table()
    w = np.zeros(len(db.flows))
    for f in db.flows:
        if f.gas:
            flow = Flow(f.gas, f.origin)
            w[f.index] = (
                (f.kg_per_unit or 0.0) * table.gwp(flow, acc.gwp) * counts_in_total(flow, acc)
            )
    return w


def _totals(
    project: Project,
    inv: Inventory,
    weight: dict[Flow, float],
    amount_param: dict[int, int | None],
    value_param: dict[int, int],
    params: _Parameters,
    mult: np.ndarray,
    scores: dict[tuple[str, int], np.ndarray],
    n: int,
    excluded_stages: tuple[str, ...],
) -> np.ndarray:
    """(top lines + 1) × n: each counted input line's kg CO2e per declared unit, then the total."""

    def amount(ln: Line) -> np.ndarray | float:
        k = amount_param[id(ln)]
        return mult[:, k] if k is not None else 1.0

    def direct_value(ln: Line) -> np.ndarray:
        """kg CO2e per reference amount of its model, before allocation."""
        if ln.background is not None and (ln.background[0], ln.background[1]) in scores:
            _, p, qty = ln.background
            value = qty * scores[(ln.background[0], p)]
        elif ln.parts:
            value = np.zeros(n)
            for factor, flows in ln.parts:
                k = params.factor_index.get(factor.id)
                f = mult[:, k] if k is not None else 1.0
                value = value + _kg_co2e(flows, weight) * f
        else:
            value = np.full(n, _kg_co2e(ln.flows, weight))
            k = value_param.get(id(ln))
            if k is not None:  # a supplier PCF's value or a direct emission's amount
                value = value * mult[:, k]
        return amount(ln) * value

    size = len(inv.columns)
    rows, cols, values, a_mult = [], [], [], []
    rhs = np.zeros((n, size))
    for j, col in enumerate(inv.columns):
        for ln in col.lines:
            if ln.sub is not None:
                rows.append(ln.sub)
                cols.append(j)
                values.append(col.scale * ln.sub_amount)
                a_mult.append(np.broadcast_to(amount(ln), (n,)))
            else:
                rhs[:, j] += col.scale * direct_value(ln)
    uncertain_a = _sampled_a(inv, amount_param)
    try:
        x = mc.transposed_solves(
            size, np.asarray(rows, np.int64), np.asarray(cols, np.int64),
            np.asarray(values, np.float64),
            np.column_stack(a_mult) if uncertain_a else None, rhs,
        )  # fmt: skip
    except SingularSystem:
        raise CalculationError("a sampled sub-assembly cycle consumes at least as much as it "
                               "produces; narrow the distributions of the amounts closing it") from None  # fmt: skip
    top = inv.columns[0]
    per_declared = reference_per_declared(project.models[0])
    out = []
    for ln in top.lines:
        if ln.stage in excluded_stages:
            continue
        if ln.sub is not None:
            value = amount(ln) * ln.sub_amount * x[:, ln.sub]
        else:
            value = direct_value(ln)
        out.append(per_declared * top.scale * np.broadcast_to(value, (n,)))
    parts = np.array(out) if out else np.zeros((0, n))
    return np.vstack([parts, parts.sum(axis=0, keepdims=True)])


def _sampled_a(inv: Inventory, amount_param: dict[int, int | None]) -> bool:
    """Whether any sub-assembly amount (an entry of the models' technosphere) is uncertain."""
    return any(amount_param[id(ln)] is not None for c in inv.columns for ln in c.lines
               if ln.sub is not None)  # fmt: skip


def _method(iterations: int, seed: int, inv: Inventory, notes: list[str], sampled_a: bool) -> str:
    size = len(inv.columns)
    if not sampled_a:
        how = "one factorisation, all iterations as right-hand sides of one solve"
    elif size <= mc.DENSE_LIMIT:
        how = "one stacked dense solve of every iteration's matrix"
    else:
        how = "GMRES preconditioned with the deterministic system's LU"
    text = (f"Monte Carlo, {iterations} iterations drawn with numpy's PCG64 from seed {seed}: "
            "every uncertain input amount, factor, supplier PCF, direct emission and "
            "background exchange as a multiplier of "
            f"its stated value; the product's {size} model(s) solved for all iterations at once "
            f"({how})")  # fmt: skip
    return text + "".join(f"; {n}" for n in notes)
