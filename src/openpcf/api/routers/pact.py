"""What the PACT v2 and v3 routers share: the caller (a bearer token), the errors, paging,
the OpenAPI documents of the responses, and the handlers both versions serve alike.

Errors are the spec's error responses `{code, message}`: 400 BadRequest (missing or invalid
token, bad parameters or events), 401 TokenExpired, 403 AccessDenied, 404 NoSuchFootprint,
400 NotImplemented.

A missing or invalid token is 400 BadRequest, not 401: the rest-api's ListFootprints and
GetFootprint answer TokenExpired only "because it expired" and BadRequest "in all other cases",
and the official conformance tests expect 400 BadRequest (TESTCASE#6, #7 and #14/#16 for
Events, v2 and v3), although v3's index says "return a 401 when it has expired or is invalid".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from openpcf.api.deps import SessionDep, bearer
from openpcf.domain.platform import Principal
from openpcf.io.pact.schema import PactVersion
from openpcf.services.errors import AuthenticationFailed, InvalidRequest, NotFound, PermissionDenied
from openpcf.services.exchange import delivery as pact_delivery
from openpcf.services.exchange import footprints
from openpcf.services.exchange import host as pact_api
from openpcf.services.exchange.footprints import Filters, PactApiError, bad_request
from openpcf.services.platform.accounts import principal_for_token

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


def footprints_page(
    request: Request,
    db: SessionDep,
    who: Principal,
    version: PactVersion,
    filters: Filters,
    limit: int | None,
    offset: int,
) -> JSONResponse:
    """ListFootprints: one page of the footprints the caller may read that match."""
    with pact_errors():
        docs = footprints.list_footprints(db, who, version, filters)
    return page(request, docs, limit, offset)


def footprint(db: SessionDep, who: Principal, version: PactVersion, pf_id: str) -> JSONResponse:
    """GetFootprint."""
    with pact_errors():
        return JSONResponse({"data": footprints.get_footprint(db, who, version, pf_id)})


def serve_footprint_and_events(router: APIRouter, version: PactVersion, events: str) -> None:
    """Add the actions both versions serve alike but for the version: GetFootprint, and Events
    (`events` describes the event types of the version)."""

    @router.get(
        f"/{version}/footprints/{{id}}",
        summary=f"Action GetFootprint (PACT v{version})",
        response_class=JSONResponse,
        responses=GET_OK | ERRORS | {404: error_doc("NoSuchFootprint")},
    )
    def get_footprint(id: str, db: SessionDep, who: PactPrincipal) -> JSONResponse:
        return footprint(db, who, version, id)

    @router.post(
        f"/{version}/events",
        summary=f"Action Events (PACT v{version})",
        description=events,
        response_class=Response,
        responses=EVENT_OK | ERRORS,
    )
    def post_event(
        request: Request,
        db: SessionDep,
        who: PactPrincipal,
        event: Annotated[Any, Body(media_type=EVENT_MEDIA_TYPE)] = None,
    ) -> Response:
        return accept_event(request, db, who, version, event)
