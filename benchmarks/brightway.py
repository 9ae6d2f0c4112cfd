"""Benchmark against Brightway 2.5: all-process scores and Monte Carlo on the same database.

Run from the project root, with the `bench` extra installed (`pip install -e '.[bench]'`):

    python benchmarks/brightway.py [--processes 1000] [--flows 300] [--inputs 8] [--seed 1]
        [--iterations 10000] [--bw-iterations 300] [--distributions symmetric|lognormal]
        [--repeat 11] [--loop N] [--multi N]

One synthetic database of USLCI's size is generated (`generate`): `--processes` processes in the
supply graph of `benchmarks/db.py` (hierarchical, a Zipf-popular basic core, about 1 % back-edges
closing cycles, column sums 0.05 to 0.5, so productive), listed in a shuffled order, and
`--flows` elementary flows: six greenhouse gases (fossil and non-fossil CO2 and CH4, N2O, SF6)
characterised with IPCC AR6 GWP100 (non-fossil CO2 counts 0), and the rest uncharacterised (as
most of USLCI's flows are for a GWP method), about 20 per process. Every technosphere input and
every biosphere entry carries a distribution: symmetric (default: in turn normal with sd 10 %,
uniform ± 15 %, triangular ± 20 % on inputs; 15 %, 25 %, 30 % on emissions) or lognormal
(gsd 1.1 on inputs, 1.3 on emissions). The same arrays go into

- openpcf's engine: scipy matrices, `engine.solve.factorise` (SuperLU or compiled block substitution), one
  transposed solve with the characterised biosphere as right-hand side for every process's score;
  Monte Carlo with `engine.uncertainty.background_scores` (vectorised sampling, GMRES
  preconditioned with the mean system's LU, batched);
- Brightway 2.5 (bw2calc with bw_processing datapackages in memory and PARDISO when pypardiso is
  installed): every process's score by each of its multi-demand paths — `LCA` with one
  `lcia(demand)` per process (one factorisation reused), `MultiLCA` with every process as a
  demand, `FastScoresOnlyMultiLCA` forward (chunked multi-right-hand-side PARDISO solves) and
  adjoint (one transposed solve, as openpcf does) — and Monte Carlo with `LCA` and
  `IterativeLCA` (`use_distributions=True`, one `next()` per iteration).

Printed in one run: times, the scores' largest relative difference (must be <= 1e-9), the ratio
of Brightway's fastest all-process path to openpcf's (target >= 100x), Monte Carlo iterations per
second of both and their ratio, the done-when check of issue 8 (10,000 iterations <= 10 s; the
mean against the deterministic score within standard errors for symmetric distributions), and
the machine and versions. A report, not a test: it exits 0. Short timings are the fastest of
`--repeat` runs, on both sides alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from db import technosphere  # benchmarks/db.py: the same synthetic supply graph
from measurements import print_measurements
from openpcf.domain.lci import UncertainEntries
from openpcf.domain.uncertainty import LOGNORMAL, NORMAL, TRIANGULAR, UNIFORM

#: (name, kg CO2e per kg under IPCC AR6 GWP100, share of processes emitting it, median kg/unit)
GHG = (
    ("Carbon dioxide, fossil", 1.0, 0.9, 1.0),
    ("Carbon dioxide, non-fossil", 0.0, 0.2, 0.3),
    ("Methane, fossil", 29.8, 0.3, 3e-3),
    ("Methane, non-fossil", 27.0, 0.1, 1e-3),
    ("Dinitrogen monoxide", 273.0, 0.2, 1e-4),
    ("Sulfur hexafluoride", 25200.0, 0.03, 1e-7),
)
OTHER_PER_PROCESS = 15  # mean uncharacterised flows per process
TARGET_RATIO = 100.0
TARGET_MC_S = 10.0


@dataclass(frozen=True)
class BenchDatabase:
    """One LCA database as arrays: what both engines are given."""

    a: sp.csc_matrix  # technosphere: inputs per unit of each process's output (n × n)
    b: sp.csc_matrix  # biosphere: kg of each flow per unit of output (flows × n)
    weights: np.ndarray  # kg CO2e per kg of each flow
    flows: tuple[str, ...]
    a_uncertain: UncertainEntries  # every entry of a, with its distribution as a multiplier
    b_uncertain: UncertainEntries  # every entry of b

    @property
    def processes(self) -> int:
        return int(self.a.shape[0])


def _distributions(
    count: int, start: int, kind: str, biosphere: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(kind, p1, p2, p3) multipliers for `count` entries, symmetric ones taken in turn."""
    nan = np.full(count, np.nan)
    if kind == "lognormal":
        sigma = np.log(1.3 if biosphere else 1.1)
        return np.full(count, LOGNORMAL), np.full(count, sigma), nan, nan.copy()
    sd, half_u, half_t = (0.15, 0.25, 0.30) if biosphere else (0.10, 0.15, 0.20)
    turn = (np.arange(count) + start) % 3
    code = np.choose(turn, [NORMAL, UNIFORM, TRIANGULAR])
    p1 = np.choose(turn, [sd, 1 - half_u, 1 - half_t]).astype(np.float64)
    p2 = np.choose(turn, [np.nan, 1 + half_u, 1.0])
    p3 = np.choose(turn, [np.nan, np.nan, 1 + half_t])
    return code.astype(np.int64), p1, p2.astype(np.float64), p3.astype(np.float64)


