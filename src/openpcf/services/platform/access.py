"""Who may do what: every platform use case takes the acting `Principal` and checks it here.

Isolation is by tenant: a principal sees its own tenant's rows and, for reading, public products
and their footprints. Anything else is reported as not found, never as forbidden, so that the
existence of another tenant's private data is not revealed.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from openpcf.domain.platform import Principal, Role, TenantKind, Visibility
from openpcf.services.errors import AuthenticationFailed, PermissionDenied
from openpcf.store.audit import attribute
from openpcf.store.models import Product, Tenant


def signed_in(who: Principal) -> Principal:
    if who.tenant_id is None or who.role is None:
        raise AuthenticationFailed("sign in: send 'Authorization: Bearer <token>'")
    return who


def require(who: Principal, *roles: Role) -> Principal:
    """The principal, if signed in with one of `roles`; else 401 (anonymous) or 403."""
    signed_in(who)
    if who.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise PermissionDenied(f"role {who.role} may not do this (allowed: {allowed})")
    return who


def writer(session: Session, who: Principal) -> Principal:
    """An admin or member of a tenant, named as the actor of the session's writes."""
    require(who, Role.admin, Role.member)
    attribute(session, who.actor, who.tenant)
    return who


def own(who: Principal, tenant_column: ColumnElement[int]) -> ColumnElement[bool]:
    """Rows of the principal's tenant (none for anonymous callers)."""
    if who.tenant_id is None:
        return false()
    return tenant_column == who.tenant_id


def readable_products(who: Principal) -> ColumnElement[bool]:
    """Products the principal may read: its tenant's and every public one."""
    public = Product.visibility == Visibility.public.value
    return public if who.tenant_id is None else or_(public, own(who, Product.tenant_id))


def national(session: Session, who: Principal) -> Principal:
    """A regulator tenant's admin or member, or the platform's operator (a CLI command on the
    server): who may publish national data (issuance records, factor sets, rules)."""
    if who.kind == "operator":
        attribute(session, who.actor, None)
        return who
    require(who, Role.admin, Role.member)
    kind = session.scalar(select(Tenant.kind).where(Tenant.id == who.tenant_id))
    if kind != TenantKind.regulator.value:
        raise PermissionDenied("only a regulator tenant may do this")
    attribute(session, who.actor, who.tenant)
    return who
