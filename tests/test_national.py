"""The national layer over the API, against SQLite and PostgreSQL: a regulator's published factor
set computes a company's footprint and is pinned in its result; a green certificate is claimed
once on the whole platform, against the issuance records a regulator imports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.domain.platform import Role, TenantKind
from openpcf.services.platform import accounts
from openpcf.store.db import sessions
from tests.platform_world import World, add_tenant, make_world
from tests.web_world import PASSWORD, csrf_of, sign_in

STEEL_V1 = {"id": "cn-national/steel-hr", "name": "Hot-rolled steel (national average)",
            "unit": "kg", "co2e": 2.0, "gwp": "AR5", "source": "national test set",
            "year": 2024, "region": "CN"}  # fmt: skip
STEEL_V2 = STEEL_V1 | {"co2e": 2.5, "year": 2025}
NEW_FACTOR = {"id": "cn-national/copper", "name": "Copper", "unit": "kg", "co2e": 4.0,
              "gwp": "AR5", "source": "national test set", "year": 2025, "region": "CN"}  # fmt: skip
MODEL = """
openpcf: 1
product: {{name: {name}, declared_unit: {{amount: 1, unit: kg}}, region: CN-QH, year: 2025}}
inputs:
  - {{name: Steel, stage: raw-materials, amount: 1.5, unit: kg, factor: cn-national/steel-hr}}
"""
GEC_MODEL = """
openpcf: 1
product: {{name: {name}, declared_unit: {{amount: 1, unit: kg}}, region: CN-QH, year: 2024}}
inputs:
  - name: Power
    stage: production
    amount: 10
    unit: kWh
    electricity:
      certificates:
        consumption: {{amount: 10, unit: MWh}}
        claims: [{{id: {cert}, amount: {mwh}, unit: MWh, generation: {gen}}}]