def generate(
    n: int = 1000, flows: int = 300, inputs: float = 8.0, seed: int = 1,
    distributions: str = "symmetric",
) -> BenchDatabase:  # fmt: skip
    """A productive database of n processes and `flows` elementary flows (see the module doc)."""
    if flows < len(GHG) + 1:
        raise ValueError(f"--flows must be at least {len(GHG) + 1}")
    rng = np.random.default_rng(seed)
    a = technosphere(n, inputs, rng).tocoo()
    order = rng.permutation(n)  # a database lists its processes in no supply order
    a = sp.coo_matrix((a.data, (order[a.row], order[a.col])), shape=(n, n)).tocsc()
    a.sort_indices()
    rows, cols = [], []
    values = []
    for g, (_, _, share, median) in enumerate(GHG):
        emits = np.flatnonzero(rng.random(n) < share)
        rows.append(np.full(emits.size, g))
        cols.append(emits)
        values.append(median * rng.lognormal(0.0, 1.0, emits.size))
    others = flows - len(GHG)
    popularity = 1.0 / np.arange(1, others + 1) ** 0.8
    popularity /= popularity.sum()
    counts = rng.poisson(OTHER_PER_PROCESS, n)
    o_cols = np.repeat(np.arange(n), counts)
    o_rows = len(GHG) + rng.choice(others, size=o_cols.size, p=popularity)
    rows.append(o_rows)
    cols.append(o_cols)
    values.append(1e-3 * rng.lognormal(0.0, 2.0, o_cols.size))
    b = sp.coo_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(flows, n)).tocsc()  # fmt: skip
    b.sum_duplicates()
    b.sort_indices()
    weights = np.zeros(flows)
    weights[: len(GHG)] = [w for _, w, _, _ in GHG]
    names = tuple(name for name, *_ in GHG) + tuple(f"flow {k}" for k in range(others))
    return BenchDatabase(a, b, weights, names, _entries(a, 0, distributions, False),
                         _entries(b, a.nnz, distributions, True))  # fmt: skip


def _entries(m: sp.csc_matrix, start: int, kind: str, biosphere: bool) -> UncertainEntries:
    coo = m.tocoo()
    code, p1, p2, p3 = _distributions(coo.nnz, start, kind, biosphere)
    return UncertainEntries(coo.row.astype(np.int64), coo.col.astype(np.int64),
                            coo.data.astype(np.float64), code, p1, p2, p3)  # fmt: skip


# ---- openpcf ---------------------------------------------------------------------------------


def openpcf_all_scores(db: BenchDatabase) -> np.ndarray:
    """Every process's kg CO2e per unit, from the entry arrays, factorised cold:
    `engine.entries.scores_from_entries` (A as a matrix, B^T w summed from B's entries on a
    second thread meanwhile, one transposed solve)."""
    from openpcf.engine import solve
    from openpcf.engine.entries import scores_from_entries

    au, bu = db.a_uncertain, db.b_uncertain
    solve._CACHE.clear()  # cold: the factorisation is part of the time
    return scores_from_entries((au.row, au.col, au.value), (bu.row, bu.col, bu.value),
                               db.weights, db.processes)  # fmt: skip


def openpcf_core(a: sp.csc_matrix, rhs: np.ndarray) -> np.ndarray:
    """A cold factorisation of I - A and one transposed solve, M^T x = B^T w."""
    from openpcf.engine import solve

    solve._CACHE.clear()  # cold: the factorisation is part of the time
    return solve.factorise(a).solve(rhs, transposed=True)


