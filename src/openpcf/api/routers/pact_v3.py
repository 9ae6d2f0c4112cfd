"""PACT Technical Specifications v3.0 host system: ListFootprints, GetFootprint, Events, and
the OpenID Provider Configuration Document naming the token endpoint (POST /auth/token).
The errors, the caller and paging are shared with v2 (`pact.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from openpcf.api.deps import SessionDep
from openpcf.api.errors import ErrorOut
from openpcf.api.routers.pact import (
    ERRORS,
    LIST_OK,
    PactPrincipal,
    footprints_page,
    serve_footprint_and_events,
)
from openpcf.services.exchange import delivery as pact_delivery
from openpcf.services.exchange import host as pact_api
from openpcf.services.exchange.footprints import Filters


@asynccontextmanager
async def _delivery_worker(app: Any) -> AsyncIterator[None]:
    """The server process's PACT delivery worker (answers to requests, update notices)."""
    worker = pact_delivery.start_worker(app.state.sessions)
    try:
        yield
    finally:
        pact_delivery.stop_worker(worker)


router = APIRouter(tags=["PACT v3"], lifespan=_delivery_worker)


@router.get(
    "/.well-known/openid-configuration",
    tags=["auth"],
    summary="OpenID Provider Configuration Document (issuer, token_endpoint)",
    responses={500: {"model": ErrorOut, "description": "An unexpected error (logged)"}},
)
def openid_configuration(request: Request) -> dict[str, Any]:
    return pact_api.openid_configuration(str(request.base_url))


@router.get(
    "/3/footprints",
    summary="Action ListFootprints (PACT v3)",
    response_class=JSONResponse,
    responses=LIST_OK | ERRORS,
)
def list_footprints(
    request: Request,
    db: SessionDep,
    who: PactPrincipal,
    limit: Annotated[int | None, Query(ge=1, description="most footprints to return")] = None,
    offset: Annotated[int, Query(ge=0, description="from the Link header")] = 0,
    product_id: Annotated[list[str] | None, Query(alias="productId")] = None,
    company_id: Annotated[list[str] | None, Query(alias="companyId")] = None,
    geography: Annotated[list[str] | None, Query()] = None,
    classification: Annotated[list[str] | None, Query()] = None,
    valid_on: Annotated[datetime | None, Query(alias="validOn")] = None,
    valid_after: Annotated[datetime | None, Query(alias="validAfter")] = None,
    valid_before: Annotated[datetime | None, Query(alias="validBefore")] = None,
    status: Annotated[
        list[str] | None, Query(description="Active or Deprecated (several: any of them)")
    ] = None,
) -> JSONResponse:
    """The caller's tenant's footprints and every public product's, as PACT v3
    ProductFootprints (id: the calculation's UUID; a product's newest calculation under a profile is
    Active, older ones Deprecated). Criteria: OR within one, AND between them."""
    filters = Filters(
        product_id=product_id or (),
        company_id=company_id or (),
        geography=geography or (),
        classification=classification or (),
        valid_on=_aware(valid_on),
        valid_after=_aware(valid_after),
        valid_before=_aware(valid_before),
        status=status or (),
    )
    return footprints_page(request, db, who, "3", filters, limit, offset)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


serve_footprint_and_events(
    router,
    "3",
    events=(
        "CloudEvents (structured mode). A RequestCreatedEvent is answered later: the footprints "
        "the caller may read that match its criteria are sent in a RequestFulfilledEvent (none: a"
        " RequestRejectedEvent) to the Events endpoint its `source` names, which must be an "
        "allowed callback host (OPENPCF_PACT_CALLBACK_HOSTS; loopback by default). "
        "PublishedEvent, RequestFulfilledEvent and RequestRejectedEvent are checked and "
        "acknowledged."
    ),
)