"""
ISSUANCES = """id,volume,unit,generation,project,province,period_start,period_end,issuer
GEC-QH-1,1,MWh,solar-pv,Golmud PV,CN-QH,2025-01-01,2025-01-31,GEC platform
GEC-NM-1,2,MWh,wind,Ulanqab wind,CN-NM,2025-02-01,2025-02-28,GEC platform
GEC-NM-2,1,MWh,wind,Ulanqab wind,CN-NM,2025-02-01,2025-02-28,GEC platform
"""


@dataclass
class Ctx:
    client: TestClient
    world: World


@pytest.fixture
def ctx(database_url: str) -> Iterator[Ctx]:
    world = make_world(database_url, ("acme", "beta"))
    factory = sessions(database_url)
    op = accounts.operator("tests")
    add_tenant(world, "regulator", TenantKind.regulator, (Role.admin, Role.member), PASSWORD)
    accounts.create_user(factory(), op, "acme", "web@acme.example", Role.member, password=PASSWORD)
    with TestClient(create_app(database_url)) as client:
        yield Ctx(client, world)


def _product(ctx: Ctx, tenant: str, slug: str, model: str) -> str:
    auth = ctx.world.auth(f"{tenant}/member")
    urn = f"urn:openpcf:product:{tenant}:{slug}"
    r = ctx.client.post("/products", json={"slug": slug, "name": slug}, headers=auth)
    assert r.status_code == 201, r.text
    r = ctx.client.post(f"/products/{urn}/versions", content=model,
                        headers=auth | {"content-type": "application/yaml"})  # fmt: skip
    assert r.status_code == 201, r.text
    return urn


def _publish(ctx: Ctx, version: str, factors: list[dict]) -> None:
    member, admin = ctx.world.auth("regulator/member"), ctx.world.auth("regulator/admin")
    body = {"name": "national", "version": version, "title": "National set", "factors": factors}
    r = ctx.client.post("/factor-sets", json=body, headers=member)
    assert r.status_code == 201, r.text
    r = ctx.client.post(f"/factor-sets/national/{version}/publish", headers=admin)
    assert r.status_code == 200, r.text


def test_a_regulators_published_set_computes_a_companys_footprint(ctx: Ctx) -> None:
    acme = ctx.world.auth("acme/member")
    _publish(ctx, "1", [STEEL_V1])
    # every tenant lists it, searches its factors and reads it
    sets = ctx.client.get("/factor-sets", headers=acme).json()
    assert [s["label"] for s in sets] == ["regulator:national@1"]
    found = ctx.client.get("/factors?q=hot-rolled national&limit=1000", headers=acme).json()
    assert ("cn-national/steel-hr", "regulator:national@1") in [(f["id"], f["set"]) for f in found]
    assert ctx.client.get("/factor-sets/national/1", headers=acme).status_code == 200
    urn = _product(ctx, "acme", "coil", MODEL.format(name="Coil"))
    r = ctx.client.post(f"/products/{urn}/calculations", json={"factor_sets": ["national@1"]},
                        headers=acme)  # fmt: skip
    assert r.status_code == 201, r.text
    calc = r.json()
    # 1.5 kg × 2.0 kg CO2e/kg = 3.0 kg CO2e, and the set's version is pinned in the result
    assert calc["pcf"]["value"] == pytest.approx(3.0)
    assert "regulator:national@1" in calc["factor_sets"]
    assert "regulator:national@1" in calc["result"]["provenance"]["factor_sets"]
    # on the web, the product page offers the national set, and a calculation can name it
    web = TestClient(ctx.client.app)
    sign_in(web, "web@acme.example")
    page = web.get("/app/products/coil").text
    assert '<option value="regulator:national@1">' in page
    r = web.post(
        "/app/products/coil/calculate",
        follow_redirects=False,
        data={"csrf_token": csrf_of(page), "factor_set": "regulator:national@1"},
    )
    assert r.status_code == 303, r.text
    web_calc = ctx.client.get(f"/calculations/{r.headers['location'].rsplit('/', 1)[1]}",
                              headers=acme).json()  # fmt: skip
    assert "regulator:national@1" in web_calc["factor_sets"]
    assert web_calc["pcf"]["value"] == pytest.approx(3.0)
    # a draft of the next version: a diff, and the preview of the footprints it would change
    member = ctx.world.auth("regulator/member")
    body = {"name": "national", "version": "2", "title": "National set",
            "factors": [STEEL_V2, NEW_FACTOR]}  # fmt: skip
    assert ctx.client.post("/factor-sets", json=body, headers=member).status_code == 201
    diff = ctx.client.get("/factor-sets/national/2/diff?against=1", headers=member).json()
    assert [f["id"] for f in diff["added"]] == ["cn-national/copper"] and diff["removed"] == []
    (changed,) = diff["changed"]
    # (2.5 - 2.0) / 2.0 = +25 %
    assert (changed["old"], changed["new"], changed["percent"]) == (2.0, 2.5, 25.0)
    r = ctx.client.get("/factor-sets/national/2/preview", headers=ctx.world.auth("regulator/admin"))
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["dry_run"] is True and preview["scope"].startswith("all tenants")
    # acme's coil (two calculations): 1.5 × 2.5 = 3.75 kg CO2e, +25 %
    assert preview["dependent"] == 2 and preview["percent_max"] == pytest.approx(25.0)
    # the regulator's web page shows the same before publishing
    reg_web = TestClient(ctx.client.app)
    sign_in(reg_web, "admin@regulator.example")
    assert "/regulate/factor-sets/national/2/review" in reg_web.get("/regulate/factor-sets").text
    page = reg_web.get("/regulate/factor-sets/national/2/review").text
    # 2.0 -> 2.5 kg CO2e/kg: +25 %; acme's coil 3.00 -> 3.75 kg CO2e
    assert ('<td class="mono">cn-national/steel-hr</td><td class="num">2.00</td>'
            '<td class="num">2.50</td><td class="num">25.0</td>') in page  # fmt: skip
    assert ('<td class="mono">urn:openpcf:product:acme:coil</td><td class="num">3.00</td>'
            '<td class="num">3.75</td>') in page  # fmt: skip
    assert '<p id="preview-count">2 footprint(s) depend on changed factors' in page
    # the company's stored footprint did not change, and still names version 1
    again = ctx.client.get(f"/calculations/{calc['id']}", headers=acme).json()
    assert again["pcf"]["value"] == pytest.approx(3.0)
    # a company's own published set stays its own
    beta = ctx.world.auth("beta/member")
    own = {"name": "beta-own", "version": "1", "title": "B", "factors": [NEW_FACTOR]}
    assert ctx.client.post("/factor-sets", json=own, headers=beta).status_code == 201
    assert ctx.client.post("/factor-sets/beta-own/1/publish",
                           headers=ctx.world.auth("beta/admin")).status_code == 200  # fmt: skip
    labels = [s["label"] for s in ctx.client.get("/factor-sets", headers=acme).json()]
    assert "beta:beta-own@1" not in labels


def test_a_green_certificate_is_claimed_once_nationally(ctx: Ctx) -> None:
    reg = ctx.world.auth("regulator/member")
    csv_headers = {"content-type": "text/csv"}
    # a company cannot import issuance records
    r = ctx.client.post("/green-certificates/issuances", content=ISSUANCES,
                        headers=ctx.world.auth("acme/admin") | csv_headers)  # fmt: skip
    assert r.status_code == 403
    bad = ISSUANCES.replace("2025-02-28,GEC platform\nGEC-NM-2", "2025-02-30,X\nGEC-NM-2")
    r = ctx.client.post("/green-certificates/issuances", content=bad, headers=reg | csv_headers)
    assert r.status_code == 422
    assert r.json()["details"] == {"file": "request body", "line": 3, "field": "period_end"}
    r = ctx.client.post("/green-certificates/issuances", content=ISSUANCES,
                        headers=reg | csv_headers)  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["added"] == 3
    a = _product(ctx, "acme", "a", GEC_MODEL.format(name="A", cert="GEC-NM-1", mwh=2, gen="wind"))
    b = _product(ctx, "beta", "b", GEC_MODEL.format(name="B", cert="GEC-NM-1", mwh=2, gen="wind"))
    r = ctx.client.post(f"/products/{a}/calculations", json={},
                        headers=ctx.world.auth("acme/member"))  # fmt: skip
    assert r.status_code == 201, r.text
    r = ctx.client.post(f"/products/{b}/calculations", json={},
                        headers=ctx.world.auth("beta/member"))  # fmt: skip
    assert r.status_code == 422
    assert r.json()["message"] == "certificate GEC-NM-1 (input 'Power') is already claimed"
    assert "acme" not in r.text
    # more than issued, another generation type, and an unknown id are refused too
    for cert, mwh, gen, why in (
        ("GEC-NM-2", 1.5, "wind", "1500 kWh; 1000 kWh were issued"),
        ("GEC-QH-1", 1, "wind", "was issued for solar-pv generation"),
        ("GEC-XX-9", 1, "wind", "not in the imported issuance records"),
    ):
        urn = _product(ctx, "beta", f"b-{cert.lower()}",
                       GEC_MODEL.format(name="B", cert=cert, mwh=mwh, gen=gen))  # fmt: skip
        r = ctx.client.post(f"/products/{urn}/calculations", json={},
                            headers=ctx.world.auth("beta/member"))  # fmt: skip
        assert r.status_code == 422 and why in r.json()["message"], r.text
    # the ledger holds the import, the claim and every refusal, in order
    ledger = ctx.client.get("/ledger/entries?limit=100", headers=ctx.world.auth("regulator/admin"))
    assert ledger.status_code == 200, ledger.text
    kinds = [(e["kind"], e["payload"].get("tenant"), e["payload"].get("certificate_id"))
             for e in ledger.json()]  # fmt: skip
    assert kinds == [
        ("green-certificate.issuance-imported", None, None),
        ("green-certificate.claimed", "acme", "GEC-NM-1"),
        ("green-certificate.refused", "beta", "GEC-NM-1"),
        ("green-certificate.refused", "beta", "GEC-NM-2"),
        ("green-certificate.refused", "beta", "GEC-QH-1"),
        ("green-certificate.refused", "beta", "GEC-XX-9"),
    ]
    # the regulator's view: claims by province and generation type
    summary = ctx.client.get("/green-certificates/summary", headers=reg).json()
    assert summary["groups"] == [{"province": "CN-NM", "generation": "wind", "claims": 1,
                                  "kwh": 2000.0, "issued_kwh": 2000.0}]  # fmt: skip
    assert (summary["issued_certificates"], summary["issued_kwh"]) == (3, 4000.0)
    r = ctx.client.get("/green-certificates/summary", headers=ctx.world.auth("acme/admin"))
    assert r.status_code == 403
    # the regulator's page shows the same
    web = TestClient(ctx.client.app)
    sign_in(web, "admin@regulator.example")
    page = web.get("/regulate/green-certificates").text
    assert '<span class="value" id="gec-issued">3</span>' in page
    assert '<td>CN-NM</td><td>wind</td><td class="num">1</td>' in page
    assert [c["certificate_id"] for c in ctx.client.get(
        "/green-certificates/claims", headers=ctx.world.auth("beta/member")).json()] == []  # fmt: skip
