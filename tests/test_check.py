"""The checker names the rule, the model line and the fix; calc refuses rule breaches."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from openpcf.services.calculation.check import check
from openpcf.services.calculation.project import load_project

from .cli_runner import openpcf

Write = Callable[[str, str], Path]

CEMENT = """
openpcf: 1
product:
  name: Cement
  rule: cement
  declared_unit: {amount: 1, unit: t}
  region: CN-AH
  year: 2023
inputs:
  - {name: Clinker, stage: raw-materials, amount: 800, unit: kg,
     pcf: {value: 0.86, unit: kg CO2e/kg, gwp: AR5},
     dq: {technological: 2, geographical: 2, temporal: 2, completeness: 2, reliability: 2}}
  - {name: Grid electricity, stage: production, amount: 40, unit: kWh, electricity: {}}
"""


def codes(path: Path, profile: str = "gb-t-24067") -> list[str]:
    return [v.code for v in check(load_project(path), profile)]


def test_a_complete_cement_model_has_no_violations(write: Write) -> None:
    assert codes(write("c.yaml", CEMENT)) == []


def test_missing_mandatory_input_and_stage(write: Write) -> None:
    path = write(
        "c.yaml",
        CEMENT.replace("name: Clinker, stage: raw-materials", "name: Slag, stage: production"),
    )
    violations = check(load_project(path), "gb-t-24067")
    assert {v.code for v in violations} == {"MISSING_STAGE", "MISSING_INPUT"}
    missing = next(v for v in violations if v.code == "MISSING_INPUT")
    assert missing.rule == "cement" and "clinker" in missing.message
    assert (
        "熟料" in missing.fix
        and missing.line == 8
        and "add an input" in missing.fix
        and missing.file == str(path)
    )


def test_wrong_declared_unit_names_its_line_and_fix(write: Write) -> None:
    path = write("c.yaml", CEMENT.replace("declared_unit: {amount: 1, unit: t}",
                                          "declared_unit: {amount: 1, unit: kg}"))  # fmt: skip
    [v] = check(load_project(path), "gb-t-24067")
    assert v.code == "DECLARED_UNIT" and v.line == 5
    assert v.fix == "set declared_unit: {amount: 1, unit: t}"


def test_equal_declared_unit_in_other_units_is_fine(write: Write) -> None:
    path = write("c.yaml", CEMENT.replace("declared_unit: {amount: 1, unit: t}",
                                          "declared_unit: {amount: 1000, unit: kg}"))  # fmt: skip
    assert codes(path) == []


def test_profile_boundary_and_data_quality(write: Write) -> None:
    text = CEMENT.replace("  year: 2023\n", "  year: 2023\n  boundary: gate-to-gate\n")
    text = text.replace(
        ",\n     dq: {technological: 2, geographical: 2, temporal: 2, completeness: 2, reliability: 2}",
        "",
    )
    found = check(load_project(write("c.yaml", text)), "pact-v3")
    by_code = {v.code: v for v in found}
    assert set(by_code) == {"BOUNDARY_NOT_ALLOWED", "BOUNDARY", "DATA_QUALITY_MISSING"}
    assert (
        by_code["BOUNDARY_NOT_ALLOWED"].rule == "pact-v3"
        and by_code["BOUNDARY_NOT_ALLOWED"].line == 8
    )
    assert by_code["BOUNDARY"].rule == "cement"


def test_cutoff_exceeded(write: Write) -> None:
    text = (
        CEMENT
        + """excluded:
  - {name: refractory bricks, stage: raw-materials, kg_co2e: 50, reason: no data}
