"""PACT Technical Specifications v3.0 host system: ListFootprints, GetFootprint, Events, and
the OpenID Provider Configuration Document naming the token endpoint (POST /auth/token).

Errors are the spec's error responses `{code, message}`: 400 BadRequest (missing or invalid
token, bad parameters or events), 401 TokenExpired, 403 AccessDenied, 404 NoSuchFootprint,
400 NotImplemented.

A missing or invalid token is 400 BadRequest, not 401: the rest-api's ListFootprints and
GetFootprint answer TokenExpired only "because it expired" and BadRequest "in all other cases",
and the official conformance tests expect 400 BadRequest (TESTCASE#6, #7 and #14/#16 for
Events, v2 and v3), although v3's index says "return a 401 when it has expired or is invalid".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from openpcf.api.deps import SessionDep, bearer
from openpcf.api.errors import ErrorOut
from openpcf.domain.platform import Principal
from openpcf.io.pact.schema import PactVersion
from openpcf.services.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotFound,
    PermissionDenied,
)
from openpcf.services.exchange import delivery as pact_delivery
from openpcf.services.exchange import footprints
from openpcf.services.exchange import host as pact_api
from openpcf.services.exchange.footprints import Filters, PactApiError, bad_request
from openpcf.services.platform.accounts import principal_for_token


@asynccontextmanager
async def _delivery_worker(app: Any) -> AsyncIterator[None]:
    """The server process's PACT delivery worker (answers to requests, update notices)."""
    worker = pact_delivery.start_worker(app.state.sessions)
    try:
        yield
    finally:
        pact_delivery.stop_worker(worker)


router = APIRouter(tags=["PACT v3"], lifespan=_delivery_worker)

DEFAULT_PAGE = 100
MAX_PAGE = 1000
EVENT_MEDIA_TYPE = "application/cloudevents+json"


def error_doc(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                },
            }
        },
    }


def ok_doc(description: str, schema: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {"application/json": {"schema": schema}}}}


_PF = {"type": "object", "description": "a PACT ProductFootprint (see the PACT specification)"}
LIST_OK = ok_doc(
    'the footprints; `Link: <...>; rel="next"` when more remain',
    {"type": "object", "required": ["data"],
     "properties": {"data": {"type": "array", "items": _PF}}},
)  # fmt: skip
GET_OK = ok_doc(
    "the footprint", {"type": "object", "required": ["data"], "properties": {"data": _PF}}
)
EVENT_OK = ok_doc(
    "accepted; the body is empty", {"description": "no content (content-length 0)", "maxLength": 0}
)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_doc("BadRequest (also: missing or invalid access token) or NotImplemented"),
    401: error_doc("TokenExpired"),
    403: error_doc("AccessDenied"),
}


def pact_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller of a PACT action: an access token (or personal token) is required."""
    if credentials is None:
        raise bad_request("send 'Authorization: Bearer <access token>' (POST /auth/token)")
    with request.app.state.sessions(read_only=True) as db:
        try:
            return principal_for_token(db, credentials.credentials)
        except AuthenticationFailed as exc:
            if "expired" in exc.message:
                raise PactApiError(401, "TokenExpired", exc.message) from None
            raise bad_request(exc.message) from None


PactPrincipal = Annotated[Principal, Depends(pact_principal)]


@contextmanager
def pact_errors() -> Iterator[None]:
    """The platform's errors as PACT error responses."""
    try:
        yield
    except PermissionDenied as exc:
        raise PactApiError(403, "AccessDenied", exc.message) from None
    except AuthenticationFailed as exc:
        raise bad_request(exc.message) from None
    except NotFound as exc:
        raise PactApiError(404, "NoSuchFootprint", exc.message) from None
    except InvalidRequest as exc:
        raise bad_request(exc.message) from None


def page(
    request: Request, docs: list[dict[str, Any]], limit: int | None, offset: int
) -> JSONResponse:
    """One page of footprints, with `Link: <...>; rel="next"` when more remain."""
    size = min(limit or DEFAULT_PAGE, MAX_PAGE)
    headers = {}
    if offset + size < len(docs):
        following = request.url.include_query_params(offset=offset + size, limit=size)
        headers["Link"] = f'<{following}>; rel="next"'
    return JSONResponse({"data": docs[offset : offset + size]}, headers=headers)


def accept_event(
    request: Request, db: SessionDep, who: Principal, version: PactVersion, event: Any
) -> Response:
    """200 with an empty body once accepted (rest-api "Action Events", Response Syntax)."""
    our_source = f"//{request.url.netloc}/{version}/events"
    with pact_errors():
        queued = pact_api.handle_event(db, who, version, event, our_source)
    if queued:
        pact_delivery.wake_all()
    return Response(status_code=200)


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
    with pact_errors():
        docs = footprints.list_footprints(db, who, "3", filters)
    return page(request, docs, limit, offset)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@router.get(
    "/3/footprints/{id}",
    summary="Action GetFootprint (PACT v3)",
    response_class=JSONResponse,
    responses=GET_OK | ERRORS | {404: error_doc("NoSuchFootprint")},
)
def get_footprint(id: str, db: SessionDep, who: PactPrincipal) -> JSONResponse:
    with pact_errors():
        return JSONResponse({"data": footprints.get_footprint(db, who, "3", id)})


@router.post(
    "/3/events",
    summary="Action Events (PACT v3)",
    response_class=Response,
    responses=EVENT_OK | ERRORS,
)
def post_event(
    request: Request,
    db: SessionDep,
    who: PactPrincipal,
    event: Annotated[Any, Body(media_type=EVENT_MEDIA_TYPE)] = None,
) -> Response:
    """CloudEvents (structured mode). A RequestCreatedEvent is answered later: the footprints
    the caller may read that match its criteria are sent in a RequestFulfilledEvent (none: a
    RequestRejectedEvent) to the Events endpoint its `source` names, which must be an allowed
    callback host (OPENPCF_PACT_CALLBACK_HOSTS; loopback by default). PublishedEvent,
    RequestFulfilledEvent and RequestRejectedEvent are checked and acknowledged."""
    return accept_event(request, db, who, "3", event)
