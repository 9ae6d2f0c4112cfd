"""The monitoring API and dashboard page, against SQLite and PostgreSQL: registry writes by role,
live emissions, the SSE stream, and isolation (another tenant's site is not found, anonymous
callers must sign in) on every route."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import ROUTERS, create_app
from openpcf.services.monitoring.ingest import Ingestor
from tests.databases import KINDS, empty_database
from tests.platform_world import World, make_world
from tests.test_monitoring_ingest import NOW, PLANT, T0, msg


@pytest.fixture(scope="module", params=KINDS)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, World]]:
    with empty_database(request.param, tmp_path_factory.mktemp("monitoring-api")) as url:
        world = make_world(url)
        with TestClient(create_app(url)) as client:
            auth = world.auth("acme/member")
            site = PLANT["sites"][0]
            assert client.post("/monitoring/sites", json=site, headers=auth).status_code == 201
            for meter in PLANT["meters"]:
                r = client.post("/monitoring/sites/s1/meters", json=meter, headers=auth)
                assert r.status_code == 201, r.text
            r = client.post("/monitoring/sites/s1/allowances", json=PLANT["allowances"][0],
                            headers=auth)  # fmt: skip
            assert r.status_code == 201, r.text
            Ingestor(url, clock=lambda: NOW).ingest([
                msg("grid", [{"ts": T0, "value": 100}, {"ts": T0 + 30, "value": 300}]),
                msg("grid", {"ts": "bad", "value": 1}),
            ])  # fmt: skip
            yield client, world


def test_registry_writes_need_a_writer_and_a_valid_meter(api) -> None:
    client, world = api
    meter = dict(PLANT["meters"][0], id="new")
    r = client.post("/monitoring/sites/s1/meters", json=meter, headers=world.auth("acme/verifier"))
    assert r.status_code == 403
    assert client.post("/monitoring/sites/s1/meters", json=meter).status_code == 401
    wrong = dict(meter, unit="Nm3")  # electricity in normal cubic metres
    r = client.post("/monitoring/sites/s1/meters", json=wrong, headers=world.auth("acme/admin"))
    assert r.status_code == 422 and "does not fit electricity" in r.json()["message"]
    gas_on_grid = dict(PLANT["meters"][1], id="g2", factor={"kind": "grid"})
    r = client.post("/monitoring/sites/s1/meters", json=gas_on_grid,
                    headers=world.auth("acme/admin"))  # fmt: skip
    assert r.status_code == 422 and "electricity only" in r.json()["message"]
    unit_change = dict(PLANT["meters"][0], unit="MWh")  # the meter has readings
    r = client.post("/monitoring/sites/s1/meters", json=unit_change,
                    headers=world.auth("acme/admin"))  # fmt: skip
    assert r.status_code == 409


def test_emissions_live_allowance_and_rejected(api) -> None:
    client, world = api
    auth = world.auth("acme/verifier")  # verifiers read
    r = client.get("/monitoring/sites/s1/emissions", headers=auth,
                   params={"resolution": "1m", "from": "2025-03-03T00:00:00Z",
                           "to": "2025-03-03T00:01:00Z"})  # fmt: skip
    assert r.status_code == 200, r.text
    (grid,) = r.json()
    assert grid["key"] == "grid" and grid["amount"] == pytest.approx(200)
    assert grid["kg_co2e"] == pytest.approx(200 * 0.5827)  # cn-mee-grid/CN-JS@2023
    assert client.get("/monitoring/sites/s1/live", headers=auth).json()["site"] == "s1"
    a = client.get("/monitoring/sites/s1/allowance?year=2025", headers=auth).json()
    assert a["allowance_t_co2"] == 100 and a["sector"] == "steel"
    (bad,) = client.get("/monitoring/sites/s1/rejected", headers=auth).json()
    assert "not ISO 8601" in bad["reason"]


def test_stream_sends_live_snapshots(api) -> None:
    client, world = api
    with client.stream("GET", "/monitoring/sites/s1/stream?every=0.2",
                       headers=world.auth("acme/member")) as r:  # fmt: skip
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = []
        for line in r.iter_lines():
            lines.append(line)
            if line.startswith("data: "):
                break
    assert "event: live" in lines
    snap = json.loads(lines[-1][len("data: ") :])
    assert {m["meter"] for m in snap["meters"]} == {"grid", "gas", "coal", "wind"}


ROUTES = {
    ("GET", "/monitoring/sites"): 200,
    ("POST", "/monitoring/sites"): 201,
    ("GET", "/monitoring/sites/s1/meters"): 404,
    ("POST", "/monitoring/sites/s1/meters"): 404,
    ("POST", "/monitoring/sites/s1/allowances"): 404,
    ("GET", "/monitoring/sites/s1/emissions"): 404,
    ("GET", "/monitoring/sites/s1/live"): 404,
    ("GET", "/monitoring/sites/s1/stream"): 404,
    ("GET", "/monitoring/sites/s1/allowance"): 404,
    ("GET", "/monitoring/sites/s1/rejected"): 404,
    ("GET", "/monitoring/sites/s1/meters/{meter}/ledger-proof"): 404,
    ("POST", "/monitoring/sites/s1/green-certificates"): 404,
    ("GET", "/monitoring/sites/s1/renewable-share"): 404,
}
# The query a route needs (its path parameters other than the site filled in).
QUERIES = {
    "/monitoring/sites/s1/meters/{meter}/ledger-proof": "?start=2025-01-01&end=2025-01-31",
    "/monitoring/sites/s1/renewable-share": "?year=2025",
}
BODIES = {
    "/monitoring/sites": dict(PLANT["sites"][0], id="b-site", name="B's own site"),
    "/monitoring/sites/s1/meters": PLANT["meters"][0],
    "/monitoring/sites/s1/allowances": PLANT["allowances"][0],
    "/monitoring/sites/s1/green-certificates": {
        "certificate_id": "G-1",
        "amount": 1,
        "unit": "MWh",
        "generation": "wind",
    },
}


def test_every_monitoring_route_is_covered_here() -> None:
    from fastapi.routing import APIRoute

    found = {
        (method, r.path.replace("{site}", "s1"))
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute) and r.path.startswith("/monitoring")
        for method in r.methods
    }
    assert found == set(ROUTES)


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES))
def test_other_tenants_and_anonymous_callers_get_nothing(api, method: str, path: str) -> None:
    client, world = api
    body = BODIES.get(path)
    url = path.replace("{meter}", "grid") + QUERIES.get(path, "")
    r = client.request(method, url, json=body, headers=world.auth("other/admin"))
    assert r.status_code == ROUTES[(method, path)], r.text
    assert "Mill" not in r.text  # acme's site name
    if r.status_code == 404:
        assert r.json()["code"] == "not_found"
    anon = client.request(method, url, json=body)
    assert anon.status_code == 401 and anon.json()["code"] == "unauthorized"


def test_dashboard_page_for_a_signed_in_user(api) -> None:
    from openpcf.web.auth import COOKIE, session_cookie

    client, world = api
    client.cookies.set(COOKIE, session_cookie("member@acme.example", world.url))
    try:
        page = client.get("/monitoring/s1")
        assert page.status_code == 200 and "EventSource" in page.text and "Mill" in page.text
        assert "/monitoring/s1/events" in page.text
        index = client.get("/monitoring")
        assert index.status_code == 200 and "/monitoring/s1" in index.text
        with client.stream("GET", "/monitoring/s1/events") as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("data: "):
                    assert json.loads(line[6:])["site"] == "s1"
                    break
        client.cookies.set(COOKIE, session_cookie("member@other.example", world.url))
        assert client.get("/monitoring/s1").status_code == 404
    finally:
        client.cookies.clear()
