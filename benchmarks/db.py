"""Benchmark of background databases: JSON-LD import, then every process's footprint at once.

Run from the project root:

    python benchmarks/db.py [--processes 3000] [--inputs 8] [--seed 1] [--path EXPORT.zip]

Without `--path` it writes a synthetic openLCA JSON-LD export with olca-schema: `--processes`
unit processes in a mostly hierarchical supply graph with a cyclic core (as in
`benchmarks/engine.py`: popular basic processes feed many others, about 1 % of back-edges close
cycles), reference outputs of 0.5 to 100 units, a fifth of the mass inputs written in g or t (so
the importer converts through unit groups), half of the inputs naming a default provider, 3 %
multi-output processes with physical allocation factors, and eight greenhouse-gas elementary
flows of several origins plus ten other elementary flows. With `--path` it imports that export.

Measured, with wall-clock time on this machine (into a temporary OPENPCF_HOME):
- import: read, link, write the datapackage (`openpcf.services.lci.databases.import_database`);
- load of the stored version, factorisation of I - A (cold cache), and the one transposed solve
  giving every process's per-gas footprint, weighted to kg CO2e (AR6); footprints per second;
- one process at a time, extrapolated from a sample: (a) warm, the factorisation reused and one
  forward solve per process (`inventory_for`), (b) cold, a fresh factorisation per process as a
  naive per-process LCA would do; each as a ratio to the all-process solve;
- a check that single solves equal the rows of the all-process result, and, when `bw2calc`
  (Brightway 2.5) is importable, the same footprints from bw2calc for a sample of processes.
The script is a report, not a test: it exits 0.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import olca_schema as o
import scipy
import scipy.sparse as sp
from olca_schema import zipio
from rich.console import Console

from measurements import print_measurements

console = Console(width=None if sys.stdout.isatty() else 132)

GHG = [
    ("Carbon dioxide, fossil", "124-38-9", 1.0, 0.9),
    ("Carbon dioxide, non-fossil", "124-38-9", 0.3, 0.2),
    ("Carbon dioxide, from soil or biomass stock", "124-38-9", 0.05, 0.05),
    ("Methane, fossil", "74-82-8", 3e-3, 0.3),
    ("Methane, non-fossil", "74-82-8", 1e-3, 0.1),
    ("Dinitrogen monoxide", "10024-97-2", 1e-4, 0.2),
    ("Sulfur hexafluoride", "2551-62-4", 1e-7, 0.03),
    ("Ethane, 1,1,1,2-tetrafluoro-, HFC-134a", "811-97-2", 1e-6, 0.03),
]
OTHER = ["Sulfur dioxide", "Nitrogen oxides", "Particulate matter, < 2.5 um", "Ammonia",
         "Carbon monoxide, fossil", "Water, river", "Occupation, arable land", "Lead",
         "Zinc", "Phosphate"]  # fmt: skip


def uuid_of(rng: np.random.Generator) -> str:
    import uuid

    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def ref(kind: o.RefType, id_: str, name: str | None = None) -> o.Ref:
    return o.Ref(id=id_, name=name, ref_type=kind)


def mass_flows(rng: np.random.Generator, mass_id: str, n: int) -> tuple[
    Callable[..., o.Flow], list[o.Flow], list[o.Flow], list[float], list[float]
]:  # fmt: skip
    """The flows of a synthetic database, all in mass: each process's product, the elementary
    flows (GHG, then others) with how likely a process emits each and how much (kg per kg of
    product, before noise); and `flow(name, kind, category, cas)` to make another."""

    def flow(name: str, kind: o.FlowType, category: str = "", cas: str | None = None) -> o.Flow:
        return o.Flow(id=uuid_of(rng), name=name, flow_type=kind, category=category or None,
                      cas=cas, flow_properties=[o.FlowPropertyFactor(
                          conversion_factor=1.0, is_ref_flow_property=True,
                          flow_property=ref(o.RefType.FlowProperty, mass_id))])  # fmt: skip

    products = [flow(f"product {j}", o.FlowType.PRODUCT_FLOW) for j in range(n)]
    air = "Elementary flows/Emission to air/unspecified"
    elementary = [flow(name, o.FlowType.ELEMENTARY_FLOW, air, cas) for name, cas, _, _ in GHG]
    elementary += [flow(name, o.FlowType.ELEMENTARY_FLOW, air) for name in OTHER]
    density = [d for *_, d in GHG] + [0.2] * len(OTHER)
    scale = [s for _, _, s, _ in GHG] + [1e-3] * len(OTHER)
    return flow, products, elementary, density, scale


def technosphere(n: int, inputs: float, rng: np.random.Generator) -> sp.csc_matrix:
    """A (n × n): hierarchical with a Zipf-popular basic core and ~1 % back-edges (cycles)."""
    n_basic = max(1, min(n, n // 10))
    popularity = 1.0 / np.arange(1, n_basic + 1) ** 1.1
    popularity /= popularity.sum()
    counts = np.maximum(rng.poisson(inputs, n), 1)
    cols = np.repeat(np.arange(n), counts)
    rows = np.empty(cols.size, dtype=np.int64)
    basic = rng.random(cols.size) < 0.6
    rows[basic] = rng.choice(n_basic, size=int(basic.sum()), p=popularity)
    rows[~basic] = (rng.random(int((~basic).sum())) * cols[~basic]).astype(np.int64)
    ahead = rows >= cols
    rows[ahead] = (rng.random(int(ahead.sum())) * cols[ahead]).astype(np.int64)
    n_back = int(0.01 * cols.size)
    back_cols = rng.choice(n_basic, size=n_back, p=popularity)
    back_rows = back_cols + 1 + (rng.random(n_back) * (n_basic - back_cols - 1)).astype(np.int64)
    rows, cols = np.r_[rows, back_rows], np.r_[cols, back_cols]
    keep = (rows != cols) & (rows < n)
    a = sp.csc_matrix((rng.lognormal(0, 1.5, int(keep.sum())), (rows[keep], cols[keep])), (n, n))
    a.sum_duplicates()
    sums = np.asarray(a.sum(axis=0)).ravel()
    wanted = rng.uniform(0.05, 0.5, n)
    return sp.csc_matrix(a @ sp.diags(np.divide(wanted, sums, out=np.zeros(n), where=sums > 0)))


def write_export(path: Path, n: int, inputs: float, seed: int) -> dict[str, int]:
    """A JSON-LD export of n processes; returns what it holds."""
    rng = np.random.default_rng(seed)
    a = technosphere(n, inputs, rng)
    mass_units = [o.Unit(id=uuid_of(rng), name=name, conversion_factor=f, is_ref_unit=f == 1.0)
                  for name, f in (("kg", 1.0), ("g", 1e-3), ("t", 1e3))]  # fmt: skip
    group = o.UnitGroup(id=uuid_of(rng), name="Units of mass", units=mass_units)
    mass = o.FlowProperty(id=uuid_of(rng), name="Mass",
                          unit_group=ref(o.RefType.UnitGroup, group.id))  # fmt: skip
    unit_ref = {u.name: ref(o.RefType.Unit, u.id, u.name) for u in mass_units}

    flow, products, elementary, density, scale = mass_flows(rng, mass.id, n)
    process_ids = [uuid_of(rng) for _ in range(n)]
    output = rng.uniform(0.5, 100.0, n)
    coproduct = rng.random(n) < 0.03
    exchanges = 0
    with zipio.ZipWriter(path) as w:
        for entity in (group, mass, *products, *elementary):
            w.write(entity)
        for j in range(n):
            p = o.Process(id=process_ids[j], name=f"process {j}",
                          process_type=o.ProcessType.UNIT_PROCESS, exchanges=[])  # fmt: skip
            q = output[j]
            share = 1.0
            ex = [o.Exchange(flow=ref(o.RefType.Flow, products[j].id), amount=q,
                             unit=unit_ref["kg"], is_input=False,
                             is_quantitative_reference=True)]  # fmt: skip
            if coproduct[j]:  # allocated away: the column keeps `share` of every exchange
                share = float(rng.uniform(0.5, 0.9))
                extra = flow(f"coproduct of {j}", o.FlowType.PRODUCT_FLOW)
                w.write(extra)
                ex.append(o.Exchange(flow=ref(o.RefType.Flow, extra.id), amount=float(q / 2),
                                     unit=unit_ref["kg"], is_input=False))  # fmt: skip
                p.default_allocation_method = o.AllocationType.PHYSICAL_ALLOCATION
                p.allocation_factors = [
                    o.AllocationFactor(allocation_type=o.AllocationType.PHYSICAL_ALLOCATION,
                                       product=ref(o.RefType.Flow, f.id), value=v)
                    for f, v in ((products[j], share), (extra, 1.0 - share))
                ]  # fmt: skip
            lo, hi = a.indptr[j], a.indptr[j + 1]
            for i, v in zip(a.indices[lo:hi], a.data[lo:hi], strict=True):
                amount, unit = v * q / share, "kg"
                pick = rng.random()
                if pick < 0.1:
                    amount, unit = amount * 1e3, "g"
                elif pick < 0.2:
                    amount, unit = amount / 1e3, "t"
                provider = ref(o.RefType.Process, process_ids[i]) if rng.random() < 0.5 else None
                ex.append(o.Exchange(flow=ref(o.RefType.Flow, products[i].id), amount=amount,
                                     unit=unit_ref[unit], is_input=True,
                                     default_provider=provider))  # fmt: skip
            for f, d, s in zip(elementary, density, scale, strict=True):
                if rng.random() < d:
                    ex.append(o.Exchange(flow=ref(o.RefType.Flow, f.id),
                                         amount=float(s * rng.lognormal(0, 1) * q / share),
                                         unit=unit_ref["kg"], is_input=False))  # fmt: skip
            for k, e in enumerate(ex, start=1):
                e.internal_id = k
            p.exchanges = ex
            exchanges += len(ex)
            w.write(p)
    return {"processes": n, "exchanges": exchanges, "multi-output": int(coproduct.sum())}


def fmt_s(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def bw2calc_check(db, gas_b: sp.csr_matrix, weights: np.ndarray, ours: np.ndarray,
                  sample: np.ndarray) -> tuple[str, str]:  # fmt: skip
    """The same footprints from Brightway 2.5's bw2calc, on the stored matrices."""
    try:
        with warnings.catch_warnings():  # its advice to install pypardiso
            warnings.simplefilter("ignore")
            import bw2calc
        import bw_processing as bwp
    except ImportError:
        return "not installed", "pip install bw2calc to add this cross-check"
    n = len(db.processes)
    a = sp.coo_matrix(db.technosphere)
    dp = bwp.create_datapackage()
    rows = np.r_[np.arange(n), a.row]
    cols = np.r_[np.arange(n), a.col]
    idx = np.array(list(zip(rows, cols, strict=True)), dtype=bwp.INDICES_DTYPE)
    dp.add_persistent_vector(matrix="technosphere_matrix", indices_array=idx,
                             data_array=np.r_[np.ones(n), a.data],
                             flip_array=np.r_[np.zeros(n, bool), np.ones(a.nnz, bool)],
                             name="technosphere")  # fmt: skip
    b = sp.coo_matrix(gas_b)
    offset = n  # biosphere ids apart from process ids
    idx_b = np.array(list(zip(b.row + offset, b.col, strict=True)), dtype=bwp.INDICES_DTYPE)
    dp.add_persistent_vector(matrix="biosphere_matrix", indices_array=idx_b,
                             data_array=b.data, name="biosphere")  # fmt: skip
    g = np.arange(len(weights)) + offset
    idx_c = np.array(list(zip(g, g, strict=True)), dtype=bwp.INDICES_DTYPE)
    dp.add_persistent_vector(matrix="characterization_matrix", indices_array=idx_c,
                             data_array=weights, name="gwp")  # fmt: skip
    lca = bw2calc.LCA({int(sample[0]): 1.0}, data_objs=[dp])
    lca.lci()
    lca.lcia()
    worst, times = 0.0, []
    for j in sample:
        start = time.perf_counter()
        lca.lcia({int(j): 1.0})
        times.append(time.perf_counter() - start)
        worst = max(worst, abs(lca.score - ours[j]) / max(abs(ours[j]), 1e-300))
    return (f"max relative difference {worst:.1e} over {len(sample)} processes",
            f"bw2calc {bw2calc.__version__} LCA.lcia(demand): {fmt_s(statistics.median(times))} "
            "per process (median)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=3000)
    parser.add_argument("--inputs", type=float, default=8.0, help="mean inputs per process")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--path", type=Path, help="import this export instead of generating")
    parser.add_argument("--singles", type=int, default=200, help="warm single solves to time")
    parser.add_argument("--cold", type=int, default=10, help="cold single LCAs to time")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="openpcf-bench-db-"))
    os.environ["OPENPCF_HOME"] = str(work / "home")
    # imported after OPENPCF_HOME is set, so nothing touches the user's databases
    from openpcf.engine import solve
    from openpcf.engine.solve import factorise, footprints_of_all_processes, inventory_for
    from openpcf.factors.bundled import gwp_table
    from openpcf.services.lci import databases

    console.print(f"[bold]openpcf database benchmark[/bold]: Python {platform.python_version()}, "
                  f"numpy {np.__version__}, scipy {scipy.__version__}, {os.cpu_count()} cores; "
                  f"working in {work}")  # fmt: skip
    rows: list[tuple[str, str, str]] = []
    if args.path is None:
        export = work / "synthetic-jsonld.zip"
        with console.status("generating the JSON-LD export with olca-schema"):
            start = time.perf_counter()
            held = write_export(export, args.processes, args.inputs, args.seed)
            rows.append(("generate export (not part of openpcf)", fmt_s(time.perf_counter() - start),
                         f"{held['processes']:,} processes, {held['exchanges']:,} exchanges, "
                         f"{held['multi-output']} multi-output; "
                         f"{export.stat().st_size / 1e6:.1f} MB zip"))  # fmt: skip
    else:
        export = args.path

    with console.status("importing (read, link, write)"):
        start = time.perf_counter()
        imported = databases.import_database(export, "bench")
        t_import = time.perf_counter() - start
    r = imported.report
    rows.append(("import", fmt_s(t_import), f"{r.files:,} files → {r.columns:,} columns, "
                 f"{r.exchanges:,} exchanges ({r.exchanges / t_import:,.0f}/s)"))  # fmt: skip

    start = time.perf_counter()
    db = databases.open_database("bench")
    rows.append(("load stored version", fmt_s(time.perf_counter() - start),
                 f"A {db.technosphere.nnz:,} entries, B {db.biosphere.nnz:,}"))  # fmt: skip
    n = len(db.processes)
    gases = sorted({(f.gas, f.origin) for f in db.flows if f.gas})
    mapped = [f for f in db.flows if f.gas]
    g_rows = [gases.index((f.gas, f.origin)) for f in mapped]
    g = sp.csr_matrix(([f.kg_per_unit for f in mapped], (g_rows, [f.index for f in mapped])),
                      shape=(len(gases), len(db.flows)))  # fmt: skip
    gas_b = sp.csr_matrix(g @ db.biosphere)
    from openpcf.domain.gases import Flow

    weights = np.array([gwp_table().gwp(Flow(gas, origin), "AR6") for gas, origin in gases])

    solve._CACHE.clear()
    start = time.perf_counter()
    fact = factorise(db.technosphere)
    t_fact = time.perf_counter() - start
    start = time.perf_counter()
    per_gas = footprints_of_all_processes(fact, gas_b.toarray())
    kg = per_gas @ weights
    t_solve = time.perf_counter() - start
    t_all = t_fact + t_solve
    rows.append(("factorise I - A (cold)", fmt_s(t_fact), f"{fact.factor_nnz:,} stored entries"))
    rows.append(("one transposed solve, all processes", fmt_s(t_solve),
                 f"{len(gases)} gas right-hand sides, then AR6 weights"))  # fmt: skip
    rows.append(("[bold]all footprints (factorise + solve)[/bold]", f"[bold]{fmt_s(t_all)}[/bold]",
                 f"[bold]{n / t_all:,.0f} footprints per second[/bold]"))  # fmt: skip
    service = databases.footprints(db, "AR6").kg_co2e
    assert np.allclose(service, kg, rtol=1e-12, atol=0), "service differs from the direct solve"

    rng = np.random.default_rng(args.seed + 7)
    sample = rng.choice(n, size=min(args.singles, n), replace=False)
    times, worst = [], 0.0
    for j in sample:
        start = time.perf_counter()
        single = inventory_for(fact, gas_b, int(j)) @ weights
        times.append(time.perf_counter() - start)
        worst = max(worst, abs(single - kg[j]) / max(abs(kg[j]), 1e-300))
    t_warm = statistics.mean(times) * n
    rows.append((f"one at a time, warm (extrapolated from {len(sample)})", fmt_s(t_warm),
                 f"mean {fmt_s(statistics.mean(times))} per process; "
                 f"[bold]{t_warm / t_all:,.1f}×[/bold] the all-process solve"))  # fmt: skip
    cold_times = []
    for j in sample[: args.cold]:
        solve._CACHE.clear()
        start = time.perf_counter()
        inventory_for(factorise(db.technosphere), gas_b, int(j))
        cold_times.append(time.perf_counter() - start)
    t_cold = statistics.mean(cold_times) * n
    rows.append((f"one at a time, cold (extrapolated from {len(cold_times)})", fmt_s(t_cold),
                 f"fresh factorisation each; [bold]{t_cold / t_all:,.0f}×[/bold] the "
                 "all-process solve"))  # fmt: skip
    rows.append(("check: single solves == rows", "OK" if worst <= 1e-9 else "[red]FAILED[/red]",
                 f"max relative difference {worst:.1e}"))  # fmt: skip
    bw_value, bw_note = bw2calc_check(db, gas_b, weights, kg, sample[:20])
    rows.append(("check: bw2calc (Brightway 2.5)", bw_value, bw_note))

    print_measurements(console, rows)
    counts = ", ".join(f"{k}: {v:,}" for k, v in r.counts.items())
    console.print(f"[bold]import report[/bold]: {counts}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