def largest_upstream(db: BenchDatabase, sample: int = 200, seed: int = 0) -> int:
    """The process that draws on the most others (its upstream: `engine.background.upstream_of`),
    the hardest product for a Monte Carlo restricted to a product's upstream; among all processes
    up to 2,000, else among a random `sample`."""
    from openpcf.engine.background import upstream_of

    n = db.processes
    pool = np.arange(n) if n <= 2000 else np.random.default_rng(seed).choice(n, sample, False)
    sizes = [upstream_of(db.a, np.array([j])).size for j in pool]
    return int(pool[int(np.argmax(sizes))])


def mkl_library() -> str | None:
    """The MKL runtime pypardiso loads. Without PYPARDISO_MKL_RT naming it, every new
    `PyPardisoSolver` (one per adjoint calculation) searches the whole Python environment for
    it with a recursive glob; the fastest Brightway set-up names it once."""
    import glob
    import site

    for root in (sys.prefix, site.USER_BASE):
        found = sorted(glob.glob(f"{root}/[Ll]ib*/**/*mkl_rt*", recursive=True), key=len)
        if found:
            return found[0]
    return None


def pardiso_core(matrix: sp.spmatrix, rhs: np.ndarray) -> Callable[[], np.ndarray]:
    """The linear algebra of Brightway's adjoint path alone (`FastScoresOnlyMultiLCA.solve_adjoint`
    with PARDISO: factorise the transposed technosphere, solve), with the solver object made in
    advance."""
    from pypardiso.pardiso_wrapper import PyPardisoSolver

    transposed = sp.csr_matrix(matrix.T)
    solver = PyPardisoSolver()

    def run() -> np.ndarray:
        solver.factorize(transposed)
        x = solver.solve(transposed, rhs)
        solver.free_memory(everything=True)
        return np.asarray(x).ravel()

    return run


# ---- Brightway 2.5 ---------------------------------------------------------------------------


def brightway_datapackage(db: BenchDatabase) -> Any:
    """One in-memory bw_processing datapackage: technosphere (production exchanges on the
    diagonal, inputs flipped), biosphere and the GWP characterisation, with the distributions
    as stats_arrays parameters in absolute terms (the multipliers times the amount)."""
    import bw_processing as bwp

    n, f = db.processes, len(db.flows)
    dp = bwp.create_datapackage(sequential=True)
    au, bu = db.a_uncertain, db.b_uncertain
    diag = np.arange(n)
    t_idx = np.empty(n + au.size, dtype=bwp.INDICES_DTYPE)
    t_idx["row"], t_idx["col"] = np.r_[diag, au.row], np.r_[diag, au.col]
    t_dist = np.r_[_no_uncertainty(np.ones(n)), _absolute(au)]
    dp.add_persistent_vector(
        matrix="technosphere_matrix", name="technosphere", indices_array=t_idx,
        data_array=np.r_[np.ones(n), au.value], distributions_array=t_dist,
        flip_array=np.r_[np.zeros(n, bool), np.ones(au.size, bool)],
    )  # fmt: skip
    b_idx = np.empty(bu.size, dtype=bwp.INDICES_DTYPE)
    b_idx["row"], b_idx["col"] = bu.row + n, bu.col  # flow ids after the process ids
    dp.add_persistent_vector(matrix="biosphere_matrix", name="biosphere", indices_array=b_idx,
                             data_array=bu.value.copy(), distributions_array=_absolute(bu))  # fmt: skip
    counted = np.flatnonzero(db.weights)
    c_idx = np.empty(counted.size, dtype=bwp.INDICES_DTYPE)
    c_idx["row"], c_idx["col"] = counted + n, counted + n
    dp.add_persistent_vector(matrix="characterization_matrix", name="gwp", indices_array=c_idx,
                             data_array=db.weights[counted].copy(), identifier=["gwp"],
                             distributions_array=_no_uncertainty(db.weights[counted]))  # fmt: skip
    assert f == db.b.shape[0]
    return dp


def _no_uncertainty(values: np.ndarray) -> np.ndarray:
    import bw_processing as bwp

    out = np.zeros(values.size, dtype=bwp.UNCERTAINTY_DTYPE)
    out["uncertainty_type"] = 0
    out["loc"] = values
    for field in ("scale", "shape", "minimum", "maximum"):
        out[field] = np.nan
    return out


