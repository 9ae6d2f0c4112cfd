"""The PACT data recipient: fetch a supplier's footprints of a product from its host system
(v3 ListFootprints, synchronously), validate them, and keep them with their provenance as a
fulfilled supplier request of the tenant.

The token comes from HOST/auth/token (OAuth2 client credentials, HTTP Basic). Requests time out
and are retried with exponential back-off on connection errors, 429 and 5xx answers.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.errors import OpenpcfError
from openpcf.domain.platform import (
    Principal,
    Role,
    SupplierRequestCreate,
    SupplierRequestInfo,
    SupplierRequestStatus,
)
from openpcf.io.pact.schema import PactVersion
from openpcf.io.pact.supplier import read_footprints
from openpcf.services.exchange import supplier_requests
from openpcf.services.exchange.files import ImportedInput, input_from_pact
from openpcf.store.models import Tenant

MAX_PAGES = 100


class PactClientError(OpenpcfError):
    """The supplier's host could not be reached or answered what PACT does not allow."""


@dataclass(frozen=True)
class Fetched:
    host: str
    product_id: str
    footprints: list[tuple[PactVersion, dict[str, Any]]]  # validated
    fetched_at: datetime
    client_id: str

    def provenance(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "action": "ListFootprints",
            "url": f"{self.host}/3/footprints?productId={self.product_id}",
            "client_id": self.client_id,
            "fetched_at": self.fetched_at.isoformat(),
            "footprint_ids": [pf["id"] for _, pf in self.footprints],
        }


def base_url(host: str) -> str:
    """HOST as given (with a scheme), or https://HOST."""
    host = host.rstrip("/")
    return host if host.startswith(("http://", "https://")) else f"https://{host}"


def fetch_footprints(
    host: str,
    product_id: str,
    client_id: str,
    client_secret: str,
    *,
    timeout: float = 10.0,
    retries: int = 3,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Fetched:
    """Every footprint HOST lists for `product_id`, following `Link: rel="next"` pages."""
    base = base_url(host)
    with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False) as http:

        def send(method: str, url: str, **kw: Any) -> httpx.Response:
            for attempt in range(retries + 1):
                try:
                    r = http.request(method, url, **kw)
                except httpx.TransportError as exc:
                    if attempt == retries:
                        raise PactClientError(f"{method} {url}: {exc}") from None
                else:
                    if (r.status_code != 429 and r.status_code < 500) or attempt == retries:
                        return r
                sleep(min(0.5 * 2**attempt, 8.0))
            raise AssertionError("unreachable")

        r = send(
            "POST",
            f"{base}/auth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
            headers={"accept": "application/json"},
        )
        if r.status_code != 200:
            raise PactClientError(f"{base}/auth/token refused the client: {_said(r)}")
        token = r.json().get("access_token")
        if not isinstance(token, str):
            raise PactClientError(f"{base}/auth/token answered no access_token")
        found: list[dict[str, Any]] = []
        url: str | None = f"{base}/3/footprints"
        params: dict[str, str] | None = {"productId": product_id}
        for _ in range(MAX_PAGES):
            if url is None:
                break
            r = send("GET", url, params=params, headers={"authorization": f"Bearer {token}"})
            if r.status_code not in (200, 202):
                raise PactClientError(f"GET {url}: {_said(r)}")
            try:
                body = r.json()
                found += body["data"]
            except (ValueError, KeyError, TypeError):
                raise PactClientError(f"GET {url}: not a ListFootprints response") from None
            url, params = r.links.get("next", {}).get("url"), None
    fetched_at = datetime.now(UTC)
    return Fetched(base, product_id, _validated(found), fetched_at, client_id)


def _said(r: httpx.Response) -> str:
    try:
        body = r.json()
        what = body.get("message") or body.get("error_description") or body
        return f"{r.status_code} {body.get('code') or body.get('error', '')}: {what}"
    except ValueError:
        return f"{r.status_code} {r.text[:200]}"


def _validated(found: list[dict[str, Any]]) -> list[tuple[PactVersion, dict[str, Any]]]:
    if not found:
        return []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "footprints.json"
        path.write_text(json.dumps(found), encoding="utf-8")
        try:
            return read_footprints(path)
        except OpenpcfError as exc:
            raise PactClientError(f"the host answered invalid footprints: {exc.message}") from None


def imported_input(fetched: Fetched, pf_id: str | None = None) -> ImportedInput:
    """One fetched footprint (the only Active one, or `pf_id`) as a `pcf:` input, via io/pact."""
    pfs = [pf for _, pf in fetched.footprints]
    if pf_id is None:
        pfs = [pf for pf in pfs if pf.get("status") == "Active"] or pfs
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "footprints.json"
        path.write_text(json.dumps(pfs), encoding="utf-8")
        imported = input_from_pact(path, pf_id=pf_id)
    return ImportedInput(
        imported.entry,
        (*imported.comments, f"fetched from {fetched.host} at {fetched.fetched_at:%Y-%m-%d}"),
        imported.footprint,
    )


def tenant_principal(session: Session, tenant: str, operator: str) -> Principal:
    """The operator acting for `tenant` (as a member) on the command line."""
    with session.begin():
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant))
    if tenant_id is None:
        raise PactClientError(
            f"no tenant '{tenant}' in the store; create it with `openpcf tenants create`, or "
            f"set OPENPCF_TENANT"
        )
    return Principal(
        kind="operator", subject=operator, tenant=tenant, tenant_id=tenant_id, role=Role.member
    )


def record(
    session_factory: Callable[[], Session], who: Principal, fetched: Fetched
) -> SupplierRequestInfo:
    """A supplier request of `who`'s tenant, fulfilled with what arrived (or rejected: none)."""
    new = SupplierRequestCreate(
        supplier_host=fetched.host[:300],
        product_id=fetched.product_id[:300],
        message="fetched with openpcf suppliers request (PACT v3 ListFootprints)",
    )
    made = supplier_requests.create_request(session_factory(), who, new)
    status = (
        SupplierRequestStatus.fulfilled if fetched.footprints else SupplierRequestStatus.rejected
    )
    result = {
        "provenance": fetched.provenance(),
        "footprints": [pf for _, pf in fetched.footprints],
    }
    message = f"{len(fetched.footprints)} footprint(s) received at {fetched.fetched_at.isoformat()}"
    return supplier_requests.set_status(
        session_factory(), who, made.id, status, message, json.dumps(result)
    )
