"""Malformed models fail with the file, the line, the field and what was expected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from openpcf.domain.errors import FactorError, ModelError, MultiError, OpenpcfError
from openpcf.io.factor_file import load_factor_file
from openpcf.io.model_file import load_model
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project

Write = Callable[[str, str], Path]

GOOD_HEAD = """
openpcf: 1
product:
  name: Widget
  declared_unit: {amount: 1, unit: kg}
inputs:
"""


def error_of(path: Path) -> str:
    with pytest.raises(OpenpcfError) as err:
        calculate(load_project(path))
    return str(err.value)


def test_unknown_field_is_named_with_its_line_and_the_allowed_fields(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - name: Steel
    stage: raw-materials
    amount: 1
    unit: kg
    factr: my/steel
""",
    )
    msg = error_of(path)
    assert f"{path}:11" in msg
    assert "field 'inputs[0].factr'" in msg
    assert "unknown field 'factr'; expected one of: name, stage, amount, unit, factor" in msg


def test_unknown_top_level_field(write: Write) -> None:
    path = write("m.yaml", "openpcf: 1\nprodukt: {}\n")
    with pytest.raises(MultiError) as err:
        load_model(path)
    messages = [str(e) for e in err.value.errors]
    assert any(f"{path}:2" in m and "unknown field 'produkt'" in m for m in messages)
    assert any("field 'product'" in m and "required field is missing" in m for m in messages)


def test_wrong_type_names_the_field_and_the_expectation(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: Steel, stage: raw-materials, amount: lots, unit: kg, factor: x}
""",
    )
    msg = error_of(path)
    assert (
        f"{path}:7" in msg and "inputs[0].amount" in msg and "expected a number, got 'lots'" in msg
    )


def test_bad_stage_lists_the_stages(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: Steel, stage: making, amount: 1, unit: kg, factor: x}
""",
    )
    msg = error_of(path)
    assert "inputs[0].stage" in msg and "'raw-materials'" in msg and "'end-of-life'" in msg


def test_negative_amount(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: Steel, stage: production, amount: -1, unit: kg, factor: x}
""",
    )
    assert "greater than or equal to 0" in error_of(path)


def test_input_with_two_sources(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - name: Steel
    stage: production
    amount: 1
    unit: kg
    factor: x
    pcf: {value: 1, unit: kg CO2e/kg}
""",
    )
    msg = error_of(path)
    assert f"{path}:7" in msg
    assert "exactly one of factor, pcf, product, electricity, process (found factor, pcf)" in msg


def test_wrong_format_version(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD.replace("openpcf: 1", "openpcf: 2")
        + """
  - {name: Steel, stage: production, amount: 1, unit: kg, factor: x}
""",
    )
    msg = error_of(path)
    assert f"{path}:1" in msg and "field 'openpcf'" in msg and "1" in msg


def test_yaml_syntax_error_gives_the_line(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: Steel, stage: production, amount: 1, unit: kg, factor: x
  - {name: Iron}
""",
    )
    with pytest.raises(ModelError, match=rf"{path}:\d+: invalid YAML"):
        load_model(path)


def test_json_model_and_its_errors(write: Write) -> None:
    good = write(
        "m.json",
        """
        {"openpcf": 1,
         "product": {"name": "W", "declared_unit": {"amount": 1, "unit": "kg"}},
         "inputs": [{"name": "S", "stage": "production", "amount": 2, "unit": "kg",
                     "pcf": {"value": 3, "unit": "kg CO2e/kg", "gwp": "AR5"}}]}
        """,
    )
    assert calculate(load_project(good)).pcf.value == pytest.approx(6.0)  # 2 kg × 3
    bad = write("bad.json", '{"openpcf": 1,\n "product": {"name": "W",}\n}')
    with pytest.raises(ModelError, match=rf"{bad}:2: invalid JSON"):
        load_model(bad)
    typo = write(
        "typo.json",
        '{"openpcf": 1,\n "product": {"name": "W",\n  "declared_unit": 5},\n "inputs": []}',
    )
    with pytest.raises(OpenpcfError) as err:
        load_model(typo)
    assert f"{typo}:3" in str(err.value) and "product.declared_unit" in str(err.value)


def test_missing_file_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="file not found"):
        load_model(tmp_path / "nope.yaml")
    (tmp_path / "m.txt").write_text("x")
    with pytest.raises(ModelError, match=r"ending in \.yaml"):
        load_model(tmp_path / "m.txt")


def test_model_that_is_not_a_mapping(write: Write) -> None:
    with pytest.raises(ModelError, match="expected a mapping"):
        load_model(write("m.yaml", "- just\n- a list\n"))


def test_coproduct_shares_must_leave_a_main_product(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: Steel, stage: production, amount: 1, unit: kg, factor: x}
coproducts:
  - {name: a, amount: 1, unit: kg, share: 0.6}
  - {name: b, amount: 1, unit: kg, share: 0.4}
""",
    )
    assert "coproduct shares add up to 1" in error_of(path)


