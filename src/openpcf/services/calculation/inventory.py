"""Turn a project's models into per-line flows and per-model columns under an `Accounting`.

Each model is one process producing its reference amount. A line (input or direct emission)
holds its flows per reference amount before allocation, or, for a sub-assembly, how much of it
the line consumes (in the sub-assembly's reference units). The column scale is the main
product's allocation share divided by the reference amount.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openpcf.domain.errors import Location, ModelError, UnitError
from openpcf.domain.factor import Factor
from openpcf.domain.gases import CO2E, Flow
from openpcf.domain.methodology import Accounting
from openpcf.domain.model import DataQuality, DirectConnection, Electricity, Input, Product
from openpcf.domain.result import Note
from openpcf.factors.catalogue import Catalogue
from openpcf.factors.electricity import (
    direct_connection_failures,
    generation_factor,
    resolve_electricity,
)
from openpcf.io.lci_units import conversion as lci_conversion
from openpcf.io.model_file import LoadedModel
from openpcf.rules.catalogue import product_rule
from openpcf.services.calculation.project import Project
from openpcf.services.lci.databases import background_process
from openpcf.units import co2e_per_unit, factor_between, quantity_of


@dataclass
class Line:
    """One input or direct emission of a model."""

    name: str
    stage: str
    kind: str
    source: str
    line: int | None
    flows: dict[Flow, float] = field(default_factory=dict)
    sub: int | None = None  # sub-assembly model index
    sub_amount: float = 0.0  # in the sub-assembly's reference units
    flags: tuple[str, ...] = ()
    primary: bool = False
    dq: DataQuality | None = None
    database: str | None = None  # name@version of the background database it draws on
    # for Monte Carlo (services/calculation/uncertainty.py):
    input: Input | None = None  # the model input it comes from (its amount's uncertainty)
    parts: tuple[tuple[Factor, dict[Flow, float]], ...] = ()  # flows by the factor giving them
    background: tuple[str, int, float] | None = None  # (database, column, amount in its unit)


@dataclass
class Column:
    scale: float  # main-product share / reference amount
    lines: list[Line]
    allocation: str  # how the main-product share was set


class Notes:
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
class Inventory:
    columns: list[Column]
    notes: Notes
    used: dict[str, Factor]

    @property
    def databases(self) -> tuple[str, ...]:
        """name@version of every background database a line draws on."""
        return tuple(sorted({ln.database for c in self.columns for ln in c.lines if ln.database}))


def build_inventory(project: Project, accounting: Accounting) -> Inventory:
    notes, used = Notes(), {}
    columns = [_column(project, i, accounting, notes, used) for i in range(len(project.models))]
    return Inventory(columns, notes, used)


def _column(
    project: Project, index: int, acc: Accounting, notes: Notes, used: dict[str, Factor]
) -> Column:
    lm = project.models[index]
    model = lm.model
    catalogue = project.catalogue_for(index)
    prefix = "" if index == 0 else f"{model.product.name} / "
    lines: list[Line] = []
    for k, inp in enumerate(model.inputs):
        where = lm.where("inputs", k)
        label = f"{prefix}{inp.name}"
        ln = Line(
            inp.name, inp.stage, inp.source_kind, "", where.line, primary=inp.primary,
            dq=inp.dq, input=inp,
        )  # fmt: skip
        if inp.product is not None:
            sub = project.links[(index, k)]
            ln.sub = sub
            ln.sub_amount = in_reference_units(inp, project.models[sub], lm, k)
            ln.source = project.models[sub].model.product.name
        elif inp.pcf is not None:
            kg, per = co2e_per_unit(inp.pcf.unit, lm.where("inputs", k, "pcf", "unit"))
            amount = inp.amount * factor_between(
                inp.unit, per, f"input '{inp.name}' against its pcf unit '{inp.pcf.unit}'", where
            )
            basis = inp.pcf.gwp or "unspecified"
            ln.flows = {Flow(CO2E, inp.pcf.origin, basis): amount * kg * inp.pcf.value}
            ln.source = inp.pcf.source or "supplier PCF"
            _basis_note(basis, acc.gwp, label, notes)
        elif inp.electricity is not None:
            _electricity_line(ln, inp, model.product, catalogue, lm, k, label, acc, notes, used)
        elif inp.process is not None:
            _process_line(ln, inp, lm, k, label, notes)
        else:
            assert inp.factor is not None
            factor = catalogue.get(
                inp.factor, lm.where("inputs", k, "factor"), f"input '{inp.name}': "
            )
            ln.flows = _scaled(factor, inp, where, used, label, acc, notes)
            ln.parts = ((factor, ln.flows),)
            ln.source = factor.id
            ln.flags = factor.flags
        lines.append(ln)
    for k, em in enumerate(model.emissions):
        where = lm.where("emissions", k)
        kg = em.amount * factor_between(em.unit, "kg", f"emission of {em.gas}", where)
        origin = "" if em.origin == "fossil" else f" ({em.origin})"
        lines.append(Line(
            em.name or f"direct {em.gas}{origin} emission", em.stage, "emission",
            f"{em.gas}{origin}", where.line, flows={Flow(em.gas, em.origin): kg}, primary=True,
        ))  # fmt: skip
    share, method = main_share(lm, acc)
    return Column(share / model.product.reference_quantity.amount, lines, method)


def _scaled(
    factor: Factor,
    inp: Input,
    where: Location,
    used: dict[str, Factor],
    label: str,
    acc: Accounting,
    notes: Notes,
    amount: float | None = None,
) -> dict[Flow, float]:
    """The flows of `amount` (default: the input's amount) of the input's unit under `factor`."""
    used[factor.id] = factor
    qty = (inp.amount if amount is None else amount) * factor_between(
        inp.unit, factor.unit,
        f"input '{inp.name}' against factor '{factor.id}' (per {factor.unit})", where,
    )  # fmt: skip
    for flag in factor.flags:
        notes.add(
            "FLAGGED_FACTOR",
            f"factor {factor.id} is marked {flag} in its source data (not confirmed against the "
            f"official text; `openpcf factors show {factor.id}` says why)",
            label,
        )
    if factor.gases is not None:
        return {Flow(gas, factor.origin): qty * kg for gas, kg in factor.gases.items()}
    _basis_note(factor.gwp or "unspecified", acc.gwp, label, notes)
    return {Flow(CO2E, factor.origin, factor.gwp or "unspecified"): qty * float(factor.co2e or 0)}


def _process_line(ln: Line, inp: Input, lm: LoadedModel, k: int, label: str, notes: Notes) -> None:
    """Amount in the process's reference unit × its per-gas cradle-to-gate inventory."""
    assert inp.process is not None
    bg = background_process(inp.process, lm.where("inputs", k, "process"))
    if bg.unmapped:
        notes.add(
            "UNMAPPED_GHG_UPSTREAM",
            f"the supply chain of {bg.database}/{bg.process.key} emits greenhouse-gas flows the "
            f"GHG map gives no gas, left out of this footprint: {'; '.join(bg.unmapped[:10])}",
            label,
        )
    ref = bg.process
    qty = inp.amount * lci_conversion(
        inp.unit, ref.unit,
        f"input '{inp.name}' against process '{ref.name}' (per {ref.unit} of "
        f"{ref.reference_product})", lm.where("inputs", k, "unit"),
    )  # fmt: skip
    ln.flows = {f: qty * kg for f, kg in bg.flows.items()}
    ln.source = f"{bg.database}/{ref.key} ({ref.name})"
    ln.database = bg.database
    ln.background = (bg.database, ref.index, qty)


def _electricity_line(
    ln: Line,
    inp: Input,
    product: Product,
    catalogue: Catalogue,
    lm: LoadedModel,
    k: int,
    label: str,
    acc: Accounting,
    notes: Notes,
    used: dict[str, Factor],
) -> None:
    """Grid average for what green evidence does not cover, as the profile accepts evidence."""
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
    basis = spec.basis or acc.grid_basis
    if spec.basis and spec.basis != acc.grid_basis:
        notes.add(
            "ELECTRICITY_BASIS_STATED",
            f"the model states electricity basis '{spec.basis}'; profile {acc.profile} asks "
            f"for '{acc.grid_basis}'",
            label,
        )
    grid = resolve_electricity(catalogue, region, year, basis, where)
    if grid.note:
        notes.add(grid.code or "", grid.note, label)
    green = _green_parts(spec, inp, catalogue, lm, k, year, label, acc, notes)
    covered = sum(share for share, _ in green)
    flows: dict[Flow, float] = {}
    parts = []
    for share, factor in [(1.0 - covered, grid.factor), *green]:
        if share <= 0:
            continue
        part = _scaled(factor, inp, where, used, label, acc, notes, inp.amount * share)
        parts.append((factor, part))
        for f, kg in part.items():
            flows[f] = flows.get(f, 0.0) + kg
    ln.flows = flows
    ln.parts = tuple(parts)
    ln.source = " + ".join([grid.factor.id] + [f"{f.id} ({s:.1%})" for s, f in green])
    ln.flags = tuple(sorted({fl for _, f in green for fl in f.flags} | set(grid.factor.flags)))


def _green_parts(
    spec: Electricity,
    inp: Input,
    catalogue: Catalogue,
    lm: LoadedModel,
    k: int,
    year: int,
    label: str,
    acc: Accounting,
    notes: Notes,
) -> list[tuple[float, Factor]]:
    """(share of this input, generation factor) for each accepted piece of green evidence."""
    parts: list[tuple[float, Factor]] = []
    dc = spec.direct_connection
    if dc is not None:
        where = lm.where("inputs", k, "electricity", "direct_connection")
        kwh = direct_connection_kwh(dc, where)
        dc_year = dc.year or year
        failures = direct_connection_failures(
            kwh["project_generation"], kwh["on_site_use"], kwh["consumption"], dc_year
        )
        for failure in failures:
            notes.add("DIRECT_CONNECTION_REJECTED", failure, label)
        if dc.metered is None:
            notes.add("DIRECT_CONNECTION_DECLARED", "direct connection: declared, not metered "
                      "(typed quantities, not stored readings)", label)  # fmt: skip
        else:
            m, q = dc.meters, kwh
            notes.add("DIRECT_CONNECTION_METERED", (
                f"direct connection metered: {dc.metered.readings} stored readings of site "
                f"'{m.site if m else '?'}' from {m.start if m else '?'} to {m.end if m else '?'}: "
                f"generation {q['project_generation']:g} kWh, on-site use {q['on_site_use']:g} "
                f"kWh, consumption {q['consumption']:g} kWh; ledger entries "
                f"{', '.join(map(str, dc.metered.ledger_entries)) or 'none'}"
            ), label)  # fmt: skip
        if "direct-connection" not in acc.accepts:
            notes.add(
                "EVIDENCE_NOT_ACCEPTED",
                f"profile {acc.profile} does not accept direct-connection evidence; the grid "
                "average is used",
                label,
            )
        elif not failures:
            resolved = generation_factor(catalogue, dc.generation, dc_year)
            if resolved.note:
                notes.add(resolved.code or "", resolved.note, label)
            parts.append((kwh["on_site_use"] / kwh["consumption"], resolved.factor))
    certs = spec.certificates
    if certs is not None:
        where = lm.where("inputs", k, "electricity", "certificates")
        consumed = certs.consumption.amount * factor_between(
            certs.consumption.unit, "kWh", "certificates.consumption", where
        )
        if "certificates" not in acc.accepts:
            notes.add(
                "EVIDENCE_NOT_ACCEPTED",
                f"profile {acc.profile} does not accept green electricity certificates; the "
                "grid average is used for the electricity they cover",
                label,
            )
            return parts
        by_type: dict[str, float] = {}
        for c in certs.claims:
            kwh = c.amount * factor_between(c.unit, "kWh", f"certificate {c.id}", where)
            by_type[c.generation] = by_type.get(c.generation, 0.0) + kwh
        for generation, kwh in by_type.items():
            resolved = generation_factor(catalogue, generation, year)
            if resolved.note:
                notes.add(resolved.code or "", resolved.note, label)
            parts.append((kwh / consumed, resolved.factor))
    total = sum(s for s, _ in parts)
    if total > 1 + 1e-12:
        raise ModelError(
            f"input '{inp.name}': green evidence covers {total:.1%} of the consumption; "
            "certificates and direct connection together cannot exceed 100%",
            lm.where("inputs", k, "electricity"),
        )
    return parts


def direct_connection_kwh(dc: DirectConnection, where: Location | None = None) -> dict[str, float]:
    """The quantities of a direct connection in kWh, by field name: from the stored readings
    where it names meters (resolved by `services.monitoring.direct_connection`), else typed."""
    if dc.metered is not None:
        return dict(dc.metered.kwh)
    if dc.meters is not None:
        raise ModelError(
            f"the direct connection names meters of site '{dc.meters.site}'; its readings are "
            "read where they are stored: compute it on the platform, or in this installation "
            "after `openpcf monitor` has stored them",
            where,
        )
    out = {}
    for name in ("project_generation", "on_site_use", "consumption"):
        q = getattr(dc, name)
        out[name] = q.amount * factor_between(q.unit, "kWh", f"direct_connection.{name}", where)
    return out


def _basis_note(basis: str, gwp_set: str, label: str, notes: Notes) -> None:
    if basis != gwp_set:
        said = "without a stated GWP set" if basis == "unspecified" else f"under {basis}"
        notes.add(
            "GWP_BASIS",
            f"CO2e values given {said} are used as given in this {gwp_set} result",
            label,
        )


def main_share(lm: LoadedModel, acc: Accounting) -> tuple[float, str]:
    """The main product's share of the burden and the method that set it."""
    model = lm.model
    if not model.coproducts:
        return 1.0, "none needed"
    if model.stated_shares:
        return 1.0 - sum(c.share or 0.0 for c in model.coproducts), "stated shares"
    rule = (
        product_rule(model.product.rule, lm.where("product", "rule"))
        if model.product.rule
        else None
    )
    order = (rule.allocation,) if rule and rule.allocation else acc.allocation
    for method in order:
        if method == "physical" and (masses := _masses(lm)) is not None:
            return masses[0] / sum(masses), "physical (mass)"
        if method == "economic" and (prices := _prices(lm)) is not None:
            return prices[0] / sum(prices), "economic (price)"
    raise ModelError(
        f"the coproducts state no share, and allocation by {', '.join(order)} lacks data: "
        "give every coproduct a share, or a mass (and a mass reference amount), or a price "
        "(and product.price)",
        lm.where("coproducts"),
    )


def _masses(lm: LoadedModel) -> list[float] | None:
    product = lm.model.product
    ref = product.reference_quantity
    if not _is_mass(ref.unit):
        return None
    masses = [ref.amount * factor_between(ref.unit, "kg", "product.reference")]
    for i, c in enumerate(lm.model.coproducts):
        where = lm.where("coproducts", i)
        if c.mass is not None:
            masses.append(
                c.mass.amount
                * factor_between(c.mass.unit, "kg", f"coproduct '{c.name}' mass", where)
            )
        elif _is_mass(c.unit):
            masses.append(c.amount * factor_between(c.unit, "kg", f"coproduct '{c.name}'", where))
        else:
            return None
    return masses


def _prices(lm: LoadedModel) -> list[float] | None:
    prices = [lm.model.product.price, *(c.price for c in lm.model.coproducts)]
    if any(p is None for p in prices) or not sum(p or 0 for p in prices):
        return None
    return [float(p or 0) for p in prices]


def _is_mass(unit: str) -> bool:
    return quantity_of(unit).dimensionality == quantity_of("kg").dimensionality


def reference_per_declared(lm: LoadedModel) -> float:
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


def in_reference_units(inp: Input, sub: LoadedModel, lm: LoadedModel, k: int) -> float:
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
