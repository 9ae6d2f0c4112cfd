"""Excel bills of materials: the sheets and columns a workbook has, and reading one as a model.

The columns are derived from the pydantic models in `domain/model.py`, so the template that
`io/excel_template.py` writes and this reader cannot drift from the YAML format: a nested field
is a dotted column (`pcf.value`, `electricity.region`), each list of records of the model is a
sheet (`inputs` -> 'Inputs'), and the product's fields are field/value rows of 'Product'.
Certificates of green electricity, a list inside an input, get their own sheet naming the input.

The reader builds the same mapping a YAML file gives, then validates it like one; every path
in it remembers its sheet and cell, so every error, the reader's or pydantic's, names the cell.
Nothing is silently dropped: a value in an unknown sheet or column, or a row without a name, is
an error. Rows marked `example` (or `#`) in the '#' column are skipped on purpose.
"""

from __future__ import annotations

import datetime as dt
import itertools
import types
import typing
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel

from openpcf.domain.errors import Location, ModelError, MultiError
from openpcf.domain.gases import GASES
from openpcf.domain.model import Certificate, Product, ProductModel
from openpcf.io.source import Document, Path_, dotted
from openpcf.io.xlsx_limits import check_workbook

Kind = Literal["number", "integer", "boolean", "text", "date", "choice", "choices", "any"]

PRODUCT_SHEET = "Product"
CERTIFICATES_SHEET = "Certificates"
INSTRUCTIONS_SHEET = "Instructions"
MARKER = "#"  # header of the column whose 'example' or '#' makes the reader skip a row
SKIP_MARKS = ("example", "#", "示例")
PRODUCT_HEADERS = ("field", "value", "example", "description")  # the reader reads the first two
CERTIFICATE_INPUT = "input"  # Certificates column naming the input (by its name) they belong to


@dataclass(frozen=True)
class Column:
    """One column of a sheet (or one field row of 'Product'): a leaf field of the model."""

    key: str  # the header, e.g. 'pcf.value'
    path: tuple[str, ...]  # where the value goes in the record: ('pcf', 'value')
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    description: str = ""
    low: float | None = None  # bounds from the field's constraints
    high: float | None = None
    limits: str = ""  # the constraints as text: '>= 0, < 1'


@dataclass(frozen=True)
class Sheet:
    """A sheet of records: its name, the model field it fills and its columns."""

    name: str
    field: str  # 'inputs'; for Certificates the claims of an input
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


def columns_of(model: type[BaseModel]) -> tuple[Column, ...]:
    """The leaf fields of `model` as columns, nested models flattened with dots."""
    return tuple(_walk(model, (), True, []))


def unsupported_fields() -> list[tuple[str, ...]]:
    """Paths of model fields no column can hold (lists of records inside a record).

    Only certificate claims are expected here; they have the Certificates sheet. A test keeps
    this list honest, so a new nested list in the model is noticed instead of left out.
    """
    out: list[tuple[str, ...]] = []
    for sheet in _record_sheets():
        skipped: list[tuple[str, ...]] = []
        _walk(_record_model(sheet.field), (), True, skipped)
        out.extend((sheet.field, *path) for path in skipped)
    return out


def _walk(
    model: type[BaseModel], prefix: tuple[str, ...], required: bool, skipped: list[tuple[str, ...]]
) -> list[Column]:
    columns: list[Column] = []
    for name, f in model.model_fields.items():
        key = f.alias or name
        path = (*prefix, key)
        tp = _unwrap(f.annotation)
        needed = required and f.is_required()
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            columns.extend(_walk(tp, path, needed, skipped))
            continue
        if typing.get_origin(tp) is dict and key == "gases":  # a factor's kg of each gas
            columns.extend(Column(gas, (*path, gas), "number", description=f"kg {gas} per unit")
                           for gas in GASES)  # fmt: skip
            continue
        item = _item_type(tp)
        if (isinstance(item, type) and issubclass(item, BaseModel)) or typing.get_origin(
            tp
        ) is dict:
            skipped.append(path)
            continue
        low, high, limits = _bounds(f.metadata)
        kind, choices = _kind(tp)
        columns.append(Column(".".join(path), path, kind, needed, choices, f.description or "",
                              low, high, limits))  # fmt: skip
    return columns


