"""EU CBAM specific embedded emissions of a good, per the EU's methodology.

Regulation (EU) 2023/956 Annex IV point 2 (simple goods) and point 3 (complex goods), with the
calculation rules of Implementing Regulation (EU) 2023/1773 Annex III, applied separately to
direct and to indirect emissions:

    SEE_g = (AttrEm_g + EE_InpMat) / AL_g,    EE_InpMat = Σ_i M_i × SEE_i

How a product model maps onto it:
- AL_g: the model's reference amount in tonnes (CBAM declares per tonne of good); the main
  product's allocation share (coproducts) applies as in the PCF (`inventory.main_share`).
- AttrEm_g direct: the model's direct emissions plus its fuel-combustion inputs (factors of
  kind `fuel-combustion`), counting only the gases CBAM counts for the sector (the product
  rule's `cbam.gases`) with AR5 GWP100, biogenic CO2 not counted (eu-cbam profile).
- AttrEm_g indirect: electricity inputs at the grid CO2 emission factor of the model's region
  and year (the eu-cbam profile's grid basis, with the direct-connection evidence it accepts);
  a basis stated in the model is overridden and noted.
- Precursors: sub-assembly inputs whose model names a CBAM product rule carry that model's
  own direct and indirect SEE (computed the same way, recursively; cycles are solved as one
  linear system) × the mass used ("actual"); inputs with a `cn_code` and no actual data take
  the Commission's default value of that CN code ("default").
- Everything else (non-precursor materials, transport, later life-cycle stages) is outside
  CBAM's boundary and is listed as excluded with its kg CO2e from the normal PCF.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from openpcf.domain.cbam import (
    CbamDeclaration,
    CbamDefault,
    CbamEmission,
    CbamExcluded,
    CbamPrecursor,
)
from openpcf.domain.errors import CalculationError, Location, ModelError, UnitError
from openpcf.domain.gases import CO2E, Flow
from openpcf.domain.methodology import Accounting, Cbam, ProductRule
from openpcf.domain.model import Input
from openpcf.domain.result import Note
from openpcf.factors.bundled import cbam_defaults, gwp_table
from openpcf.io.model_file import LoadedModel
from openpcf.rules.catalogue import product_rule, product_rules
from openpcf.services.calculation.calculate import (
    DEFAULT_PROFILE,
    accounting_for,
    calculate_under,
    provenance_of,
)
from openpcf.services.calculation.inventory import (
    Inventory,
    Line,
    Notes,
    build_inventory,
    main_share,
    reference_per_declared,
)
from openpcf.services.calculation.project import Project
from openpcf.units import factor_between, quantity_of

CBAM_PROFILE = "eu-cbam"
_REGULATION = "Regulation (EU) 2023/956 Annex IV; Implementing Regulation (EU) 2023/1773 Annex III"


@dataclass
class _Precursor:
    name: str
    line: int | None
    cn_code: str | None
    mass_t: float  # per t of this model's good
    sub: int | None = None  # actual: the precursor's model index
    default: CbamDefault | None = None
    see_direct: float = 0.0  # default values; actual ones come from the solve
    see_indirect: float = 0.0
    flags: tuple[str, ...] = ()


@dataclass
class _Excluded:
    index: int  # line index in the model's column (inputs, then emissions)
    name: str
    stage: str
    kind: str
    reason: str
    line: int | None


@dataclass
class _Good:
    """One CBAM good's own process per tonne: attributed emissions, precursors, exclusions."""

    rule: ProductRule
    cbam: Cbam
    activity_t: float
    share: float
    allocation: str
    direct: list[CbamEmission] = field(default_factory=list)
    indirect: list[CbamEmission] = field(default_factory=list)
    precursors: list[_Precursor] = field(default_factory=list)
    excluded: list[_Excluded] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)  # lines whose own flows the SEE uses

    @property
    def own_direct(self) -> float:
        """Attributed direct emissions plus default-valued precursors' direct, per t."""
        return sum(e.t_co2e for e in self.direct) + sum(
            p.mass_t * p.see_direct for p in self.precursors if p.sub is None
        )

    @property
    def own_indirect(self) -> float:
        return sum(e.t_co2e for e in self.indirect) + sum(
            p.mass_t * p.see_indirect for p in self.precursors if p.sub is None
        )


