"""Issue 14, SSRF: "a RequestCreated event whose source is
http://127.0.0.1:8299/internal/admin?action=delete makes the server POST there". Now answers go
only where the requesting client (or its company) registered, over HTTPS, never to loopback
or private addresses (unless the explicit test setting is on), and every address a host name
resolves to is checked and connected to. Real HTTP receiver on loopback; SQLite and PostgreSQL.
"""

# ruff: noqa: F811 - the fixtures imported from test_pact_delivery are parameters here
from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

from openpcf.services.exchange import delivery as pact_delivery
from openpcf.services.exchange.callbacks import register_callback
from openpcf.store.models_pact import PactDelivery
from tests.test_pact_delivery import (  # noqa: F401 - fixtures
    ACME,
    CE,
    Ctx,
    Receiver,
    ask,
    ctx,
    partner,
    receiver,
    request_event,
    row,
)


def post(ctx: Ctx, source: str, event_id: str):
    event = request_event("3", event_id, source, f"{ACME}widget")
    return ctx.client.post("/3/events", json=event, headers=ctx.auth() | CE)


def queued(ctx: Ctx, event_id: str) -> bool:
    with ctx.sessions() as s:
        found = s.scalar(select(PactDelivery).where(PactDelivery.request_event_id == event_id))
        return found is not None


@pytest.mark.parametrize(
    "source",
    [
        "http://127.0.0.1:8299/internal/admin?action=delete",  # the reported one
        "https://127.0.0.1:8299/internal/admin?action=delete",
        "//localhost:8299/x",
        "https://[::1]/3/events",
        "https://[::ffff:127.0.0.1]/3/events",  # IPv4-mapped loopback
        "https://10.0.0.5/3/events",
        "https://192.168.1.1/3/events",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "https://0.0.0.0/3/events",
    ],
)
def test_loopback_and_private_callbacks_are_refused(
    ctx: Ctx, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    monkeypatch.delenv("OPENPCF_PACT_CALLBACK_LOOPBACK")  # the default: off
    monkeypatch.setenv("OPENPCF_PACT_CALLBACK_HOSTS", "*")  # even when every host is listed
    event_id = f"ssrf-{abs(hash(source))}"
    r = post(ctx, source, event_id)
    assert r.status_code == 400, r.text
    assert "loopback or private" in r.json()["message"]
    assert not queued(ctx, event_id)


def test_answers_go_only_under_the_registered_callback_url(
    ctx: Ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENPCF_PACT_CALLBACK_LOOPBACK")
    client_id = ctx.world.clients["acme"][0]
    register_callback(ctx.sessions(), "operator:tests", "https://buyer.example/pact/",
                      client_id=client_id)  # fmt: skip
    try:
        assert post(ctx, "//buyer.example/pact/3/events", "reg-ok").status_code == 200
        with ctx.sessions() as s:
            target = s.scalar(select(PactDelivery.target_url)
                              .where(PactDelivery.request_event_id == "reg-ok"))  # fmt: skip
        assert target == "https://buyer.example/pact/3/events"
        for i, source in enumerate([
            "//evil.example/3/events",  # another host
            "//buyer.example/other/3/events",  # outside the registered path
            "//buyer.example/pactx/3/events",  # a prefix that is not a path segment
            "http://buyer.example/pact/3/events",  # not HTTPS
            "//buyer.example:8443/pact/3/events",  # another port
        ]):  # fmt: skip
            r = post(ctx, source, f"reg-bad-{i}")
            assert r.status_code == 400, source
            assert "registered" in r.json()["message"] or "HTTPS" in r.json()["message"]
        # a tenant registration applies to its clients without their own
        register_callback(ctx.sessions(), "operator:tests", None, client_id=client_id)
        register_callback(ctx.sessions(), "operator:tests", "https://acme-buyer.example",
                          tenant="acme")  # fmt: skip
        assert post(ctx, "//acme-buyer.example/3/events", "reg-tenant").status_code == 200
        assert post(ctx, "//buyer.example/pact/3/events", "reg-gone").status_code == 400
    finally:
        register_callback(ctx.sessions(), "operator:tests", None, client_id=client_id)
        register_callback(ctx.sessions(), "operator:tests", None, tenant="acme")


def test_a_name_resolving_to_loopback_is_refused_at_send_time(
    ctx: Ctx, partner: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An allowed host name whose address is in our own network (DNS rebinding, or a name
    pointed at 127.0.0.1): this machine's own name resolves to loopback or a private address."""
    name = socket.gethostname().lower()
    address = socket.getaddrinfo(name, partner.port, type=socket.SOCK_STREAM)[0][4][0]
    assert address.startswith(("127.", "10.", "172.", "192.168.", "::1")), address
    monkeypatch.setenv("OPENPCF_PACT_CALLBACK_HOSTS", name)
    ask(ctx, "3", "rebind", f"//{name}:{partner.port}/3/events", f"{ACME}widget")
    monkeypatch.delenv("OPENPCF_PACT_CALLBACK_LOOPBACK")
    outcome = pact_delivery.run_due(ctx.sessions)  # (earlier tests' rows are refused too)
    assert outcome.refused >= 1 and outcome.delivered == 0
    refused = row(ctx, "rebind")
    assert refused.status == "refused" and f"resolves to {address}" in refused.last_error
    assert partner.events == [] and partner.tokens == 0  # nothing reached the listener


def test_the_connection_goes_to_the_checked_address_with_the_host_kept(
    ctx: Ctx, partner: Receiver
) -> None:
    """With the test setting on, a registered loopback URL is answered; the request reaches
    the resolved address and still names the host (Host header)."""
    client_id = ctx.world.clients["acme"][0]
    base = f"http://localhost:{partner.port}/in"
    register_callback(ctx.sessions(), "operator:tests", base, client_id=client_id)
    try:
        ask(ctx, "3", "pinned", f"{base}/3/events", f"{ACME}widget")
        assert pact_delivery.run_due(ctx.sessions).delivered == 1
        path, _event, headers = partner.events[-1]
        assert path == "/in/3/events" and headers["host"] == f"localhost:{partner.port}"
    finally:
        register_callback(ctx.sessions(), "operator:tests", None, client_id=client_id)
