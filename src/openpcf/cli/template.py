"""`openpcf template ...`: write templates a user fills in (the Excel bill of materials)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from openpcf.cli.common import err

template_app = typer.Typer(help="Write templates to fill in (Excel BOM).", no_args_is_help=True)

_out = Console(highlight=False, emoji=False)


@template_app.command("excel")
def excel(
    out: Annotated[Path, typer.Argument(metavar="OUT.xlsx", help="The workbook to write.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the Excel BOM template: Product, Inputs, Emissions, Coproducts, Factors, ... sheets.

    Fill it in and compute it with `openpcf calc OUT.xlsx`; errors name the sheet and cell.
    """
    if out.suffix.lower() != ".xlsx":
        _fail(f"{out}: the template is an Excel workbook; name it ending in .xlsx")
    if out.exists() and not force:
        _fail(f"{out} exists; pass --force to overwrite it")
    from openpcf.io.excel_template import write_template  # openpyxl only for this command

    try:
        write_template(out)
    except OSError as exc:
        _fail(f"{out}: cannot write the workbook: {exc.strerror or exc}")
    _out.print(f"wrote {escape(str(out))}: fill in the sheets Product and Inputs (and the others "
               f"as needed), then run `openpcf calc {escape(str(out))}`", soft_wrap=True)  # fmt: skip


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(1)
