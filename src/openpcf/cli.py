"""The `openpcf` command line. Thin: parse arguments, call a service, render, map errors to exit codes."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from openpcf import __version__
from openpcf.domain.errors import OpenpcfError
from openpcf.domain.factor import Factor
from openpcf.domain.model import ProductModel
from openpcf.domain.result import Result
from openpcf.factors.bundled import bundled_set
from openpcf.factors.catalogue import Catalogue
from openpcf.io.factor_file import load_factor_file
from openpcf.services.calculate import calculate
from openpcf.services.project import load_project

app = typer.Typer(
    help="openpcf: product carbon footprints from product models and sourced factor data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
factors_app = typer.Typer(help="Search and inspect emission factors.", no_args_is_help=True)
schema_app = typer.Typer(help="Print JSON Schemas of openpcf's file formats.", no_args_is_help=True)
app.add_typer(factors_app, name="factors")
app.add_typer(schema_app, name="schema")

# Piped output (CI logs, files) is not a terminal; give tables room instead of rich's 80 columns.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 132)
err = Console(stderr=True, highlight=False)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class Gwp(StrEnum):
    AR5 = "AR5"
    AR6 = "AR6"


FactorFiles = Annotated[
    list[Path] | None,
    typer.Option("--factors", help="A user factor file (CSV or YAML); repeat for several."),
]


def _fail(exc: OpenpcfError) -> None:
    err.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
    raise typer.Exit(1)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"openpcf {__version__}")
        raise typer.Exit()


@app.command()
def calc(
    model: Annotated[Path, typer.Argument(help="Product model file (.yaml, .yml or .json).")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = (
        OutputFormat.table
    ),
    gwp: Annotated[Gwp | None, typer.Option(help="GWP100 set; overrides the profile's.")] = None,
    factors: FactorFiles = None,
) -> None:
    """Compute a product model's carbon footprint per declared unit, with hotspots."""
    try:
        project = load_project(model, factors or [])
        result = calculate(project, gwp=gwp.value if gwp else None)
    except OpenpcfError as exc:
        _fail(exc)
        return
    if format is OutputFormat.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        _render_result(result)


def _render_result(r: Result) -> None:
    du = r.declared_unit
    out.print(f"[bold]{r.product}[/]")
    out.print(
        f"PCF [bold green]{_num(r.pcf.value)} kg CO2e[/] per {du.amount:g} {du.unit}"
        f"   profile {r.profile} · {r.gwp} GWP100 · factor set {r.factor_set}"
    )
    table = Table(title="Contributions (hotspots)", title_justify="left", expand=False)
    table.add_column("input")
    table.add_column("stage")
    table.add_column("kg CO2e", justify="right")
    table.add_column("share", justify="right")
    table.add_column("", min_width=22)
    table.add_column("source", overflow="fold", max_width=38)
    biggest = max((abs(c.kg_co2e) for c in r.contributions), default=0.0) or 1.0
    for c in sorted(r.contributions, key=lambda c: -abs(c.kg_co2e)):
        share = c.kg_co2e / r.pcf.value if r.pcf.value else 0.0
        bar = "█" * round(20 * abs(c.kg_co2e) / biggest)
        colour = "red" if c.kg_co2e >= 0 else "green"
        flag = " ⚑" if c.flags else ""
        table.add_row(
            c.name + flag, c.stage, _num(c.kg_co2e), f"{share:.1%}", f"[{colour}]{bar}[/]", c.source
        )
    out.print(table)
    stages = Table(title="By stage", title_justify="left")
    stages.add_column("stage")
    stages.add_column("kg CO2e", justify="right")
    for stage, v in r.stages.items():
        stages.add_row(stage, _num(v))
    gases = Table(title="By gas", title_justify="left")
    gases.add_column("gas")
    gases.add_column("kg CO2e", justify="right")
    for gas, v in r.gases.items():
        gases.add_row(gas, _num(v))
    out.print(stages)
    out.print(gases)
    if r.warnings:
        out.print("[bold yellow]Notes[/]")
        for w in r.warnings:
            who = f"{w.input}: " if w.input else ""
            out.print(f"  [yellow]{w.code}[/] {who}{w.message}", soft_wrap=True)


