"""Outgoing PACT events: answers to partners' footprint requests and notices of new footprints,
delivered to the partner's Events endpoint with a timeout, retries and a record of each try.

PACT v3 (openapi, RequestCreatedEvent; rest-api "Asynchronous request and retrieval"): a data
owner that accepted a request answers later with exactly one RequestFulfilledEvent (a non-empty
list of footprints) or RequestRejectedEvent, sent to the host named in the request's `source`
after validating it, retrying with exponential back-off for at most 72 hours. Here:

- `source` "//host/path" means https://host/path; "https://..." is taken as given; plain
  "http://" only for loopback hosts. A source without a path gets "/<version>/events".
- Only hosts in OPENPCF_PACT_CALLBACK_HOSTS are called (plus loopback, unless
  OPENPCF_PACT_CALLBACK_LOOPBACK=0); a request naming another host is refused at once (400),
  and a stored delivery whose host is no longer allowed is marked `refused` with the reason.
- The sender authenticates at the partner as the spec's Authentication Flow describes (OpenID
  discovery, else <partner>/auth/token, client credentials with HTTP Basic) with the
  credentials OPENPCF_PACT_PARTNERS gives for that host; a host without credentials is sent
  the event without a token.
- A try times out after OPENPCF_PACT_CALLBACK_TIMEOUT seconds; failed tries are repeated after
  OPENPCF_PACT_RETRY_BASE × 2^(n-1) seconds (at most 6 hours apart), at most
  OPENPCF_PACT_MAX_ATTEMPTS times and never later than 72 hours after the request.

Answers are computed when the worker takes the request up, as the requesting client: its
tenant's footprints and public ones (the same as its ListFootprints), filtered by the
request's criteria. A partner that was sent a product's footprints is later told of the
product's new footprints with a PublishedEvent (the same partner, endpoint and credentials).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openpcf import config
from openpcf.domain.platform import Principal, Role
from openpcf.io.pact.schema import PactVersion
from openpcf.services.exchange.footprints import EVENT_TYPES, Filters, filters_from, list_footprints
from openpcf.store.audit import attribute
from openpcf.store.models import Tenant
from openpcf.store.models_pact import PactDelivery

log = logging.getLogger("openpcf.pact")

WORKER = "operator:pact-delivery"
MAX_AGE = timedelta(hours=72)  # "SHOULD abandon sending the event after 72 hours"
MAX_DELAY = timedelta(hours=6)
LEASE = timedelta(minutes=5)  # a taken delivery is not taken again meanwhile (other processes)

SessionFactory = Callable[[], Session]


class CallbackRefused(ValueError):
    """The event's `source` is not a host openpcf may call back; the message says why."""


# ------------------------------------------------------------------------ where to deliver


def callback_url(source: str, version: PactVersion) -> str:
    """The Events endpoint a request's `source` names, if allowed (else CallbackRefused)."""
    text = source.strip()
    if text.startswith("//"):
        text = "https:" + text
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CallbackRefused(
            f"source '{source}' names no host to answer to (expected //host/path or "
            "https://host/path)"
        )
    if parts.username or parts.password:
        raise CallbackRefused(f"source '{source}' must not carry credentials")
    reason = refusal(parts.hostname, parts.port)
    if reason:
        raise CallbackRefused(reason)
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise CallbackRefused(f"source '{source}': events are sent over HTTPS only (PACT)")
    path = parts.path if parts.path not in ("", "/") else f"/{version}/events"
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{path}{query}"


def refusal(host: str, port: int | None = None) -> str | None:
    """Why `host` may not be called back, or None when it may."""
    host = host.lower().rstrip(".")
    if _loopback(host):
        if config.pact_callback_loopback():
            return None
        return f"callback host {host} is loopback, and OPENPCF_PACT_CALLBACK_LOOPBACK is off"
    for allowed in config.pact_callback_hosts():
        name, _, want_port = allowed.lower().partition(":")
        if want_port and port is not None and want_port != str(port):
            continue
        if name == "*" or name == host or (name.startswith("*.") and host.endswith(name[1:])):
            return None
    return (
        f"callback host {host} is not allowed; add it to OPENPCF_PACT_CALLBACK_HOSTS "
        "(comma-separated host names, *.domain or *)"
    )


def _loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# ------------------------------------------------------------------------------- partners


@dataclass(frozen=True)
class Partner:
    """Credentials openpcf uses at a partner's token endpoint (OPENPCF_PACT_PARTNERS)."""

    client_id: str
    client_secret: str
    token_url: str | None = None


