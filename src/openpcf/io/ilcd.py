"""Read ILCD data sets (XML, zip or folder) or TIDAS JSON into `SourceData`.

The unit of an exchange is found through the chain ILCD prescribes: the exchange's amount
(`resultingAmount`, else `meanAmount`) is in the reference unit of its flow's reference flow
property; the flow names that property (`referenceToReferenceFlowProperty`), the property its
unit group (`referenceToReferenceUnitGroup`), the group its reference unit
(`referenceToReferenceUnit`). Exchanges are signed by `exchangeDirection` (outputs +).

ILCD names no providers: product inputs and waste outputs are linked by flow, under the
provider policy of `services/lci/linking.py`. The first `referenceToReferenceFlow` is the
reference; further ones are coproducts, allocated when exchanges carry `allocations`
(`allocatedFraction`, in %, per coproduct: causal allocation). What real releases leave out is
counted, never guessed: an exchange whose flow data set is not in the release, one without an
amount, the exchanges of a process without a reference flow (see `domain.lci.OMITTED`). An
output whose missing flow data set a greenhouse gas's name describes is kept as an elementary
flow of unknown unit, so the report lists it as an unmapped GHG and footprints stop on it.
LCIA method data sets become `SourceMethod`s, usable as `--method` by name or UUID.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from openpcf.domain.errors import ImportFailure
from openpcf.domain.lci import (
    MISSING_FLOW,
    NO_AMOUNT,
    NO_REFERENCE,
    FlowKind,
    Role,
    SourceData,
    SourceExchange,
    SourceFlow,
    SourceMethod,
    SourceProcess,
)
from openpcf.io.archive import Archive
from openpcf.io.ghg_flow_map import looks_like_ghg
from openpcf.io.ilcd_tree import (
    as_list,
    classification,
    get,
    langs,
    members,
    pick,
    read_dataset,
    ref_id,
    text,
)

Progress = Callable[[int, int], None]

_KIND: dict[str, FlowKind] = {
    "Elementary flow": "elementary",
    "Product flow": "product",
    "Waste flow": "waste",
    "Other flow": "product",
}
_UNKNOWN_UNIT = "(unit unknown: flow data set not in the release)"
_MISSING_CATEGORY = "(flow data set not in the release)"


@dataclass(frozen=True)
class _Read:
    member: str
    body: dict[str, Any]


def _bodies(archive: Archive, folder: str, root: str) -> Iterator[_Read]:
    for member in members(archive, folder):
        data = read_dataset(archive, member)
        body = data.get(root)
        if not isinstance(body, dict):
            raise ImportFailure(f"expected a {root} data set, found "
                                f"{', '.join(data) or 'nothing'}", archive.where(member))  # fmt: skip
        yield _Read(member, body)


def _uuid(body: dict[str, Any], info: str) -> str:
    return text(get(body, info, "dataSetInformation", "common:UUID"))


def _internal(value: Any) -> str:
    return text(value)


def _reference_units(archive: Archive) -> tuple[dict[str, str], dict[str, str]]:
    """flow property id -> its reference unit's name; flow property id -> its own name."""
    groups: dict[str, str] = {}
    for r in _bodies(archive, "unitgroups", "unitGroupDataSet"):
        ref = _internal(get(r.body, "unitGroupInformation", "quantitativeReference",
                            "referenceToReferenceUnit"))  # fmt: skip
        unit = next((text(get(u, "name")) for u in as_list(get(r.body, "units", "unit"))
                     if str(u.get("@dataSetInternalID")) == ref), "")  # fmt: skip
        if unit:
            groups[_uuid(r.body, "unitGroupInformation")] = unit
    units: dict[str, str] = {}
    names: dict[str, str] = {}
    for r in _bodies(archive, "flowproperties", "flowPropertyDataSet"):
        pid = _uuid(r.body, "flowPropertiesInformation")
        info = get(r.body, "flowPropertiesInformation")
        names[pid] = pick(langs(get(info, "dataSetInformation", "common:name")))
        group = ref_id(get(info, "quantitativeReference", "referenceToReferenceUnitGroup"))
        if group in groups:
            units[pid] = groups[group]
    return units, names


