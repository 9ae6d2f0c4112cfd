"""What every command module of the CLI shares: the consoles, the error exit, common options."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from openpcf.domain.errors import OpenpcfError

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

# Piped output (CI logs, files) is not a terminal; give tables room instead of rich's 80 columns.
out = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 132)
err = Console(stderr=True, highlight=False, emoji=False)

FactorFiles = Annotated[
    list[Path] | None,
    typer.Option("--factors", help="A user factor file (CSV or YAML); repeat for several."),
]


def fail(exc: OpenpcfError) -> None:
    """Print the error on stderr and exit 1."""
    err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
    raise typer.Exit(1)


class Gwp(StrEnum):
    AR5 = "AR5"
    AR6 = "AR6"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]


def platform_sessions() -> sessionmaker:
    """The platform database's sessions, imported late: a command that needs no database (and
    `--help`) starts without loading the store."""
    from openpcf.store.db import sessions

    return sessions()


def num(x: float) -> str:
    """A number as tables print it: six significant digits, whole numbers from a million."""
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"
