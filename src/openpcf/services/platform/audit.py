"""Reading the audit log of a tenant (its admins and verifiers)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.platform import AuditEntryInfo, Principal, Role
from openpcf.services.platform.access import require
from openpcf.services.platform.accounts import utc
from openpcf.store.models import AuditEntry


def list_entries(
    session: Session, who: Principal, entity: str | None = None, limit: int = 100, offset: int = 0
) -> list[AuditEntryInfo]:
    """The tenant's audit entries, newest first."""
    require(who, Role.admin, Role.verifier)
    with session.begin():
        query = select(AuditEntry).where(AuditEntry.tenant == who.tenant)
        if entity:
            query = query.where(AuditEntry.entity == entity)
        rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
        return [
            AuditEntryInfo(
                at=utc(r.at),
                tenant=r.tenant,
                actor=r.actor,
                action=r.action,
                entity=r.entity,
                entity_id=r.entity_id,
                details=r.details,
            )
            for r in rows
        ]