def _absolute(u: UncertainEntries) -> np.ndarray:
    """stats_arrays parameters of the amounts: lognormal (loc ln v, scale σ), normal (loc v,
    scale sd), uniform (minimum, maximum), triangular (loc the mode, minimum, maximum)."""
    v = u.value
    out = _no_uncertainty(v)
    out["uncertainty_type"] = u.kind
    logn, norm, uni, tri = (u.kind == c for c in (LOGNORMAL, NORMAL, UNIFORM, TRIANGULAR))
    out["loc"][logn] = np.log(v[logn])
    out["scale"][logn] = u.p1[logn]
    out["scale"][norm] = u.p1[norm] * v[norm]
    for mask, low, high in ((uni, u.p1, u.p2), (tri, u.p1, u.p3)):
        out["minimum"][mask] = low[mask] * v[mask]
        out["maximum"][mask] = high[mask] * v[mask]
    out["loc"][tri] = u.p2[tri] * v[tri]
    return out


def bw_lca_loop(dp: Any, n: int, count: int) -> tuple[np.ndarray, int]:
    """`LCA` once, then `lcia({j: 1})` per process (the factorisation is reused)."""
    import bw2calc as bc

    lca = bc.LCA({0: 1.0}, data_objs=[dp])
    lca.lci()
    lca.lcia()
    out = np.full(n, np.nan)
    for j in range(count):
        lca.lcia({j: 1.0})
        out[j] = lca.score
    return out, count


def bw_multi_lca(dp: Any, n: int, count: int) -> np.ndarray:
    """`MultiLCA` with the first `count` processes as demands (NaN for the others)."""
    import bw2calc as bc

    m = bc.MultiLCA({str(j): {j: 1.0} for j in range(count)},
                    {"impact_categories": [("gwp",)]}, data_objs=[dp])  # fmt: skip
    m.lci()
    m.lcia()
    out = np.full(n, np.nan)
    out[:count] = [m.scores[(("gwp",), str(j))] for j in range(count)]
    return out


def bw_fast_scores(dp: Any, n: int, direction: str) -> tuple[np.ndarray, Any]:
    """Scores, and the calculator (whose `calculate()` again reuses its built matrices)."""
    import bw2calc as bc

    m = bc.FastScoresOnlyMultiLCA({str(j): {j: 1.0} for j in range(n)},
                                  {"impact_categories": [("gwp",)]}, data_objs=[dp],
                                  direction=direction)  # fmt: skip
    return _gwp(m.calculate()), m


def _gwp(scores: Any) -> np.ndarray:
    return np.asarray(scores.sel(LCIA=str(("gwp",))).values, dtype=np.float64)


def bw_monte_carlo(
    dp: Any, process: int, iterations: int, seed: int, kind: str
) -> tuple[float, float, float, np.ndarray]:
    """Brightway's Monte Carlo of one process's score: seconds to set up (matrices, first
    solve), seconds of the `next()` loop (each: new samples of every matrix, then a solve), its
    CPU seconds (all threads of this process), and the scores."""
    import bw2calc as bc

    cls = {"LCA": bc.LCA, "IterativeLCA": bc.IterativeLCA}[kind]
    start = time.perf_counter()
    lca = cls({process: 1.0}, data_objs=[dp], use_distributions=True, seed_override=seed)
    lca.lci()
    lca.lcia()
    setup = time.perf_counter() - start
    out = np.empty(iterations)
    start, cpu = time.perf_counter(), time.process_time()
    for k in range(iterations):
        next(lca)
        out[k] = lca.score
    return setup, time.perf_counter() - start, time.process_time() - cpu, out


# ---- report ----------------------------------------------------------------------------------


def fmt_s(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1.0 else f"{seconds:.2f} s"


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """The fastest of `repeat` calls in wall-clock seconds (the least disturbed by other work on
    the machine, for both sides alike), and the last call's result."""
    times, result = [], None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def worst_difference(x: np.ndarray, reference: np.ndarray) -> float:
    ok = np.isfinite(x)
    return float(np.max(np.abs(x[ok] - reference[ok]) / np.maximum(np.abs(reference[ok]), 1e-300)))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"Python {platform.python_version()}", f"numpy {np.__version__}",
             f"scipy {scipy.__version__}"]  # fmt: skip
    for name in ("openpcf", "bw2calc", "bw_processing", "matrix_utils", "stats_arrays",
                 "pypardiso", "mkl"):  # fmt: skip
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} not installed")
    return ", ".join(parts)


