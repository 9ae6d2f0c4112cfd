"""Excel bills of materials: the template, reading a filled one, and errors naming sheet and cell."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from openpcf.cli.template import template_app
from openpcf.domain.errors import Location, OpenpcfError
from openpcf.domain.model import STAGES, Certificate
from openpcf.io.excel_bom import (
    CERTIFICATES,
    PRODUCT_FIELDS,
    RECORD_SHEETS,
    SHEETS,
    unsupported_fields,
)
from openpcf.io.excel_template import UNITS, write_template
from openpcf.io.model_file import load_model
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project

from .cli_runner import openpcf

JIANGSU_GRID_CO2_2023 = 0.5827  # kg CO2/kWh, MEE/NBS 2025 No. 47 (as in test_cli)

PRODUCT = {
    "id": "urn:openpcf:product:acme:pump-housing",
    "name": "Pump housing",
    "declared_unit.amount": 1,
    "declared_unit.unit": "piece",
    "region": "CN-JS",
    "year": 2023,
    "boundary": "cradle-to-gate",
}
FACTORS = [
    {"id": "acme/steel", "name": "Cast steel", "unit": "kg", "CO2": 2.0, "CH4": 0.01,
     "N2O": 0.001, "source": "Acme mill survey 2024"},
    {"id": "acme/paint", "name": "Powder paint", "unit": "kg", "co2e": 3.0, "gwp": "AR5",
     "source": "Acme survey 2024"},
]  # fmt: skip
INPUTS = [
    {"name": "Steel", "stage": "raw-materials", "amount": 4, "unit": "kg",
     "factor": "acme/steel", "primary": True, "dq.technological": 2, "dq.geographical": 2,
     "dq.temporal": 1, "dq.completeness": 2, "dq.reliability": 3},
    {"name": "Paint", "stage": "raw-materials", "amount": 500, "unit": "g",
     "factor": "acme/paint"},
    {"name": "Gasket", "stage": "raw-materials", "amount": 2, "unit": "piece",
     "product": "gasket.yaml"},
    {"name": "Seal", "stage": "raw-materials", "amount": 0.2, "unit": "kg", "pcf.value": 12.5,
     "pcf.unit": "kg CO2e/kg", "pcf.source": "supplier PCF", "pcf.gwp": "AR5"},
    {"name": "Grid power", "stage": "production", "amount": 10, "unit": "kWh",
     "electricity.basis": "grid-co2"},
]  # fmt: skip
EMISSIONS = [{"name": "curing oven", "gas": "CH4", "amount": 0.01, "unit": "kg",
              "stage": "production"}]  # fmt: skip
COPRODUCTS = [{"name": "steel scrap", "amount": 0.1, "unit": "kg", "share": 0.1}]
EXCLUDED = [{"name": "Labels", "stage": "raw-materials", "kg_co2e": 0.001,
             "reason": "below the cut-off"}]  # fmt: skip

# The same model as YAML, written out by hand.
SAME_MODEL_YAML = """
openpcf: 1
product:
  id: urn:openpcf:product:acme:pump-housing
  name: Pump housing
  declared_unit: {amount: 1, unit: piece}
  region: CN-JS
  year: 2023
  boundary: cradle-to-gate
factors:
  - {id: acme/steel, name: Cast steel, unit: kg, gases: {CO2: 2.0, CH4: 0.01, N2O: 0.001},
     source: Acme mill survey 2024}
  - {id: acme/paint, name: Powder paint, unit: kg, co2e: 3.0, gwp: AR5, source: Acme survey 2024}
inputs:
  - {name: Steel, stage: raw-materials, amount: 4, unit: kg, factor: acme/steel, primary: true,
     dq: {technological: 2, geographical: 2, temporal: 1, completeness: 2, reliability: 3}}
  - {name: Paint, stage: raw-materials, amount: 500, unit: g, factor: acme/paint}
  - {name: Gasket, stage: raw-materials, amount: 2, unit: piece, product: gasket.yaml}
  - {name: Seal, stage: raw-materials, amount: 0.2, unit: kg,
     pcf: {value: 12.5, unit: kg CO2e/kg, source: supplier PCF, gwp: AR5}}
  - {name: Grid power, stage: production, amount: 10, unit: kWh, electricity: {basis: grid-co2}}
emissions:
  - {name: curing oven, gas: CH4, amount: 0.01, unit: kg, stage: production}
coproducts:
  - {name: steel scrap, amount: 0.1, unit: kg, share: 0.1}
