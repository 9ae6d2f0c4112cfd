"""Factor sets: a version is a draft until published, and immutable after.

The database refuses to change a published version too (a trigger), so the rule holds for any
writer, not only this module. A tenant reads its own sets and every set a regulator tenant has
published (the national sets); factor search covers the bundled set and both. A calculation
names a set 'name@version' (its own first, else a national one) or 'tenant:name@version'.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from openpcf.domain.factor import Factor, FactorSet
from openpcf.domain.platform import (
    FactorInSet,
    FactorSetCreate,
    FactorSetDocument,
    FactorSetInfo,
    FactorSetUpdate,
    Principal,
    Role,
    TenantKind,
)
from openpcf.factors.bundled import bundled_set
from openpcf.factors.catalogue import Catalogue
from openpcf.services.errors import Conflict, Immutable, InvalidRequest, NotFound
from openpcf.services.platform.access import own, require, signed_in, writer
from openpcf.services.platform.accounts import now, utc
from openpcf.store.models import FactorSetVersion, Tenant


def create_factor_set(session: Session, who: Principal, new: FactorSetCreate) -> FactorSetInfo:
    with session.begin():
        writer(session, who)
        exists = session.scalar(
            select(FactorSetVersion.id).where(
                own(who, FactorSetVersion.tenant_id),
                FactorSetVersion.name == new.name,
                FactorSetVersion.version == new.version,
            )
        )
        if exists is not None:
            raise Conflict(f"factor set {new.name}@{new.version} already exists")
        data = factor_data(new.factors)
        row = FactorSetVersion(
            tenant_id=who.tenant_id,
            name=new.name,
            version=new.version,
            title=new.title,
            factors=data,
            sha256=digest_of(data),
            created_by=who.subject,
        )
        session.add(row)
        session.flush()
        return _info(row)


def update_factor_set(
    session: Session, who: Principal, name: str, version: str, change: FactorSetUpdate
) -> FactorSetInfo:
    with session.begin():
        writer(session, who)
        row = _own(session, who, name, version)
        if row.published_at is not None:
            raise Immutable(
                f"factor set {name}@{version} is published and cannot change; "
                "create a new version instead"
            )
        if change.title is not None:
            row.title = change.title
        if change.factors is not None:
            row.factors = factor_data(change.factors)
            row.sha256 = digest_of(row.factors)
        session.flush()
        return _info(row)


def publish_factor_set(session: Session, who: Principal, name: str, version: str) -> FactorSetInfo:
    """Publish a draft (admins only); from then on it is immutable and calculations may use it."""
    with session.begin():
        writer(session, require(who, Role.admin))
        row = _own(session, who, name, version)
        if row.published_at is not None:
            raise Immutable(f"factor set {name}@{version} is already published")
        row.published_at = now()
        row.published_by = who.subject
        session.flush()
        return _info(row)


def list_factor_sets(session: Session, who: Principal) -> list[FactorSetInfo]:
    with session.begin():
        signed_in(who)
        rows = session.scalars(
            select(FactorSetVersion)
            .where(readable(who))
            .order_by(FactorSetVersion.name, FactorSetVersion.created_at)
        )
        return [_info(r) for r in rows]


def get_factor_set(session: Session, who: Principal, name: str, version: str) -> FactorSetDocument:
    """The tenant's own version, else a national one of that name (`tenant:name` to choose)."""
    with session.begin():
        row = _readable_row(session, who, name, version)
        return FactorSetDocument(**_info(row).model_dump(), factors=_factors(row))


def readable(who: Principal) -> ColumnElement[bool]:
    """The caller's tenant's sets and the published sets of regulator tenants."""
    regulators = select(Tenant.id).where(Tenant.kind == TenantKind.regulator.value)
    national = and_(
        FactorSetVersion.published_at.is_not(None), FactorSetVersion.tenant_id.in_(regulators)
    )
    return or_(own(who, FactorSetVersion.tenant_id), national)


