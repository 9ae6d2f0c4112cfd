"""Compute a project's footprint: models -> sparse system -> engine -> Result.

Each model is one process, producing its reference amount. Its column holds, per unit of
reference output and after its main-product share (1 - coproduct shares):
- in A, the sub-assemblies it consumes (in their reference units);
- in B, the flows of its factor, electricity and supplier-PCF inputs and direct emissions.
The engine solves all processes at once; the target's contributions are read from its own
lines and the sub-assemblies' per-unit footprints, and add up to its total exactly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from openpcf import __version__
from openpcf.domain.errors import CalculationError, Location, ModelError, UnitError
from openpcf.domain.factor import Factor
from openpcf.domain.gases import CO2E, GWP_SETS, Flow
from openpcf.domain.model import STAGES, Input, Product
from openpcf.domain.result import (
    Amount,
    Contribution,
    DeclaredUnit,
    FactorUse,
    Note,
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
from openpcf.factors.electricity import resolve_electricity
from openpcf.io.model_file import LoadedModel
from openpcf.services.project import Project
from openpcf.units import co2e_per_unit, factor_between, quantity_of

DEFAULT_PROFILE = "gb-t-24067"
#: GWP set per profile until methodology profiles arrive as data (issue 3); the spec page's
#: example output pairs gb-t-24067 with AR5.
PROFILE_GWP = {DEFAULT_PROFILE: "AR5"}


@dataclass
class _Line:
    """One input or emission of a model with its flows per line (before share and reference)."""

    name: str
    stage: str
    kind: str
    source: str
    line: int | None
    flows: dict[Flow, float] = field(default_factory=dict)
    sub: int | None = None  # sub-assembly model index
    sub_amount: float = 0.0  # in the sub-assembly's reference units
    flags: tuple[str, ...] = ()


class _Notes:
    """Notes keyed by (code, message), so one cause repeated over many lines is said once."""

    def __init__(self) -> None:
        self._inputs: dict[tuple[str, str], list[str]] = {}

    def add(self, code: str, message: str, input: str | None = None) -> None:
        inputs = self._inputs.setdefault((code, message), [])
        if input and input not in inputs:
            inputs.append(input)

    def as_tuple(self) -> tuple[Note, ...]:
        return tuple(
            Note(code=code, message=message, input="; ".join(inputs) or None)
            for (code, message), inputs in self._inputs.items()
        )


@dataclass
class _Column:
    scale: float  # main-product share / reference amount
    lines: list[_Line]


def calculate(project: Project, gwp: str | None = None, profile: str = DEFAULT_PROFILE) -> Result:
    gwp_set = gwp or PROFILE_GWP[profile]
    if gwp_set not in GWP_SETS:
        raise CalculationError(
            f"unknown GWP set '{gwp_set}'; expected one of {', '.join(GWP_SETS)}"
        )
    notes = _Notes()
    used: dict[str, Factor] = {}
    columns = [_column(project, i, notes, used, gwp_set) for i in range(len(project.models))]
    flows = sorted({f for c in columns for ln in c.lines for f in ln.flows})
    row = {f: r for r, f in enumerate(flows)}
    n = len(columns)

    a = sp.lil_matrix((n, n))
    b = np.zeros((len(flows), n))
    for j, col in enumerate(columns):
        for ln in col.lines:
            if ln.sub is not None:
                a[ln.sub, j] += col.scale * ln.sub_amount
            for f, kg in ln.flows.items():
                b[row[f], j] += col.scale * kg
    try:
        fact = factorise(a.tocsc())
        check_productive(fact)
        per_unit = footprints_of_all_processes(fact, b)  # (n, flows), per reference unit
    except SingularSystem:
        names = " -> ".join(m.model.product.name for m in project.models)
        raise CalculationError(
            f"the sub-assembly cycle among [{names}] consumes at least as much as it produces; "
            f"check the amounts of the inputs that close the cycle"
        ) from None

    gwp_vec = np.array([gwp_table().gwp(f, gwp_set) for f in flows])
    target = project.models[0]
    per_declared = _reference_per_declared(target)
    inventory = per_unit[0] * per_declared
    total = float(inventory @ gwp_vec)

    contributions = []
    for ln in columns[0].lines:
        if ln.sub is not None:
            kg = columns[0].scale * ln.sub_amount * float(per_unit[ln.sub] @ gwp_vec)
        else:
            kg = columns[0].scale * sum(
                v * gwp_table().gwp(f, gwp_set) for f, v in ln.flows.items()
            )
        contributions.append(Contribution(
            name=ln.name, stage=ln.stage, kg_co2e=kg * per_declared, kind=ln.kind,
            source=ln.source, line=ln.line, flags=ln.flags,
        ))  # fmt: skip
    check = sum(c.kg_co2e for c in contributions)
    if not np.isclose(check, total, rtol=1e-9, atol=1e-12):
        raise CalculationError(f"internal check failed: contributions {check} != total {total}")

    stages: dict[str, float] = {}
    for stage in STAGES:
        in_stage = [c.kg_co2e for c in contributions if c.stage == stage]
        if in_stage:
            stages[stage] = sum(in_stage)
    gases: dict[str, float] = defaultdict(float)
    origins: dict[str, float] = {"fossil": 0.0, "biogenic": 0.0, "land-use": 0.0}
    for f, kg, g in zip(flows, inventory, gwp_vec, strict=True):
        gases[f.gas] += kg * g
        origins[f.origin] += kg * g

    product = target.model.product
    sets = (
        *project.catalogue.labels,
        *(f"inline:{m.path.name}@{m.digest[:12]}" for m in project.models if m.model.factors),
    )
    return Result(
        product=product.name,
        product_id=product.id,
        declared_unit=DeclaredUnit(
            amount=product.declared_unit.amount, unit=product.declared_unit.unit
        ),
        pcf=Amount(value=total, unit="kg CO2e"),
        stages=stages,
        gases=dict(gases),
        inventory={f.label(): float(v) for f, v in zip(flows, inventory, strict=True)},
        origins=origins,
        contributions=tuple(contributions),
        profile=profile,
        rule=product.rule or "general",
        factor_set=bundled_set().label,
        gwp=gwp_set,
        factors=tuple(_use(f) for f in sorted(used.values(), key=lambda f: f.id)),
        warnings=notes.as_tuple(),
        provenance=Provenance(
            software_version=__version__,
            input_hash=project.input_hash,
            factor_sets=sets,
            files=tuple(str(m.path) for m in project.models)
            + tuple(map(str, project.factor_files)),
        ),
    )


def _column(
    project: Project, index: int, notes: _Notes, used: dict[str, Factor], gwp_set: str
) -> _Column:
    lm = project.models[index]
    model = lm.model
    ref = model.product.reference_quantity
    catalogue = project.catalogue_for(index)
    prefix = "" if index == 0 else f"{model.product.name} / "
    lines: list[_Line] = []
    for k, inp in enumerate(model.inputs):
        where = lm.where("inputs", k)
        label = f"{prefix}{inp.name}"
        ln = _Line(inp.name, inp.stage, inp.source_kind, "", where.line)
        if inp.product is not None:
            sub = project.links[(index, k)]
            ln.sub = sub
            ln.sub_amount = _in_reference_units(inp, project.models[sub], lm, k)
            ln.source = project.models[sub].model.product.name
        elif inp.pcf is not None:
            kg, per = co2e_per_unit(inp.pcf.unit, lm.where("inputs", k, "pcf", "unit"))
            amount = inp.amount * factor_between(
                inp.unit, per, f"input '{inp.name}' against its pcf unit '{inp.pcf.unit}'", where
            )
            basis = inp.pcf.gwp or "unspecified"
            ln.flows = {Flow(CO2E, inp.pcf.origin, basis): amount * kg * inp.pcf.value}
            ln.source = inp.pcf.source or "supplier PCF"
            _basis_note(basis, gwp_set, label, notes)
        else:
            factor = _factor_of(inp, model.product, catalogue, lm, k, label, notes)
            used[factor.id] = factor
            amount = inp.amount * factor_between(
                inp.unit,
                factor.unit,
                f"input '{inp.name}' against factor '{factor.id}' (per {factor.unit})",
                where,
            )
            ln.flows = {f: amount * kg for f, kg in _flows_of(factor).items()}
            ln.source = factor.id
            ln.flags = factor.flags
            for flag in factor.flags:
                notes.add(
                    "FLAGGED_FACTOR",
                    f"factor {factor.id} is marked {flag} in its source data (not confirmed "
                    f"against the official text; `openpcf factors show {factor.id}` says why)",
                    label,
                )
            if factor.co2e is not None:
                _basis_note(factor.gwp or "unspecified", gwp_set, label, notes)
        lines.append(ln)
    for k, em in enumerate(model.emissions):
        where = lm.where("emissions", k)
        kg = em.amount * factor_between(em.unit, "kg", f"emission of {em.gas}", where)
        origin = "" if em.origin == "fossil" else f" ({em.origin})"
        lines.append(_Line(
            em.name or f"direct {em.gas}{origin} emission", em.stage, "emission",
            f"{em.gas}{origin}", where.line,
            flows={Flow(em.gas, em.origin): kg},
        ))  # fmt: skip
    if any(c.mass is not None or c.price is not None for c in model.coproducts):
        notes.add(
            "COPRODUCT_SHARES_USED",
            "coproduct mass and price are recorded; the burden is split by the stated shares",
            model.product.name,
        )
    if model.product.rule:
        notes.add(
            "RULE_NOT_CHECKED",
            f"product rule '{model.product.rule}' is recorded but not checked by this version",
            model.product.name,
        )
    return _Column(model.main_share / ref.amount, lines)


def _factor_of(
    inp: Input,
    product: Product,
    catalogue,
    lm: LoadedModel,
    k: int,
    label: str,
    notes: _Notes,
) -> Factor:
    if inp.factor is not None:
        return catalogue.get(inp.factor, lm.where("inputs", k, "factor"), f"input '{inp.name}': ")
    spec = inp.electricity
    assert spec is not None
    where = lm.where("inputs", k, "electricity")
    region = spec.region or product.region
    year = spec.year or product.year
    if region is None or year is None:
        missing = "region" if region is None else "year"
        raise ModelError(
            f"input '{inp.name}': electricity.{missing} is not given and the product states no "
            f"{missing} to default to",
            where,
        )
    resolved = resolve_electricity(catalogue, region, year, spec.basis, where)
    if resolved.note:
        notes.add(resolved.code or "", resolved.note, label)
    return resolved.factor


def _flows_of(factor: Factor) -> dict[Flow, float]:
    if factor.gases is not None:
        return {Flow(gas, factor.origin): kg for gas, kg in factor.gases.items()}
    return {Flow(CO2E, factor.origin, factor.gwp or "unspecified"): float(factor.co2e or 0.0)}


def _basis_note(basis: str, gwp_set: str, label: str, notes: _Notes) -> None:
    if basis != gwp_set:
        said = "without a stated GWP set" if basis == "unspecified" else f"under {basis}"
        notes.add(
            "GWP_BASIS",
            f"CO2e values given {said} are used as given in this {gwp_set} result",
            label,
        )


def _reference_per_declared(lm: LoadedModel) -> float:
    """Reference units in one declared unit, times the declared amount."""
    product = lm.model.product
    ref, dec = product.reference_quantity, product.declared_unit
    where = lm.where("product", "conversion")
    if product.conversion is not None:
        return dec.amount * _ref_per_declared_unit(lm, where)
    if quantity_of(ref.unit).dimensionality == quantity_of(dec.unit).dimensionality:
        return dec.amount * factor_between(dec.unit, ref.unit, "declared unit to reference", where)
    raise UnitError(
        f"the reference unit '{ref.unit}' and declared unit '{dec.unit}' differ in "
        f"dimension; add product.conversion, e.g. {{from: 1 {ref.unit}, to: ... {dec.unit}}}",
        lm.where("product", "declared_unit"),
    )


def _ref_per_declared_unit(lm: LoadedModel, where: Location) -> float:
    product = lm.model.product
    ref, dec = product.reference_quantity, product.declared_unit
    conv = product.conversion
    assert conv is not None
    a = quantity_of(conv.from_, lm.where("product", "conversion", "from"))
    b = quantity_of(conv.to, lm.where("product", "conversion", "to"))
    a_ref = factor_between(str(a.units), ref.unit, "product.conversion.from", where) * a.magnitude
    b_dec = factor_between(str(b.units), dec.unit, "product.conversion.to", where) * b.magnitude
    if a_ref <= 0 or b_dec <= 0:
        raise UnitError("product.conversion amounts must be positive", where)
    return a_ref / b_dec


def _in_reference_units(inp: Input, sub: LoadedModel, lm: LoadedModel, k: int) -> float:
    """An input's amount in the sub-assembly's reference units (directly or via its conversion)."""
    where = lm.where("inputs", k, "unit")
    product = sub.model.product
    ref = product.reference_quantity
    what = f"input '{inp.name}' against sub-assembly '{product.name}' (made per {ref.unit})"
    if quantity_of(inp.unit, where).dimensionality == quantity_of(ref.unit).dimensionality:
        return inp.amount * factor_between(inp.unit, ref.unit, what, where)
    if product.conversion is not None and (
        quantity_of(inp.unit).dimensionality
        == quantity_of(product.declared_unit.unit).dimensionality
    ):
        in_declared = inp.amount * factor_between(inp.unit, product.declared_unit.unit, what, where)
        return in_declared * _ref_per_declared_unit(sub, sub.where("product", "conversion"))
    return inp.amount * factor_between(inp.unit, ref.unit, what, where)  # raises the unit error


def _use(f: Factor) -> FactorUse:
    return FactorUse(
        id=f.id,
        name=f.name,
        source=f.source,
        publisher=f.publisher,
        year=f.year,
        region=f.region,
        version=f.version,
        unit=f.unit,
        flags=f.flags,
    )
