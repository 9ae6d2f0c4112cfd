"""Bad and hostile ILCD / TIDAS input: a clear error naming the file, and nothing written.

The data sets are real ones of the TianGong release (../shared/data/lci), one of them broken."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from openpcf.domain.errors import ImportFailure
from openpcf.services.lci.databases import import_database

ZIP = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lci" / \
    "tiangong-lca-data-ilcd.zip"  # fmt: skip


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten processes and every flow, flow property and unit group of the release, once."""
    if not ZIP.exists():
        pytest.skip(f"real LCI release not available: {ZIP} is absent")
    out = tmp_path_factory.mktemp("ilcd") / "ilcd"
    with zipfile.ZipFile(ZIP) as z:
        names = [n for n in z.namelist() if n.endswith(".xml")]
        keep = sorted(n for n in names if "/processes/" in n)[:10] + [
            n for n in names if "/flows/" in n or "/flowproperties/" in n or "/unitgroups/" in n
        ]
        for n in keep:
            folder, file = n.split("/")[-2:]
            (out / folder).mkdir(parents=True, exist_ok=True)
            (out / folder / file).write_bytes(z.read(n))
    return out


@pytest.fixture
def folder(extracted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    return Path(shutil.copytree(extracted, tmp_path / "ilcd"))


def _first_process(folder: Path) -> Path:
    return sorted((folder / "processes").iterdir())[0]


def test_entities_are_not_expanded(folder: Path, tmp_path: Path) -> None:
    p = _first_process(folder)
    text = p.read_text("utf-8")
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c SYSTEM "file:///etc/passwd">]>\n')  # fmt: skip
    body = text.split("?>", 2)[-1].replace("<common:UUID>", "<common:UUID>&b;&c;", 1)
    p.write_text(bomb + body, "utf-8")
    # the references stay unexpanded (no text, no file read): the UUID is then empty
    with pytest.raises(ImportFailure, match="has no common:UUID") as caught:
        import_database(folder, "bomb")
    assert p.name in str(caught.value) and "root:" not in str(caught.value)
    assert not (tmp_path / "home" / "databases" / "bomb").exists()


def test_broken_xml_names_file_and_line(folder: Path, tmp_path: Path) -> None:
    p = _first_process(folder)
    p.write_text(p.read_text("utf-8").replace("</exchanges>", "", 1), "utf-8")
    with pytest.raises(ImportFailure, match="invalid XML") as caught:
        import_database(folder, "broken")
    assert f"{p.name}:" in str(caught.value)
    assert not (tmp_path / "home" / "databases" / "broken").exists()


def test_tidas_json_nested_too_deeply(folder: Path) -> None:
    p = _first_process(folder)
    p.unlink()
    (p.parent / (p.stem + ".json")).write_text('{"processDataSet": ' + "[" * 100000 + "]" * 100000
                                               + "}")  # fmt: skip
    with pytest.raises(ImportFailure, match=r"nested too deeply|invalid JSON"):
        import_database(folder, "deep")


def test_wrong_direction_is_named(folder: Path) -> None:
    p = _first_process(folder)
    p.write_text(p.read_text("utf-8").replace("<exchangeDirection>Output<", "<exchangeDirection>"
                                              "Sideways<", 1), "utf-8")  # fmt: skip
    with pytest.raises(
        ImportFailure, match="exchangeDirection 'Sideways', expected Input or Output"
    ):
        import_database(folder, "sideways")