excluded:
  - {name: Labels, stage: raw-materials, kg_co2e: 0.001, reason: below the cut-off}
"""

GASKET_YAML = """
openpcf: 1
product: {name: Rubber gasket, declared_unit: {amount: 1, unit: piece}}
inputs:
  - {name: EPDM rubber, stage: raw-materials, amount: 0.1, unit: kg,
     pcf: {value: 3.0, unit: kg CO2e/kg, source: supplier PCF}}
"""

FIRST_ROW = 6  # the template's Inputs sheet: header row 1, example rows 2-5


def header(ws: Worksheet) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[1] if c.value is not None}


def cell_of(ws: Worksheet, key: str, row: int) -> str:
    return f"{get_column_letter(header(ws)[key])}{row}"


def set_product(ws: Worksheet, values: dict[str, Any]) -> None:
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    for key, value in values.items():
        ws.cell(row=rows[key], column=2, value=value)


def add_rows(ws: Worksheet, rows: list[dict[str, Any]]) -> None:
    columns = header(ws)
    for values in rows:
        r = ws.max_row + 1
        for key, value in values.items():
            ws.cell(row=r, column=columns[key], value=value)


def product_row(ws: Worksheet, key: str) -> int:
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == key)


@pytest.fixture
def bom(tmp_path: Path) -> Path:
    """The pump housing filled into a fresh template (its example rows left in place)."""
    path = tmp_path / "bom.xlsx"
    write_template(path)
    wb = openpyxl.load_workbook(path)
    set_product(wb["Product"], PRODUCT)
    add_rows(wb["Factors"], FACTORS)
    add_rows(wb["Inputs"], INPUTS)
    add_rows(wb["Emissions"], EMISSIONS)
    add_rows(wb["Coproducts"], COPRODUCTS)
    add_rows(wb["Excluded"], EXCLUDED)
    wb.save(path)
    (tmp_path / "gasket.yaml").write_text(textwrap.dedent(GASKET_YAML), encoding="utf-8")
    return path


def edited(path: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(OpenpcfError) as err:
        calculate(load_project(path))
    return str(err.value)


# -- a filled template computes ----------------------------------------------------------------


def test_filled_template_gives_the_hand_calculation(bom: Path) -> None:
    result = calculate(load_project(bom))
    steel = 4 * (2.0 + 0.01 * 28 + 0.001 * 265)  # AR5: CH4 28, N2O 265 -> 10.18
    paint = 0.5 * 3.0  # 500 g
    gasket = 2 * (0.1 * 3.0)
    seal = 0.2 * 12.5
    power = 10 * JIANGSU_GRID_CO2_2023
    oven = 0.01 * 28
    main_share = 1 - 0.1
    expected = (steel + paint + gasket + seal + power + oven) * main_share  # 18.7983
    assert result.pcf.value == pytest.approx(expected)
    assert result.pcf.value == pytest.approx(18.7983)
    by_name = {c.name: c.kg_co2e for c in result.contributions}
    assert by_name["Steel"] == pytest.approx(steel * main_share)
    assert by_name["Gasket"] == pytest.approx(gasket * main_share)
    # contributions carry the row of the Inputs sheet the input came from
    rows = {c.name: c.line for c in result.contributions}
    assert rows["Steel"] == FIRST_ROW and rows["Grid power"] == FIRST_ROW + 4


def test_workbook_and_the_same_model_as_yaml_are_one_model_and_one_result(
    bom: Path, tmp_path: Path
) -> None:
    yaml_path = tmp_path / "bom.yaml"
    yaml_path.write_text(textwrap.dedent(SAME_MODEL_YAML), encoding="utf-8")
    assert load_model(bom).model == load_model(yaml_path).model
    from_excel, from_yaml = calculate(load_project(bom)), calculate(load_project(yaml_path))
    assert from_excel.pcf == from_yaml.pcf
    assert from_excel.stages == from_yaml.stages
    assert from_excel.gases == from_yaml.gases
    assert [(c.name, c.kg_co2e) for c in from_excel.contributions] == [
        (c.name, c.kg_co2e) for c in from_yaml.contributions
    ]


def test_template_examples_without_their_marks_are_a_valid_model_of_every_sheet(
    tmp_path: Path,
) -> None:
    path = tmp_path / "examples.xlsx"
    write_template(path)

    def unmark(wb: openpyxl.Workbook) -> None:
        product = wb["Product"]
        for r in range(2, product.max_row + 1):  # the example column into the value column
            product.cell(row=r, column=2).value = product.cell(row=r, column=3).value
        for name in (s.name for s in (*RECORD_SHEETS, CERTIFICATES)):
            for r in range(2, wb[name].max_row + 1):
                wb[name].cell(row=r, column=1).value = None

    model = load_model(edited(path, unmark)).model
    assert model.product.conversion is not None and model.product.conversion.to == "0.896 kWh"
    assert [i.source_kind for i in model.inputs] == ["factor", "electricity", "pcf", "product"]
    assert model.inputs[0].dq is not None and model.inputs[0].primary
    certificates = model.inputs[1].electricity.certificates  # type: ignore[union-attr]
    assert certificates is not None
    assert certificates.claims[0] == Certificate(
        id="GEC-2024-000123", amount=500, unit="MWh", generation="wind"
    )
    assert model.factors[1].gases == {"CO2": 9.1, "CH4": 0.02, "N2O": 0.0004}
    assert model.emissions and model.coproducts and model.excluded


def test_sub_assemblies_may_be_workbooks_by_path_or_by_product_id(
    bom: Path, tmp_path: Path
) -> None:
    (tmp_path / "gasket.yaml").unlink()
    gasket = tmp_path / "gasket-bom.xlsx"
    write_template(gasket)

    def fill(wb: openpyxl.Workbook) -> None:
        set_product(wb["Product"], {"id": "urn:openpcf:product:acme:gasket",
                                    "name": "Rubber gasket", "declared_unit.amount": 1,
                                    "declared_unit.unit": "piece"})  # fmt: skip
        add_rows(wb["Inputs"], [{"name": "EPDM rubber", "stage": "raw-materials",
                                 "amount": 0.1, "unit": "kg", "pcf.value": 3.0,
                                 "pcf.unit": "kg CO2e/kg"}])  # fmt: skip

    edited(gasket, fill)
    by_path = edited(bom, _set("Inputs", "product", "gasket-bom.xlsx", row=FIRST_ROW + 2))
    assert calculate(load_project(by_path)).pcf.value == pytest.approx(18.7983)
    gasket_id = "urn:openpcf:product:acme:gasket"
    by_id = edited(bom, _set("Inputs", "product", gasket_id, row=FIRST_ROW + 2))
    assert calculate(load_project(by_id)).pcf.value == pytest.approx(18.7983)


def test_cells_are_read_as_the_field_type_needs(bom: Path) -> None:
    def typed_by_hand(wb: openpyxl.Workbook) -> None:
        _set("Factors", "published", dt.datetime(2024, 5, 1), row=4)(wb)  # a date cell
        _set("Inputs", "stage", " Raw-Materials ")(wb)  # case and spaces as typed
        _set("Inputs", "primary", "no")(wb)
        _set("Inputs", "dq.temporal", "1")(wb)  # a number typed as text
        _set("Inputs", "cn_code", 72142000)(wb)  # a code typed as a number
        _set("Inputs", "electricity.year", 2023.0, row=FIRST_ROW + 4)(wb)

    model = load_model(edited(bom, typed_by_hand)).model
    assert model.factors[0].published == "2024-05-01"
    steel = model.inputs[0]
    assert (steel.stage, steel.primary, steel.cn_code) == ("raw-materials", False, "72142000")
    assert steel.dq is not None and steel.dq.temporal == 1
    assert model.inputs[4].electricity is not None and model.inputs[4].electricity.year == 2023


# -- the template ------------------------------------------------------------------------------


def test_template_has_every_column_the_reader_understands(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_template(path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Instructions", "Product", *(s.name for s in RECORD_SHEETS),
                             "Certificates"]  # fmt: skip
    assert set(wb.sheetnames) == set(SHEETS)
    for sheet in (*RECORD_SHEETS, CERTIFICATES):
        assert list(header(wb[sheet.name])) == ["#", *(c.key for c in sheet.columns)]
        assert wb[sheet.name].freeze_panes == "C2"
    product = wb["Product"]
    assert [product.cell(row=r, column=1).value for r in range(2, product.max_row + 1)] == [
        c.key for c in PRODUCT_FIELDS
    ]
    inputs = {c.key for c in RECORD_SHEETS[[s.name for s in RECORD_SHEETS].index("Inputs")].columns}
    assert {"name", "stage", "amount", "unit", "factor", "electricity.region",
            "electricity.year", "electricity.basis", "pcf.value", "pcf.unit", "pcf.source",
            "product", "primary", "dq.technological", "cn_code"} <= inputs  # fmt: skip
    factors = {c.key for c in RECORD_SHEETS[0].columns}
    assert {"id", "name", "unit", "co2e", "gwp", "CO2", "CH4", "N2O", "source"} <= factors
    # Only a list inside a record has no column; certificate claims have their own sheet. The
    # kWh of a metered direct connection are written by openpcf from stored readings, never in
    # a file (domain/model.py MeteredEvidence).
    assert unsupported_fields() == [
        ("inputs", "electricity", "direct_connection", "metered", "kwh"),
        ("inputs", "electricity", "certificates", "claims"),
    ]
    assert [c.key for c in CERTIFICATES.columns] == ["input", *Certificate.model_fields]
    instructions = " ".join(str(c.value) for row in wb["Instructions"].iter_rows() for c in row)
    assert "openpcf calc" in instructions and "示例" in instructions


def _validations(ws: Worksheet) -> dict[str, Any]:
    """Each cell range's first cell -> its data validation."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[rng.split(":")[0]] = dv
    return out


