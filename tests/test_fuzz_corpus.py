"""A corpus of hostile files, made in tmp_path, through every importer: each is refused with a
clean error (an OpenpcfError, which the CLI prints as one `error:` line) naming the file, and
the member or cell where there is one; nothing is written (the databases folder, the model
file and the API's stored versions are unchanged)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.domain.errors import OpenpcfError
from openpcf.io import limits
from openpcf.io.model_file import load_model
from openpcf.io.pact.supplier import read_footprints
from openpcf.services.exchange.files import export_pact, import_into, input_from_pact
from openpcf.services.lci.databases import import_database
from tests.cli_runner import openpcf
from tests.hostile import (
    alias_bomb,
    deep_json,
    deep_xml,
    far_cell_workbook,
    rows_sheet,
    sheet_workbook,
    write_zip,
    xml_bomb,
    xxe,
)
from tests.platform_world import World, make_world
from tests.test_pact_files import CONTEXT, PELLET

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
MODEL_HEAD = "openpcf: 1\nproduct: {name: W, declared_unit: {amount: 1, unit: kg}}\ninputs:\n"
GOOD_INPUT = (
    "  - {name: A, stage: raw-materials, amount: 1, unit: kg, pcf: {value: 2, unit: kg CO2e/kg}}\n"
)
ZERO_MB = b"\0" * (50 * 1024 * 1024)  # compresses ~1000:1

Build = Callable[[Path], Path]


def _text(name: str, text: str | bytes) -> Build:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        return path

    return build


# (id, build, expected words in the message besides the file name)
MODELS: list[tuple[str, Build, tuple[str, ...]]] = [
    ("alias-bomb", _text("bomb.yaml", alias_bomb(9)), ("nodes",)),
    ("recursive-alias", _text("loop.yaml", MODEL_HEAD + "  - &a [*a]\n"), ("alias",)),
    ("deep-yaml", _text("deep.yaml", "x: " + "[" * 5000 + "]" * 5000), ("depth",)),
    ("deep-json", _text("deep.json", deep_json()), ("depth",)),
    ("huge-int-yaml", _text("int.yaml", MODEL_HEAD + "  - " + "9" * 5000 + "\n"), ("invalid",)),
    ("huge-number-json", _text("num.json", '{"openpcf": 1e999}'), ("finite",)),
    ("nan-json", _text("nan.json", '{"openpcf": NaN}'), ("NaN",)),
    ("long-digits-json", _text("digits.json", '{"openpcf": ' + "1" * 5000 + "}"), ("characters",)),
    ("too-large", _text("big.yaml", "# " + "x" * (limits.DOCUMENT_BYTES.value + 10)), ("document_bytes",)),
    ("binary", _text("bin.yaml", b"\xff\xfe\x00garbage\x00"), ("utf-8",)),
    ("nan-amount", _text("nan.yaml", MODEL_HEAD + GOOD_INPUT.replace("amount: 1", "amount: .nan")), ("finite",)),
    ("bool-amount", _text("bool.yaml", MODEL_HEAD + GOOD_INPUT.replace("amount: 1", "amount: true")), ("boolean",)),
    ("unit-power", _text("pow.yaml", MODEL_HEAD + GOOD_INPUT.replace("unit: kg,", "unit: kg**1000000,")), ("exponent",)),
    ("unit-expression", _text("expr.yaml", MODEL_HEAD + GOOD_INPUT.replace("unit: kg,", "unit: '__import__(\"os\")',")), ("unit",)),
    ("xlsx-far-cell", lambda d: far_cell_workbook(d / "far.xlsx"), ("XFD1048576", "sheet_rows")),
    ("xlsx-200k-rows", lambda d: sheet_workbook(d / "rows.xlsx", rows_sheet(200_000)), ("sheet_rows", "Inputs")),
    ("xlsx-merged-bomb", lambda d: sheet_workbook(d / "merge.xlsx", rows_sheet(1).replace(
        b"</sheetData>", b'</sheetData><mergeCells><mergeCell ref="A1:CV5000"/></mergeCells>')),
     ("sheet_cells",)),
    ("xlsx-zip-bomb", lambda d: sheet_workbook(d / "zb.xlsx", rows_sheet(1), ZERO_MB), ("zip_ratio",)),
    ("xlsx-entities", lambda d: sheet_workbook(d / "ent.xlsx", xml_bomb()), ("XML",)),
    ("xlsx-not-a-zip", _text("fake.xlsx", b"PK\x03\x04 not really"), ("Excel",)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "build", "words"), MODELS, ids=[m[0] for m in MODELS])
def test_hostile_model_files_are_refused_cleanly(
    tmp_path: Path, name: str, build: Build, words: tuple[str, ...]
) -> None:
    path = build(tmp_path)
    started = time.perf_counter()
    with pytest.raises(OpenpcfError) as caught:
        load_model(path)
    assert time.perf_counter() - started < 5
    message = str(caught.value)
    assert path.name in message, message
    for word in words:
        assert word.lower() in message.lower(), message


def _jsonld(members: dict[str, bytes]) -> Build:
    return lambda d: write_zip(d / "export.zip", members)


PROCESS = b'{"@type": "Process", "@id": "p1", "name": "x"}'
DATABASES: list[tuple[str, Build, tuple[str, ...]]] = [
    ("zip-bomb", _jsonld({"processes/p1.json": ZERO_MB}), ("zip_ratio", "processes/p1.json")),
    ("traversal", _jsonld({"../../evil/processes/p1.json": PROCESS}), ("..",)),
    ("absolute", _jsonld({"/etc/processes/p1.json": PROCESS}), ("absolute",)),
    ("backslash", _jsonld({"processes\\..\\..\\p1.json": PROCESS}), ("backslash",)),
    ("deep-json", _jsonld({"processes/p1.json": deep_json()}), ("depth", "processes/p1.json")),
    ("nan-json", _jsonld({"processes/p1.json": b'{"@id": "p1", "x": NaN}'}), ("NaN",)),
    ("not-a-zip", _text("export.zip", b"PK\x05\x06" + b"\0" * 18), ("zip",)),
    ("spold-bomb", _jsonld({"a.spold": xml_bomb()}), ("ENTITY", "a.spold")),
    ("spold-xxe", _jsonld({"a.spold": xxe()}), ("ENTITY", "a.spold")),
    ("spold-xxe-net", _jsonld({"a.spold": xxe("http://127.0.0.1:9/x")}), ("ENTITY",)),
    ("spold-deep", _jsonld({"a.spold": deep_xml()}), ("XML", "a.spold")),
]  # fmt: skip


@pytest.mark.parametrize(("name", "build", "words"), DATABASES, ids=[d[0] for d in DATABASES])
def test_hostile_database_exports_are_refused_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, build: Build, words: tuple[str, ...]
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("OPENPCF_HOME", str(home))
    path = build(tmp_path)
    with pytest.raises(OpenpcfError) as caught:
        import_database(path, name="fuzz")
    message = str(caught.value)
    assert path.name in message, message
    for word in words:
        assert word.lower() in message.lower(), message
    assert not (home / "databases" / "fuzz").exists()


def test_an_archive_of_too_many_members_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count is checked from the zip's directory before a member is read (the bound is
    lowered here: half a million real members would only slow the test)."""
    monkeypatch.setattr(limits, "ZIP_MEMBERS", limits.Limit("zip_members", 100, "files"))
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    path = write_zip(tmp_path / "many.zip", {f"processes/{i}.json": PROCESS for i in range(101)})
    with pytest.raises(OpenpcfError, match="zip_members"):
        import_database(path, name="fuzz")


