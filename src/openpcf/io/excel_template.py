"""The Excel BOM template: every sheet and column `io/excel_bom.py` reads, with drop-downs.

The columns come from `excel_bom` (which derives them from the pydantic models), so whatever
the reader understands is in the template. Example rows are grey and marked `example` in the
'#' column; the reader skips them, so a user may keep them while filling in the sheet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from openpcf.domain.gases import GASES
from openpcf.io.excel_bom import (
    CERTIFICATES,
    INSTRUCTIONS_SHEET,
    MARKER,
    PRODUCT_FIELDS,
    PRODUCT_HEADERS,
    PRODUCT_SHEET,
    RECORD_SHEETS,
    Column,
    Sheet,
)

#: Units offered in unit drop-downs; any other unit openpcf knows may still be typed.
UNITS = ("kg", "g", "t", "kWh", "MWh", "MJ", "GJ", "tce", "m3", "Nm3", "m2", "piece", "t*km",
         "kg*km")  # fmt: skip
MASS_UNITS = ("kg", "g", "t")
ENERGY_UNITS = ("kWh", "MWh", "GWh")
PCF_UNITS = ("kg CO2e/kg", "kg CO2e/t", "t CO2e/t", "kg CO2e/kWh", "kg CO2e/MWh",
             "kg CO2e/piece", "kg CO2e/m2")  # fmt: skip
ROWS = 1000  # rows of the record sheets that get drop-downs

HEADER_REQUIRED = PatternFill("solid", fgColor="F4B183")
HEADER_OPTIONAL = PatternFill("solid", fgColor="DDEBF7")
EXAMPLE_FILL = PatternFill("solid", fgColor="F2F2F2")
EXAMPLE_FONT = Font(color="808080", italic=True)
BOLD = Font(bold=True)

PRODUCT_EXAMPLE: dict[str, Any] = {
    "id": "urn:openpcf:product:acme:lfp-cell",
    "name": "LFP prismatic cell 280 Ah",
    "rule": "lithium-battery-cell",
    "declared_unit.amount": 1,
    "declared_unit.unit": "kWh",
    "reference.amount": 1,
    "reference.unit": "piece",
    "conversion.from": "1 piece",
    "conversion.to": "0.896 kWh",
    "region": "CN-JS",
    "year": 2023,
    "boundary": "cradle-to-gate",
}

EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "Inputs": [
        {"name": "Cathode", "stage": "raw-materials", "amount": 2.1, "unit": "kg",
         "factor": "acme/cathode", "primary": True, "dq.technological": 2,
         "dq.geographical": 2, "dq.temporal": 1, "dq.completeness": 2, "dq.reliability": 2},
        {"name": "Grid power", "stage": "production", "amount": 45, "unit": "kWh",
         "electricity.region": "CN-JS", "electricity.year": 2023,
         "electricity.basis": "footprint", "electricity.certificates.consumption.amount": 5000,
         "electricity.certificates.consumption.unit": "MWh"},
        {"name": "Al foil", "stage": "raw-materials", "amount": 0.3, "unit": "kg",
         "pcf.value": 12.5, "pcf.unit": "kg CO2e/kg", "pcf.source": "supplier PCF"},
        {"name": "Casing", "stage": "raw-materials", "amount": 1, "unit": "piece",
         "product": "casing.yaml"},
    ],
    "Emissions": [
        {"name": "formation", "gas": "CH4", "amount": 0.002, "unit": "kg",
         "stage": "production", "origin": "fossil"},
    ],
    "Coproducts": [{"name": "copper scrap", "amount": 0.05, "unit": "kg", "share": 0.02}],
    "Factors": [
        {"id": "acme/cathode", "name": "LFP cathode", "unit": "kg", "co2e": 9.8, "gwp": "AR5",
         "source": "Acme survey 2024"},
        {"id": "acme/binder", "name": "PVDF binder", "unit": "kg", "CO2": 9.1, "CH4": 0.02,
         "N2O": 0.0004, "source": "Acme survey 2024"},
    ],
    "Excluded": [
        {"name": "Labels", "stage": "raw-materials", "kg_co2e": 0.001,
         "reason": "below the cut-off"},
    ],
    "Certificates": [
        {"input": "Grid power", "id": "GEC-2024-000123", "amount": 500, "unit": "MWh",
         "generation": "wind"},
    ],
}  # fmt: skip

#: Chinese labels of the fields, by the last part of the column key.
ZH: dict[str, str] = {
    "id": "标识", "name": "名称", "rule": "产品规则", "amount": "数量", "unit": "单位",
    "from": "参考量", "to": "折合声明单位", "region": "地区 (ISO 3166)", "year": "年份",
    "boundary": "系统边界", "price": "价格", "stage": "生命周期阶段", "factor": "排放因子 ID",
    "value": "碳足迹值", "source": "来源", "gwp": "GWP 版本", "origin": "碳来源",
    "product": "子装配模型 (路径或产品 ID)", "basis": "电力因子口径", "generation": "发电类型",
    "primary": "初级数据", "technological": "技术代表性", "geographical": "地理代表性",
    "temporal": "时间代表性", "completeness": "完整性", "reliability": "可靠性",
    "cn_code": "CBAM CN 编码", "gas": "温室气体", "share": "分摊比例", "kg_co2e": "kg CO2e 估计",
    "reason": "原因", "co2e": "kg CO2e/单位", "publisher": "发布机构", "source_url": "来源网址",
    "published": "发布日期", "version": "版本", "kind": "类别", "flags": "待核实标记",
    "note": "备注", "override": "覆盖同 ID 因子", "input": "对应的电力输入名称",
    "distribution": "不确定度分布", "gsd": "几何标准差", "pedigree": "由数据质量评分推算",
    "basic_gsd": "基本不确定度 (几何标准差)", "sd": "标准差", "min": "最小值",
    "mode": "最可能值", "max": "最大值",
}  # fmt: skip

SHEET_HELP: dict[str, tuple[str, str]] = {
    PRODUCT_SHEET: ("The product: one field per row; write values in column 'value'.",
                    "产品信息：每行一个字段，在 value 列填写。"),
    "Inputs": ("Activity data, one input per row. Each input has exactly one of: factor, "
               "pcf.* (supplier footprint), product (sub-assembly) or electricity.*.",
               "活动数据，每行一项输入。每项输入只能填写 factor、pcf.*（供应商碳足迹）、"
               "product（子装配）或 electricity.* 之一。"),
    "Emissions": ("Direct emissions at this site per reference amount (kg, g, t of a gas).",
                  "本场所直接排放（按参考量，单位 kg、g、t）。"),
    "Coproducts": ("Other outputs sharing the burden: every row states share, or none does.",
                   "共生产品：要么每行都填 share，要么都不填（按规则分配）。"),
    "Factors": ("Your own emission factors: co2e (with gwp) or kg of each gas per unit.",
                "自有排放因子：填写 co2e（及 gwp），或每种气体的 kg/单位。"),
    "Excluded": ("What the model leaves out under a cut-off, with an estimate.",
                 "按取舍原则排除的内容及其估算值。"),
    "Certificates": ("Green electricity certificates, one per row, naming the electricity "
                     "input (sheet Inputs) they cover.",
                     "绿证，每行一张，注明所对应的电力输入名称（Inputs 表）。"),
}  # fmt: skip

GENERAL_HELP: tuple[tuple[str, str], ...] = (
    ("openpcf Excel bill of materials (product model format 1). Fill in the sheets, then run "
     "`openpcf calc FILE.xlsx`.",
     "openpcf Excel 物料清单（产品模型格式 1）。填写各表后运行 `openpcf calc 文件.xlsx`。"),
    ("Row 1 of each sheet holds the column names openpcf reads; do not rename them. Orange "
     "headers are required, blue ones optional; a header's note explains it.",
     "各表第 1 行为 openpcf 读取的列名，请勿修改。橙色列必填，蓝色列选填；列名批注有说明。"),
    ("Grey rows marked 'example' in column '#' are skipped. Write '#' there to skip a row on "
     "purpose. Every other filled cell is read: a value in an unknown sheet or column, or a "
     "row without its name, is an error naming the sheet and cell.",
     "'#' 列标为 example 的灰色示例行不会被读取；在该列写 '#' 可跳过某行。其他所有非空单元格都会"
     "被读取：未知工作表或列中的值、缺少名称的行都会报错，并指出工作表和单元格。"),
    ("Units: " + ", ".join(UNITS) + " (and others openpcf knows, e.g. TJ, MJ, 10^4 Nm3). "
     "Units are checked, never assumed.",
     "单位：" + "、".join(UNITS) + "（以及 openpcf 支持的其他单位）。单位会被校验，不会被猜测。"),
    ("A sub-assembly (column product) is another model file, .yaml, .json or .xlsx, by path "
     "relative to this workbook, or the product id of a model in the same folder.",
     "子装配（product 列）为另一模型文件（.yaml、.json 或 .xlsx），路径相对于本工作簿，"
     "或同一文件夹中模型的产品 ID。"),
    ("Numbers must be numbers (formulas are fine once the workbook is saved by Excel or "
     "LibreOffice). TRUE/FALSE for yes/no columns. Data quality: 1 very good to 5 very poor.",
     "数值列须为数字（公式需经 Excel 或 LibreOffice 保存后才有结果）。是/否列填 TRUE/FALSE。"
     "数据质量评分：1 很好至 5 很差。"),
)  # fmt: skip


def write_template(path: Path) -> None:
    """Write the BOM template workbook to `path` (an .xlsx file)."""
    wb = Workbook()
    _instructions(wb.active)
    _product(wb.create_sheet(PRODUCT_SHEET))
    for sheet in (*RECORD_SHEETS, CERTIFICATES):
        _records(wb.create_sheet(sheet.name), sheet)
    wb.save(path)


def template_sheets() -> tuple[Sheet, ...]:
    """The record sheets of the template, in their order (for the reader and the docs)."""
    return (*RECORD_SHEETS, CERTIFICATES)


def _instructions(ws: Worksheet) -> None:
    ws.title = INSTRUCTIONS_SHEET
    widths = {"A": 40, "B": 10, "C": 64, "D": 56}
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    ws.append(["English", None, None, "中文"])
    ws.merge_cells("A1:C1")
    for en, zh in GENERAL_HELP:  # English across A:C, Chinese in D
        ws.append([en, None, None, zh])
        ws.merge_cells(f"A{ws.max_row}:C{ws.max_row}")
        _fit_height(ws, ws.max_row, [(en, 114), (zh, widths["D"] / 2)])
    ws.append([])
    ws.append(["sheet / column", "required", "description", "说明"])
    heading = ws.max_row
    sheets = [(PRODUCT_SHEET, PRODUCT_FIELDS), *((s.name, s.columns) for s in template_sheets())]
    for name, columns in sheets:
        en, zh = SHEET_HELP.get(name, ("", ""))
        ws.append([name, "", en, zh])
        ws.cell(row=ws.max_row, column=1).font = BOLD
        _fit_height(ws, ws.max_row, [(en, widths["C"]), (zh, widths["D"] / 2)])
        for c in columns:
            description = _describe(c)
            ws.append([f"  {c.key}", "yes" if c.required else "", description, _zh(c)])
            _fit_height(ws, ws.max_row, [(c.key, widths["A"]), (description, widths["C"])])
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r in (1, heading):
        for cell in ws[r]:
            cell.font = BOLD
            cell.fill = HEADER_OPTIONAL
    ws.freeze_panes = "A2"
    _print_wide(ws)


def _fit_height(ws: Worksheet, row: int, texts: list[tuple[str, float]]) -> None:
    """Row height for wrapped text: neither Excel nor LibreOffice sizes rows of a new file."""
    lines = max(max(1, -(-len(text) // max(1, int(width)))) for text, width in texts)
    if lines > 1:
        ws.row_dimensions[row].height = 15 * lines


def _print_wide(ws: Worksheet) -> None:
    """Print landscape, all columns on one page width."""
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0


def _product(ws: Worksheet) -> None:
    ws.append(list(PRODUCT_HEADERS))
    for cell in ws[1]:
        cell.font = BOLD
        cell.fill = HEADER_OPTIONAL
    for c in PRODUCT_FIELDS:
        example = PRODUCT_EXAMPLE.get(c.key)
        ws.append([c.key, None, example, f"{_describe(c)} {_zh(c)}".strip()])
        row = ws.max_row
        ws.cell(row=row, column=1).font = BOLD if c.required else Font()
        ws.cell(row=row, column=1).fill = HEADER_REQUIRED if c.required else HEADER_OPTIONAL
        ws.cell(row=row, column=3).font = EXAMPLE_FONT
        ws.cell(row=row, column=3).fill = EXAMPLE_FILL
        dv = _validation(PRODUCT_SHEET, c)
        if dv is not None:
            ws.add_data_validation(dv)
            dv.add(f"B{row}")
    for letter, width in zip("ABCD", (30, 32, 32, 90), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "B2"
    _print_wide(ws)


def _records(ws: Worksheet, sheet: Sheet) -> None:
    ws.append([MARKER, *(c.key for c in sheet.columns)])
    ws["A1"].comment = Comment("'example' or '#' here: the row is skipped.\n"
                               "写 example 或 # 则跳过该行。", "openpcf")  # fmt: skip
    ws["A1"].font = BOLD
    ws["A1"].alignment = Alignment(vertical="top")
    for i, c in enumerate(sheet.columns, start=2):
        cell = ws.cell(row=1, column=i)
        cell.font = BOLD
        cell.fill = HEADER_REQUIRED if c.required else HEADER_OPTIONAL
        note = ("required. " if c.required else "") + _describe(c) + "\n" + _zh(c)
        cell.comment = Comment(note.strip(), "openpcf", width=300, height=120)
    examples = EXAMPLES.get(sheet.name, [])
    for example in examples:
        ws.append(["example", *(example.get(c.key) for c in sheet.columns)])
        for cell in ws[ws.max_row]:
            cell.font = EXAMPLE_FONT
            cell.fill = EXAMPLE_FILL
    ws.column_dimensions["A"].width = 9
    header_lines = 1
    for i, c in enumerate(sheet.columns, start=2):
        longest = max([len(c.key), *(len(str(e.get(c.key) or "")) for e in examples)])
        width = min(max(longest + 2, 9), 28)  # long dotted headers wrap instead
        ws.column_dimensions[get_column_letter(i)].width = width
        ws.cell(row=1, column=i).alignment = Alignment(wrap_text=True, vertical="top")
        header_lines = max(header_lines, -(-len(c.key) // (width - 2)))
        dv = _validation(sheet.name, c)
        if dv is not None:
            ws.add_data_validation(dv)
            dv.add(f"{get_column_letter(i)}2:{get_column_letter(i)}{ROWS}")
    ws.row_dimensions[1].height = 15 * header_lines
    ws.freeze_panes = "C2"  # the header row, and the marker and name columns
    ws.page_setup.orientation = "landscape"


def _validation(sheet: str, c: Column) -> DataValidation | None:
    """A drop-down (or a range check) for the column, or None for free text."""
    leaf = c.key.rsplit(".", 1)[-1]
    if c.kind == "choice":
        return _list(c.choices, c, strict=True)
    if c.kind == "choices":
        return _list(c.choices, c, strict=False) if c.choices else None
    if c.kind == "boolean":
        return _list(("TRUE", "FALSE"), c, strict=True)
    if c.kind == "integer" and c.low is not None and c.high is not None:
        if c.high - c.low <= 10:
            return _list(tuple(str(n) for n in range(int(c.low), int(c.high) + 1)), c, True)
        dv = DataValidation(type="whole", operator="between", formula1=str(int(c.low)),
                            formula2=str(int(c.high)), allow_blank=True)  # fmt: skip
        return _messages(dv, c, f"a whole number from {int(c.low)} to {int(c.high)}")
    if leaf == "gas":
        return _list(GASES, c, strict=False)
    if c.key == "pcf.unit":
        return _list(PCF_UNITS, c, strict=False)
    if leaf == "unit":
        units = (MASS_UNITS if sheet == "Emissions"
                 else ENERGY_UNITS if sheet == CERTIFICATES.name else UNITS)  # fmt: skip
        return _list(units, c, strict=False)
    return None


def _list(choices: tuple[str, ...], c: Column, strict: bool) -> DataValidation:
    dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
    # A strict list refuses other values; a suggestion list only warns (other units exist).
    dv.errorStyle = "stop" if strict else "warning"
    return _messages(dv, c, "one of: " + ", ".join(choices))


def _messages(dv: DataValidation, c: Column, expected: str) -> DataValidation:
    dv.showErrorMessage = True
    dv.errorTitle = c.key[-32:]
    dv.error = f"Expected {expected}"[:255]
    if c.description:
        dv.showInputMessage = True
        dv.promptTitle = c.key[-32:]
        dv.prompt = c.description[:255]
    return dv


def _describe(c: Column) -> str:
    parts = [c.description] if c.description else []
    if c.kind == "choice":
        parts.append("one of: " + ", ".join(c.choices))
    elif c.kind == "choices" and c.choices:
        parts.append("comma-separated, of: " + ", ".join(c.choices))
    elif c.kind == "boolean":
        parts.append("TRUE or FALSE")
    elif c.kind == "date":
        parts.append("a date (2025-12-31)")
    elif c.kind in ("number", "integer"):
        what = "a whole number" if c.kind == "integer" else "a number"
        parts.append(what + (f" ({c.limits})" if c.limits else ""))
    return "; ".join(parts)


def _zh(c: Column) -> str:
    return ZH.get(c.key.rsplit(".", 1)[-1], "")
