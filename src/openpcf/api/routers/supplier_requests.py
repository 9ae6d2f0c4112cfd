"""Requests to suppliers for product footprints (answered through the PACT exchange)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.platform import (
    SupplierRequestCreate,
    SupplierRequestInfo,
    SupplierRequestStatus,
)
from openpcf.services.exchange import supplier_requests

router = APIRouter(prefix="/supplier-requests", tags=["supplier requests"])


@router.get(
    "",
    response_model=list[SupplierRequestInfo],
    summary="List the tenant's supplier requests",
    responses=responses(401),
)
def list_requests(
    db: SessionDep,
    who: PrincipalDep,
    status_: Annotated[SupplierRequestStatus | None, Query(alias="status")] = None,
) -> list[SupplierRequestInfo]:
    return supplier_requests.list_requests(db, who, status_)


@router.post(
    "",
    response_model=SupplierRequestInfo,
    status_code=status.HTTP_201_CREATED,
    summary="Record a request for a supplier's product footprint",
    responses=responses(401, 403, 422),
)
def create_request(
    new: SupplierRequestCreate, db: SessionDep, who: PrincipalDep
) -> SupplierRequestInfo:
    return supplier_requests.create_request(db, who, new)


@router.get(
    "/{request_id}",
    response_model=SupplierRequestInfo,
    summary="Get a supplier request",
    responses=responses(401, 404),
)
def get_request(
    request_id: Annotated[str, Path(description="request UUID")],
    db: SessionDep,
    who: PrincipalDep,
) -> SupplierRequestInfo:
    return supplier_requests.get_request(db, who, request_id)