def _kind(tp: Any) -> tuple[Kind, tuple[str, ...]]:
    if tp is bool:
        return "boolean", ()
    if tp is float:
        return "number", ()
    if tp is int:
        return "integer", ()
    if tp is str:
        return "text", ()
    if tp is dt.date:
        return "date", ()
    if typing.get_origin(tp) is Literal:
        return "choice", tuple(str(a) for a in typing.get_args(tp))
    item = _item_type(tp)
    if item is not None:
        if typing.get_origin(item) is Literal:
            return "choices", tuple(str(a) for a in typing.get_args(item))
        return "choices", ()
    return "any", ()


def _item_type(tp: Any) -> Any:
    """X of list[X] or tuple[X, ...], else None."""
    if typing.get_origin(tp) in (list, tuple):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return args[0] if len(args) == 1 else None
    return None


def _unwrap(tp: Any) -> Any:
    """Optional[X] -> X."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None, str]:
    """Lower and upper bound of a number field, and the constraint as text ('> 0, <= 5')."""
    low = high = None
    said: list[str] = []
    for m in metadata:
        for attr, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            bound = getattr(m, attr, None)
            if bound is None:
                continue
            said.append(f"{sign} {bound:g}")
            if attr in ("gt", "ge"):
                low = bound
            else:
                high = bound
    return low, high, ", ".join(said)


def _record_model(field: str) -> type[BaseModel]:
    return _item_type(ProductModel.model_fields[field].annotation)


def _record_sheets() -> list[Sheet]:
    """One sheet per list of records in the model ('inputs' -> 'Inputs'), in model order."""
    sheets = []
    for name, f in ProductModel.model_fields.items():
        item = _item_type(f.annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            sheets.append(
                Sheet(name.capitalize(), name, _gases_after_gwp(_walk(item, (), True, [])))
            )
    return sheets


def _gases_after_gwp(columns: list[Column]) -> tuple[Column, ...]:
    """A factor's per-gas columns next to its co2e and gwp: the two ways to give its value."""
    gases = [c for c in columns if c.path[:1] == ("gases",)]
    rest = [c for c in columns if c not in gases]
    at = next((i + 1 for i, c in enumerate(rest) if c.key == "gwp"), len(rest))
    return tuple(rest[:at] + gases + rest[at:]) if gases else tuple(columns)


PRODUCT_FIELDS: tuple[Column, ...] = columns_of(Product)
RECORD_SHEETS: tuple[Sheet, ...] = tuple(_record_sheets())
CERTIFICATES = Sheet(
    CERTIFICATES_SHEET,
    "claims",
    (
        Column(CERTIFICATE_INPUT, (CERTIFICATE_INPUT,), "text", True,
               description="name of the electricity input (sheet Inputs) these certificates "
               "cover; that input states electricity.certificates.consumption"),
        *columns_of(Certificate),
    ),
)  # fmt: skip
CLAIMS_PATH = ("electricity", "certificates", "claims")  # inside an input
SHEETS: tuple[str, ...] = (
    PRODUCT_SHEET, *(s.name for s in RECORD_SHEETS), CERTIFICATES_SHEET, INSTRUCTIONS_SHEET,
)  # fmt: skip


class Place(NamedTuple):
    sheet: str
    cell: str
    row: int


class WorkbookDocument(Document):
    """A workbook read as a model mapping; each path knows its sheet and cell."""

    def __init__(self, path: Path, data: Any, places: dict[Path_, Place]) -> None:
        super().__init__(path, data, {p: pl.row for p, pl in places.items()}, text="")
        self.places = places

    def where(self, path: Path_) -> Location:
        for cut in range(len(path), -1, -1):
            place = self.places.get(path[:cut])
            if place is not None:
                return Location(self.path, place.row, dotted(path) or None, place.sheet,
                                place.cell)  # fmt: skip
        return Location(self.path, None, dotted(path) or None)


def read_workbook(path: Path) -> WorkbookDocument:
    """Read a BOM workbook into the mapping a YAML model would give; errors name sheet and cell."""
    values, formulas = _open(path)
    reader = _Reader(path, formulas)
    data = reader.read(values)
    if reader.problems:
        problems = reader.problems
        raise problems[0] if len(problems) == 1 else MultiError(problems)
    return WorkbookDocument(path, data, reader.places)


def product_id_in_workbook(path: Path) -> str | None:
    """The product id a workbook states, or None (for sub-assemblies referenced by id)."""
    try:
        values, _ = _open(path, formulas=False)
    except ModelError:
        return None
    ws = _sheet(values, PRODUCT_SHEET)
    if ws is None:
        return None
    for row in ws.iter_rows(min_row=2, max_col=2, values_only=True):
        if isinstance(row[0], str) and row[0].strip() == "id" and isinstance(row[1], str):
            return row[1].strip() or None
    return None


