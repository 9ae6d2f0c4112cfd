"""The certification workflow through the API, on SQLite and PostgreSQL: a footprint goes from
an enterprise's draft to a verifier's signature to the public registry; every refusal (wrong
role, wrong tenant, wrong state) is checked; a footprint changed after certification is found.

Tenants: `acme` and `other` (enterprises), `cnverify` and `otherbody` (verification bodies),
`mee` (a regulator); each with a user per role (tests/platform_world.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from openpcf.api.app import create_app
from openpcf.domain.certification import check_document
from openpcf.domain.platform import Role, TenantKind
from openpcf.services.platform import accounts
from openpcf.store.db import sessions
from tests.databases import KINDS, empty_database
from tests.platform_world import World, make_world

BOM_LINE = "ACME-SECRET-BOM-LINE"
# raw-materials: 1.5 kg x 2.0 kg CO2e/kg = 3.0 kg CO2e (the power line adds production only)
MODEL = f"""
openpcf: 1
product: {{name: Widget, declared_unit: {{amount: 1, unit: kg}}, region: CN-JS, year: 2023}}
inputs:
  - {{name: {BOM_LINE}, stage: raw-materials, amount: 1.5, unit: kg,
     pcf: {{value: 2.0, unit: kg CO2e/kg, source: supplier}}}}
  - {{name: Power, stage: production, amount: 10, unit: kWh, electricity: {{basis: grid-co2}}}}
