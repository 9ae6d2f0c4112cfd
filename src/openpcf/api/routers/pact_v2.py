"""PACT Technical Specifications v2.3 host system: ListFootprints (with `limit` and Link
pagination; `$filter` answers NotImplemented), GetFootprint and Events (v2 event types)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from openpcf.api.deps import SessionDep
from openpcf.api.routers.pact_v3 import (
    ERRORS,
    EVENT_MEDIA_TYPE,
    EVENT_OK,
    GET_OK,
    LIST_OK,
    PactPrincipal,
    accept_event,
    error_doc,
    pact_errors,
    page,
)
from openpcf.services.exchange import footprints
from openpcf.services.exchange.footprints import Filters, PactApiError

router = APIRouter(tags=["PACT v2"])


@router.get(
    "/2/footprints",
    summary="Action ListFootprints (PACT v2)",
    response_class=JSONResponse,
    responses=LIST_OK | ERRORS,
)
def list_footprints(
    request: Request,
    db: SessionDep,
    who: PactPrincipal,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0, description="from the Link header")] = 0,
    filter_: Annotated[str | None, Query(alias="$filter", description="not implemented")] = None,
) -> JSONResponse:
    if filter_ is not None:
        raise PactApiError(400, "NotImplemented", "$filter (OData) is not implemented")
    with pact_errors():
        docs = footprints.list_footprints(db, who, "2", Filters())
    return page(request, docs, limit, offset)


@router.get(
    "/2/footprints/{id}",
    summary="Action GetFootprint (PACT v2)",
    response_class=JSONResponse,
    responses=GET_OK | ERRORS | {404: error_doc("NoSuchFootprint")},
)
def get_footprint(id: str, db: SessionDep, who: PactPrincipal) -> JSONResponse:
    with pact_errors():
        return JSONResponse({"data": footprints.get_footprint(db, who, "2", id)})


@router.post(
    "/2/events",
    summary="Action Events (PACT v2)",
    response_class=Response,
    responses=EVENT_OK | ERRORS,
)
def post_event(
    request: Request,
    db: SessionDep,
    who: PactPrincipal,
    event: Annotated[Any, Body(media_type=EVENT_MEDIA_TYPE)] = None,
) -> Response:
    """CloudEvents (structured mode), v2 types. A ProductFootprintRequest.Created event is
    answered later with a Fulfilled (or Rejected) event sent to the Events endpoint its
    `source` names (see POST /3/events)."""
    return accept_event(request, db, who, "2", event)
