"""Who a web session stands for, asked again on every page so that a disabled user, a changed
role or a deleted account takes effect at once rather than when the cookie expires."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.platform import Principal, Role
from openpcf.store.models import Tenant, User

TENANT_KINDS = ("enterprise", "verifier", "regulator")


def principal_for_user(session: Session, email: str) -> tuple[Principal, str] | None:
    """The user's principal and its tenant's kind, or None when unknown or disabled."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or user.disabled_at is not None:
        return None
    principal = Principal(
        kind="user",
        subject=user.email,
        tenant=user.tenant.slug,
        tenant_id=user.tenant_id,
        role=Role(user.role),
    )
    return principal, tenant_kind(user.tenant)


def tenant_kind(tenant: Tenant) -> str:
    """enterprise | verifier | regulator. Tenants made before kinds existed are enterprises."""
    kind = getattr(tenant, "kind", None)
    return str(kind) if kind in TENANT_KINDS else "enterprise"
