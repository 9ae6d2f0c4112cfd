"""Read an openLCA JSON-LD export (zip or folder) into `SourceData`, with olca-schema's types.

Amounts are converted to each flow's reference unit as openLCA itself does
(`ReferenceAmount` in olca-core): amount × the unit's factor in its unit group ÷ the flow's
conversion factor for the exchange's flow property. Product inputs, waste outputs and avoided
products are the exchanges to link; product outputs and waste inputs other than the
quantitative reference are coproducts, shared by the allocation factors of the process's
default allocation method. A broken reference or unit is an `ImportFailure` naming the file and
the exchange: nothing is guessed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import olca_schema as olca

from openpcf.domain.errors import ImportFailure, UnitError
from openpcf.domain.lci import FlowKind, Role, SourceData, SourceExchange, SourceFlow, SourceProcess
from openpcf.domain.uncertainty import Distribution, source_uncertainty
from openpcf.io import limits
from openpcf.io.archive import Archive

Progress = Callable[[int, int], None]
T = TypeVar("T")

_KIND: dict[olca.FlowType | None, FlowKind] = {
    olca.FlowType.ELEMENTARY_FLOW: "elementary",
    olca.FlowType.PRODUCT_FLOW: "product",
    olca.FlowType.WASTE_FLOW: "waste",
}
_DISTRIBUTION: dict[olca.UncertaintyType, Distribution] = {
    olca.UncertaintyType.LOG_NORMAL_DISTRIBUTION: "lognormal",
    olca.UncertaintyType.NORMAL_DISTRIBUTION: "normal",
    olca.UncertaintyType.UNIFORM_DISTRIBUTION: "uniform",
    olca.UncertaintyType.TRIANGLE_DISTRIBUTION: "triangular",
}
_METHOD = {
    olca.AllocationType.PHYSICAL_ALLOCATION: "physical",
    olca.AllocationType.ECONOMIC_ALLOCATION: "economic",
    olca.AllocationType.CAUSAL_ALLOCATION: "causal",
}


def is_jsonld(archive: Archive) -> bool:
    return bool(archive.under("processes", ".json"))


@dataclass(frozen=True)
class _FlowUnits:
    """A flow's conversion factors per flow property, and each property's unit group."""

    flow: SourceFlow
    property_factor: dict[str, float]  # flow property id -> units of it per reference unit
    reference_property: str


def read_jsonld(archive: Archive, progress: Progress | None = None) -> SourceData:
    groups = {g.id: g for g in _each(archive, "unit_groups", olca.UnitGroup.from_dict)}
    properties = {p.id: p for p in _each(archive, "flow_properties", olca.FlowProperty.from_dict)}
    flows = {
        f.id: _flow_units(f, properties, groups, archive, m)
        for m, f in _each_with_member(archive, "flows", olca.Flow.from_dict)
    }
    members = archive.under("processes", ".json")
    processes = []
    for i, member in enumerate(members):
        process = _parse(archive, member, olca.Process.from_dict)
        processes.append(_process(process, member, flows, properties, groups, archive))
        if progress is not None:
            progress(i + 1, len(members))
    return SourceData(
        format="openLCA JSON-LD",
        processes=tuple(processes),
        flows={k: v.flow for k, v in flows.items()},
        files=len(members),
    )


def _parse(archive: Archive, member: str, parse: Callable[[dict[str, Any]], T]) -> T:
    raw = archive.read(member)
    data = limits.load_json(raw, archive.where(member), ImportFailure, limits.MEMBER_BYTES, None)
    if not isinstance(data, dict):
        raise ImportFailure("expected a JSON object", archive.where(member))
    try:
        obj = parse(data)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ImportFailure(f"not an olca-schema object: {exc}", archive.where(member)) from None
    if not getattr(obj, "id", None):
        raise ImportFailure("the object has no '@id'", archive.where(member))
    return obj


def _each_with_member(
    archive: Archive, folder: str, parse: Callable[[dict[str, Any]], T]
) -> list[tuple[str, T]]:
    return [(m, _parse(archive, m, parse)) for m in archive.under(folder, ".json")]


def _each(archive: Archive, folder: str, parse: Callable[[dict[str, Any]], T]) -> list[T]:
    return [obj for _, obj in _each_with_member(archive, folder, parse)]


def _category(value: object) -> str:
    """olca-schema 2 gives a path string; exports of openLCA 1.x a reference to a Category."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return str(value.get("name") or "")
    return ""


def _ref_unit(group: olca.UnitGroup) -> olca.Unit | None:
    return next((u for u in group.units or [] if u.is_ref_unit), None)


def _flow_units(
    flow: olca.Flow,
    properties: dict[str, olca.FlowProperty],
    groups: dict[str, olca.UnitGroup],
    archive: Archive,
    member: str,
) -> _FlowUnits:
    where = archive.where(member)
    what = f"flow '{flow.name}' ({flow.id})"
    factors: dict[str, float] = {}
    reference = None
    for fpf in flow.flow_properties or []:
        pid = fpf.flow_property.id if fpf.flow_property else None
        if pid not in properties:
            raise ImportFailure(f"{what} refers to flow property {pid!r}, which the export "
                                "does not contain", where)  # fmt: skip
        if not fpf.conversion_factor:
            raise ImportFailure(f"{what}: flow property {pid!r} has no conversion factor", where)
        factors[pid] = float(fpf.conversion_factor)
        if fpf.is_ref_flow_property:
            reference = pid
    if reference is None:
        raise ImportFailure(f"{what} has no reference flow property", where)
    group_id = properties[reference].unit_group.id if properties[reference].unit_group else None
    if group_id not in groups:
        raise ImportFailure(f"{what}: the unit group {group_id!r} of its reference flow "
                            "property is not in the export", where)  # fmt: skip
    unit = _ref_unit(groups[group_id])
    if unit is None or not unit.name:
        raise ImportFailure(f"unit group {group_id!r} has no reference unit", where)
    kind = _KIND.get(flow.flow_type)
    if kind is None:
        raise ImportFailure(f"{what} has no flow type", where)
    source = SourceFlow(
        id=flow.id or "",
        name=flow.name or flow.id or "",
        kind=kind,
        unit=unit.name,
        category=_category(flow.category),
        cas=flow.cas,
    )
    return _FlowUnits(source, factors, reference)