def cbam_rules() -> list[str]:
    """Ids of the product rules that describe a CBAM good."""
    return sorted(r.id for r in product_rules().values() if r.cbam)


def embedded_emissions(project: Project) -> CbamDeclaration:
    """The CBAM declaration of the project's target model: SEE direct, indirect, precursors."""
    target = project.models[0]
    rule = _cbam_rule(target, required=True)
    assert rule is not None and rule.cbam is not None
    acc = accounting_for(CBAM_PROFILE)
    notes = Notes()
    grid_project = _grid_co2_electricity(project, acc, notes)
    inv = build_inventory(grid_project, acc)

    goods: dict[int, _Good] = {}
    order = [0]
    while len(goods) < len(order):
        m = order[len(goods)]
        goods[m] = _good(grid_project, inv, m, acc, notes)
        for p in goods[m].precursors:
            if p.sub is not None and p.sub not in order:
                order.append(p.sub)

    see_d, see_i, amounts = _solve(project, goods, order)
    at = {m: k for k, m in enumerate(order)}
    good = goods[0]
    precursors = tuple(
        _precursor_out(p, project, see_d[at[p.sub]] if p.sub is not None else p.see_direct,
                       see_i[at[p.sub]] if p.sub is not None else p.see_indirect)
        for p in good.precursors
    )  # fmt: skip
    attributed_d = sum(e.t_co2e for e in good.direct)
    attributed_i = sum(e.t_co2e for e in good.indirect)
    pre_d = sum(p.direct for p in precursors)
    pre_i = sum(p.indirect for p in precursors)
    if not np.isclose(attributed_d + pre_d, see_d[0], rtol=1e-9, atol=1e-12) or not np.isclose(
        attributed_i + pre_i, see_i[0], rtol=1e-9, atol=1e-12
    ):
        raise CalculationError("internal check failed: CBAM lines do not add up to the SEE")
    see_direct, see_indirect = float(see_d[0]), float(see_i[0])
    see_total = see_direct + see_indirect
    definitive = see_direct + (see_indirect if rule.cbam.indirect_in_definitive else 0.0)

    # defaults anywhere in the chain, weighted by the t of each good per t of the target
    defaults = [
        (m, p, float(amounts[at[m]]) * p.mass_t * (p.see_direct + p.see_indirect))
        for m in order
        for p in goods[m].precursors
        if p.sub is None
    ]
    default_share = sum(t for _, _, t in defaults) / see_total if see_total else 0.0
    _default_notes(project, defaults, default_share, notes)
    _indirect_note(rule, notes)

    excluded = _excluded(project, goods, order, amounts)
    product = target.model.product
    return CbamDeclaration(
        product=product.name,
        product_id=product.id,
        rule=rule.id,
        sector=rule.cbam.sector,
        cn_codes=rule.cbam.cn_codes,
        activity_level_t=good.activity_t,
        allocation_share=good.share,
        allocation=good.allocation,
        gwp=acc.gwp,
        gases=rule.cbam.gases,
        direct=tuple(good.direct),
        indirect=tuple(good.indirect),
        precursors=precursors,
        excluded=excluded,
        attributed_direct=attributed_d,
        attributed_indirect=attributed_i,
        precursors_direct=pre_d,
        precursors_indirect=pre_i,
        see_direct=see_direct,
        see_indirect=see_indirect,
        see_total=see_total,
        indirect_in_definitive=rule.cbam.indirect_in_definitive,
        see_definitive=definitive,
        default_share=default_share,
        pcf_profile=DEFAULT_PROFILE,
        notes=_relevant(inv, goods) + notes.as_tuple(),
        provenance=provenance_of(project),
    )


