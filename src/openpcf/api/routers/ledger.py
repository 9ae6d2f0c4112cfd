"""The ledger: its head for anchoring (public), and its entries and verification for
regulators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.platform import Principal, Role, TenantKind
from openpcf.services.certification import ledger
from openpcf.services.errors import PermissionDenied
from openpcf.services.platform.access import require
from openpcf.store.models import Tenant

router = APIRouter(prefix="/ledger", tags=["ledger"])


def _regulator(db: Session, who: Principal) -> None:
    require(who, Role.admin)
    if db.get(Tenant, who.tenant_id).kind != TenantKind.regulator.value:  # type: ignore[union-attr]
        raise PermissionDenied("the ledger's entries are for a regulator's admins")


@router.get(
    "/head", response_model=ledger.LedgerHead, summary="The ledger's head", responses=responses(401)
)
def head(db: SessionDep, _who: PrincipalDep) -> ledger.LedgerHead:
    """The last entry's position and hash: publish it elsewhere (anchor), and later check the
    chain with `openpcf ledger verify --anchor SEQ:HASH`."""
    return ledger.head(db)


@router.get(
    "/entries",
    response_model=list[ledger.LedgerEntryInfo],
    summary="Ledger entries (regulators)",
    responses=responses(401, 403),
)
def entries(
    db: SessionDep,
    who: PrincipalDep,
    after: Annotated[int, Query(ge=0, le=2**62, description="entries after this seq")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    kind: Annotated[str | None, Query(max_length=60)] = None,
) -> list[ledger.LedgerEntryInfo]:
    _regulator(db, who)
    return ledger.entries(db, after, limit, kind)


@router.get(
    "/verify",
    response_model=ledger.LedgerVerdict,
    summary="Check the whole chain (regulators)",
    responses=responses(401, 403),
)
def verify(db: SessionDep, who: PrincipalDep) -> ledger.LedgerVerdict:
    """The first altered, removed or reordered entry, if any."""
    _regulator(db, who)
    return ledger.verify(db)
