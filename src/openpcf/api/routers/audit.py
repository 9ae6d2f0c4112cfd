"""The tenant's audit log (admins and verifiers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.platform import AuditEntryInfo
from openpcf.services.platform import audit as audit_log

router = APIRouter(tags=["audit"])


# The SQL OFFSET is a signed 64-bit integer (SQLite, PostgreSQL); beyond it the driver fails.
MAX_OFFSET = 2**63 - 1


@router.get(
    "/audit",
    response_model=list[AuditEntryInfo],
    summary="The tenant's audit log, newest first",
    responses=responses(401, 403),
)
def list_entries(
    db: SessionDep,
    who: PrincipalDep,
    entity: Annotated[str | None, Query(examples=["products"])] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[AuditEntryInfo]:
    """Every write in the tenant: who, when, what (entity and id), action and details."""
    return audit_log.list_entries(db, who, entity, limit, offset)
