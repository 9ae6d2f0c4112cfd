"""Check a model against its product rule and a methodology profile.

Every violation names the rule or profile, the model line it concerns, and the fix.
"""

from __future__ import annotations

from collections.abc import Callable

from openpcf.domain.errors import OpenpcfError
from openpcf.domain.methodology import MandatoryInput, ProductRule, Profile
from openpcf.domain.model import Input
from openpcf.domain.result import Result, Violation
from openpcf.factors.electricity import direct_connection_failures
from openpcf.io.model_file import LoadedModel
from openpcf.rules.catalogue import product_rule
from openpcf.rules.catalogue import profile as load_profile
from openpcf.services.calculation.calculate import accounting_for, calculate_under
from openpcf.services.calculation.inventory import (
    direct_connection_kwh,
    main_share,
    reference_per_declared,
)
from openpcf.services.calculation.project import Project
from openpcf.units import factor_between, quantity_of

Add = Callable[..., None]  # add(code, rule, message, fix, *path in the model)


def check(project: Project, profile_id: str, result: Result | None = None) -> list[Violation]:
    """All violations of the target model's rule and of the profile."""
    lm = project.models[0]
    profile = load_profile(profile_id)
    result = result or calculate_under(project, accounting_for(profile_id))
    out: list[Violation] = []

    def add(code: str, rule: str, message: str, fix: str, *path: str | int) -> None:
        line = lm.doc.lines.get((*path, "<key>")) or lm.where(*path).line
        out.append(Violation(
            code=code, rule=rule, message=message, fix=fix, file=str(lm.path), line=line,
        ))  # fmt: skip

    product = lm.model.product
    if product.boundary not in profile.boundaries:
        add("BOUNDARY_NOT_ALLOWED", profile.id,
            f"boundary {product.boundary} is not one {profile.id} allows",
            f"use one of: {', '.join(profile.boundaries)}", "product", "boundary")  # fmt: skip
    _check_profile_reports(profile, lm, result, add)
    _check_electricity(profile, lm, add)
    rule = None
    if product.rule:
        try:
            rule = product_rule(product.rule)
        except OpenpcfError as exc:
            add("UNKNOWN_RULE", product.rule, exc.message, "name a known product rule "
                "(`openpcf rules list`) or remove product.rule", "product", "rule")  # fmt: skip
    if rule is not None:
        _check_rule(rule, lm, result, add)
    _check_cutoff(profile, rule, lm, result, add)
    return out


def _check_profile_reports(profile: Profile, lm: LoadedModel, result: Result, add: Add) -> None:
    if "data_quality" in profile.reports and result.data_quality is None:
        add("DATA_QUALITY_MISSING", profile.id,
            f"{profile.id} requires data-quality indicators and no input carries any",
            "add dq: {technological, geographical, temporal, completeness, reliability} "
            "(1-5) to the inputs", "inputs")  # fmt: skip


def _check_electricity(profile: Profile, lm: LoadedModel, add: Add) -> None:
    for k, inp in enumerate(lm.model.inputs):
        spec = inp.electricity
        if spec is None:
            continue
        if spec.basis and spec.basis != profile.electricity.grid_basis:
            add("ELECTRICITY_BASIS", profile.id,
                f"input '{inp.name}' states basis {spec.basis}; {profile.id} asks for "
                f"{profile.electricity.grid_basis}",
                "remove electricity.basis so the profile decides", "inputs", k, "electricity")  # fmt: skip
        dc = spec.direct_connection
        if dc is None:
            continue
        kwh = direct_connection_kwh(dc, lm.where("inputs", k, "electricity", "direct_connection"))
        year = dc.year or spec.year or lm.model.product.year or 0
        for failure in direct_connection_failures(
            kwh["project_generation"], kwh["on_site_use"], kwh["consumption"], year
        ):
            add("DIRECT_CONNECTION", "green-power direct connection",
                f"input '{inp.name}': {failure}",
                "the direct connection is not credited; the grid average is used for it",
                "inputs", k, "electricity", "direct_connection")  # fmt: skip


