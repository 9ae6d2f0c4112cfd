"""The model editor's form: a product model as grid rows and back, and its problems by cell.

The editor posts every cell as `<section>-<row>-<column>` (`inputs-3-unit`). Fields the grid
does not show (data quality, uncertainty, green-power evidence, PACT provenance...) travel in
the row's hidden `x` cell as JSON, so editing a model in the browser never drops what a file
said. A change note becomes the document's first comment line, `# Change: ...`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from openpcf.domain.errors import MultiError, OpenpcfError

CHANGE = "# Change: "
# The grid's columns of each section; `x` holds the row's other fields as JSON.
COLUMNS: dict[str, tuple[str, ...]] = {
    "factors": ("id", "name", "unit", "value", "gwp", "source", "x"),
    "inputs": (
        "name",
        "stage",
        "amount",
        "unit",
        "kind",
        "ref",
        "pcf_unit",
        "pcf_gwp",
        "pcf_source",
        "primary",
        "x",
    ),
    "emissions": ("name", "gas", "amount", "unit", "stage", "origin", "x"),
    "coproducts": ("name", "amount", "unit", "share", "x"),
    "excluded": ("name", "stage", "kg_co2e", "reason", "x"),
}
PRODUCT = (
    "name", "du_amount", "du_unit", "ref_amount", "ref_unit", "conv_from", "conv_to",
    "region", "year", "boundary", "rule", "x",
)  # fmt: skip
KINDS = ("factor", "process", "product", "pcf", "electricity")
# Defaults of a new row; a row equal to them (or blank) is left out of the model.
BLANK: dict[str, dict[str, str]] = {
    "inputs": {"stage": "raw-materials", "kind": "factor"},
    "emissions": {"stage": "production", "origin": "fossil", "unit": "kg"},
    "excluded": {"stage": "raw-materials"},
}
# A gas list as typed: "CO2=2.2, CH4=0.0055" or "CO2: 2.2; CH4: 0.0055".
GAS_ITEM = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*[=:]\s*(\S+)\s*$")


@dataclass
class Grid:
    """The editor's state: product cells, rows of each section, problems keyed by cell name."""

    product: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    note: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    # section -> grid row of each model item (blank rows are left out of the model)
    positions: dict[str, list[int]] = field(default_factory=dict)

    def error(self, cell: str, message: str) -> None:
        self.errors.setdefault(cell, []).append(message)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.errors.values()) + len(self.general)


# --- model document -> grid -----------------------------------------------------------------


def grid_of(data: Mapping[str, Any]) -> Grid:
    """The grid showing a model document's data (a parsed YAML/JSON mapping)."""
    p = dict(data.get("product") or {})
    du, ref = p.pop("declared_unit", None) or {}, p.pop("reference", None) or {}
    conv = p.pop("conversion", None) or {}
    product = {
        "name": _s(p.pop("name", "")),
        "du_amount": _s(du.get("amount", "")),
        "du_unit": _s(du.get("unit", "")),
        "ref_amount": _s(ref.get("amount", "")),
        "ref_unit": _s(ref.get("unit", "")),
        "conv_from": _s(conv.get("from", "")),
        "conv_to": _s(conv.get("to", "")),
        "region": _s(p.pop("region", "")),
        "year": _s(p.pop("year", "")),
        "boundary": _s(p.pop("boundary", "cradle-to-gate")),
        "rule": _s(p.pop("rule", "")),
        "x": _x(p),
    }
    rows = {
        "factors": [_factor_row(dict(f)) for f in data.get("factors") or []],
        "inputs": [_input_row(dict(i)) for i in data.get("inputs") or []],
        "emissions": [_plain_row("emissions", dict(e)) for e in data.get("emissions") or []],
        "coproducts": [_plain_row("coproducts", dict(c)) for c in data.get("coproducts") or []],
        "excluded": [_plain_row("excluded", dict(e)) for e in data.get("excluded") or []],
    }
    return Grid(product=product, rows=rows)


def empty_grid(name: str = "") -> Grid:
    grid = grid_of({"product": {"name": name, "declared_unit": {"amount": 1, "unit": ""}}})
    grid.rows["inputs"].append(blank_row("inputs"))
    return grid


def blank_row(section: str) -> dict[str, str]:
    return {c: BLANK.get(section, {}).get(c, "") for c in COLUMNS[section]}