def _relevant(inv: Inventory, goods: dict[int, _Good]) -> tuple[Note, ...]:
    """The inventory's notes on lines whose flows the SEE uses (not on excluded lines, nor on
    precursors whose default value replaces their factor)."""
    used = set().union(*(g.labels for g in goods.values()))
    return tuple(
        n
        for n in inv.notes.as_tuple()
        if n.input is None or any(label in used for label in n.input.split("; "))
    )


def _cbam_rule(lm: LoadedModel, required: bool = False) -> ProductRule | None:
    """The model's product rule when it describes a CBAM good; else None (or an error)."""
    rule_id = lm.model.product.rule
    rule = product_rule(rule_id, lm.where("product", "rule")) if rule_id else None
    if rule is not None and rule.cbam is not None:
        return rule
    if not required:
        return None
    said = f"names product rule '{rule_id}', which is not a CBAM good" if rule_id else (
        "names no product rule"
    )  # fmt: skip
    raise ModelError(
        f"CBAM embedded emissions need a product rule of a CBAM good: the model {said}; set "
        f"product.rule to one of the CBAM rules: {', '.join(cbam_rules())}",
        lm.where("product", "rule") if rule_id else lm.where("product"),
    )


def _grid_co2_electricity(project: Project, acc: Accounting, notes: Notes) -> Project:
    """The project with every electricity input on the profile's grid basis (grid CO2)."""
    models = []
    for lm in project.models:
        inputs = list(lm.model.inputs)
        changed = False
        for k, inp in enumerate(inputs):
            spec = inp.electricity
            if spec is None or spec.basis in (None, acc.grid_basis):
                continue
            inputs[k] = inp.model_copy(
                update={"electricity": spec.model_copy(update={"basis": None})}
            )
            changed = True
            notes.add(
                "CBAM_GRID_CO2",
                f"the model states electricity basis '{spec.basis}'; CBAM indirect emissions use "
                f"the grid CO2 emission factor ({acc.grid_basis}) of the region and year "
                "(Implementing Regulation (EU) 2023/1773 Annex III), which is used instead",
                inp.name,
            )
        models.append(
            replace(lm, model=lm.model.model_copy(update={"inputs": inputs})) if changed else lm
        )
    return replace(project, models=tuple(models))


def _activity_t(lm: LoadedModel) -> float:
    ref = lm.model.product.reference_quantity
    where = lm.where("product", "reference" if lm.model.product.reference else "declared_unit")
    if quantity_of(ref.unit, where).dimensionality != quantity_of("t").dimensionality:
        raise UnitError(
            f"CBAM embedded emissions are declared per tonne of good, but "
            f"'{lm.model.product.name}' is made per {ref.amount:g} {ref.unit} (not a mass); "
            "give the model a mass reference amount (product.reference, e.g. {amount: 1, unit: t})",
            where,
        )
    return ref.amount * factor_between(ref.unit, "t", "product reference amount", where)


