"""`certificates`: green electricity certificates claimed, the registry's issuance records and
the national view of claims."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openpcf import config
from openpcf.cli.common import OutputFormat, fail, out
from openpcf.domain.errors import OpenpcfError
from openpcf.io.gec_issuance_csv import COLUMNS
from openpcf.services.certification.gec_issuance import claim_summary, import_issuances
from openpcf.services.certification.green_certificates import list_claims
from openpcf.services.errors import InvalidRequest
from openpcf.services.platform import accounts
from openpcf.store.db import sessions

certificates_app = typer.Typer(help="Green electricity certificate claims.", no_args_is_help=True)


@certificates_app.command("list")
def certificates_list(
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """Certificates claimed by the tenant (OPENPCF_TENANT, default 'local'), one row each."""
    with sessions()() as session:
        rows = list_claims(session, config.tenant())
    if format is OutputFormat.json:
        data = [{"certificate_id": r.certificate_id, "product": r.product, "kwh": r.kwh,
                 "generation": r.generation, "claimed_at": r.claimed_at.isoformat(),
                 "claimed_by": r.claimed_by} for r in rows]  # fmt: skip
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    table = Table(title=f"Certificates claimed by tenant {config.tenant()}", title_justify="left")
    for col in ("certificate", "kWh", "generation", "product", "claimed"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.certificate_id, f"{r.kwh:,.0f}", r.generation, r.product,
                      f"{r.claimed_at:%Y-%m-%d %H:%M} by {r.claimed_by}")  # fmt: skip
    out.print(table)


@certificates_app.command("import-issuances")
def certificates_import_issuances(
    file: Annotated[Path, typer.Argument(help="CSV: " + ",".join(COLUMNS))],
) -> None:
    """Import the registry's issued certificates (as the operator); all rows or none. From then
    on only issued certificates can be claimed, each once on the platform."""
    try:
        text = file.read_text("utf-8-sig")
        done = import_issuances(sessions()(), accounts.operator(), text, str(file))
    except OSError as exc:
        fail(InvalidRequest(f"{file}: {exc.strerror}"))
        return
    except OpenpcfError as exc:
        fail(exc)
        return
    out.print(f"{done.added} certificate(s) added, {done.unchanged} already recorded "
              f"(ledger entry {done.ledger_seq})")  # fmt: skip


@certificates_app.command("summary")
def certificates_summary(
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """Claims across the platform by province and generation type (as the operator)."""
    try:
        summary = claim_summary(sessions()(), accounts.operator())
    except OpenpcfError as exc:
        fail(exc)
        return
    if format is OutputFormat.json:
        sys.stdout.write(summary.model_dump_json(indent=2) + "\n")
        return
    table = Table(title="Green certificate claims by province and generation",
                  title_justify="left")  # fmt: skip
    for col in ("province", "generation", "claims", "claimed kWh", "issued kWh"):
        table.add_column(col)
    for g in summary.groups:
        table.add_row(g.province, g.generation, str(g.claims), f"{g.kwh:,.0f}",
                      f"{g.issued_kwh:,.0f}")  # fmt: skip
    out.print(table)
    out.print(f"{summary.issued_certificates} certificate(s) issued ({summary.issued_kwh:,.0f} "
              f"kWh); {summary.claimed_certificates} claimed")  # fmt: skip
