"""A product whose declared unit needs a mass it does not have (a piece, no
mass_per_declared_unit_kg) is not served over PACT, never with a mass of 0 or a guess, and its
owner is told why: in the product and calculation API and on the product's web page; other
tenants see none of it. Once the owner sets the mass, the footprint is served with it.

PACT v2.3 is told per version as well: a product without a UN CPC code, or declared per piece
(v2.3 has no such unit), is served over v3 but not v2, and the owner's notices say so."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.domain.platform import Role, TenantKind
from openpcf.services.platform import accounts
from openpcf.store.db import sessions
from tests.databases import empty_database
from tests.platform_world import World, add_tenant, make_world
from tests.web_world import PASSWORD, csrf_of, sign_in

# 1 piece = a bolt of 0.25 kg steel at 2.0 kg CO2e/kg: 0.25 × 2.0 = 0.5 kg CO2e per piece
MODEL = """
openpcf: 1
product: {name: Bolt, declared_unit: {amount: 1, unit: piece}, region: CN-JS, year: 2023}
inputs:
  - {name: Steel, stage: raw-materials, amount: 0.25, unit: kg,
     pcf: {value: 2.0, unit: kg CO2e/kg, source: supplier}}
"""
BOLT = "urn:openpcf:product:maker:bolt"  # private
V2_UNIT = {
    "code": "v2_unit",
    "versions": ["2"],
    "declared_unit": "1 piece",
    "message": "not shared over PACT v2: PACT v2.3 has no declared unit for piece; partners on "
    "v2 do not see it",
}
NUT = "urn:openpcf:product:maker:nut"  # public


@dataclass
class Ctx:
    app: object
    api: TestClient
    world: World
    calcs: dict[str, str]  # slug -> calculation id
    tokens: dict[str, str] = field(default_factory=dict)  # one per tenant: /auth/token limits

    def pact(self, tenant: str) -> dict[str, str]:
        if tenant not in self.tokens:
            cid, secret = self.world.clients[tenant]
            r = self.api.post(
                "/auth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
            )
            assert r.status_code == 200, r.text
            self.tokens[tenant] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[tenant]}"}

    def listed(self, tenant: str, version: str = "3") -> dict[str, dict]:
        r = self.api.get(f"/{version}/footprints", headers=self.pact(tenant))
        assert r.status_code == 200, r.text
        return {pf["id"]: pf for pf in r.json()["data"]}


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENPCF_PACT_WORKER", "0")
    with empty_database("sqlite", tmp_path_factory.mktemp("unshared")) as url:
        world = make_world(url, ("other",))
        add_tenant(world, "maker", TenantKind.enterprise, (Role.member,), password=PASSWORD)
        creds = accounts.create_client(sessions(url)(), accounts.operator("tests"), "maker", "erp")
        world.clients["maker"] = (creds.client_id, creds.client_secret)
        app = create_app(url)
        with TestClient(app) as api:
            auth = world.auth("maker/member")
            calcs = {}
            for slug, visibility in (("bolt", "private"), ("nut", "public")):
                new = {"slug": slug, "name": slug.title(), "visibility": visibility}
                assert api.post("/products", json=new, headers=auth).status_code == 201
                urn = f"urn:openpcf:product:maker:{slug}"
                r = api.post(
                    f"/products/{urn}/versions",
                    content=MODEL,
                    headers=auth | {"content-type": "application/yaml"},
                )
                assert r.status_code == 201, r.text
                r = api.post(
                    f"/products/{urn}/calculations", json={"profile": "pact-v3"}, headers=auth
                )
                assert r.status_code == 201, r.text
                assert r.json()["pcf"]["value"] == pytest.approx(0.5)
                calcs[slug] = r.json()["id"]
            yield Ctx(app, api, world, calcs)
    mp.undo()


def test_a_piece_without_mass_is_not_listed_and_its_owner_is_told_why(ctx: Ctx) -> None:
    listed = ctx.listed("maker")
    assert ctx.calcs["bolt"] not in listed and ctx.calcs["nut"] not in listed
    r = ctx.api.get(f"/3/footprints/{ctx.calcs['bolt']}", headers=ctx.pact("maker"))
    assert r.status_code == 404  # neither listed nor served alone, never with a mass of 0

    auth = ctx.world.auth("maker/member")
    product = ctx.api.get(f"/products/{BOLT}", headers=auth).json()
    assert product["mass_per_declared_unit_kg"] is None
    [notice, v2] = product["pact_notices"]  # v3's reason, then v2's own (no piece in v2.3)
    assert notice["code"] == "mass_unknown" and notice["declared_unit"] == "1 piece"
    assert notice["calculations"] == [ctx.calcs["bolt"]] and notice["versions"] == ["3"]
    assert notice["message"] == (
        "not shared over PACT: its declared unit (1 piece) needs productMassPerDeclaredUnit; "
        "set the product's mass per declared unit (mass_per_declared_unit_kg, kg in 1 piece)"
    )
    assert v2 == V2_UNIT | {"calculations": [ctx.calcs["bolt"]]}
    mine = {p["urn"]: p for p in ctx.api.get("/products", headers=auth).json()}
    assert mine[BOLT]["pact_notices"] == [notice, v2] and mine[NUT]["pact_notices"][0]["code"] == (
        "mass_unknown"
    )
    [calc] = ctx.api.get(f"/products/{BOLT}/calculations", headers=auth).json()
    assert calc["pact_notice"] == notice and calc["pact_notices"] == [notice, v2]


def test_the_owners_web_page_shows_the_notice_in_english_and_chinese(ctx: Ctx) -> None:
    with TestClient(ctx.app) as web:  # type: ignore[arg-type]
        sign_in(web, "member@maker.example")
        web.cookies.set("lang", "en")
        page = web.get("/app/products/bolt").text
        assert 'id="pact-notices"' in page
        assert "its declared unit (1 piece) needs productMassPerDeclaredUnit" in page
        assert "not shared over PACT" in web.get("/app/products").text  # the list's badge
        web.cookies.set("lang", "zh")
        page = web.get("/app/products/bolt").text
        assert "未通过 PACT 共享" in page and "其声明单位（1 piece）需要" in page


def test_other_tenants_see_nothing_of_it(ctx: Ctx) -> None:
    auth = ctx.world.auth("other/member")
    assert ctx.api.get(f"/products/{BOLT}", headers=auth).status_code == 404  # private
    assert ctx.api.get(f"/products/{BOLT}/calculations", headers=auth).status_code == 404
    public = ctx.api.get(f"/products/{NUT}", headers=auth).json()  # public: no owner's notice
    assert public["pact_notices"] == []
    [calc] = ctx.api.get(f"/products/{NUT}/calculations", headers=auth).json()
    assert calc["pact_notice"] is None and calc["pact_notices"] == []
    listed = ctx.api.get("/products", headers=auth).json()
    assert BOLT not in {p["urn"] for p in listed}
    assert all(p["pact_notices"] == [] for p in listed)
    assert ctx.calcs["bolt"] not in ctx.listed("other")


def test_a_mass_of_zero_or_not_a_number_is_refused(ctx: Ctx) -> None:
    auth = ctx.world.auth("maker/member")
    for bad in (0, -1, "nan"):
        r = ctx.api.patch(
            f"/products/{BOLT}", json={"mass_per_declared_unit_kg": bad}, headers=auth
        )
        assert r.status_code == 422, r.text
        assert "mass_per_declared_unit_kg" in r.text
    assert ctx.api.get(f"/products/{BOLT}", headers=auth).json()["pact_notices"] != []


def test_once_the_mass_is_set_the_footprint_is_served_with_it(ctx: Ctx) -> None:
    auth = ctx.world.auth("maker/member")
    r = ctx.api.patch(f"/products/{BOLT}", json={"mass_per_declared_unit_kg": 0.25}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["mass_per_declared_unit_kg"] == 0.25
    # served over v3 now; v2.3 still has no piece, which is all the owner is told
    assert r.json()["pact_notices"] == [V2_UNIT | {"calculations": [ctx.calcs["bolt"]]}]
    pf = ctx.listed("maker")[ctx.calcs["bolt"]]
    assert pf["pcf"]["declaredUnitOfMeasurement"] == "piece"
    assert pf["pcf"]["declaredUnitAmount"] == "1"
    assert pf["pcf"]["productMassPerDeclaredUnit"] == "0.25"
    assert pf["pcf"]["pcfExcludingBiogenicUptake"] == "0.5"  # 0.25 kg × 2.0 kg CO2e/kg
    assert ctx.calcs["bolt"] not in ctx.listed("other")  # still private
    assert ctx.calcs["bolt"] not in ctx.listed("maker", "2")
    [calc] = ctx.api.get(f"/products/{BOLT}/calculations", headers=auth).json()
    assert calc["pact_notice"] is None and [n["code"] for n in calc["pact_notices"]] == ["v2_unit"]
    # removed again (null): not served again, and the owner is told again
    r = ctx.api.patch(f"/products/{BOLT}", json={"mass_per_declared_unit_kg": None}, headers=auth)
    assert r.json()["mass_per_declared_unit_kg"] is None and r.json()["pact_notices"] != []
    assert ctx.calcs["bolt"] not in ctx.listed("maker")


def test_the_web_settings_form_sets_the_mass(ctx: Ctx) -> None:
    with TestClient(ctx.app) as web:  # type: ignore[arg-type]
        sign_in(web, "member@maker.example")
        page = web.get("/app/products/nut").text
        form = {"csrf_token": csrf_of(page), "name": "Nut", "visibility": "public"}
        r = web.post(
            "/app/products/nut/settings",
            data=form | {"mass_per_declared_unit_kg": "0,1"},
            follow_redirects=False,
        )
        assert r.status_code == 422 and "mass_per_declared_unit_kg" in r.text  # not a number
        r = web.post(
            "/app/products/nut/settings",
            data=form | {"mass_per_declared_unit_kg": " 0.1 "},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        page = web.get("/app/products/nut").text
        assert 'id="pact-notices"' not in page and 'value="0.1"' in page
    pf = ctx.listed("other")[ctx.calcs["nut"]]  # public: another tenant's partner reads it
    assert pf["pcf"]["productMassPerDeclaredUnit"] == "0.1"


# 1 kg plate of 1 kg steel at 2.0 kg CO2e/kg: 1 × 2.0 = 2.0 kg CO2e per kg (a mass unit: its
# own mass, so only v2's UN CPC code can be missing)
PLATE_MODEL = """
openpcf: 1
product: {name: Plate, declared_unit: {amount: 1, unit: kg}, region: CN-JS, year: 2023}
inputs:
  - {name: Steel, stage: raw-materials, amount: 1.0, unit: kg,
     pcf: {value: 2.0, unit: kg CO2e/kg, source: supplier}}