def _readable_row(
    session: Session, who: Principal, name: str, version: str, published: bool = False
) -> FactorSetVersion:
    """'name' (own first, else national) or 'tenant:name'; NotFound if none or ambiguous."""
    signed_in(who)
    owner, _, bare = name.rpartition(":")
    query = (
        select(FactorSetVersion)
        .join(Tenant, Tenant.id == FactorSetVersion.tenant_id)
        .where(readable(who), FactorSetVersion.name == bare, FactorSetVersion.version == version)
    )
    if owner:
        query = query.where(Tenant.slug == owner)
    if published:
        query = query.where(FactorSetVersion.published_at.is_not(None))
    rows = list(session.scalars(query))
    mine = [r for r in rows if r.tenant_id == who.tenant_id]
    if mine:
        return mine[0]
    if len(rows) == 1:
        return rows[0]
    if rows:
        owners = ", ".join(sorted(f"{r.tenant.slug}:{bare}@{version}" for r in rows))
        raise InvalidRequest(f"'{name}@{version}' names several national sets: {owners}")
    raise NotFound(f"no factor set {name}@{version}")


def published_sets(session: Session, who: Principal, labels: list[str]) -> list[FactorSet]:
    """Published sets named 'name@version' or 'tenant:name@version', the tenant's or national."""
    out = []
    for label in labels:
        name, _, version = label.removeprefix(f"{who.tenant}:").partition("@")
        try:
            row = _readable_row(session, who, name, version, published=True)
        except NotFound:
            raise InvalidRequest(
                f"'{label}' is not a published factor set of tenant {who.tenant} nor a "
                "national one; name one as 'name@version' (GET /factor-sets)"
            ) from None
        out.append(as_factor_set(row))
    return out


def as_factor_set(row: FactorSetVersion) -> FactorSet:
    return FactorSet(
        id=f"{row.tenant.slug}:{row.name}",
        version=row.version,
        title=row.title,
        factors=tuple(_factors(row)),
    )


def search_factors(
    session: Session, who: Principal, text: str = "", region: str | None = None, limit: int = 100
) -> list[FactorInSet]:
    """Factors of the bundled set, the caller's published sets and the national sets matching
    every word."""
    with session.begin():
        sets = [bundled_set()]
        rows = session.scalars(
            select(FactorSetVersion)
            .where(readable(who), FactorSetVersion.published_at.is_not(None))
            .order_by(FactorSetVersion.name, FactorSetVersion.version)
        )
        sets += [as_factor_set(r) for r in rows]
    found: list[FactorInSet] = []
    for fs in sets:
        catalogue = _bundled_catalogue() if fs is sets[0] else Catalogue.of([fs])
        for f in catalogue.search(text):
            if region and (f.region or "").upper() != region.upper():
                continue
            found.append(FactorInSet(**f.model_dump(), set=fs.label))
            if len(found) >= limit:
                return found
    return found


@lru_cache(maxsize=1)
def _bundled_catalogue() -> Catalogue:
    return Catalogue.of([bundled_set()])


def get_factor(session: Session, who: Principal, factor_id: str) -> FactorInSet:
    for f in search_factors(session, who, "", None, limit=10**9):
        if f.id == factor_id:
            return f
    raise NotFound(f"no factor '{factor_id}'")


def _own(session: Session, who: Principal, name: str, version: str) -> FactorSetVersion:
    signed_in(who)
    row = session.scalar(
        select(FactorSetVersion).where(
            own(who, FactorSetVersion.tenant_id),
            FactorSetVersion.name == name,
            FactorSetVersion.version == version,
        )
    )
    if row is None:
        raise NotFound(f"no factor set {name}@{version}")
    return row


def factor_data(factors: list[Factor]) -> list[dict]:
    return [f.model_dump(mode="json", exclude_defaults=True) for f in factors]


def _factors(row: FactorSetVersion) -> list[Factor]:
    return [Factor.model_validate(f) for f in row.factors]


def digest_of(data: list[dict]) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _info(row: FactorSetVersion) -> FactorSetInfo:
    return FactorSetInfo(
        tenant=row.tenant.slug,
        name=row.name,
        version=row.version,
        label=f"{row.tenant.slug}:{row.name}@{row.version}",
        title=row.title,
        sha256=row.sha256,
        factor_count=len(row.factors),
        published_at=utc(row.published_at),
        published_by=row.published_by,
        created_by=row.created_by,
        created_at=utc(row.created_at),
    )
