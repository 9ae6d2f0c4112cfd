"""openLCA JSON-LD (olca-schema 2) export of a product model, its sub-assemblies and its result.

What goes into the zip:

- one unit process per model (the target and each sub-assembly): its reference product as the
  quantitative-reference output (reference amount and unit), every input as an input exchange
  with its amount and unit as written, direct emissions as elementary-flow outputs (kg of the
  gas; a removal stays a negative output), coproducts as product outputs (stated shares as
  physical allocation factors). A sub-assembly input names the sub-assembly's process as its
  default provider.
- flows: one product flow per model, per factor/electricity/supplier-PCF input (inputs sharing a
  factor id share a flow), one elementary flow per gas and origin ("Carbon dioxide, fossil",
  "Methane, non-fossil", "..., from soil or biomass stock"), with flow-property factors. A model
  with `product.conversion` gives its product flow a second property (e.g. energy per piece).
- unit groups and flow properties of their own (openpcf ids, not openLCA's reference-data ids):
  mass (kg), energy (MJ), volume (m3), normal gas volume (Nm3), area (m2), items (piece), goods
  transport (t*km), length (m), duration (h); each unit named as the model writes it, with its
  factor to the group's reference unit from openpcf's unit registry.
- a product system of the target, linking each sub-assembly input to its provider, with the
  declared unit as target amount.
- with a result: an openLCA Result (impact result: the total in kg CO2 eq under an impact method
  named for the profile and GWP set, without characterisation factors; flow results: the kg of
  each gas and origin per declared unit) and, since olca-schema has no place for stages,
  contributions, origins, exclusions, data quality or provenance, the whole openpcf result as
  `openpcf/result.json` (the schema of `openpcf schema result`).

Each input exchange's description ends with a line `openpcf: {...}` holding what openLCA has no
field for (stage, factor id, supplier PCF, electricity settings, primary, dq), as JSON.
All ids are UUIDs derived (uuid5) from the model's product id or file name, so a re-export of an
unchanged model gives the same ids.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import olca_schema as o
import olca_schema.zipio as zipio

from openpcf.domain.errors import UnitError
from openpcf.domain.model import Input, ProductModel
from openpcf.domain.result import Result
from openpcf.units import factor_between, quantity_of, same_dimension

_NS = uuid.UUID("4c1f7a3e-5d2b-4f0e-9a57-0c6b8e1d2f30")

#: (key, flow property name, unit group name, reference unit, openLCA name of that unit)
_DIMENSIONS = (
    ("mass", "Mass", "Units of mass", "kg"),
    ("energy", "Energy", "Units of energy", "MJ"),
    ("volume", "Volume", "Units of volume", "m3"),
    ("normal-volume", "Normal volume of gas (0 °C, 101.325 kPa)", "Units of normal gas volume",
     "Nm3"),
    ("area", "Area", "Units of area", "m2"),
    ("items", "Number of items", "Units of items", "piece"),
    ("freight", "Goods transport (mass*distance)", "Units of mass*length", "t*km"),
    ("length", "Length", "Units of length", "m"),
    ("time", "Duration", "Units of time", "h"),
)  # fmt: skip

_GAS_NAMES = {
    "CO2": "Carbon dioxide", "CH4": "Methane", "N2O": "Dinitrogen monoxide",
    "SF6": "Sulfur hexafluoride", "NF3": "Nitrogen fluoride",
    "CF4": "Methane, tetrafluoro-, R-14", "C2F6": "Ethane, hexafluoro-, HFC-116",
    "HFC-134a": "Ethane, 1,1,1,2-tetrafluoro-, HFC-134a", "HFC-23": "Methane, trifluoro-, HFC-23",
    "HFC-32": "Methane, difluoro-, HFC-32",
}  # fmt: skip
_ORIGIN_WORDS = {
    "fossil": "fossil",
    "biogenic": "non-fossil",
    "land-use": "from soil or biomass stock",
}
AIR = "Elementary flows/Emission to air/unspecified"


def _id(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "\x1f".join(parts)))


def _dimension(unit: str) -> tuple[str, str, str, str]:
    quantity_of(unit)
    for dim in _DIMENSIONS:
        if same_dimension(unit, dim[3]):
            return dim
    raise UnitError(f"openLCA export: no flow property for the unit '{unit}'")


def elementary_flow_name(gas: str, origin: str) -> str:
    return f"{_GAS_NAMES.get(gas, gas)}, {_ORIGIN_WORDS[origin]}"


@dataclass
class _Units:
    """Unit groups and flow properties built from the units the models use."""

    used: dict[str, set[str]]

    def add(self, unit: str) -> None:
        self.used.setdefault(_dimension(unit)[0], set()).add(unit)

    def property_ref(self, unit: str) -> o.Ref:
        dim = _dimension(unit)
        return o.Ref(ref_type=o.RefType.FlowProperty, id=_id("property", dim[0]), name=dim[1])

    def unit_ref(self, unit: str) -> o.Ref:
        return o.Ref(ref_type=o.RefType.Unit, id=_id("unit", _dimension(unit)[0], unit), name=unit)

    def entities(self) -> list[o.RootEntity]:
        out: list[o.RootEntity] = []
        for key, prop, group, ref in _DIMENSIONS:
            if key not in self.used:
                continue
            names = sorted(self.used[key] | {ref}, key=lambda u: (u != ref, u))
            units = [o.Unit(id=_id("unit", key, u), name=u, is_ref_unit=u == ref,
                            conversion_factor=factor_between(u, ref, "unit"))
                     for u in names]  # fmt: skip
            out.append(o.UnitGroup(
                id=_id("group", key), name=group, units=units,
                default_flow_property=o.Ref(ref_type=o.RefType.FlowProperty,
                                            id=_id("property", key), name=prop),
            ))  # fmt: skip
            out.append(o.FlowProperty(
                id=_id("property", key), name=prop,
                flow_property_type=o.FlowPropertyType.PHYSICAL_QUANTITY,
                unit_group=o.Ref(ref_type=o.RefType.UnitGroup, id=_id("group", key), name=group),
            ))  # fmt: skip
        return out


def write_jsonld(
    path: Path,
    models: Sequence[ProductModel],
    links: Mapping[tuple[int, int], int],
    result: Result | None = None,
    keys: Sequence[str] | None = None,
) -> None:
    """Write the models (the target first; `links` maps (model, input) to a sub-assembly model)
    and the target's result to a JSON-LD zip at `path`, replacing it atomically.

    `keys` identify the models for the ids (default: product id, else name)."""
    keys = list(keys or [m.product.id or m.product.name for m in models])
    units = _Units({})
    flows: dict[str, o.Flow] = {}
    processes: list[o.Process] = []
    for m in models:
        for q in (m.product.declared_unit.unit, m.product.reference_quantity.unit):
            units.add(q)
        for x in (*m.inputs, *m.coproducts):
            units.add(x.unit)
        for e in m.emissions:
            units.add(e.unit)
    product_flows = [_product_flow(m, k, units) for m, k in zip(models, keys, strict=True)]
    for f in product_flows:
        flows[f.id] = f
    for i, (m, key) in enumerate(zip(models, keys, strict=True)):
        processes.append(_process(i, m, key, models, keys, links, product_flows, flows, units))
    system = _product_system(models[0], keys[0], processes, product_flows, links, units)
    entities: list[o.RootEntity] = [*units.entities(), *flows.values(), *processes, system]
    extra: dict[str, str] = {}
    if result is not None:
        entities += _result_entities(result, keys[0], product_flows[0], system, flows, units)
        extra["openpcf/result.json"] = result.model_dump_json(indent=2)
    locations = {m.product.region for m in models if m.product.region}
    entities += [o.Location(id=_id("location", r), name=r, code=r) for r in sorted(locations)]
    _write_zip(Path(path), entities, extra)


def _write_zip(path: Path, entities: list[o.RootEntity], extra: Mapping[str, str]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".zip", dir=path.parent or ".")
    os.close(fd)
    Path(tmp).unlink()  # ZipWriter appends to an existing file; start from none
    try:
        with zipio.ZipWriter(tmp) as writer:
            for e in entities:
                writer.write(e)
        with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED) as z:
            for name, text in extra.items():
                z.writestr(name, text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _ref(e: o.RootEntity, ref_type: o.RefType) -> o.Ref:
    return o.Ref(ref_type=ref_type, id=e.id, name=e.name)


def _product_flow(m: ProductModel, key: str, units: _Units) -> o.Flow:
    ref_unit = m.product.reference_quantity.unit
    factors = [o.FlowPropertyFactor(flow_property=units.property_ref(ref_unit),
                                    conversion_factor=1.0, is_ref_flow_property=True)]  # fmt: skip
    conv = m.product.conversion
    if conv is not None:
        # conversion_factor: amount of the other property per one unit of the reference property.
        a, b = quantity_of(conv.from_), quantity_of(conv.to)
        per_ref = factor_between(str(a.units), _dimension(ref_unit)[3], "conversion") * a.magnitude
        other = (
            factor_between(str(b.units), _dimension(str(b.units))[3], "conversion") * b.magnitude
        )
        factors.append(o.FlowPropertyFactor(flow_property=units.property_ref(str(b.units)),
                                            conversion_factor=other / per_ref))  # fmt: skip
    return o.Flow(
        id=_id("product", key), name=m.product.name, flow_type=o.FlowType.PRODUCT_FLOW,
        flow_properties=factors, description=f"openpcf product {key}",
        location=o.Ref(ref_type=o.RefType.Location, id=_id("location", m.product.region),
                       name=m.product.region) if m.product.region else None,
    )  # fmt: skip


def _input_flow(
    inp: Input, model_key: str, k: int, flows: dict[str, o.Flow], units: _Units
) -> o.Flow:
    dim = _dimension(inp.unit)[0]
    if inp.factor is not None:
        return _goods_flow(f"factor:{inp.factor}:{dim}", inp.name, inp.unit,
                           f"openpcf factor {inp.factor}", flows, units)  # fmt: skip
    if inp.electricity is not None:
        e = inp.electricity
        return _goods_flow(
            f"electricity:{e.region}:{e.year}:{e.basis}:{dim}",
            f"Electricity, grid{', ' + e.region if e.region else ''}", inp.unit,
            "grid electricity resolved by openpcf from the bundled factor set", flows, units,
        )  # fmt: skip
    return _goods_flow(f"pcf:{model_key}:{k}", inp.name, inp.unit, "supplier-specific PCF",
                       flows, units)  # fmt: skip


def _goods_flow(
    key: str, name: str, unit: str, description: str, flows: dict[str, o.Flow], units: _Units
) -> o.Flow:
    fid = _id("flow", key)
    if fid not in flows:
        flows[fid] = o.Flow(
            id=fid, name=name, flow_type=o.FlowType.PRODUCT_FLOW, description=description,
            flow_properties=[o.FlowPropertyFactor(flow_property=units.property_ref(unit),
                                                  conversion_factor=1.0,
                                                  is_ref_flow_property=True)],
        )  # fmt: skip
    return flows[fid]


def _elementary_flow(gas: str, origin: str, flows: dict[str, o.Flow], units: _Units) -> o.Flow:
    fid = _id("elementary", gas, origin)
    if fid not in flows:
        flows[fid] = o.Flow(
            id=fid, name=elementary_flow_name(gas, origin), flow_type=o.FlowType.ELEMENTARY_FLOW,
            category=AIR, formula=None if gas.startswith("CO2e") else gas,
            flow_properties=[o.FlowPropertyFactor(flow_property=units.property_ref("kg"),
                                                  conversion_factor=1.0,
                                                  is_ref_flow_property=True)],
        )  # fmt: skip
    return flows[fid]


def _process(
    i: int,
    m: ProductModel,
    key: str,
    models: Sequence[ProductModel],
    keys: Sequence[str],
    links: Mapping[tuple[int, int], int],
    product_flows: Sequence[o.Flow],
    flows: dict[str, o.Flow],
    units: _Units,
) -> o.Process:
    ref = m.product.reference_quantity
    exchanges = [o.Exchange(
        internal_id=1, flow=_ref(product_flows[i], o.RefType.Flow), amount=ref.amount,
        unit=units.unit_ref(ref.unit), flow_property=units.property_ref(ref.unit),
        is_input=False, is_quantitative_reference=True,
    )]  # fmt: skip
    for k, inp in enumerate(m.inputs):
        provider = None
        if inp.product is not None:
            sub = links[(i, k)]
            flow = product_flows[sub]
            provider = o.Ref(ref_type=o.RefType.Process, id=_id("process", keys[sub]),
                             name=models[sub].product.name)  # fmt: skip
        else:
            flow = _input_flow(inp, key, k, flows, units)
        exchanges.append(o.Exchange(
            internal_id=len(exchanges) + 1, flow=_ref(flow, o.RefType.Flow), amount=inp.amount,
            unit=units.unit_ref(inp.unit), flow_property=units.property_ref(inp.unit),
            is_input=True, default_provider=provider, description=_input_note(inp),
        ))  # fmt: skip
    for em in m.emissions:
        flow = _elementary_flow(em.gas, em.origin, flows, units)
        exchanges.append(o.Exchange(
            internal_id=len(exchanges) + 1, flow=_ref(flow, o.RefType.Flow), amount=em.amount,
            unit=units.unit_ref(em.unit), flow_property=units.property_ref(em.unit),
            is_input=False, description=em.name or None,
        ))  # fmt: skip
    allocation: list[o.AllocationFactor] = []
    for c in m.coproducts:
        flow = _goods_flow(f"coproduct:{key}:{c.name}", c.name, c.unit, "coproduct", flows, units)
        exchanges.append(o.Exchange(
            internal_id=len(exchanges) + 1, flow=_ref(flow, o.RefType.Flow), amount=c.amount,
            unit=units.unit_ref(c.unit), flow_property=units.property_ref(c.unit), is_input=False,
        ))  # fmt: skip
        if c.share is not None:
            allocation.append(o.AllocationFactor(allocation_type=o.AllocationType.PHYSICAL_ALLOCATION,
                                                 product=_ref(flow, o.RefType.Flow), value=c.share))  # fmt: skip
    if allocation:
        main = 1.0 - sum(a.value or 0.0 for a in allocation)
        allocation.insert(0, o.AllocationFactor(allocation_type=o.AllocationType.PHYSICAL_ALLOCATION,
                                                product=_ref(product_flows[i], o.RefType.Flow),
                                                value=main))  # fmt: skip
    p = m.product
    return o.Process(
        id=_id("process", key), name=p.name, process_type=o.ProcessType.UNIT_PROCESS,
        exchanges=exchanges, last_internal_id=len(exchanges),
        allocation_factors=allocation or None,
        default_allocation_method=o.AllocationType.PHYSICAL_ALLOCATION if allocation else None,
        location=o.Ref(ref_type=o.RefType.Location, id=_id("location", p.region), name=p.region)
        if p.region else None,
        description=f"openpcf product model {key}: per {ref.amount:g} {ref.unit}, "
        f"declared unit {p.declared_unit.amount:g} {p.declared_unit.unit}, {p.boundary}"
        + (f", {p.year}" if p.year else "") + (f", rule {p.rule}" if p.rule else ""),
        process_documentation=o.ProcessDocumentation(
            time_description=str(p.year) if p.year else None,
            geography_description=p.region,
        ),
    )  # fmt: skip


def _input_note(inp: Input) -> str:
    data = inp.model_dump(
        include={"stage", "factor", "pcf", "electricity", "product", "primary", "dq", "cn_code"},
        exclude_none=True, mode="json", by_alias=True,
    )  # fmt: skip
    return f"{inp.name} ({inp.stage}, {inp.source_kind})\nopenpcf: {json.dumps(data, ensure_ascii=False)}"


def _product_system(
    m: ProductModel,
    key: str,
    processes: Sequence[o.Process],
    product_flows: Sequence[o.Flow],
    links: Mapping[tuple[int, int], int],
    units: _Units,
) -> o.ProductSystem:
    keys = [p.id for p in processes]
    process_links = []
    for (i, k), sub in sorted(links.items()):
        exchange = processes[i].exchanges[k + 1]  # exchange 0 is the reference product
        process_links.append(o.ProcessLink(
            provider=o.Ref(ref_type=o.RefType.Process, id=keys[sub], name=processes[sub].name),
            flow=_ref(product_flows[sub], o.RefType.Flow),
            process=o.Ref(ref_type=o.RefType.Process, id=keys[i], name=processes[i].name),
            exchange=o.ExchangeRef(internal_id=exchange.internal_id),
        ))  # fmt: skip
    declared = m.product.declared_unit
    return o.ProductSystem(
        id=_id("system", key), name=m.product.name,
        processes=[_ref(p, o.RefType.Process) for p in processes],
        ref_process=_ref(processes[0], o.RefType.Process),
        ref_exchange=o.ExchangeRef(internal_id=1),
        target_amount=declared.amount, target_unit=units.unit_ref(declared.unit),
        target_flow_property=units.property_ref(declared.unit), process_links=process_links,
    )  # fmt: skip


def _result_entities(
    result: Result,
    key: str,
    product: o.Flow,
    system: o.ProductSystem,
    flows: dict[str, o.Flow],
    units: _Units,
) -> list[o.RootEntity]:
    label = f"{result.profile}, GWP100 {result.gwp}"
    category = o.ImpactCategory(
        id=_id("impact", result.profile, result.gwp), name=f"Climate change, GWP100 ({label})",
        ref_unit="kg CO2 eq",
        description=f"openpcf's characterisation under the {result.profile} profile (GWP100 "
        f"{result.gwp}: gases, biogenic CO2 and land-use change as the profile counts them). "
        f"No characterisation factors are carried; the result's amount is openpcf's total.",
    )  # fmt: skip
    method = o.ImpactMethod(
        id=_id("method", result.profile, result.gwp), name=f"openpcf {label}",
        impact_categories=[_ref(category, o.RefType.ImpactCategory)],
    )  # fmt: skip
    declared = result.declared_unit
    flow_results = [o.FlowResult(
        flow=_ref(product, o.RefType.Flow), is_input=False, is_ref_flow=True,
        amount=declared.amount, unit=units.unit_ref(declared.unit),
        flow_property=units.property_ref(declared.unit),
    )]  # fmt: skip
    for label_, kg in result.inventory.items():
        gas, origin = _parse_label(label_)
        flow = _elementary_flow(gas, origin, flows, units)
        flow_results.append(o.FlowResult(
            flow=_ref(flow, o.RefType.Flow), is_input=False, amount=kg,
            unit=units.unit_ref("kg"), flow_property=units.property_ref("kg"),
            description=label_,
        ))  # fmt: skip
    res = o.Result(
        id=_id("result", key, result.profile, result.gwp),
        name=f"{result.product}, {label}",
        product_system=_ref(system, o.RefType.ProductSystem),
        impact_method=_ref(method, o.RefType.ImpactMethod),
        impact_results=[o.ImpactResult(indicator=_ref(category, o.RefType.ImpactCategory),
                                       amount=result.pcf.value)],
        flow_results=flow_results,
        description=f"openpcf result per {declared.amount:g} {declared.unit} (declared unit), "
        f"profile {result.profile}, rule {result.rule}, factor set {result.factor_set}, "
        f"inputs sha256 {result.provenance.input_hash}. Stages, contributions, origins, "
        f"exclusions, data quality and provenance: openpcf/result.json in this zip.",
    )  # fmt: skip
    return [category, method, res]


def _parse_label(label: str) -> tuple[str, str]:
    """'CO2' → (CO2, fossil); 'CH4 (biogenic)' → (CH4, biogenic); 'CO2e (AR5, land-use)'."""
    if "(" not in label:
        return label, "fossil"
    gas, rest = label.split(" (", 1)
    *basis, origin = rest.rstrip(")").split(", ")
    return (f"{gas} ({basis[0]})" if basis else gas), origin
