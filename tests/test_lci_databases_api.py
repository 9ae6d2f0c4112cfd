"""The installed background databases through the API (`/lci/databases`) and the web pages
(`/app/databases`): their numbers against the import report and hand counts of the test data
(tests/lci_data.py), paging, 404 for an unknown name, 401 without credentials, both languages."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.services.lci.databases import import_database, open_database
from tests import lci_data as data
from tests.databases import empty_database
from tests.web_world import make_web_world, sign_in


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """'tiny' (openLCA JSON-LD) and 'ei' (ecospold2) imported into a fresh OPENPCF_HOME."""
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    tiny = data.write_jsonld(tmp_path / "tiny.zip")
    ei = data.write_ecospold(tmp_path / "ei.zip")
    import_database(tiny, "tiny")
    import_database(ei, "ei")
    return {"tiny": tiny, "ei": ei}


def test_the_list_gives_each_database_with_the_counts_of_its_import(
    client: TestClient, world, installed: dict[str, Path]
) -> None:
    r = client.get("/lci/databases", headers=world.auth("acme/verifier"))
    assert r.status_code == 200, r.text
    rows = {d["name"]: d for d in r.json()}
    assert sorted(rows) == ["ei", "tiny"]
    tiny = rows["tiny"]
    # tests/lci_data.py, by hand: 8 processes (the refinery makes 2 products: 9 columns);
    # 8 elementary flows (CO2 fossil, CO2 from soil, CO2 in air, CH4 fossil, CH4 non-fossil,
    # N2O, HCFC-22, river water); 34 exchanges; 12 inputs and wastes to link, of which tap
    # water alone is made by nobody (1 unlinked); transport has two trucks (1 choice)
    assert (tiny["processes"], tiny["columns"], tiny["flows"], tiny["exchanges"]) == (8, 9, 8, 34)
    assert (tiny["inputs_to_link"], tiny["inputs_linked"]) == (12, 11)
    assert (tiny["unlinked"], tiny["cut_off"], tiny["ambiguous"], tiny["unmapped_ghg"]) == (
        1, 0, 0, 0,
    )  # fmt: skip
    assert tiny["choices"] == 1 and tiny["climate_method"] is None
    assert tiny["format"] == "openLCA JSON-LD" and tiny["source_file"] == "tiny.zip"
    assert tiny["version"] == "1" and tiny["versions"] == ["1"]
    assert tiny["imported_at"]
    # of a zip, the import records the sha256 of its bytes
    assert tiny["source_sha256"] == hashlib.sha256(installed["tiny"].read_bytes()).hexdigest()
    report = open_database("tiny").report
    assert (tiny["exchanges"], tiny["flows"]) == (report.exchanges, report.elementary_flows)
    ei = rows["ei"]
    # three data sets; iron scrap, a recyclable by-product, is cut off in the data
    assert (ei["processes"], ei["cut_off"], ei["format"]) == (3, 1, "ecospold2")
    assert ei["exchanges"] == open_database("ei").report.exchanges == 13  # 7 + 4 + 2 exchanges


def test_the_detail_gives_the_reports_lists_and_pages_them(
    client: TestClient, world, installed: dict[str, Path]
) -> None:
    member = world.auth("acme/member")
    d = client.get("/lci/databases/tiny", headers=member).json()
    report = open_database("tiny").report
    assert d["counts"] == report.counts and sum(d["counts"].values()) == 34
    assert d["linking"] == {"unlinked": "cut-off", "linking_file": None, "linking_sha256": None}
    assert [e["what"] for e in d["unlinked_page"]["items"]] == ["tap water"]
    (choice,) = d["choices_page"]["items"]
    assert choice["what"] == "transport, freight" and choice["processes"] == ["steel production"]
    assert d["choices_page"]["total"] == 1 and d["cut_off_page"]["total"] == 0
    assert d["notes_page"] == {"total": len(report.notes), "offset": 0,
                               "items": list(report.notes)[:100]}  # fmt: skip
    # past the only choice: the total stays, the page is empty
    paged = client.get("/lci/databases/tiny?offset=1&limit=1", headers=member).json()
    assert paged["choices_page"] == {"total": 1, "offset": 1, "items": []}
    ei = client.get("/lci/databases/ei@1", headers=member).json()
    assert [e["what"] for e in ei["cut_off_page"]["items"]] == ["iron scrap"]
    assert client.get("/lci/databases/tiny?limit=501", headers=member).status_code == 422


def test_a_new_version_is_listed_and_an_older_one_can_be_read(
    client: TestClient, world, installed: dict[str, Path], tmp_path: Path
) -> None:
    # a second import of other bytes: the first five processes (electricity to truck B)
    smaller = data.write_jsonld(tmp_path / "tiny-2.zip", data.tiny_processes()[:5])
    import_database(smaller, "tiny")
    who = world.auth("other/member")
    (row,) = [d for d in client.get("/lci/databases", headers=who).json() if d["name"] == "tiny"]
    assert (row["version"], row["versions"], row["source_file"]) == ("2", ["1", "2"], "tiny-2.zip")
    assert row["processes"] == 5
    assert client.get("/lci/databases/tiny@1", headers=who).json()["processes"] == 8


def test_unknown_names_are_404_and_name_what_is_installed(
    client: TestClient, world, installed: dict[str, Path]
) -> None:
    who = world.auth("acme/member")
    for ref in ("nope", "tiny@9", "-x", "a b"):
        r = client.get(f"/lci/databases/{ref}", headers=who)
        assert r.status_code == 404, ref
        assert r.json()["code"] == "not_found"
    assert "installed: ei, tiny" in client.get("/lci/databases/nope", headers=who).json()["message"]
    assert "versions: 1" in client.get("/lci/databases/tiny@9", headers=who).json()["message"]


def test_without_credentials_it_is_401(client: TestClient, installed: dict[str, Path]) -> None:
    for path in ("/lci/databases", "/lci/databases/tiny"):
        r = client.get(path)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized", path


def test_no_database_installed_is_an_empty_list(
    client: TestClient, world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "empty"))
    assert client.get("/lci/databases", headers=world.auth("acme/admin")).json() == []


def test_the_operation_is_documented_with_401_and_404(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert {"401"} <= set(doc["paths"]["/lci/databases"]["get"]["responses"])
    assert {"200", "401", "404"} <= set(doc["paths"]["/lci/databases/{name}"]["get"]["responses"])


def test_the_pages_list_and_show_a_database_in_both_languages(
    installed: dict[str, Path], tmp_path: Path
) -> None:
    with empty_database("sqlite", tmp_path) as url:
        make_web_world(url)
        with TestClient(create_app(url), follow_redirects=False) as c:
            assert c.get("/app/databases").status_code == 303  # to sign-in
            sign_in(c, "verifier@cnverify.example")  # a verifier too may read them
            en = c.get("/app/databases")
            assert en.status_code == 200 and 'href="/app/databases/tiny"' in en.text
            assert "Background databases" in en.text and "tiny.zip" in en.text
            page = c.get("/app/databases/tiny").text
            assert "tap water" in page and "transport, freight" in page
            assert hashlib.sha256(installed["tiny"].read_bytes()).hexdigest() in page
            c.cookies.set("lang", "zh")
            assert "背景数据库" in c.get("/app/databases").text
            assert "未链接的输入（已截断）" in c.get("/app/databases/tiny").text
            assert c.get("/app/databases/nope").status_code == 404
        with TestClient(create_app(url), follow_redirects=False) as c:
            sign_in(c, "member@acme.example")
            r = c.get("/app/products/lfp-cell/edit")
            assert 'href="/app/databases"' in r.text  # from the editor's process search