def main() -> None:
    from rich.console import Console

    from openpcf.engine import background as bg
    from openpcf.engine import uncertainty as mc
    from openpcf.engine.solve import factorise

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--processes", type=int, default=1000)
    p.add_argument("--flows", type=int, default=300)
    p.add_argument("--inputs", type=float, default=8.0, help="mean inputs per process")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--iterations", type=int, default=10_000, help="openpcf Monte Carlo")
    p.add_argument("--bw-iterations", type=int, default=200, help="Brightway Monte Carlo")
    p.add_argument("--distributions", choices=("symmetric", "lognormal"), default="symmetric")
    p.add_argument("--repeat", type=int, default=11, help="runs of each short timing")
    p.add_argument("--loop", type=int, default=None,
                   help="processes timed in Brightway's LCA loop (default all; extrapolated)")  # fmt: skip
    p.add_argument("--multi", type=int, default=200,
                   help="demands timed in Brightway's MultiLCA (default 200; extrapolated)")  # fmt: skip
    args = p.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 140)
    console.print(f"[bold]openpcf vs Brightway 2.5[/bold] — {cpu_model()}, {os.cpu_count()} "
                  f"cores; {versions()}; {time.strftime('%Y-%m-%d')}; load average "
                  f"{os.getloadavg()[0]:.2f} at the start")  # fmt: skip
    rows: list[tuple[str, str, str]] = []

    t_gen, db = timed(lambda: generate(args.processes, args.flows, args.inputs, args.seed,
                                       args.distributions))  # fmt: skip
    n = db.processes
    rows.append(("generate the database", fmt_s(t_gen),
                 f"{n:,} processes, {db.a.nnz:,} inputs, {len(db.flows)} flows, "
                 f"{db.b.nnz:,} biosphere entries; all {args.distributions} distributions"))  # fmt: skip

    # ---- all-process scores
    t_ours, ours = timed(lambda: openpcf_all_scores(db), args.repeat)
    rows.append(("[bold]openpcf: every process's score[/bold]", f"[bold]{fmt_s(t_ours)}[/bold]",
                 "matrices from the arrays, block-triangular LU (cold), one transposed solve"))  # fmt: skip
    fact = factorise(db.a)
    single = np.zeros(n)
    single[n - 1] = 1.0
    check = float(db.weights @ (db.b @ fact.solve(single)))
    rows.append(("  check: forward solve of the last process", "OK" if abs(check - ours[-1])
                 <= 1e-9 * abs(ours[-1]) else "[red]FAILED[/red]",
                 f"{check:.10g} vs {ours[-1]:.10g} kg CO2e"))  # fmt: skip

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import bw2calc as bc
    except ImportError:
        bc = None
    bw_paths: dict[str, float] = {}
    worst = 0.0
    if bc is None:
        rows.append(("Brightway 2.5", "not installed", "pip install -e '.[bench]' to compare"))
    else:
        solver = "PARDISO (pypardiso)" if bc.PYPARDISO else (
            "UMFPACK" if bc.UMFPACK else "SuperLU (scipy)")  # fmt: skip
        mkl = os.environ.get("PYPARDISO_MKL_RT") or (mkl_library() if bc.PYPARDISO else None)
        if mkl:
            os.environ["PYPARDISO_MKL_RT"] = mkl
        rows.append(("Brightway's sparse solver", solver, "as bw2calc chooses it"
                     + (f"; PYPARDISO_MKL_RT={mkl}" if mkl else "")))  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loop = n if args.loop is None else min(args.loop, n)
            t, (bw, done) = timed(lambda: bw_lca_loop(brightway_datapackage(db), n, loop))
            t_all = t / done * n
            bw_paths["LCA + lcia(demand) per process"] = t_all
            worst = max(worst, worst_difference(bw, ours))
            rows.append(("Brightway: LCA, lcia({j: 1}) per process", fmt_s(t_all),
                         ("" if done == n else f"extrapolated from {done:,}; ")
                         + f"max rel. difference {worst_difference(bw, ours):.1e}"))  # fmt: skip
            k2 = n if args.multi is None else min(args.multi, n)
            t, bw = timed(lambda: bw_multi_lca(brightway_datapackage(db), n, k2))
            note = ""
            if k2 < n:  # its fixed cost once, its cost per demand (from k2 / 4 demands) n times
                k1 = max(1, k2 // 4)
                t1, _ = timed(lambda: bw_multi_lca(brightway_datapackage(db), n, k1))
                t = t + max(0.0, (t - t1) / (k2 - k1)) * (n - k2)
                note = f"extrapolated from {k1:,} and {k2:,} demands; "
            bw_paths["MultiLCA, every process a demand"] = t
            worst = max(worst, worst_difference(bw, ours))
            rows.append(("Brightway: MultiLCA, every process a demand", fmt_s(t),
                         f"{note}max rel. difference {worst_difference(bw, ours):.1e}"))  # fmt: skip
            if bc.PYPARDISO or bc.UMFPACK:
                for direction in ("forward", "adjoint"):
                    t, (bw, calc) = timed(lambda d=direction: bw_fast_scores(
                        brightway_datapackage(db), n, d),
                        args.repeat if direction == "adjoint" else min(3, args.repeat))  # fmt: skip
                    bw_paths[f"FastScoresOnlyMultiLCA, {direction}"] = t
                    worst = max(worst, worst_difference(bw, ours))
                    rows.append((f"Brightway: FastScoresOnlyMultiLCA, {direction}", fmt_s(t),
                                 f"max rel. difference {worst_difference(bw, ours):.1e}"))  # fmt: skip
                if mkl:  # as pip installs it: each solver object searches for MKL
                    del os.environ["PYPARDISO_MKL_RT"]
                    t_plain, _ = timed(lambda: bw_fast_scores(brightway_datapackage(db), n,
                                                              "adjoint"), 3)  # fmt: skip
                    os.environ["PYPARDISO_MKL_RT"] = mkl
                    rows.append(("  adjoint without PYPARDISO_MKL_RT", fmt_s(t_plain),
                                 "as pip installs it: pypardiso searches the environment for "
                                 "MKL on each new solver; not counted as the fastest path"))  # fmt: skip
                # the adjoint's calculation alone: `calculate()` again on the built matrices
                t_solve, bw = timed(lambda c=calc: _gwp(c.calculate()), args.repeat)
                worst = max(worst, worst_difference(bw, ours))
                rows.append(("  adjoint, calculation alone (matrices built)", fmt_s(t_solve),
                             f"{t_solve / t_ours:,.1f}× openpcf's time from the arrays "
                             "(which includes building its matrices)"))  # fmt: skip
                if bc.PYPARDISO:  # the same linear algebra without the per-call overheads
                    rhs = np.asarray(db.b.T @ db.weights).ravel()
                    m = sp.identity(n, format="csr") - db.a
                    t_core, bw = timed(pardiso_core(m, rhs), args.repeat)
                    t_our_core, _ = timed(lambda: openpcf_core(db.a, rhs), args.repeat)
                    worst = max(worst, worst_difference(bw, ours))
                    rows.append(("  its PARDISO factorise + solve alone", fmt_s(t_core),
                                 "the linear algebra of the calculation above, solver object "
                                 "made in advance"))  # fmt: skip
                    rows.append(("  openpcf's factorise + solve alone", fmt_s(t_our_core),
                                 f"[bold]{t_core / t_our_core:,.1f}×[/bold] faster than "
                                 "PARDISO's on the same matrix"))  # fmt: skip
        best = min(bw_paths, key=bw_paths.__getitem__)
        ratio = bw_paths[best] / t_ours
        rows.append(("check: the same scores (≤ 1e-9)", "OK" if worst <= 1e-9 else
                     "[red]FAILED[/red]", f"largest over every Brightway path: {worst:.1e}"))  # fmt: skip
        rows.append(("[bold]ratio: Brightway's fastest / openpcf[/bold]", f"[bold]{ratio:,.1f}×"
                     "[/bold]", f"fastest: {best} ({fmt_s(bw_paths[best])}); target ≥ "
                     f"{TARGET_RATIO:g}×: [bold]{'PASS' if ratio >= TARGET_RATIO else 'MISS'}"
                     "[/bold]"))  # fmt: skip

    # ---- Monte Carlo
    product = largest_upstream(db)
    seed = np.random.SeedSequence(args.seed)

    def ours_mc(wanted: np.ndarray, a_unc: UncertainEntries, iterations: int) -> Any:
        return bg.background_scores(fact, db.a, a_unc, db.b, db.b_uncertain, db.weights,
                                    wanted, iterations, seed)  # fmt: skip

    cpu = time.process_time()
    t_mc, run = timed(lambda: ours_mc(np.array([product]), db.a_uncertain, args.iterations))
    cpu = time.process_time() - cpu
    rate = args.iterations / t_mc
    rows.append((f"[bold]openpcf Monte Carlo, one process, {args.iterations:,} iterations[/bold]",
                 f"[bold]{fmt_s(t_mc)}[/bold]", f"[bold]{rate:,.0f} iterations/s[/bold] (CPU {cpu:.2f} s); its "
                 f"upstream: {run.solved:,} of {n:,} processes; {run.steps / run.batches:.1f} "
                 f"GMRES steps per batch of {run.batch}; target ≤ {TARGET_MC_S:g} s: "
                 f"[bold]{'PASS' if t_mc <= TARGET_MC_S else 'MISS'}[/bold]"))  # fmt: skip
    t_every, _ = timed(lambda: ours_mc(np.arange(n), db.a_uncertain, args.iterations))
    rows.append((f"openpcf Monte Carlo, every process, {args.iterations:,} iterations",
                 fmt_s(t_every), f"{args.iterations / t_every:,.0f} iterations/s, all {n:,} "
                 "scores per iteration"))  # fmt: skip
    s = mc.summary(run.scores[:, 0])
    det = float(ours[product])
    z = (s.mean - det) / s.standard_error
    symmetric = args.distributions == "symmetric"
    rows.append(("  statistics", "", f"deterministic {det:.6g}; mean {s.mean:.6g} ± "
                 f"{s.standard_error:.2g} (SE), median {s.median:.6g}, 95 % {s.p2_5:.6g} … "
                 f"{s.p97_5:.6g}"))  # fmt: skip
    label = "OK" if abs(z) <= 3 else ("[yellow]BIASED[/yellow]" if symmetric else "expected")
    rows.append(("check: mean vs deterministic, A and B uncertain", label,
                 f"(mean − deterministic) / SE = {z:+.2f}, relative {(s.mean - det) / det:+.1e}"
                 + ("" if symmetric else " (lognormal medians: the mean lies above)")))  # fmt: skip
    if symmetric:
        only_b = ours_mc(np.array([product]), UncertainEntries.empty(), args.iterations)
        sb = mc.summary(only_b.scores[:, 0])
        zb = (sb.mean - det) / sb.standard_error
        rows.append(("check: mean vs deterministic, B uncertain only",
                     "OK" if abs(zb) <= 3 else "[red]FAILED[/red]",
                     f"(mean − deterministic) / SE = {zb:+.2f} (linear in B: unbiased)"))  # fmt: skip

    if bc is not None:
        rates: dict[str, float] = {}
        bw_scores: dict[str, np.ndarray] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for kind in ("LCA", "IterativeLCA"):
                setup, t, cpu_bw, scores = bw_monte_carlo(brightway_datapackage(db), product,
                                                  args.bw_iterations, args.seed, kind)  # fmt: skip
                rates[kind], bw_scores[kind] = args.bw_iterations / t, scores
                sk = mc.summary(scores)
                rows.append((f"Brightway Monte Carlo, {kind}, {args.bw_iterations:,} iterations",
                             fmt_s(t), f"{rates[kind]:,.0f} iterations/s (loop alone, CPU {cpu_bw:.2f} s; set-up "
                             f"{fmt_s(setup)}); mean {sk.mean:.6g} ± {sk.standard_error:.2g}"))  # fmt: skip
        best_mc = max(rates, key=rates.__getitem__)
        sk = mc.summary(bw_scores[best_mc])
        zz = (sk.mean - s.mean) / np.hypot(sk.standard_error, s.standard_error)
        rows.append(("check: Brightway's and openpcf's means agree",
                     "OK" if abs(zz) <= 3 else "[red]DIFFER[/red]",
                     f"difference / combined SE = {zz:+.2f} ({best_mc})"))  # fmt: skip
        rows.append(("[bold]ratio: Monte Carlo iterations/s, openpcf / Brightway[/bold]",
                     f"[bold]{rate / rates[best_mc]:,.1f}×[/bold]",
                     f"one process; Brightway's fastest: {best_mc}; openpcf every process: "
                     f"{args.iterations / t_every / rates[best_mc]:,.1f}×"))  # fmt: skip

    print_measurements(console, rows)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