def _open(path: Path, formulas: bool = True) -> tuple[Any, Any]:
    # openpyxl is slow to import; only workbooks need it.
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    check_workbook(path, ModelError)  # bounded before openpyxl builds a cell per coordinate
    try:
        values = openpyxl.load_workbook(path, data_only=True)
        # The same cells as written: a formula saved without its result reads as empty above.
        written = openpyxl.load_workbook(path, data_only=False) if formulas else None
    except FileNotFoundError:
        raise ModelError("file not found", Location(path)) from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ModelError(f"cannot read the file as an Excel workbook (.xlsx): {exc}",
                         Location(path)) from None  # fmt: skip
    return values, written


def _sheet(wb: Any, name: str) -> Any:
    return next((ws for ws in wb.worksheets if ws.title.strip().lower() == name.lower()), None)


class _Reader:
    def __init__(self, path: Path, formulas: Any) -> None:
        self.path = path
        self.formulas = formulas
        self.problems: list[ModelError] = []
        self.places: dict[Path_, Place] = {}

    def fail(self, message: str, ws: Any, cell: str, field: Path_ = ()) -> None:
        row = int("".join(ch for ch in cell if ch.isdigit()) or 0) or None
        self.problems.append(ModelError(
            message, Location(self.path, row, dotted(field) or None, ws.title, cell)
        ))  # fmt: skip

    def place(self, path: Path_, ws: Any, cell: Any) -> None:
        self.places[path] = Place(ws.title, cell.coordinate, cell.row)
        for cut in range(len(path) - 1, 0, -1):  # a record or group: its first cell
            self.places.setdefault(path[:cut], self.places[path])

    def read(self, wb: Any) -> dict[str, Any]:
        known = {name.lower(): name for name in SHEETS}
        found: dict[str, Any] = {}
        for ws in wb.worksheets:
            name = known.get(ws.title.strip().lower())
            if name is None:
                first = next((c for row in ws.iter_rows() for c in row if _filled(c.value)), None)
                if first is not None:  # an empty extra sheet (Excel's 'Sheet1') drops nothing
                    self.fail(f"unknown sheet '{ws.title}'; a BOM workbook has the sheets "
                              f"{', '.join(SHEETS)} (move other content to another workbook)",
                              ws, first.coordinate)  # fmt: skip
                continue
            found[name] = ws
        data: dict[str, Any] = {"openpcf": 1}
        if PRODUCT_SHEET not in found:
            self.problems.append(ModelError(
                "the workbook has no 'Product' sheet; start from `openpcf template excel`",
                Location(self.path, sheet=PRODUCT_SHEET),
            ))  # fmt: skip
            return data
        data["product"] = self.product(found[PRODUCT_SHEET])
        for sheet in RECORD_SHEETS:
            if sheet.name in found:
                data[sheet.field] = self.records(found[sheet.name], sheet, (sheet.field,))
        if CERTIFICATES_SHEET in found:
            self.certificates(found[CERTIFICATES_SHEET], data.get("inputs", []))
        self.place_whole_model(data)
        return data

    def product(self, ws: Any) -> dict[str, Any]:
        header = self.header(ws, {h: h for h in PRODUCT_HEADERS}, PRODUCT_HEADERS[:2])
        col = {key: i for i, key in header.items()}
        fields = {c.key: c for c in PRODUCT_FIELDS}
        out: dict[str, Any] = {}
        seen: dict[str, str] = {}
        last = 1
        for row in ws.iter_rows(min_row=2):
            if not any(_filled(c.value) for c in row):
                continue
            last = row[0].row
            self.unlabelled(ws, row, header)
            if "field" not in col or "value" not in col:
                continue
            key_cell, value_cell = row[col["field"]], row[col["value"]]
            key = self.value(ws, key_cell)
            value = self.value(ws, value_cell)
            if not _filled(key):
                if _filled(value):
                    self.fail("a value without a field name in column 'field'", ws,
                              key_cell.coordinate)  # fmt: skip
                continue
            column = fields.get(str(key).strip())
            if column is None:
                self.fail(f"unknown product field '{key}'; expected one of: "
                          f"{', '.join(fields)}", ws, key_cell.coordinate)  # fmt: skip
                continue
            if column.key in seen:
                self.fail(f"field '{column.key}' is given twice (also in {seen[column.key]})",
                          ws, key_cell.coordinate)  # fmt: skip
                continue
            seen[column.key] = key_cell.coordinate
            path = ("product", *column.path)
            self.place(path, ws, value_cell)
            if _filled(value):
                _put(out, column.path, self.convert(value, column, ws, value_cell, path))
        missing_at = Place(ws.title, f"A{last + 1}", last + 1)
        for column in PRODUCT_FIELDS:  # a missing row: point where it should be added
            self.places.setdefault(("product", *column.path), missing_at)
        self.places.setdefault(("product",), Place(ws.title, "A1", 1))
        return out

    def records(self, ws: Any, sheet: Sheet, base: Path_) -> list[dict[str, Any]]:
        header = self.header(ws, {MARKER: MARKER, **{c.key: c.key for c in sheet.columns}},
                             tuple(c.key for c in sheet.columns if c.required))  # fmt: skip
        columns = {i: sheet.column(key) for i, key in header.items() if key != MARKER}
        marker = next((i for i, key in header.items() if key == MARKER), None)
        out: list[dict[str, Any]] = []
        for row in ws.iter_rows(min_row=2):
            if not any(_filled(c.value) for c in row):
                continue
            if marker is not None and _filled(mark := self.value(ws, row[marker])):
                if str(mark).strip().lower() in SKIP_MARKS:
                    continue
                self.fail(
                    f"column '{MARKER}' marks rows to skip: write 'example' or '#' in "
                    f"it, or leave it empty (found {mark!r})",
                    ws,
                    row[marker].coordinate,
                )
                continue
            self.unlabelled(ws, row, header)
            record: dict[str, Any] = {}
            path_of_row = (*base, len(out))
            for i, column in columns.items():
                if column is None or i >= len(row):
                    continue
                cell = row[i]
                path = (*path_of_row, *column.path)
                self.place(path, ws, cell)
                value = self.value(ws, cell, path)
                if _filled(value):
                    _put(record, column.path, self.convert(value, column, ws, cell, path))
            out.append(record)
        return out

    def certificates(self, ws: Any, inputs: list[dict[str, Any]]) -> None:
        """Certificate rows join the claims of the input they name."""
        claims = self.records(ws, CERTIFICATES, ("certificates",))
        rows = {p: pl for p, pl in self.places.items() if p[:1] == ("certificates",)}
        for p in rows:
            del self.places[p]
        count: dict[int, int] = {}
        for j, claim in enumerate(claims):
            name = claim.pop(CERTIFICATE_INPUT, None)
            at = rows.get(("certificates", j, CERTIFICATE_INPUT), rows.get(("certificates", j)))
            field = f"certificates[{j}].{CERTIFICATE_INPUT}"
            ks = [k for k, line in enumerate(inputs) if line.get("name") == name]
            if at is None:
                continue  # the missing 'input' column is reported with the header
            if name is None or len(ks) != 1:
                why = (
                    "required field is missing: the name of the electricity input these "
                    "certificates cover"
                    if name is None
                    else f"{'no input' if not ks else f'{len(ks)} inputs'} in sheet 'Inputs' "
                    f"named '{name}'; name the one electricity input the certificates cover"
                )
                self.problems.append(
                    ModelError(why, Location(self.path, at.row, field, at.sheet, at.cell))
                )
                continue
            k = ks[0]
            n = count[k] = count.get(k, -1) + 1
            _put(inputs[k], (*CLAIMS_PATH, n), claim)
            for p, pl in rows.items():
                if len(p) > 2 and p[1] == j and p[2] != CERTIFICATE_INPUT:
                    self.places[("inputs", k, *CLAIMS_PATH, n, *p[2:])] = pl
            self.places.setdefault(("inputs", k, *CLAIMS_PATH, n), rows[("certificates", j)])
            self.places.setdefault(("inputs", k, *CLAIMS_PATH), rows[("certificates", j)])

    def place_whole_model(self, data: dict[str, Any]) -> None:
        """Model-wide problems (no inputs, coproduct shares) point at the sheet concerned."""
        if data.get("coproducts") and ("coproducts",) in self.places:
            self.places[()] = self.places[("coproducts",)]
        elif ("inputs",) in self.places:
            self.places[()] = self.places[("inputs",)]
        else:
            self.places[()] = Place("Inputs", "B2", 2)

    def header(self, ws: Any, known: dict[str, str], required: tuple[str, ...]) -> dict[int, str]:
        """Column index -> known header key; unknown and missing headers are reported."""
        out: dict[int, str] = {}
        lowered = {k.lower(): v for k, v in known.items()}
        cells = next(ws.iter_rows(min_row=1, max_row=1), ())
        for i, cell in enumerate(cells):
            text = self.value(ws, cell)
            if not _filled(text):
                continue
            key = known.get(str(text).strip()) or lowered.get(str(text).strip().lower())
            if key is None:
                self.fail(f"unknown column '{text}' in sheet '{ws.title}'; expected one of: "
                          f"{', '.join(known)}", ws, cell.coordinate)  # fmt: skip
            elif key in out.values():
                self.fail(f"column '{key}' appears twice", ws, cell.coordinate)
            else:
                out[i] = key
        free = f"{_letter(len(cells) + 1)}1"
        for key in required:
            if key not in out.values():
                self.fail(f"required column '{key}' is missing from row 1; add it (e.g. in "
                          f"{free})", ws, free)  # fmt: skip
        return out

    def unlabelled(self, ws: Any, row: tuple[Any, ...], header: dict[int, str]) -> None:
        for i, cell in enumerate(row):
            if i not in header and self.value_or_none(cell) is not None:
                self.fail("this cell has a value but its column has no known header in row 1, "
                          "so openpcf would not read it; move it or delete it", ws,
                          cell.coordinate)  # fmt: skip

    def value_or_none(self, cell: Any) -> Any:
        return cell.value if _filled(cell.value) else None

    def value(self, ws: Any, cell: Any, field: Path_ = ()) -> Any:
        """The cell's value; a formula saved without its result or an Excel error is reported."""
        value = cell.value
        if value is None and self.formulas is not None:
            written = self.formulas[ws.title][cell.coordinate].value
            if isinstance(written, str) and written.startswith("="):
                self.fail(
                    f"the formula {written} has no saved result (the file was written "
                    "by a program that does not compute formulas); open and save it in "
                    "Excel or LibreOffice, or type the value",
                    ws,
                    cell.coordinate,
                    field,
                )
        if cell.data_type == "e":
            self.fail(f"the cell holds the Excel error {value}", ws, cell.coordinate, field)
            return None
        return value

    def convert(self, value: Any, column: Column, ws: Any, cell: Any, path: Path_) -> Any:
        try:
            return _converted(value, column)
        except ValueError as exc:
            self.fail(str(exc), ws, cell.coordinate, path)
            return None