def partners() -> dict[str, Partner]:
    """OPENPCF_PACT_PARTNERS: a YAML/JSON file mapping host (or host:port) to client_id,
    client_secret and optionally token_url. Read on each use, so edits apply at once."""
    path = config.pact_partners_file()
    if path is None:
        return {}
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return {
            str(host).lower(): Partner(
                client_id=str(p["client_id"]),
                client_secret=str(p["client_secret"]),
                token_url=p.get("token_url"),
            )
            for host, p in raw.items()
        }
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        log.error("OPENPCF_PACT_PARTNERS %s is unreadable (%s); sending without tokens", path, exc)
        return {}


_TOKENS: dict[str, tuple[str, float]] = {}  # netloc -> (token, monotonic expiry)
_TOKENS_LOCK = threading.Lock()


def _token(http: httpx.Client, url: str, fresh: bool = False) -> str | None:
    parts = urlsplit(url)
    netloc = parts.netloc.lower()
    known = partners()
    partner = known.get(netloc) or known.get((parts.hostname or "").lower())
    if partner is None:
        return None
    with _TOKENS_LOCK:
        cached = _TOKENS.get(netloc)
    if cached and not fresh and cached[1] > time.monotonic():
        return cached[0]
    base = f"{parts.scheme}://{parts.netloc}"
    token_url = partner.token_url or _discovered_token_url(http, base) or f"{base}/auth/token"
    r = http.post(
        token_url,
        data={"grant_type": "client_credentials"},
        auth=(partner.client_id, partner.client_secret),
        headers={"accept": "application/json"},
    )
    if r.status_code != 200:
        raise httpx.HTTPError(f"{token_url} refused openpcf's credentials: {r.status_code}")
    body = r.json()
    token = body.get("access_token")
    if not isinstance(token, str):
        raise httpx.HTTPError(f"{token_url} answered no access_token")
    ttl = body.get("expires_in")
    life = float(ttl) - 30 if isinstance(ttl, int | float) and ttl > 60 else 300.0
    with _TOKENS_LOCK:
        _TOKENS[netloc] = (token, time.monotonic() + life)
    return token


def _discovered_token_url(http: httpx.Client, base: str) -> str | None:
    """token_endpoint of the partner's OpenID Provider Configuration Document, if it has one."""
    try:
        r = http.get(f"{base}/.well-known/openid-configuration")
        found = r.json().get("token_endpoint") if r.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return found if isinstance(found, str) and found.startswith(("https://", "http://")) else None


# ------------------------------------------------------------------------------- the queue


def requester(row: PactDelivery, tenant: Tenant) -> Principal:
    """The client or user whose request the delivery answers, as it was when it asked."""
    kind, _, subject = row.requested_by.partition(":")
    return Principal(
        kind=kind if kind in ("user", "client", "operator") else "client",  # type: ignore[arg-type]
        subject=subject or row.requested_by,
        tenant=tenant.slug,
        tenant_id=tenant.id,
        role=Role(row.requester_role),
    )


def event_envelope(
    version: PactVersion, kind: str, data: dict[str, Any], uid: str, source: str
) -> dict[str, Any]:
    """A CloudEvent (structured mode) of `kind` from openpcf's Events endpoint `source`."""
    return {
        "type": EVENT_TYPES[version][kind],
        "specversion": "1.0",
        "id": uid,
        "source": source,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": data,
    }


@dataclass
class Outcome:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    refused: int = 0

    def __str__(self) -> str:
        return (
            f"{self.delivered} delivered, {self.retried} to retry, {self.failed} given up, "
            f"{self.refused} refused"
        )


def run_due(
    sessions: SessionFactory,
    *,
    now: datetime | None = None,
    limit: int = 100,
    transport: httpx.BaseTransport | None = None,
) -> Outcome:
    """Answer and send every delivery due by `now` (default: now); one try each."""
    out = Outcome()
    moment = now or datetime.now(UTC)
    with sessions() as s:
        due = s.execute(
            select(PactDelivery.id, PactDelivery.next_attempt_at)
            .where(PactDelivery.status == "pending", PactDelivery.next_attempt_at <= moment)
            .order_by(PactDelivery.next_attempt_at)
            .limit(limit)
        ).all()
    for row_id, when in due:
        if not _claim(sessions, row_id, when, moment):
            continue  # another process took it
        result = _attempt(sessions, row_id, moment, transport)
        setattr(out, result, getattr(out, result) + 1)
    return out


