"""The `openpcf` command line: one module per command group, assembled here.

Commands are thin: parse arguments, call a service, render, map errors to exit codes.
"""

from __future__ import annotations

from typing import Annotated

import typer

from openpcf import __version__
from openpcf.cli.calc import calc, cbam, check
from openpcf.cli.certification import certificate_app, ledger_app
from openpcf.cli.common import out
from openpcf.cli.db import db_app
from openpcf.cli.green_certificates import certificates_app
from openpcf.cli.monitor import monitor_app
from openpcf.cli.pact import export_app, import_app, pact_app
from openpcf.cli.platform import clients_app, serve, store_app, tenants_app, users_app
from openpcf.cli.recompute import recompute
from openpcf.cli.reference import factors_app, profiles_app, rules_app, schema_app
from openpcf.cli.report import label, report
from openpcf.cli.suppliers import suppliers_app
from openpcf.cli.template import template_app

app = typer.Typer(
    help="openpcf: product carbon footprints from product models and sourced factor data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for command in (calc, check, cbam):
    app.command()(command)
for name, group in (
    ("factors", factors_app), ("schema", schema_app), ("profiles", profiles_app),
    ("rules", rules_app), ("certificates", certificates_app), ("certificate", certificate_app),
    ("ledger", ledger_app), ("db", db_app), ("export", export_app), ("pact", pact_app),
    ("import", import_app), ("suppliers", suppliers_app), ("template", template_app),
    ("tenants", tenants_app), ("users", users_app), ("clients", clients_app),
    ("store", store_app), ("monitor", monitor_app),
):  # fmt: skip
    app.add_typer(group, name=name)
for command in (serve, recompute, report, label):
    app.command()(command)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"openpcf {__version__}")
        raise typer.Exit()


def main() -> None:
    app()
