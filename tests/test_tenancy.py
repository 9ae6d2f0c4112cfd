"""Tenant isolation on every route, against SQLite and PostgreSQL.

Tenant `other` holds private and public products, model versions, calculations, factor sets
(draft and published) and a supplier request. A user of tenant `acme`, and an anonymous caller,
try every route on them. Another tenant's private data must be "not found" (never "forbidden",
which would reveal it exists), a bill of materials (model version text, input lines) is never
readable outside its tenant, and no response to them contains any of `other`'s secrets.

The routes are read from the application: a route added without a case here fails
`test_route_isolates_tenants`, so isolation is thought about for every new route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from openpcf.api.app import ROUTERS, create_app
from tests.databases import KINDS, empty_database
from tests.platform_world import World, make_world

# Strings only tenant `other` knows; none may appear in a response to `acme` or to anonymous.
SECRETS = (
    "B-SECRET-INPUT",
    "B-PUBLIC-BOM-LINE",
    "B-SECRET-FACTOR",
    "b-secret-supplier",
    "member@other.example",
    "admin@other.example",
    "B-SECRET-SITE",
)
MODEL = """
openpcf: 1
product: {{name: {name}, declared_unit: {{amount: 1, unit: kg}}, region: CN-JS, year: 2023}}
inputs:
  - {{name: {line}, stage: raw-materials, amount: 1.5, unit: kg,
     pcf: {{value: 2.0, unit: kg CO2e/kg, source: supplier}}}}
  - {{name: Power, stage: production, amount: 10, unit: kWh, electricity: {{basis: grid-co2}}}}
"""
B = "urn:openpcf:product:other:"
FACTOR = {
    "id": "b-secret/steel",
    "name": "B-SECRET-FACTOR",
    "unit": "kg",
    "co2e": 2.0,
    "gwp": "AR5",
    "source": "B survey",
}


@dataclass
class Other:
    """Tenant `other`'s ids."""

    private_calc: str = ""
    public_calc: str = ""
    request_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    client: TestClient
    world: World
    other: Other


