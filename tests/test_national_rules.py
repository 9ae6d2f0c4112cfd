"""Product rules as published data and the national product list, against SQLite and
PostgreSQL: a regulator's rule version is used by calculations from its date and recorded;
a version published after a certificate leaves that certificate's rule version unchanged; the
product list names every product of shared/data/china_pcf_product_lists.csv with its status."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.domain.platform import Role, TenantKind
from openpcf.domain.result import Result
from openpcf.io.label import label_svg
from openpcf.rules.catalogue import bundled_profiles, bundled_rules
from openpcf.services.catalogue.rule_versions import BUNDLED
from tests.platform_world import World, acknowledgements, add_tenant, make_world
from tests.web_world import PASSWORD, csrf_of, sign_in

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
URN = "urn:openpcf:product:acme:clinker-a"
# 1 t of clinker from 1.55 t of limestone (process CO2 is what the clinker rule asks for; the
# model states it directly): 0.5 t CO2 = 500 kg CO2e per t.
MODEL = """
openpcf: 1
product: {name: Clinker A, rule: clinker, declared_unit: {amount: 1, unit: t}, region: CN-JS,
          year: 2023}
inputs:
  - {name: limestone, stage: raw-materials, amount: 1.55, unit: t,
     pcf: {value: 10, unit: kg CO2e/t, source: quarry}}
  - {name: Power, stage: production, amount: 1, unit: kWh, electricity: {}}
  - {name: coal, stage: production, amount: 1, unit: kg, pcf: {value: 0, unit: kg CO2e/kg, source: x}}
emissions:
  - {name: calcination, stage: production, gas: CO2, amount: 500, unit: kg}