"""
    )
    path = write("c.yaml", text)
    # total 800 × 0.86 + 40 × 0.6205 = 712.82 under PACT's AR6 (no CH4 here); 50 / 762.82 = 6.6 %
    [v] = check(load_project(path), "pact-v3")
    assert v.code == "CUTOFF_EXCEEDED" and "6.6%" in v.message and "at most 5%" in v.message
    assert v.line == 13
    assert codes(path) == []  # gb-t-24067 states no numeric cut-off


def test_stated_basis_against_profile(write: Write) -> None:
    path = write("c.yaml", CEMENT.replace("electricity: {}", "electricity: {basis: grid-co2}"))
    [v] = check(load_project(path), "gb-t-24067")
    assert v.code == "ELECTRICITY_BASIS" and v.line == 12


def test_unknown_rule(write: Write) -> None:
    [v] = check(
        load_project(write("c.yaml", CEMENT.replace("rule: cement", "rule: cemnet"))), "gb-t-24067"
    )
    assert v.code == "UNKNOWN_RULE" and "known rules:" in v.message and v.line == 4


def test_cli_check_and_calc_refusal(write: Write) -> None:
    path = write("c.yaml", CEMENT.replace("declared_unit: {amount: 1, unit: t}",
                                          "declared_unit: {amount: 1, unit: kg}"))  # fmt: skip
    run = openpcf("check", str(path))
    assert run.returncode == 1 and "DECLARED_UNIT" in run.stdout and f"{path}:5" in run.stdout
    refused = openpcf("calc", str(path))
    assert refused.returncode == 1 and "breaks its product rule" in refused.stderr
    allowed = openpcf("calc", str(path), "--allow-violations", "-f", "json")
    assert allowed.returncode == 0, allowed.stderr
    out = json.loads(allowed.stdout)
    assert [v["code"] for v in out["violations"]] == ["DECLARED_UNIT"]
    # the inputs are now per kg (reference defaults to the declared unit): 800 × 0.86 + 40 × 0.6205
    assert out["pcf"]["value"] == pytest.approx(688 + 24.82)
    good = openpcf("check", str(write("ok.yaml", CEMENT)))
    assert good.returncode == 0 and "no violations" in good.stdout


def test_cli_compare_json(write: Write) -> None:
    path = write("c.yaml", CEMENT)
    run = openpcf("calc", str(path), "--compare", "eu-cbam", "-f", "json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    [rec] = out["reconciliations"]
    # electricity: 40 kWh × (Anhui 2023 grid CO2 0.6553 − national footprint 0.6205)
    steps = {s["rule"]: s["kg_co2e"] for s in rec["steps"]}
    assert steps["electricity treatment"] == pytest.approx(40 * (0.6553 - 0.6205))
    assert sum(steps.values()) == pytest.approx(rec["gap"], abs=1e-9)
    assert [r["profile"] for r in out["results"]] == ["gb-t-24067", "eu-cbam"]


def test_cli_profiles_and_rules() -> None:
    run = openpcf("profiles", "list")
    assert run.returncode == 0 and "pact-v3" in run.stdout and "eu-cbam" in run.stdout
    shown = openpcf("profiles", "show", "eu-cbam")
    assert "grid_basis: grid-co2" in shown.stdout
    rules = openpcf("rules", "show", "cement")
    assert "2523 29 00" in rules.stdout
    assert openpcf("rules", "show", "nope").returncode == 1


def test_cli_calc_computes_a_model_naming_an_unknown_rule(write: Write) -> None:
    path = write("c.yaml", CEMENT.replace("rule: cement", "rule: cemnet"))
    run = openpcf("calc", str(path), "-f", "json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert "UNKNOWN_RULE" in [v["code"] for v in out["violations"]]
    # 800 × 0.86 + 40 × 0.6205 (national 2023 footprint factor for Anhui's electricity)
    assert out["pcf"]["value"] == pytest.approx(688 + 24.82)


def test_spec_example_rule_id_is_known(write: Write) -> None:
    # the product-model spec's example names `rule: lithium-battery`
    path = write(
        "b.yaml",
        """
        openpcf: 1
        product: {name: Cell, rule: lithium-battery, declared_unit: {amount: 1, unit: kWh},
                  region: CN-JS, year: 2023}
        inputs:
          - {name: Cathode, stage: raw-materials, amount: 1, unit: kg,
             pcf: {value: 9.8, unit: kg CO2e/kg, gwp: AR5},
             dq: {technological: 2, geographical: 2, temporal: 2, completeness: 2, reliability: 2}}
          - {name: Grid electricity, stage: production, amount: 45, unit: kWh, electricity: {}}
        """,
    )
    assert codes(path) == []
