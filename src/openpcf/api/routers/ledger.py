"""The ledger: its head and signed checkpoints with Merkle proofs (public), and its entries and
verification for regulators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from openpcf import config
from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.platform import Principal, Role, TenantKind
from openpcf.services.certification import checkpoints, ledger
from openpcf.services.errors import PermissionDenied
from openpcf.services.platform.access import require
from openpcf.store.models import Tenant


@asynccontextmanager
async def _checkpoints(app: Any) -> AsyncIterator[None]:
    """Sign checkpoints periodically in the server (OPENPCF_LEDGER_CHECKPOINT_MINUTES)."""
    minutes = config.ledger_checkpoint_minutes()
    worker = checkpoints.CheckpointWorker(app.state.sessions, minutes) if minutes > 0 else None
    if worker is not None:
        worker.start()
    try:
        yield
    finally:
        if worker is not None:
            worker.stop()


router = APIRouter(prefix="/ledger", tags=["ledger"], lifespan=_checkpoints)


def _regulator(db: Session, who: Principal) -> None:
    """Called first in a route: its read ends here, so the service can begin its own."""
    require(who, Role.admin)
    with db.begin():
        kind = db.get(Tenant, who.tenant_id).kind  # type: ignore[union-attr]
    if kind != TenantKind.regulator.value:
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


# --- signed checkpoints and Merkle proofs (public: hashes only) -----------------------------


@router.get(
    "/checkpoint",
    response_model=checkpoints.Checkpoint,
    summary="The latest signed checkpoint of the ledger (public)",
    responses=responses(401, 404),
)
def latest_checkpoint(db: SessionDep, _who: PrincipalDep) -> checkpoints.Checkpoint:
    """Size and RFC 9162 Merkle root of the ledger at a time, signed with the platform's
    Ed25519 key. Save it: later, `openpcf ledger verify --checkpoint FILE` (or a consistency
    proof from /ledger/consistency) shows whether today's ledger still extends it."""
    return checkpoints.latest_checkpoint(db)


@router.get(
    "/checkpoints",
    response_model=list[checkpoints.Checkpoint],
    summary="Signed checkpoints, newest first (public)",
    responses=responses(401),
)
def list_checkpoints(
    db: SessionDep, _who: PrincipalDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[checkpoints.Checkpoint]:
    return checkpoints.list_checkpoints(db, limit)


@router.post(
    "/checkpoints",
    response_model=checkpoints.Checkpoint,
    status_code=201,
    summary="Sign a checkpoint of the ledger now (regulators)",
    responses=responses(401, 403),
)
def make_checkpoint(db: SessionDep, who: PrincipalDep) -> checkpoints.Checkpoint:
    _regulator(db, who)
    return checkpoints.make_checkpoint(db, who.actor)


@router.get(
    "/proof/{seq}",
    response_model=checkpoints.InclusionProof,
    summary="Inclusion proof of one entry (public: hashes; the entry for regulators)",
    responses=responses(401, 404),
)
def inclusion_proof(
    db: SessionDep,
    who: PrincipalDep,
    seq: int = Path(ge=1, le=2**62),
    size: Annotated[
        int | None, Query(ge=1, le=2**62, description="tree size (a checkpoint's)")
    ] = None,
) -> checkpoints.InclusionProof:
    """The audit path from entry `seq` to the Merkle root of the first `size` entries (default:
    all). A buyer holding the entry (e.g. a green-electricity claim) recomputes its hash and
    checks the path against a signed checkpoint of that size."""
    return checkpoints.inclusion(db, seq, size, with_entry=False)


@router.get(
    "/consistency",
    response_model=checkpoints.ConsistencyProof,
    summary="Consistency proof between two ledger sizes (public)",
    responses=responses(401, 422),
)
def consistency_proof(
    db: SessionDep,
    _who: PrincipalDep,
    first: Annotated[int, Query(ge=0, le=2**62, description="a saved checkpoint's size")],
    second: Annotated[int | None, Query(ge=0, le=2**62, description="default: today's")] = None,
) -> checkpoints.ConsistencyProof:
    """RFC 9162 §2.1.4: that the tree of `first` entries is a prefix of the tree of `second`."""
    return checkpoints.consistency(db, first, second)
