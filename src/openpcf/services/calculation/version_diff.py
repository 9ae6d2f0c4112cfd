"""The difference between two model versions of a product: the lines added, removed and
changed, and the footprint change each causes under one methodology profile.

Both versions are computed afresh (nothing is stored), with the same sub-assemblies and
factor sets, so the difference of the totals is the sum of the lines' effects.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.errors import OpenpcfError
from openpcf.domain.model import ProductModel
from openpcf.domain.platform import Principal
from openpcf.domain.result import Result
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.stored import stored_project
from openpcf.services.catalogue.products import loaded_version, own_product
from openpcf.services.errors import NotFound
from openpcf.store.models import ModelVersion

SECTIONS = ("inputs", "emissions", "coproducts", "excluded", "factors")


@dataclass(frozen=True)
class LineChange:
    status: str  # added | removed | changed | same
    section: str
    name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    fields: tuple[str, ...] = ()  # the fields that differ, for a changed line
    effect: float | None = None  # kg CO2e per declared unit, b minus a


@dataclass
class VersionDiff:
    a: int
    b: int
    profile: str
    lines: list[LineChange] = field(default_factory=list)
    product: list[tuple[str, Any, Any]] = field(default_factory=list)  # field, in a, in b
    total_a: float | None = None
    total_b: float | None = None
    declared_unit: str = ""
    error: str | None = None  # why the footprints could not be computed

    @property
    def changes(self) -> list[LineChange]:
        return [c for c in self.lines if c.status != "same"]


def diff_versions(
    session: Session, who: Principal, urn: str, a: int, b: int, profile: str
) -> VersionDiff:
    with session.begin():
        product = own_product(session, who, urn)
        rows = {n: _row(session, product.id, urn, n) for n in (a, b)}
        models = {n: loaded_version(r).model for n, r in rows.items()}
        out = VersionDiff(a, b, profile)
        out.product = _product_changes(models[a], models[b])
        results: dict[int, Result] = {}
        try:
            for n, row in rows.items():
                project, _ = stored_project(session, who, row, [])
                results[n] = calculate(project, profile=profile)
        except OpenpcfError as e:
            out.error = str(e)
    by_name = {n: _by_name(r) for n, r in results.items()}
    out.lines = _lines(models[a], models[b], by_name.get(a), by_name.get(b))
    if results:
        out.total_a, out.total_b = results[a].pcf.value, results[b].pcf.value
        du = results[b].declared_unit
        out.declared_unit = f"{du.amount:g} {du.unit}"
    return out


def _row(session: Session, product_id: int, urn: str, number: int) -> ModelVersion:
    row = session.scalar(
        select(ModelVersion).where(
            ModelVersion.product_id == product_id, ModelVersion.number == number
        )
    )
    if row is None:
        raise NotFound(f"product {urn} has no model version {number}")
    return row


def _by_name(result: Result) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for c in result.contributions:
        out[c.name] += c.kg_co2e
    return out


def _data(model: ProductModel, section: str) -> list[dict[str, Any]]:
    return [
        item.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        for item in getattr(model, section)
    ]


def _key(section: str, item: dict[str, Any]) -> str:
    if section == "factors":
        return str(item.get("id"))
    if section == "emissions":
        return str(item.get("name") or f"direct {item.get('gas')}")
    return str(item.get("name"))


def _lines(
    ma: ProductModel,
    mb: ProductModel,
    ca: dict[str, float] | None,
    cb: dict[str, float] | None,
) -> list[LineChange]:
    """Lines matched by name (the n-th of a name with the n-th), in the order of version b,
    removed lines after."""
    out: list[LineChange] = []
    for section in SECTIONS:
        before: dict[tuple[str, int], dict[str, Any]] = {}
        seen: dict[str, int] = defaultdict(int)
        for item in _data(ma, section):
            name = _key(section, item)
            before[(name, seen[name])] = item
            seen[name] += 1
        seen.clear()
        for item in _data(mb, section):
            name = _key(section, item)
            old = before.pop((name, seen[name]), None)
            seen[name] += 1
            effect = _effect(section, name, ca, cb)
            if old is None:
                out.append(LineChange("added", section, name, None, item, effect=effect))
            else:
                fields = tuple(k for k in {**old, **item} if old.get(k) != item.get(k))
                status = "changed" if fields else "same"
                out.append(LineChange(status, section, name, old, item, fields, effect))
        for (name, _), old in before.items():
            effect = _effect(section, name, ca, cb)
            out.append(LineChange("removed", section, name, old, None, effect=effect))
    return out


def _effect(
    section: str, name: str, ca: dict[str, float] | None, cb: dict[str, float] | None
) -> float | None:
    if ca is None or cb is None or section not in ("inputs", "emissions"):
        return None
    return cb.get(name, 0.0) - ca.get(name, 0.0)


def _product_changes(ma: ProductModel, mb: ProductModel) -> list[tuple[str, Any, Any]]:
    pa = ma.product.model_dump(mode="json", by_alias=True, exclude_none=True)
    pb = mb.product.model_dump(mode="json", by_alias=True, exclude_none=True)
    return [(k, pa.get(k), pb.get(k)) for k in {**pa, **pb} if pa.get(k) != pb.get(k)]