def _factor_row(f: dict[str, Any]) -> dict[str, str]:
    gases = f.pop("gases", None)
    value = _gases_text(gases) if gases else _s(f.pop("co2e", ""))
    row = {c: _s(f.pop(c, "")) for c in ("id", "name", "unit", "gwp", "source")}
    return {**row, "value": value, "x": _x(f)}


def _input_row(i: dict[str, Any]) -> dict[str, str]:
    row = {c: _s(i.pop(c, "")) for c in ("name", "stage", "amount", "unit")}
    row["primary"] = "1" if i.pop("primary", False) else ""
    kind = next((k for k in KINDS if k in i), "factor")
    ref, pcf_unit, pcf_gwp, pcf_source = "", "", "", ""
    if kind == "pcf":
        pcf = dict(i.pop("pcf") or {})
        ref, pcf_unit = _s(pcf.pop("value", "")), _s(pcf.pop("unit", ""))
        pcf_gwp, pcf_source = _s(pcf.pop("gwp", "")), _s(pcf.pop("source", ""))
        if pcf:
            i["pcf"] = pcf  # the rest of the supplier PCF (uncertainty, PACT provenance)
    elif kind == "electricity":
        elec = dict(i.pop("electricity") or {})
        ref = _s(elec.pop("region", ""))
        i["electricity"] = elec  # year, basis, green evidence
    else:
        ref = _s(i.pop(kind, ""))
    return {
        **row, "kind": kind, "ref": ref, "pcf_unit": pcf_unit, "pcf_gwp": pcf_gwp,
        "pcf_source": pcf_source, "x": _x(i),
    }  # fmt: skip


def _plain_row(section: str, d: dict[str, Any]) -> dict[str, str]:
    row = {c: _s(d.pop(c, "")) for c in COLUMNS[section] if c != "x"}
    return {**row, "x": _x(d)}


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e-4 or value == 0 else repr(value)
    return str(value)


def _x(rest: Mapping[str, Any]) -> str:
    return json.dumps(rest, ensure_ascii=False, default=str) if rest else ""


def _gases_text(gases: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_s(v)}" for k, v in gases.items())


# --- posted form -> grid ----------------------------------------------------------------------


def grid_from_form(form: Mapping[str, str]) -> Grid:
    """The grid as posted: every section's rows in order of their index."""
    product = {c: form.get(f"product-{c}", "").strip() for c in PRODUCT}
    rows: dict[str, list[dict[str, str]]] = {}
    for section, columns in COLUMNS.items():
        count = _int(form.get(f"{section}-count"), 0)
        rows[section] = [
            {c: form.get(f"{section}-{i}-{c}", "").strip() for c in columns}
            for i in range(min(count, 2000))
        ]
    return Grid(product=product, rows=rows, note=form.get("note", "").strip())


def _int(text: str | None, default: int) -> int:
    try:
        return int(text or "")
    except ValueError:
        return default


def apply_op(grid: Grid, op: str) -> bool:
    """An editing step named by the pressed button: add-inputs, delete-inputs-3, up-inputs-3,
    down-inputs-3. False when `op` is none of them (e.g. 'save')."""
    m = re.fullmatch(r"(add|delete|up|down)-(\w+?)(?:-(\d+))?", op)
    if not m or m.group(2) not in COLUMNS:
        return False
    verb, section, index = m.group(1), m.group(2), m.group(3)
    rows = grid.rows[section]
    if verb == "add":
        rows.append(blank_row(section))
        return True
    k = int(index or -1)
    if not 0 <= k < len(rows):
        return True
    if verb == "delete":
        rows.pop(k)
    elif verb == "up" and k > 0:
        rows[k - 1], rows[k] = rows[k], rows[k - 1]
    elif verb == "down" and k + 1 < len(rows):
        rows[k + 1], rows[k] = rows[k], rows[k + 1]
    return True


# --- grid -> model document -------------------------------------------------------------------


