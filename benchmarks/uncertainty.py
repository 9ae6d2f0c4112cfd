"""Benchmark of Monte Carlo with background-database uncertainty (`calc --uncertainty N`).

Run from the project root:

    python benchmarks/uncertainty.py [--processes 1000] [--iterations 10000] [--seed 1]
                                     [--distributions symmetric|lognormal]

It writes a synthetic openLCA JSON-LD export of `--processes` unit processes (USLCI's size by
default) with the supply graph of `benchmarks/db.py` (hierarchical, a Zipf-popular basic core,
about 1 % back-edges closing cycles; 8 greenhouse-gas and 10 other elementary flows), where every
technosphere and biosphere exchange carries an olca-schema Uncertainty:

- symmetric (default): in turn normal (sd 10 % of the amount; biosphere 15 %), uniform (± 15 %;
  ± 25 %) and triangular with the mode at the amount (± 20 %; ± 30 %);
- lognormal: geomSd 1.1 on technosphere, 1.3 on biosphere exchanges (ecoinvent-like).

It imports the export (`openpcf db import`: the distributions go into the datapackage), writes a
product model taking 1 kg of the most downstream process (`process: bench/process N-1`), and
measures, with wall-clock time on this machine:

- the deterministic footprint (`calculate`), and the Monte Carlo of `--iterations` iterations of
  it (`services.uncertainty.monte_carlo`: sampling, GMRES preconditioned with the mean LU,
  statistics), with iterations per second; target: 10,000 iterations in 10 s or less;
- the same engine run for every process of the database at once (no upstream restriction), for
  a system where nothing can be left out;
- a check of the Krylov path against a fresh LU factorisation per iteration on the same samples
  (the first `--check` iterations), with the direct path's time extrapolated;
- for symmetric distributions, the Monte Carlo mean against the deterministic footprint in
  standard errors: exact in expectation for the biosphere (linear), while technosphere
  uncertainty biases the mean by second-order terms (E[(I - A)^-1] != (I - E[A])^-1); a
  biosphere-only run separates the two.

The script is a report, not a test: it exits 0.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import olca_schema as o
import scipy
from olca_schema import zipio
from rich.console import Console

from db import (  # benchmarks/db.py: the same synthetic database
    mass_flows,
    ref,
    technosphere,
    uuid_of,
)
from measurements import print_measurements

console = Console(width=None if sys.stdout.isatty() else 132)
TARGET_S = 10.0


def _distribution(turn: int, amount: float, biosphere: bool, kind: str) -> o.Uncertainty:
    t = o.UncertaintyType
    if kind == "lognormal":
        return o.Uncertainty(distribution_type=t.LOG_NORMAL_DISTRIBUTION,
                             geom_sd=1.3 if biosphere else 1.1, geom_mean=amount)  # fmt: skip
    sd, half_u, half_t = (0.15, 0.25, 0.30) if biosphere else (0.10, 0.15, 0.20)
    if turn % 3 == 0:
        return o.Uncertainty(distribution_type=t.NORMAL_DISTRIBUTION, mean=amount,
                             sd=sd * amount)  # fmt: skip
    if turn % 3 == 1:
        return o.Uncertainty(distribution_type=t.UNIFORM_DISTRIBUTION,
                             minimum=(1 - half_u) * amount, maximum=(1 + half_u) * amount)  # fmt: skip
    return o.Uncertainty(distribution_type=t.TRIANGLE_DISTRIBUTION, minimum=(1 - half_t) * amount,
                         mode=amount, maximum=(1 + half_t) * amount)  # fmt: skip


def write_export(path: Path, n: int, seed: int, kind: str) -> dict[str, int]:
    """A JSON-LD export of n processes whose every exchange but the reference is uncertain."""
    rng = np.random.default_rng(seed)
    a = technosphere(n, 8.0, rng)
    kg = o.Unit(id=uuid_of(rng), name="kg", conversion_factor=1.0, is_ref_unit=True)
    group = o.UnitGroup(id=uuid_of(rng), name="Units of mass", units=[kg])
    mass = o.FlowProperty(id=uuid_of(rng), name="Mass", unit_group=ref(o.RefType.UnitGroup,
                                                                      group.id))  # fmt: skip
    unit = ref(o.RefType.Unit, kg.id, "kg")

    _, products, elementary, density, scale = mass_flows(rng, mass.id, n)
    counts = {"processes": n, "technosphere": 0, "biosphere": 0}
    turn = 0
    with zipio.ZipWriter(path) as w:
        for entity in (group, mass, *products, *elementary):
            w.write(entity)
        for j in range(n):
            ex = [o.Exchange(flow=ref(o.RefType.Flow, products[j].id), amount=1.0, unit=unit,
                             is_input=False, is_quantitative_reference=True)]  # fmt: skip
            lo, hi = a.indptr[j], a.indptr[j + 1]
            for i, v in zip(a.indices[lo:hi], a.data[lo:hi], strict=True):
                ex.append(o.Exchange(flow=ref(o.RefType.Flow, products[i].id), amount=float(v),
                                     unit=unit, is_input=True,
                                     uncertainty=_distribution(turn, float(v), False, kind)))  # fmt: skip
                turn += 1
                counts["technosphere"] += 1
            for f, d, s in zip(elementary, density, scale, strict=True):
                if rng.random() < d:
                    amount = float(s * rng.lognormal(0, 1))
                    ex.append(o.Exchange(flow=ref(o.RefType.Flow, f.id), amount=amount,
                                         unit=unit, is_input=False,
                                         uncertainty=_distribution(turn, amount, True, kind)))  # fmt: skip
                    turn += 1
                    counts["biosphere"] += 1
            for k, e in enumerate(ex, start=1):
                e.internal_id = k
            w.write(o.Process(id=uuid_of(rng), name=f"process {j}", exchanges=ex,
                              process_type=o.ProcessType.UNIT_PROCESS))  # fmt: skip
    return counts


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1.0 else f"{seconds:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--distributions", choices=("symmetric", "lognormal"), default="symmetric")
    parser.add_argument("--check", type=int, default=200, help="iterations checked against LU")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="openpcf-bench-mc-"))
    os.environ["OPENPCF_HOME"] = str(work / "home")
    # imported after OPENPCF_HOME is set, so nothing touches the user's databases
    from openpcf.domain.lci import UncertainEntries
    from openpcf.engine import background as bg
    from openpcf.engine import uncertainty as mc
    from openpcf.services.calculation.calculate import accounting_for, calculate
    from openpcf.services.calculation.project import load_project
    from openpcf.services.calculation.uncertainty import _flow_weights, monte_carlo
    from openpcf.services.lci.databases import (
        factorisation,
        find_process,
        import_database,
        open_database,
    )

    console.print(f"[bold]openpcf Monte Carlo benchmark[/bold]: Python "
                  f"{platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
                  f"{os.cpu_count()} cores; working in {work}")  # fmt: skip
    rows: list[tuple[str, str, str]] = []
    export = work / "uncertain-jsonld.zip"
    start = time.perf_counter()
    held = write_export(export, args.processes, args.seed, args.distributions)
    rows.append(("generate export (not part of openpcf)", fmt_s(time.perf_counter() - start),
                 f"{held['processes']:,} processes; {held['technosphere']:,} technosphere and "
                 f"{held['biosphere']:,} biosphere exchanges, all with {args.distributions} "
                 "distributions"))  # fmt: skip
    start = time.perf_counter()
    import_database(export, "bench")
    db = open_database("bench")
    a_unc, b_unc = db.technosphere_uncertainty, db.biosphere_uncertainty
    assert a_unc is not None and b_unc is not None
    rows.append(("import (read, link, write datapackage)", fmt_s(time.perf_counter() - start),
                 f"{a_unc.size:,} technosphere and {b_unc.size:,} biosphere entries with "
                 "distributions stored"))  # fmt: skip

    product = args.processes - 1
    model = work / "product.yaml"
    model.write_text(
        "openpcf: 1\nproduct: {name: Benchmark product, declared_unit: {amount: 1, unit: kg}}\n"
        f"inputs:\n  - {{name: Part, stage: raw-materials, amount: 1, unit: kg, "
        f'process: "bench/process {product}"}}\n',
        "utf-8",
    )
    project = load_project(model)
    acc = accounting_for("gb-t-24067")
    start = time.perf_counter()
    det = calculate(project).pcf.value
    rows.append(("deterministic footprint (calculate)", fmt_s(time.perf_counter() - start),
                 f"{det:.6g} kg CO2e per kg (AR5)"))  # fmt: skip

    start = time.perf_counter()
    u = monte_carlo(project, acc, args.iterations, args.seed, deterministic=det)
    t_mc = time.perf_counter() - start
    verdict = "PASS" if t_mc <= TARGET_S else "MISS"
    solved = u.method.split("upstream of 1 process(es), ")[1].split(",")[0]
    rows.append((f"[bold]Monte Carlo, {args.iterations:,} iterations of one product[/bold]",
                 f"[bold]{fmt_s(t_mc)}[/bold]",
                 f"[bold]{args.iterations / t_mc:,.0f} iterations/s[/bold]; target ≤ "
                 f"{TARGET_S:g} s: [bold]{verdict}[/bold]; its upstream: {solved}"))  # fmt: skip
    rows.append(("  statistics", "", f"mean {u.mean:.6g} ± {u.standard_error:.2g} (SE), median "
                 f"{u.median:.6g}, 95 % {u.percentile_2_5:.6g} … {u.percentile_97_5:.6g}, "
                 f"sd {u.sd:.3g} ({u.sd / abs(u.mean):.1%})"))  # fmt: skip
    steps = u.method.split("(")[-1].rstrip(")")
    rows.append(("  solver", "", steps))

    fact = factorisation(db)
    weights = _flow_weights(db, acc)
    n = len(db.processes)
    every = np.arange(n)
    seq = np.random.SeedSequence(args.seed, spawn_key=(1,))
    start = time.perf_counter()
    whole = bg.background_scores(fact, db.technosphere, a_unc, db.biosphere, b_unc, weights,
                                 every, args.iterations, seq)  # fmt: skip
    t_whole = time.perf_counter() - start
    rows.append((f"engine: every process's score, {args.iterations:,} iterations",
                 fmt_s(t_whole), f"{args.iterations / t_whole:,.0f} iterations/s on all {n:,} "
                 f"processes; {whole.steps / whole.batches:.1f} GMRES steps per batch of "
                 f"{whole.batch}, {whole.retried} retried alone"))  # fmt: skip

    k = min(args.check, args.iterations)
    start = time.perf_counter()
    direct = bg.background_scores(fact, db.technosphere, a_unc, db.biosphere, b_unc, weights,
                                  every, k, seq, solver="direct")  # fmt: skip
    t_direct = time.perf_counter() - start
    krylov = bg.background_scores(fact, db.technosphere, a_unc, db.biosphere, b_unc, weights,
                                  every, k, seq)  # fmt: skip
    worst = float(np.max(np.abs(krylov.scores - direct.scores) / np.abs(direct.scores)))
    rows.append((f"check: Krylov (rtol {mc.RTOL:g}) vs LU per iteration ({k} iterations)",
                 "OK" if worst <= 1e-9 else "[red]FAILED[/red]",
                 f"max relative difference {worst:.1e} over {k} × {n:,} scores"))  # fmt: skip
    rows.append(("  direct LU per iteration (extrapolated)",
                 fmt_s(t_direct / k * args.iterations),
                 f"{t_direct / k * 1e3:.2f} ms per iteration; the Krylov path is "
                 f"{t_direct / k * args.iterations / t_whole:.1f}× faster"))  # fmt: skip

    if args.distributions == "symmetric":
        z = (u.mean - det) / u.standard_error
        rows.append(("check: mean vs deterministic, A and B uncertain",
                     "OK" if abs(z) <= 3 else "[yellow]BIASED[/yellow]",
                     f"(mean - deterministic) / SE = {z:+.2f}; relative "
                     f"{(u.mean - det) / det:+.2e} (second-order bias of A's uncertainty)"))  # fmt: skip
        column = find_process(db, f"process {product}").index
        only_b = bg.background_scores(fact, db.technosphere, UncertainEntries.empty(),
                                      db.biosphere, b_unc, weights, np.array([column]),
                                      args.iterations, seq)  # fmt: skip
        s = mc.summary(only_b.scores[:, 0])
        z_b = (s.mean - det) / s.standard_error
        rows.append(("check: mean vs deterministic, B uncertain only",
                     "OK" if abs(z_b) <= 3 else "[red]FAILED[/red]",
                     f"(mean - deterministic) / SE = {z_b:+.2f} (linear: unbiased)"))  # fmt: skip

    print_measurements(console, rows)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