@pytest.fixture(scope="module", params=KINDS)
def ctx(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    mp = pytest.MonkeyPatch()
    request.addfinalizer(mp.undo)
    mp.setenv("OPENPCF_PACT_CALLBACK_LOOPBACK", "1")  # PACT requests name a loopback callback
    with empty_database(request.param, tmp_path_factory.mktemp("tenancy")) as url:
        world = make_world(url)
        with TestClient(create_app(url)) as client:
            yield Ctx(client, world, _fill_other(client, world))


def _fill_other(client: TestClient, world: World) -> Other:
    auth, admin = world.auth("other/member"), world.auth("other/admin")
    ids = Other()
    for slug, visibility, line in (
        ("secret-widget", "private", "B-SECRET-INPUT"),
        ("public-widget", "public", "B-PUBLIC-BOM-LINE"),
    ):
        r = client.post(
            "/products", json={"slug": slug, "name": slug, "visibility": visibility}, headers=auth
        )
        assert r.status_code == 201, r.text
        r = client.post(
            f"/products/{B}{slug}/versions",
            content=MODEL.format(name=slug, line=line),
            headers=auth | {"content-type": "application/yaml"},
        )
        assert r.status_code == 201, r.text
        r = client.post(f"/products/{B}{slug}/calculations", headers=auth)
        assert r.status_code == 201, r.text
        setattr(ids, f"{visibility}_calc", r.json()["id"])
    for name in ("b-secret-set", "b-draft"):
        r = client.post(
            "/factor-sets",
            headers=auth,
            json={"name": name, "version": "1", "title": "B", "factors": [FACTOR]},
        )
        assert r.status_code == 201, r.text
    assert client.post("/factor-sets/b-secret-set/1/publish", headers=admin).status_code == 200
    r = client.post(
        "/supplier-requests",
        headers=auth,
        json={"supplier_host": "b-secret-supplier.example", "product_id": "urn:x"},
    )
    ids.request_id = r.json()["id"]
    site = {"id": "b-site", "name": "B-SECRET-SITE", "region": "CN-JS", "ets_sector": "steel"}
    assert client.post("/monitoring/sites", json=site, headers=auth).status_code == 201
    meter = {"id": "b-meter", "site": "b-site", "carrier": "electricity", "unit": "kWh",
             "reading": "cumulative", "factor": {"kind": "grid"}, "equipment": "mill"}  # fmt: skip
    r = client.post("/monitoring/sites/b-site/meters", json=meter, headers=auth)
    assert r.status_code == 201, r.text
    return ids


# --- one case per route ----------------------------------------------------------------------
# A case sends requests as acme's admin ("a") and anonymously ("anon") and states the statuses
# each must get; `check` looks further into acme's response.


@dataclass
class Call:
    method: str
    url: str
    a: int
    anon: set[int]
    json: object = None
    content: str | None = None
    media: str = "application/yaml"
    check: Callable[[Ctx, dict | list], None] | None = None


def _never_private(ctx: Ctx, body: dict | list) -> None:
    urns = [p["urn"] for p in body]  # type: ignore[index]
    assert f"{B}secret-widget" not in urns and f"{B}public-widget" in urns
    public = next(p for p in body if p["urn"] == f"{B}public-widget")  # type: ignore[index, union-attr]
    assert public["latest_version"] is None  # not even how many versions it has


def _in_acme(ctx: Ctx, body: dict | list) -> None:
    assert isinstance(body, dict)
    assert body.get("tenant") == "acme" or str(body.get("urn", "")).startswith(
        "urn:openpcf:product:acme:"
    )


def _only_acme(ctx: Ctx, body: dict | list) -> None:
    assert all(item["tenant"] == "acme" for item in body)  # type: ignore[index, union-attr]


def _footprint_only(ctx: Ctx, body: dict | list) -> None:
    assert isinstance(body, dict)
    assert body["result"] is None and body["created_by"] is None


def _no_b_factors(ctx: Ctx, body: dict | list) -> None:
    assert not [f for f in body if f["set"].startswith("other:")]  # type: ignore[index]


def _pact_public_only(ctx: Ctx, body: dict | list) -> None:
    assert isinstance(body, dict)
    ids = {pf["id"] for pf in body["data"]}
    assert ctx.other.private_calc not in ids and ctx.other.public_calc in ids


def _pact_request(version: str) -> dict[str, object]:
    created = {
        "3": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "2": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
    }[version]
    data = {"productId": [PRIVATE]} if version == "3" else {"pf": {"productIds": [PRIVATE]}}
    return {"type": created, "specversion": "1.0", "id": "e-1", "source": "//127.0.0.1",
            "time": "2025-03-05T17:31:00Z", "data": data}  # fmt: skip


PRIVATE, PUBLIC = f"{B}secret-widget", f"{B}public-widget"

POLICY = {
    "level": "province",
    "issuer": "Acme",
    "title_en": "Acme plan",
    "date": "2026",
    "status": "issued",
    "types": ["other"],
    "regions": ["CN-JS"],
    "obtained": "test",
    "verify": False,
}

# Certification, registry and ledger: unknown ids stand for other's rows (a submission or an
# unpublished certificate of another tenant is indistinguishable from a missing one;
# tests/test_certification.py checks the real cross-tenant cases on both databases).
X = "00000000-0000-0000-0000-000000000000"
CERTIFICATION_CASES = {
    "GET /certification/bodies": [Call("GET", "/certification/bodies", 200, {200})],
    "POST /certification/submissions": [
        Call(
            "POST",
            "/certification/submissions",
            404,
            {401},
            json={"product": PRIVATE, "calculation_id": "x", "verifier": "cnverify"},
        ),
    ],
    "GET /certification/submissions": [
        Call("GET", "/certification/submissions", 200, {401}, check=lambda c, b: b == [] or None)
    ],
    "GET /certification/submissions/{submission_id}": [
        Call("GET", f"/certification/submissions/{X}", 404, {401})
    ],
    "POST /certification/submissions/{submission_id}/transitions": [
        Call(
            "POST",
            f"/certification/submissions/{X}/transitions",
            404,
            {401},
            json={"action": "submit"},
        )
    ],
    "GET /certification/submissions/{submission_id}/evidence": [
        Call("GET", f"/certification/submissions/{X}/evidence", 404, {401})
    ],
    "GET /certification/certificates/{certificate_id}": [
        Call("GET", "/certification/certificates/pcf-0", 404, {404})
    ],
    "GET /certification/certificates/{certificate_id}/file": [
        Call("GET", "/certification/certificates/pcf-0/file", 404, {404})
    ],
    "GET /certification/keys": [Call("GET", "/certification/keys", 200, {200})],
    "POST /certification/keys": [Call("POST", "/certification/keys", 403, {401})],
    "GET /registry/certificates": [Call("GET", "/registry/certificates", 200, {200})],
    "GET /registry/certificates/{certificate_id}": [
        Call("GET", "/registry/certificates/pcf-0", 404, {404})
    ],
    "GET /registry/certificates/{certificate_id}/file": [
        Call("GET", "/registry/certificates/pcf-0/file", 404, {404})
    ],
    "GET /registry/coverage": [Call("GET", "/registry/coverage", 200, {200})],
    "GET /ledger/head": [Call("GET", "/ledger/head", 200, {200})],
    "GET /ledger/entries": [Call("GET", "/ledger/entries", 403, {401})],
    "GET /ledger/verify": [Call("GET", "/ledger/verify", 403, {401})],
    # signed checkpoints and Merkle proofs are public (hashes only); signing is a regulator's
    "GET /ledger/checkpoint": [Call("GET", "/ledger/checkpoint", 404, {404})],
    "GET /registry/ledger-checkpoint": [Call("GET", "/registry/ledger-checkpoint", 404, {404})],
    "GET /ledger/checkpoints": [Call("GET", "/ledger/checkpoints", 200, {200})],
    "POST /ledger/checkpoints": [Call("POST", "/ledger/checkpoints", 403, {401})],
    "GET /ledger/proof/{seq}": [Call("GET", "/ledger/proof/999999", 404, {404})],
    "GET /ledger/consistency": [Call("GET", "/ledger/consistency?first=0", 200, {200})],
    # web sessions: another tenant's user is not found; a session id of theirs neither
    "GET /auth/sessions": [
        Call("GET", "/auth/sessions?email=admin@other.example", 404, {401}),
        Call("GET", "/auth/sessions", 200, {401}),
    ],
    "DELETE /auth/sessions/{session_id}": [
        Call("DELETE", "/auth/sessions/0123456789abcdef", 404, {401})
    ],
    # The policy tracker: public to read; only a regulator tenant writes (acme is an enterprise).
    "GET /policies": [Call("GET", "/policies?region=CN-QH", 200, {200})],
    "GET /policies/feed.atom": [Call("GET", "/policies/feed.atom", 200, {200})],
    "GET /policies/{slug}": [Call("GET", "/policies/gb-t-24067-2024", 200, {200})],
    "GET /policies/{slug}/versions": [
        Call("GET", "/policies/gb-t-24067-2024/versions", 200, {200})
    ],
    "POST /policies": [
        Call("POST", "/policies", 403, {401}, json={"id": "acme-plan", "document": POLICY})
    ],
    "PUT /policies/{slug}": [
        Call("PUT", "/policies/gb-t-24067-2024", 403, {401}, json={"document": POLICY})
    ],
    "POST /policies/{slug}/supersede": [
        Call(
            "POST",
            "/policies/gb-t-24067-2024/supersede",
            403,
            {401},
            json={"successor": "cn-2024-pcf-work-plan"},
        )
    ],
    "GET /regions/{code}": [Call("GET", "/regions/CN-JS", 200, {200})],
    "GET /maps/{view}.svg": [Call("GET", "/maps/policy.svg", 200, {200})],
}

# Monitoring: `other` owns site b-site (with a meter); acme's admin finds nothing of it, and
# listing sites shows acme's own only. Anonymous callers must sign in.
SITE = "/monitoring/sites/b-site"
ACME_SITE = {"id": "a-site", "name": "A's", "region": "CN-JS"}
METER = {"id": "m", "site": "b-site", "carrier": "electricity", "unit": "kWh",
         "reading": "cumulative", "factor": {"kind": "grid"}, "equipment": "mill"}  # fmt: skip
MONITORING_CASES = {
    "GET /monitoring/sites": [
        Call("GET", "/monitoring/sites", 200, {401}, check=lambda c, b: b == [] or None)
    ],
    "POST /monitoring/sites": [Call("POST", "/monitoring/sites", 201, {401}, json=ACME_SITE)],
    "GET /monitoring/sites/{site}/meters": [Call("GET", f"{SITE}/meters", 404, {401})],
    "POST /monitoring/sites/{site}/meters": [
        Call("POST", f"{SITE}/meters", 404, {401}, json=METER)
    ],
    "POST /monitoring/sites/{site}/allowances": [
        Call(
            "POST",
            f"{SITE}/allowances",
            404,
            {401},
            json={"site": "b-site", "year": 2025, "tonnes_co2": 1},
        )
    ],
    **{
        f"GET /monitoring/sites/{{site}}/{leaf}": [Call("GET", f"{SITE}/{leaf}", 404, {401})]
        for leaf in ("emissions", "live", "stream", "allowance", "rejected")
    },
}
MODEL_YAML = MODEL.format(name="x", line="A line")

# The national layer: importing issuance records and the claims summary are a regulator's (acme is
# an enterprise: 403); a tenant's claims are its own; other's sets are no national sets.
NATIONAL_CASES = {
    "POST /green-certificates/issuances": [
        Call(
            "POST",
            "/green-certificates/issuances",
            403,
            {401},
            json=None,
            content="id,volume,unit,generation,project,province,period_start,period_end,"
            "issuer\nG-1,1,MWh,wind,p,CN-NM,2025-01-01,2025-01-31,i\n",
            media="text/csv",
        )
    ],
    "GET /green-certificates/claims": [
        Call("GET", "/green-certificates/claims", 200, {401}, check=lambda c, b: b == [] or None)
    ],
    "GET /green-certificates/summary": [Call("GET", "/green-certificates/summary", 403, {401})],
    "GET /monitoring/sites/{site}/meters/{meter}/ledger-proof": [
        Call(
            "GET", f"{SITE}/meters/b-meter/ledger-proof?start=2025-01-01&end=2025-01-31", 404, {401}
        )
    ],
    "POST /monitoring/sites/{site}/green-certificates": [
        Call(
            "POST",
            f"{SITE}/green-certificates",
            404,
            {401},
            json={"certificate_id": "G-9", "amount": 1, "unit": "MWh", "generation": "wind"},
        )
    ],
    "GET /monitoring/sites/{site}/renewable-share": [
        Call("GET", f"{SITE}/renewable-share?year=2025", 404, {401})
    ],
    "GET /national/procurement-thresholds": [
        Call("GET", "/national/procurement-thresholds", 200, {200})
    ],
    "POST /national/procurement-thresholds": [
        Call(
            "POST",
            "/national/procurement-thresholds",
            403,
            {401},
            json={
                "rule_id": "cement",
                "declared_unit": "1 t",
                "threshold_kg_co2e": 1,
                "source": "x",
                "valid_from": "2026-01-01",
            },
        )
    ],
    "GET /national/products": [Call("GET", "/national/products", 200, {200})],
    "GET /rules/{rule_id}/versions": [Call("GET", "/rules/cement/versions", 200, {200})],
    "POST /rules/{rule_id}/versions": [
        Call(
            "POST",
            "/rules/cement/versions?version=9&valid_from=2026-01-01",
            403,
            {401},
            content="id: cement\n",
        )
    ],
    "POST /rules/{rule_id}/versions/{version}/publish": [
        Call("POST", "/rules/cement/versions/9/publish", 403, {401})
    ],
    "POST /rules/{rule_id}/versions/{version}/withdraw": [
        Call("POST", "/rules/cement/versions/9/withdraw?on=2026-01-01", 403, {401})
    ],
    "GET /rules/{rule_id}/versions/{version}/diff": [
        Call("GET", "/rules/cement/versions/9/diff", 404, {404})
    ],
    "GET /profiles/{rule_id}/versions": [Call("GET", "/profiles/pact-v3/versions", 200, {200})],
    "POST /profiles/{rule_id}/versions": [
        Call(
            "POST",
            "/profiles/pact-v3/versions?version=9&valid_from=2026-01-01",
            403,
            {401},
            content="id: pact-v3\n",
        )
    ],
    "POST /profiles/{rule_id}/versions/{version}/publish": [
        Call("POST", "/profiles/pact-v3/versions/9/publish", 403, {401})
    ],
    "POST /profiles/{rule_id}/versions/{version}/withdraw": [
        Call("POST", "/profiles/pact-v3/versions/9/withdraw?on=2026-01-01", 403, {401})
    ],
    "GET /profiles/{rule_id}/versions/{version}/diff": [
        Call("GET", "/profiles/pact-v3/versions/9/diff", 404, {404})
    ],
    "GET /factor-sets/{name}/{version}/diff": [
        Call("GET", "/factor-sets/b-secret-set/1/diff?against=1", 404, {401})
    ],
    "GET /factor-sets/{name}/{version}/preview": [
        Call("GET", "/factor-sets/b-secret-set/1/preview", 404, {401})
    ],
}


def cases(ctx: Ctx) -> dict[str, list[Call]]:
    o = ctx.other
    return {
        **CERTIFICATION_CASES,
        **MONITORING_CASES,
        **NATIONAL_CASES,
        "POST /auth/token": [],  # see test_client_credentials_act_for_their_own_tenant_only
        "GET /health": [Call("GET", "/health", 200, {200})],
        "GET /me": [Call("GET", "/me", 200, {200}, check=_in_acme)],
        "GET /products": [Call("GET", "/products", 200, {200}, check=_never_private)],
        "POST /products": [
            Call(
                "POST",
                "/products",
                201,
                {401},
                json={"slug": "secret-widget", "name": "A's"},
                check=_in_acme,
            ),
        ],
        "GET /products/{product_urn}": [
            Call("GET", f"/products/{PRIVATE}", 404, {404}),
            Call("GET", f"/products/{PUBLIC}", 200, {200}),
        ],
        "PATCH /products/{product_urn}": [
            Call("PATCH", f"/products/{u}", 404, {401}, json={"visibility": "public"})
            for u in (PRIVATE, PUBLIC)
        ],
        "POST /products/{product_urn}/versions": [
            Call("POST", f"/products/{u}/versions", 404, {401}, content=MODEL_YAML)
            for u in (PRIVATE, PUBLIC)
        ],
        "GET /products/{product_urn}/versions": [
            Call("GET", f"/products/{u}/versions", 404, {401}) for u in (PRIVATE, PUBLIC)
        ],
        "GET /products/{product_urn}/versions/{number}": [
            Call("GET", f"/products/{u}/versions/1", 404, {401}) for u in (PRIVATE, PUBLIC)
        ],
        "POST /products/{product_urn}/calculations": [
            Call("POST", f"/products/{u}/calculations", 404, {401}, json={})
            for u in (PRIVATE, PUBLIC)
        ],
        "GET /products/{product_urn}/calculations": [
            Call("GET", f"/products/{PRIVATE}/calculations", 404, {404}),
            Call("GET", f"/products/{PUBLIC}/calculations", 200, {200}),
        ],
        "GET /calculations/{calculation_id}": [
            Call("GET", f"/calculations/{o.private_calc}", 404, {404}),
            Call("GET", f"/calculations/{o.public_calc}", 200, {200}, check=_footprint_only),
        ],
        "GET /factors": [
            Call("GET", "/factors?q=steel&limit=1000", 200, {200}, check=_no_b_factors)
        ],
        "GET /factors/{factor_id:path}": [Call("GET", "/factors/b-secret/steel", 404, {404})],
        "GET /factor-sets": [Call("GET", "/factor-sets", 200, {401}, check=_only_acme)],
        "POST /factor-sets": [
            Call(
                "POST",
                "/factor-sets",
                201,
                {401},
                check=_in_acme,
                json={
                    "name": "b-draft",
                    "version": "1",
                    "title": "A's own",
                    "factors": [{"id": "a/x", "name": "x", "unit": "kg", "co2e": 1, "source": "a"}],
                },
            ),
        ],
        "GET /factor-sets/{name}/{version}": [
            Call("GET", f"/factor-sets/{n}/1", 404, {401}) for n in ("b-secret-set", "b-draft-x")
        ],
        "PATCH /factor-sets/{name}/{version}": [
            Call("PATCH", "/factor-sets/b-secret-set/1", 404, {401}, json={"title": "x"}),
        ],
        "POST /factor-sets/{name}/{version}/publish": [
            Call("POST", "/factor-sets/b-secret-set/1/publish", 404, {401}),
        ],
        "GET /profiles": [Call("GET", "/profiles", 200, {200})],
        "GET /profiles/{profile_id}": [Call("GET", "/profiles/pact-v3", 200, {200})],
        "GET /rules": [Call("GET", "/rules", 200, {200})],
        "GET /rules/{rule_id}": [Call("GET", "/rules/cement", 200, {200})],
        "GET /supplier-requests": [Call("GET", "/supplier-requests", 200, {401}, check=_only_acme)],
        "POST /supplier-requests": [
            Call(
                "POST",
                "/supplier-requests",
                201,
                {401},
                check=_in_acme,
                json={"supplier_host": "h.example", "product_id": "urn:y"},
            ),
        ],
        "GET /supplier-requests/{request_id}": [
            Call("GET", f"/supplier-requests/{o.request_id}", 404, {401}),
        ],
        "GET /audit": [Call("GET", "/audit?limit=1000", 200, {401}, check=_only_acme)],
        # background databases are the operator's, machine-wide: no tenant's data to isolate
        "GET /lci/databases": [Call("GET", "/lci/databases", 200, {401})],
        "GET /lci/databases/{name}": [Call("GET", "/lci/databases/nope", 404, {401})],
        "GET /.well-known/openid-configuration": [
            Call("GET", "/.well-known/openid-configuration", 200, {200})
        ],
        # PACT: a token is required (400 BadRequest without); v2 serves nothing yet (no CPC)
        "GET /3/footprints": [Call("GET", "/3/footprints", 200, {400}, check=_pact_public_only)],
        "GET /2/footprints": [Call("GET", "/2/footprints", 200, {400})],
        **{
            f"GET /{v}/footprints/{{id}}": [
                Call("GET", f"/{v}/footprints/{o.private_calc}", 404, {400}),
                Call("GET", f"/{v}/footprints/{o.public_calc}", 200 if v == "3" else 404, {400}),
            ]
            for v in ("3", "2")
        },
        **{
            f"POST /{v}/events": [Call("POST", f"/{v}/events", 200, {400}, json=_pact_request(v))]
            for v in ("3", "2")
        },
    }


def routes() -> list[str]:
    """Every route of the API: of its routers, and of its OpenAPI document."""
    found = {
        f"{method} {r.path}"
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute)
        for method in r.methods
    }
    paths = create_app("sqlite://").openapi()["paths"]  # no database is opened for this
    documented = {f"{m.upper()} {path}" for path, ops in paths.items() for m in ops}
    documented = {r.replace("{factor_id}", "{factor_id:path}") for r in documented}
    return sorted(found | documented)