def _good(project: Project, inv: Inventory, m: int, acc: Accounting, notes: Notes) -> _Good:
    lm = project.models[m]
    model = lm.model
    rule = _cbam_rule(lm, required=True)
    assert rule is not None and rule.cbam is not None
    if rule.cbam.sector == "electricity":
        raise ModelError(
            f"'{model.product.name}' is CBAM electricity, whose embedded emissions are declared "
            "per MWh with their own default-value rules (Regulation (EU) 2023/956 Annex IV "
            "points 4.2 and 5); `openpcf cbam` covers goods declared per tonne",
            lm.where("product", "rule"),
        )
    share, allocation = main_share(lm, acc)
    activity = _activity_t(lm)
    per_t = share / activity  # per reference amount -> per t of good, after allocation
    good = _Good(rule, rule.cbam, activity, share, allocation)
    prefix = "" if m == 0 else f"{model.product.name} / "
    counted = _counter(rule.cbam, acc, notes)
    n_inputs = len(model.inputs)
    for j, ln in enumerate(inv.columns[m].lines):
        inp = model.inputs[j] if j < n_inputs else None
        label = prefix + ln.name
        if ln.stage in acc.excluded_stages:
            good.excluded.append(_Excluded(j, ln.name, ln.stage, ln.kind,
                                           f"stage {ln.stage} is after production: outside "
                                           "CBAM's embedded emissions", ln.line))  # fmt: skip
            continue
        if inp is not None and inp.cn_code is not None:
            good.precursors.append(_precursor(project, lm, j, inp, ln, per_t, label, notes))
            continue
        if ln.kind == "product" and ln.sub is not None and _cbam_rule(project.models[ln.sub]):
            good.precursors.append(_actual(project, ln, per_t))
            continue
        factor = inv.used.get(ln.source) if ln.kind == "factor" else None
        if ln.kind == "emission" or (factor is not None and factor.kind == "fuel-combustion"):
            good.direct.append(_emission(ln, per_t, counted, acc.gwp, label))
            good.labels.add(label)
        elif ln.kind == "electricity":
            assert inp is not None
            mwh = inp.amount * factor_between(inp.unit, "MWh", f"input '{inp.name}'") * per_t
            good.indirect.append(_emission(ln, per_t, counted, acc.gwp, label, mwh))
            good.labels.add(label)
        else:
            why = {
                "product": "a sub-assembly whose model names no CBAM product rule, without "
                "cn_code: not a relevant precursor (if it is a CBAM good, name its rule in its "
                "model or give this input its cn_code)",
                "pcf": "a purchased material without cn_code: not a relevant precursor",
            }.get(ln.kind, "not a fuel combusted in the process nor a relevant precursor "
                           "(no cn_code)")  # fmt: skip
            good.excluded.append(_Excluded(j, ln.name, ln.stage, ln.kind, why, ln.line))
    return good


Counts = Callable[[Flow, str], bool]


def _counter(cbam: Cbam, acc: Accounting, notes: Notes) -> Counts:
    """(flow, label) -> whether CBAM counts that flow for the sector, noting CO2e used as given."""
    gases = set(cbam.gases)

    def counts(flow: Flow, label: str) -> bool:
        if flow.gas == CO2E:
            notes.add(
                "CBAM_CO2E_AS_GIVEN",
                f"a value known only as CO2e cannot be split into gases; it is counted as given, "
                f"although CBAM counts only {', '.join(cbam.gases)} for sector {cbam.sector}",
                label,
            )
            return True
        if flow.gas not in gases:
            return False
        if flow.gas == "CO2" and flow.origin == "biogenic":
            return acc.biogenic_in_total
        return not (flow.origin == "land-use" and not acc.dluc_in_total)

    return counts


def _emission(
    ln: Line, per_t: float, counts: Counts, gwp: str, label: str, mwh: float | None = None
) -> CbamEmission:
    table = gwp_table()
    counted = 0.0
    left: dict[str, float] = {}
    for f, kg in ln.flows.items():
        t = kg * table.gwp(f, gwp) * per_t / 1000.0
        if counts(f, label):
            counted += t
        else:
            key = f.label()
            left[key] = left.get(key, 0.0) + t
    return CbamEmission(
        name=ln.name, stage=ln.stage, kind=ln.kind, source=ln.source, line=ln.line,
        t_co2e=counted, not_counted=left, electricity_mwh=mwh, flags=ln.flags,
    )  # fmt: skip


def _actual(project: Project, ln: Line, per_t: float) -> _Precursor:
    assert ln.sub is not None
    sub = project.models[ln.sub]
    ref = sub.model.product.reference_quantity
    mass = ln.sub_amount * factor_between(
        ref.unit, "t", f"sub-assembly '{sub.model.product.name}' reference amount"
    )
    return _Precursor(ln.name, ln.line, None, mass * per_t, sub=ln.sub)


