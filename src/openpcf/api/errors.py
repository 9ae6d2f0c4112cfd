"""Errors as JSON: {code, message, details}; each kind of failure has its status and code."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from openpcf.domain.errors import (
    CalculationError,
    FactorError,
    ModelError,
    MultiError,
    OpenpcfError,
    UnitError,
)
from openpcf.io.limits import LimitExceeded
from openpcf.services.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PlatformError,
    RuleViolation,
    UnresolvedReference,
)
from openpcf.services.exchange.footprints import PactApiError
from openpcf.store.refusal import refused_change

log = logging.getLogger("openpcf.api")


class ErrorOut(BaseModel):
    """Every error the API returns."""

    code: str = Field(description="stable machine-readable code", examples=["not_found"])
    message: str = Field(description="what went wrong and, where possible, the fix")
    details: Any = Field(default=None, description="structured context: location, violations…")


class OAuthErrorOut(BaseModel):
    """RFC 6749 section 5.2 error (with `code` and `message` as elsewhere in the API)."""

    error: str = Field(examples=["invalid_client"])
    error_description: str
    code: str
    message: str


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


class UnsupportedMediaType(InvalidRequest):
    code = "unsupported_media_type"


class PayloadTooLarge(InvalidRequest):
    code = "payload_too_large"


_DESCRIPTIONS = {
    400: "Malformed request: a body that does not parse (`code`: http_error), or on the PACT "
    "routes any invalid request (`BadRequest`)",
    401: "Missing, invalid or expired credentials (`code`: unauthorized)",
    403: "Signed in, but the role does not allow this (`code`: forbidden)",
    404: "Not found, or not visible to the caller (`code`: not_found)",
    409: "Conflicts with what exists, or changes something immutable (`conflict`, `immutable`)",
    413: "The document is too large or beyond a bound on nesting, values, aliases, rows or "
    "time (`payload_too_large`, `limit_exceeded` with `details.limit`)",
    415: "Unsupported media type (`code`: unsupported_media_type)",
    422: "Invalid input: request fields, model document (with file line and field), "
    "unresolved sub-assembly, rule violations (`invalid_request`, `model_error`, "
    "`unresolved_reference`, `rule_violation`, ...)",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error responses a route may give."""
    return {s: {"model": ErrorOut, "description": _DESCRIPTIONS[s]} for s in statuses}


#: What any operation may answer, whatever its own errors: a body that does not parse (400),
#: bad credentials (401), a document or request beyond a bound of io/limits.py (413), invalid
#: fields (422; PACT routes answer 400 BadRequest instead).
COMMON = (400, 401, 413, 422)


def document_common_errors(app: FastAPI) -> None:
    """Declare COMMON on every operation of the OpenAPI document that does not declare them."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        if schema.get("x-openpcf-common-errors"):
            return schema
        for path, item in schema.get("paths", {}).items():
            pact = path.startswith(("/2/", "/3/"))
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                answers = op.setdefault("responses", {})
                for status in COMMON:
                    if str(status) not in answers:
                        answers[str(status)] = _common(status, pact)
        schema["x-openpcf-common-errors"] = True
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _common(status: int, pact: bool) -> dict[str, Any]:
    if pact:
        body = {"type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}  # fmt: skip
    else:
        body = {"$ref": "#/components/schemas/ErrorOut"}
    described = _DESCRIPTIONS[status]
    return {"description": described, "content": {"application/json": {"schema": body}}}


def _status(exc: OpenpcfError) -> int:
    for kind, status in (
        (NotFound, 404),
        (PermissionDenied, 403),
        (AuthenticationFailed, 401),
        (Conflict, 409),
        (UnsupportedMediaType, 415),
        (PayloadTooLarge, 413),
        (LimitExceeded, 413),
    ):
        if isinstance(exc, kind):
            return status
    return 422


def _code(exc: OpenpcfError) -> str:
    if isinstance(exc, LimitExceeded):
        return "limit_exceeded"
    if isinstance(exc, PlatformError | UnresolvedReference):
        return exc.code
    for kind, code in (
        (ModelError, "model_error"),
        (FactorError, "factor_error"),
        (UnitError, "unit_error"),
        (CalculationError, "calculation_error"),
        (MultiError, "invalid_input"),
    ):
        if isinstance(exc, kind):
            return code
    return "invalid_input"


def _details(exc: OpenpcfError) -> Any:
    if isinstance(exc, PlatformError):
        return exc.details
    if isinstance(exc, MultiError):
        return {"errors": [{"message": e.message, **_where(e)} for e in exc.errors]}
    details = _where(exc)
    if isinstance(exc, LimitExceeded):
        details["limit"] = {"name": exc.limit.name, "value": exc.limit.value}
    if isinstance(exc, UnresolvedReference):
        details["reference"] = exc.reference
    return details or None


def _where(exc: OpenpcfError) -> dict[str, Any]:
    loc = exc.location
    found = {
        "file": str(loc.file) if loc.file else None,
        "line": loc.line,
        "field": loc.field,
        "sheet": loc.sheet,
        "cell": loc.cell,
    }
    return {k: v for k, v in found.items() if v is not None}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorOut(code=code, message=message, details=details)
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(OpenpcfError)
    async def _openpcf(_: Request, exc: OpenpcfError) -> JSONResponse:
        status = _status(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        message = exc.message if isinstance(exc, PlatformError | RuleViolation) else str(exc)
        return error_response(status, _code(exc), message, _details(exc), headers)

    @app.exception_handler(OAuthError)
    async def _oauth(_: Request, exc: OAuthError) -> JSONResponse:
        body = OAuthErrorOut(
            error=exc.error,
            error_description=exc.description,
            code=exc.error,
            message=exc.description,
        )
        headers = {"WWW-Authenticate": 'Basic realm="openpcf"'} if exc.status == 401 else None
        headers = (headers or {}) | {"Cache-Control": "no-store"}
        return JSONResponse(body.model_dump(), status_code=exc.status, headers=headers)

    @app.exception_handler(PactApiError)
    async def _pact(_: Request, exc: PactApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        body = {"code": exc.code, "message": exc.message}
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "message": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        if request.url.path.startswith(("/2/", "/3/")):  # PACT: the spec's error response
            body = {"code": "BadRequest", "message": f"{where}: {first['message']}"}
            return JSONResponse(body, status_code=400)
        return error_response(
            422, "invalid_request", f"{where}: {first['message']}", {"errors": errors}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        return error_response(
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            str(exc.detail),
            None,
            dict(exc.headers or {}),
        )

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        reason = refused_change(exc)
        if reason is None:  # any other database error: the unexpected one's 500, as before
            raise exc
        # a trigger refused a change the services should have refused first: say why
        log.error("the database refused a change: %s", reason)
        return error_response(409, "immutable", f"the database refuses the change: {reason}")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "internal_error", "an unexpected error occurred; it is logged")
