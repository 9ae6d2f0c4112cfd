"""Compute a project's footprint under a methodology profile: inventory -> engine -> Result.

The engine solves all processes at once; the target's lines (its inputs and direct emissions,
a sub-assembly line carrying that sub-assembly's whole footprint) give the contributions, which
add up to the total exactly. The profile decides which flows count (GWP set, gases, biogenic
CO2, dLUC) and which stages are outside its footprint; what it leaves out is reported, not lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from openpcf import __version__
from openpcf.domain.errors import CalculationError
from openpcf.domain.factor import Factor
from openpcf.domain.gases import CO2E, GWP_SETS, Flow
from openpcf.domain.methodology import Accounting
from openpcf.domain.model import STAGES, Quantity
from openpcf.domain.result import (
    Amount,
    Contribution,
    DataQualitySummary,
    DeclaredUnit,
    FactorUse,
    Provenance,
    Result,
)
from openpcf.engine.solve import (
    SingularSystem,
    check_productive,
    factorise,
    footprints_of_all_processes,
)
from openpcf.factors.bundled import bundled_set, gwp_table
from openpcf.rules.catalogue import product_rules
from openpcf.rules.catalogue import profile as load_profile
from openpcf.services.calculation.inventory import (
    Inventory,
    Line,
    build_inventory,
    reference_per_declared,
)
from openpcf.services.calculation.project import Project
from openpcf.units import factor_between, same_dimension

DEFAULT_PROFILE = "gb-t-24067"


def accounting_for(profile: str = DEFAULT_PROFILE, gwp: str | None = None) -> Accounting:
    if gwp is not None and gwp not in GWP_SETS:
        raise CalculationError(f"unknown GWP set '{gwp}'; expected one of {', '.join(GWP_SETS)}")
    return Accounting.of(load_profile(profile), gwp)


def calculate(project: Project, gwp: str | None = None, profile: str = DEFAULT_PROFILE) -> Result:
    return calculate_under(project, accounting_for(profile, gwp))


def calculate_under(project: Project, acc: Accounting) -> Result:
    inv = build_inventory(project, acc)
    flows = sorted({f for c in inv.columns for ln in c.lines for f in ln.flows})
    per_unit = _solve(project, inv, flows)
    gwp = np.array([gwp_table().gwp(f, acc.gwp) for f in flows])
    counted = np.array([counts_in_total(f, acc) for f in flows])
    weight = gwp * counted

    target = project.models[0]
    per_declared = reference_per_declared(target)
    top = inv.columns[0]
    vectors = [_line_vector(ln, top.scale, per_unit, flows) * per_declared for ln in top.lines]
    included = [ln.stage not in acc.excluded_stages for ln in top.lines]

    contributions = tuple(
        Contribution(
            name=ln.name, stage=ln.stage, kg_co2e=float(v @ weight), kind=ln.kind,
            source=ln.source, line=ln.line, flags=ln.flags,
        )
        for ln, v, keep in zip(top.lines, vectors, included, strict=True)
        if keep
    )  # fmt: skip
    inventory = sum((v for v, keep in zip(vectors, included, strict=True) if keep),
                    np.zeros(len(flows)))  # fmt: skip
    total = float(inventory @ weight)
    check = sum(c.kg_co2e for c in contributions)
    if not np.isclose(check, total, rtol=1e-9, atol=1e-12):
        raise CalculationError(f"internal check failed: contributions {check} != total {total}")

    product = target.model.product
    return Result(
        product=product.name,
        product_id=product.id,
        declared_unit=DeclaredUnit(
            amount=product.declared_unit.amount, unit=product.declared_unit.unit
        ),
        pcf=Amount(value=total, unit="kg CO2e"),
        stages=_by_stage(contributions),
        gases=_by_key(flows, inventory * weight, lambda f: f.gas),
        inventory={f.label(): float(v) for f, v in zip(flows, inventory, strict=True)},
        origins={"fossil": 0.0, "biogenic": 0.0, "land-use": 0.0}
        | _by_key(flows, inventory * weight, lambda f: f.origin),
        excluded=_excluded(top.lines, vectors, included, flows, gwp, counted, acc),
        contributions=contributions,
        profile=acc.profile,
        rule=product.rule or "general",
        factor_set=bundled_set().label,
        gwp=acc.gwp,
        allocation=top.allocation,
        grade=grade_of(product.rule, product.declared_unit, total),
        primary_data_share=_primary_share(contributions, top.lines, included),
        data_quality=_data_quality(
            contributions, [ln for ln, k in zip(top.lines, included, strict=True) if k]
        ),
        factors=tuple(_use(f) for f in sorted(inv.used.values(), key=lambda f: f.id)),
        warnings=inv.notes.as_tuple(),
        provenance=provenance_of(project, tuple(inv.databases)),
    )


def provenance_of(project: Project, databases: tuple[str, ...] = ()) -> Provenance:
    """What a result came from: software, input files and their hash, every factor set used."""
    sets = (
        *project.catalogue.labels,
        *(f"inline:{m.path.name}@{m.digest[:12]}" for m in project.models if m.model.factors),
        *databases,
    )
    return Provenance(
        software_version=__version__,
        input_hash=project.input_hash,
        factor_sets=sets,
        files=tuple(str(m.path) for m in project.models) + tuple(map(str, project.factor_files)),
    )


def grade_of(rule_id: str | None, declared: Quantity, pcf: float) -> str | None:
    """The rule's best benchmark class the footprint meets, when it is declared per the rule's unit."""
    if not rule_id or rule_id not in product_rules():
        return None
    rule = product_rules()[rule_id]
    unit = rule.declared_unit
    if not rule.benchmark_classes or not same_dimension(declared.unit, unit.unit):
        return None
    per_rule_unit = (
        pcf
        / (declared.amount * factor_between(declared.unit, unit.unit, "declared unit"))
        * unit.amount
    )
    for cls in sorted(rule.benchmark_classes, key=lambda c: c.max_kg_co2e):
        if per_rule_unit <= cls.max_kg_co2e:
            return cls.grade
    return None


def _solve(project: Project, inv: Inventory, flows: list[Flow]) -> np.ndarray:
    """Per-flow footprint per reference unit of every model, (models × flows)."""
    row = {f: r for r, f in enumerate(flows)}
    n = len(inv.columns)
    a = sp.lil_matrix((n, n))
    b = np.zeros((len(flows), n))
    for j, col in enumerate(inv.columns):
        for ln in col.lines:
            if ln.sub is not None:
                a[ln.sub, j] += col.scale * ln.sub_amount
            for f, kg in ln.flows.items():
                b[row[f], j] += col.scale * kg
    try:
        fact = factorise(a.tocsc())
        check_productive(fact)
        return footprints_of_all_processes(fact, b)
    except SingularSystem:
        names = " -> ".join(m.model.product.name for m in project.models)
        raise CalculationError(
            f"the sub-assembly cycle among [{names}] consumes at least as much as it produces; "
            f"check the amounts of the inputs that close the cycle"
        ) from None


def _line_vector(ln: Line, scale: float, per_unit: np.ndarray, flows: list[Flow]) -> np.ndarray:
    if ln.sub is not None:
        return scale * ln.sub_amount * per_unit[ln.sub]
    return scale * np.array([ln.flows.get(f, 0.0) for f in flows])


def counts_in_total(f: Flow, acc: Accounting) -> bool:
    """Whether the profile counts flow `f` in the footprint's total."""
    if f.gas != CO2E and not acc.counts(f.gas):
        return False
    if f.gas == "CO2" and f.origin == "biogenic" and not acc.biogenic_in_total:
        return False
    return not (f.origin == "land-use" and not acc.dluc_in_total)


