"""Reference data: `schema`, `factors`, `profiles` and `rules` print what openpcf ships and reads."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import BaseModel
from rich.table import Table

from openpcf.cli.common import FactorFiles, OutputFormat, err, out
from openpcf.cli.common import fail as _fail
from openpcf.domain.errors import OpenpcfError
from openpcf.domain.factor import Factor
from openpcf.domain.model import ProductModel
from openpcf.domain.result import Result
from openpcf.factors.bundled import bundled_set
from openpcf.factors.catalogue import Catalogue
from openpcf.io.factor_file import load_factor_file
from openpcf.rules.catalogue import product_rule, product_rules, profile, profiles

factors_app = typer.Typer(help="Search and inspect emission factors.", no_args_is_help=True)
schema_app = typer.Typer(help="Print JSON Schemas of openpcf's file formats.", no_args_is_help=True)
profiles_app = typer.Typer(help="Methodology profiles (GB/T 24067, ISO 14067, PACT, CBAM...).",
                           no_args_is_help=True)  # fmt: skip
rules_app = typer.Typer(help="Product rules (cement, steel, batteries...).", no_args_is_help=True)


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


@profiles_app.command("list")
def profiles_list() -> None:
    """The methodology profiles openpcf ships."""
    table = Table()
    for col in ("id", "GWP", "grid electricity", "evidence accepted", "biogenic in total", "name"):
        table.add_column(col)
    for p in profiles().values():
        table.add_row(p.id, p.gwp, p.electricity.grid_basis, ", ".join(p.electricity.accepts),
                      "yes" if p.biogenic.in_total else "no", p.name)  # fmt: skip
    out.print(table)


@profiles_app.command("show")
def profiles_show(profile_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """One profile with every setting and its sources (YAML)."""
    _show_yaml(profile, profile_id)


@rules_app.command("list")
def rules_list() -> None:
    """The product rules openpcf ships."""
    table = Table()
    for col in ("id", "name", "declared unit", "boundary", "CBAM CN codes"):
        table.add_column(col, overflow="fold")
    for r in product_rules().values():
        codes = ", ".join(r.cbam.cn_codes) if r.cbam else ""
        table.add_row(r.id, f"{r.name} {r.name_zh or ''}".strip(),
                      f"{r.declared_unit.amount:g} {r.declared_unit.unit}", r.boundary, codes)  # fmt: skip
    out.print(table)


@rules_app.command("show")
def rules_show(rule_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """One product rule with every requirement and its sources (YAML)."""
    _show_yaml(product_rule, rule_id)


def _show_yaml(get: Callable[[str], BaseModel], item_id: str) -> None:
    """The item `get` finds by id, as YAML on stdout (or the error, exit 1)."""
    try:
        item = get(item_id)
    except OpenpcfError as exc:
        _fail(exc)
        return
    sys.stdout.write(
        yaml.safe_dump(item.model_dump(mode="json"), allow_unicode=True, sort_keys=False)
    )
