"""The REST API through FastAPI's TestClient (httpx), against SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project
from openpcf.store.db import sessions
from openpcf.store.models import AccessToken, PersonalToken
from tests.platform_world import World, demo_model

ACME = "urn:openpcf:product:acme:"
YAML = {"content-type": "application/yaml"}
WIDGET = """
openpcf: 1
product: {name: Widget, declared_unit: {amount: 1, unit: kg}, region: CN-JS, year: 2023}
inputs:
  - {name: Steel, stage: raw-materials, amount: 1.5, unit: kg,
     pcf: {value: 2.0, unit: kg CO2e/kg, source: supplier}}
  - {name: Power, stage: production, amount: 10, unit: kWh, electricity: {basis: grid-co2}}
"""
BREAKS_CEMENT_RULE = """
openpcf: 1
product: {name: Bad cement, rule: cement, declared_unit: {amount: 1, unit: t}, region: CN-JS,
          year: 2023}
inputs:
  - {name: Power, stage: production, amount: 10, unit: kWh, electricity: {}}
"""


def product(
    client: TestClient,
    world: World,
    slug: str,
    model: str | None = None,
    visibility: str = "private",
    who: str = "acme/member",
) -> str:
    r = client.post(
        "/products",
        json={"slug": slug, "name": slug, "visibility": visibility},
        headers=world.auth(who),
    )
    assert r.status_code == 201, r.text
    urn = r.json()["urn"]
    if model is not None:
        r = client.post(f"/products/{urn}/versions", content=model, headers=world.auth(who) | YAML)
        assert r.status_code == 201, r.text
    return urn


# --- authentication and roles --------------------------------------------------------------


def test_without_credentials_writes_are_refused_with_401(client: TestClient) -> None:
    r = client.post("/products", json={"slug": "x", "name": "x"})
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized" and r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Bearer nonsense", "Bearer opcf_pat_forged", "Basic Zm9vOmJhcg=="]
)
def test_a_bad_token_is_401_never_anonymous(client: TestClient, header: str) -> None:
    for path in ("/me", "/products", "/profiles"):
        r = client.get(path, headers={"Authorization": header})
        assert r.status_code == 401, (path, r.text)
        assert r.json()["code"] == "unauthorized"


def test_an_expired_personal_token_is_401(client: TestClient, world: World) -> None:
    assert client.get("/me", headers=world.auth("acme/admin")).status_code == 200
    with sessions(world.url)() as s, s.begin():
        s.execute(update(PersonalToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    r = client.get("/me", headers=world.auth("acme/admin"))
    assert r.status_code == 401 and "expired" in r.json()["message"]


def test_client_credentials_give_an_access_token_that_expires(
    client: TestClient, world: World
) -> None:
    client_id, secret = world.clients["acme"]
    r = client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert r.headers["cache-control"] == "no-store"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    me = client.get("/me", headers=bearer).json()
    assert me == {"kind": "client", "subject": client_id, "tenant": "acme", "role": "member"}
    assert (
        client.post("/products", json={"slug": "by-erp", "name": "x"}, headers=bearer).status_code
        == 201
    )
    with sessions(world.url)() as s, s.begin():
        s.execute(update(AccessToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    r = client.get("/me", headers=bearer)
    assert r.status_code == 401 and "expired" in r.json()["message"]


def test_the_token_endpoint_speaks_oauth2_errors(client: TestClient, world: World) -> None:
    client_id, secret = world.clients["acme"]
    wrong = client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret + "x")
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.json()["code"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    unknown = client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=("opcf_client_nope", secret)
    )
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    grant = client.post("/auth/token", data={"grant_type": "password"}, auth=(client_id, secret))
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    missing = client.post("/auth/token", data={}, auth=(client_id, secret))
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    anonymous = client.post("/auth/token", data={"grant_type": "client_credentials"})
    assert anonymous.status_code == 401
    in_body = client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert in_body.status_code == 200


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        ("verifier", "post", "/products", {"slug": "v", "name": "v"}),
        ("verifier", "post", "/products/{widget}/calculations", {}),
        ("verifier", "patch", "/products/{widget}", {"visibility": "public"}),
        ("verifier", "post", "/supplier-requests", {"supplier_host": "h", "product_id": "p"}),
        ("member", "post", "/factor-sets/survey/1/publish", None),
        ("member", "get", "/audit", None),
    ],
)
def test_a_role_that_may_not_is_403(
    client: TestClient, world: World, role: str, method: str, path: str, body: dict | None
) -> None:
    widget = product(client, world, "widget", WIDGET)
    client.post(
        "/factor-sets",
        headers=world.auth("acme/member"),
        json={
            "name": "survey",
            "version": "1",
            "title": "t",
            "factors": [{"id": "a/b", "name": "b", "unit": "kg", "co2e": 1, "source": "s"}],
        },
    )
    r = client.request(
        method, path.format(widget=widget), json=body, headers=world.auth(f"acme/{role}")
    )
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "forbidden"


def test_a_verifier_reads_everything_of_its_tenant(client: TestClient, world: World) -> None:
    widget = product(client, world, "widget", WIDGET)
    calc = client.post(f"/products/{widget}/calculations", headers=world.auth("acme/member"))
    auth = world.auth("acme/verifier")
    assert client.get(f"/products/{widget}/versions/1", headers=auth).status_code == 200
    got = client.get(f"/calculations/{calc.json()['id']}", headers=auth).json()
    assert got["result"]["pcf"] == calc.json()["result"]["pcf"]
    assert client.get("/audit", headers=auth).status_code == 200


# --- products and model versions -----------------------------------------------------------


def test_products_are_created_listed_and_changed(client: TestClient, world: World) -> None:
    auth = world.auth("acme/member")
    r = client.post("/products", json={"slug": "widget", "name": "Widget"}, headers=auth)
    assert r.status_code == 201
    assert r.json() | {"created_at": None} == {
        "urn": ACME + "widget",
        "tenant": "acme",
        "slug": "widget",
        "name": "Widget",
        "visibility": "private",
        "latest_version": None,
        "created_at": None,
        "cpc": None,
        "classifications": [],
        "mass_per_declared_unit_kg": None,
        "pact_notices": [],
    }
    again = client.post("/products", json={"slug": "widget", "name": "W"}, headers=auth)
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    bad = client.post("/products", json={"slug": "Not A Slug", "name": "W"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
    assert "slug" in bad.json()["message"]
    r = client.patch(
        f"/products/{ACME}widget", json={"visibility": "public", "name": "W2"}, headers=auth
    )
    assert r.status_code == 200 and r.json()["visibility"] == "public" and r.json()["name"] == "W2"
    assert [p["urn"] for p in client.get("/products").json()] == [ACME + "widget"]


def test_model_versions_are_immutable_and_numbered(client: TestClient, world: World) -> None:
    urn = product(client, world, "widget")
    auth = world.auth("acme/member")
    first = client.post(f"/products/{urn}/versions", content=WIDGET, headers=auth | YAML)
    assert first.status_code == 201 and first.json()["number"] == 1
    assert first.headers["location"] == f"/products/{urn}/versions/1"
    same = client.post(f"/products/{urn}/versions", content=WIDGET, headers=auth | YAML)
    assert same.status_code == 200 and same.json()["number"] == 1  # identical: not stored again
    as_json = json.dumps(
        {
            "openpcf": 1,
            "product": {"name": "Widget", "declared_unit": {"amount": 1, "unit": "kg"}},
            "inputs": [
                {
                    "name": "Steel",
                    "stage": "raw-materials",
                    "amount": 2,
                    "unit": "kg",
                    "pcf": {"value": 2, "unit": "kg CO2e/kg", "source": "s"},
                }
            ],
        }
    )
    second = client.post(
        f"/products/{urn}/versions",
        content=as_json,
        headers=auth | {"content-type": "application/json"},
    )
    assert second.status_code == 201 and second.json()["number"] == 2
    assert second.json()["media_type"] == "application/json"
    listed = client.get(f"/products/{urn}/versions", headers=auth).json()
    assert [v["number"] for v in listed] == [1, 2]
    doc = client.get(f"/products/{urn}/versions/1", headers=auth).json()
    assert doc["text"] == WIDGET and doc["model"]["product"]["name"] == "Widget"
    assert doc["sha256"] == first.json()["sha256"] and doc["created_by"] == "member@acme.example"
    assert client.get(f"/products/{urn}", headers=auth).json()["latest_version"] == 2


def test_an_invalid_model_is_422_with_its_line(client: TestClient, world: World) -> None:
    urn = product(client, world, "widget")
    auth = world.auth("acme/member") | YAML
    broken = WIDGET.replace("unit: kWh", "unit: kWh, colour: red")
    r = client.post(f"/products/{urn}/versions", content=broken, headers=auth)
    assert r.status_code == 422 and r.json()["code"] == "model_error"
    assert r.json()["details"]["line"] == 7 and "colour" in r.json()["message"]
    assert r.json()["details"]["file"] == "acme/widget@1.yaml"
    syntax = client.post(f"/products/{urn}/versions", content="openpcf: [1", headers=auth)
    assert syntax.status_code == 422 and "invalid YAML" in syntax.json()["message"]
    other_id = WIDGET.replace("product: {", "product: {id: 'urn:openpcf:product:x:y', ")
    r = client.post(f"/products/{urn}/versions", content=other_id, headers=auth)
    assert r.status_code == 422 and "set product.id to the product's URN" in r.json()["message"]
    assert client.get(f"/products/{urn}/versions", headers=auth).json() == []


def test_upload_media_type_and_size_are_checked(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    urn = product(client, world, "widget")
    auth = world.auth("acme/member")
    r = client.post(
        f"/products/{urn}/versions",
        content=WIDGET,
        headers=auth | {"content-type": "application/xml"},
    )
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    monkeypatch.setenv("OPENPCF_MAX_MODEL_BYTES", "100")
    r = client.post(f"/products/{urn}/versions", content=WIDGET, headers=auth | YAML)
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


# --- calculations ----------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["gb-t-24067", "pact-v3"])
def test_a_calculation_round_trip_matches_calculate_on_the_same_file(
    client: TestClient, world: World, profile: str
) -> None:
    """The demo LFP cell with its cathode sub-assembly (by URN), on the server and locally."""
    product(client, world, "lfp-cathode", demo_model("lfp-cathode.yaml", "acme"))
    cell = product(client, world, "lfp-cell-280ah", demo_model("lfp-cell.yaml", "acme"))
    r = client.post(
        f"/products/{cell}/calculations",
        json={"profile": profile},
        headers=world.auth("acme/member"),
    )
    assert r.status_code == 201, r.text
    posted = r.json()
    fetched = client.get(f"/calculations/{posted['id']}", headers=world.auth("acme/member"))
    assert fetched.json() == posted

    local = calculate(load_project(Path(str(_demo_path("lfp-cell.yaml")))), profile=profile)
    server = posted["result"]
    assert server["pcf"]["value"] == pytest.approx(local.pcf.value, rel=1e-12)
    assert server["stages"] == pytest.approx(local.stages, rel=1e-12)
    assert server["gases"] == pytest.approx(local.gases, rel=1e-12)
    assert [(c["name"], c["line"]) for c in server["contributions"]] == [
        (c.name, c.line) for c in local.contributions
    ]
    assert [c["kg_co2e"] for c in server["contributions"]] == pytest.approx(
        [c.kg_co2e for c in local.contributions], rel=1e-12
    )
    assert server["product_id"] == cell and server["profile"] == profile
    # provenance: every model version used, the software version, the input hash
    assert [(m["product"], m["number"]) for m in posted["model_versions"]] == [
        (cell, 1),
        (ACME + "lfp-cathode", 1),
    ]
    assert posted["software_version"] == server["provenance"]["software_version"]
    assert posted["input_hash"] == server["provenance"]["input_hash"]
    assert posted["created_by"] == "member@acme.example" and posted["model_version"] == 1
    listed = client.get(f"/products/{cell}/calculations", headers=world.auth("acme/member"))
    assert [c["id"] for c in listed.json()] == [posted["id"]]


def _demo_path(name: str) -> object:
    from importlib.resources import as_file, files

    with as_file(files("openpcf.demo").joinpath(name)) as p:
        return p


def test_a_sub_assembly_not_among_the_tenants_products_is_422_naming_it(
    client: TestClient, world: World
) -> None:
    cell = product(
        client,
        world,
        "lfp-cell-280ah",
        demo_model("lfp-cell.yaml", "acme").replace(
            "urn:openpcf:product:acme:lfp-cathode", "lfp-cathode.yaml"
        ),
    )
    r = client.post(f"/products/{cell}/calculations", headers=world.auth("acme/member"))
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "unresolved_reference"
    assert body["details"]["reference"] == "lfp-cathode.yaml" and body["details"]["line"] == 44
    assert "'lfp-cathode.yaml'" in body["message"]
    # a product of another tenant is not a sub-assembly of this one, even when public
    product(
        client,
        world,
        "lfp-cathode",
        demo_model("lfp-cathode.yaml", "other"),
        visibility="public",
        who="other/member",
    )
    theirs = product(
        client,
        world,
        "cell2",
        demo_model("lfp-cell.yaml", "other").replace(
            "urn:openpcf:product:other:lfp-cell-280ah", ACME + "cell2"
        ),
    )
    r = client.post(f"/products/{theirs}/calculations", headers=world.auth("acme/member"))
    assert r.status_code == 422 and r.json()["details"]["reference"].startswith(
        "urn:openpcf:product:other:"
    )


def test_a_model_breaking_its_rule_needs_allow_violations(client: TestClient, world: World) -> None:
    urn = product(client, world, "bad-cement", BREAKS_CEMENT_RULE)
    auth = world.auth("acme/member")
    r = client.post(f"/products/{urn}/calculations", headers=auth)
    assert r.status_code == 422 and r.json()["code"] == "rule_violation"
    assert {v["code"] for v in r.json()["details"]} == {"MISSING_STAGE", "MISSING_INPUT"}
    r = client.post(f"/products/{urn}/calculations", json={"allow_violations": True}, headers=auth)
    assert r.status_code == 201
    assert {v["code"] for v in r.json()["result"]["violations"]} >= {"MISSING_INPUT"}


def test_unknown_version_and_profile(client: TestClient, world: World) -> None:
    urn = product(client, world, "widget", WIDGET)
    auth = world.auth("acme/member")
    r = client.post(f"/products/{urn}/calculations", json={"version": 9}, headers=auth)
    assert r.status_code == 404 and "no version 9" in r.json()["message"]
    r = client.post(f"/products/{urn}/calculations", json={"profile": "nope"}, headers=auth)
    assert r.status_code == 422 and "unknown profile 'nope'" in r.json()["message"]
    empty = product(client, world, "empty")
    r = client.post(f"/products/{empty}/calculations", headers=auth)
    assert r.status_code == 404 and "no model version" in r.json()["message"]


def test_certificates_are_claimed_for_the_tenant(client: TestClient, world: World) -> None:
    certs = WIDGET.replace(
        "electricity: {basis: grid-co2}",
        "electricity: {certificates: {"
        "consumption: {amount: 100, unit: MWh}, claims: [{id: GEC-1, "
        "amount: 10, unit: MWh, generation: wind}]}}",
    )
    a = product(client, world, "a", certs)
    b = product(client, world, "b", certs)
    auth = world.auth("acme/member")
    assert client.post(f"/products/{a}/calculations", headers=auth).status_code == 201
    r = client.post(f"/products/{b}/calculations", headers=auth)
    assert r.status_code == 422 and f"already claimed by {a}" in r.json()["message"]
    with sessions(world.url)() as s:
        rows = s.execute(text("SELECT tenant, product FROM certificate_claims")).all()
    assert rows == [("acme", a)]


def test_public_footprints_without_the_bill_of_materials(client: TestClient, world: World) -> None:
    urn = product(client, world, "widget", WIDGET, visibility="public")
    calc = client.post(f"/products/{urn}/calculations", headers=world.auth("acme/member")).json()
    for headers in ({}, world.auth("other/admin")):
        got = client.get(f"/calculations/{calc['id']}", headers=headers)
        assert got.status_code == 200
        body = got.json()
        assert body["result"] is None and body["created_by"] is None
        assert body["footprint"]["pcf"] == calc["result"]["pcf"]
        assert "Steel" not in got.text  # no input lines
        assert client.get(f"/products/{urn}", headers=headers).status_code == 200
        assert client.get(f"/products/{urn}/calculations", headers=headers).status_code == 200
        assert client.get(f"/products/{urn}/versions/1", headers=headers).status_code in (401, 404)


# --- factors, factor sets, profiles, rules, supplier requests, audit ---------------------------


def test_factor_search_and_lookup(client: TestClient) -> None:
    r = client.get("/factors", params={"q": "grid CN-JS 2023"})
    assert r.status_code == 200
    assert [(f["id"], f["set"]) for f in r.json()] == [
        ("cn-mee-grid/CN-JS@2023", "openpcf-bundled@2026.1")
    ]
    assert len(client.get("/factors", params={"q": "", "limit": 5}).json()) == 5
    regional = client.get("/factors", params={"q": "grid", "region": "CN-JS"}).json()
    assert regional and all(f["region"] == "CN-JS" for f in regional)
    one = client.get("/factors/cn-mee-grid/CN-JS@2023")
    assert one.status_code == 200 and one.json()["gases"]["CO2"] > 0
    assert client.get("/factors/nope/nope").status_code == 404


def test_factor_sets_are_drafted_published_and_used(client: TestClient, world: World) -> None:
    member, admin = world.auth("acme/member"), world.auth("acme/admin")
    steel = {
        "id": "acme/steel",
        "name": "Steel",
        "unit": "kg",
        "co2e": 2.0,
        "gwp": "AR5",
        "source": "Acme survey",
    }
    r = client.post(
        "/factor-sets",
        headers=member,
        json={"name": "survey", "version": "2024.1", "title": "S", "factors": [steel]},
    )
    assert r.status_code == 201 and r.json()["published_at"] is None
    assert r.json()["label"] == "acme:survey@2024.1"
    r = client.patch(
        "/factor-sets/survey/2024.1", headers=member, json={"factors": [steel | {"co2e": 2.5}]}
    )
    assert r.status_code == 200
    model = WIDGET.replace(
        "pcf: {value: 2.0, unit: kg CO2e/kg, source: supplier}", "factor: acme/steel"
    )
    urn = product(client, world, "widget", model)
    r = client.post(
        f"/products/{urn}/calculations", json={"factor_sets": ["survey@2024.1"]}, headers=member
    )
    assert r.status_code == 422 and "not a published factor set" in r.json()["message"]
    assert client.post("/factor-sets/survey/2024.1/publish", headers=admin).status_code == 200
    r = client.patch("/factor-sets/survey/2024.1", headers=member, json={"title": "changed"})
    assert r.status_code == 409 and r.json()["code"] == "immutable"
    r = client.post(
        f"/products/{urn}/calculations", json={"factor_sets": ["survey@2024.1"]}, headers=member
    )
    assert r.status_code == 201
    steel_line = next(c for c in r.json()["result"]["contributions"] if c["name"] == "Steel")
    assert steel_line["kg_co2e"] == pytest.approx(1.5 * 2.5)
    assert "acme:survey@2024.1" in r.json()["factor_sets"]
    found = client.get("/factors", params={"q": "steel acme"}, headers=member).json()
    assert [(f["id"], f["set"]) for f in found] == [("acme/steel", "acme:survey@2024.1")]
    listed = client.get("/factor-sets", headers=member).json()
    assert [(s["name"], s["factor_count"]) for s in listed] == [("survey", 1)]
    doc = client.get("/factor-sets/survey/2024.1", headers=member).json()
    assert doc["factors"][0]["co2e"] == 2.5


def test_profiles_and_rules_are_listed(client: TestClient) -> None:
    profiles = client.get("/profiles").json()
    assert {p["id"] for p in profiles} >= {"gb-t-24067", "pact-v3", "eu-cbam"}
    assert client.get("/profiles/pact-v3").json()["gwp"] == "AR6"
    assert client.get("/profiles/nope").status_code == 404
    assert "cement" in {r["id"] for r in client.get("/rules").json()}
    assert client.get("/rules/cement").json()["id"] == "cement"
    r = client.get("/rules/nope")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_supplier_requests_are_recorded(client: TestClient, world: World) -> None:
    auth = world.auth("acme/member")
    r = client.post(
        "/supplier-requests",
        headers=auth,
        json={"supplier_host": "pcf.supplier.example", "product_id": "urn:x:coil"},
    )
    assert r.status_code == 201 and r.json()["status"] == "pending"
    assert r.json()["requested_by"] == "member@acme.example"
    assert client.get(f"/supplier-requests/{r.json()['id']}", headers=auth).json() == r.json()
    assert client.get("/supplier-requests", headers=auth).json() == [r.json()]
    assert client.get("/supplier-requests?status=sent", headers=auth).json() == []


def test_the_audit_log_shows_who_changed_what(client: TestClient, world: World) -> None:
    urn = product(client, world, "widget", WIDGET)
    client.patch(
        f"/products/{urn}", json={"visibility": "public"}, headers=world.auth("acme/admin")
    )
    entries = client.get("/audit", headers=world.auth("acme/admin")).json()
    assert (entries[0]["action"], entries[0]["entity"], entries[0]["actor"]) == (
        "update",
        "products",
        "user:admin@acme.example",
    )
    assert entries[0]["details"] == {"visibility": ["private", "public"]}
    assert {e["entity"] for e in entries} >= {"products", "model_versions", "users", "tenants"}
    only = client.get("/audit?entity=model_versions", headers=world.auth("acme/admin")).json()
    assert [e["actor"] for e in only] == ["user:member@acme.example"]


# --- errors and the OpenAPI document -----------------------------------------------------------


def test_errors_are_json_with_a_code_and_message(client: TestClient) -> None:
    for r, status, code in (
        (client.get("/nowhere"), 404, "not_found"),
        (client.delete("/products"), 405, "method_not_allowed"),
        (client.get("/factors", params={"limit": 0}), 422, "invalid_request"),
        (client.get("/products/urn:openpcf:product:x:y"), 404, "not_found"),
    ):
        assert r.status_code == status
        assert r.json()["code"] == code and r.json()["message"]


def test_the_openapi_document_is_complete(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert {"personalToken", "clientCredentials", "clientBasic"} <= set(
        doc["components"]["securitySchemes"]
    )
    assert (
        doc["components"]["securitySchemes"]["clientCredentials"]["flows"]["clientCredentials"][
            "tokenUrl"
        ]
        == "/auth/token"
    )
    declared_tags = {t["name"] for t in doc["tags"]}
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            assert op.get("tags") and set(op["tags"]) <= declared_tags, where
            assert op.get("summary"), where
            ok = [s for s in op["responses"] if s.startswith("2")]
            assert ok, where
            for status in ok:
                # JSON, or a document of its own type (the Atom feed, the SVG maps), with a schema
                content = op["responses"][status].get("content", {})
                assert any(c.get("schema") for c in content.values()), f"{where} {status}"
            errors = [s for s in op["responses"] if s[0] in "45" and s != "422"]
            if path != "/health":
                assert errors, f"{where} documents no error response"
            for status in errors:
                assert op["responses"][status]["content"]["application/json"]["schema"], where
    refs = set()
    _collect_refs(doc, refs)
    schemas = doc["components"]["schemas"]
    assert all(r.removeprefix("#/components/schemas/") in schemas for r in refs)
    upload = doc["paths"]["/products/{product_urn}/versions"]["post"]["requestBody"]["content"]
    assert {"application/yaml", "application/json"} <= set(upload)
    assert schemas["ProductCreate"].get("examples")


def _collect_refs(node: object, out: set[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                out.add(v)
            else:
                _collect_refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _collect_refs(v, out)
