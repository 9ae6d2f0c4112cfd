"""The `openpcf` command line. Thin: parse arguments, call a service, render, map errors to exit codes."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from openpcf import __version__, config
from openpcf.cli_certification import certificate_app, ledger_app
from openpcf.cli_common import FactorFiles, err, out
from openpcf.cli_common import fail as _fail
from openpcf.cli_db import db_app
from openpcf.cli_monitor import monitor_app
from openpcf.cli_pact import export_app, import_app, pact_app
from openpcf.cli_platform import clients_app, serve, store_app, tenants_app, users_app
from openpcf.cli_recompute import recompute
from openpcf.cli_report import label, report
from openpcf.cli_suppliers import suppliers_app
from openpcf.cli_template import template_app
from openpcf.domain.cbam import CbamDeclaration
from openpcf.domain.errors import CalculationError, OpenpcfError
from openpcf.domain.factor import Factor
from openpcf.domain.model import ProductModel
from openpcf.domain.result import Result, UncertaintyResult, Violation
from openpcf.factors.bundled import bundled_set
from openpcf.factors.catalogue import Catalogue
from openpcf.io.factor_file import load_factor_file
from openpcf.rules.catalogue import product_rule, product_rules, profile, profiles
from openpcf.services.calculate import DEFAULT_PROFILE, accounting_for, calculate
from openpcf.services.cbam import embedded_emissions
from openpcf.services.certificates import list_claims, record_claims
from openpcf.services.check import check as check_model
from openpcf.services.compare import Comparison, compare
from openpcf.services.project import Project, load_project
from openpcf.services.uncertainty import monte_carlo
from openpcf.store.db import sessions

app = typer.Typer(
    help="openpcf: product carbon footprints from product models and sourced factor data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
factors_app = typer.Typer(help="Search and inspect emission factors.", no_args_is_help=True)
schema_app = typer.Typer(help="Print JSON Schemas of openpcf's file formats.", no_args_is_help=True)
profiles_app = typer.Typer(help="Methodology profiles (GB/T 24067, ISO 14067, PACT, CBAM...).",
                           no_args_is_help=True)  # fmt: skip
rules_app = typer.Typer(help="Product rules (cement, steel, batteries...).", no_args_is_help=True)
app.add_typer(factors_app, name="factors")
app.add_typer(schema_app, name="schema")
app.add_typer(profiles_app, name="profiles")
app.add_typer(rules_app, name="rules")
certificates_app = typer.Typer(help="Green electricity certificate claims.", no_args_is_help=True)
app.add_typer(certificates_app, name="certificates")
app.add_typer(certificate_app, name="certificate")
app.add_typer(ledger_app, name="ledger")
app.add_typer(db_app, name="db")
app.add_typer(export_app, name="export")
app.add_typer(pact_app, name="pact")
app.add_typer(import_app, name="import")
app.add_typer(suppliers_app, name="suppliers")
app.add_typer(template_app, name="template")
app.add_typer(tenants_app, name="tenants")
app.add_typer(users_app, name="users")
app.add_typer(clients_app, name="clients")
app.add_typer(store_app, name="store")
app.add_typer(monitor_app, name="monitor")
app.command()(serve)
app.command()(recompute)
app.command()(report)
app.command()(label)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class Gwp(StrEnum):
    AR5 = "AR5"
    AR6 = "AR6"


ProfileOption = Annotated[
    str, typer.Option("--profile", "-p", help="Methodology profile (`openpcf profiles list`).")
]


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"openpcf {__version__}")
        raise typer.Exit()


@app.command()
def calc(
    model: Annotated[
        Path, typer.Argument(help="Product model file (.yaml, .yml, .json or .xlsx).")
    ],
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = (
        OutputFormat.table
    ),
    gwp: Annotated[Gwp | None, typer.Option(help="GWP100 set; overrides the profile's.")] = None,
    factors: FactorFiles = None,
    profile_id: ProfileOption = DEFAULT_PROFILE,
    compare_with: Annotated[
        str | None,
        typer.Option("--compare", help="Comma-separated profiles to compute side by side."),
    ] = None,
    allow_violations: Annotated[
        bool, typer.Option("--allow-violations", help="Compute even if the model breaks its rule.")
    ] = False,
    uncertainty: Annotated[
        int | None,
        typer.Option(
            "--uncertainty",
            min=2,
            metavar="N",
            help="Monte Carlo iterations: mean, median, 95% interval, contributions to variance.",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Seed of the Monte Carlo draws.")
    ] = None,
) -> None:
    """Compute a product model's carbon footprint per declared unit, with hotspots.

    A model that breaks its product rule is refused unless --allow-violations; the result then
    lists the violations. Profile breaches are always listed in the result.
    """
    try:
        project = load_project(model, factors or [])
        result = calculate(project, gwp=gwp.value if gwp else None, profile=profile_id)
        violations = check_model(project, profile_id, result)
        # An unknown rule cannot be broken: the model is computed under the general rule and the
        # violation is listed in the result.
        rule_breaches = [v for v in violations if v.rule != profile_id and v.code != "UNKNOWN_RULE"]
        if rule_breaches and not allow_violations:
            _print_violations(rule_breaches, err)
            err.print("[bold red]error:[/] the model breaks its product rule; fix it, or run "
                      "with --allow-violations to compute a result marked as such")  # fmt: skip
            raise typer.Exit(1)
        result = result.model_copy(update={"violations": tuple(violations)})
        if "certificates" in profile(profile_id).electricity.accepts:
            record_claims(sessions(), config.tenant(), project)
        if uncertainty is not None:
            if compare_with:
                raise CalculationError("--uncertainty does not combine with --compare")
            stats = _monte_carlo(project, profile_id, gwp, uncertainty, seed, result.pcf.value)
            result = result.model_copy(update={"uncertainty": stats})
        comparison = None
        if compare_with:
            others = [p.strip() for p in compare_with.split(",") if p.strip()]
            comparison = compare(project, profile_id, others, gwp.value if gwp else None)
    except OpenpcfError as exc:
        _fail(exc)
        return
    if comparison is not None:
        if format is OutputFormat.json:
            sys.stdout.write(json.dumps(_comparison_json(comparison), indent=2) + "\n")
        else:
            _render_comparison(comparison)
        return
    if format is OutputFormat.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        _render_result(result)


def _monte_carlo(
    project: Project, profile_id: str, gwp: Gwp | None, n: int, seed: int | None, pcf: float
) -> UncertaintyResult:
    acc = accounting_for(profile_id, gwp.value if gwp else None)
    with Progress(TextColumn("Monte Carlo"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err, transient=True,
                  disable=n < 1000 or not err.is_terminal) as bar:  # fmt: skip
        task = bar.add_task("", total=n)
        return monte_carlo(project, acc, n, seed, deterministic=pcf,
                           progress=lambda done, total: bar.update(task, completed=done,
                                                                   total=total))  # fmt: skip


@app.command()
def check(
    model: Annotated[Path, typer.Argument(help="Product model file.")],
    profile_id: ProfileOption = DEFAULT_PROFILE,
    factors: FactorFiles = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """List every breach of the model's product rule and of the profile; exit 1 if any."""
    try:
        violations = check_model(load_project(model, factors or []), profile_id)
    except OpenpcfError as exc:
        _fail(exc)
        return
    if format is OutputFormat.json:
        sys.stdout.write(json.dumps([v.model_dump() for v in violations], indent=2) + "\n")
    elif violations:
        _print_violations(violations, out)
    else:
        out.print(f"[green]no violations[/] of the product rule or profile {profile_id}")
    if violations:
        raise typer.Exit(1)