"""
# Named products the issue asks rules for, as the shared list spells them.
NAMED = ("desktop computers", "notebook computers", "room air conditioners", "textiles", "tyres",
         "ammonium phosphate", "wood products", "small-power electric motors", "calcium carbide",
         "polysilicon", "fuel-cell vehicles")  # fmt: skip


@dataclass
class Ctx:
    client: TestClient
    world: World


@pytest.fixture
def ctx(database_url: str) -> Iterator[Ctx]:
    world = make_world(database_url)
    add_tenant(world, "gov", TenantKind.regulator, (Role.admin,), PASSWORD)
    add_tenant(world, "cnverify", TenantKind.verifier, (Role.verifier,))
    with TestClient(create_app(database_url)) as client:
        yield Ctx(client, world)


def _clinker_v2(grades: list[dict]) -> str:
    data = bundled_rules()["clinker"].model_dump(mode="json")
    data["benchmark_classes"] = grades
    return yaml.safe_dump(data, allow_unicode=True)


def _clinker_product(ctx: Ctx) -> None:
    acme = ctx.world.auth("acme/member")
    r = ctx.client.post("/products", json={"slug": "clinker-a", "name": "Clinker A"}, headers=acme)
    assert r.status_code == 201, r.text
    r = ctx.client.post(f"/products/{URN}/versions", content=MODEL,
                        headers=acme | {"content-type": "application/yaml"})  # fmt: skip
    assert r.status_code == 201, r.text


def _calc(ctx: Ctx) -> dict:
    r = ctx.client.post(f"/products/{URN}/calculations", json={"allow_violations": True},
                        headers=ctx.world.auth("acme/member"))  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def _certify(ctx: Ctx, calc_id: str) -> str:
    r = ctx.client.post(
        "/certification/submissions",
        headers=ctx.world.auth("acme/member"),
        json={"product": URN, "calculation_id": calc_id, "verifier": "cnverify"},
    )
    assert r.status_code == 201, r.text
    sub = r.json()["id"]
    for who, action in (("acme/member", "submit"), ("cnverify/verifier", "start_review"),
                        ("cnverify/verifier", "certify")):  # fmt: skip
        r = ctx.client.post(
            f"/certification/submissions/{sub}/transitions",
            json={
                "action": action,
                "comment": "ok",
                **(
                    {"acknowledgements": acknowledgements(ctx.client, sub, ctx.world.auth(who))}
                    if action == "certify"
                    else {}
                ),
            },
            headers=ctx.world.auth(who),
        )
        assert r.status_code == 200, r.text
    return r.json()["certificate_id"]


def test_a_published_rule_version_is_used_from_its_date_and_recorded(ctx: Ctx) -> None:
    reg, acme = ctx.world.auth("gov/admin"), ctx.world.auth("acme/member")
    _clinker_product(ctx)
    first = _calc(ctx)
    assert first["result"]["rule_version"] == BUNDLED
    assert first["result"]["grade"] is None  # the bundled clinker rule has no grades
    certificate = _certify(ctx, first["id"])
    yaml_headers = reg | {"content-type": "application/yaml"}
    # a company cannot publish rules; a document breaking the schema says where
    r = ctx.client.post(
        "/rules/clinker/versions?version=2&valid_from=2020-01-01",
        content=_clinker_v2([]),
        headers=acme | {"content-type": "application/yaml"},
    )
    assert r.status_code == 403
    r = ctx.client.post("/rules/clinker/versions?version=2&valid_from=2020-01-01",
                        content="id: clinker\nname: x\n", headers=yaml_headers)  # fmt: skip
    assert r.status_code == 422 and "does not fit the product-rule schema" in r.text
    # version 2: grade A up to 800 kg CO2e/t, in force from yesterday
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    grades = [{"grade": "A", "max_kg_co2e": 800.0}]
    r = ctx.client.post(f"/rules/clinker/versions?version=2&valid_from={yesterday}",
                        content=_clinker_v2(grades), headers=yaml_headers)  # fmt: skip
    assert r.status_code == 201, r.text
    assert _calc(ctx)["result"]["rule_version"] == BUNDLED  # a draft is not in force
    assert ctx.client.post("/rules/clinker/versions/2/publish", headers=reg).status_code == 200
    # published: immutable, and a new calculation uses and records it
    assert ctx.client.post("/rules/clinker/versions/2/publish", headers=reg).status_code == 409
    second = _calc(ctx)
    assert second["result"]["rule_version"] == "2"
    # 1.55 t × 10 + 500 = 515.5 kg CO2e/t plus 1 kWh of grid power: under 800 -> grade A
    assert second["pcf"]["value"] < 800 and second["result"]["grade"] == "A"
    diff = ctx.client.get("/rules/clinker/versions/2/diff?against=bundled").json()
    assert diff["changed"] == {"benchmark_classes": {"old": [], "new": grades}}
    # the first calculation keeps the version it used
    again = ctx.client.get(f"/calculations/{first['id']}", headers=acme).json()
    assert again["result"]["rule_version"] == BUNDLED
    # and the certificate issued before version 2 still names the version it was computed under
    cert = ctx.client.get(f"/certification/certificates/{certificate}", headers=acme).json()
    assert cert["document"]["rule_version"] == BUNDLED and cert["integrity"]["ok"] is True
    # a profile version too: gb-t-24067 under AR6 from yesterday changes the GWP set used
    profile = bundled_profiles()["gb-t-24067"].model_dump(mode="json") | {"gwp": "AR6"}
    r = ctx.client.post(
        f"/profiles/gb-t-24067/versions?version=2026.1&valid_from={yesterday}",
        content=yaml.safe_dump(profile, allow_unicode=True),
        headers=yaml_headers,
    )
    assert r.status_code == 201, r.text
    assert ctx.client.post("/profiles/gb-t-24067/versions/2026.1/publish",
                           headers=reg).status_code == 200  # fmt: skip
    third = _calc(ctx)["result"]
    assert (third["profile_version"], third["gwp"]) == ("2026.1", "AR6")
    assert second["result"]["profile_version"] == BUNDLED and second["result"]["gwp"] == "AR5"
    # withdrawn from today: the bundled rule is in force again
    r = ctx.client.post(f"/rules/clinker/versions/2/withdraw?on={date.today().isoformat()}",
                        headers=reg)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert _calc(ctx)["result"]["rule_version"] == BUNDLED


def test_the_product_list_names_every_shared_product_with_its_status(ctx: Ctx) -> None:
    path = SHARED / "china_pcf_product_lists.csv"
    if not path.is_file():
        pytest.skip(f"shared data not found at {path}")
    with path.open(encoding="utf-8") as f:
        shared = {(r["list_id"], int(r["seq"]), r["item_zh"]) for r in csv.DictReader(f)}
    body = ctx.client.get("/national/products").json()
    listed = {(i["list_id"], i["seq"], i["item_zh"]): i for i in body["items"]}
    assert shared <= set(listed), sorted(shared - set(listed))
    by_en = {i["item_en"]: i["status"] for i in body["items"]}
    for name in NAMED:
        assert by_en[name] == "published", name
    assert by_en["ferro-alloys"] == "missing"
    assert body["rules_published"] == len(bundled_rules())
    assert body["targets"][0] == {"year": 2027, "rules": 100,
                                  "progress": len(bundled_rules()) / 100}  # fmt: skip
    # a draft of the ferro-alloy rule moves that item to 'draft'
    data = bundled_rules()["calcium-carbide"].model_dump(mode="json") | {
        "id": "ferro-alloy", "name": "Ferro-alloy", "name_zh": "铁合金"}  # fmt: skip
    r = ctx.client.post(
        "/rules/ferro-alloy/versions?version=1&valid_from=2026-01-01",
        content=yaml.safe_dump(data, allow_unicode=True),
        headers=ctx.world.auth("gov/admin") | {"content-type": "application/yaml"},
    )
    assert r.status_code == 201, r.text
    body = ctx.client.get("/national/products").json()
    assert {i["item_en"]: i["status"] for i in body["items"]}["ferro-alloys"] == "draft"
    # the regulator's page lists every named product with its status
    web = TestClient(ctx.client.app)
    sign_in(web, "admin@gov.example")
    page = web.get("/regulate/products").text
    for _, _, item_zh in shared:
        assert item_zh in page
    assert page.count('data-status="') == len(body["items"])
    # the web form uploads a draft (same schema: a broken one is refused, saying why), and
    # publishes it; the ferro-alloys item is then covered
    form = {"csrf_token": csrf_of(page), "rule_id": "ferro-alloy", "version": "2",
            "valid_from": "2026-01-01", "document": "id: ferro-alloy\n"}  # fmt: skip
    r = web.post("/regulate/rules/upload", data=form)
    assert r.status_code == 422 and "does not fit the product-rule schema" in r.text
    r = web.post("/regulate/rules/upload", data=form | {"document": yaml.safe_dump(data)},
                 follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    r = web.post(
        "/regulate/rules/publish",
        follow_redirects=False,
        data={"csrf_token": form["csrf_token"], "rule_id": "ferro-alloy", "version": "2"},
    )
    assert r.status_code == 303, r.text
    body = ctx.client.get("/national/products").json()
    assert {i["item_en"]: i["status"] for i in body["items"]}["ferro-alloys"] == "published"
    assert body["rules_published"] == len(bundled_rules()) + 1


def test_procurement_thresholds_grade_results_and_filter_the_registry(ctx: Ctx) -> None:
    reg, acme = ctx.world.auth("gov/admin"), ctx.world.auth("acme/member")
    _clinker_product(ctx)
    today = date.today().isoformat()
    setting = {"rule_id": "clinker", "declared_unit": "1000 kg", "threshold_kg_co2e": 600,
               "grades": [{"grade": "1级", "max_kg_co2e": 520}, {"grade": "2级", "max_kg_co2e": 700}],
               "source": "test setting (hand-made numbers)", "valid_from": today}  # fmt: skip
    r = ctx.client.post("/national/procurement-thresholds", json=setting, headers=acme)
    assert r.status_code == 403
    r = ctx.client.post("/national/procurement-thresholds", json=setting, headers=reg)
    assert r.status_code == 201, r.text
    assert r.json()["declared_unit"] == "1000 kg"
    # the clinker model declares 1 t, a different declared unit: nothing applies to it
    assert _calc(ctx)["result"]["procurement"] is None
    r = ctx.client.post("/national/procurement-thresholds", json=setting | {"declared_unit": "1 t"},
                        headers=reg)  # fmt: skip
    assert r.status_code == 201, r.text
    calc = _calc(ctx)
    # 1.55 t × 10 + 500 = 515.5 kg CO2e, plus 1 kWh of grid power (< 1 kg): under 520 -> 1级,
    # and under the 600 threshold
    assert 515.5 < calc["pcf"]["value"] < 516.5
    check = calc["result"]["procurement"]
    assert (check["grade"], check["meets_threshold"]) == ("1级", True)
    assert calc["result"]["grade"] == "1级"
    assert "等级 Grade  1级 · 符合绿色采购 meets procurement" in label_svg(
        Result.model_validate(calc["result"])
    )
    # certified and published, the registry shows the grade and filters on the threshold
    cert = _certify(ctx, calc["id"])
    sub = ctx.client.get("/certification/submissions", headers=acme).json()[0]["id"]
    r = ctx.client.post(
        f"/certification/submissions/{sub}/transitions",
        json={"action": "publish"},
        headers=ctx.world.auth("acme/admin"),
    )
    assert r.status_code == 200, r.text
    meets = ctx.client.get("/registry/certificates?meets_threshold=true").json()
    assert [(e["certificate_id"], e["grade"], e["meets_procurement"]) for e in meets] == [
        (cert, "1级", True)]  # fmt: skip
    assert ctx.client.get("/registry/certificates?meets_threshold=false").json() == []
    # a stricter threshold from today (the newer setting wins): it no longer meets it
    r = ctx.client.post("/national/procurement-thresholds",
                        json=setting | {"declared_unit": "1 t", "threshold_kg_co2e": 510},
                        headers=reg)  # fmt: skip
    assert r.status_code == 201
    assert ctx.client.get("/registry/certificates?meets_threshold=true").json() == []
    (entry,) = ctx.client.get("/registry/certificates?meets_threshold=false").json()
    assert entry["meets_procurement"] is False
