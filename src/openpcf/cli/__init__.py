"""The `openpcf` command line: one module per command group, assembled here, lazily.

Commands are thin: parse arguments, call a service, render, map errors to exit codes.

Why lazily: the command modules import the services they call, and with them numpy, scipy,
SQLAlchemy, FastAPI, WeasyPrint, pint and olca-schema, 1.7 to 2 s of CPU before anything
happens. The root group knows each command's module and one line of help; a command's module is
imported only when that command runs (or its own help is asked for), so `openpcf --version`
imports Typer alone. `tests/test_cli_lazy.py` checks that each entry's help matches its module.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, MutableMapping
from importlib import import_module
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from openpcf import __version__

#: name -> (module under openpcf.cli, attribute, "command" or "group", short help)
# fmt: off
COMMANDS: dict[str, tuple[str, str, str, str]] = {
    'calc': ('calc', 'calc', 'command',
        "Compute a product model's carbon footprint per declared unit, with hotspots."),
    'check': ('calc', 'check', 'command',
        "List every breach of the model's product rule and of the profile; exit 1 if any."),
    'cbam': ('calc', 'cbam', 'command',
        'EU CBAM specific embedded emissions per tonne of good: direct, indirect, precursors.'),
    'factors': ('reference', 'factors_app', 'group',
        'Search and inspect emission factors.'),
    'schema': ('reference', 'schema_app', 'group',
        "Print JSON Schemas of openpcf's file formats."),
    'profiles': ('reference', 'profiles_app', 'group',
        'Methodology profiles (GB/T 24067, ISO 14067, PACT, CBAM...).'),
    'rules': ('reference', 'rules_app', 'group',
        'Product rules (cement, steel, batteries...).'),
    'certificates': ('green_certificates', 'certificates_app', 'group',
        'Green electricity certificate claims.'),
    'certificate': ('certification', 'certificate_app', 'group',
        "Signed PCF certificates: verify offline, verifiers' keys, export a certificate."),
    'ledger': ('certification', 'ledger_app', 'group',
        'The append-only ledger of certificates, revocations and green electricity.'),
    'db': ('db', 'db_app', 'group',
        'Background LCI databases: import openLCA JSON-LD (1.x, 2.x), ecospold2, ILCD or TIDAS; '
        'footprints of every process; factor sets; a China-regionalised version.'),
    'export': ('pact', 'export_app', 'group',
        'Export footprints and models (PACT, openLCA JSON-LD).'),
    'pact': ('pact', 'pact_app', 'group',
        "Outgoing PACT events: answers to partners' requests, update notices."),
    'import': ('pact', 'import_app', 'group',
        'Import supplier footprints (PACT).'),
    'suppliers': ('suppliers', 'suppliers_app', 'group',
        "Suppliers' footprints over PACT."),
    'template': ('template', 'template_app', 'group',
        'Write templates to fill in (Excel BOM).'),
    'tenants': ('platform', 'tenants_app', 'group',
        'Tenants (organisations) of the platform.'),
    'users': ('platform', 'users_app', 'group',
        'Users of a tenant and their personal tokens.'),
    'clients': ('platform', 'clients_app', 'group',
        'OAuth2 API clients of a tenant (client credentials).'),
    'store': ('platform', 'store_app', 'group',
        'The platform database (schema migrations).'),
    'monitor': ('monitor', 'monitor_app', 'group',
        'Plant monitoring: meters over MQTT, live emissions, allowances, primary data.'),
    'serve': ('platform', 'serve', 'command',
        'Run the REST API (docs at /docs, OpenAPI at /openapi.json) on the configured database.'),
    'recompute': ('recompute', 'recompute', 'command',
        'Recompute every stored footprint depending on a factor the new version changes; the new footprints are stored beside the old ones, which never change.'),
    'report': ('report', 'report', 'command',
        'Write the ISO 14067 / GB/T 24067 footprint study report of a result as PDF and/or HTML.'),
    'label': ('report', 'label', 'command',
        'Write the carbon label of a result: value per declared unit, grade, certificate and QR.'),
}
# fmt: on


def load(name: str) -> click.Command:
    """The click command of one entry of `COMMANDS`, importing its module."""
    module, attr, kind, _ = COMMANDS[name]
    obj: Any = getattr(import_module(f"openpcf.cli.{module}"), attr)
    if kind == "group":  # as add_typer(obj, name=name) would: a group even of one command
        command = typer.main.get_group_from_info(
            typer.models.TyperInfo(obj, name=name), pretty_exceptions_short=True,
            rich_markup_mode=app.rich_markup_mode, suggest_commands=True,
        )  # fmt: skip
    else:
        info = typer.models.CommandInfo(name=name, callback=obj)
        command = typer.main.get_command_from_info(
            info, pretty_exceptions_short=True, rich_markup_mode=app.rich_markup_mode
        )
    command.name = name
    return command


class _Commands(MutableMapping[str, click.Command]):
    """A group's commands: those of `COMMANDS` are imported when first looked up. Anything
    that walks the tree (`items()`, the docs' reference) loads them all; running one command
    loads that one."""

    def __init__(self, loaded: MutableMapping[str, click.Command]) -> None:
        self._loaded = dict(loaded)

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            self._loaded[name] = load(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*self._loaded, *(n for n in COMMANDS if n not in self._loaded)])

    def __len__(self) -> int:
        return len(self._loaded.keys() | COMMANDS.keys())

    def is_loaded(self, name: str) -> bool:
        return name in self._loaded


class LazyGroup(TyperGroup):
    """A Typer group whose commands are imported when first looked up to run them.

    Listing the commands for the root help does not import them: there each is a stand-in with
    its one line of help from `COMMANDS`.
    """

    _listing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands(self.commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # names only (TyperGroup's would load every command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        commands = self.commands
        assert isinstance(commands, _Commands)
        if self._listing and cmd_name in COMMANDS and not commands.is_loaded(cmd_name):
            short = COMMANDS[cmd_name][3]
            return click.Command(cmd_name, help=short, short_help=short)
        return commands.get(cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            _exit_if_refused_by_database(exc)
            raise


def _exit_if_refused_by_database(exc: Exception) -> None:
    """A change a database trigger refused (the services refuse it first, so no command should
    get there): one `error:` line and exit 1, not a traceback. Anything else is left to raise."""
    if "sqlalchemy" not in sys.modules:  # no database was used: nothing to load for the check
        return
    from openpcf.cli.common import err, shown
    from openpcf.store.refusal import refused_change

    reason = refused_change(exc)
    if reason is not None:
        err.print(f"[bold red]error:[/] the database refuses the change: {shown(reason)}",
                  soft_wrap=True)  # fmt: skip
        raise typer.Exit(1) from None


app = typer.Typer(
    help="openpcf: product carbon footprints from product models and sourced factor data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyGroup,
)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        print(f"openpcf {__version__}")
        raise typer.Exit()


def main() -> None:
    app()
