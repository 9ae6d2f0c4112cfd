"""Which stored calculation of each sub-assembly a parent's result was computed from.

A parent's calculation computes its sub-assemblies itself, from the model versions it records
(product URN, number, sha256 of each). The stored calculation of a sub-assembly that describes
exactly that part of the parent's result is one of the same profile and GWP set whose own
model versions (the sub-assembly's and its own sub-assemblies') are all ones the parent used,
with factor sets the parent had. A newer calculation of the sub-assembly describes something
else: it is named separately, so that a page links what the parent's footprint is bound to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.platform import Principal
from openpcf.services.errors import NotFound
from openpcf.services.platform.access import own, signed_in
from openpcf.services.platform.accounts import utc
from openpcf.store.models import Calculation, Product


@dataclass(frozen=True)
class CalculationRef:
    id: str  # the calculation's uuid
    created_at: datetime
    model_version: int


@dataclass(frozen=True)
class SubResult:
    """The calculations of one sub-assembly product, under the parent's profile."""

    product: str  # URN
    version: int | None  # the model version the parent used; None if it is not recorded
    used: CalculationRef | None  # the calculation of exactly what the parent used
    newest: CalculationRef | None  # the newest calculation of the product under the profile
    newer: CalculationRef | None  # the newest, if made after `used` from other inputs


def sub_results(session: Session, who: Principal, calculation_id: str) -> dict[str, SubResult]:
    """Sub-assembly product URN -> its calculations, for the caller's tenant's calculation
    `calculation_id` (another tenant's is not found; only the tenant's own products count)."""
    signed_in(who)
    with session.begin():
        parent = session.scalar(
            select(Calculation).where(
                Calculation.uuid == calculation_id, own(who, Calculation.tenant_id)
            )
        )
        if parent is None:
            raise NotFound(f"no calculation {calculation_id}")
        used = {m["product"]: m for m in parent.model_versions}
        prefix = f"urn:openpcf:product:{who.tenant}:"
        subs = [u for u in list(used)[1:] if u.startswith(prefix)]
        if not subs:
            return {}
        rows = session.scalars(
            select(Calculation)
            .join(Product, Product.id == Calculation.product_id)
            .where(
                own(who, Calculation.tenant_id),
                own(who, Product.tenant_id),
                Product.urn.in_(subs),
                Calculation.profile == parent.profile,
            )
            .order_by(Calculation.created_at.desc(), Calculation.id.desc())
        ).all()
        out: dict[str, SubResult] = {}
        for urn in subs:
            mine = [r for r in rows if r.product.urn == urn]
            exact = [r for r in mine if _describes(r, parent, used)]
            # the newest of those already made when the parent was, else the first made after
            before = [r for r in exact if _when(r) <= _when(parent)]
            pick = before[0] if before else (exact[-1] if exact else None)
            newest = mine[0] if mine else None
            newer = (
                newest
                if pick is not None
                and newest is not None
                and newest not in exact
                and _when(newest) > _when(pick)
                else None
            )
            out[urn] = SubResult(
                urn,
                used[urn].get("number"),
                *(_ref(r) if r is not None else None for r in (pick, newest, newer)),
            )
        return out


def _describes(sub: Calculation, parent: Calculation, used: dict[str, dict]) -> bool:
    """Whether `sub` computed exactly what `parent` computed for that sub-assembly."""
    if sub.gwp != parent.gwp or not set(sub.factor_sets) <= set(parent.factor_sets):
        return False
    return all(
        (m["product"] in used)
        and used[m["product"]].get("number") == m.get("number")
        and used[m["product"]].get("sha256") == m.get("sha256")
        for m in sub.model_versions
    )


def _when(row: Calculation) -> tuple[datetime, int]:
    """The order calculations were made in (the id orders those of the same second: SQLite's
    clock has whole seconds)."""
    return (row.created_at, row.id)


def _ref(row: Calculation) -> CalculationRef:
    return CalculationRef(row.uuid, utc(row.created_at), row.model_versions[0]["number"])