"""
# 1 l of paint of 1.2 kg resin at 3.0 kg CO2e/kg: 1.2 × 3.0 = 3.6 kg CO2e per liter
PAINT_MODEL = """
openpcf: 1
product: {name: Paint, declared_unit: {amount: 1, unit: l}, region: CN-JS, year: 2023}
inputs:
  - {name: Resin, stage: raw-materials, amount: 1.2, unit: kg,
     pcf: {value: 3.0, unit: kg CO2e/kg, source: supplier}}
"""
PLATE = "urn:openpcf:product:maker:plate"  # public, no CPC code
PAINT = "urn:openpcf:product:maker:paint"  # private, CPC 3511, no mass
NO_CPC = (
    "not shared over PACT v2: the product has no UN CPC code (productCategoryCpc); set it on "
    "the product (cpc)"
)


def _calculated(ctx: Ctx, new: dict, model: str, pcf: float) -> str:
    auth = ctx.world.auth("maker/member")
    assert ctx.api.post("/products", json=new, headers=auth).status_code == 201
    urn = f"urn:openpcf:product:maker:{new['slug']}"
    r = ctx.api.post(
        f"/products/{urn}/versions",
        content=model,
        headers=auth | {"content-type": "application/yaml"},
    )
    assert r.status_code == 201, r.text
    r = ctx.api.post(f"/products/{urn}/calculations", json={"profile": "pact-v3"}, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["pcf"]["value"] == pytest.approx(pcf)
    return r.json()["id"]


def test_a_product_without_cpc_is_served_over_v3_only_and_its_owner_is_told(ctx: Ctx) -> None:
    new = {"slug": "plate", "name": "Plate", "visibility": "public"}
    plate = ctx.calcs["plate"] = _calculated(ctx, new, PLATE_MODEL, 2.0)
    assert ctx.listed("maker")[plate]["pcf"]["pcfExcludingBiogenicUptake"] == "2"
    assert plate not in ctx.listed("maker", "2") and plate not in ctx.listed("other", "2")
    r = ctx.api.get(f"/2/footprints/{plate}", headers=ctx.pact("maker"))
    assert r.status_code == 404 and r.json()["code"] == "NoSuchFootprint"

    auth = ctx.world.auth("maker/member")
    notice = {"code": "v2_no_cpc", "versions": ["2"], "declared_unit": "1 kg",
              "message": NO_CPC, "calculations": [plate]}  # fmt: skip
    assert ctx.api.get(f"/products/{PLATE}", headers=auth).json()["pact_notices"] == [notice]
    [calc] = ctx.api.get(f"/products/{PLATE}/calculations", headers=auth).json()
    assert calc["pact_notice"] is None and calc["pact_notices"] == [notice]  # v3 serves it

    with TestClient(ctx.app) as web:  # type: ignore[arg-type]
        sign_in(web, "member@maker.example")
        web.cookies.set("lang", "en")
        page = web.get("/app/products/plate").text
        assert 'id="pact-v2-notices"' in page and 'id="pact-notices"' not in page
        assert "the product has no UN CPC code (productCategoryCpc)" in page
        rows = web.get("/app/products").text
        assert "not shared over PACT v2" in rows
        web.cookies.set("lang", "zh")
        page = web.get("/app/products/plate").text
        assert "未通过 PACT v2.3 共享" in page and "产品没有联合国 CPC 代码" in page


def test_other_tenants_see_no_v2_notice(ctx: Ctx) -> None:
    auth = ctx.world.auth("other/member")
    product = ctx.api.get(f"/products/{PLATE}", headers=auth).json()  # public
    assert product["pact_notices"] == [] and product["cpc"] is None
    [calc] = ctx.api.get(f"/products/{PLATE}/calculations", headers=auth).json()
    assert calc["pact_notice"] is None and calc["pact_notices"] == []
    [nut] = [p for p in ctx.api.get("/products", headers=auth).json() if p["urn"] == NUT]
    assert nut["pact_notices"] == []  # a piece: the owner is told of v2.3, others are not
    assert ctx.calcs["plate"] in ctx.listed("other")  # public: served over v3


def test_setting_the_cpc_serves_it_over_v2(ctx: Ctx) -> None:
    auth = ctx.world.auth("maker/member")
    r = ctx.api.patch(f"/products/{PLATE}", json={"cpc": "4121"}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["cpc"] == "4121" and r.json()["pact_notices"] == []
    for tenant in ("maker", "other"):  # public: the other tenant's v2 partner reads it too
        pf = ctx.listed(tenant, "2")[ctx.calcs["plate"]]
        assert pf["productCategoryCpc"] == "4121"
        assert pf["pcf"]["declaredUnit"] == "kilogram" and pf["pcf"]["unitaryProductAmount"] == "1"
        assert pf["pcf"]["pCfExcludingBiogenic"] == "2"  # 1 kg × 2.0 kg CO2e/kg
    [calc] = ctx.api.get(f"/products/{PLATE}/calculations", headers=auth).json()
    assert calc["pact_notices"] == []
    with TestClient(ctx.app) as web:  # type: ignore[arg-type]
        sign_in(web, "member@maker.example")
        assert 'id="pact-v2-notices"' not in web.get("/app/products/plate").text
    # removed again ("" removes it): not served over v2 again, and the owner is told again
    r = ctx.api.patch(f"/products/{PLATE}", json={"cpc": ""}, headers=auth)
    assert [n["code"] for n in r.json()["pact_notices"]] == ["v2_no_cpc"]
    assert ctx.calcs["plate"] not in ctx.listed("maker", "2")


def test_the_web_settings_form_sets_the_cpc(ctx: Ctx) -> None:
    with TestClient(ctx.app) as web:  # type: ignore[arg-type]
        sign_in(web, "member@maker.example")
        page = web.get("/app/products/plate").text
        form = {"csrf_token": csrf_of(page), "name": "Plate", "visibility": "public"}
        r = web.post("/app/products/plate/settings", data=form | {"cpc": "41x"})
        assert r.status_code == 422 and "cpc" in r.text  # not 1-5 digits
        r = web.post(
            "/app/products/plate/settings", data=form | {"cpc": " 4121 "}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        assert 'id="pact-v2-notices"' not in web.get("/app/products/plate").text
    assert ctx.calcs["plate"] in ctx.listed("maker", "2")


def test_a_piece_is_never_served_over_v2_even_with_a_cpc(ctx: Ctx) -> None:
    auth = ctx.world.auth("maker/member")
    r = ctx.api.patch(f"/products/{NUT}", json={"cpc": "4299"}, headers=auth)
    assert r.status_code == 200, r.text  # the nut has its mass (0.1 kg, set by the web form)
    assert r.json()["pact_notices"] == [V2_UNIT | {"calculations": [ctx.calcs["nut"]]}]
    assert ctx.calcs["nut"] in ctx.listed("maker") and ctx.calcs["nut"] not in ctx.listed(
        "maker", "2"
    )
    with TestClient(ctx.app) as web:  # type: ignore[arg-type]
        sign_in(web, "member@maker.example")
        web.cookies.set("lang", "en")
        page = web.get("/app/products/nut").text
        assert "PACT v2.3 has no declared unit for piece; partners on v2 do not see it." in page
        web.cookies.set("lang", "zh")
        assert "PACT v2.3 没有与 piece 对应的声明单位" in web.get("/app/products/nut").text


def test_a_reason_both_versions_share_is_one_notice_naming_both(ctx: Ctx) -> None:
    new = {"slug": "paint", "name": "Paint", "visibility": "private", "cpc": "3511"}
    paint = _calculated(ctx, new, PAINT_MODEL, 3.6)
    auth = ctx.world.auth("maker/member")
    [notice] = ctx.api.get(f"/products/{PAINT}", headers=auth).json()["pact_notices"]
    assert notice["code"] == "mass_unknown" and notice["versions"] == ["2", "3"]
    assert notice["declared_unit"] == "1 liter" and notice["calculations"] == [paint]
    assert paint not in ctx.listed("maker") and paint not in ctx.listed("maker", "2")