"""
URN = "urn:openpcf:product:acme:widget"
# The model's open findings under gb-t-24067 (no dq ratings; a grid-co2 basis where the profile
# asks for footprint): certify acknowledges each with a comment.
ACKS = [
    {"finding": "gb-t-24067/DATA_QUALITY_MISSING@4", "comment": "ratings follow with the audit"},
    {"finding": "gb-t-24067/ELECTRICITY_BASIS@7", "comment": "grid-co2 agreed for this buyer"},
]
BODIES = (("cnverify", TenantKind.verifier), ("otherbody", TenantKind.verifier),
          ("mee", TenantKind.regulator))  # fmt: skip


@dataclass
class Ctx:
    client: TestClient
    world: World
    url: str
    calcs: list[str] = field(default_factory=list)

    def as_(self, key: str) -> dict[str, str]:
        return self.world.auth(key)

    def act(self, sub: str, who: str, action: str, **extra: object) -> object:
        if action == "certify":  # the model's open findings, acknowledged (docs/examples.md)
            extra.setdefault("acknowledgements", ACKS)
        return self.client.post(
            f"/certification/submissions/{sub}/transitions",
            json={"action": action, **extra},
            headers=self.as_(who),
        )

    def new_submission(self, verifier: str = "cnverify") -> str:
        r = self.client.post(
            "/certification/submissions",
            json={
                "product": URN,
                "calculation_id": self.calcs[0],
                "verifier": verifier,
                "comment": "first draft",
            },
            headers=self.as_("acme/member"),
        )
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def certified(self) -> tuple[str, str]:
        """A new submission taken to certified: (submission id, certificate id)."""
        sub = self.new_submission()
        for who, action in (("acme/member", "submit"), ("cnverify/verifier", "start_review")):
            assert self.act(sub, who, action).status_code == 200  # type: ignore[attr-defined]
        r = self.act(sub, "cnverify/verifier", "certify", comment="checked on site")
        assert r.status_code == 200, r.text  # type: ignore[attr-defined]
        return sub, r.json()["certificate_id"]  # type: ignore[attr-defined]


@pytest.fixture(scope="module", params=KINDS)
def ctx(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    with empty_database(request.param, tmp_path_factory.mktemp("certification")) as url:
        world = make_world(url)
        factory = sessions(url)
        op = accounts.operator("tests")
        for slug, kind in BODIES:
            accounts.create_tenant(factory(), op, slug, slug.title(), kind)
            for role in Role:
                new = accounts.create_user(
                    factory(), op, slug, f"{role.value}@{slug}.example", role
                )
                world.tokens[f"{slug}/{role.value}"] = new.token.token
        with TestClient(create_app(url)) as client:
            ctx = Ctx(client, world, url)
            auth = ctx.as_("acme/member")
            r = client.post("/products", json={"slug": "widget", "name": "Widget"}, headers=auth)
            assert r.status_code == 201, r.text
            r = client.post(f"/products/{URN}/versions", content=MODEL,
                            headers=auth | {"content-type": "application/yaml"})  # fmt: skip
            assert r.status_code == 201, r.text
            for _ in range(2):
                r = client.post(f"/products/{URN}/calculations", headers=auth)
                assert r.status_code == 201, r.text
                ctx.calcs.append(r.json()["id"])
            yield ctx


def test_a_footprint_goes_from_draft_to_published_with_a_signed_certificate(ctx: Ctx) -> None:
    c = ctx.client
    sub = ctx.new_submission()
    # the body does not see a draft
    r = c.get(f"/certification/submissions/{sub}", headers=ctx.as_("cnverify/verifier"))
    assert r.status_code == 404
    steps = [
        ("acme/member", "submit", "submitted"),
        ("cnverify/verifier", "start_review", "under_review"),
        ("cnverify/verifier", "certify", "certified"),
        ("acme/admin", "publish", "published"),
    ]
    for who, action, state in steps:
        r = ctx.act(sub, who, action, comment=f"{action} by {who}")
        assert r.status_code == 200, r.text
        assert r.json()["state"] == state and r.json()["status"] == state
    info = r.json()
    history = [(h["action"], h["from_state"], h["to_state"], h["role"]) for h in info["history"]]
    assert history == [
        ("create", None, "draft", "member"),
        ("submit", "draft", "submitted", "member"),
        ("start_review", "submitted", "under_review", "verifier"),
        ("certify", "under_review", "certified", "verifier"),
        ("publish", "certified", "published", "admin"),
    ]
    assert info["history"][3]["comment"] == "certify by cnverify/verifier"
    cert_id = info["certificate_id"]

    # the certificate: public once published, signed, and the file checks offline
    cert = c.get(f"/certification/certificates/{cert_id}").json()
    assert cert["status"] == "published" and cert["integrity"]["ok"] is True
    doc = cert["document"]
    calc = c.get(f"/calculations/{ctx.calcs[0]}", headers=ctx.as_("acme/member")).json()
    assert doc["pcf"]["value"] == calc["pcf"]["value"]
    assert doc["stages"]["raw-materials"] == pytest.approx(3.0)  # 1.5 kg x 2.0 kg CO2e/kg
    assert doc["product"]["region"] == "CN-JS" and doc["rule"] == calc["rule"]
    assert doc["model_versions"][0]["sha256"] == calc["model_versions"][0]["sha256"]
    assert doc["verifier"] == {"body": "cnverify", "name": "Cnverify",
                               "user": "verifier@cnverify.example"}  # fmt: skip
    keys = c.get("/certification/keys?body=cnverify").json()
    assert [k["fingerprint"] for k in keys] == [doc["key"]["fingerprint"]]
    data = c.get(f"/registry/certificates/{cert_id}/file").content
    _, checks = check_document(data, datetime.now(UTC), {doc["key"]["fingerprint"]})
    assert [(x.name, x.ok) for x in checks] == [
        ("format", True), ("canonical form", True), ("signature", True), ("validity", True),
        ("trusted key", True),
    ]  # fmt: skip
    assert BOM_LINE not in data.decode()

    # the registry lists it; the public page holds no bill of materials
    found = c.get("/registry/certificates", params={"q": "widget", "unit": "kg"}).json()
    assert [e["certificate_id"] for e in found] == [cert_id]
    assert found[0]["url"].endswith(f"/p/{cert_id}") and found[0]["province"] == "CN-JS"
    assert c.get("/registry/certificates", params={"province": "CN-BJ"}).json() == []
    page = c.get(f"/registry/certificates/{cert_id}")
    assert page.status_code == 200 and BOM_LINE not in page.text

    # the ledger holds the issue and the publication, and is intact
    reg = ctx.as_("mee/admin")
    kinds = [e["kind"] for e in c.get("/ledger/entries?limit=1000", headers=reg).json()
             if e["payload"].get("certificate_id") == cert_id]  # fmt: skip
    assert kinds == ["certificate.issued", "certificate.published"]
    assert c.get("/ledger/verify", headers=reg).json()["ok"] is True
    head = c.get("/ledger/head").json()
    assert head["seq"] >= 2 and len(head["hash"]) == 64


def test_each_transition_refuses_the_wrong_role_and_party(ctx: Ctx) -> None:
    sub = ctx.new_submission()
    wrong = {
        "submit": ["acme/verifier", "cnverify/verifier", "mee/admin", "other/admin"],
        "start_review": ["acme/admin", "cnverify/admin", "cnverify/member", "mee/admin"],
        "certify": ["acme/admin", "cnverify/admin", "mee/admin"],
        "publish": ["acme/member", "cnverify/verifier", "mee/admin"],
        "revoke": ["acme/admin", "cnverify/member", "mee/verifier", "mee/member"],
    }
    plan = [("submit", "acme/member"), ("start_review", "cnverify/verifier"),
            ("certify", "cnverify/verifier"), ("publish", "acme/admin")]  # fmt: skip
    for action, right in [*plan, ("revoke", "mee/admin")]:
        for who in wrong[action]:
            r = ctx.act(sub, who, action, comment="try")
            # a draft is seen by its enterprise only; another enterprise never sees it
            outside = not who.startswith("acme/")
            expected = 404 if (outside and action == "submit") or who.startswith("other/") else 403
            assert r.status_code == expected, f"{who} {action}: {r.text}"
            body = r.json()
            assert body["code"] in ("forbidden", "not_found") and body["message"]
        r = ctx.act(sub, right, action, comment="ok")
        assert r.status_code == 200, f"{right} {action}: {r.text}"
    assert r.json()["status"] == "revoked"


def test_a_transition_from_the_wrong_state_is_a_conflict(ctx: Ctx) -> None:
    sub = ctx.new_submission()
    for who, action in (("cnverify/verifier", "certify"), ("acme/admin", "publish")):
        r = ctx.act(sub, who, action)
        # a draft is invisible to the body: not found; the enterprise gets a conflict
        assert r.status_code == (404 if who.startswith("cnverify") else 409), r.text
    assert ctx.act(sub, "acme/member", "submit").status_code == 200
    r = ctx.act(sub, "acme/member", "submit")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert r.json()["details"]["state"] == "submitted"
    r = ctx.act(sub, "cnverify/verifier", "certify")
    assert r.status_code == 409 and "only from: under_review" in r.json()["message"]
    r = ctx.act(sub, "mee/admin", "revoke", comment="why")
    assert r.status_code == 409


def test_returning_and_revoking_need_a_comment(ctx: Ctx) -> None:
    sub = ctx.new_submission()
    assert ctx.act(sub, "acme/member", "submit").status_code == 200
    r = ctx.act(sub, "cnverify/verifier", "return")
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    r = ctx.act(sub, "cnverify/verifier", "return", comment="state the grid factor's year")
    assert r.status_code == 200 and r.json()["state"] == "draft"
    # resubmitted with the other calculation
    r = ctx.act(sub, "acme/member", "submit", calculation_id=ctx.calcs[1])
    assert r.status_code == 200 and r.json()["calculation_id"] == ctx.calcs[1]
    r = ctx.act(sub, "acme/member", "submit", calculation_id="nope")
    assert r.status_code == 409  # already submitted: the state is checked first
    _, cert_id = ctx.certified()
    sub2 = ctx.client.get(f"/certification/certificates/{cert_id}", headers=ctx.as_("acme/admin"))
    assert sub2.status_code == 200
    r = ctx.act(_submission_of(ctx, cert_id), "cnverify/verifier", "revoke", comment="  ")
    assert r.status_code == 422


def _submission_of(ctx: Ctx, cert_id: str) -> str:
    subs = ctx.client.get("/certification/submissions", headers=ctx.as_("acme/admin")).json()
    return next(s["id"] for s in subs if s["certificate_id"] == cert_id)


def test_who_sees_a_submission_and_its_evidence(ctx: Ctx) -> None:
    sub = ctx.new_submission()
    assert ctx.act(sub, "acme/member", "submit").status_code == 200
    url = f"/certification/submissions/{sub}"
    for who, status in (
        ("acme/verifier", 200), ("cnverify/verifier", 200), ("cnverify/admin", 200),
        ("mee/admin", 200), ("other/admin", 404), ("otherbody/verifier", 404),
    ):  # fmt: skip
        assert ctx.client.get(url, headers=ctx.as_(who)).status_code == status, who
    assert ctx.client.get(url).status_code == 401
    for who, status in (
        ("acme/member", 200), ("cnverify/verifier", 200), ("mee/admin", 403),
        ("other/admin", 404), ("otherbody/verifier", 404),
    ):  # fmt: skip
        r = ctx.client.get(f"{url}/evidence", headers=ctx.as_(who))
        assert r.status_code == status, f"{who}: {r.text}"
        if status == 200:
            ev = r.json()
            assert BOM_LINE in ev["model_versions"][0]["text"]
            assert ev["calculation"]["result"]["contributions"]
        else:
            assert BOM_LINE not in r.text
    assert ctx.client.get(f"{url}/evidence").status_code == 401
    listed = ctx.client.get("/certification/submissions", headers=ctx.as_("other/admin")).json()
    assert listed == []
    listed = ctx.client.get("/certification/submissions", headers=ctx.as_("otherbody/admin"))
    assert listed.json() == []


def test_only_an_enterprise_writer_submits_its_own_calculation(ctx: Ctx) -> None:
    c = ctx.client
    new = {"product": URN, "calculation_id": ctx.calcs[0], "verifier": "cnverify"}
    assert c.post("/certification/submissions", json=new).status_code == 401
    for who, status, code in (
        ("acme/verifier", 403, "forbidden"),
        ("other/admin", 404, "not_found"),  # another tenant's product
        ("cnverify/admin", 403, "forbidden"),  # a body submits nothing
    ):
        r = c.post("/certification/submissions", json=new, headers=ctx.as_(who))
        assert (r.status_code, r.json()["code"]) == (status, code), who
    for bad in ({"verifier": "other"}, {"verifier": "nobody"}, {"calculation_id": "x"}):
        r = c.post("/certification/submissions", json=new | bad, headers=ctx.as_("acme/admin"))
        assert r.status_code == 404, bad


def test_unpublished_certificates_are_not_public(ctx: Ctx) -> None:
    _, cert_id = ctx.certified()
    url = f"/certification/certificates/{cert_id}"
    for who, status in (
        (None, 404), ("other/admin", 404), ("otherbody/verifier", 404), ("acme/member", 200),
        ("cnverify/verifier", 200), ("mee/admin", 200),
    ):  # fmt: skip
        headers = ctx.as_(who) if who else {}
        assert ctx.client.get(url, headers=headers).status_code == status, who
    assert ctx.client.get(f"/registry/certificates/{cert_id}").status_code == 404
    assert cert_id not in ctx.client.get("/registry/certificates?limit=500").text


def test_a_footprint_changed_after_certification_is_flagged(ctx: Ctx) -> None:
    sub, cert_id = ctx.certified()
    assert ctx.act(sub, "acme/admin", "publish").status_code == 200
    assert ctx.client.get(f"/registry/certificates/{cert_id}").json()["integrity"]["ok"]
    calc_id = ctx.client.get(f"/certification/submissions/{sub}",
                             headers=ctx.as_("acme/admin")).json()["calculation_id"]  # fmt: skip
    _tamper(ctx.url, "calculations", "calculations_update",
            "UPDATE calculations SET result = replace(result, :old, :new) WHERE uuid = :id",
            {"old": '"raw-materials":3.0', "new": '"raw-materials":2.0', "id": calc_id})  # fmt: skip
    page = ctx.client.get(f"/registry/certificates/{cert_id}").json()
    assert page["integrity"]["ok"] is False and page["integrity"]["result_matches"] is False
    assert page["integrity"]["signature_valid"] is True
    assert "changed after certification" in page["integrity"]["message"]
    cert = ctx.client.get(f"/certification/certificates/{cert_id}").json()
    assert cert["integrity"]["result_matches"] is False


def test_revoked_and_expired_certificates_stay_in_the_registry(ctx: Ctx) -> None:
    sub, cert_id = ctx.certified()
    assert ctx.act(sub, "acme/admin", "publish").status_code == 200
    r = ctx.act(sub, "mee/admin", "revoke", comment="supplier data found wrong")
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    page = ctx.client.get(f"/registry/certificates/{cert_id}").json()
    assert page["status"] == "revoked" and page["revocation_reason"] == "supplier data found wrong"
    revoked = ctx.client.get("/registry/certificates?status=revoked&limit=500").json()
    assert cert_id in [e["certificate_id"] for e in revoked]
    reg = ctx.as_("mee/admin")
    entries = ctx.client.get("/ledger/entries?kind=certificate.revoked&limit=1000", headers=reg)
    assert cert_id in [e["payload"]["certificate_id"] for e in entries.json()]

    # time passes: the validity ends (the row's date is moved, as a clock would)
    sub2, cert2 = ctx.certified()
    assert ctx.act(sub2, "acme/admin", "publish").status_code == 200
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    _tamper(ctx.url, "certification_certificates", "certification_certificates_update",
            f"UPDATE certification_certificates SET valid_until = '{past}' "
            f"WHERE certificate_id = '{cert2}'")  # fmt: skip
    page = ctx.client.get(f"/registry/certificates/{cert2}").json()
    assert page["status"] == "expired"
    sub_info = ctx.client.get(f"/certification/submissions/{sub2}", headers=reg).json()
    assert sub_info["state"] == "published" and sub_info["status"] == "expired"
    expired = ctx.client.get("/registry/certificates?status=expired&limit=500").json()
    assert [e["certificate_id"] for e in expired] == [cert2]
    # an expired certificate may still be revoked
    r = ctx.act(sub2, "cnverify/verifier", "revoke", comment="superseded")
    assert r.status_code == 200 and r.json()["status"] == "revoked"


def test_regulators_alone_read_the_ledger_entries(ctx: Ctx) -> None:
    for who in ("acme/admin", "cnverify/admin", "mee/member"):
        r = ctx.client.get("/ledger/entries", headers=ctx.as_(who))
        assert r.status_code == 403 and r.json()["code"] == "forbidden", who
        assert ctx.client.get("/ledger/verify", headers=ctx.as_(who)).status_code == 403
    assert ctx.client.get("/ledger/entries").status_code == 401
    assert ctx.client.get("/ledger/head").status_code == 200


def test_only_a_verifier_user_makes_a_signing_key(ctx: Ctx) -> None:
    for who in ("acme/admin", "cnverify/admin", "mee/admin"):
        assert ctx.client.post("/certification/keys", headers=ctx.as_(who)).status_code == 403
    assert ctx.client.post("/certification/keys").status_code == 401
    # a verifier role in an enterprise tenant is not a verification body's verifier
    assert (
        ctx.client.post("/certification/keys", headers=ctx.as_("acme/verifier")).status_code == 403
    )
    r = ctx.client.post("/certification/keys", headers=ctx.as_("otherbody/verifier"))
    assert r.status_code == 201 and r.json()["body"] == "otherbody"
    bodies = [b["slug"] for b in ctx.client.get("/certification/bodies").json()]
    assert bodies == ["cnverify", "otherbody"]


def test_the_stored_certificate_and_history_refuse_changes(ctx: Ctx) -> None:
    _, cert_id = ctx.certified()
    engine = create_engine(ctx.url)
    try:
        for sql in (
            f"UPDATE certification_certificates SET document = 'x' WHERE certificate_id = '{cert_id}'",
            f"DELETE FROM certification_certificates WHERE certificate_id = '{cert_id}'",
            "UPDATE certification_events SET comment = 'x'",
            "DELETE FROM ledger_entries",
        ):
            with pytest.raises(Exception, match="openpcf"), engine.begin() as conn:
                conn.execute(text(sql))
    finally:
        engine.dispose()


def _tamper(url: str, table: str, trigger: str, sql: str, params: dict | None = None) -> None:
    """Change a row behind the application's back, as someone with the database's owner
    rights could: drop the trigger that refuses it, change, restore the trigger."""
    engine = create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    try:
        with engine.begin() as conn:
            if postgres:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
                assert conn.execute(text(sql), params or {}).rowcount == 1
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
            else:
                ddl = conn.execute(
                    text("SELECT sql FROM sqlite_master WHERE type='trigger' AND name=:n"),
                    {"n": trigger},
                ).scalar_one()
                conn.execute(text(f"DROP TRIGGER {trigger}"))
                assert conn.execute(text(sql), params or {}).rowcount == 1
                conn.execute(text(ddl))
    finally:
        engine.dispose()


def test_the_certificate_json_is_what_the_api_serves(ctx: Ctx) -> None:
    _, cert_id = ctx.certified()
    data = ctx.client.get(
        f"/certification/certificates/{cert_id}/file", headers=ctx.as_("acme/member")
    ).content
    served = ctx.client.get(
        f"/certification/certificates/{cert_id}", headers=ctx.as_("acme/member")
    )
    assert json.loads(data) == served.json()["document"]
    assert ctx.client.get(f"/certification/certificates/{cert_id}/file").status_code == 404
