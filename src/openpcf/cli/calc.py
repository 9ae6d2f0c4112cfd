"""`calc`, `check` and `cbam`: a product model's footprint, its rule breaches, its CBAM declaration."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from openpcf.cli.common import FactorFiles, FactorSetLabels, Gwp, OutputFormat, err, num, out
from openpcf.cli.common import fail as _fail
from openpcf.domain.errors import CalculationError, OpenpcfError

if TYPE_CHECKING:  # the services are imported in the commands: a light start (cli/__init__.py)
    from rich.console import Console

    from openpcf.domain.cbam import CbamDeclaration
    from openpcf.domain.result import Result, UncertaintyResult, Violation
    from openpcf.services.calculation.compare import Comparison
    from openpcf.services.calculation.project import Project
    from openpcf.services.catalogue.rule_choice import RuleChoice

#: As services.calculation.calculate.DEFAULT_PROFILE (tests/test_cli_lazy.py checks it), which
#: the option's default cannot import without importing the whole calculation.
DEFAULT_PROFILE = "gb-t-24067"

RuleVersionOption = Annotated[
    str | None,
    typer.Option(
        "--rule-version",
        metavar="VERSION|latest",
        help="Compute under this published version of the model's product rule, read from the "
        "platform store (OPENPCF_DATABASE_URL / OPENPCF_HOME), as the server does; 'latest': "
        "the version in force today. Without it, the rule bundled with openpcf is used.",
    ),
]


ProfileOption = Annotated[
    str, typer.Option("--profile", "-p", help="Methodology profile (`openpcf profiles list`).")
]


def calc(
    model: Annotated[
        Path, typer.Argument(help="Product model file (.yaml, .yml, .json or .xlsx).")
    ],
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = (
        OutputFormat.table
    ),
    gwp: Annotated[Gwp | None, typer.Option(help="GWP100 set; overrides the profile's.")] = None,
    factors: FactorFiles = None,
    factor_set: FactorSetLabels = None,
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
    rule_version: RuleVersionOption = None,
) -> None:
    """Compute a product model's carbon footprint per declared unit, with hotspots.

    A model that breaks its product rule is refused unless --allow-violations; the result then
    lists the violations. Profile breaches are always listed in the result. The output names
    the product rule and version used: the bundled one, or with --rule-version one a regulator
    published in the store.
    """
    from openpcf.rules.catalogue import profile
    from openpcf.services.calculation.calculate import calculate
    from openpcf.services.calculation.check import check as check_model
    from openpcf.services.calculation.compare import compare
    from openpcf.services.calculation.project import load_project, names_meters
    from openpcf.services.catalogue.rule_choice import choose

    try:
        kept = []
        if factor_set:  # sets pulled or imported into this installation
            from openpcf.services.catalogue.pulled_sets import kept_set

            kept = [kept_set(label) for label in factor_set]
        project = load_project(model, factors or [], kept)
        if names_meters(project):  # a metered direct connection: readings of the local store
            from openpcf import config
            from openpcf.services.monitoring.direct_connection import resolve_for_tenant
            from openpcf.store.db import sessions

            with sessions()() as session:
                project = resolve_for_tenant(session, config.tenant(), project)
        chosen = choose(project, rule_version)
        with chosen.applied():  # the published version in place of the bundled rule, if named
            result = calculate(project, gwp=gwp.value if gwp else None, profile=profile_id)
            violations = check_model(project, profile_id, result)
            # An unknown rule cannot be broken: the model is computed under the general rule and
            # the violation is listed in the result.
            rule_breaches = [
                v for v in violations if v.rule != profile_id and v.code != "UNKNOWN_RULE"
            ]
            if rule_breaches and not allow_violations:
                _print_violations(rule_breaches, err)
                err.print("[bold red]error:[/] the model breaks its product rule; fix it, or run "
                          "with --allow-violations to compute a result marked as such")  # fmt: skip
                raise typer.Exit(1)
            result = result.model_copy(
                update={"violations": tuple(violations), "rule_version": chosen.version}
            )
            if "certificates" in profile(profile_id).electricity.accepts and _names_certificates(
                project
            ):
                from openpcf import config
                from openpcf.services.certification.green_certificates import record_claims
                from openpcf.store.db import sessions

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
            doc = _comparison_json(comparison) | {"rule_used": chosen.as_json()}
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        else:
            _render_comparison(comparison)
            out.print(escape(chosen.line))
        if not comparison.results:  # every profile refused: nothing was computed
            raise typer.Exit(1)
        return
    if format is OutputFormat.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        _render_result(result, chosen)


def _names_certificates(project: Project) -> bool:
    """Whether the model's electricity names certificates to claim (the store is opened only
    then: opening it imports SQLAlchemy and Alembic and checks the schema)."""
    return any(
        inp.electricity and inp.electricity.certificates and inp.electricity.certificates.claims
        for inp in project.models[0].model.inputs
    )


def _monte_carlo(
    project: Project, profile_id: str, gwp: Gwp | None, n: int, seed: int | None, pcf: float
) -> UncertaintyResult:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from openpcf.services.calculation.calculate import accounting_for
    from openpcf.services.calculation.uncertainty import monte_carlo

    acc = accounting_for(profile_id, gwp.value if gwp else None)
    with Progress(TextColumn("Monte Carlo"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err, transient=True,
                  disable=n < 1000 or not err.is_terminal) as bar:  # fmt: skip
        task = bar.add_task("", total=n)
        return monte_carlo(project, acc, n, seed, deterministic=pcf,
                           progress=lambda done, total: bar.update(task, completed=done,
                                                                   total=total))  # fmt: skip


def check(
    model: Annotated[Path, typer.Argument(help="Product model file.")],
    profile_id: ProfileOption = DEFAULT_PROFILE,
    factors: FactorFiles = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
    rule_version: RuleVersionOption = None,
) -> None:
    """List every breach of the model's product rule and of the profile; exit 1 if any.

    The product rule is the bundled one, or with --rule-version one published in the store; the
    table names it, and with --format json (a list of violations) it is named on stderr.
    """
    from openpcf.services.calculation.check import check as check_model
    from openpcf.services.calculation.project import load_project
    from openpcf.services.catalogue.rule_choice import choose

    try:
        project = load_project(model, factors or [])
        chosen = choose(project, rule_version)
        with chosen.applied():
            violations = check_model(project, profile_id)
    except OpenpcfError as exc:
        _fail(exc)
        return
    if format is OutputFormat.json:
        sys.stdout.write(json.dumps([v.model_dump() for v in violations], indent=2) + "\n")
        err.print(escape(chosen.line), soft_wrap=True)
        return _exit_if(violations)
    out.print(escape(chosen.line), soft_wrap=True)
    if violations:
        _print_violations(violations, out)
    else:
        out.print(f"[green]no violations[/] of the product rule or profile {profile_id}")
    _exit_if(violations)


def _exit_if(violations: list[Violation]) -> None:
    if violations:
        raise typer.Exit(1)


def _print_violations(violations: list[Violation], console: Console) -> None:
    for v in violations:
        where = f"{v.file}:{v.line}" if v.file and v.line else (v.file or "")
        console.print(f"[red]{v.code}[/] \\[{escape(v.rule)}] {escape(where)}: {escape(v.message)}"
                      f"\n    fix: {escape(v.fix)}",
                      soft_wrap=True, markup=True, highlight=False)  # fmt: skip


def _comparison_json(c: Comparison) -> dict:
    """The computed results, the reconciliations, and a column per profile asked for: its
    total, or why it cannot be computed."""
    from openpcf.services.calculation.compare import Refusal

    columns = []
    for p in c.profiles:
        col = c.column(p)
        if isinstance(col, Refusal):
            columns.append({"profile": p, "gwp": None, "pcf": None, "refused": col.reason})
        else:
            columns.append({"profile": p, "gwp": col.gwp, "pcf": col.pcf.value, "refused": None})
    return {
        "profiles": list(c.profiles),
        "columns": columns,
        "results": [r.model_dump() for r in c.results],
        "refused": [{"profile": x.profile, "reason": x.reason} for x in c.refused],
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
    from openpcf.domain.result import Result

    computed = c.results
    if computed:
        du = computed[0].declared_unit
        out.print(f"[bold]{escape(computed[0].product)}[/] — kg CO2e per {du.amount:g} {du.unit}")
    columns = [c.column(p) for p in c.profiles]
    table = Table(title="Side by side", title_justify="left")
    table.add_column("")
    for col in columns:
        head = f"{col.profile}\n({col.gwp})" if isinstance(col, Result) else f"{col.profile}"
        table.add_column(head, justify="right")

    def row(label: str, value: Callable[[Result], str]) -> None:
        table.add_row(label, *(value(x) if isinstance(x, Result) else "—" for x in columns))

    table.add_row("[bold]PCF[/]", *(f"[bold]{num(x.pcf.value)}[/]" if isinstance(x, Result)
                                    else "[bold red]refused[/]" for x in columns))  # fmt: skip
    stages = [s for s in ("raw-materials", "production", "distribution", "use", "end-of-life")
              if any(s in r.stages for r in computed)]  # fmt: skip
    for stage in stages:
        row(stage, lambda r, s=stage: num(r.stages[s]) if s in r.stages else "—")
    row("biogenic (origin)", lambda r: num(r.origins.get("biogenic", 0.0)))
    row("left out by profile", lambda r: num(sum(r.excluded.values())))
    out.print(table)
    for x in c.refused:
        out.print(f"[bold red]{escape(x.profile)} cannot be computed:[/] {escape(x.reason)}",
                  soft_wrap=True)  # fmt: skip
    for rec in c.reconciliations:
        t = Table(title=f"Reconciliation {rec.base} → {rec.other}", title_justify="left")
        t.add_column("rule")
        t.add_column("kg CO2e", justify="right")
        t.add_column("change")
        t.add_row(rec.base, num(rec.base_total), "")
        for step in rec.steps:
            t.add_row(step.rule, f"{step.kg_co2e:+,.6g}", escape(step.detail))
        t.add_row(f"[bold]{rec.other}[/]", f"[bold]{num(rec.other_total)}[/]",
                  f"gap {rec.gap:+,.6g} = sum of the steps")  # fmt: skip
        out.print(t)


def _render_result(r: Result, chosen: RuleChoice) -> None:
    du = r.declared_unit
    out.print(f"[bold]{escape(r.product)}[/]")
    out.print(
        f"PCF [bold green]{num(r.pcf.value)} kg CO2e[/] per {du.amount:g} {du.unit}"
        f"   profile {r.profile} · {r.gwp} GWP100 · factor set {r.factor_set}"
    )
    out.print(escape(chosen.line))
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
            escape(c.name) + flag, c.stage, num(c.kg_co2e), f"{share:.1%}",
            f"[{colour}]{bar}[/]", escape(c.source),
        )  # fmt: skip
    out.print(table)
    stages = Table(title="By stage", title_justify="left")
    stages.add_column("stage")
    stages.add_column("kg CO2e", justify="right")
    for stage, v in r.stages.items():
        stages.add_row(stage, num(v))
    gases = Table(title="By gas", title_justify="left")
    gases.add_column("gas")
    gases.add_column("kg CO2e", justify="right")
    for gas, v in r.gases.items():
        gases.add_row(gas, num(v))
    out.print(stages)
    out.print(gases)
    if r.excluded:
        left = ", ".join(f"{k} {num(v)}" for k, v in r.excluded.items())
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
        f"[bold]{num(u.mean)}[/] · median {num(u.median)} · 95% interval "
        f"{num(u.percentile_2_5)} … {num(u.percentile_97_5)} {u.unit} · sd {num(u.sd)} "
        f"(standard error of the mean {num(u.standard_error)})"
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
    if u.derived:
        out.print(f"[bold yellow]How the spreads were set:[/] {escape(u.derived)}",
                  soft_wrap=True)  # fmt: skip
    for s in u.sampled:
        out.print(f"  sampled: {escape(s)}", soft_wrap=True)


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
    from openpcf.services.calculation.cbam import embedded_emissions
    from openpcf.services.calculation.project import load_project

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
        f"SEE [bold green]{num(d.see_total)}[/] t CO2e per t of good (direct "
        f"{num(d.see_direct)} + indirect {num(d.see_indirect)})   {d.gwp} GWP100 · gases "
        f"{', '.join(d.gases)} · activity level {num(d.activity_level_t)} t · allocation "
        f"{escape(d.allocation)} (share {d.allocation_share:.4g})"
    )
    table = Table(title="Embedded emissions, t CO2e per t of good", title_justify="left")
    for col in ("", "line", "data"):
        table.add_column(col)
    table.add_column("direct", justify="right")
    table.add_column("indirect", justify="right")
    table.add_column("source", overflow="fold")
    for e in d.direct:
        left = ", ".join(f"{g} {num(v)}" for g, v in e.not_counted.items())
        source = e.source + (f" (not counted: {left})" if left else "")
        table.add_row("direct", escape(e.name) + (" ⚑" if e.flags else ""), "actual",
                      num(e.t_co2e), "", escape(source))  # fmt: skip
    for e in d.indirect:
        mwh = f"{num(e.electricity_mwh)} MWh/t × " if e.electricity_mwh is not None else ""
        table.add_row("indirect", escape(e.name) + (" ⚑" if e.flags else ""), "actual", "",
                      num(e.t_co2e), escape(mwh + e.source))  # fmt: skip
    for p in d.precursors:
        what = f"{escape(p.name)}{' ⚑' if p.flags else ''}\n{num(p.mass_t)} t/t"
        if p.cn_code:
            what += f" · CN {escape(p.cn_code)}"
        see = f"SEE {num(p.see_direct)} + {num(p.see_indirect)} t/t; "
        mark = "[bold yellow]default[/]" if p.data == "default" else "actual"
        table.add_row("precursor", what, mark, num(p.direct), num(p.indirect),
                      escape(see + p.source))  # fmt: skip
    table.add_row("[bold]SEE[/]", "", "", f"[bold]{num(d.see_direct)}[/]",
                  f"[bold]{num(d.see_indirect)}[/]", f"total {num(d.see_total)}")  # fmt: skip
    out.print(table)
    counted = "direct and indirect" if d.indirect_in_definitive else "direct only"
    out.print(f"Definitive period (from 2026): {counted} count → [bold]{num(d.see_definitive)}[/]"
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
            ex.add_row(escape(x.name), x.stage, num(x.kg_co2e), escape(x.reason))
        out.print(ex)
    if d.notes:
        out.print("[bold yellow]Notes[/]")
        for w in d.notes:
            who = f"{w.input}: " if w.input else ""
            out.print(f"  [yellow]{w.code}[/] {escape(who + w.message)}", soft_wrap=True)
