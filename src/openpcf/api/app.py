"""The FastAPI application: routers, error rendering, and the database it serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from openpcf import __version__, config
from openpcf.api import errors
from openpcf.api.routers import (
    audit,
    auth,
    calculations,
    certification,
    factor_sets,
    factors,
    ledger,
    meta,
    methodology,
    monitoring,
    pact_v2,
    pact_v3,
    policies,
    products,
    registry,
    supplier_requests,
)
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
    {"name": "ledger", "description": "Append-only hash chain: head, entries, verification"},
    {"name": "monitoring", "description": "Plant meters, live emissions, ETS allowances"},
    {"name": "policies", "description": "Policies and standards by province and sector; maps"},
    {"name": "meta", "description": "Liveness and identity"},
    {"name": "PACT v3", "description": "PACT Technical Specifications v3.0 data exchange"},
    {"name": "PACT v2", "description": "PACT Technical Specifications v2.3 data exchange"},
]

# Every router of the API; tests/test_tenancy.py checks each of their routes for isolation.
ROUTERS = tuple(
    m.router
    for m in (
        auth, meta, products, calculations, factors, factor_sets, methodology,
        supplier_requests, audit, pact_v3, pact_v2, certification, registry, ledger, monitoring,
        policies,
    )
)  # fmt: skip


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
    )
    app.state.database_url = database_url
    app.state.sessions = _LazySessions(database_url)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    web_routes.install(app)  # the server-rendered pages (not part of the OpenAPI document)
    return app


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
