"""`openpcf recompute`: recompute stored footprints after a new factor-set version.

Acts on the configured database (OPENPCF_DATABASE_URL) as the operator running it; the run and
its footprints are attributed to `operator:<login>` in the audit log.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from openpcf.cli.common import FormatOption, OutputFormat, err, fail, out
from openpcf.domain.errors import OpenpcfError
from openpcf.services.platform import accounts
from openpcf.services.recompute.report import RecomputeReport
from openpcf.services.recompute.run import recompute as run_recompute


def recompute(
    factor_set: Annotated[
        str,
        typer.Option(
            "--factor-set",
            help="The new version: a tenant's published set NAME@VERSION (with --tenant), the "
            "bundled set's label (openpcf-bundled@VERSION), or a factor-set .json file.",
        ),
    ],
    tenant: Annotated[
        str | None, typer.Option(help="The tenant whose published set it is (and only its data).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compute and report; store nothing.")
    ] = False,
    format: FormatOption = OutputFormat.table,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="A Dask scheduler address (tcp://host:8786); default OPENPCF_DASK_SCHEDULER, "
            "else all local cores."
        ),
    ] = None,
    top: Annotated[
        int, typer.Option(help="How many products with the largest change to list.")
    ] = 10,
) -> None:
    """Recompute every stored footprint depending on a factor the new version changes; the new
    footprints are stored beside the old ones, which never change."""
    from openpcf.store.db import sessions

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=format is OutputFormat.json or not err.is_terminal,
    )
    tasks: dict[str, int] = {}

    def say(phase: str, done: int, total: int | None) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(phase, total=total)
        progress.update(tasks[phase], completed=done, total=total)

    try:
        with progress:
            report = run_recompute(
                sessions(),
                accounts.operator(),
                factor_set,
                tenant,
                dry_run=dry_run,
                scheduler=scheduler,
                top=top,
                progress=say,
            )
    except OpenpcfError as exc:
        fail(exc)
        return
    if format is OutputFormat.json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return
    _render(report)


def _render(r: RecomputeReport) -> None:
    what = (
        "dry run: nothing stored" if r.dry_run else (f"run {r.run}" if r.run else "nothing stored")
    )
    out.print(
        f"[bold]{escape(r.factor_set)}[/] replaces {escape(', '.join(r.replaces) or 'nothing')} "
        f"for {escape(r.scope)} ({escape(what)}; on {escape(r.scheduler)})"
    )
    counts = Table(title="calculations")
    for col in ("examined", "dependent", "linear", "full", "failed", "skipped", "seconds"):
        counts.add_column(col, justify="right")
    counts.add_row(
        *(str(x) for x in (r.examined, r.dependent, r.linear, r.full, r.failed, r.skipped)),
        f"{r.seconds.get('total', 0):.2f}",
    )
    out.print(counts)
    phases = [f"{k} {v:.2f} s" for k, v in r.seconds.items() if k != "total"]
    if phases:
        out.print("time: " + ", ".join(phases))
    if r.factors:
        factors = Table(title=f"changed factors ({len(r.factors)})")
        for col in ("factor", "was in", "change", "unit", "old", "new"):
            factors.add_column(col)
        for f in r.factors[:20]:
            factors.add_row(
                escape(f.factor), escape(f.old_set), f.kind, escape(f.unit), _flows(f.old),
                _flows(f.new) if f.new is not None else "-",
            )  # fmt: skip
        out.print(factors)
    if r.percent_median is not None:
        out.print(
            f"change of the totals: min {r.percent_min:+.3f} %, median "
            f"{r.percent_median:+.3f} %, max {r.percent_max:+.3f} %"
        )
    if r.top:
        top = Table(title="largest changes (kg CO2e per declared unit)")
        for col, justify in (("product", "left"), ("calculation", "left"), ("before", "right"),
                             ("after", "right"), ("change", "right"), ("%", "right")):  # fmt: skip
            top.add_column(col, justify=justify)  # type: ignore[arg-type]
        for p in r.top:
            pct = f"{p.percent:+.3f}" if p.percent is not None else "-"
            top.add_row(escape(p.product), p.calculation, f"{p.previous:.6g}", f"{p.new:.6g}",
                        f"{p.change:+.6g}", pct)  # fmt: skip
        out.print(top)
    for failure in r.failures[:20]:
        err.print(f"[yellow]not recomputed:[/] {escape(failure)}", soft_wrap=True)


def _flows(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.6g}" for k, v in values.items())
