"""openpcf against Brightway 2.5 and the raw floors at ecoinvent scale, in one run.

Run from the project root, with the `bench` extra installed (`pip install -e '.[bench]'`) and the
real USLCI release in `../shared/data/lci`:

    python benchmarks/scale.py [--systems uslci,hub,random] [--tiles 100] [--repeat 5]
        [--iterations 2000] [--every 200] [--bw-iterations 10] [--lu-floor]

Systems (`benchmarks/systems.py`): USLCI tiled into `--tiles` coupled regions (76,600 processes
at 100), and the ecoinvent-like synthetic systems, 20,000 processes with 15,000 in one cyclic
block, hub-like and random. For each, every process's GWP score (kg CO2e per unit) by

- openpcf: matrices from the entry arrays, `solve.factorise` from a cold cache (it chooses
  BiCGSTAB or LU), one transposed solve (`brightway.openpcf_all_scores`);
- Brightway 2.5's fastest path, `FastScoresOnlyMultiLCA(direction="adjoint")` with PARDISO
  (datapackage built from the same arrays, as in `benchmarks/brightway.py`);
- the floors: PARDISO's factorise + solve alone, scipy's BiCGSTAB with a Jacobi preconditioner
  on (I - A)^T (rtol 1e-12), and with `--lu-floor` scipy's SuperLU of all of I - A (slow).

Each runs in its own process (`--worker`), so that its peak memory (VmHWM, reset before the
calculation) is its own. Printed: the best of `--repeat` times, the largest relative
difference of every score from the direct answer (tiled USLCI: USLCI's own scores, which
every region reproduces; the synthetic systems: PARDISO's), the ratios, the peak memory of each
side; then Monte Carlo (`use_distributions`): openpcf's `background_scores` for one product (the
largest upstream among a sample) and for every process, against Brightway's `IterativeLCA`
for the same product. A report, not a test: it exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import brightway as bwb  # noqa: E402
import systems  # noqa: E402

TARGETS = {"uslci": 100.0, "hub": 300.0, "random": 300.0}  # all-process ratio to Brightway


def build(name: str, tiles: int) -> Any:
    if name == "uslci":
        return systems.tiled_uslci(tiles)[0]
    return systems.ecoinvent_like(name)


def _reset_peak() -> None:
    """Reset this process's peak resident memory (VmHWM) to its current size (Linux)."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{os.getpid()}/clear_refs").write_text("5")