def _flows(
    archive: Archive,
    units: dict[str, str],
    property_names: dict[str, str],
    notes: list[str],
    tick: Callable[[], None],
) -> dict[str, SourceFlow]:
    flows: dict[str, SourceFlow] = {}
    no_unit: list[str] = []
    for r in _bodies(archive, "flows", "flowDataSet"):
        tick()
        info = get(r.body, "flowInformation")
        fid = _uuid(r.body, "flowInformation")
        where = archive.where(r.member)
        if not fid:
            raise ImportFailure("the flow data set has no common:UUID", where)
        kind_text = text(get(r.body, "modellingAndValidation", "LCIMethod", "typeOfDataSet"))
        kind = _KIND.get(kind_text)
        if kind is None:
            raise ImportFailure(f"flow {fid}: typeOfDataSet {kind_text!r} is not one of "
                                f"{', '.join(_KIND)}", where)  # fmt: skip
        ref = _internal(get(info, "quantitativeReference", "referenceToReferenceFlowProperty"))
        prop = next((ref_id(get(p, "referenceToFlowPropertyDataSet"))
                     for p in as_list(get(r.body, "flowProperties", "flowProperty"))
                     if str(p.get("@dataSetInternalID")) == ref), None)  # fmt: skip
        unit = units.get(prop or "")
        if unit is None:
            no_unit.append(fid)
            unit = f"(unit of '{property_names.get(prop or '', prop)}': not in the release)"
        names = langs(get(info, "dataSetInformation", "name", "baseName"))
        flows[fid] = SourceFlow(
            id=fid,
            name=pick(names) or fid,
            kind=kind,
            unit=unit,
            category=classification(get(info, "dataSetInformation")),
            cas=text(get(info, "dataSetInformation", "CASNumber")) or None,
            names=names,
        )
    if no_unit:
        notes.append(f"{len(no_unit)} flows name a flow property or unit group that is not in "
                     f"the release; their unit is unknown (e.g. {', '.join(no_unit[:3])})")  # fmt: skip
    return flows


def _process_name(info: Any) -> dict[str, str]:
    """ILCD's name parts joined with '; ' per language (TianGong puts them all in baseName)."""
    name = get(info, "dataSetInformation", "name")
    parts = [langs(get(name, key)) for key in ("baseName", "treatmentStandardsRoutes",
                                                "mixAndLocationTypes",
                                                "functionalUnitFlowProperties")]  # fmt: skip
    out: dict[str, str] = {}
    for lang in dict.fromkeys(lang for p in parts for lang in p):
        out[lang] = "; ".join(p[lang] for p in parts if lang in p)
    return out


def _amount(ex: dict[str, Any]) -> float | None:
    raw = text(ex.get("resultingAmount")) or text(ex.get("meanAmount"))
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        return math.nan
    return value


def _process(
    r: _Read, archive: Archive, flows: dict[str, SourceFlow], placeholders: dict[str, SourceFlow]
) -> SourceProcess:
    body, where = r.body, archive.where(r.member)
    info = get(body, "processInformation")
    pid = _uuid(body, "processInformation")
    if not pid:
        raise ImportFailure("the process data set has no common:UUID", where)
    names = _process_name(info)
    name = pick(names) or pid
    refs = [_internal(x) for x in as_list(get(info, "quantitativeReference",
                                              "referenceToReferenceFlow"))]  # fmt: skip
    exchanges_raw = as_list(get(body, "exchanges", "exchange"))
    by_internal = {str(e.get("@dataSetInternalID")): e for e in exchanges_raw}
    lead = next((x for x in refs if x in by_internal and _amount(by_internal[x])), None)
    exchanges: list[SourceExchange] = []
    allocation: dict[str | tuple[str, int | str], float] = {}
    for k, ex in enumerate(exchanges_raw):
        internal = str(ex.get("@dataSetInternalID", k))
        fid = ref_id(ex.get("referenceToFlowDataSet")) or ""
        short = pick(langs(get(ex, "referenceToFlowDataSet", "common:shortDescription")))
        label = f"process '{name}' ({pid}), exchange {internal} '{flows[fid].name if fid in flows else short}'"
        direction = text(ex.get("exchangeDirection"))
        if direction not in ("Input", "Output"):
            raise ImportFailure(f"{label}: exchangeDirection {direction!r}, expected Input or "
                                "Output", where)  # fmt: skip
        sign = 1.0 if direction == "Output" else -1.0
        amount = _amount(ex)
        if amount is not None and not math.isfinite(amount):
            raise ImportFailure(f"{label}: the amount is not a finite number", where)
        omitted = None
        if lead is None:
            omitted = NO_REFERENCE
        elif amount is None:
            omitted = NO_AMOUNT
        elif fid not in flows and internal != lead:
            if direction == "Output" and looks_like_ghg(short, ""):
                # a greenhouse gas by its description: kept as an elementary flow of unknown
                # unit, which the GHG map then reports as unmapped (never a silent zero)
                placeholders.setdefault(fid, SourceFlow(fid, short, "elementary", _UNKNOWN_UNIT,
                                                        _MISSING_CATEGORY))  # fmt: skip
            else:
                omitted = MISSING_FLOW
        if omitted is not None:
            exchanges.append(SourceExchange(fid, 0.0, "omitted", label, internal_id=internal,
                                            omitted=omitted))  # fmt: skip
            continue
        assert amount is not None
        flow = flows.get(fid) or placeholders.get(fid)
        if flow is None:  # the reference flow itself is missing from the release
            flow = placeholders.setdefault(fid, SourceFlow(
                fid, short or fid, "product" if direction == "Output" else "waste",
                _UNKNOWN_UNIT))  # fmt: skip
        role: Role
        if internal == lead:
            role = "reference"
        elif flow.kind == "elementary":
            role = "elementary"
        elif internal in refs or (flow.kind == "product") == (direction == "Output"):
            role = "function"  # another reference flow, a product output or a waste input
        else:
            role = "link"  # a product input or a waste output
        for a in as_list(get(ex, "allocations", "allocation")):
            co = by_internal.get(str(a.get("@internalReferenceToCoProduct")))
            fraction = a.get("@allocatedFraction")
            if co is not None and fraction is not None:
                co_flow = ref_id(co.get("referenceToFlowDataSet")) or ""
                allocation[(co_flow, internal)] = float(fraction) / 100.0
        exchanges.append(SourceExchange(fid, sign * amount, role, label, internal_id=internal))
    location = get(info, "geography", "locationOfOperationSupplyOrProduction")
    return SourceProcess(
        id=pid,
        name=name,
        file=str(where.file),
        exchanges=tuple(exchanges),
        location=(location.get("@location") if isinstance(location, dict) else None) or None,
        category=classification(get(info, "dataSetInformation")),
        allocation_method="causal" if allocation else None,
        allocation=allocation,
        names=names,
    )


