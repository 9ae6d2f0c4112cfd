"""`openpcf db ...`: background LCI databases (openLCA JSON-LD, ecospold2, ILCD, TIDAS)."""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from openpcf.cli.common import Gwp, OutputFormat, err, out
from openpcf.cli.common import fail as _fail
from openpcf.domain.errors import OpenpcfError
from openpcf.domain.lci import ImportReport, ReportEntry
from openpcf.factors.bundled import gwp_table
from openpcf.services.lci.databases import (
    factorisation,
    find_process,
    footprints,
    gas_footprints,
    import_database,
    list_databases,
    open_database,
)
from openpcf.services.lci.factor_sets import factor_set, read_process_list, upstream
from openpcf.services.lci.regionalise import regionalise

db_app = typer.Typer(
    help="Background LCI databases: import openLCA JSON-LD (1.x, 2.x), ecospold2, ILCD or TIDAS; "
    "footprints of every process; factor sets; a China-regionalised version.",
    no_args_is_help=True,
)

CSV_COLUMNS = ("process_id", "process_name", "reference_product", "unit", "kg_co2e")


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, transient=True,
    )  # fmt: skip


@db_app.command("import")
def import_(
    path: Annotated[
        Path, typer.Argument(help="openLCA JSON-LD export or ecospold2 data sets (zip or folder).")
    ],
    name: Annotated[str | None, typer.Option(help="Database name; default the file's name.")] = (
        None
    ),
    linking: Annotated[
        Path | None,
        typer.Option(
            help="CSV input_flow,consumer,provider pinning providers (consumer '*' for all)."
        ),
    ] = None,
    unlinked: Annotated[
        str, typer.Option(help="Inputs no process makes: 'cut-off' (listed) or 'error'.")
    ] = "cut-off",
) -> None:
    """Import an export as a new version of a named database, with a report of every exchange.

    Reads openLCA JSON-LD (1.x and 2.x), ecospold2, ILCD XML and TIDAS JSON (zip or folder).
    """
    start = time.perf_counter()
    try:
        with _progress() as bars:
            tasks: dict[str, int] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bars.add_task(stage, total=total)
                bars.update(tasks[stage], completed=done, total=total)

            imported = import_database(path, name, progress, linking, unlinked)
    except OpenpcfError as exc:
        _fail(exc)
        return
    seconds = time.perf_counter() - start
    if imported.reused:
        out.print(f"unchanged: {escape(str(path))} is already {imported.name}@{imported.version}"
                  " (same bytes, same GHG flow map)")  # fmt: skip
    else:
        out.print(f"imported [bold]{imported.name}@{imported.version}[/] in {seconds:.2f} s")
    _render_report(imported.report)


def _render_report(r: ImportReport) -> None:
    out.print(f"{r.format}: {r.files} files, {r.processes} processes → {r.columns} technosphere "
              f"columns, {r.elementary_flows} elementary flows, {r.exchanges} exchanges")  # fmt: skip
    table = Table(title="Exchanges by category", title_justify="left")
    table.add_column("category")
    table.add_column("exchanges", justify="right")
    for category, n in r.counts.items():
        table.add_row(category, f"{n:,}")
    table.add_row("[bold]total[/]", f"[bold]{sum(r.counts.values()):,}[/]")
    out.print(table)
    if r.inputs_to_link:
        out.print(f"inputs linked to a provider: {r.inputs_linked:,} of {r.inputs_to_link:,} "
                  f"({r.inputs_linked / r.inputs_to_link:.1%}); the others are cut off and listed")  # fmt: skip
    for title, entries in (
        ("Inputs with several providers: the choice made and its rule", r.choices),
        ("Ambiguous inputs (several providers, none named; cut off)", r.ambiguous),
        ("Unlinked inputs (no process makes them; cut off)", r.unlinked),
        ("Cut off in the data", r.cut_off),
        ("GHG-looking elementary flows not mapped to a gas", r.unmapped_ghg),
        ("Coproducts not allocated (burden on the reference)", r.unallocated),
        ("Left out (missing flow data set, no amount, no reference)", r.omitted),
        ("Loops taking more than they make (their links cut)", r.loops),
        (
            "Largest differences: bundled GHG map vs the release's climate method",
            r.method_comparison,
        ),
    ):
        if entries:
            _render_entries(title, entries)
    for note in r.notes:
        out.print(f"[yellow]note[/] {escape(note)}", soft_wrap=True)


