"""Small background databases written in the tests: openLCA JSON-LD (with olca-schema) and
ecospold2 (as XML text), with every case the importer must handle.

JSON-LD database "tiny" (AR6 hand calculation in test_lci_import.py):

    electricity production  1 kWh (= 3.6 MJ) of electricity, takes 9 MJ of hard coal (coal is
                            25 MJ/kg by its Energy flow property: 0.36 kg), emits 0.9 kg
                            CO2 fossil and 0.001 kg CH4 non-fossil
    coal mining             1 t of hard coal, takes 50 kWh of electricity (a cycle), emits 5 kg
                            CH4 fossil and 2 kg CO2 from soil or biomass stock (land use)
    steel production        1 kg of steel, takes 0.5 kg coal (default provider: coal mining),
                            2 MJ electricity, 0.2 t*km transport (two trucks make it, none
                            named: the provider policy chooses), 3 kg tap water (nobody
                            makes it: unlinked), outputs 0.1 kg slag (waste, to slag
                            treatment), emits 1.5 kg CO2 fossil, 0.1 g N2O, 0.01 g HCFC-22, takes
                            0.5 kg water from nature (other elementary)
    truck A / truck B       1 t*km of transport; A takes 0.03 kg diesel and emits 0.1 kg CO2,
                            B emits 0.2 kg CO2
    refinery                0.6 kg diesel (reference) and 0.4 kg naphtha; default allocation
                            physical 0.6 / 0.4 (economic 0.8 / 0.2 is also given, unused);
                            takes 1 MJ electricity; emits 0.5 kg CO2 fossil and takes 0.1 kg
                            CO2 from air (a biogenic removal)
    slag treatment          treats 1 kg slag (its reference is the waste input), 0.05 kg CO2
    widget assembly         1 piece of widget, takes 2000 g steel (g → kg through the unit
                            group), 1 t*km transport from truck B (its default provider), avoids
                            0.1 kg naphtha (a credit)
"""

from __future__ import annotations

import uuid
from pathlib import Path

import olca_schema as o
from olca_schema import zipio


def uid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"openpcf-test/{name}"))


def _ref(kind: o.RefType, name: str) -> o.Ref:
    return o.Ref(id=uid(name), name=name, ref_type=kind)


def _unit(name: str, factor: float, ref: bool = False) -> o.Unit:
    return o.Unit(id=uid(f"unit/{name}"), name=name, conversion_factor=factor, is_ref_unit=ref)


UNIT_GROUPS = {
    "mass": [_unit("kg", 1.0, True), _unit("g", 0.001), _unit("t", 1000.0)],
    "energy": [_unit("MJ", 1.0, True), _unit("kWh", 3.6)],
    "freight": [_unit("t*km", 1.0, True)],
    "items": [_unit("Item(s)", 1.0, True)],
}
PROPERTY_GROUP = {"Mass": "mass", "Energy": "energy", "Freight": "freight", "Items": "items"}


def unit_ref(name: str) -> o.Ref:
    return o.Ref(id=uid(f"unit/{name}"), name=name, ref_type=o.RefType.Unit)


def flow(
    name: str,
    kind: o.FlowType,
    prop: str = "Mass",
    category: str = "",
    cas: str | None = None,
    extra: dict[str, float] | None = None,
) -> o.Flow:
    factors = [o.FlowPropertyFactor(conversion_factor=1.0, is_ref_flow_property=True,
                                    flow_property=_ref(o.RefType.FlowProperty, prop))]  # fmt: skip
    for other, factor in (extra or {}).items():
        factors.append(o.FlowPropertyFactor(conversion_factor=factor, is_ref_flow_property=False,
                                            flow_property=_ref(o.RefType.FlowProperty, other)))  # fmt: skip
    return o.Flow(id=uid(f"flow/{name}"), name=name, flow_type=kind, flow_properties=factors,
                  category=category or None, cas=cas)  # fmt: skip