@pytest.mark.parametrize("route", routes())
def test_route_isolates_tenants(ctx: Ctx, route: str) -> None:
    table = cases(ctx)
    assert route in table, f"{route} has no tenant-isolation case: add one to cases()"
    for call in table[route]:
        for who, expected in (("a", {call.a}), ("anon", call.anon)):
            headers = ctx.world.auth("acme/admin") if who == "a" else {}
            if call.content is not None:
                headers = headers | {"content-type": call.media}
            r = ctx.client.request(
                call.method, call.url, headers=headers, json=call.json, content=call.content
            )
            where = f"{who}: {call.method} {call.url}"
            assert r.status_code in expected, f"{where} -> {r.status_code} {r.text[:300]}"
            for secret in SECRETS:
                assert secret not in r.text, f"{where} revealed {secret!r}"
            if r.status_code >= 400:
                pact = ("BadRequest", "NoSuchFootprint", "NotFound")  # the PACT routes' codes
                # "forbidden" only where a route refuses acme's admin by role (keys, ledger)
                assert r.json()["code"] in ("not_found", "unauthorized", "forbidden", *pact), where
                assert r.json()["code"] != "forbidden" or call.a == 403, where
            elif who == "a" and call.check is not None:
                call.check(ctx, r.json())


def test_client_credentials_act_for_their_own_tenant_only(ctx: Ctx) -> None:
    a_id, a_secret = ctx.world.clients["acme"]
    b_id, _ = ctx.world.clients["other"]
    r = ctx.client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=(a_id, a_secret)
    )
    token = r.json()["access_token"]
    me = ctx.client.get("/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["tenant"] == "acme"
    r = ctx.client.get(f"/products/{PRIVATE}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404
    # acme's secret does not open other's client
    r = ctx.client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=(b_id, a_secret)
    )
    assert r.status_code == 401


def test_other_tenants_data_is_untouched(ctx: Ctx) -> None:
    """Runs after the route tests in this module: nothing acme tried changed other's data."""
    auth = ctx.world.auth("other/admin")
    private = ctx.client.get(f"/products/{PRIVATE}", headers=auth).json()
    assert private["visibility"] == "private" and private["latest_version"] == 1
    assert ctx.client.get(f"/products/{PUBLIC}", headers=auth).json()["latest_version"] == 1
    draft = ctx.client.get("/factor-sets/b-draft/1", headers=auth).json()
    assert draft["published_at"] is None and draft["title"] == "B"
    assert len(ctx.client.get(f"/products/{PRIVATE}/calculations", headers=auth).json()) == 1
    actors = {e["actor"] for e in ctx.client.get("/audit?limit=1000", headers=auth).json()}
    assert not [a for a in actors if "acme" in a]
