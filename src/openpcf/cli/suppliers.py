"""`openpcf suppliers request`: fetch a supplier's PACT footprints of a product from its host
system, keep them as a supplier request of the tenant, and print a `pcf:` input. Registered in
cli.py with one `app.add_typer(...)`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from openpcf import config
from openpcf.cli.common import err
from openpcf.domain.errors import OpenpcfError
from openpcf.io.model_edit import input_yaml
from openpcf.services.exchange.client import (
    fetch_footprints,
    imported_input,
    record,
    tenant_principal,
)
from openpcf.services.platform.accounts import operator
from openpcf.store.db import sessions

suppliers_app = typer.Typer(help="Suppliers' footprints over PACT.", no_args_is_help=True)


@suppliers_app.command("request")
def request_command(
    host: Annotated[str, typer.Argument(help="The supplier's PACT host (https://... or name).")],
    product_id: Annotated[str, typer.Argument(help="The product's id (URN) at the supplier.")],
    client_id: Annotated[str, typer.Option(help="Your client id at the supplier's host.")],
    client_secret: Annotated[
        str, typer.Option(help="Your client secret.", envvar="OPENPCF_PACT_CLIENT_SECRET")
    ],
    pf_id: Annotated[
        str | None, typer.Option("--id", help="The footprint to print when several arrive.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per HTTP request.")] = 10.0,
    retries: Annotated[int, typer.Option(min=0, help="Retries on errors and 5xx.")] = 3,
    store: Annotated[
        bool, typer.Option(help="Keep what arrives as a supplier request of OPENPCF_TENANT.")
    ] = True,
) -> None:
    """Get the supplier's footprints of PRODUCT-ID (PACT v3 ListFootprints with a token from
    HOST/auth/token), validate them, store them with their provenance, and print a `pcf:`
    input to paste under `inputs:`."""
    try:
        fetched = fetch_footprints(
            host, product_id, client_id, client_secret, timeout=timeout, retries=retries
        )
        if store:
            factory = sessions()
            who = tenant_principal(factory(), config.tenant(), operator().subject)
            saved = record(factory, who, fetched)
            err.print(
                f"supplier request {saved.id} ({saved.status.value}): "
                f"{len(fetched.footprints)} footprint(s) from {escape(fetched.host)}"
            )
        if not fetched.footprints:
            err.print(f"[bold red]error:[/] {escape(fetched.host)} has no footprint of "
                      f"{escape(product_id)}")  # fmt: skip
            raise typer.Exit(1)
        imported = imported_input(fetched, pf_id)
    except OpenpcfError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    sys.stdout.write("inputs:\n" + input_yaml(imported.entry, imported.comments, indent=2))
