"""A partner's strings are data, never syntax: a PACT productNameCompany with a newline and a
whole YAML item after it once added a -500 kg CO2e 'Carbon credit' input to the buyer's model
(cement 716.0 -> 216.7 kg CO2e, issue 14). Now the model gains the one input imported, and
terminals see escapes, not control characters."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from openpcf.domain.text import printable
from openpcf.io.model_edit import append_input, input_yaml
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project
from openpcf.services.exchange.files import export_pact
from tests.cli_runner import openpcf
from tests.test_pact_files import CONTEXT, PELLET

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
INJECTED = (
    "Pellets\n  - {name: Carbon credit, stage: raw-materials, amount: 1, unit: t,"
    " pcf: {value: -500, unit: kg CO2e/t, source: offset}}\n"
)


@pytest.fixture
def hostile_pact(tmp_path: Path) -> Path:
    """The pellet footprint (1287 kg CO2e/t, tests/test_pact_files.py) under a hostile name."""
    (tmp_path / "pellet.yaml").write_text(PELLET, "utf-8")
    (tmp_path / "context.yaml").write_text(CONTEXT, "utf-8")
    pf = export_pact(tmp_path / "pellet.yaml", context_file=tmp_path / "context.yaml").document
    pf["productNameCompany"] = INJECTED + "\x1b[2J\x1b[31mred"
    path = tmp_path / "pf.json"
    path.write_text(json.dumps(pf), "utf-8")
    return path


@pytest.fixture
def cement(tmp_path: Path) -> Path:
    folder = tmp_path / "plant"
    folder.mkdir()
    for name in ("cement.yaml", "clinker.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    return folder / "cement.yaml"


def test_an_injected_pact_name_adds_no_input(hostile_pact: Path, cement: Path) -> None:
    before = calculate(load_project(cement))
    assert before.pcf.value == pytest.approx(716.007, abs=1e-3)  # `openpcf calc` of the example
    run = openpcf("import", "pact", str(hostile_pact), "--into", str(cement),
                  "--amount", "10", "--unit", "kg")  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "\x1b" not in run.stderr and "\\x1b[2J" in run.stderr  # shown, not obeyed
    model = yaml.safe_load(cement.read_text("utf-8"))
    names = [i["name"] for i in model["inputs"]]
    assert len(names) == 6 and "Carbon credit" not in names  # 5 of the example + 1 imported
    assert names[-1] == INJECTED + "\x1b[2J\x1b[31mred"  # the whole name is one string
    after = calculate(load_project(cement))
    # 10 kg at the pellet's 1287 kg CO2e/t = 1.287 kg CO2e/kg -> + 12.87 kg CO2e
    assert after.pcf.value == pytest.approx(before.pcf.value + 12.87, rel=1e-9)


def test_printed_input_is_one_item_with_single_line_comments(hostile_pact: Path) -> None:
    run = openpcf("import", "pact", str(hostile_pact), "--amount", "10", "--unit", "kg")
    assert run.returncode == 0, run.stderr
    assert "\x1b" not in run.stdout
    printed = yaml.safe_load(run.stdout)
    assert len(printed["inputs"]) == 1
    for line in run.stdout.splitlines():  # every line is a comment, a key or an item
        assert line.startswith(("inputs:", "  #", "  - ", "    ")), line


def test_comments_with_control_characters_stay_comments(tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text(
        "openpcf: 1\nproduct: {name: W, declared_unit: {amount: 1, unit: kg}}\ninputs:\n"
        "  - {name: A, stage: raw-materials, amount: 1, unit: kg,"
        " pcf: {value: 2, unit: kg CO2e/kg}}\n",
        "utf-8",
    )
    entry = {"name": "B", "stage": "raw-materials", "amount": 1, "unit": "kg",
             "pcf": {"value": 3.0, "unit": "kg CO2e/kg"}}  # fmt: skip
    append_input(model, entry, ["x\n  - {name: C, stage: production, amount: 1, unit: kg}"])
    data = yaml.safe_load(model.read_text("utf-8"))
    assert [i["name"] for i in data["inputs"]] == ["A", "B"]
    assert "# x\\n  - {name: C" in model.read_text("utf-8")
    text = input_yaml(entry, ["a\rb\u2028c"], indent=2)
    assert yaml.safe_load("inputs:\n" + text)["inputs"][0]["name"] == "B"
    assert "a\\rb\\u2028c" in text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain 水泥 P·O 42.5", "plain 水泥 P·O 42.5"),
        ("a\nb", "a\\nb"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("rtl\u202eevil", "rtl\\u202eevil"),  # a bidi override (Cf) reorders what is shown
    ],
)
def test_printable_escapes_control_characters(raw: str, shown: str) -> None:
    assert printable(raw) == shown