P, W, E = o.FlowType.PRODUCT_FLOW, o.FlowType.WASTE_FLOW, o.FlowType.ELEMENTARY_FLOW
AIR = "Elementary flows/Emission to air/unspecified"
FLOWS = {
    f.name: f
    for f in [
        flow("electricity", P, "Energy"),
        flow("hard coal", P, extra={"Energy": 25.0}),
        flow("steel", P),
        flow("transport, freight", P, "Freight"),
        flow("tap water", P),
        flow("diesel", P),
        flow("naphtha", P),
        flow("widget", P, "Items"),
        flow("slag", W),
        flow("Carbon dioxide, fossil", E, category=AIR, cas="124-38-9"),
        flow("Methane, non-fossil", E, category=AIR, cas="74-82-8"),
        flow("Methane, fossil", E, category=AIR, cas="74-82-8"),
        flow("Carbon dioxide, from soil or biomass stock", E, category=AIR),
        flow("Dinitrogen monoxide", E, category=AIR, cas="10024-97-2"),
        flow("Methane, chlorodifluoro-, HCFC-22", E, category=AIR, cas="75-45-6"),
        flow("Carbon dioxide, in air", E, category="Elementary flows/Resource/in air"),
        flow("Water, river", E, category="Elementary flows/Resource/in water"),
    ]
}


def ex(
    name: str,
    amount: float,
    unit: str,
    *,
    out: bool = False,
    ref: bool = False,
    provider: str | None = None,
    avoided: bool = False,
    prop: str | None = None,
    iid: int = 0,
) -> o.Exchange:
    f = FLOWS[name]
    return o.Exchange(
        flow=o.Ref(id=f.id, name=f.name, ref_type=o.RefType.Flow),
        amount=amount,
        unit=unit_ref(unit),
        flow_property=_ref(o.RefType.FlowProperty, prop) if prop else None,
        is_input=not out,
        is_quantitative_reference=ref,
        is_avoided_product=avoided or None,
        default_provider=o.Ref(id=uid(f"process/{provider}"), ref_type=o.RefType.Process)
        if provider
        else None,
        internal_id=iid or None,
    )


def process(name: str, exchanges: list[o.Exchange], **kw: object) -> o.Process:
    for i, e in enumerate(exchanges, start=1):
        e.internal_id = e.internal_id or i
    return o.Process(id=uid(f"process/{name}"), name=name, exchanges=exchanges,
                     process_type=o.ProcessType.UNIT_PROCESS, **kw)  # type: ignore[arg-type]  # fmt: skip