def _peak_mb() -> float:
    for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The fastest of `repeat` runs (of one, when a run takes more than 5 s)."""
    times, out = [], None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
        if times[-1] > 5.0:
            break
    return min(times), out


def worker(side: str, name: str, tiles: int, repeat: int, out: Path, extra: dict) -> None:
    """One side on one system, in this process: prints JSON with its time and memory."""
    db = build(name, tiles)
    n = db.processes
    rhs = np.asarray(db.b.T @ db.weights).ravel()
    m = sp.csc_matrix(sp.identity(n, format="csc") - db.a)
    report: dict[str, Any] = {"side": side, "system": name, "processes": n}
    if side.startswith("bw") or side == "pardiso":
        mkl = os.environ.get("PYPARDISO_MKL_RT") or bwb.mkl_library()
        if mkl:
            os.environ["PYPARDISO_MKL_RT"] = mkl
        warnings.simplefilter("ignore")
    if side == "openpcf":
        run = lambda: bwb.openpcf_all_scores(db)  # noqa: E731
    elif side == "bw-adjoint":
        run = lambda: bwb.bw_fast_scores(bwb.brightway_datapackage(db), n, "adjoint")[0]  # noqa: E731
    elif side == "pardiso":
        run = bwb.pardiso_core(m, rhs)
    elif side == "krylov-floor":
        from scipy.sparse.linalg import LinearOperator, bicgstab

        mt = sp.csr_matrix(m.T)
        inv = 1.0 / m.diagonal()
        pre = LinearOperator((n, n), matvec=lambda y: inv * y)
        run = lambda: bicgstab(mt, rhs, rtol=1e-12, atol=0.0, M=pre)[0]  # noqa: E731
    elif side == "lu-floor":
        from scipy.sparse.linalg import splu

        run = lambda: splu(m, permc_spec="COLAMD").solve(rhs, trans="T")  # noqa: E731
    elif side in ("mc-openpcf", "mc-bw"):
        monte_carlo(side, db, report, extra)
        out.with_suffix(".json").write_text(json.dumps(report))
        return
    else:
        raise SystemExit(f"unknown side {side}")
    base = _rss_mb()
    _reset_peak()
    t, scores = _best(run, repeat)
    report |= {"seconds": t, "peak_mb": _peak_mb(), "before_mb": base}
    np.save(out, np.asarray(scores, dtype=np.float64).ravel())
    out.with_suffix(".json").write_text(json.dumps(report))


def most_uncertain_upstream(db: Any, sample: int = 200) -> int:
    """Among `sample` processes (seed 0), the one whose upstream holds the most entries with a
    distribution: the product whose Monte Carlo has the most to sample."""
    from openpcf.domain.uncertainty import NO_UNCERTAINTY
    from openpcf.engine.background import upstream_of

    rng = np.random.default_rng(0)
    pool = rng.choice(db.processes, min(sample, db.processes), replace=False)
    a_cols = db.a_uncertain.col[db.a_uncertain.kind != NO_UNCERTAINTY]
    counted = (db.b_uncertain.kind != NO_UNCERTAINTY) & (db.weights[db.b_uncertain.row] != 0)
    per_col = np.bincount(a_cols, minlength=db.processes)
    per_col += np.bincount(db.b_uncertain.col[counted], minlength=db.processes)
    counts = [int(per_col[upstream_of(db.a, np.array([j]))].sum()) for j in pool]
    return int(pool[int(np.argmax(counts))])


def monte_carlo(side: str, db: Any, report: dict, extra: dict) -> None:
    from openpcf.engine import background as bg
    from openpcf.engine import solve

    product = most_uncertain_upstream(db)
    report["product"] = product
    if side == "mc-openpcf":
        fact = solve.factorise(db.a)
        seed = np.random.SeedSequence(1)
        for label, wanted, its in (("one", np.array([product]), extra["iterations"]),
                                   ("every", np.arange(db.processes), extra["every"])):  # fmt: skip
            if not its:
                continue
            start = time.perf_counter()
            run = bg.background_scores(fact, db.a, db.a_uncertain, db.b, db.b_uncertain,
                                       db.weights, wanted, its, seed)  # fmt: skip
            t = time.perf_counter() - start
            report[label] = {"iterations": its, "seconds": t, "rate": its / t,
                             "method": run.method, "batch": run.batch, "solved": run.solved,
                             "sampled": run.sampled, "steps": run.steps / max(run.batches, 1),
                             "direct": run.direct}  # fmt: skip
            if label == "one":
                s = run.scores[:, 0]
                report[label] |= {"mean": float(s.mean()),
                                  "se": float(s.std(ddof=1) / np.sqrt(s.size))}  # fmt: skip
    else:
        mkl = os.environ.get("PYPARDISO_MKL_RT") or bwb.mkl_library()
        if mkl:
            os.environ["PYPARDISO_MKL_RT"] = mkl
        warnings.simplefilter("ignore")
        its = extra["bw_iterations"]
        setup, t, _, scores = bwb.bw_monte_carlo(bwb.brightway_datapackage(db), product, its,
                                                   1, "IterativeLCA")  # fmt: skip
        report["one"] = {"iterations": its, "seconds": t, "rate": its / t, "setup": setup,
                         "mean": float(scores.mean()),
                         "se": float(scores.std(ddof=1) / np.sqrt(scores.size))}  # fmt: skip


def spawn(side: str, name: str, args: argparse.Namespace, folder: Path) -> dict | None:
    out = folder / f"{name}-{side}.npy"
    cmd = [sys.executable, __file__, "--worker", side, "--systems", name, "--tiles",
           str(args.tiles), "--repeat", str(args.repeat), "--out", str(out),
           "--iterations", str(args.iterations), "--every", str(args.every),
           "--bw-iterations", str(args.bw_iterations)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  {name} {side}: failed\n{done.stderr[-2000:]}", flush=True)
        return None
    report = json.loads(out.with_suffix(".json").read_text())
    if out.is_file():
        report["scores"] = np.load(out)
    return report


def worst(x: np.ndarray, ref: np.ndarray) -> float:
    nz = ref != 0
    bad = np.abs(x[~nz]).max() if (~nz).any() else 0.0  # where the reference is exactly zero
    rel = float(np.max(np.abs(x[nz] - ref[nz]) / np.abs(ref[nz]))) if nz.any() else 0.0
    return max(rel, float(bad))


def fmt_s(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--systems", default="uslci,hub,random")
    p.add_argument("--tiles", type=int, default=100)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--iterations", type=int, default=2000, help="openpcf MC, one product")
    p.add_argument("--every", type=int, default=200, help="openpcf MC, every process")
    p.add_argument("--bw-iterations", type=int, default=10, help="Brightway IterativeLCA")
    p.add_argument("--lu-floor", action="store_true", help="also scipy's SuperLU of all I - A")
    p.add_argument("--no-mc", action="store_true")
    p.add_argument("--only-mc", action="store_true", help="Monte Carlo alone")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        extra = {"iterations": args.iterations, "every": args.every,
                 "bw_iterations": args.bw_iterations}  # fmt: skip
        worker(args.worker, args.systems, args.tiles, args.repeat, Path(args.out), extra)
        return
    print(f"openpcf at scale vs Brightway 2.5 — {bwb.cpu_model()}, {os.cpu_count()} cores; "
          f"{bwb.versions()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load "
          f"average {os.getloadavg()[0]:.2f} at the start", flush=True)  # fmt: skip
    systems._uslci()  # import USLCI once, before the workers need it
    sides = ["openpcf", "bw-adjoint", "pardiso", "krylov-floor"]
    if args.lu_floor:
        sides.append("lu-floor")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.systems.split(","):
            load = os.getloadavg()[0]
            if args.only_mc:
                print(f"\n{name}: Monte Carlo alone; load average {load:.2f}")
            res = {} if args.only_mc else {side: spawn(side, name, args, Path(tmp))
                                           for side in sides}  # fmt: skip
            ours = res.get("openpcf")
            if ours is None and not args.only_mc:
                continue
            if not args.only_mc:  # every process's score, each side
                if name == "uslci":
                    ref = np.tile(systems.uslci_scores(), args.tiles)
                    ref_name = "USLCI's own scores (plain SuperLU), every region"
                else:
                    ref = res["pardiso"]["scores"] if res["pardiso"] else ours["scores"]
                    ref_name = "PARDISO's direct solve"
                print(f"\n{name}: {ours['processes']:,} processes; load average {load:.2f}; "
                      f"reference: {ref_name}")  # fmt: skip
                print(f"  {'side':<14}{'time':>11}{'vs openpcf':>12}{'peak MB':>10}"
                      f"{'added MB':>10}  max rel. diff from reference")  # fmt: skip
                for side, r in res.items():
                    if r is None:
                        continue
                    diff = worst(r["scores"], ref) if "scores" in r else float("nan")
                    print(f"  {side:<14}{fmt_s(r['seconds']):>11}"
                          f"{r['seconds'] / ours['seconds']:>11.1f}×{r['peak_mb']:>10.0f}"
                          f"{r['peak_mb'] - r['before_mb']:>10.0f}  {diff:.1e}")  # fmt: skip
                bw = res["bw-adjoint"]
                if bw is not None:
                    ratio = bw["seconds"] / ours["seconds"]
                    print(f"  ratio Brightway adjoint / openpcf: {ratio:,.0f}× (target ≥ "
                          f"{TARGETS[name]:g}×: {'MET' if ratio >= TARGETS[name] else 'MISSED'}); "
                          f"openpcf {fmt_s(ours['seconds'])}"
                          + ("" if name == "uslci" else f" (target ≤ 100 ms: "
                             f"{'MET' if ours['seconds'] <= 0.1 else 'MISSED'})"))  # fmt: skip
                    print(f"  peak memory openpcf {ours['peak_mb']:.0f} MB, Brightway "
                          f"{bw['peak_mb']:.0f} MB (added by the calculation: "
                          f"{ours['peak_mb'] - ours['before_mb']:.0f} against "
                          f"{bw['peak_mb'] - bw['before_mb']:.0f} MB)")  # fmt: skip
            if args.no_mc:
                continue
            mc = spawn("mc-openpcf", name, args, Path(tmp))
            mb = spawn("mc-bw", name, args, Path(tmp))
            if mc is not None:
                for label in ("one", "every"):
                    if label in mc:
                        r = mc[label]
                        print(f"  MC openpcf, {label} product(s): {r['rate']:,.1f} iterations/s "
                              f"({r['iterations']} in {fmt_s(r['seconds'])}; {r['method']}, "
                              f"batch {r['batch']}, {r['steps']:.1f} steps per batch, "
                              f"{r['solved']:,} processes solved, {r['sampled']:,} entries "
                              f"sampled, {r['direct']} direct)")  # fmt: skip
            if mb is not None:
                r = mb["one"]
                print(f"  MC Brightway IterativeLCA, one product: {r['rate']:.2f} iterations/s "
                      f"({r['iterations']} in {fmt_s(r['seconds'])}, set-up "
                      f"{fmt_s(r['setup'])})")  # fmt: skip
            if mc is not None and mb is not None:
                one = mc["one"]["rate"] / mb["one"]["rate"]
                z = (mc["one"]["mean"] - mb["one"]["mean"]) / np.hypot(mc["one"]["se"],
                                                                        mb["one"]["se"])  # fmt: skip
                print(
                    f"  MC ratio, one product: {one:,.0f}×; means differ by {z:+.2f} "
                    "combined standard errors"
                )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