def _pact(doc: object) -> Build:
    return _text("pf.json", json.dumps(doc) if not isinstance(doc, bytes) else doc)


PACTS: list[tuple[str, Build, tuple[str, ...]]] = [
    ("deep", _text("pf.json", deep_json()), ("depth",)),
    ("nan", _text("pf.json", b'{"pcf": NaN}'), ("NaN",)),
    ("huge", _text("pf.json", b'{"pcf": 1e999}'), ("finite",)),
    ("empty", _pact({}), ("no ProductFootprint",)),
    ("too-large", _text("pf.json", b" " * (limits.DOCUMENT_BYTES.value + 1)), ("document_bytes",)),
]


@pytest.mark.parametrize(("name", "build", "words"), PACTS, ids=[p[0] for p in PACTS])
def test_hostile_pact_files_are_refused_and_the_model_is_unchanged(
    tmp_path: Path, name: str, build: Build, words: tuple[str, ...]
) -> None:
    path = build(tmp_path)
    target = tmp_path / "cement.yaml"
    shutil.copy(EXAMPLES / "cement.yaml", target)
    before = target.read_bytes()
    with pytest.raises(OpenpcfError) as caught:
        import_into(target, input_from_pact(path, amount=1, unit="kg"))
    message = str(caught.value)
    assert path.name in message and all(w.lower() in message.lower() for w in words), message
    assert target.read_bytes() == before