def _print_violations(violations: list[Violation], console: Console) -> None:
    for v in violations:
        where = f"{v.file}:{v.line}" if v.file and v.line else (v.file or "")
        console.print(f"[red]{v.code}[/] \\[{escape(v.rule)}] {escape(where)}: {escape(v.message)}"
                      f"\n    fix: {escape(v.fix)}",
                      soft_wrap=True, markup=True, highlight=False)  # fmt: skip


def _comparison_json(c: Comparison) -> dict:
    return {
        "results": [r.model_dump() for r in c.results],
        "reconciliations": [
            {
                "base": r.base, "other": r.other, "base_total": r.base_total,
                "other_total": r.other_total, "gap": r.gap,
                "steps": [{"rule": s.rule, "kg_co2e": s.kg_co2e, "detail": s.detail}
                          for s in r.steps],
            }
            for r in c.reconciliations
        ],
    }  # fmt: skip


def _render_comparison(c: Comparison) -> None:
    first = c.results[0]
    du = first.declared_unit
    out.print(f"[bold]{first.product}[/] — kg CO2e per {du.amount:g} {du.unit}")
    table = Table(title="Side by side", title_justify="left")
    table.add_column("")
    for r in c.results:
        table.add_column(f"{r.profile}\n({r.gwp})", justify="right")
    table.add_row("[bold]PCF[/]", *(f"[bold]{_num(r.pcf.value)}[/]" for r in c.results))
    stages = [s for s in ("raw-materials", "production", "distribution", "use", "end-of-life")
              if any(s in r.stages for r in c.results)]  # fmt: skip
    for stage in stages:
        table.add_row(stage, *(_num(r.stages[stage]) if stage in r.stages else "—"
                               for r in c.results))  # fmt: skip
    table.add_row("biogenic (origin)", *(_num(r.origins.get("biogenic", 0.0)) for r in c.results))
    table.add_row("left out by profile",
                  *(_num(sum(r.excluded.values())) for r in c.results))  # fmt: skip
    out.print(table)
    for rec in c.reconciliations:
        t = Table(title=f"Reconciliation {rec.base} → {rec.other}", title_justify="left")
        t.add_column("rule")
        t.add_column("kg CO2e", justify="right")
        t.add_column("change")
        t.add_row(rec.base, _num(rec.base_total), "")
        for step in rec.steps:
            t.add_row(step.rule, f"{step.kg_co2e:+,.6g}", escape(step.detail))
        t.add_row(f"[bold]{rec.other}[/]", f"[bold]{_num(rec.other_total)}[/]",
                  f"gap {rec.gap:+,.6g} = sum of the steps")  # fmt: skip
        out.print(t)


