"""The PACT host system (v3 and v2): token flow, footprints valid against the specification's
schemas, filters, Link pagination, the spec's error responses, and events."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.io.pact.schema import PactSpecMissing, schema_errors
from tests.databases import KINDS, empty_database
from tests.platform_world import World, make_world

MODEL = """
openpcf: 1
product: {{name: {name}, declared_unit: {{amount: 1, unit: kg}}, region: {region}, year: 2023}}
inputs:
  - {{name: Steel, stage: raw-materials, amount: 1.5, unit: kg,
     pcf: {{value: 2.0, unit: kg CO2e/kg, source: supplier}}}}
  - {{name: Power, stage: production, amount: 10, unit: kWh, electricity: {{basis: grid-co2}}}}
"""
ACME, OTHER = "urn:openpcf:product:acme:", "urn:openpcf:product:other:"


@dataclass
class Ctx:
    client: TestClient
    world: World
    token: str  # acme's access token (client credentials)
    calcs: dict[str, str]  # "tenant/slug" -> the newest calculation id
    old_widget: str  # acme's widget's first calculation (Deprecated)

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _spec_or_skip() -> None:
    try:
        schema_errors({}, "3")
    except PactSpecMissing as exc:
        pytest.skip(str(exc))


# UN CPC Ver.2.1 codes of the test products (PACT v2 serves only products that have one)
CPC = {"widget": "4121", "shared": "3744"}
HS = "urn:pact:productclassification:hs:252329"


@pytest.fixture(scope="module", params=KINDS)
def ctx(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    worker = os.environ.get("OPENPCF_PACT_WORKER")
    os.environ["OPENPCF_PACT_WORKER"] = "0"  # deliveries are tested in test_pact_delivery
    request.addfinalizer(
        lambda: (
            os.environ.__setitem__("OPENPCF_PACT_WORKER", worker)
            if worker is not None
            else os.environ.pop("OPENPCF_PACT_WORKER", None)
        )
    )
    with empty_database(request.param, tmp_path_factory.mktemp("pact")) as url:
        world = make_world(url)
        with TestClient(create_app(url)) as client:
            calcs: dict[str, str] = {}
            old = ""
            for tenant, slug, visibility, region, runs in (
                ("acme", "widget", "private", "CN-JS", 2),
                ("acme", "gadget", "private", "CN-GD", 1),
                ("other", "secret", "private", "CN", 1),
                ("other", "shared", "public", "CN-SH", 1),
            ):
                auth = world.auth(f"{tenant}/member")
                new = {"slug": slug, "name": slug.title(), "visibility": visibility}
                if slug in CPC:
                    new["cpc"] = CPC[slug]
                if slug == "shared":
                    new["classifications"] = [HS]
                r = client.post("/products", json=new, headers=auth)
                assert r.status_code == 201, r.text
                urn = r.json()["urn"]
                r = client.post(
                    f"/products/{urn}/versions",
                    content=MODEL.format(name=slug.title(), region=region),
                    headers=auth | {"content-type": "application/yaml"},
                )
                assert r.status_code == 201, r.text
                for _ in range(runs):
                    r = client.post(
                        f"/products/{urn}/calculations", json={"profile": "pact-v3"}, headers=auth
                    )
                    assert r.status_code == 201, r.text
                    old = old or r.json()["id"]
                    calcs[f"{tenant}/{slug}"] = r.json()["id"]
            cid, secret = world.clients["acme"]
            r = client.post(
                "/auth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
            )
            assert r.status_code == 200, r.text
            yield Ctx(client, world, r.json()["access_token"], calcs, old)


def ids(body: dict) -> set[str]:
    return {pf["id"] for pf in body["data"]}


def test_openid_configuration_names_the_token_endpoint(ctx: Ctx) -> None:
    body = ctx.client.get("/.well-known/openid-configuration").json()
    assert body["issuer"] == "http://testserver"
    assert body["token_endpoint"] == "http://testserver/auth/token"


@pytest.mark.parametrize("version", ["3", "2"])
def test_list_serves_own_and_public_footprints_valid_against_the_spec(
    ctx: Ctx, version: str
) -> None:
    _spec_or_skip()
    r = ctx.client.get(f"/{version}/footprints", headers=ctx.auth())
    assert r.status_code == 200, r.text
    assert "link" not in r.headers
    body = r.json()
    assert schema_errors(body, version, "ListFootprintsResponse") == []  # type: ignore[arg-type]
    for pf in body["data"]:
        assert schema_errors(pf, version, "ProductFootprint") == []  # type: ignore[arg-type]
    c = ctx.calcs
    if version == "2":  # v2 requires a UN CPC code: gadget has none
        assert ids(body) == {ctx.old_widget, c["acme/widget"], c["other/shared"]}
        cpc = {pf["id"]: pf["productCategoryCpc"] for pf in body["data"]}
        assert cpc[c["acme/widget"]] == "4121" and cpc[c["other/shared"]] == "3744"
        return
    assert ids(body) == {ctx.old_widget, c["acme/widget"], c["acme/gadget"], c["other/shared"]}
    classes = {pf["id"]: pf.get("productClassifications") for pf in body["data"]}
    assert classes[c["other/shared"]] == ["urn:pact:productclassification:un-cpc:3744", HS]
    assert classes[c["acme/gadget"]] is None  # no classification: the property is left out
    status = {pf["id"]: pf["status"] for pf in body["data"]}
    boundary = {pf["id"]: pf["pcf"]["boundaryProcessesDescription"] for pf in body["data"]}
    assert "Steel" in boundary[c["acme/widget"]]  # own footprint: the inputs by stage
    assert "Steel" not in boundary[c["other/shared"]]  # another tenant's: stages only
    assert status[ctx.old_widget] == "Deprecated" and status[c["acme/widget"]] == "Active"


@pytest.mark.parametrize("version", ["3", "2"])
def test_get_footprint_and_404(ctx: Ctx, version: str) -> None:
    _spec_or_skip()
    pf_id = ctx.calcs["acme/widget"]
    if version == "2":  # gadget has no UN CPC code: not expressible in v2
        r = ctx.client.get(f"/2/footprints/{ctx.calcs['acme/gadget']}", headers=ctx.auth())
        assert r.status_code == 404 and r.json()["code"] == "NoSuchFootprint"
    r = ctx.client.get(f"/{version}/footprints/{pf_id}", headers=ctx.auth())
    assert r.status_code == 200, r.text
    assert schema_errors(r.json(), version, "GetFootprintResponse") == []  # type: ignore[arg-type]
    pf = r.json()["data"]
    assert pf["id"] == pf_id and pf["productIds"] == [f"{ACME}widget"]
    assert pf["companyIds"] == ["urn:openpcf:company:acme"]
    for missing in (ctx.calcs["other/secret"], "00000000-0000-4000-8000-000000000000"):
        r = ctx.client.get(f"/{version}/footprints/{missing}", headers=ctx.auth())
        assert r.status_code == 404
        assert r.json()["code"] == "NoSuchFootprint" and r.json()["message"]
        assert set(r.json()) == {"code", "message"}


def test_filters(ctx: Ctx) -> None:
    def listed(query: str) -> set[str]:
        r = ctx.client.get(f"/3/footprints?{query}", headers=ctx.auth())
        assert r.status_code == 200, r.text
        return ids(r.json())

    c = ctx.calcs
    widget = {ctx.old_widget, c["acme/widget"]}
    assert listed(f"productId={ACME}widget") == widget
    assert listed(f"productId={ACME}WIDGET&productId={OTHER}shared") == widget | {c["other/shared"]}
    assert listed("companyId=urn:openpcf:company:other") == {c["other/shared"]}
    assert listed("geography=CN-GD&geography=CN-SH") == {c["acme/gadget"], c["other/shared"]}
    assert listed("geography=CN-JS&status=Active") == {c["acme/widget"]}
    assert listed("status=Deprecated") == {ctx.old_widget}
    # reference period 2023: valid from 2024-01-01 for three years
    assert len(listed("validOn=2025-06-01T00:00:00Z")) == 4
    assert listed("validOn=2023-06-01T00:00:00Z") == set()
    assert listed("validAfter=2024-06-01T00:00:00Z") == set()
    assert len(listed("validBefore=2030-01-01T00:00:00Z")) == 4
    assert listed("classification=urn:pact:productclassification:un-cpc:1") == set()
    assert listed(f"classification={HS.upper()}") == {c["other/shared"]}  # case-insensitive
    assert listed("classification=urn:pact:productclassification:un-cpc:4121") == widget
    # several values of one criterion: any of them (TESTCASE#29 adds unknown statuses)
    assert listed("status=Deprecated&status=zzz&status=Gone") == {ctx.old_widget}
    assert listed("status=Gone") == set()
    # stated validity: from the reference period's end (2024-01-01) for 3 years
    r = ctx.client.get(f"/3/footprints/{c['acme/gadget']}", headers=ctx.auth())
    pf = r.json()["data"]
    assert (pf["validityPeriodStart"], pf["validityPeriodEnd"]) == (
        "2024-01-01T00:00:00Z",
        "2027-01-01T00:00:00Z",
    )


@pytest.mark.parametrize("version", ["3", "2"])
def test_a_recalculation_deprecates_the_previous_footprint(ctx: Ctx, version: str) -> None:
    """v3 index "Updating PCFs": a change is a new footprint with a new id naming the old one
    in precedingPfIds; the old one is Deprecated. v2's version counts the chain: 1, 2."""
    old, new = ctx.old_widget, ctx.calcs["acme/widget"]
    first = ctx.client.get(f"/{version}/footprints/{old}", headers=ctx.auth()).json()["data"]
    second = ctx.client.get(f"/{version}/footprints/{new}", headers=ctx.auth()).json()["data"]
    assert first["status"] == "Deprecated" and second["status"] == "Active"
    assert "precedingPfIds" not in first and second["precedingPfIds"] == [old]
    if version == "2":
        assert (first["version"], second["version"]) == (1, 2)
    else:
        assert "version" not in second
    assert schema_errors(second, version, "ProductFootprint") == []  # type: ignore[arg-type]


