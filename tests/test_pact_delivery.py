"""Asynchronous PACT requests: a partner's RequestCreated event is answered later by an event
POSTed to a real HTTP receiver (the partner's Events endpoint), authenticated with the
partner's token, retried with back-off, refused for hosts not allowed; and partners are told
of new footprints of products they were sent."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from openpcf.api.app import create_app
from openpcf.io.pact.schema import PactSpecMissing, schema_errors
from openpcf.services.exchange import delivery as pact_delivery
from openpcf.store.db import sessions
from openpcf.store.models import AuditEntry
from openpcf.store.models_pact import PactDelivery
from tests.databases import KINDS, empty_database
from tests.platform_world import World, make_world

MODEL = """
openpcf: 1
product: {{name: {name}, declared_unit: {{amount: 1, unit: kg}}, region: CN-JS, year: 2023}}
inputs:
  - {{name: Steel, stage: raw-materials, amount: 1.5, unit: kg,
     pcf: {{value: 2.0, unit: kg CO2e/kg, source: supplier}}}}
"""
ACME, OTHER = "urn:openpcf:product:acme:", "urn:openpcf:product:other:"
CE = {"content-type": "application/cloudevents+json; charset=UTF-8"}


@dataclass
class Receiver:
    """A partner's host: /auth/token (HTTP Basic partner:secret) and an Events endpoint that
    answers the scripted statuses in turn (then 200), recording what it was sent."""

    port: int = 0
    events: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    tokens: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: dict[str, Any] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # no OpenID configuration: the sender falls back
            self._reply(404, {"code": "NotFound", "message": "none"})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            raw = self.rfile.read(length)
            if self.path == "/auth/token":
                import base64

                expected = "Basic " + base64.b64encode(b"partner:s3cret").decode()
                if self.headers.get("authorization") != expected:
                    self._reply(400, {"error": "invalid_client", "error_description": "no"})
                    return
                got.tokens += 1
                self._reply(200, {"access_token": f"tok-{got.tokens}", "expires_in": 3600})
                return
            time.sleep(got.delay)
            got.events.append((self.path, json.loads(raw), dict(self.headers)))
            self._reply(got.statuses.pop(0) if got.statuses else 200)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield got
    server.shutdown()
    server.server_close()


@dataclass
class Ctx:
    client: TestClient
    world: World
    sessions: sessionmaker
    token: str
    calcs: dict[str, str]

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module", params=KINDS)
def ctx(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    mp = pytest.MonkeyPatch()
    request.addfinalizer(mp.undo)
    mp.setenv("OPENPCF_PACT_WORKER", "0")  # run_due is called by the tests themselves
    with empty_database(request.param, tmp_path_factory.mktemp("delivery")) as url:
        world = make_world(url)
        with TestClient(create_app(url)) as client:
            calcs: dict[str, str] = {}
            for tenant, slug, visibility in (
                ("acme", "widget", "private"),
                ("other", "secret", "private"),
            ):
                auth = world.auth(f"{tenant}/member")
                new = {"slug": slug, "name": slug.title(), "visibility": visibility, "cpc": "4121"}
                urn = client.post("/products", json=new, headers=auth).json()["urn"]
                r = client.post(
                    f"/products/{urn}/versions",
                    content=MODEL.format(name=slug.title()),
                    headers=auth | {"content-type": "application/yaml"},
                )
                assert r.status_code == 201, r.text
                r = client.post(
                    f"/products/{urn}/calculations", json={"profile": "pact-v3"}, headers=auth
                )
                assert r.status_code == 201, r.text
                calcs[slug] = r.json()["id"]
            cid, secret = world.clients["acme"]
            r = client.post(
                "/auth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
            )
            yield Ctx(client, world, sessions(url), r.json()["access_token"], calcs)


@pytest.fixture
def partner(receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Receiver:
    """The receiver's credentials known to openpcf, back-off of 10 s doubling."""
    file = tmp_path / "partners.yaml"
    file.write_text(f"'127.0.0.1:{receiver.port}': {{client_id: partner, client_secret: s3cret}}\n")
    monkeypatch.setenv("OPENPCF_PACT_PARTNERS", str(file))
    monkeypatch.setenv("OPENPCF_PACT_RETRY_BASE", "10")
    pact_delivery._TOKENS.clear()
    return receiver