def _render_result(r: Result) -> None:
    du = r.declared_unit
    out.print(f"[bold]{escape(r.product)}[/]")
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
            escape(c.name) + flag, c.stage, _num(c.kg_co2e), f"{share:.1%}",
            f"[{colour}]{bar}[/]", escape(c.source),
        )  # fmt: skip
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
    if r.excluded:
        left = ", ".join(f"{k} {_num(v)}" for k, v in r.excluded.items())
        out.print(f"Left out of the total by {r.profile}: {left} kg CO2e")
    out.print(f"Allocation: {r.allocation} · primary data {r.primary_data_share:.0f}%"
              + (f" · data quality {r.data_quality.rating:.2f} (1 best, 5 worst)"
                 if r.data_quality else ""))  # fmt: skip
    if r.uncertainty is not None:
        _render_uncertainty(r.uncertainty)
    if r.violations:
        out.print("[bold red]Violations[/] (computed with --allow-violations or of the profile)")
        _print_violations(list(r.violations), out)
    if r.warnings:
        out.print("[bold yellow]Notes[/]")
        for w in r.warnings:
            who = f"{w.input}: " if w.input else ""
            out.print(f"  [yellow]{w.code}[/] {escape(who + w.message)}", soft_wrap=True)


def _render_uncertainty(u: UncertaintyResult) -> None:
    out.print(
        f"Uncertainty (Monte Carlo, {u.iterations:,} iterations, seed {u.seed}): mean "
        f"[bold]{_num(u.mean)}[/] · median {_num(u.median)} · 95% interval "
        f"{_num(u.percentile_2_5)} … {_num(u.percentile_97_5)} {u.unit} · sd {_num(u.sd)} "
        f"(standard error of the mean {_num(u.standard_error)})"
    )
    shown = [c for c in u.contributions if c.share > 0]
    if shown:
        t = Table(title="Contribution to variance (squared rank correlation, normalised)",
                  title_justify="left")  # fmt: skip
        t.add_column("input")
        t.add_column("stage")
        t.add_column("share", justify="right")
        t.add_column("rank corr.", justify="right")
        t.add_column("", min_width=22)
        for c in shown:
            t.add_row(escape(c.name), c.stage, f"{c.share:.1%}", f"{c.rank_correlation:+.2f}",
                      "█" * round(20 * c.share))  # fmt: skip
        out.print(t)
    for s in u.sampled:
        out.print(f"  sampled: {escape(s)}", soft_wrap=True)


def _num(x: float) -> str:
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"


