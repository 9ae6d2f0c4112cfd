"""Read ecospold2 data sets (`.spold`, in a zip or a folder) into `SourceData`, with lxml.

ecoinvent 3 conventions followed: each file is one activity with one reference product
(outputGroup 0); a waste is an intermediate exchange with a negative amount and the opposite
direction (the treatment's reference product is negative, the producer's input is negative);
`activityLinkId` names the providing activity. Activity ids are not unique across files (one
per reference product), so a data set is the pair (activity id, reference product id). By-products
(outputGroup 2) are zero in allocated data sets; recyclable ones (cut-off system model) are cut
off; others are coproducts this importer cannot allocate and reports. Amounts are converted to
each flow's unit through openpcf's pint registry (`io/lci_units.py`). A data set with no
intermediate output at all (no product to supply: USLCI's release has 21) is read, and its
exchanges are counted as left out; one with outputs but none in outputGroup 0 is an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from openpcf.domain.errors import ImportFailure
from openpcf.domain.lci import (
    NO_REFERENCE,
    Role,
    SourceData,
    SourceExchange,
    SourceFlow,
    SourceProcess,
)
from openpcf.domain.uncertainty import source_uncertainty
from openpcf.io import limits
from openpcf.io.archive import Archive
from openpcf.io.lci_units import check_unit, conversion

Progress = Callable[[int, int], None]


def is_ecospold2(archive: Archive) -> bool:
    return bool(archive.under("", ".spold"))


@dataclass
class _Raw:
    """An exchange as written, before amounts are put in the flow's unit."""

    flow: SourceFlow
    amount: float
    unit: str
    role: Role
    label: str
    provider: str | None
    internal_id: str | None
    uncertainty: tuple[int, float, float, float] | None = None  # relative to the amount
    problem: str | None = None  # why the data's distribution is not used


def read_ecospold2(archive: Archive, progress: Progress | None = None) -> SourceData:
    members = archive.under("", ".spold")
    parsed: list[tuple[str, str, str, str | None, list[_Raw]]] = []
    units: dict[str, str] = {}  # flow id -> unit: a reference product's, else the first met
    for i, member in enumerate(members):
        pid, name, location, raws = _dataset(archive, member)
        parsed.append((member, pid, name, location, raws))
        for r in raws:
            if r.role == "reference" or r.flow.id not in units:
                units[r.flow.id] = r.unit
        if progress is not None:
            progress(i + 1, len(members))
    flows: dict[str, SourceFlow] = {}
    processes = []
    for member, pid, name, location, raws in parsed:
        where = archive.where(member)
        exchanges = []
        for r in raws:
            unit = units[r.flow.id]
            if r.flow.id not in flows:
                flows[r.flow.id] = SourceFlow(
                    r.flow.id, r.flow.name, r.flow.kind, unit, r.flow.category, r.flow.cas
                )
            amount = r.amount * conversion(r.unit, unit, r.label, where)
            exchanges.append(
                SourceExchange(
                    r.flow.id,
                    amount,
                    r.role,
                    r.label,
                    r.provider,
                    r.internal_id,
                    r.uncertainty,
                    r.problem,
                    NO_REFERENCE if r.role == "omitted" else None,
                )
            )
        processes.append(SourceProcess(pid, name, str(where.file), tuple(exchanges), location))
    return SourceData("ecospold2", tuple(processes), flows, len(members))


def _text(el: etree._Element | None, ns: str, tag: str) -> str:
    if el is None:
        return ""
    child = el.find(ns + tag)
    return (child.text or "").strip() if child is not None else ""


def _dataset(archive: Archive, member: str) -> tuple[str, str, str | None, list[_Raw]]:
    root = limits.parse_xml(archive.read(member), archive.where(member), ImportFailure)
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    dataset = root.find(ns + "activityDataset")
    if dataset is None:
        dataset = root.find(ns + "childActivityDataset")
    if dataset is None:
        raise ImportFailure("no activityDataset in this ecoSpold file", archive.where(member, 1))
    activity = dataset.find(f"{ns}activityDescription/{ns}activity")
    pid = activity.get("id") if activity is not None else None
    if activity is None or not pid:
        raise ImportFailure("the activity has no id", archive.where(member, dataset.sourceline))
    name = _text(activity, ns, "activityName") or pid
    location = _text(dataset.find(f"{ns}activityDescription/{ns}geography"), ns, "shortname")
    flow_data = dataset.find(ns + "flowData")
    raws: list[_Raw] = []
    for k, ex in enumerate(flow_data if flow_data is not None else []):
        if not isinstance(ex.tag, str):
            continue  # a comment
        tag = etree.QName(ex).localname
        if tag not in ("intermediateExchange", "elementaryExchange"):
            continue
        raws.append(_exchange(ex, tag, ns, name, pid, k, archive, member))
    references = [r for r in raws if r.role == "reference"]
    lead = next((r for r in references if r.amount), references[0] if references else None)
    for extra in references:
        if extra is not lead:
            extra.role = "function"  # an unallocated multi-output data set: the first leads
    if not any(r.role == "reference" for r in raws):
        if any(r.role in ("function", "cut-off") for r in raws):
            raise ImportFailure(f"activity '{name}' ({pid}) has no reference product "
                                "(outputGroup 0)", archive.where(member, dataset.sourceline))  # fmt: skip
        for r in raws:  # no product output at all: nothing to link to, counted as left out
            r.role = "omitted"
    return pid, name, location or None, raws