def request_event(version: str, event_id: str, source: str, product: str) -> dict[str, Any]:
    if version == "3":
        kind, data = (
            "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
            {"productId": [product]},
        )
    else:
        kind = "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1"
        data = {"pf": {"productIds": [product]}, "comment": "please"}
    return {"type": kind, "specversion": "1.0", "id": event_id, "source": source,
            "time": "2025-03-05T17:31:00Z", "data": data}  # fmt: skip


def ask(ctx: Ctx, version: str, event_id: str, source: str, product: str) -> PactDelivery:
    event = request_event(version, event_id, source, product)
    r = ctx.client.post(f"/{version}/events", json=event, headers=ctx.auth() | CE)
    assert r.status_code == 200 and r.content == b"", r.text
    return row(ctx, event_id)


def row(ctx: Ctx, request_event_id: str) -> PactDelivery:
    with ctx.sessions() as s:
        found = s.scalar(
            select(PactDelivery).where(PactDelivery.request_event_id == request_event_id)
        )
        assert found is not None
        s.expunge(found)
        return found


def near(moment: datetime, expected: datetime) -> bool:
    """Equal to the millisecond (databases keep microseconds, SQLite loses the zone)."""
    return abs(pact_delivery._aware(moment) - expected) < timedelta(milliseconds=1)


def valid_event(event: dict[str, Any], version: str) -> None:
    try:
        assert schema_errors(event, version, "Event") == []  # type: ignore[arg-type]
    except PactSpecMissing as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("version", ["3", "2"])
def test_a_request_is_answered_with_the_footprints_at_the_requesters_endpoint(
    ctx: Ctx, partner: Receiver, version: str
) -> None:
    queued = ask(ctx, version, f"req-ok-{version}", f"{partner.url}/{version}/events",
                 f"{ACME}widget")  # fmt: skip
    assert queued.kind == "request" and queued.status == "pending"
    assert str(pact_delivery.run_due(ctx.sessions)).startswith("1 delivered")
    path, event, headers = partner.events[-1]
    assert path == f"/{version}/events"
    assert headers["authorization"] == "Bearer tok-1"  # from the partner's /auth/token
    assert headers["content-type"].startswith("application/cloudevents+json")
    kind = "RequestFulfilledEvent.3" if version == "3" else "ProductFootprintRequest.Fulfilled.v1"
    assert event["type"].endswith(kind)
    assert event["data"]["requestEventId"] == f"req-ok-{version}"
    assert [pf["id"] for pf in event["data"]["pfs"]] == [ctx.calcs["widget"]]
    assert event["source"] == f"//testserver/{version}/events"
    assert event["id"] == queued.uuid
    valid_event(event, version)
    done = row(ctx, f"req-ok-{version}")
    assert (done.status, done.attempts, done.kind) == ("delivered", 1, "fulfilled")
    assert done.pf_ids == [ctx.calcs["widget"]] and done.product_ids == [f"{ACME}widget"]
    with ctx.sessions() as s:  # the worker's writes are attributed
        actors = s.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.entity == "pact_deliveries", AuditEntry.entity_id == str(done.id)
            )
        ).all()
    assert set(actors) == {"client:" + ctx.world.clients["acme"][0], pact_delivery.WORKER}


def test_another_tenants_private_product_is_rejected_not_revealed(
    ctx: Ctx, partner: Receiver
) -> None:
    ask(ctx, "3", "req-secret", f"{partner.url}/3/events", f"{OTHER}secret")
    pact_delivery.run_due(ctx.sessions)
    _, event, _ = partner.events[-1]
    assert event["type"] == "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3"
    assert event["data"]["error"]["code"] == "NotFound" and event["data"]["error"]["message"]
    assert ctx.calcs["secret"] not in json.dumps(event)
    valid_event(event, "3")


