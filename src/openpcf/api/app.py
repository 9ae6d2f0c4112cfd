"""The FastAPI application: routers, error rendering, and the database it serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openpcf import __version__, config
from openpcf.api import docs_pages, errors
from openpcf.api.routers import (
    audit,
    auth,
    calculations,
    certification,
    factor_sets,
    factors,
    green_certificates,
    lci,
    ledger,
    meta,
    methodology,
    monitoring,
    national,
    pact_v2,
    pact_v3,
    policies,
    products,
    registry,
    rule_versions,
    supplier_requests,
)
from openpcf.api.routers import (
    sessions as web_sessions,
)
from openpcf.api.security import SecurityHeaders
from openpcf.io import limits
from openpcf.store.db import read_sessions, sessions
from openpcf.web import routes as web_routes

DESCRIPTION = """
Product carbon footprints as a service: products and their model versions, calculations with
full provenance, factor search and the tenant's own factor sets, methodology profiles and
product rules, supplier requests, and the tenant's audit log.

**Authentication**: `Authorization: Bearer <token>` with a personal token
(`openpcf users create`) or an access token from `POST /auth/token` (OAuth2 client
credentials, HTTP Basic `client_id:client_secret`, `grant_type=client_credentials`).
Without credentials a request reads public products and their footprints only.

**Roles**: `admin` (the tenant's administrator), `member` (creates products, model versions,
calculations, factor sets), `verifier` (reads everything of the tenant, writes nothing).

**Tenants** are isolated: another tenant's private data is reported as not found (404), and a
model version (the bill of materials) is readable by its own tenant only.

**Errors** are JSON `{code, message, details}`; the PACT routes (`/3/...`, `/2/...`) answer
the PACT specification's error responses `{code, message}` instead.
"""

TAGS = [
    {"name": "auth", "description": "OAuth2 client-credentials token endpoint"},
    {"name": "products", "description": "Products, model versions, calculations"},
    {"name": "calculations", "description": "Stored footprints by id"},
    {"name": "factors", "description": "Factor search"},
    {"name": "factor sets", "description": "The tenant's own factor sets"},
    {"name": "methodology", "description": "Methodology profiles and product rules"},
    {"name": "supplier requests", "description": "Requests for suppliers' footprints"},
    {"name": "audit", "description": "Who changed what"},
    {"name": "certification", "description": "Submissions, review, signed certificates, keys"},
    {"name": "registry", "description": "Published certified footprints (public)"},
    {"name": "green certificates", "description": "Issued certificates, national claims"},
    {"name": "ledger", "description": "Append-only hash chain: head, entries, verification"},
    {"name": "monitoring", "description": "Plant meters, live emissions, ETS allowances"},
    {"name": "policies", "description": "Policies and standards by province and sector; maps"},
    {
        "name": "background databases",
        "description": "Installed LCI databases and their import reports",
    },
    {"name": "meta", "description": "Liveness and identity"},
    {"name": "PACT v3", "description": "PACT Technical Specifications v3.0 data exchange"},
    {"name": "PACT v2", "description": "PACT Technical Specifications v2.3 data exchange"},
]

# Every router of the API; tests/test_tenancy.py checks each of their routes for isolation.
ROUTERS = (*(
    m.router
    for m in (
        auth, meta, products, calculations, factors, factor_sets, methodology,
        supplier_requests, audit, pact_v3, pact_v2, certification, registry, ledger, monitoring,
        green_certificates, national, policies, lci, web_sessions,
    )
), rule_versions.rules_router, rule_versions.profiles_router)  # fmt: skip


def create_app(database_url: str | None = None) -> FastAPI:
    """The API over `database_url` (default: OPENPCF_DATABASE_URL or SQLite in OPENPCF_HOME).
    The database is upgraded to the latest schema on first use."""
    app = FastAPI(
        title="openpcf",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
        lifespan=_lifespan,
        docs_url=None,  # served by api/docs_pages.py from the package, not a CDN
        redoc_url=None,
    )
    app.state.database_url = database_url
    app.add_middleware(RequestBounds)
    app.state.sessions = _LazySessions(database_url)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(docs_pages.router)
    web_routes.install(app)  # the server-rendered pages (not part of the OpenAPI document)
    errors.document_common_errors(app)
    app.add_middleware(SecurityHeaders)  # CSP, nosniff, HSTS, no-store; the Host check
    return app


class RequestBounds:
    """Each request is bounded in size and time (io/limits.py): a body declared larger than
    REQUEST_BYTES is refused before it is read (413 limit_exceeded), a body that grows past it
    while read is cut off, and parsers and the calculation check the deadline set here
    (REQUEST_SECONDS; past it, 413 limit_exceeded)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        most = limits.REQUEST_BYTES
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > most.value:
            body = errors.error_response(
                413, "limit_exceeded",
                f"the request body of {int(declared)} bytes is too large "
                f"(limit {most.name} = {most.value})",
                {"limit": {"name": most.name, "value": most.value}},
            )  # fmt: skip
            await body(scope, receive, send)
            return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > most.value:
                raise limits.exceeded(most, "the request body is too large", None)
            return message

        with limits.time_limit(config.request_seconds()):
            await self.app(scope, bounded, send)


class _LazySessions:
    """The session factory, opened (and the database migrated) at startup or first request."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._factory: sessionmaker | None = None
        self._reader: sessionmaker | None = None

    def open(self) -> sessionmaker:
        if self._factory is None:
            self._factory = sessions(self.url)
            self._reader = read_sessions(self.url)
        return self._factory

    def __call__(self, read_only: bool = False) -> Session:
        factory = self.open()
        return self._reader() if read_only and self._reader is not None else factory()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Few threads: the work is CPU-bound Python, and many threads only fight over the GIL.
    to_thread.current_default_thread_limiter().total_tokens = config.api_threads()
    await to_thread.run_sync(app.state.sessions.open)
    yield