def _check_rule(rule: ProductRule, lm: LoadedModel, result: Result, add: Add) -> None:
    product = lm.model.product
    du, want = product.declared_unit, rule.declared_unit
    same_dim = quantity_of(du.unit).dimensionality == quantity_of(want.unit).dimensionality
    if not same_dim or abs(du.amount * factor_between(du.unit, want.unit, "declared unit")
                           - want.amount) > 1e-9 * want.amount:  # fmt: skip
        add("DECLARED_UNIT", rule.id,
            f"declared unit {du.amount:g} {du.unit} differs from rule {rule.id}'s "
            f"{want.amount:g} {want.unit}",
            f"set declared_unit: {{amount: {want.amount:g}, unit: {want.unit}}}",
            "product", "declared_unit")  # fmt: skip
    if product.boundary != rule.boundary:
        add("BOUNDARY", rule.id, f"rule {rule.id} fixes the boundary {rule.boundary}",
            f"set boundary: {rule.boundary}", "product", "boundary")  # fmt: skip
    stages = {i.stage for i in lm.model.inputs} | {e.stage for e in lm.model.emissions}
    for stage in rule.mandatory_stages:
        if stage not in stages:
            add("MISSING_STAGE", rule.id, f"rule {rule.id} requires the {stage} stage",
                f"add the inputs of the {stage} stage", "inputs")  # fmt: skip
    for needed in rule.mandatory_inputs:
        if not any(_matches(needed, i) for i in lm.model.inputs):
            words = f" (a name with {', '.join(needed.match)})" if needed.match else ""
            add("MISSING_INPUT", rule.id, f"rule {rule.id} requires an input for {needed.name}",
                f"add {'an' if needed.kind == 'any' else 'a ' + needed.kind} input{words}",
                "inputs")  # fmt: skip
    floor = rule.data_quality_floor
    if floor is not None:
        dq = result.data_quality
        if dq is None:
            add("DATA_QUALITY_MISSING", rule.id,
                f"rule {rule.id} accepts data quality no worse than {floor:g}; no input is rated",
                "add dq ratings to the inputs", "inputs")  # fmt: skip
        elif dq.rating > floor:
            add("DATA_QUALITY", rule.id,
                f"weighted data-quality rating {dq.rating:.2f} is worse than rule {rule.id}'s "
                f"floor {floor:g} (1 best, 5 worst)",
                "replace the largest contributions' secondary data with better data", "inputs")  # fmt: skip


def _matches(needed: MandatoryInput, inp: Input) -> bool:
    name = inp.name.lower()
    if needed.match and not any(w.lower() in name for w in needed.match):
        return False
    if needed.kind == "electricity":
        return inp.electricity is not None or bool(inp.factor and "grid" in inp.factor)
    if needed.kind == "fuel":
        return bool(inp.factor and inp.factor.split("/")[0] in
                    {"ipcc2006", "ipcc2006-cn-ncv", "cn-ndrc-fuel"}) or bool(needed.match)  # fmt: skip
    if needed.kind == "transport":
        return quantity_of(inp.unit).dimensionality == quantity_of("t*km").dimensionality
    return True


def _check_cutoff(
    profile: Profile,
    rule: ProductRule | None,
    lm: LoadedModel,
    result: Result,
    add: Add,
) -> None:
    excluded = sum(x.kg_co2e for x in lm.model.excluded)
    limits = [(c, who) for c, who in ((profile.cutoff, profile.id),
              (rule.cutoff if rule else None, rule.id if rule else "")) if c is not None]  # fmt: skip
    if not excluded or not limits:
        return
    share, _ = main_share(lm, accounting_for(profile.id))
    scale = share / lm.model.product.reference_quantity.amount * reference_per_declared(lm)
    left_out = excluded * scale
    fraction = left_out / (left_out + result.pcf.value) if left_out + result.pcf.value else 0.0
    limit, who = min(limits)
    if fraction > limit:
        add("CUTOFF_EXCEEDED", who,
            f"excluded items are {fraction:.1%} of the footprint; {who} allows at most {limit:.0%}",
            "model the largest excluded items as inputs", "excluded")  # fmt: skip
