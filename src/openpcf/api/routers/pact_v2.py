"""PACT Technical Specifications v2.3 host system: ListFootprints (with `limit` and Link
pagination; `$filter` answers NotImplemented), GetFootprint and Events (v2 event types)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from openpcf.api.deps import SessionDep
from openpcf.api.routers.pact import (
    ERRORS,
    LIST_OK,
    PactPrincipal,
    footprints_page,
    serve_footprint_and_events,
)
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
    return footprints_page(request, db, who, "2", Filters(), limit, offset)


serve_footprint_and_events(
    router,
    "2",
    events=(
        "CloudEvents (structured mode), v2 types. A ProductFootprintRequest.Created event is "
        "answered later with a Fulfilled (or Rejected) event sent to the Events endpoint its "
        "`source` names (see POST /3/events)."
    ),
)
