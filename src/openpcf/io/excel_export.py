"""A product model written into the Excel BOM template, so that a model can go back to the
people who keep it in Excel: the template's sheets and columns (io/excel_template.py), its
example rows removed and the model's values filled in. Reading it with io/excel_bom.py gives
the same model.

One thing the workbook cannot state is a grid-electricity input with no field at all
(`electricity: {}`, the product's region and year); it is written with the product's region
(or year) spelt out, which resolves to the same factor.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from openpcf.io.excel_bom import (
    CERTIFICATE_INPUT,
    CERTIFICATES,
    MARKER,
    PRODUCT_FIELDS,
    PRODUCT_SHEET,
    RECORD_SHEETS,
    Column,
)
from openpcf.io.excel_template import write_template


def workbook_bytes(data: Mapping[str, Any]) -> bytes:
    """The .xlsx file of a model document (a mapping as in YAML, aliases such as 'from')."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.xlsx"
        write_template(path)
        wb = load_workbook(path)
    product = dict(data.get("product") or {})
    ws = wb[PRODUCT_SHEET]
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    for c in PRODUCT_FIELDS:
        value = _get(product, c)
        if value is not None and c.key in rows:
            ws.cell(row=rows[c.key], column=2, value=value)
    claims: list[dict[str, Any]] = []
    for sheet in RECORD_SHEETS:
        ws = wb[sheet.name]
        _clear_examples(ws)
        for record in data.get(sheet.field) or []:
            record = dict(record)
            if sheet.field == "inputs" and "electricity" in record:
                record["electricity"] = _electricity(record, product, claims)
            ws.append(["", *(_get(record, c) for c in sheet.columns)])
    ws = wb[CERTIFICATES.name]
    _clear_examples(ws)
    for claim in claims:
        ws.append(["", *(_get(claim, c) for c in CERTIFICATES.columns)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _electricity(
    record: Mapping[str, Any], product: Mapping[str, Any], claims: list[dict[str, Any]]
) -> dict[str, Any]:
    elec = dict(record.get("electricity") or {})
    certs = dict(elec.get("certificates") or {})
    for claim in certs.pop("claims", None) or []:
        claims.append({CERTIFICATE_INPUT: record.get("name"), **claim})
    if certs:
        elec["certificates"] = certs
    if not any(v not in (None, {}) for v in elec.values()):
        key = "region" if product.get("region") else "year"
        elec[key] = product.get(key)
    return elec


def _get(record: Mapping[str, Any], column: Column) -> Any:
    node: Any = record
    for part in column.path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    if isinstance(node, list | tuple):
        return ", ".join(str(v) for v in node)
    if isinstance(node, Mapping):
        return None
    return node


def _clear_examples(ws: Any) -> None:
    """Remove the template's grey example rows (the reader skips them, a user need not)."""
    assert ws.cell(row=1, column=1).value == MARKER
    if ws.max_row > 1:
        ws.delete_rows(2, ws.max_row - 1)
