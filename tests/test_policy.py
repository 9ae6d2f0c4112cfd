"""The policy and standards tracker: seed traceable to shared/data, filters and search, regulator
edits (versioned, immutable, audited), supersession, the Atom feed, provinces and the map."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from openpcf.api.app import create_app
from openpcf.domain.policy import PolicyInput, PolicyKind, PolicyStatus, PolicyType
from openpcf.domain.regions import PROVINCES
from openpcf.io.china_map import outlines
from openpcf.rules.policy_seed import seed_documents
from openpcf.services.errors import InvalidRequest, PermissionDenied
from openpcf.services.platform import accounts
from openpcf.services.policy import documents, maps, regions
from openpcf.services.policy.documents import PolicyFilter
from openpcf.store.db import sessions
from openpcf.store.models import AuditEntry
from openpcf.store.models_policy import PolicyVersion
from tests.web_world import csrf_of, make_web_world, published_certificate, sign_in

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ATOM = "{http://www.w3.org/2005/Atom}"


def shared_rows(name: str) -> list[dict[str, str]]:
    if not (SHARED / name).is_file():
        pytest.skip(f"shared/data not found at {SHARED}")
    with (SHARED / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_national_document_of_the_timeline_is_seeded_with_its_source() -> None:
    seeded = {d.title_zh: d for d in seed_documents()}
    for row in shared_rows("china_pcf_policy_timeline.csv"):
        zh = row["document"].split(" (")[0].strip()
        assert zh in seeded, f"timeline row {row['date']} {zh} not seeded"
        doc = seeded[zh]
        assert doc.source_url == (row["source_url"] or None)
        assert row["key_points"] in [r.text for r in doc.requirements]
        assert doc.regions == ("CN",)


def test_every_subnational_fact_is_seeded_except_the_trackers_count() -> None:
    docs = seed_documents()
    texts = {r.text for d in docs for r in d.requirements}
    for row in shared_rows("china_subnational_policy_facts.csv"):
        if row["topic"].startswith("count of provinces"):
            continue  # a statistic, quoted in docs/policy.md
        if row["level"] == "national" and not row["facts"]:
            continue  # the same document as a timeline row (its note names the tracker)
        assert row["facts"] in texts or any(
            row["region"] in d.regions and row["topic"].lower() in d.title_en.lower() for d in docs
        ), row
    # The rows without facts are documents of their region with the row's status.
    drafts = {d.regions[0] for d in docs if d.status is PolicyStatus.draft}
    assert drafts == {"CN-ZJ", "CN-CQ"}  # the two drafts for comment the tracker names


def test_product_standards_come_from_the_rules_that_cite_them() -> None:
    by_id = {d.id: d for d in seed_documents()}
    # GB/T 44905-2024, cited by rules/products/electrolytic-aluminium.yaml: in force 2025-05-01
    aluminium = by_id["gb-t-44905-2024"]
    assert aluminium.kind is PolicyKind.standard
    assert aluminium.rules == ("electrolytic-aluminium",)
    assert aluminium.effective == "2025-05-01"
    assert aluminium.status is PolicyStatus.in_force
    # GB/T 47064-2026 is cited by both steel rules
    assert set(by_id["gb-t-47064-2026"].rules) == {"crude-steel", "hot-rolled-steel"}
    assert by_id["gb-t-24067-2024"].effective == "2025-03-01"


def read(url: str, use_case, *args):  # type: ignore[no-untyped-def]
    """A read on a session closed afterwards (an open one would block dropping the test schema)."""
    with sessions(url)() as session:
        return use_case(session, *args)


@pytest.fixture
def world(database_url: str):
    return make_web_world(database_url)


def test_filters_and_search(world) -> None:
    with sessions(world.url)() as session:

        def ids(**kw: object) -> set[str]:
            return {d.id for d in documents.list_documents(session, PolicyFilter(**kw))}

        assert ids(region="CN-QH") == {"qh-2025-data-centre-renewables"}
        with_national = ids(region="CN-QH", include_national=True)
        assert (
            "gb-t-24067-2024" in with_national and "qh-2025-data-centre-renewables" in with_national
        )
        assert ids(type=PolicyType.data_centres) == {
            "qh-2025-data-centre-renewables", "nm-2025-data-centre-renewables",
            "gz-2025-big-data-plan", "nm-2025-green-power-computing-centre",
        }  # fmt: skip
        assert ids(status=PolicyStatus.draft) == {
            "zj-2025-pcf-policy-draft",
            "cq-2025-pcf-policy-draft",
        }
        assert "xj-2025-pcf-labelling-plan" in ids(sector="photovoltaics")
        assert ids(q="qinghai renewable") == {"qh-2025-data-centre-renewables"}  # issuer and text
        assert ids(q="100 % renewable") == {"qh-2025-data-centre-renewables"}
        assert ids(q="电解铝") == {"gb-t-44905-2024"}  # Chinese titles are searched too
        # A date range compares at the coarser precision: a document dated only "2024" may fall
        # in September 2024, so it is listed; one dated 2024-08-23 is not.
        september = ids(date_from="2024-09", date_to="2024-09")
        assert "cn-2024-label-pilot-notice" in september and "gb-t-24067-2024" not in september
        assert {d.date for d in seed_documents() if d.id in september} == {"2024-09-09", "2024"}
        assert ids(kind=PolicyKind.standard, rule="hydrogen") == {"t-cpcif-0466-2025"}


def _doc(**changes: object) -> PolicyInput:
    base = {
        "level": "province", "issuer": "江苏省生态环境厅", "title_zh": "江苏省产品碳足迹标识认证工作方案",
        "title_en": "Jiangsu work plan for carbon footprint labels", "date": "2026-03-01",
        "status": "issued", "types": ["labelling-certification"], "regions": ["CN-JS"],
        "rules": ["lithium-battery"], "obtained": "test", "verify": False,
    }  # fmt: skip
    return PolicyInput.model_validate({**base, **changes})


def test_a_regulators_edit_is_a_new_audited_version_and_the_old_one_stays(world) -> None:
    factory = sessions(world.url)
    gov = world.principal("admin@gov.example")
    documents.create(factory(), gov, "js-2026-label-plan", _doc(), "new plan")
    documents.edit(factory(), gov, "js-2026-label-plan", _doc(status="in-force"), "in force")
    history = read(world.url, documents.versions, "js-2026-label-plan")
    assert [(v.version, v.status) for v in history] == [
        (1, PolicyStatus.issued), (2, PolicyStatus.in_force)]  # fmt: skip
    assert read(world.url, documents.document, "js-2026-label-plan").version == 2
    # Editing a seeded document makes version 2; the seed stays version 1.
    documents.edit(factory(), gov, "gb-t-24067-2024", documents.as_input(
        read(world.url, documents.document, "gb-t-24067-2024")).model_copy(update={"note": "checked"}),
        "primary text read")  # fmt: skip
    assert [v.changed_by for v in read(world.url, documents.versions, "gb-t-24067-2024")] == [
        "seed", gov.actor]  # fmt: skip
    with factory() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity == "policy_versions")).all()
    assert len(audit) == 3 and {a.actor for a in audit} == {gov.actor}
    # Stored versions are immutable in the database itself.
    with factory() as s, pytest.raises(DBAPIError):
        s.execute(text("UPDATE policy_versions SET change_note = 'rewritten'"))
        s.commit()


def test_only_a_regulator_writes(world) -> None:
    member = world.principal("member@acme.example")
    with pytest.raises(PermissionDenied):
        documents.create(sessions(world.url)(), member, "acme-plan", _doc())
    with sessions(world.url)() as s:
        assert s.scalars(select(PolicyVersion)).all() == []


def test_bad_documents_name_the_field(world) -> None:
    with pytest.raises(InvalidRequest, match=r"regions: .*unknown region 'CN-XX'"):
        documents.parse_input({**_doc().model_dump(mode="json"), "regions": ["CN-XX"]})
    with pytest.raises(InvalidRequest, match=r"date: .*expected a date"):
        documents.parse_input({**_doc().model_dump(mode="json"), "date": "March 2026"})


def test_a_superseded_policy_stays_readable_with_its_successor(world) -> None:
    factory = sessions(world.url)
    gov = world.principal("admin@gov.example")
    documents.create(factory(), gov, "js-2026-label-plan", _doc())
    documents.create(factory(), gov, "js-2027-label-plan", _doc(date="2027-01-01"))
    documents.supersede(factory(), gov, "js-2026-label-plan", "js-2027-label-plan", "replaced")
    old = read(world.url, documents.document, "js-2026-label-plan")
    new = read(world.url, documents.document, "js-2027-label-plan")
    assert old.status is PolicyStatus.superseded and old.superseded_by == "js-2027-label-plan"
    assert new.supersedes == "js-2026-label-plan"
    # Its first version is still served as it was.
    assert read(world.url, documents.version, "js-2026-label-plan", 1).status is PolicyStatus.issued
    client = TestClient(create_app(world.url))
    page = client.get("/tracker/js-2026-label-plan").text
    assert 'id="superseded"' in page and 'href="/tracker/js-2027-label-plan"' in page


def test_the_feed_lists_edits_first_then_the_seed(world) -> None:
    gov = world.principal("admin@gov.example")
    documents.create(sessions(world.url)(), gov, "js-2026-label-plan", _doc(), "new plan")
    client = TestClient(create_app(world.url))
    r = client.get("/policies/feed.atom", params={"limit": 500})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(r.content)
    entries = feed.findall(f"{ATOM}entry")
    assert entries[0].findtext(f"{ATOM}title").startswith("Jiangsu work plan")
    links = {e.find(f"{ATOM}link").get("href").rsplit("/", 1)[1] for e in entries}
    assert {"qh-2025-data-centre-renewables", "gb-t-24067-2024"} <= links


def test_api_writes_need_a_regulator_and_answer_the_document(world) -> None:
    client = TestClient(create_app(world.url))
    sign_in(client, "admin@gov.example")  # the web cookie is not an API credential
    body = {"id": "js-2026-label-plan", "document": _doc().model_dump(mode="json"), "note": "n"}
    assert client.post("/policies", json=body).status_code == 401
    issued = accounts.issue_personal_token(
        sessions(world.url)(), accounts.operator("tests"), "admin@gov.example", "policy test"
    )
    token = issued.token
    r = client.post("/policies", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1
    got = client.get("/policies", params={"region": "CN-JS", "type": "labelling-certification"})
    assert [d["id"] for d in got.json()] == ["js-2026-label-plan"]


def test_province_pages_show_policies_grid_factors_and_data_centres(world) -> None:
    with sessions(world.url)() as session:
        qh = regions.province_view(session, "CN-QH")
        assert [r.requirement for r in qh.data_centre_requirements] == [
            "new or expanded data centres 100 % renewable from 2025"]  # fmt: skip
        js = {g.year: g.kg_co2_per_kwh for g in regions.province_view(session, "CN-JS").grid}
        # MEE/NBS announcement 2024 No. 12, annex 1: Jiangsu 2021 0.6451 kg CO2/kWh
        assert js[2021] == pytest.approx(0.6451)
        client = TestClient(create_app(world.url))
        page = client.get("/tracker/regions/CN-XJ", headers={"accept-language": "zh"}).text
        assert "新疆" in page and 'href="/tracker/xj-2025-pcf-labelling-plan"' in page


def test_certificates_name_the_policy_they_were_issued_under(world) -> None:
    with sessions(world.url)() as session:
        xj = regions.certifying_policy(session, "CN-XJ", "2025-08-01")
        assert xj is not None and xj.id == "xj-2025-pcf-labelling-plan"
        # Jiangsu has no labelling policy of its own in the seed: the newest national one applies.
        js = regions.certifying_policy(session, "CN-JS", "2025-08-01")
        assert js is not None and js.id == "cn-2025-certification-catalogue-1"
        cert = published_certificate(world)  # the demo LFP cell, made in Jiangsu
        page = TestClient(create_app(world.url)).get(f"/p/{cert}").text
        assert 'id="issued-under"' in page


def test_regulator_sees_provinces_with_policies_and_no_certificates(world) -> None:
    with sessions(world.url)() as session:
        waiting = {p.code for p in regions.policies_without_certificates(session)}
        assert {"CN-XJ", "CN-BJ", "CN-QH"} <= waiting and "CN-ZJ" not in waiting  # ZJ: draft only
        client = TestClient(create_app(world.url))
        sign_in(client, "admin@gov.example")
        page = client.get("/regulate/coverage").text
        assert 'id="policy-no-certificates"' in page and 'href="/tracker/regions/CN-XJ"' in page


def test_the_map_draws_every_province_with_names_in_both_languages(world) -> None:
    assert {o.code for o in outlines()} == {p.code for p in PROVINCES}
    assert all(o.path for o in outlines())  # Taiwan, Hong Kong and Macao included
    assert next(o for o in outlines() if o.code == "CN-HI").inset  # the South China Sea islands
    with sessions(world.url)() as session:
        for lang, name in (("zh", "台湾"), ("en", "Hong Kong")):
            drawn = etree.fromstring(maps.map_svg(session, maps.MapView.policy, lang).encode())
            regions_drawn = {
                p.get("data-region") for p in drawn.iter("{*}path") if p.get("data-region")
            }
            assert regions_drawn == {p.code for p in PROVINCES}
            labels = {t.text for t in drawn.iter("{*}text") if t.get("data-label")}
            assert name in labels and len(labels) == len(PROVINCES)
        grid = maps.map_svg(session, maps.MapView.grid, "en", 2021)
        assert "Jiangsu: 0.6451" in grid
        with pytest.raises(InvalidRequest, match="published years"):
            maps.map_svg(session, maps.MapView.grid, "en", 2015)


def test_the_editor_bounds_a_regulators_yaml_and_stores_nothing(world) -> None:
    # ten levels of aliases, each repeating the one before ten times: 10**10 values if expanded
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)
    )
    client = TestClient(create_app(world.url))
    sign_in(client, "admin@gov.example")
    token = csrf_of(client.get("/regulate/policies/new").text)
    r = client.post(
        "/regulate/policies",
        data={"csrf_token": token, "slug": "js-bomb", "text": bomb, "note": "n", "new": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 422 and 'id="policy-errors"' in r.text and "alias" in r.text
    with sessions(world.url)() as s:
        assert s.scalars(select(PolicyVersion)).all() == []
