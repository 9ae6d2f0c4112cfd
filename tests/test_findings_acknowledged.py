"""Certifying a result with open findings needs the verifier's comment on each finding (API and
web); the acknowledgements are signed into the certificate and shown in the history. Nothing
changes when certify is refused. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.domain.certification import (
    Action,
    FindingAcknowledgement,
    SubmissionCreate,
    TransitionRequest,
    check_document,
    parse_instant,
)
from openpcf.domain.platform import CalculationRequest, ProductCreate, product_urn
from openpcf.services.calculation import stored as calculations
from openpcf.services.catalogue import products
from openpcf.services.certification import workflow as certification
from openpcf.services.errors import InvalidRequest
from openpcf.store.db import sessions
from tests.databases import KINDS, empty_database
from tests.web_world import WebWorld, csrf_of, make_web_world, sign_in

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# The clinker example without its data-quality ratings: gb-t-24067 finds DATA_QUALITY_MISSING
# (the only finding: the model meets its product rule and the profile otherwise).
UNRATED = "\n".join(
    ln for ln in (EXAMPLES / "clinker.yaml").read_text("utf-8").splitlines() if "dq:" not in ln
)


@dataclass
class Ctx:
    world: WebWorld
    app: object
    calc: str  # acme's unrated clinker, computed under gb-t-24067

    def client(self, email: str) -> TestClient:
        c = TestClient(self.app, follow_redirects=False)  # type: ignore[arg-type]
        sign_in(c, email)
        return c

    def under_review(self) -> str:
        factory = sessions(self.world.url)
        member = self.world.principal("member@acme.example")
        verifier = self.world.principal("verifier@cnverify.example")
        new = SubmissionCreate(product=product_urn("acme", "clinker"), calculation_id=self.calc,
                               verifier="cnverify")  # fmt: skip
        sub = certification.create_submission(factory(), member, new)
        for who, action in ((member, Action.submit), (verifier, Action.start_review)):
            certification.transition(factory(), who, sub.id, TransitionRequest(action=action))
        return sub.id


@pytest.fixture(scope="module", params=KINDS)
def ctx(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    with empty_database(request.param, tmp_path_factory.mktemp("findings")) as url:
        world = make_web_world(url)
        factory = sessions(url)
        who = world.principal("member@acme.example")
        products.create_product(factory(), who, ProductCreate(slug="clinker", name="Clinker"))
        urn = product_urn("acme", "clinker")
        text = UNRATED.replace("urn:openpcf:product:example:clinker", urn)
        products.add_model_version(factory(), who, urn, text, "application/yaml")
        info = calculations.run_calculation(factory(), who, urn, CalculationRequest())
        app = create_app(url)
        with TestClient(app):
            yield Ctx(world, app, info.id)


def finding_id(ctx: Ctx, sub: str) -> str:
    verifier = ctx.world.principal("verifier@cnverify.example")
    with sessions(ctx.world.url)() as session:  # closed: an open read would hold SQLite's lock
        evidence = certification.get_evidence(session, verifier, sub)
    (finding,) = evidence.findings
    assert finding.code == "DATA_QUALITY_MISSING" and finding.rule == "gb-t-24067"
    return finding.id


def test_certify_without_acknowledging_is_refused_and_changes_nothing(ctx: Ctx) -> None:
    sub = ctx.under_review()
    fid = finding_id(ctx, sub)
    factory = sessions(ctx.world.url)
    verifier = ctx.world.principal("verifier@cnverify.example")
    with pytest.raises(InvalidRequest, match="1 open finding") as e:
        certification.transition(factory(), verifier, sub, TransitionRequest(action=Action.certify))
    assert fid in e.value.message and "DATA_QUALITY_MISSING" in e.value.message
    wrong = TransitionRequest(action=Action.certify, acknowledgements=[
        FindingAcknowledgement(finding="gb-t-24067/NO_SUCH", comment="x")])  # fmt: skip
    with pytest.raises(InvalidRequest, match="no open finding gb-t-24067/NO_SUCH"):
        certification.transition(factory(), verifier, sub, wrong)
    with pytest.raises(ValueError):  # an empty comment is no acknowledgement
        FindingAcknowledgement(finding=fid, comment="")
    with factory() as session:
        info = certification.get_submission(session, verifier, sub)
    assert info.state.value == "under_review" and info.certificate_id is None


def test_acknowledged_findings_are_signed_and_in_the_history(ctx: Ctx) -> None:
    sub = ctx.under_review()
    fid = finding_id(ctx, sub)
    factory = sessions(ctx.world.url)
    verifier = ctx.world.principal("verifier@cnverify.example")
    req = TransitionRequest(action=Action.certify, comment="site visit", acknowledgements=[
        FindingAcknowledgement(finding=fid, comment="ratings checked against the kiln log")])  # fmt: skip
    info = certification.transition(factory(), verifier, sub, req)
    assert info.state.value == "certified" and info.certificate_id
    with factory() as session:
        data = certification.certificate_file(session, verifier, info.certificate_id)
    doc, checks = check_document(data, parse_instant(json.loads(data)["issued_at"]))
    assert all(c.ok for c in checks if c.name != "validity"), checks
    assert doc is not None
    (ack,) = doc["acknowledged_findings"]
    assert ack["finding"] == fid and ack["comment"] == "ratings checked against the kiln log"
    assert ack["by"] == "verifier@cnverify.example" and ack["code"] == "DATA_QUALITY_MISSING"
    certify = [h for h in info.history if h.action == "certify"]
    assert certify[0].comment == "site visit"
    assert certify[0].acknowledged_findings[0]["comment"] == "ratings checked against the kiln log"


def test_the_evidence_page_asks_a_comment_per_finding(ctx: Ctx) -> None:
    sub = ctx.under_review()
    fid = finding_id(ctx, sub)
    verifier = ctx.client("verifier@cnverify.example")
    page = verifier.get(f"/verify/submissions/{sub}")
    assert page.status_code == 200 and 'id="acknowledgements"' in page.text
    assert f'name="ack_finding" value="{fid}"' in page.text
    token = csrf_of(page.text)
    url = f"/verify/submissions/{sub}/action"
    r = verifier.post(url, data={"csrf_token": token, "action": "certify", "ack_finding": fid,
                                 "ack_comment": ""})  # fmt: skip
    assert r.status_code == 409 and "not acknowledged" in r.text
    r = verifier.post(url, data={"csrf_token": token, "action": "certify", "ack_finding": fid,
                                 "ack_comment": "kiln log checked"})  # fmt: skip
    assert r.status_code == 303, r.text
    page = verifier.get(f"/verify/submissions/{sub}")
    assert "acknowledged" in page.text and "kiln log checked" in page.text