def _letter(column: int) -> str:
    """Excel's name of a 1-based column: 1 -> A, 27 -> AA."""
    name = ""
    while column:
        column, rest = divmod(column - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _put(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """Set record[a][b]... = value, making the mappings (and lists, at int keys) on the way."""
    node: Any = record
    for part, nxt in itertools.pairwise(path):
        if isinstance(node, list):
            while len(node) <= part:
                node.append({})
            node = node[part]
            continue
        node = node.setdefault(part, [] if isinstance(nxt, int) else {})
    last = path[-1]
    if isinstance(node, list):
        while len(node) <= last:
            node.append({})
        node[last] = value
    else:
        node[last] = value


def _converted(value: Any, column: Column) -> Any:
    """A cell value as the model's type; ValueError says what was expected."""
    if isinstance(value, str):
        value = value.strip()
    if column.kind == "number":
        if isinstance(value, bool | dt.date | dt.time):
            raise ValueError(f"expected a number, got {_shown(value)}")
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    if column.kind == "integer":
        number = _converted(value, Column(column.key, column.path, "number"))
        if not float(number).is_integer():
            raise ValueError(f"expected a whole number, got {_shown(value)}")
        return int(number)
    if column.kind == "boolean":
        if isinstance(value, bool):
            return value
        text = _text(value).lower()
        if text in ("true", "yes", "y", "1", "是"):
            return True
        if text in ("false", "no", "n", "0", "否"):
            return False
        raise ValueError(f"expected TRUE or FALSE, got {_shown(value)}")
    if column.kind == "choice":
        return _choice(_text(value), column)
    if column.kind == "choices":
        parts = [p.strip() for p in _text(value).replace(";", ",").split(",") if p.strip()]
        return [_choice(p, column) if column.choices else p for p in parts]
    if column.kind == "text":
        return _text(value)
    if column.kind == "date":  # a date cell, or text such as 2025-12-31 that pydantic parses
        return value.date() if isinstance(value, dt.datetime) else value
    return value


def _choice(text: str, column: Column) -> str:
    for choice in column.choices:
        if text.lower() == choice.lower():
            return choice
    what = column.key.rsplit(".", 1)[-1]
    raise ValueError(f"unknown {what} '{text}'; expected one of: {', '.join(column.choices)}")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code or year typed as a number: 2023, not 2023.0
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _shown(value: Any) -> str:
    return repr(_text(value)) if not isinstance(value, str) else repr(value)
