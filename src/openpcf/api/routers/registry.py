"""The public disclosure registry: published certified footprints, for anyone (no sign-in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.certification import State
from openpcf.services.certification import checkpoints, registry

router = APIRouter(prefix="/registry", tags=["registry"])

CertificateId = Annotated[str, Path(description="certificate id", examples=["pcf-3f9a1c2b7d4e"])]


@router.get(
    "/certificates",
    response_model=list[registry.RegistryEntry],
    summary="Search published certified footprints",
    responses=responses(401, 422),
)
def search(
    db: SessionDep,
    _who: PrincipalDep,
    q: Annotated[str | None, Query(max_length=200, description="name, URN or enterprise")] = None,
    rule: Annotated[str | None, Query(max_length=100, description="product rule id")] = None,
    sector: Annotated[str | None, Query(max_length=100)] = None,
    province: Annotated[str | None, Query(max_length=20, examples=["CN-JS"])] = None,
    unit: Annotated[str | None, Query(max_length=100, description="'kWh' or '1 kWh'")] = None,
    status: Annotated[State | None, Query(description="published, revoked or expired")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    meets_threshold: Annotated[
        bool | None,
        Query(
            description="true: only footprints meeting the green-procurement threshold in "
            "force for their rule and declared unit; false: only those that do not"
        ),
    ] = None,
) -> list[registry.RegistryEntry]:
    """Revoked and expired certificates stay listed, with their status."""
    return registry.search(db, q, rule, sector, province, unit, status, limit, offset,
                           meets_threshold)  # fmt: skip


@router.get(
    "/certificates/{certificate_id}",
    response_model=registry.RegistryCertificate,
    summary="A published certificate (the public product page's data)",
    responses=responses(401, 404),
)
def entry(
    certificate_id: CertificateId, db: SessionDep, _who: PrincipalDep
) -> registry.RegistryCertificate:
    return registry.entry(db, certificate_id)


@router.get(
    "/certificates/{certificate_id}/file",
    summary="Download a published certificate file",
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}}}},
        **responses(401, 404),
    },
    response_class=Response,
)
def certificate_file(certificate_id: CertificateId, db: SessionDep, _who: PrincipalDep) -> Response:
    data = registry.document_bytes(db, certificate_id)
    headers = {"Content-Disposition": f'attachment; filename="{certificate_id}.json"'}
    return Response(data, media_type="application/json", headers=headers)


@router.get(
    "/coverage",
    response_model=registry.Coverage,
    summary="What is certified",
    responses=responses(401),
)
def coverage(db: SessionDep, _who: PrincipalDep) -> registry.Coverage:
    """Counts of published certificates by status, product rule, province and sector."""
    return registry.coverage(db)


@router.get(
    "/ledger-checkpoint",
    response_model=checkpoints.Checkpoint,
    summary="The ledger's latest signed checkpoint (as /ledger/checkpoint)",
    responses=responses(401, 404),
)
def ledger_checkpoint(db: SessionDep, _who: PrincipalDep) -> checkpoints.Checkpoint:
    """Published with the registry so that buyers checking a certificate can keep it."""
    return checkpoints.latest_checkpoint(db)