def _process(
    p: olca.Process,
    member: str,
    flows: dict[str, _FlowUnits],
    properties: dict[str, olca.FlowProperty],
    groups: dict[str, olca.UnitGroup],
    archive: Archive,
) -> SourceProcess:
    where = archive.where(member)
    exchanges = []
    for k, e in enumerate(p.exchanges or []):
        label = f"process '{p.name}' ({p.id}), exchange {e.internal_id or k + 1}"
        flow_id = e.flow.id if e.flow else None
        if flow_id not in flows:
            name = e.flow.name if e.flow else None
            raise ImportFailure(f"{label}: flow {name!r} ({flow_id}) is not in the export", where)
        fu = flows[flow_id]
        label += f" '{fu.flow.name}'"
        amount = _reference_amount(e, fu, properties, groups, label, where)
        role: Role
        if fu.flow.kind == "elementary":
            role = "elementary"
        elif e.is_quantitative_reference:
            role = "reference"
        elif (fu.flow.kind == "product") != bool(e.is_input) and not e.is_avoided_product:
            role = "function"  # a product output or a waste input: a coproduct
        else:
            role = "link"  # a product input, a waste output, or an avoided product
        uncertainty, problem = _uncertainty(e)
        exchanges.append(
            SourceExchange(
                flow_id=flow_id,
                amount=-amount if e.is_input else amount,
                role=role,
                label=label,
                default_provider=e.default_provider.id if e.default_provider else None,
                internal_id=e.internal_id,
                uncertainty=uncertainty,
                uncertainty_problem=problem,
            )
        )
    method = _METHOD.get(p.default_allocation_method)  # type: ignore[arg-type]
    shares: dict[str | tuple[str, int | str], float] = {}
    for f in p.allocation_factors or []:
        if _METHOD.get(f.allocation_type) != method or f.product is None or f.value is None:  # type: ignore[arg-type]
            continue
        if method == "causal":
            if f.exchange is not None and f.exchange.internal_id is not None:
                shares[(f.product.id or "", f.exchange.internal_id)] = float(f.value)
        else:
            shares[f.product.id or ""] = float(f.value)
    return SourceProcess(
        id=p.id or "",
        name=p.name or p.id or "",
        file=str(where.file),
        exchanges=tuple(exchanges),
        location=p.location.name if p.location else None,
        category=_category(p.category),
        allocation_method=method,
        allocation=shares,
    )


def _uncertainty(
    e: olca.Exchange,
) -> tuple[tuple[int, float, float, float] | None, str | None]:
    """olca-schema's Uncertainty of the exchange, relative to its amount (same unit as it)."""
    u = e.uncertainty
    if u is None or u.distribution_type is None or e.amount is None:
        return None, None
    distribution = _DISTRIBUTION.get(u.distribution_type)
    if distribution is None:
        return None, f"distribution {u.distribution_type.value} is not supported"
    return source_uncertainty(distribution, float(e.amount), gsd=u.geom_sd, sd=u.sd,
                              minimum=u.minimum, mode=u.mode, maximum=u.maximum)  # fmt: skip


def _reference_amount(
    e: olca.Exchange,
    fu: _FlowUnits,
    properties: dict[str, olca.FlowProperty],
    groups: dict[str, olca.UnitGroup],
    label: str,
    where: Any,
) -> float:
    """The exchange's amount in its flow's reference unit (olca-core's ReferenceAmount)."""
    if e.amount is None:
        detail = f" (only the formula '{e.amount_formula}')" if e.amount_formula else ""
        raise ImportFailure(f"{label}: no amount{detail}", where)
    if not math.isfinite(e.amount):
        raise ImportFailure(f"{label}: the amount {e.amount} is not a finite number", where)
    pid = e.flow_property.id if e.flow_property else fu.reference_property
    if pid not in fu.property_factor:
        raise UnitError(f"{label}: flow property {pid!r} is not one of the flow's", where)
    if e.unit is None:
        return float(e.amount) / fu.property_factor[pid]
    group_ref = properties[pid].unit_group
    group = groups.get(group_ref.id) if group_ref else None
    units = group.units or [] if group else []
    unit = next((u for u in units if u.id == e.unit.id), None) or next(
        (u for u in units if e.unit.id is None and u.name == e.unit.name), None
    )
    if unit is None or not unit.conversion_factor:
        known = ", ".join(u.name or "?" for u in units) or "none"
        raise UnitError(f"{label}: unit '{e.unit.name}' ({e.unit.id}) is not in the unit group "
                        f"of its flow property (units there: {known})", where)  # fmt: skip
    return float(e.amount) * float(unit.conversion_factor) / fu.property_factor[pid]
