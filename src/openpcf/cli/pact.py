"""`openpcf export ...` and `openpcf import ...`: footprints and models out to PACT and openLCA,
supplier footprints in; `openpcf pact ...`: outgoing PACT events (answers to partners'
requests, update notices). Registered in cli.py with `app.add_typer(...)`."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, get_args

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from openpcf import config
from openpcf.cli.common import FactorFiles, err, out, shown
from openpcf.cli.common import fail as _fail
from openpcf.domain.errors import OpenpcfError
from openpcf.domain.model import Stage
from openpcf.io.model_edit import input_yaml
from openpcf.io.olca_jsonld_export import write_jsonld
from openpcf.services.calculation.calculate import DEFAULT_PROFILE, calculate
from openpcf.services.calculation.project import load_project
from openpcf.services.exchange.files import (
    EXPORT_PROFILE,
    export_pact,
    import_into,
    input_from_pact,
    tenant_company,
)

export_app = typer.Typer(help="Export footprints and models (PACT, openLCA JSON-LD).",
                         no_args_is_help=True)  # fmt: skip
import_app = typer.Typer(help="Import supplier footprints (PACT).", no_args_is_help=True)
pact_app = typer.Typer(
    help="Outgoing PACT events: answers to partners' requests, update notices.",
    no_args_is_help=True,
)


class PactVersionChoice(StrEnum):
    v3 = "3"
    v2 = "2"


@export_app.command("pact")
def export_pact_command(
    model: Annotated[Path, typer.Argument(help="Product model file.")],
    version: Annotated[
        PactVersionChoice, typer.Option("--version", "-v", help="PACT data model: 3 or 2 (2.3).")
    ] = PactVersionChoice.v3,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")
    ] = None,
    profile_id: Annotated[
        str, typer.Option("--profile", "-p", help="Methodology profile to compute under.")
    ] = EXPORT_PROFILE,
    context: Annotated[
        Path | None,
        typer.Option(
            "--context",
            help="YAML/JSON of PACT metadata (company_name, company_ids, "
            "product_ids, validity_period_end, ...).",
        ),
    ] = None,
    factors: FactorFiles = None,
    allow_violations: Annotated[
        bool, typer.Option("--allow-violations", help="Export even if the model breaks its rule.")
    ] = False,
) -> None:
    """Compute the model and write its footprint as a PACT ProductFootprint, validated against
    openpcf's model of the PACT data model. The company is the tenant named by OPENPCF_TENANT,
    else the context's company_name and company_ids. Notes on what openpcf filled in go to
    stderr; a required field nobody gives is an error naming the context field."""
    try:
        # The company is the tenant only when one is named: never a made-up "local" company.
        named = os.environ.get("OPENPCF_TENANT")
        owner = tenant_company(config.tenant()) if named else None
        exported = export_pact(
            model, version=version.value, profile=profile_id, factor_files=factors or [],
            context_file=context, owner=owner, allow_violations=allow_violations,
        )  # fmt: skip
    except OpenpcfError as exc:
        _fail(exc)
        return
    text = json.dumps(exported.document, indent=2, ensure_ascii=False) + "\n"
    for note in exported.notes:
        err.print(f"note: {escape(note)}", soft_wrap=True)
    if out is None:
        sys.stdout.write(text)
        return
    _write_atomically(out, text)
    err.print(
        f"wrote PACT v{version.value} footprint {exported.document['id']} to {escape(str(out))}"
    )


@export_app.command("jsonld")
def export_jsonld_command(
    model: Annotated[Path, typer.Argument(help="Product model file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The zip to write (replaced).")],
    profile_id: Annotated[
        str, typer.Option("--profile", "-p", help="Profile of the result written alongside.")
    ] = DEFAULT_PROFILE,
    factors: FactorFiles = None,
    no_result: Annotated[
        bool, typer.Option("--no-result", help="Only the model; do not compute it.")
    ] = False,
) -> None:
    """Write the model, its sub-assemblies and its result as an openLCA JSON-LD zip."""
    try:
        project = load_project(model, factors or [])
        result = None if no_result else calculate(project, profile=profile_id)
        keys = [m.model.product.id or m.path.name for m in project.models]
        write_jsonld(out, [m.model for m in project.models], project.links, result, keys)
    except OpenpcfError as exc:
        _fail(exc)
        return
    err.print(f"wrote {len(project.models)} process(es) to {escape(str(out))}")


@import_app.command("pact")
def import_pact_command(
    file: Annotated[Path, typer.Argument(help="A PACT footprint file (v2 or v3 JSON).")],
    amount: Annotated[
        float | None, typer.Option(help="How much the reference amount uses (default 1).")
    ] = None,
    unit: Annotated[
        str | None, typer.Option(help="Unit of --amount (default: the footprint's unit).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Input name (default: product name).")] = None,
    stage: Annotated[str, typer.Option(help="Life-cycle stage.")] = "raw-materials",
    pf_id: Annotated[
        str | None, typer.Option("--id", help="The footprint to take from a file of several.")
    ] = None,
    into: Annotated[
        Path | None,
        typer.Option("--into", help="Append the input to this model file (atomically)."),
    ] = None,
) -> None:
    """Turn a supplier's PACT footprint into a `pcf:` input: print it as YAML to paste under
    `inputs:`, or append it to a model with --into."""
    if stage not in get_args(Stage):
        err.print(f"[bold red]error:[/] --stage must be one of {', '.join(get_args(Stage))}")
        raise typer.Exit(1)
    try:
        imported = input_from_pact(
            file, pf_id=pf_id, amount=amount, unit=unit, name=name, stage=stage
        )
        if into is not None:
            import_into(into, imported)
    except OpenpcfError as exc:
        _fail(exc)
        return
    if into is not None:
        err.print(f"appended input '{shown(imported.entry['name'])}' to {shown(into)}")
        return
    sys.stdout.write("inputs:\n" + input_yaml(imported.entry, imported.comments, indent=2))


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@pact_app.command("deliver")
def pact_deliver_command(
    scan: Annotated[
        bool,
        typer.Option(
            "--scan/--no-scan", help="First queue notices of new footprints (PublishedEvent)."
        ),
    ] = True,
) -> None:
    """Answer and send every PACT event that is due now (one try each), as the API server's
    worker does; for a server run with OPENPCF_PACT_WORKER=0, e.g. from cron."""
    from openpcf.services.exchange import delivery as pact_delivery
    from openpcf.store.db import sessions

    factory = sessions()
    queued = pact_delivery.enqueue_published(factory) if scan else 0
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True
    ) as bar:
        bar.add_task("delivering PACT events", total=None)
        outcome = pact_delivery.run_due(factory, limit=10_000)
    err.print(f"{queued} notice(s) queued; {outcome}")
    if outcome.failed or outcome.refused:
        raise typer.Exit(1)


@pact_app.command("deliveries")
def pact_deliveries_command(
    status: Annotated[
        str | None, typer.Option(help="Only these: pending, delivered, failed, refused.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest first, at most this many.")] = 50,
) -> None:
    """List outgoing PACT events with their tries and last error."""
    from sqlalchemy import select

    from openpcf.store.db import sessions
    from openpcf.store.models_pact import PactDelivery

    query = select(PactDelivery).order_by(PactDelivery.id.desc()).limit(limit)
    if status:
        query = query.where(PactDelivery.status == status)
    table = Table("event", "kind", "v", "status", "tries", "next try", "target", "last error")
    with sessions()() as s:
        for r in s.scalars(query):
            table.add_row(
                r.uuid, r.kind, r.version, r.status, str(r.attempts),
                f"{r.next_attempt_at:%Y-%m-%d %H:%M:%S}" if r.status == "pending" else "",
                shown(r.target_url), shown((r.last_error or "")[:80]),  # partner-given
            )  # fmt: skip
    out.print(table)
