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


def _ident(section: str, item: dict[str, Any]) -> str | None:
    """What an input stands for, kept when it is renamed: the sub-assembly's product URN, the
    background process, or the PACT footprint id of a supplier's PCF."""
    if section != "inputs":
        return None
    for kind, value in (
        ("product", item.get("product")),
        ("process", item.get("process")),
        ("pact", (item.get("pcf") or {}).get("pact_id")),
    ):
        if value:
            return f"{kind}:{value}"
    return None


def _pairs(
    keys_a: list[tuple[str, str | None]], keys_b: list[tuple[str, str | None]]
) -> dict[int, int]:
    """b index -> a index of the line it continues: the same identifier and name, then the
    same identifier (a renamed line), then the same name (the n-th of a name with the n-th)."""
    out: dict[int, int] = {}
    taken: set[int] = set()
    rounds = (
        lambda ka, kb: ka[1] is not None and ka == kb,
        lambda ka, kb: ka[1] is not None and ka[1] == kb[1],
        lambda ka, kb: ka[0] == kb[0],
    )
    for same in rounds:
        for j, kb in enumerate(keys_b):
            if j in out:
                continue
            i = next((i for i, ka in enumerate(keys_a) if i not in taken and same(ka, kb)), None)
            if i is not None:
                out[j] = i
                taken.add(i)
    return out


def _lines(
    ma: ProductModel,
    mb: ProductModel,
    ca: dict[str, float] | None,
    cb: dict[str, float] | None,
) -> list[LineChange]:
    """Lines matched by a stable identifier where both versions have it (`_ident`), else by
    name (the n-th of a name with the n-th), in the order of version b, removed lines after."""
    out: list[LineChange] = []
    for section in SECTIONS:
        items_a, items_b = _data(ma, section), _data(mb, section)
        keys_a = [(_key(section, x), _ident(section, x)) for x in items_a]
        keys_b = [(_key(section, x), _ident(section, x)) for x in items_b]
        pairs = _pairs(keys_a, keys_b)
        for j, item in enumerate(items_b):
            name = keys_b[j][0]
            if j not in pairs:
                effect = _effect(section, name, name, ca, cb)
                out.append(LineChange("added", section, name, None, item, effect=effect))
                continue
            old = items_a[pairs[j]]
            effect = _effect(section, keys_a[pairs[j]][0], name, ca, cb)
            fields = tuple(k for k in {**old, **item} if old.get(k) != item.get(k))
            status = "changed" if fields else "same"
            out.append(LineChange(status, section, name, old, item, fields, effect))
        matched = set(pairs.values())
        for i, old in enumerate(items_a):
            if i not in matched:
                name = keys_a[i][0]
                effect = _effect(section, name, name, ca, cb)
                out.append(LineChange("removed", section, name, old, None, effect=effect))
    return out


def _effect(
    section: str,
    name_a: str,
    name_b: str,
    ca: dict[str, float] | None,
    cb: dict[str, float] | None,
) -> float | None:
    """The line's contribution in b (under its name there) minus in a (under its name there)."""
    if ca is None or cb is None or section not in ("inputs", "emissions"):
        return None
    return cb.get(name_b, 0.0) - ca.get(name_a, 0.0)


def _product_changes(ma: ProductModel, mb: ProductModel) -> list[tuple[str, Any, Any]]:
    pa = ma.product.model_dump(mode="json", by_alias=True, exclude_none=True)
    pb = mb.product.model_dump(mode="json", by_alias=True, exclude_none=True)
    return [(k, pa.get(k), pb.get(k)) for k in {**pa, **pb} if pa.get(k) != pb.get(k)]