def _precursor(
    project: Project,
    lm: LoadedModel,
    j: int,
    inp: Input,
    ln: Line,
    per_t: float,
    label: str,
    notes: Notes,
) -> _Precursor:
    """An input with a cn_code: actual data from its CBAM model, else the default value."""
    where = lm.where("inputs", j, "cn_code")
    if ln.kind == "electricity":
        raise ModelError(
            f"input '{inp.name}': cn_code marks a purchased CBAM good used as a precursor; "
            "electricity consumed is an indirect emission, not a precursor; remove cn_code",
            where,
        )
    code = inp.cn_code or ""
    if ln.kind == "product" and ln.sub is not None:
        sub_rule = _cbam_rule(project.models[ln.sub])
        if sub_rule is not None and sub_rule.cbam is not None:
            if _key(code) not in {_key(c) for c in sub_rule.cbam.cn_codes}:
                notes.add(
                    "CBAM_CN_CODE_MISMATCH",
                    f"cn_code '{code}' is not among the CN codes of product rule "
                    f"'{sub_rule.id}' ({', '.join(sub_rule.cbam.cn_codes)}) that the "
                    "sub-assembly's model names; its actual data are used",
                    label,
                )
            pre = _actual(project, ln, per_t)
            pre.cn_code = code
            return pre
        notes.add(
            "CBAM_DEFAULT_FOR_SUB_ASSEMBLY",
            "the sub-assembly's model names no CBAM product rule, so it gives no actual "
            "embedded emissions; the default value of its cn_code is used",
            label,
        )
    default = _default(code, where)
    mass = (
        inp.amount
        * factor_between(
            inp.unit, "t", f"input '{inp.name}' (a CBAM precursor, counted per tonne)",
            lm.where("inputs", j, "unit"),
        )
        * per_t
    )  # fmt: skip
    if default.direct is not None:
        direct, indirect = default.direct, default.indirect or 0.0
        if default.indirect is None:
            notes.add(
                "CBAM_DEFAULT_NO_INDIRECT",
                f"the default value of CN {default.cn_code} ({default.period}) states no "
                "indirect emissions; 0 is used for them",
                label,
            )
    else:
        assert default.total is not None
        direct, indirect = default.total, 0.0
        notes.add(
            "CBAM_DEFAULT_TOTAL_ONLY",
            f"only a total default value ({default.total:g} t CO2e/t) is published for CN "
            f"{default.cn_code}; it is used as direct emissions (indirect 0)",
            label,
        )
    return _Precursor(
        inp.name, ln.line, default.cn_code, mass, default=default,
        see_direct=direct, see_indirect=indirect, flags=default.flags,
    )  # fmt: skip


def _key(code: str) -> str:
    return "".join(code.split())


def _default(code: str, where: Location) -> CbamDefault:
    defaults = cbam_defaults()
    if code in defaults:
        return defaults[code]
    for known, d in defaults.items():
        if _key(known) == _key(code):
            return d
    raise ModelError(
        f"no CBAM default value for CN code '{code}'; known CN codes: "
        + ", ".join(f"{c} ({d.description})" for c, d in defaults.items()),
        where,
    )