def _methods(archive: Archive) -> tuple[SourceMethod, ...]:
    out = []
    for r in _bodies(archive, "lciamethods", "LCIAMethodDataSet"):
        info = get(r.body, "LCIAMethodInformation")
        mid = _uuid(r.body, "LCIAMethodInformation")
        names = langs(get(info, "dataSetInformation", "common:name"))
        factors: dict[str, float] = {}
        for f in as_list(get(r.body, "characterisationFactors", "factor")):
            fid = ref_id(f.get("referenceToFlowDataSet"))
            raw = text(f.get("meanValue"))
            if not fid or not raw:
                continue
            try:
                value = float(raw)
            except ValueError:
                raise ImportFailure(f"LCIA method {mid}: factor of flow {fid} is {raw!r}, not a "
                                    "number", archive.where(r.member)) from None  # fmt: skip
            factors[fid] = value if text(f.get("exchangeDirection")) != "Input" else -value
        unit = pick(langs(get(info, "quantitativeReference", "referenceQuantity",
                              "common:shortDescription")))  # fmt: skip
        out.append(SourceMethod(mid, pick(names) or mid, factors, names, unit))
    return tuple(out)


def _locations(archive: Archive) -> dict[str, str]:
    """ILCDLocations.xml: location code -> its name ("SZ-JS-CN" -> "Suzhou (苏州), Jiangsu ...")."""
    found = [m for m in archive.members if m.rsplit("/", 1)[-1] == "ILCDLocations.xml"]
    if not found:
        return {}
    data = read_dataset(archive, found[0])
    out = {}
    for item in as_list(get(data, "ILCDLocations", "location")):
        if isinstance(item, dict) and item.get("@value"):
            out[str(item["@value"])] = text(item)
    return out


def read_ilcd(archive: Archive, progress: Progress | None = None) -> SourceData:
    """Flows, then processes, with one progress count over both (flows first)."""
    notes: list[str] = []
    found = members(archive, "processes")
    total = len(members(archive, "flows")) + len(found)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None and (done % 50 == 0 or done == total):
            progress(done, total)

    units, property_names = _reference_units(archive)
    flows = _flows(archive, units, property_names, notes, tick)
    placeholders: dict[str, SourceFlow] = {}
    processes = []
    for member in found:
        data = read_dataset(archive, member)
        body = data.get("processDataSet")
        if not isinstance(body, dict):
            raise ImportFailure("expected a processDataSet", archive.where(member))
        processes.append(_process(_Read(member, body), archive, flows, placeholders))
        tick()
    references = [f for f in placeholders.values() if f.kind != "elementary"]
    if references:
        notes.append(f"{len(references)} processes have a reference flow whose data set is not "
                     "in the release; their footprints are per one unit of an unknown unit")  # fmt: skip
    is_json = bool(found) and found[0].lower().endswith(".json")
    return SourceData(
        format="TIDAS JSON" if is_json else "ILCD",
        processes=tuple(processes),
        flows=flows | placeholders,
        files=len(found),
        methods=_methods(archive),
        notes=tuple(notes),
        locations=_locations(archive),
    )