def test_pact_decimals_must_be_finite(tmp_path: Path) -> None:
    """A schema-valid footprint (decimal strings of digits) whose value overflows a float, or
    is longer than any real footprint."""
    (tmp_path / "p.yaml").write_text(PELLET, "utf-8")
    (tmp_path / "c.yaml").write_text(CONTEXT, "utf-8")
    pf = export_pact(tmp_path / "p.yaml", context_file=tmp_path / "c.yaml").document
    for value, why in (("1" + "0" * 350, "not a finite"), ("9" * 500, "longer than 400")):
        pf["pcf"]["pcfExcludingBiogenicUptake"] = value
        path = tmp_path / "pf.json"
        path.write_text(json.dumps(pf), "utf-8")
        assert read_footprints(path)  # valid against the schema: the value is what is refused
        with pytest.raises(OpenpcfError, match=why):
            input_from_pact(path, amount=1, unit="kg")


def test_the_cli_prints_one_error_line_and_no_traceback(tmp_path: Path) -> None:
    bomb = _text("bomb.yaml", alias_bomb(9))(tmp_path)
    zipped = _jsonld({"processes/p1.json": ZERO_MB})(tmp_path)
    pact = _text("pf.json", deep_json())(tmp_path)
    env = {**os.environ, "OPENPCF_HOME": str(tmp_path / "home")}
    for args in (("calc", str(bomb)), ("db", "import", str(zipped), "--name", "fuzz"),
                 ("import", "pact", str(pact))):  # fmt: skip
        run = openpcf(*args, env=env)
        assert run.returncode == 1, (args, run.stdout, run.stderr)
        assert "Traceback" not in run.stderr and run.stderr.lstrip().startswith("error:"), (
            run.stderr
        )
    assert not (tmp_path / "home" / "databases" / "fuzz").exists()


@pytest.fixture
def api(database_url: str) -> tuple[TestClient, World]:
    world = make_world(database_url)
    return TestClient(create_app(world.url)), world


@pytest.mark.parametrize(
    ("body", "media", "status", "code"),
    [
        (alias_bomb(7), "application/yaml", 413, "limit_exceeded"),
        ("x: " + "[" * 5000 + "]" * 5000, "application/yaml", 413, "limit_exceeded"),
        (deep_json().decode(), "application/json", 413, "limit_exceeded"),
        ('{"openpcf": NaN}', "application/json", 422, "model_error"),
        (MODEL_HEAD + GOOD_INPUT.replace("unit: kg,", "unit: kg**1000000,"),
         "application/yaml", 422, "model_error"),
        (MODEL_HEAD + GOOD_INPUT.replace("amount: 1", "amount: true"),
         "application/yaml", 422, "model_error"),
    ],
)  # fmt: skip
def test_hostile_model_uploads_answer_a_clean_error_and_store_nothing(
    api: tuple[TestClient, World], body: str, media: str, status: int, code: str
) -> None:
    client, world = api
    admin = world.auth("acme/admin")
    with client:
        r = client.post("/products", json={"slug": "w", "name": "W"}, headers=admin)
        assert r.status_code == 201, r.text
        urn = r.json()["urn"]
        r = client.post(f"/products/{urn}/versions", content=body.encode(),
                        headers={**admin, "Content-Type": media})  # fmt: skip
        assert r.status_code == status, r.text
        assert r.json()["code"] == code
        assert client.get(f"/products/{urn}/versions", headers=admin).json() == []


