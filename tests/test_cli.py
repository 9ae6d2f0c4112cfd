"""The command line as a user runs it: the installed `openpcf` script in a subprocess."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .cli_runner import openpcf

Write = Callable[[str, str], Path]

MODEL = """
openpcf: 1
product: {name: Widget, declared_unit: {amount: 1, unit: kg}, region: CN-JS, year: 2023}
factors:
  - {id: my/steel, name: Steel, unit: kg, co2e: 2.0, gwp: AR5, source: test}
inputs:
  - {name: Steel, stage: raw-materials, amount: 1.5, unit: kg, factor: my/steel}
  - {name: Power, stage: production, amount: 10, unit: kWh, electricity: {basis: grid-co2}}
"""


def test_calc_json_matches_the_spec_fields(write: Write) -> None:
    run = openpcf("calc", str(write("w.yaml", MODEL)), "--format", "json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    # 1.5 × 2.0 = 3.0 ; Jiangsu 2023 grid CO2 0.5827 × 10 = 5.827
    assert out["pcf"] == {"value": pytest.approx(8.827), "unit": "kg CO2e"}
    assert out["declared_unit"] == {"amount": 1.0, "unit": "kg"}
    assert out["stages"] == {
        "raw-materials": pytest.approx(3.0),
        "production": pytest.approx(5.827),
    }
    assert out["gases"]["CO2"] == pytest.approx(5.827)
    assert {c["name"] for c in out["contributions"]} == {"Steel", "Power"}
    assert out["profile"] == "gb-t-24067" and out["gwp"] == "AR5"
    assert out["factor_set"] == "openpcf-bundled@2026.1"


def test_calc_table_shows_hotspots(write: Write) -> None:
    run = openpcf("calc", str(write("w.yaml", MODEL)), "--gwp", "AR6")
    assert run.returncode == 0, run.stderr
    assert "Widget" in run.stdout and "8.827" in run.stdout and "AR6" in run.stdout
    assert "Power" in run.stdout and "█" in run.stdout


def test_failure_exits_non_zero_with_error_on_stderr(write: Write) -> None:
    path = write("bad.yaml", MODEL.replace("unit: kWh", "unit: kg"))
    run = openpcf("calc", str(path))
    assert run.returncode == 1
    assert run.stdout == ""
    assert "error:" in run.stderr and f"{path}:7" in run.stderr


def test_factor_file_option(write: Write) -> None:
    factors = write("f.csv", "id,name,unit,co2e,gwp,source\nmy/al,Al,kg,16,AR5,test\n")
    model = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: Al, stage: raw-materials, amount: 0.5, unit: kg, factor: my/al}
        """,
    )
    run = openpcf("calc", str(model), "--factors", str(factors), "-f", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["pcf"]["value"] == pytest.approx(8.0)  # 0.5 × 16


def test_schema_product_model() -> None:
    run = openpcf("schema", "product-model")
    schema = json.loads(run.stdout)
    assert schema["properties"]["openpcf"]["const"] == 1
    assert schema["additionalProperties"] is False
    assert "conversion" in json.dumps(schema) and '"from"' in json.dumps(schema)


def test_factors_commands() -> None:
    run = openpcf("factors", "list", "--region", "CN-JS", "-f", "json")
    ids = {f["id"] for f in json.loads(run.stdout)}
    assert ids == {"cn-mee-grid/CN-JS@2021", "cn-mee-grid/CN-JS@2022", "cn-mee-grid/CN-JS@2023"}
    run = openpcf("factors", "show", "cn-mee-efp/CN@2023", "-f", "json")
    shown = json.loads(run.stdout)
    assert shown["co2e"] == 0.6205 and "MEE" in shown["publisher"]
    run = openpcf("factors", "search", "bituminous")
    assert run.returncode == 0 and "ipcc2006-cn-ncv/bituminous-coal" in run.stdout
    run = openpcf("factors", "show", "no/such")
    assert run.returncode == 1 and "unknown factor 'no/such'" in run.stderr


def test_version() -> None:
    run = openpcf("--version")
    assert run.returncode == 0 and run.stdout.startswith("openpcf ")
    assert sys.version_info >= (3, 11)