def test_template_has_drop_downs_for_stages_units_boundary_basis_gwp_and_booleans(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.xlsx"
    write_template(path)
    wb = openpyxl.load_workbook(path)
    inputs = wb["Inputs"]
    dvs = _validations(inputs)

    def choices(key: str) -> list[str]:
        dv = dvs[cell_of(inputs, key, 2)]
        assert dv.type == "list"
        return dv.formula1.strip('"').split(",")

    assert choices("stage") == list(STAGES)
    assert dvs[cell_of(inputs, "stage", 2)].errorStyle == "stop"
    assert choices("unit") == list(UNITS)
    assert {"kg", "g", "t", "kWh", "MWh", "MJ", "GJ", "tce", "m3", "Nm3", "m2", "piece",
            "t*km", "kg*km"} <= set(choices("unit"))  # fmt: skip
    assert dvs[cell_of(inputs, "unit", 2)].errorStyle == "warning"  # other units are allowed
    assert choices("electricity.basis") == ["footprint", "grid-co2"]
    assert choices("pcf.gwp") == ["AR5", "AR6"]
    assert choices("primary") == ["TRUE", "FALSE"]
    assert choices("dq.reliability") == ["1", "2", "3", "4", "5"]
    assert "wind" in choices("electricity.direct_connection.generation")
    assert str(dvs[cell_of(inputs, "stage", 2)].sqref).endswith("1000")
    product = wb["Product"]
    boundary = _validations(product)[f"B{product_row(product, 'boundary')}"]
    assert boundary.formula1 == '"cradle-to-gate,cradle-to-grave,gate-to-gate"'
    factors = wb["Factors"]
    assert _validations(factors)[cell_of(factors, "gwp", 2)].formula1 == '"AR5,AR6"'
    assert _validations(factors)[cell_of(factors, "override", 2)].formula1 == '"TRUE,FALSE"'
    emissions = wb["Emissions"]
    assert "CH4" in _validations(emissions)[cell_of(emissions, "gas", 2)].formula1


def test_example_rows_are_grey_and_marked(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_template(path)
    inputs = openpyxl.load_workbook(path)["Inputs"]
    assert [inputs.cell(row=r, column=1).value for r in range(2, FIRST_ROW)] == ["example"] * 4
    assert inputs["B2"].font.color.rgb.endswith("808080")
    assert inputs["A1"].value == "#"


# -- errors name sheet and cell ----------------------------------------------------------------


def _at(ws_name: str, key: str, row: int = FIRST_ROW) -> Callable[[openpyxl.Workbook], str]:
    return lambda wb: f"sheet '{ws_name}' cell {cell_of(wb[ws_name], key, row)}"


def _set(sheet: str, key: str, value: Any, row: int = FIRST_ROW) -> Callable[..., None]:
    def change(wb: openpyxl.Workbook) -> None:
        wb[sheet].cell(row=row, column=header(wb[sheet])[key]).value = value

    return change


def _unknown_sheet(wb: openpyxl.Workbook) -> None:
    wb.create_sheet("Notes")["B2"] = "ask the supplier again"


def _unknown_header(wb: openpyxl.Workbook) -> None:
    ws = wb["Inputs"]
    ws.cell(row=1, column=ws.max_column + 1, value="colour")


def _value_without_header(wb: openpyxl.Workbook) -> None:
    ws = wb["Inputs"]
    ws.cell(row=FIRST_ROW, column=ws.max_column + 2, value="blue")


def _no_unit_column(wb: openpyxl.Workbook) -> None:
    ws = wb["Emissions"]
    ws.delete_cols(header(ws)["unit"])


def _product_field(wb: openpyxl.Workbook) -> None:
    ws = wb["Product"]
    ws.cell(row=ws.max_row + 1, column=1, value="colour")
    ws.cell(row=ws.max_row, column=2, value="blue")


def _product_year(wb: openpyxl.Workbook) -> None:
    ws = wb["Product"]
    ws.cell(row=product_row(ws, "year"), column=2, value=1800)


def _formula_without_result(wb: openpyxl.Workbook) -> None:
    _set("Inputs", "amount", "=2*2")(wb)


def _unknown_certificate_input(wb: openpyxl.Workbook) -> None:
    add_rows(wb["Certificates"], [{"input": "Compressed air", "id": "GEC-1", "amount": 1,
                                   "unit": "MWh", "generation": "wind"}])  # fmt: skip


def _no_product_sheet(wb: openpyxl.Workbook) -> None:
    del wb["Product"]


def _end_of(sheet: str) -> Callable[[openpyxl.Workbook], str]:
    return lambda wb: f"sheet '{sheet}' cell {wb[sheet].cell(1, wb[sheet].max_column).coordinate}"


ERRORS = {
    "unknown sheet": (_unknown_sheet, lambda wb: "sheet 'Notes' cell B2", "unknown sheet 'Notes'"),
    "unknown column header": (_unknown_header, _end_of("Inputs"), "unknown column 'colour'"),
    "value in a column without a header": (
        _value_without_header,
        lambda wb: f"sheet 'Inputs' cell {wb['Inputs'].cell(FIRST_ROW, wb['Inputs'].max_column).coordinate}",
        "its column has no known header",
    ),
    "required column missing": (
        _no_unit_column, lambda wb: "sheet 'Emissions' cell", "required column 'unit' is missing"
    ),
    "bad number": (_set("Inputs", "amount", "lots"), _at("Inputs", "amount"),
                   "field 'inputs[0].amount': expected a number, got 'lots'"),
    "bad whole number": (_set("Inputs", "dq.temporal", 1.5), _at("Inputs", "dq.temporal"),
                         "expected a whole number"),
    "bad boolean": (_set("Inputs", "primary", "perhaps"), _at("Inputs", "primary"),
                    "expected TRUE or FALSE"),
    "unknown stage": (_set("Inputs", "stage", "making"), _at("Inputs", "stage"),
                      "unknown stage 'making'; expected one of: raw-materials, production"),
    "missing required cell": (_set("Inputs", "unit", None), _at("Inputs", "unit"),
                              "field 'inputs[0].unit': required field is missing"),
    "row with data but no name": (_set("Inputs", "name", None), _at("Inputs", "name"),
                                  "field 'inputs[0].name': required field is missing"),
    "bad skip mark": (_set("Inputs", "#", "maybe"), lambda wb: f"sheet 'Inputs' cell A{FIRST_ROW}",
                      "write 'example' or '#'"),
    "rating out of range (pydantic)": (
        _set("Inputs", "dq.technological", 7), _at("Inputs", "dq.technological"),
        "field 'inputs[0].dq.technological': input should be less than or equal to 5",
    ),
    "two sources in one row (pydantic)": (
        _set("Inputs", "product", "gasket.yaml"), _at("Inputs", "name"),
        "(found factor, product)",
    ),
    "unknown gas (pydantic)": (_set("Emissions", "gas", "CO3", row=3), _at("Emissions", "gas", 3),
                               "unknown gas 'CO3'"),
    "coproduct share (pydantic)": (
        _set("Coproducts", "share", 1.5, row=3), _at("Coproducts", "share", 3),
        "field 'coproducts[0].share': input should be less than 1",
    ),
    "product year (pydantic)": (
        _product_year, lambda wb: f"sheet 'Product' cell B{product_row(wb['Product'], 'year')}",
        "field 'product.year': input should be greater than or equal to 1990",
    ),
    "unknown product field": (
        _product_field,
        lambda wb: f"sheet 'Product' cell A{wb['Product'].max_row}",
        "unknown product field 'colour'",
    ),
    "unknown factor id (at calculation)": (
        _set("Inputs", "factor", "acme/stele"), _at("Inputs", "factor"),
        "unknown factor 'acme/stele'; did you mean acme/steel",
    ),
    "unit against the factor (at calculation)": (
        _set("Inputs", "unit", "kWh"), _at("Inputs", "name"), "cannot be converted to 'kg'"
    ),
    "sub-assembly not found": (
        _set("Inputs", "product", "casing.yaml", row=FIRST_ROW + 2),
        _at("Inputs", "product", FIRST_ROW + 2), "sub-assembly file 'casing.yaml' not found",
    ),
    "formula without a saved result": (
        _formula_without_result, _at("Inputs", "amount"), "the formula =2*2 has no saved result"
    ),
    "Excel error value": (_set("Inputs", "amount", "#DIV/0!"), _at("Inputs", "amount"),
                          "the Excel error #DIV/0!"),
    "certificate for an unknown input": (
        _unknown_certificate_input, _at("Certificates", "input", 3),
        "no input in sheet 'Inputs' named 'Compressed air'",
    ),
    "no Product sheet": (_no_product_sheet, lambda wb: "sheet 'Product'", "no 'Product' sheet"),
}  # fmt: skip


@pytest.mark.parametrize("kind", ERRORS)
def test_every_error_names_the_file_sheet_and_cell(bom: Path, kind: str) -> None:
    change, where, message = ERRORS[kind]
    wb = openpyxl.load_workbook(bom)
    change(wb)
    wb.save(bom)
    msg = error_of(bom)
    assert f"{bom}, {where(wb)}" in msg, msg
    assert message in msg, msg


def test_every_problem_of_a_workbook_is_reported_at_once(bom: Path) -> None:
    def two(wb: openpyxl.Workbook) -> None:
        _set("Inputs", "amount", "lots")(wb)
        _set("Inputs", "stage", "making", row=FIRST_ROW + 1)(wb)

    msg = error_of(edited(bom, two))
    assert f"sheet 'Inputs' cell D{FIRST_ROW}" in msg
    assert f"sheet 'Inputs' cell C{FIRST_ROW + 1}" in msg


def test_rows_marked_hash_are_skipped_on_purpose(bom: Path) -> None:
    skipped = edited(bom, _set("Inputs", "#", "#", row=FIRST_ROW + 4))  # the grid power
    assert "Grid power" not in [i.name for i in load_model(skipped).model.inputs]


def test_location_in_a_workbook_names_sheet_and_cell_and_yaml_keeps_its_line() -> None:
    at_cell = Location("bom.xlsx", 7, "inputs[2].amount", "Inputs", "C7")
    assert str(at_cell) == "bom.xlsx, sheet 'Inputs' cell C7, field 'inputs[2].amount'"
    assert str(Location("bom.xlsx", 7, sheet="Inputs")) == "bom.xlsx, sheet 'Inputs' row 7"
    assert str(Location("m.yaml", 7, "inputs[2].amount")) == "m.yaml:7, field 'inputs[2].amount'"
    assert str(Location(line=3)) == "line 3"


# -- the command line --------------------------------------------------------------------------


def test_cli_writes_the_template(tmp_path: Path) -> None:
    out = tmp_path / "bom.xlsx"
    run = openpcf("template", "excel", str(out))
    assert run.returncode == 0, run.stderr
    assert "openpcf calc" in run.stdout
    assert "Inputs" in openpyxl.load_workbook(out).sheetnames


def test_template_command_keeps_an_existing_file_and_wants_xlsx(tmp_path: Path) -> None:
    out = tmp_path / "bom.xlsx"
    out.write_bytes(b"filled in by hand")
    again = CliRunner().invoke(template_app, [str(out)])
    assert again.exit_code == 1 and "--force" in again.output
    assert out.read_bytes() == b"filled in by hand"
    assert CliRunner().invoke(template_app, [str(out), "--force"]).exit_code == 0
    assert "Product" in openpyxl.load_workbook(out).sheetnames
    wrong = CliRunner().invoke(template_app, [str(tmp_path / "bom.csv")])
    assert wrong.exit_code == 1 and ".xlsx" in wrong.output


def test_cli_calc_of_a_workbook(bom: Path) -> None:
    run = openpcf("calc", str(bom), "--format", "json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["product"] == "Pump housing"
    assert out["pcf"] == {"value": pytest.approx(18.7983), "unit": "kg CO2e"}
    assert out["declared_unit"] == {"amount": 1.0, "unit": "piece"}

    edited(bom, _set("Inputs", "amount", "lots"))
    failed = openpcf("calc", str(bom), "--format", "json")
    assert failed.returncode == 1
    assert f"sheet 'Inputs' cell D{FIRST_ROW}, field 'inputs[0].amount'" in failed.stderr