def _render_entries(title: str, entries: tuple[ReportEntry, ...], limit: int = 20) -> None:
    t = Table(title=f"{title}: {len(entries)}", title_justify="left")
    t.add_column("flow or process", overflow="fold")
    t.add_column("id", overflow="fold")
    t.add_column("exchanges", justify="right")
    t.add_column("detail", overflow="fold")
    t.add_column("e.g. in", overflow="fold")
    for e in entries[:limit]:
        t.add_row(escape(e.what), e.id, str(e.exchanges), escape(e.detail),
                  escape("; ".join(e.processes)))  # fmt: skip
    out.print(t)
    if len(entries) > limit:
        out.print(f"... and {len(entries) - limit} more (all in report.json)")


@db_app.command("list")
def list_(
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """The imported databases, their versions and where each came from."""
    rows = list_databases()
    if format is OutputFormat.json:
        data = [{"name": d.name, "versions": list(d.versions), "latest": d.latest} for d in rows]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    if not rows:
        out.print("no background databases (import one with `openpcf db import PATH`)")
        return
    table = Table(title="Background databases", title_justify="left")
    for col in ("name", "versions", "processes", "format", "source", "imported"):
        table.add_column(col, overflow="fold")
    for d in rows:
        meta = d.latest
        columns = next((r["shape"][1] for r in meta.get("resources", [])
                        if r.get("path") == "technosphere.npz"), "?")  # fmt: skip
        table.add_row(d.name, ", ".join(d.versions), str(columns),
                      meta.get("source", {}).get("format", ""),
                      escape(meta.get("source", {}).get("path", "")), meta.get("created", ""))  # fmt: skip
    out.print(table)


@db_app.command("show")
def show(
    db: Annotated[str, typer.Argument(help="Database: NAME or NAME@VERSION.")],
    process: Annotated[str, typer.Argument(help="Process UUID (or key) or exact name.")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """One process: reference product, cradle-to-gate kg of each gas and kg CO2e per unit."""
    try:
        database = open_database(db)
        info = find_process(database, process)
        gases, per_gas = gas_footprints(database)
    except OpenpcfError as exc:
        _fail(exc)
        return
    inventory = {g.label(): float(v) for g, v in zip(gases, per_gas[info.index], strict=True)}
    chain = upstream(database, [info.index])
    cut = {"own": info.cut_off_inputs, "supply_chain": int(chain.cut_off[info.index]),
           "supply_chain_linked": int(chain.linked[info.index])}  # fmt: skip
    co2e = {s: float(sum(v * gwp_table().gwp(g, s)
                         for g, v in zip(gases, per_gas[info.index], strict=True)))
            for s in ("AR5", "AR6")}  # fmt: skip
    column = database.technosphere[:, info.index].tocoo()
    inputs = sorted(
        ((database.processes[i], float(v)) for i, v in zip(column.row, column.data, strict=True)),
        key=lambda t: -abs(t[1]),
    )
    if format is OutputFormat.json:
        data = {"database": database.label, **info.model_dump(), "kg": inventory,
                "kg_co2e": co2e, "inputs_cut_off": cut,
                "inputs": [{"key": p.key, "name": p.name, "amount": v, "unit": p.unit}
                           for p, v in inputs]}  # fmt: skip
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    out.print(f"[bold]{escape(info.name)}[/] in {database.label}")
    facts = Table(show_header=False)
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    for label, value in (
        ("key", info.key), ("process id", info.process_id), ("reference product",
        f"{info.reference_product} ({info.product_id})"), ("unit", info.unit),
        ("location", " — ".join(x for x in (info.location,
                                            database.meta.get("locations", {}).get(info.location or ""))
                                  if x)), ("category", info.category),
        ("allocation", info.allocation), ("kg CO2e per unit, AR5", f"{co2e['AR5']:.6g}"),
        ("kg CO2e per unit, AR6", f"{co2e['AR6']:.6g}"),
        *((f"name ({lang})", n) for lang, n in info.names.items() if n != info.name),
        *((f"reference product ({lang})", n) for lang, n in info.product_names.items()
          if n != info.reference_product),
        ("inputs cut off", f"{cut['own']} of its own; {cut['supply_chain']} of "
         f"{cut['supply_chain'] + cut['supply_chain_linked']} in its supply chain "
         f"({chain.share(info.index):.1%})"),
    ):  # fmt: skip
        facts.add_row(label, escape(str(value)))
    out.print(facts)
    gas_table = Table(title=f"Cradle-to-gate kg per {info.unit}", title_justify="left")
    gas_table.add_column("gas")
    gas_table.add_column("kg", justify="right")
    for label, v in inventory.items():
        if v:
            gas_table.add_row(label, f"{v:.6g}")
    out.print(gas_table)
    if inputs:
        t = Table(title=f"Direct inputs per {info.unit} (largest 15)", title_justify="left")
        t.add_column("process", overflow="fold")
        t.add_column("amount", justify="right")
        t.add_column("unit")
        for p, v in inputs[:15]:
            t.add_row(escape(f"{p.name} [{p.key}]"), f"{v:.6g}", escape(p.unit))
        out.print(t)


@db_app.command("footprints")
def footprints_(
    db: Annotated[str, typer.Argument(help="Database: NAME or NAME@VERSION.")],
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    gwp: Annotated[Gwp, typer.Option(help="GWP100 set for the built-in GHG mapping.")] = Gwp.AR6,
    method: Annotated[
        str | None,
        typer.Option(
            help="An LCIA method the database carried (name or UUID, e.g. ILCD 'Climate "
            "change'), or a characterisation CSV (flow_id,kg_co2e_per_unit or "
            "flow_name,category,kg_co2e_per_unit), replacing the built-in mapping."
        ),
    ] = None,
    allow_unmapped: Annotated[
        bool,
        typer.Option(
            "--allow-unmapped",
            help="Compute even though GHG-looking flows have no gas (they are listed).",
        ),
    ] = False,
) -> None:
    """Every process's cradle-to-gate kg CO2e per unit of its reference product, one solve."""
    try:
        with _progress() as bars:
            task = bars.add_task("loading the database", total=3)
            database = open_database(db)
            bars.update(task, advance=1, description="factorising I - A")
            start = time.perf_counter()
            factorisation(database)
            bars.update(task, advance=1, description="solving for every process at once")
            result = footprints(database, gwp.value, method, allow_unmapped)
            seconds = time.perf_counter() - start
            bars.update(task, advance=1)
    except OpenpcfError as exc:
        _fail(exc)
        return
    try:
        with out_file.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_COLUMNS)
            for p, v in zip(database.processes, result.kg_co2e, strict=True):
                writer.writerow((p.process_id, p.name, p.reference_product, p.unit, repr(float(v))))
    except OSError as exc:
        err.print(f"[bold red]error:[/] cannot write {escape(str(out_file))}: {escape(str(exc))}")
        raise typer.Exit(1) from None
    n = len(database.processes)
    rate = n / seconds if seconds > 0 else float("inf")
    out.print(f"{n:,} footprints of {result.database} ({result.basis}; {result.characterised} "
              f"elementary flows characterised) in {seconds:.3f} s ({rate:,.0f} per second) → "
              f"{escape(str(out_file))}")  # fmt: skip
    if result.unmapped:
        hit = int(result.touched.sum()) if result.touched is not None else 0
        err.print(f"[yellow]warning:[/] {len(result.unmapped)} GHG-looking flows have no gas and "
                  f"are left out (--allow-unmapped); {hit} of {n} footprints involve them: "
                  f"{escape('; '.join(result.unmapped[:20]))}", soft_wrap=True)  # fmt: skip
    if result.unmatched:
        shown = "; ".join(f"line {r.line}: {r.label}" for r in result.unmatched[:10])
        err.print(f"[yellow]warning:[/] {len(result.unmatched)} method rows match no flow of "
                  f"{result.database}: {escape(shown)}", soft_wrap=True)  # fmt: skip
    if not np.all(np.isfinite(result.kg_co2e)):
        err.print("[bold red]error:[/] some footprints are not finite")
        raise typer.Exit(1)


@db_app.command("factors")
def factors_(
    db: Annotated[str, typer.Argument(help="Database: NAME or NAME@VERSION.")],
    out_file: Annotated[Path, typer.Option("--out", help="Factor-set JSON file to write.")],
    processes: Annotated[
        Path | None,
        typer.Option(help="Processes to include, one key, UUID or exact name a line."),
    ] = None,
) -> None:
    """Every (or the chosen) process's cradle-to-gate kg per gas, as a factor set for --factors."""
    start = time.perf_counter()
    try:
        with _progress() as bars:
            task = bars.add_task("loading and solving", total=2)
            database = open_database(db)
            columns = read_process_list(processes, database) if processes else None
            bars.update(task, advance=1, description="tracing supply chains")
            fs = factor_set(database, columns)
            bars.update(task, advance=1)
    except OpenpcfError as exc:
        _fail(exc)
        return
    data = {"factors": [f.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
                        for f in fs.factors]}  # fmt: skip
    try:
        out_file.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        err.print(f"[bold red]error:[/] cannot write {escape(str(out_file))}: {escape(str(exc))}")
        raise typer.Exit(1) from None
    n = len({f.id.split("/")[1] for f in fs.factors})
    if "left out" in fs.title:
        err.print(f"[yellow]note:[/] {escape(fs.title.split('; ', 1)[1])}", soft_wrap=True)
    out.print(f"{len(fs.factors):,} factors for {n:,} processes of {database.label} in "
              f"{time.perf_counter() - start:.2f} s → {escape(str(out_file))} (use with "
              f"--factors; ids '{database.name}/KEY')")  # fmt: skip


@db_app.command("regionalise")
def regionalise_(
    db: Annotated[str, typer.Argument(help="Database: NAME or NAME@VERSION.")],
    grid: Annotated[str, typer.Option(help="CN@YEAR or CN-XX@YEAR (bundled grid factors).")],
    basis: Annotated[
        str, typer.Option(help="'footprint' (life-cycle CO2e) or 'grid-co2' (operational CO2).")
    ] = "footprint",
    name: Annotated[
        str | None, typer.Option(help="Name of the new database; default a new version.")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="CSV process,action (replace|keep) correcting the supplies found."),
    ] = None,
    top: Annotated[int, typer.Option(help="Processes to print, biggest change first; 0: all.")] = 0,
) -> None:
    """Replace every electricity supply by a Chinese grid factor, as a new database version."""
    start = time.perf_counter()
    try:
        with _progress() as bars:
            task = bars.add_task("finding supplies, writing and solving twice", total=1)
            result = regionalise(db, grid, basis, name, mapping)
            bars.update(task, advance=1)
    except OpenpcfError as exc:
        _fail(exc)
        return
    f = result.factor
    value = f"{f.co2e} kg CO2e" if f.co2e is not None else f"{f.gases} kg"
    out.print(f"[bold]{result.database}[/] from {result.source} in "
              f"{time.perf_counter() - start:.2f} s: {len(result.supplies)} electricity supplies "
              f"→ {f.id} ({value} per {f.unit}; {escape(f.source)})")  # fmt: skip
    if result.factor_note:
        out.print(f"[yellow]note[/] {escape(result.factor_note)}")
    supplies = Table(title="Electricity supplies replaced (review; correct with --mapping)",
                     title_justify="left")  # fmt: skip
    for col in ("process", "key", "unit", "location", "why"):
        supplies.add_column(col, overflow="fold")
    for s in result.supplies:
        p = result.processes[s.index]
        supplies.add_row(escape(p.name), p.key, escape(p.unit), p.location or "", s.why)
    out.print(supplies)
    before, after = result.before, result.after
    change = np.abs(after - before) / np.maximum(np.abs(before), 1e-300)
    change[(before == 0) & (after == 0)] = 0.0
    order = np.argsort(-change, kind="stable")
    shown = order if top <= 0 else order[:top]
    t = Table(title="kg CO2e per unit (AR6), biggest change first", title_justify="left")
    for col in ("process", "unit", "before", "after", "change"):
        t.add_column(col, overflow="fold", justify="right" if col in ("before", "after",
                                                                          "change") else "left")  # fmt: skip
    for j in shown:
        p = result.processes[j]
        pct = f"{(after[j] - before[j]) / before[j]:+.1%}" if before[j] else "new"
        t.add_row(escape(p.name), escape(p.unit), f"{before[j]:.6g}", f"{after[j]:.6g}",
                  pct if before[j] or after[j] else "0")  # fmt: skip
    out.print(t)