def _solve(
    project: Project, goods: dict[int, _Good], order: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SEE direct and indirect of every good, and tonnes of each good per t of the target.

    SEE = own + P · SEE, with P[i, j] the t of good j used per t of good i: solved as one
    linear system, so precursor cycles are solved, not recursed into.
    """
    at = {m: k for k, m in enumerate(order)}
    n = len(order)
    p = np.zeros((n, n))
    for m, good in goods.items():
        for pre in good.precursors:
            if pre.sub is not None:
                p[at[m], at[pre.sub]] += pre.mass_t
    own_d = np.array([goods[m].own_direct for m in order])
    own_i = np.array([goods[m].own_indirect for m in order])
    if n > 1 and max(abs(np.linalg.eigvals(p))) >= 1.0 - 1e-12:
        names = " -> ".join(project.models[m].model.product.name for m in order)
        raise CalculationError(
            f"the precursor cycle among [{names}] consumes at least as much as it produces; "
            "check the amounts of the inputs that close the cycle"
        )
    system = np.eye(n) - p
    unit = np.zeros(n)
    unit[0] = 1.0
    return (
        np.linalg.solve(system, own_d),
        np.linalg.solve(system, own_i),
        np.linalg.solve(system.T, unit),
    )


def _precursor_out(p: _Precursor, project: Project, see_d: float, see_i: float) -> CbamPrecursor:
    if p.sub is not None:
        sub = project.models[p.sub]
        source = (
            f"actual: {sub.model.product.name} ({sub.path.name}, rule {sub.model.product.rule})"
        )
        data = "actual"
    else:
        assert p.default is not None
        d = p.default
        source = f"default: {d.source} ({d.publisher}, {d.published}; {d.region}; {d.period})"
        data = "default"
    return CbamPrecursor(
        name=p.name, data=data, cn_code=p.cn_code, line=p.line, mass_t=p.mass_t,
        see_direct=float(see_d), see_indirect=float(see_i), direct=float(p.mass_t * see_d),
        indirect=float(p.mass_t * see_i), source=source, flags=p.flags,
    )  # fmt: skip


def _default_notes(
    project: Project, defaults: list[tuple[int, _Precursor, float]], share: float, notes: Notes
) -> None:
    if not defaults:
        return

    def label(m: int, p: _Precursor) -> str:
        return p.name if m == 0 else f"{project.models[m].model.product.name} / {p.name}"

    names = "; ".join(label(m, p) for m, p, _ in defaults)
    notes.add(
        "CBAM_DEFAULT_VALUES",
        f"default values are used for precursor(s) {names}: the CBAM report must mark these "
        f"emissions as determined from default values ({share:.1%} of the total SEE). In the "
        "transitional period, estimates including default values are allowed for up to 20% of "
        "the total specific embedded emissions of complex goods (EC CBAM Q&A, "
        "shared/data/cbam_rules.csv)" + ("; this good is above that limit" if share > 0.2 else ""),
    )
    for m, p, _ in defaults:
        if "VERIFY" in p.flags:
            notes.add(
                "FLAGGED_DEFAULT",
                f"the default value of CN {p.cn_code} is marked VERIFY in its source data (a "
                "single secondary transcription or so marked); check it against the "
                "Commission's table",
                label(m, p),
            )


def _indirect_note(rule: ProductRule, notes: Notes) -> None:
    assert rule.cbam is not None
    if rule.cbam.indirect_in_definitive:
        said = "count"
    else:
        said = "are reported in the transitional period but do not count"
    notes.add(
        "CBAM_INDIRECT",
        f"indirect emissions of sector {rule.cbam.sector} {said} in the definitive period "
        f"(from 2026; product rule '{rule.id}', cbam.indirect_in_definitive); the indirect "
        "part of precursors follows the same rule",
    )


def _excluded(
    project: Project, goods: dict[int, _Good], order: list[int], amounts: np.ndarray
) -> tuple[CbamExcluded, ...]:
    """What each good leaves out, in kg CO2e per t of the target good in the normal PCF."""
    out: list[CbamExcluded] = []
    for k, m in enumerate(order):
        good = goods[m]
        if not good.excluded:
            continue
        per_line = _normal_pcf_per_t(project, m, good.activity_t)
        prefix = "" if m == 0 else f"{project.models[m].model.product.name} / "
        for e in good.excluded:
            out.append(CbamExcluded(
                name=prefix + e.name, stage=e.stage, kind=e.kind, reason=e.reason,
                kg_co2e=float(per_line[e.index] * amounts[k]), line=e.line,
            ))  # fmt: skip
    return tuple(out)


def _normal_pcf_per_t(project: Project, m: int, activity_t: float) -> list[float]:
    """kg CO2e of each line of model m per t of its good, in the default-profile PCF."""
    rooted = _rooted_at(project, m)
    acc = replace(accounting_for(DEFAULT_PROFILE), excluded_stages=())
    result = calculate_under(rooted, acc)
    lm = project.models[m]
    ref = lm.model.product.reference_quantity
    per_ref_amount = ref.amount / reference_per_declared(lm)  # declared amounts per reference
    return [c.kg_co2e * per_ref_amount / activity_t for c in result.contributions]


def _rooted_at(project: Project, m: int) -> Project:
    """The same project with model m as its target."""
    if m == 0:
        return project
    order = [m] + [i for i in range(len(project.models)) if i != m]
    new = {old: k for k, old in enumerate(order)}
    return replace(
        project,
        models=tuple(project.models[i] for i in order),
        links={(new[i], k): new[s] for (i, k), s in project.links.items()},
    )