def _claim(sessions: SessionFactory, row_id: int, when: datetime, now: datetime) -> bool:
    """Take a delivery for LEASE (a compare-and-set on next_attempt_at: one taker wins)."""
    with sessions() as s, s.begin():
        taken = s.execute(
            update(PactDelivery)
            .where(
                PactDelivery.id == row_id,
                PactDelivery.status == "pending",
                PactDelivery.next_attempt_at == when,
            )
            .values(next_attempt_at=now + LEASE)
        )
        return taken.rowcount == 1


def _attempt(
    sessions: SessionFactory, row_id: int, now: datetime, transport: httpx.BaseTransport | None
) -> str:
    answer: tuple[str, dict[str, Any], list[str], list[str]] | None = None
    with sessions() as s:
        row = s.get(PactDelivery, row_id)
        tenant = s.get(Tenant, row.tenant_id) if row is not None else None
        assert row is not None and tenant is not None
        if row.kind == "request":
            answer = _answer(sessions, row, tenant)
    with sessions() as s, s.begin():
        row = s.get(PactDelivery, row_id)
        assert row is not None
        attribute(s, WORKER, tenant.slug)
        if answer is not None:
            row.kind, row.event, row.pf_ids, row.product_ids = answer
        parts = urlsplit(row.target_url)
        reason = refusal(parts.hostname or "", parts.port)
        if reason:
            row.status, row.last_error = "refused", reason
            log.warning("PACT event %s to %s refused: %s", row.uuid, row.target_url, reason)
            return "refused"
        row.attempts += 1
        error = _send(row, transport)
        if error is None:
            row.status, row.delivered_at, row.last_error = "delivered", now, None
            log.info("PACT %s event %s delivered to %s", row.kind, row.uuid, row.target_url)
            return "delivered"
        row.last_error = error[:2000]
        delay = min(config.pact_retry_base() * 2 ** (row.attempts - 1), MAX_DELAY)
        created = _aware(row.created_at) if row.created_at else now
        if row.attempts >= config.pact_max_attempts() or now + delay > created + MAX_AGE:
            row.status = "failed"
            log.error("PACT event %s to %s given up: %s", row.uuid, row.target_url, error)
            return "failed"
        row.next_attempt_at = now + delay
        log.warning("PACT event %s to %s failed (%s); retry in %s", row.uuid, row.target_url,
                    error, delay)  # fmt: skip
        return "retried"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _answer(
    sessions: SessionFactory, row: PactDelivery, tenant: Tenant
) -> tuple[str, dict[str, Any], list[str], list[str]]:
    """A received request's answer (kind, event, footprint ids, product ids): Fulfilled with
    the matching footprints the requester may read, or Rejected (not found) when none match."""
    version: PactVersion = row.version  # type: ignore[assignment]
    with sessions() as reader:
        found = list_footprints(
            reader, requester(row, tenant), version, filters_from(row.criteria or {})
        )
    source = (row.event or {}).get("source") or config.pact_event_source(version)
    if found:
        data: dict[str, Any] = {"requestEventId": row.request_event_id, "pfs": found}
        event = event_envelope(version, "fulfilled", data, row.uuid, source)
        products = sorted({p for pf in found for p in pf["productIds"]})
        return "fulfilled", event, [pf["id"] for pf in found], products
    # v3 openapi Error enum and RequestRejectedEvent example: "NotFound"; v2 error table:
    # "NoSuchFootprint"
    code = "NotFound" if version == "3" else "NoSuchFootprint"
    data = {
        "requestEventId": row.request_event_id,
        "error": {"code": code, "message": "No footprint matches the request's criteria."},
    }
    return "rejected", event_envelope(version, "rejected", data, row.uuid, source), [], []


def _send(row: PactDelivery, transport: httpx.BaseTransport | None) -> str | None:
    """POST the event; None when the partner accepted it (2xx), else what went wrong."""
    body = json.dumps(row.event).encode("utf-8")
    headers = {"content-type": "application/cloudevents+json; charset=UTF-8"}
    try:
        with httpx.Client(
            timeout=config.pact_callback_timeout(),
            transport=transport,
            follow_redirects=False,
            verify=config.pact_ca_bundle() or True,
        ) as http:
            for fresh in (False, True):
                token = _token(http, row.target_url, fresh)
                auth = {"authorization": f"Bearer {token}"} if token else {}
                r = http.post(row.target_url, content=body, headers=headers | auth)
                if r.status_code == 401 and token and not fresh:
                    continue  # the cached token expired early: once more with a new one
                if 200 <= r.status_code < 300:
                    return None
                return f"{r.status_code} {r.text[:300]}"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "unreachable"