def document_of(grid: Grid) -> dict[str, Any]:
    """The model document the grid describes. Cells that cannot be read (a number that is not
    one, malformed hidden JSON) are recorded as errors of their cell and left out."""
    p = grid.product
    product: dict[str, Any] = {"name": p.get("name", "")}
    product["declared_unit"] = {
        "amount": _number(grid, "product-du_amount", p.get("du_amount", "")),
        "unit": p.get("du_unit", ""),
    }
    if p.get("ref_amount") or p.get("ref_unit"):
        product["reference"] = {
            "amount": _number(grid, "product-ref_amount", p.get("ref_amount", "")),
            "unit": p.get("ref_unit", ""),
        }
    if p.get("conv_from") or p.get("conv_to"):
        product["conversion"] = {"from": p.get("conv_from", ""), "to": p.get("conv_to", "")}
    for key in ("region", "rule"):
        if p.get(key):
            product[key] = p[key]
    if p.get("year"):
        product["year"] = _number(grid, "product-year", p["year"], integer=True)
    product["boundary"] = p.get("boundary") or "cradle-to-gate"
    product.update(_extra(grid, "product-x", p.get("x", "")))
    doc: dict[str, Any] = {"openpcf": 1, "product": product}
    builders = {
        "factors": _factor,
        "inputs": _input,
        "emissions": _emission,
        "coproducts": _coproduct,
        "excluded": _exclusion,
    }
    for section, build in builders.items():
        items = []
        for k, row in enumerate(grid.rows.get(section, [])):
            if _blank(section, row):
                continue
            cell = f"{section}-{k}-"
            item = build(grid, cell, row)
            item.update(_extra(grid, cell + "x", row.get("x", "")))
            items.append((k, item))
        if items:
            doc[section] = [item for _, item in items]
        grid.positions[section] = [k for k, _ in items]
    return doc


def _blank(section: str, row: Mapping[str, str]) -> bool:
    defaults = BLANK.get(section, {})
    return all(not v or defaults.get(c) == v for c, v in row.items())


def _factor(grid: Grid, cell: str, row: Mapping[str, str]) -> dict[str, Any]:
    f: dict[str, Any] = {"id": row["id"], "name": row["name"], "unit": row["unit"]}
    value = row.get("value", "")
    if "=" in value or ":" in value:
        gases = {}
        for part in re.split(r"[,;，；]", value):
            if not part.strip():
                continue
            m = GAS_ITEM.match(part)
            number = parse_number(m.group(2)) if m else None
            if m is None or number is None:
                grid.error(cell + "value", f"'{part.strip()}': expected GAS=number, e.g. CH4=0.02")
                continue
            gases[m.group(1)] = number
        f["gases"] = gases
    else:
        f["co2e"] = _number(grid, cell + "value", value)
        if row.get("gwp"):
            f["gwp"] = row["gwp"]
    f["source"] = row.get("source", "")
    return f


def _input(grid: Grid, cell: str, row: Mapping[str, str]) -> dict[str, Any]:
    i: dict[str, Any] = {"name": row["name"], "stage": row["stage"]}
    i["amount"] = _number(grid, cell + "amount", row.get("amount", ""))
    i["unit"] = row.get("unit", "")
    kind = row.get("kind") or "factor"
    ref = row.get("ref", "")
    extra = _extra(grid, cell + "x", row.get("x", ""))
    if kind == "pcf":
        pcf: dict[str, Any] = {"value": _number(grid, cell + "ref", ref), "unit": row["pcf_unit"]}
        if row.get("pcf_gwp"):
            pcf["gwp"] = row["pcf_gwp"]
        if row.get("pcf_source"):
            pcf["source"] = row["pcf_source"]
        pcf.update(extra.get("pcf") or {})
        i["pcf"] = pcf
    elif kind == "electricity":
        elec = dict(extra.get("electricity") or {})
        if ref:
            elec["region"] = ref
        i["electricity"] = elec
    elif kind in KINDS:
        i[kind] = ref
    else:
        grid.error(cell + "kind", f"expected one of {', '.join(KINDS)}")
    if row.get("primary"):
        i["primary"] = True
    return i


def _emission(grid: Grid, cell: str, row: Mapping[str, str]) -> dict[str, Any]:
    e: dict[str, Any] = {"name": row["name"]} if row.get("name") else {}
    e.update(gas=row["gas"], amount=_number(grid, cell + "amount", row.get("amount", "")))
    e.update(unit=row.get("unit") or "kg", stage=row.get("stage") or "production")
    if row.get("origin") and row["origin"] != "fossil":
        e["origin"] = row["origin"]
    return e


def _coproduct(grid: Grid, cell: str, row: Mapping[str, str]) -> dict[str, Any]:
    c: dict[str, Any] = {"name": row["name"]}
    c.update(amount=_number(grid, cell + "amount", row.get("amount", "")), unit=row["unit"])
    if row.get("share"):
        c["share"] = _number(grid, cell + "share", row["share"])
    return c