def test_a_request_past_its_time_limit_is_refused_and_stores_nothing(
    api: tuple[TestClient, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """OPENPCF_REQUEST_SECONDS=0: the deadline the middleware sets is past at the first check
    the parser makes (the deadline reaches the worker thread that parses)."""
    client, world = api
    admin = world.auth("acme/admin")
    with client:
        urn = client.post("/products", json={"slug": "w", "name": "W"}, headers=admin).json()["urn"]
        monkeypatch.setenv("OPENPCF_REQUEST_SECONDS", "0")
        big = MODEL_HEAD + GOOD_INPUT * 600  # > 512 values: the composer checks the time
        r = client.post(f"/products/{urn}/versions", content=big.encode(),
                        headers={**admin, "Content-Type": "application/yaml"})  # fmt: skip
        assert r.status_code == 413, r.text
        assert r.json()["details"]["limit"]["name"] == "request_seconds"
        monkeypatch.setenv("OPENPCF_REQUEST_SECONDS", "30")
        assert client.get(f"/products/{urn}/versions", headers=admin).json() == []


def test_a_request_body_beyond_its_bound_is_refused_before_it_is_read(
    api: tuple[TestClient, World],
) -> None:
    client, world = api
    with client:
        body = b"[" + b"0," * (limits.REQUEST_BYTES.value // 2) + b"0]"
        r = client.post("/factor-sets", content=body,
                        headers={**world.auth("acme/admin"), "Content-Type": "application/json"})  # fmt: skip
        assert r.status_code == 413, r.text[:300]
        assert r.json()["details"]["limit"]["name"] == "request_bytes"


ILCD_ROOT = b'<processDataSet xmlns="http://lca.jrc.it/ILCD/Process">'


@pytest.mark.parametrize(
    ("name", "data", "word"),
    [
        ("bomb", xml_bomb().replace(b"<ecoSpold><activityDataset>", ILCD_ROOT)
         .replace(b"</activityDataset></ecoSpold>", b"</processDataSet>"), "ENTITY"),
        ("xxe", xxe().replace(b"<ecoSpold><activityDataset>", ILCD_ROOT)
         .replace(b"</activityDataset></ecoSpold>", b"</processDataSet>"), "ENTITY"),
        ("deep", ILCD_ROOT + deep_xml() + b"</processDataSet>", "XML"),
        ("truncated", ILCD_ROOT + b"<processInformation>", "XML"),
    ],
)  # fmt: skip
def test_hostile_ilcd_xml_is_refused_by_the_shared_parser(
    name: str, data: bytes, word: str
) -> None:
    """ILCD data sets (and any XML an importer reads) go through limits.parse_xml."""
    from openpcf.domain.errors import ImportFailure, Location

    where = Location(f"ilcd.zip:processes/{name}.xml")
    with pytest.raises(ImportFailure) as caught:
        limits.parse_xml(data, where, ImportFailure)
    message = str(caught.value)
    assert f"processes/{name}.xml" in message and word.lower() in message.lower(), message


@pytest.mark.parametrize("value", ["1e999", "NaN", "-Infinity", "true"])
def test_a_factor_set_with_a_non_finite_or_boolean_value_is_refused(
    api: tuple[TestClient, World], value: str
) -> None:
    """Such a factor was once accepted and then reported as a supply cycle."""
    client, world = api
    body = ('{"name": "survey", "version": "1", "title": "t", "factors": [{"id": "my/x", '
            f'"name": "x", "unit": "kg", "co2e": {value}, "source": "s"}}]}}')  # fmt: skip
    with client:
        r = client.post("/factor-sets", content=body.encode(),
                        headers={**world.auth("acme/admin"), "Content-Type": "application/json"})  # fmt: skip
        assert r.status_code == 422, r.text
        assert r.json()["details"]["errors"][0]["loc"][-1] == "co2e"
        assert client.get("/factor-sets", headers=world.auth("acme/admin")).json() == []