@app.command()
def cbam(
    model: Annotated[Path, typer.Argument(help="Product model of a CBAM good (.yaml/.json).")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = (
        OutputFormat.table
    ),
    factors: FactorFiles = None,
) -> None:
    """EU CBAM specific embedded emissions per tonne of good: direct, indirect, precursors.

    The model must name a product rule of a CBAM good (cement, clinker, crude-steel, ...).
    Regulation (EU) 2023/956 Annex IV and Implementing Regulation (EU) 2023/1773 Annex III.
    """
    try:
        declaration = embedded_emissions(load_project(model, factors or []))
    except OpenpcfError as exc:
        _fail(exc)
        return
    if format is OutputFormat.json:
        sys.stdout.write(declaration.model_dump_json(indent=2) + "\n")
    else:
        _render_cbam(declaration)


def _render_cbam(d: CbamDeclaration) -> None:
    out.print(f"[bold]{escape(d.product)}[/]   rule {escape(d.rule)} · CBAM sector {d.sector}"
              f" · CN {escape(', '.join(d.cn_codes))}")  # fmt: skip
    out.print(
        f"SEE [bold green]{_num(d.see_total)}[/] t CO2e per t of good (direct "
        f"{_num(d.see_direct)} + indirect {_num(d.see_indirect)})   {d.gwp} GWP100 · gases "
        f"{', '.join(d.gases)} · activity level {_num(d.activity_level_t)} t · allocation "
        f"{escape(d.allocation)} (share {d.allocation_share:.4g})"
    )
    table = Table(title="Embedded emissions, t CO2e per t of good", title_justify="left")
    for col in ("", "line", "data"):
        table.add_column(col)
    table.add_column("direct", justify="right")
    table.add_column("indirect", justify="right")
    table.add_column("source", overflow="fold")
    for e in d.direct:
        left = ", ".join(f"{g} {_num(v)}" for g, v in e.not_counted.items())
        source = e.source + (f" (not counted: {left})" if left else "")
        table.add_row("direct", escape(e.name) + (" ⚑" if e.flags else ""), "actual",
                      _num(e.t_co2e), "", escape(source))  # fmt: skip
    for e in d.indirect:
        mwh = f"{_num(e.electricity_mwh)} MWh/t × " if e.electricity_mwh is not None else ""
        table.add_row("indirect", escape(e.name) + (" ⚑" if e.flags else ""), "actual", "",
                      _num(e.t_co2e), escape(mwh + e.source))  # fmt: skip
    for p in d.precursors:
        what = f"{escape(p.name)}{' ⚑' if p.flags else ''}\n{_num(p.mass_t)} t/t"
        if p.cn_code:
            what += f" · CN {escape(p.cn_code)}"
        see = f"SEE {_num(p.see_direct)} + {_num(p.see_indirect)} t/t; "
        mark = "[bold yellow]default[/]" if p.data == "default" else "actual"
        table.add_row("precursor", what, mark, _num(p.direct), _num(p.indirect),
                      escape(see + p.source))  # fmt: skip
    table.add_row("[bold]SEE[/]", "", "", f"[bold]{_num(d.see_direct)}[/]",
                  f"[bold]{_num(d.see_indirect)}[/]", f"total {_num(d.see_total)}")  # fmt: skip
    out.print(table)
    counted = "direct and indirect" if d.indirect_in_definitive else "direct only"
    out.print(f"Definitive period (from 2026): {counted} count → [bold]{_num(d.see_definitive)}[/]"
              " t CO2e per t of good")  # fmt: skip
    if d.default_share:
        out.print(f"Default values: {d.default_share:.1%} of the SEE (mark them as such in the "
                  "CBAM report)")  # fmt: skip
    if d.excluded:
        ex = Table(title=f"Outside CBAM's boundary (kg CO2e per t of good, normal PCF under "
                         f"{d.pcf_profile})", title_justify="left")  # fmt: skip
        ex.add_column("input")
        ex.add_column("stage")
        ex.add_column("kg CO2e", justify="right")
        ex.add_column("why", overflow="fold")
        for x in d.excluded:
            ex.add_row(escape(x.name), x.stage, _num(x.kg_co2e), escape(x.reason))
        out.print(ex)
    if d.notes:
        out.print("[bold yellow]Notes[/]")
        for w in d.notes:
            who = f"{w.input}: " if w.input else ""
            out.print(f"  [yellow]{w.code}[/] {escape(who + w.message)}", soft_wrap=True)


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
    try:
        p = profile(profile_id)
    except OpenpcfError as exc:
        _fail(exc)
        return
    sys.stdout.write(_yaml(p.model_dump(mode="json")))


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
    try:
        r = product_rule(rule_id)
    except OpenpcfError as exc:
        _fail(exc)
        return
    sys.stdout.write(_yaml(r.model_dump(mode="json")))


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


def _yaml(data: object) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def main() -> None:
    app()