def _exclusion(grid: Grid, cell: str, row: Mapping[str, str]) -> dict[str, Any]:
    e: dict[str, Any] = {"name": row["name"], "stage": row["stage"]}
    e["kg_co2e"] = _number(grid, cell + "kg_co2e", row.get("kg_co2e", ""))
    if row.get("reason"):
        e["reason"] = row["reason"]
    return e


def parse_number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("，", ""))
    except ValueError:
        return None


def _number(grid: Grid, cell: str, text: str, integer: bool = False) -> float | int | str:
    """The number typed in a cell (an int when written without a decimal point)."""
    if not text:
        grid.error(cell, "required: enter a number")
        return text
    value = parse_number(text)
    if value is None:
        grid.error(cell, f"expected a number, got '{text}'")
        return text
    if integer or (value.is_integer() and re.fullmatch(r"-?[\d,]+", text)):
        return int(value)
    return value


def _extra(grid: Grid, cell: str, text: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        grid.error(cell, "the row's other fields are not valid JSON")
        return {}
    return value if isinstance(value, dict) else {}


def yaml_text(doc: Mapping[str, Any], note: str) -> str:
    """The model document as YAML, with the change note as its first comment line."""
    body = yaml.safe_dump(dict(doc), sort_keys=False, allow_unicode=True, width=100)
    line = " ".join(note.split())
    return (f"{CHANGE}{line}\n" if line else "") + body


def change_note(text: str) -> str:
    """The change note a stored document starts with ('' when it has none)."""
    first = text.split("\n", 1)[0]
    return first[len(CHANGE) :].strip() if first.startswith(CHANGE) else ""


def with_note(text: str, note: str) -> str:
    """A stored document with its change note replaced by `note`."""
    body = text.split("\n", 1)[1] if change_note(text) else text
    return f"{CHANGE}{' '.join(note.split())}\n{body}"


# --- problems -> cells ------------------------------------------------------------------------

_FIELD = re.compile(r"^(\w+)(?:\[(\d+)\])?(?:\.(.*))?$")
# model field (after the section item) -> grid column
_CELL = {
    "inputs": {
        "factor": "ref",
        "process": "ref",
        "product": "ref",
        "electricity": "ref",
        "pcf": "ref",
        "pcf.value": "ref",
        "pcf.unit": "pcf_unit",
        "pcf.gwp": "pcf_gwp",
    },
    "factors": {"co2e": "value", "gases": "value"},
}
_PRODUCT_CELL = {
    "name": "name", "declared_unit": "du_amount", "declared_unit.amount": "du_amount",
    "declared_unit.unit": "du_unit", "reference": "ref_amount", "reference.amount": "ref_amount",
    "reference.unit": "ref_unit", "conversion": "conv_from", "conversion.from": "conv_from",
    "conversion.to": "conv_to", "region": "region", "year": "year", "boundary": "boundary",
    "rule": "rule",
}  # fmt: skip


def place_errors(grid: Grid, exc: OpenpcfError) -> None:
    """Each problem of `exc` beside the cell its field names; others at the top."""
    for e in exc.errors if isinstance(exc, MultiError) else [exc]:
        field_path = e.location.field or ""
        cell = cell_of(grid, field_path)
        if cell:
            grid.error(cell, e.message)
        else:
            grid.general.append(e.message if field_path else str(e))


def cell_of(grid: Grid, field_path: str) -> str | None:
    """The grid cell of a model field path such as 'inputs[2].unit' or 'product.region'."""
    m = _FIELD.match(field_path)
    if not m:
        return None
    section, index, rest = m.group(1), m.group(2), m.group(3) or ""
    if section == "product":
        column = _PRODUCT_CELL.get(rest) or _PRODUCT_CELL.get(rest.split(".")[0])
        return f"product-{column}" if column else None
    if section not in COLUMNS or index is None:
        return None
    kept = grid.positions.get(section)
    k = int(index)
    row = kept[k] if kept is not None and k < len(kept) else k
    mapping = _CELL.get(section, {})
    column = mapping.get(rest) or mapping.get(rest.split(".")[0]) or rest.split(".")[0]
    if column not in COLUMNS[section]:
        column = "name"
    return f"{section}-{row}-{column}"
