"""`openpcf db ...` as a user runs it: the installed script in a subprocess."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests import lci_data as data

from .cli_runner import openpcf_exe


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-db")


@pytest.fixture(scope="module")
def run(home: Path):
    exe = openpcf_exe()
    env = dict(os.environ, OPENPCF_HOME=str(home / "home"))

    def _run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120,
                              check=False, env=env)  # fmt: skip

    return _run


@pytest.fixture(scope="module")
def imported(home: Path, run) -> subprocess.CompletedProcess[str]:
    """The tiny JSON-LD database imported once for the module, as `tiny`."""
    return run("db", "import", str(data.write_jsonld(home / "tiny.zip")), "--name", "tiny")


def test_import_list_show_and_footprints(tmp_path: Path, run, imported) -> None:
    assert imported.returncode == 0, imported.stderr
    assert "imported tiny@1" in imported.stdout
    assert "input with several providers, linked by the provider policy" in imported.stdout
    assert "tap water" in imported.stdout  # unlinked, listed

    listed = run("db", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)
    assert entry["name"] == "tiny" and entry["versions"] == ["1"]
    assert entry["latest"]["source"]["format"] == "openLCA JSON-LD"

    shown = run("db", "show", "tiny", "truck B", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    truck = json.loads(shown.stdout)
    assert truck["kg_co2e"] == {"AR5": pytest.approx(0.2), "AR6": pytest.approx(0.2)}

    out = tmp_path / "fp.csv"
    done = run("db", "footprints", "tiny", "--out", str(out), "--gwp", "AR5")
    assert done.returncode == 0, done.stderr
    assert "9 footprints of tiny@1" in done.stdout and "per second" in done.stdout
    with out.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["process_id", "process_name", "reference_product", "unit", "kg_co2e"]
    assert len(rows) == 10
    by = {(r[1], r[2]): r for r in rows[1:]}
    assert by[("truck B", "transport, freight")][0] == data.uid("process/truck B")
    assert float(by[("slag treatment", "slag")][4]) == pytest.approx(0.05)
    assert by[("refinery", "diesel")][0] == by[("refinery", "naphtha")][0]  # the process's own UUID


def test_method_option_and_model_input(tmp_path: Path, run, imported, write) -> None:
    method = tmp_path / "m.csv"
    method.write_text('flow_name,category,kg_co2e_per_unit\n"Carbon dioxide, fossil",,1\nfoo,,1\n')
    out = tmp_path / "fp.csv"
    done = run("db", "footprints", "tiny", "--out", str(out), "--method", str(method))
    assert done.returncode == 0, done.stderr
    assert "1 method rows match no flow" in done.stderr
    model = write("m.yaml", """
        openpcf: 1
        product: {name: Bracket, declared_unit: {amount: 1, unit: piece}}
        inputs:
          - {name: Haulage, stage: distribution, amount: 3, unit: t*km, process: "tiny/truck B"}
        """)  # fmt: skip
    calc = run("calc", str(model), "--format", "json")
    assert calc.returncode == 0, calc.stderr
    result = json.loads(calc.stdout)
    assert result["pcf"]["value"] == pytest.approx(0.6)
    assert "tiny@1" in result["provenance"]["factor_sets"]


def test_failures_exit_1_and_leave_nothing(tmp_path: Path, home: Path, run, imported) -> None:
    files = data.ecospold_files()
    name = next(iter(files))
    bad = data.write_ecospold(tmp_path / "bad.zip", dict(files, **{name: files[name][:-30]}))
    before = sorted((home / "home" / "databases").rglob("*"))
    failed = run("db", "import", str(bad))
    assert failed.returncode == 1
    assert "error:" in failed.stderr and "invalid XML" in failed.stderr and name in failed.stderr
    assert sorted((home / "home" / "databases").rglob("*")) == before
    missing = run("db", "footprints", "nothing", "--out", str(tmp_path / "x.csv"))
    assert missing.returncode == 1 and "no background database 'nothing'" in missing.stderr
    ok = run("db", "import", str(data.write_ecospold(tmp_path / "ei.zip")), "--name", "ei")
    assert ok.returncode == 0, ok.stderr
    assert "cut off in the data" in ok.stdout and "iron scrap" in ok.stdout