def _exchange(
    ex: etree._Element,
    tag: str,
    ns: str,
    activity: str,
    pid: str,
    k: int,
    archive: Archive,
    member: str,
) -> _Raw:
    where = archive.where(member, ex.sourceline)
    name = _text(ex, ns, "name")
    label = f"activity '{activity}' ({pid}), {tag} '{name or ex.get('id')}'"
    elementary = tag == "elementaryExchange"
    flow_id = ex.get("elementaryExchangeId" if elementary else "intermediateExchangeId")
    if not flow_id:
        raise ImportFailure(f"{label}: no {'elementary' if elementary else 'intermediate'}"
                            "ExchangeId", where)  # fmt: skip
    try:
        amount = float(ex.get("amount", ""))
    except ValueError:
        raise ImportFailure(
            f"{label}: amount {ex.get('amount')!r} is not a number", where
        ) from None
    if not math.isfinite(amount):
        raise ImportFailure(f"{label}: the amount {amount} is not a finite number", where)
    unit = _text(ex, ns, "unitName")
    if not unit:
        raise ImportFailure(f"{label}: no unitName", where)
    check_unit(unit, label, where)
    output = _text(ex, ns, "outputGroup")
    given = _text(ex, ns, "inputGroup") or output
    if not given:
        raise ImportFailure(f"{label}: neither inputGroup nor outputGroup", where)
    is_output = bool(output)
    category = ""
    if elementary:
        comp = ex.find(ns + "compartment")
        category = "/".join(
            t for t in (_text(comp, ns, "compartment"), _text(comp, ns, "subcompartment")) if t
        )
    uncertainty, problem = _uncertainty(ex, ns, amount)
    flow = SourceFlow(
        id=flow_id,
        name=name or flow_id,
        kind="elementary" if elementary else "product",
        unit=unit,
        category=category,
        cas=ex.get("casNumber"),
    )
    return _Raw(
        flow=flow,
        amount=amount if is_output else -amount,
        unit=unit,
        role=_role(ex, ns, elementary, output, amount),
        label=label,
        provider=ex.get("activityLinkId"),
        internal_id=ex.get("id") or str(k),
        uncertainty=uncertainty,
        problem=problem,
    )


def _uncertainty(
    ex: etree._Element, ns: str, amount: float
) -> tuple[tuple[int, float, float, float] | None, str | None]:
    """The exchange's `<uncertainty>` relative to its amount (same unit as it).

    ecoSpold 2: a lognormal's `variance` is that of the underlying normal (of ln), a normal's
    that of the value; `varianceWithPedigreeUncertainty` (basic plus pedigree) is used where
    given, as ecoinvent's total.
    """
    el = ex.find(ns + "uncertainty")
    if el is None:
        return None, None
    dist = next((c for c in el if isinstance(c.tag, str) and etree.QName(c).localname
                 not in ("pedigreeMatrix", "comment")), None)  # fmt: skip
    if dist is None:
        return None, None
    kind = etree.QName(dist).localname

    def number(name: str) -> float | None:
        text = dist.get(name)
        try:
            return float(text) if text is not None else None
        except ValueError:
            return None

    def variance() -> float | None:
        v = number("varianceWithPedigreeUncertainty")
        return v if v is not None else number("variance")

    if kind in ("lognormal", "normal"):
        var = variance()
        if var is None or not math.isfinite(var) or var < 0:
            return None, f"{kind}: no usable variance"
        if var == 0:
            return None, None  # stated as certain
        if kind == "lognormal":
            return source_uncertainty("lognormal", amount, gsd=math.exp(math.sqrt(var)))
        return source_uncertainty("normal", amount, sd=math.sqrt(var))
    if kind == "uniform":
        return source_uncertainty("uniform", amount, minimum=number("minValue"),
                                  maximum=number("maxValue"))  # fmt: skip
    if kind == "triangular":
        return source_uncertainty("triangular", amount, minimum=number("minValue"),
                                  mode=number("mostLikelyValue"), maximum=number("maxValue"))  # fmt: skip
    if kind == "undefined":
        return None, None
    return None, f"distribution {kind} is not supported"


def _role(ex: etree._Element, ns: str, elementary: bool, output: str, amount: float) -> Role:
    if elementary:
        return "elementary"
    if output == "0":
        return "reference"
    if output == "2":  # by-product
        classes = {
            _text(c, ns, "classificationValue").lower() for c in ex.findall(ns + "classification")
        }
        if amount and "recyclable" in classes:
            return "cut-off"
        return "function"
    return "link"