def _excluded(
    lines: list[Line],
    vectors: list[np.ndarray],
    included: list[bool],
    flows: list[Flow],
    gwp: np.ndarray,
    counted: np.ndarray,
    acc: Accounting,
) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for ln, v, keep in zip(lines, vectors, included, strict=True):
        if not keep:
            out[f"stage {ln.stage}"] += float(v @ (gwp * counted))
            continue
        for f, kg, g, c in zip(flows, v, gwp, counted, strict=True):
            if c or not kg:
                continue
            if f.gas == "CO2" and f.origin == "biogenic":
                out["biogenic CO2"] += kg * g
            elif f.origin == "land-use":
                out["land-use change"] += kg * g
            else:
                out[f"{f.gas} (not counted by {acc.profile})"] += kg * g
    return dict(out)


def _by_stage(contributions: tuple[Contribution, ...]) -> dict[str, float]:
    stages: dict[str, float] = {}
    for stage in STAGES:
        in_stage = [c.kg_co2e for c in contributions if c.stage == stage]
        if in_stage:
            stages[stage] = sum(in_stage)
    return stages


def _by_key(flows: list[Flow], values: np.ndarray, key: Callable[[Flow], str]) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for f, v in zip(flows, values, strict=True):
        out[key(f)] += float(v)
    return dict(out)


def _primary_share(
    contributions: tuple[Contribution, ...], lines: list[Line], included: list[bool]
) -> float:
    kept = [ln for ln, k in zip(lines, included, strict=True) if k]
    total = sum(abs(c.kg_co2e) for c in contributions)
    if not total:
        return 0.0
    primary = sum(abs(c.kg_co2e) for c, ln in zip(contributions, kept, strict=True) if ln.primary)
    return 100.0 * primary / total


def _data_quality(
    contributions: tuple[Contribution, ...], lines: list[Line]
) -> DataQualitySummary | None:
    rated = [(abs(c.kg_co2e), ln.dq) for c, ln in zip(contributions, lines, strict=True) if ln.dq]
    weight = sum(w for w, _ in rated)
    total = sum(abs(c.kg_co2e) for c in contributions)
    if not rated or not weight:
        return None

    def avg(name: str) -> float:
        return sum(w * getattr(dq, name) for w, dq in rated) / weight

    names = ("technological", "geographical", "temporal", "completeness", "reliability")
    values = {n: avg(n) for n in names}
    return DataQualitySummary(
        rating=sum(values.values()) / len(names), coverage=weight / total, **values
    )


def _use(f: Factor) -> FactorUse:
    return FactorUse(
        id=f.id, name=f.name, source=f.source, publisher=f.publisher, year=f.year,
        region=f.region, version=f.version, unit=f.unit, flags=f.flags,
    )  # fmt: skip