@pytest.mark.parametrize("version", ["3"])
def test_pagination_link_header(ctx: Ctx, version: str) -> None:
    seen: list[str] = []
    url = f"http://testserver/{version}/footprints?limit=3"
    pages = 0
    while url:
        r = ctx.client.get(url, headers=ctx.auth())
        assert r.status_code == 200, r.text
        assert len(r.json()["data"]) <= 3
        seen += [pf["id"] for pf in r.json()["data"]]
        link = r.headers.get("link")
        pages += 1
        if link is None:
            break
        assert link.startswith("<http://testserver/") and link.endswith('>; rel="next"')
        url = link[1 : link.index(">")]
        # a pagination link may be called more than once
        again = ctx.client.get(url, headers=ctx.auth()).json()
        assert again == ctx.client.get(url, headers=ctx.auth()).json()
    assert pages == 2 and len(seen) == len(set(seen)) == 4


@pytest.mark.parametrize("path", ["/3/footprints", "/2/footprints", "/3/footprints/x"])
def test_unauthenticated_requests_get_the_spec_error_codes(ctx: Ctx, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer opcf_at_nonsense"}, {"Authorization": "Basic x"}):
        r = ctx.client.get(path, headers=headers)
        assert r.status_code == 400, (headers, r.text)
        assert r.json()["code"] == "BadRequest" and r.json()["message"]


def test_expired_token_is_token_expired(ctx: Ctx) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from openpcf.services.platform.accounts import token_hash
    from openpcf.store.db import sessions
    from openpcf.store.models import AccessToken

    cid, secret = ctx.world.clients["acme"]
    r = ctx.client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    token = r.json()["access_token"]
    with sessions(ctx.world.url)() as s, s.begin():
        s.info["openpcf.actor"] = "test"
        s.execute(
            update(AccessToken)
            .where(AccessToken.token_hash == token_hash(token))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    r = ctx.client.get("/3/footprints", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["code"] == "TokenExpired"


def test_bad_parameters_and_v2_filter(ctx: Ctx) -> None:
    for query in ("limit=0", "limit=x", "validOn=yesterday"):
        r = ctx.client.get(f"/3/footprints?{query}", headers=ctx.auth())
        assert r.status_code == 400 and r.json()["code"] == "BadRequest", query
    r = ctx.client.get("/2/footprints?$filter=companyName eq 'x'", headers=ctx.auth())
    assert r.status_code == 400 and r.json()["code"] == "NotImplemented"


CE = {"content-type": "application/cloudevents+json"}


def test_request_created_event_records_a_supplier_request(
    ctx: Ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENPCF_PACT_CALLBACK_HOSTS", "buyer.example")
    event = {
        "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "specversion": "1.0",
        "id": "evt-1",
        "source": "//buyer.example/3/events",
        "time": "2025-03-05T17:31:00Z",
        "data": {"productId": ["urn:pact:buyer:part-7"], "geography": ["DE"], "comment": "pls"},
    }
    r = ctx.client.post("/3/events", json=event, headers=ctx.auth() | CE)
    assert r.status_code == 200, r.text
    assert r.content == b""
    found = ctx.client.get("/supplier-requests", headers=ctx.world.auth("acme/admin")).json()
    mine = [x for x in found if x["product_id"] == "urn:pact:buyer:part-7"]
    assert len(mine) == 1 and "evt-1" in mine[0]["message"] and "pls" in mine[0]["message"]
    v2 = {
        "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
        "specversion": "1.0",
        "id": "evt-2",
        "source": "//buyer.example/2/events",
        "time": "2025-03-05T17:31:00Z",
        "data": {"pf": {"productIds": ["urn:pact:buyer:part-8"]}, "comment": "v2"},
    }
    r = ctx.client.post("/2/events", json=v2, headers=ctx.auth() | CE)
    assert r.status_code == 200, r.text


def test_published_event_is_accepted(ctx: Ctx) -> None:
    event = {
        "type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
        "specversion": "1.0",
        "id": "evt-3",
        "source": "//supplier.example/3/events",
        "time": "2025-03-05T17:31:00Z",
        "data": {"pfIds": ["079e425a-464f-528d-341d-4a944a1dfd70"]},
    }
    r = ctx.client.post("/3/events", json=event, headers=ctx.auth() | CE)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        [],
        {"type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3"},
        {"type": "com.example.Unknown", "specversion": "1.0", "id": "e", "source": "//x"},
        {  # a v2 type on the v3 endpoint
            "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
            "specversion": "1.0",
            "id": "e",
            "source": "//x",
            "time": "2025-03-05T17:31:00Z",
            "data": {"pf": {"productIds": ["urn:x"]}},
        },
        {  # no criteria
            "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
            "specversion": "1.0",
            "id": "e",
            "source": "//127.0.0.1/3/events",
            "time": "2025-03-05T17:31:00Z",
            "data": {"comment": "anything"},
        },
        {  # a callback host that is not allowed
            "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
            "specversion": "1.0",
            "id": "e",
            "source": "//buyer.example/3/events",
            "time": "2025-03-05T17:31:00Z",
            "data": {"productId": ["urn:x"]},
        },
        {  # a malformed criterion
            "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
            "specversion": "1.0",
            "id": "e",
            "source": "//127.0.0.1/3/events",
            "time": "2025-03-05T17:31:00Z",
            "data": {"productId": "urn:x", "validOn": "soon"},
        },
        {  # a Published event without ids
            "type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
            "specversion": "1.0",
            "id": "e",
            "source": "//127.0.0.1/3/events",
            "time": "2025-03-05T17:31:00Z",
            "data": {"pfIds": []},
        },
    ],
)
def test_bad_events_are_bad_requests(ctx: Ctx, body: object) -> None:
    if isinstance(body, str):
        r = ctx.client.post("/3/events", content=body, headers=ctx.auth() | CE)
    else:
        r = ctx.client.post("/3/events", json=body, headers=ctx.auth() | CE)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "BadRequest"


def test_verifier_may_not_create_requests(ctx: Ctx) -> None:
    event = {
        "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "specversion": "1.0",
        "id": "evt-4",
        "source": "//127.0.0.1/3/events",
        "time": "2025-03-05T17:31:00Z",
        "data": {"productId": ["urn:pact:buyer:part-9"]},
    }
    r = ctx.client.post("/3/events", json=event, headers=ctx.world.auth("acme/verifier") | CE)
    assert r.status_code == 403 and r.json()["code"] == "AccessDenied"
