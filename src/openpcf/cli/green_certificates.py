"""`certificates`: green electricity certificates the tenant has claimed."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from openpcf import config
from openpcf.cli.common import OutputFormat, out
from openpcf.services.certification.green_certificates import list_claims
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