def tiny_processes() -> list[o.Process]:
    refinery = process("refinery", [
        ex("diesel", 0.6, "kg", out=True, ref=True),
        ex("naphtha", 0.4, "kg", out=True),
        ex("electricity", 1.0, "MJ"),
        ex("Carbon dioxide, fossil", 0.5, "kg", out=True),
        ex("Carbon dioxide, in air", 0.1, "kg"),
    ], default_allocation_method=o.AllocationType.PHYSICAL_ALLOCATION)  # fmt: skip
    diesel, naphtha = (
        o.Ref(id=FLOWS[n].id, ref_type=o.RefType.Flow) for n in ("diesel", "naphtha")
    )
    refinery.allocation_factors = [
        o.AllocationFactor(allocation_type=o.AllocationType.PHYSICAL_ALLOCATION, product=diesel, value=0.6),
        o.AllocationFactor(allocation_type=o.AllocationType.PHYSICAL_ALLOCATION, product=naphtha, value=0.4),
        o.AllocationFactor(allocation_type=o.AllocationType.ECONOMIC_ALLOCATION, product=diesel, value=0.8),
        o.AllocationFactor(allocation_type=o.AllocationType.ECONOMIC_ALLOCATION, product=naphtha, value=0.2),
    ]  # fmt: skip
    return [
        process("electricity production", [
            ex("electricity", 1.0, "kWh", out=True, ref=True),
            ex("hard coal", 9.0, "MJ", prop="Energy"),
            ex("Carbon dioxide, fossil", 0.9, "kg", out=True),
            ex("Methane, non-fossil", 0.001, "kg", out=True),
        ]),
        process("coal mining", [
            ex("hard coal", 1.0, "t", out=True, ref=True),
            ex("electricity", 50.0, "kWh"),
            ex("Methane, fossil", 5.0, "kg", out=True),
            ex("Carbon dioxide, from soil or biomass stock", 2.0, "kg", out=True),
        ]),
        process("steel production", [
            ex("steel", 1.0, "kg", out=True, ref=True),
            ex("hard coal", 0.5, "kg", provider="coal mining"),
            ex("electricity", 2.0, "MJ"),
            ex("transport, freight", 0.2, "t*km"),
            ex("tap water", 3.0, "kg"),
            ex("slag", 0.1, "kg", out=True),
            ex("Carbon dioxide, fossil", 1.5, "kg", out=True),
            ex("Dinitrogen monoxide", 0.1, "g", out=True),
            ex("Methane, chlorodifluoro-, HCFC-22", 0.01, "g", out=True),
            ex("Water, river", 0.5, "kg"),
        ]),
        process("truck A", [
            ex("transport, freight", 1.0, "t*km", out=True, ref=True),
            ex("diesel", 0.03, "kg"),
            ex("Carbon dioxide, fossil", 0.1, "kg", out=True),
        ]),
        process("truck B", [
            ex("transport, freight", 1.0, "t*km", out=True, ref=True),
            ex("Carbon dioxide, fossil", 0.2, "kg", out=True),
        ]),
        refinery,
        process("slag treatment", [
            ex("slag", 1.0, "kg", ref=True),
            ex("Carbon dioxide, fossil", 0.05, "kg", out=True),
        ]),
        process("widget assembly", [
            ex("widget", 1.0, "Item(s)", out=True, ref=True),
            ex("steel", 2000.0, "g"),
            ex("transport, freight", 1.0, "t*km", provider="truck B"),
            ex("naphtha", 0.1, "kg", out=True, avoided=True),
        ]),
    ]  # fmt: skip


def write_jsonld(path: Path, processes: list[o.Process] | None = None) -> Path:
    """A JSON-LD zip of the tiny database (or of `processes` with the same reference data)."""
    with zipio.ZipWriter(path) as w:
        for group, units in UNIT_GROUPS.items():
            w.write(o.UnitGroup(id=uid(group), name=group, units=units))
        for prop, group in PROPERTY_GROUP.items():
            w.write(o.FlowProperty(id=uid(prop), name=prop,
                                   unit_group=_ref(o.RefType.UnitGroup, group)))  # fmt: skip
        for f in FLOWS.values():
            w.write(f)
        for p in processes if processes is not None else tiny_processes():
            w.write(p)
    return path


def write_jsonld_folder(folder: Path) -> Path:
    """The same database as loose files in a folder."""
    import zipfile

    archive = write_jsonld(folder.with_suffix(".zip"))
    with zipfile.ZipFile(archive) as z:
        z.extractall(folder)
    return folder


# ---- ecospold2 ------------------------------------------------------------------------------

NS = "http://www.EcoInvent.org/EcoSpold02"


def spold(activity_id: str, name: str, exchanges: str, geography: str = "GLO") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ecoSpold xmlns="{NS}">
  <activityDataset>
    <activityDescription>
      <activity id="{activity_id}" activityNameId="{uid("name/" + name)}">
        <activityName xml:lang="en">{name}</activityName>
      </activity>
      <geography geographyId="{uid("geo/" + geography)}">
        <shortname xml:lang="en">{geography}</shortname>
      </geography>
    </activityDescription>
    <flowData>
{exchanges}
    </flowData>
  </activityDataset>