def _num(x: float) -> str:
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"


@schema_app.command("product-model")
def schema_product_model() -> None:
    """JSON Schema of product model format 1."""
    schema = ProductModel.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "openpcf product model, format 1"
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")


@schema_app.command("factor")
def schema_factor() -> None:
    """JSON Schema of one factor (inline `factors:` entries and YAML factor files)."""
    sys.stdout.write(json.dumps(Factor.model_json_schema(), indent=2) + "\n")


@schema_app.command("result")
def schema_result() -> None:
    """JSON Schema of `openpcf calc --format json` output."""
    sys.stdout.write(json.dumps(Result.model_json_schema(), indent=2) + "\n")


def _catalogue(files: list[Path] | None) -> Catalogue:
    sets, where = [bundled_set()], {}
    for f in files or []:
        fs, locations = load_factor_file(f)
        sets.append(fs)
        where.update(locations)
    return Catalogue.of(sets, where)


def _factor_table(found: list[Factor]) -> Table:
    table = Table(show_lines=False)
    table.add_column("id", no_wrap=True)
    table.add_column("value per unit", justify="right")
    table.add_column("region")
    table.add_column("year")
    table.add_column("name", overflow="fold")
    for f in found:
        table.add_row(
            f.id + (" ⚑" if f.flags else ""), _value(f), f.region or "", str(f.year or ""), f.name
        )
    return table


def _value(f: Factor) -> str:
    if f.co2e is not None:
        return f"{f.co2e:g} kg CO2e/{f.unit}"
    return ", ".join(f"{v:g} {g}" for g, v in (f.gases or {}).items()) + f" kg/{f.unit}"


@factors_app.command("search")
def factors_search(
    text: Annotated[str, typer.Argument(help="Words that must all appear (id, name, region...).")],
    factors: FactorFiles = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """Find factors by words in their id, name, region, kind or note."""
    try:
        found = _catalogue(factors).search(text)
    except OpenpcfError as exc:
        _fail(exc)
        return
    _print_factors(found, format, f"no factor matches '{text}'")


@factors_app.command("list")
def factors_list(
    region: Annotated[str | None, typer.Option(help="ISO 3166 code, e.g. CN or CN-JS.")] = None,
    factors: FactorFiles = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """List factors, all or those of one region."""
    try:
        catalogue = _catalogue(factors)
    except OpenpcfError as exc:
        _fail(exc)
        return
    found = (
        catalogue.in_region(region)
        if region
        else sorted(catalogue.by_id.values(), key=lambda f: f.id)
    )
    _print_factors(found, format, f"no factor for region '{region}'")


def _print_factors(found: list[Factor], format: OutputFormat, empty: str) -> None:
    if format is OutputFormat.json:
        sys.stdout.write(
            json.dumps(
                [f.model_dump(exclude_none=True) for f in found], ensure_ascii=False, indent=2
            )
            + "\n"
        )
        return
    if not found:
        err.print(empty)
        raise typer.Exit(1)
    out.print(_factor_table(found))
    out.print(f"{len(found)} factor(s); ⚑ = flagged VERIFY/UNVERIFIED in its source data")


@factors_app.command("show")
def factors_show(
    factor_id: Annotated[str, typer.Argument(metavar="ID", help="A factor id.")],
    factors: FactorFiles = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """Everything known about one factor: values, source, publisher, year, region, flags."""
    try:
        catalogue = _catalogue(factors)
        f = catalogue.get(factor_id)
    except OpenpcfError as exc:
        _fail(exc)
        return
    if format is OutputFormat.json:
        sys.stdout.write(f.model_dump_json(indent=2, exclude_none=True) + "\n")
        return
    table = Table(show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("set", catalogue.set_of[f.id])
    for key, value in f.model_dump(exclude_none=True).items():
        if key == "gases":
            value = ", ".join(f"{g}: {v:g} kg/{f.unit}" for g, v in value.items())
        elif isinstance(value, list | tuple):
            value = ", ".join(map(str, value)) or "—"
        table.add_row(key, str(value))
    out.print(table)


def main() -> None:
    app()