def test_failed_tries_are_retried_with_exponential_backoff(
    ctx: Ctx, partner: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    partner.statuses = [503, 500]
    ask(ctx, "3", "req-retry", f"{partner.url}/3/events", f"{ACME}widget")
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    assert pact_delivery.run_due(ctx.sessions, now=t0).retried == 1
    first = row(ctx, "req-retry")
    assert first.attempts == 1 and first.last_error.startswith("503")
    assert near(first.next_attempt_at, t0 + timedelta(seconds=10))  # base 10 s
    assert str(pact_delivery.run_due(ctx.sessions, now=t0 + timedelta(seconds=9))).startswith(
        "0 delivered, 0 to retry"
    )  # not due yet
    assert pact_delivery.run_due(ctx.sessions, now=t0 + timedelta(seconds=10)).retried == 1
    second = row(ctx, "req-retry")  # 10 s × 2^1 = 20 s after the second try
    assert near(second.next_attempt_at, t0 + timedelta(seconds=30))
    assert pact_delivery.run_due(ctx.sessions, now=t0 + timedelta(seconds=30)).delivered == 1
    done = row(ctx, "req-retry")
    assert (done.status, done.attempts, done.last_error) == ("delivered", 3, None)
    # an endpoint that keeps failing is given up after OPENPCF_PACT_MAX_ATTEMPTS tries
    monkeypatch.setenv("OPENPCF_PACT_MAX_ATTEMPTS", "2")
    partner.statuses = [500, 500, 500]
    ask(ctx, "3", "req-dead", f"{partner.url}/3/events", f"{ACME}widget")
    t1 = datetime.now(UTC) + timedelta(seconds=1)
    assert pact_delivery.run_due(ctx.sessions, now=t1).retried == 1
    assert pact_delivery.run_due(ctx.sessions, now=t1 + timedelta(seconds=10)).failed == 1
    dead = row(ctx, "req-dead")
    assert (dead.status, dead.attempts) == ("failed", 2) and dead.last_error.startswith("500")


def test_a_slow_endpoint_times_out_and_is_retried(
    ctx: Ctx, partner: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENPCF_PACT_CALLBACK_TIMEOUT", "0.3")
    partner.delay = 1.0
    ask(ctx, "3", "req-slow", f"{partner.url}/3/events", f"{ACME}widget")
    started = time.monotonic()
    assert pact_delivery.run_due(ctx.sessions).retried == 1
    assert time.monotonic() - started < 0.9  # the try was cut off, not waited out
    assert "Timeout" in row(ctx, "req-slow").last_error


def test_callback_hosts_must_be_allowed(
    ctx: Ctx, partner: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = request_event("3", "req-far", "//partner.example/3/events", f"{ACME}widget")
    r = ctx.client.post("/3/events", json=event, headers=ctx.auth() | CE)
    assert r.status_code == 400 and "OPENPCF_PACT_CALLBACK_HOSTS" in r.json()["message"]
    monkeypatch.setenv("OPENPCF_PACT_CALLBACK_HOSTS", "*.example")
    assert (
        pact_delivery.callback_url("//partner.example", "3") == "https://partner.example/3/events"
    )
    with pytest.raises(pact_delivery.CallbackRefused, match="HTTPS only"):
        pact_delivery.callback_url("http://partner.example/3/events", "3")
    # queued while allowed, refused when loopback is turned off before it is sent
    ask(ctx, "3", "req-loop", f"{partner.url}/3/events", f"{ACME}widget")
    monkeypatch.setenv("OPENPCF_PACT_CALLBACK_LOOPBACK", "0")
    assert pact_delivery.run_due(ctx.sessions).refused == 1
    refused = row(ctx, "req-loop")
    assert refused.status == "refused" and "LOOPBACK" in refused.last_error
    assert partner.events == []


def test_partners_are_told_of_new_footprints_of_products_they_were_sent(
    ctx: Ctx, partner: Receiver
) -> None:
    ask(ctx, "3", "req-sub", f"{partner.url}/3/events", f"{ACME}widget")
    pact_delivery.run_due(ctx.sessions)
    assert pact_delivery.enqueue_published(ctx.sessions) == 0  # nothing new yet
    r = ctx.client.post(
        f"/products/{ACME}widget/calculations",
        json={"profile": "pact-v3"},
        headers=ctx.world.auth("acme/member"),
    )
    new_id = r.json()["id"]
    assert pact_delivery.enqueue_published(ctx.sessions) >= 1
    pact_delivery.run_due(ctx.sessions)
    published = [e for _, e, _ in partner.events if e["type"].endswith("PublishedEvent.3")]
    assert published and published[-1]["data"] == {"pfIds": [new_id]}
    valid_event(published[-1], "3")
    assert pact_delivery.enqueue_published(ctx.sessions) == 0  # told once
    got = ctx.client.get(f"/3/footprints/{new_id}", headers=ctx.auth()).json()["data"]
    assert got["status"] == "Active" and ctx.calcs["widget"] in got["precedingPfIds"]