</ecoSpold>
"""


def intermediate(
    name: str,
    amount: float,
    unit: str,
    group: str,
    link: str | None = None,
    classification: str | None = None,
) -> str:
    kind, value = group.split(":")
    link_attr = f' activityLinkId="{link}"' if link else ""
    cls = (
        f'<classification><classificationSystem xml:lang="en">By-product classification'
        f'</classificationSystem><classificationValue xml:lang="en">{classification}'
        f"</classificationValue></classification>"
        if classification
        else ""
    )
    return (
        f'      <intermediateExchange id="{uid("ex/" + name + str(amount))}" '
        f'intermediateExchangeId="{uid("product/" + name)}" amount="{amount}"{link_attr}>'
        f'<name xml:lang="en">{name}</name><unitName xml:lang="en">{unit}</unitName>{cls}'
        f"<{kind}>{value}</{kind}></intermediateExchange>"
    )


def elementary(
    name: str, amount: float, unit: str, compartment: str, sub: str, out: bool = True,
    cas: str | None = None,
) -> str:  # fmt: skip
    group = "outputGroup" if out else "inputGroup"
    cas_attr = f' casNumber="{cas}"' if cas else ""
    return (
        f'      <elementaryExchange id="{uid("ex/" + name + str(amount))}" '
        f'elementaryExchangeId="{uid("elem/" + name + compartment + sub)}" amount="{amount}"'
        f'{cas_attr}><name xml:lang="en">{name}</name><unitName xml:lang="en">{unit}</unitName>'
        f'<compartment subcompartmentId="{uid(sub)}"><compartment xml:lang="en">{compartment}'
        f'</compartment><subcompartment xml:lang="en">{sub}</subcompartment></compartment>'
        f"<{group}>4</{group}></elementaryExchange>"
    )


ELEC, COAL, TREAT = uid("act/electricity"), uid("act/coal"), uid("act/treatment")


def ecospold_files(unit_override: str | None = None) -> dict[str, str]:
    """Three data sets: electricity (ecoinvent waste convention, a recyclable by-product and a
    zero one), coal (electricity input in MJ against the product's kWh; methane in g), and a
    waste treatment with a negative reference product."""
    elec = spold(ELEC, "electricity production, hard coal", "\n".join([
        intermediate("electricity, high voltage", 1.0, "kWh", "outputGroup:0"),
        intermediate("hard coal", 0.4, unit_override or "kg", "inputGroup:5", link=COAL),
        intermediate("waste mineral oil", -0.01, "kg", "inputGroup:5", link=TREAT),
        intermediate("iron scrap", 0.02, "kg", "outputGroup:2", classification="recyclable"),
        intermediate("heat, district", 0.0, "MJ", "outputGroup:2"),
        elementary("Carbon dioxide, fossil", 0.9, "kg", "air", "urban air close to ground",
                   cas="000124-38-9"),
        elementary("Methane, non-fossil", 0.001, "kg", "air", "unspecified"),
    ]), geography="CN")  # fmt: skip
    coal = spold(COAL, "hard coal mine operation", "\n".join([
        intermediate("hard coal", 1.0, "kg", "outputGroup:0"),
        intermediate("electricity, high voltage", 0.18, "MJ", "inputGroup:5", link=ELEC),
        elementary("Methane, fossil", 5.0, "g", "air", "unspecified", cas="000074-82-8"),
        elementary("Water, river", 0.002, "m3", "natural resource", "in water", out=False),
    ]))  # fmt: skip
    treat = spold(TREAT, "treatment of waste mineral oil, hazardous waste incineration",
                  "\n".join([
        intermediate("waste mineral oil", -1.0, "kg", "outputGroup:0"),
        elementary("Carbon dioxide, fossil", 3.0, "kg", "air", "unspecified"),
    ]))  # fmt: skip
    return {
        f"datasets/{ELEC}_{uid('product/electricity, high voltage')}.spold": elec,
        f"datasets/{COAL}_{uid('product/hard coal')}.spold": coal,
        f"datasets/{TREAT}_{uid('product/waste mineral oil')}.spold": treat,
    }


def write_ecospold(path: Path, files: dict[str, str] | None = None) -> Path:
    """A zip of .spold files (or a folder when `path` has no .zip suffix)."""
    import zipfile

    files = files if files is not None else ecospold_files()
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w") as z:
            for name, text in files.items():
                z.writestr(name, text)
    else:
        for name, text in files.items():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            (path / name).write_text(text, encoding="utf-8")
    return path