def enqueue_request(
    session: Session,
    who: Principal,
    version: PactVersion,
    target_url: str,
    request_event_id: str,
    criteria: dict[str, Any],
    our_source: str,
) -> PactDelivery:
    """Record a received request for footprints, to be answered by the worker (in the
    caller's transaction, attributed to the caller). `our_source` is openpcf's Events
    endpoint as the requester reached it (//host/<version>/events), the answer's `source`."""
    row = PactDelivery(
        uuid=str(uuid.uuid4()),
        tenant_id=who.tenant_id,
        version=version,
        kind="request",
        target_url=target_url[:1000],
        requested_by=who.actor[:400],
        requester_role=str(who.role.value if who.role else Role.member.value),
        request_event_id=request_event_id[:300],
        criteria=criteria,
        event={"source": our_source},
        status="pending",
        attempts=0,
        next_attempt_at=datetime.now(UTC),
    )
    session.add(row)
    return row


def enqueue_published(sessions: SessionFactory) -> int:
    """PublishedEvents for footprints a partner has not been told of, of products whose
    footprints it was sent before; returns how many events were queued."""
    queued = 0
    with sessions() as s:
        rows = s.scalars(
            select(PactDelivery).where(PactDelivery.kind.in_(("fulfilled", "published")))
        ).all()
        groups: dict[tuple[int, str, str, str, str], tuple[set[str], set[str]]] = {}
        sources: dict[tuple[int, str, str, str, str], str] = {}
        for r in rows:
            key = (r.tenant_id, r.requested_by, r.requester_role, r.version, r.target_url)
            products, known = groups.setdefault(key, (set(), set()))
            if r.kind == "fulfilled":
                products.update(r.product_ids or [])
            known.update(r.pf_ids or [])
            if r.event and r.event.get("source"):
                sources[key] = r.event["source"]
    for key, (products, known) in groups.items():
        tenant_id, by, role, version, target = key
        if not products:
            continue
        with sessions() as s:
            tenant = s.get(Tenant, tenant_id)
            if tenant is None:
                continue
            s.expunge(tenant)
        who = requester(PactDelivery(requested_by=by, requester_role=role), tenant)
        with sessions() as s:
            docs = list_footprints(s, who, version, Filters(product_id=sorted(products)))  # type: ignore[arg-type]
        new = [d["id"] for d in docs if d["status"] == "Active" and d["id"] not in known]
        if not new:
            continue
        with sessions() as s, s.begin():
            attribute(s, WORKER, tenant.slug)
            uid = str(uuid.uuid4())
            s.add(
                PactDelivery(
                    uuid=uid,
                    tenant_id=tenant_id,
                    version=version,
                    kind="published",
                    target_url=target,
                    requested_by=by,
                    requester_role=role,
                    event=event_envelope(
                        version,  # type: ignore[arg-type]
                        "published",
                        {"pfIds": new},
                        uid,
                        sources.get(key) or config.pact_event_source(version),  # type: ignore[arg-type]
                    ),
                    pf_ids=new,
                    product_ids=sorted(products),
                    status="pending",
                    attempts=0,
                    next_attempt_at=datetime.now(UTC),
                )
            )
        queued += 1
    return queued


# ------------------------------------------------------------------------------ the worker


class Worker:
    """A thread of the server process that answers and sends due deliveries: woken when a
    request arrives, else every OPENPCF_PACT_POLL seconds (which also looks for footprints to
    announce)."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pact-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        last_scan = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_scan >= config.pact_poll():
                    last_scan = time.monotonic()
                    enqueue_published(self.sessions)
                run_due(self.sessions)
            except Exception:  # the worker must outlive a bad row or a lost database
                log.exception("PACT delivery worker: unexpected error")
            self._wake.wait(config.pact_poll())
            self._wake.clear()


_WORKERS: list[Worker] = []


def wake_all() -> None:
    """Wake the workers of this process (after a request was queued)."""
    for w in _WORKERS:
        w.wake()


def start_worker(sessions: SessionFactory) -> Worker | None:
    """Start a worker unless OPENPCF_PACT_WORKER is off."""
    if not config.pact_worker():
        return None
    worker = Worker(sessions)
    worker.start()
    _WORKERS.append(worker)
    return worker


def stop_worker(worker: Worker | None) -> None:
    if worker is not None:
        worker.stop()
        if worker in _WORKERS:
            _WORKERS.remove(worker)