def test_unknown_gas(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: Steel, stage: production, amount: 1, unit: kg, factor: x}
emissions:
  - {gas: CO, amount: 1, unit: kg}
""",
    )
    msg = error_of(path)
    assert f"{path}:9" in msg and "unknown gas 'CO'" in msg and "N2O" in msg


def test_fossil_removal_is_rejected(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: Steel, stage: production, amount: 1, unit: kg, factor: x}
emissions:
  - {gas: CO2, amount: -1, unit: kg}
""",
    )
    assert "only for CO2 of biogenic or land-use origin" in error_of(path)


def test_emission_in_wrong_unit(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: S, stage: production, amount: 1, unit: kg, pcf: {value: 1, unit: kg CO2e/kg}}
emissions:
  - {gas: CH4, amount: 1, unit: m3}
""",
    )
    msg = error_of(path)
    assert f"{path}:9" in msg and "emission of CH4" in msg and "(volume)" in msg


def test_missing_sub_assembly_file(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: Casing, stage: raw-materials, amount: 1, unit: piece, product: casing.yaml}
""",
    )
    msg = error_of(path)
    assert f"{path}:7" in msg and "sub-assembly file 'casing.yaml' not found" in msg


def test_unknown_sub_assembly_id_lists_the_ids_found(write: Write) -> None:
    write(
        "other.yaml",
        """
        openpcf: 1
        product: {id: "urn:openpcf:product:acme:lid", name: Lid, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: S, stage: production, amount: 1, unit: kg, pcf: {value: 1, unit: kg CO2e/kg}}
        """,
    )
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: Casing, stage: raw-materials, amount: 1, unit: piece, product: "urn:openpcf:product:acme:x"}
""",
    )
    msg = error_of(path)
    assert "urn:openpcf:product:acme:lid" in msg and "urn:openpcf:product:acme:x" in msg


def test_sub_assembly_unit_mismatch(write: Write) -> None:
    write(
        "casing.yaml",
        """
        openpcf: 1
        product: {name: Casing, declared_unit: {amount: 1, unit: piece}}
        inputs:
          - {name: S, stage: production, amount: 1, unit: kg, pcf: {value: 1, unit: kg CO2e/kg}}
        """,
    )
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: Casing, stage: raw-materials, amount: 1, unit: kg, product: casing.yaml}
""",
    )
    msg = error_of(path)
    assert (
        f"{path}:7" in msg
        and "input 'Casing' against sub-assembly 'Casing' (made per piece)" in msg
    )


def test_electricity_without_region_or_year(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: Power, stage: production, amount: 1, unit: kWh, electricity: {year: 2023}}
""",
    )
    msg = error_of(path)
    assert f"{path}:7" in msg and "electricity.region is not given" in msg


def test_electricity_in_kg_is_a_unit_error(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: Power, stage: production, amount: 1, unit: kg, electricity: {region: CN, year: 2023}}
""",
    )
    assert "input 'Power' against factor 'cn-mee-efp/CN@2023' (per kWh)" in error_of(path)


def test_several_problems_are_reported_together(write: Write) -> None:
    path = write(
        "m.yaml",
        GOOD_HEAD
        + """
  - {name: A, stage: making, amount: 1, unit: kg, factor: x}
  - {name: B, stage: production, amount: -2, unit: kg, factor: x}
""",
    )
    with pytest.raises(MultiError) as err:
        load_model(path)
    assert [e.location.line for e in err.value.errors] == [7, 8]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "id,name,unit,co2e,source\nx,X,kg,abc,s\n",
            "f.csv:2: column 'co2e': expected a number, got 'abc'",
        ),
        ("id,name,unit,co2e,source,colour\n", "f.csv:1: unknown column(s) colour"),
        ("id,name,unit,source\nx,X,kg,s\n", "f.csv:2: column 'row': give exactly one of 'co2e'"),
        (
            "id,name,unit,co2e,source\nx,X,kg,1,s\nx,X,kg,2,s\n",
            "f.csv:3: factor id 'x' is defined twice",
        ),
        ("id,name,unit,co2e,source\nx,X,kg,1,s,extra\n", "f.csv:2: more cells than header columns"),
    ],
)
def test_bad_factor_csv(write: Write, text: str, expected: str) -> None:
    path = write("f.csv", text)
    with pytest.raises(FactorError) as err:
        load_factor_file(path)
    assert expected in str(err.value)


def test_bad_factor_yaml(write: Write) -> None:
    path = write(
        "f.yaml",
        """
        factors:
          - {id: a, name: A, unit: kg, co2e: 1, source: s}
          - {id: b, name: B, unit: kg, gases: {CO2: 1, XYZ: 2}, source: s}
        """,
    )
    with pytest.raises(FactorError) as err:
        load_factor_file(path)
    assert f"{path}:3" in str(err.value) and "unknown gas 'XYZ'" in str(err.value)
