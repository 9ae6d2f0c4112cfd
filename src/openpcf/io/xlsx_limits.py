"""A workbook's size checked by streaming its XML before openpyxl loads it.

openpyxl builds a Python object per cell and, asked for rows, pads every row to the widest
column: one cell at XFD1048576 makes 17 billion. So the zip's directory is checked first (size,
members, ratio), then each worksheet's XML is streamed (lxml iterparse, entities unresolved) and
refused at the first cell, row or merged range beyond the bounds in io/limits.py.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from lxml import etree

from openpcf.domain.errors import Location, OpenpcfError
from openpcf.io import limits

_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_SHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_TAGS = ("c", "row", "mergeCell")  # cells, rows (to free), merged ranges


def column_number(letters: str) -> int:
    """'A' -> 1, 'XFD' -> 16384."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - ord("A") + 1
    return n


def check_workbook(path: Path, error: type[OpenpcfError]) -> None:
    """Refuse a workbook beyond the bounds; a clean error names the sheet part and the cell."""
    where = Location(path)
    if not Path(path).is_file() or not zipfile.is_zipfile(path):
        return  # not a workbook at all: the reader says so in its own words
    with limits.open_zip(Path(path), where, error, total=limits.XLSX_BYTES) as zf:
        titles = _titles(zf, path, error)
        for name in sorted(n for n in zf.namelist() if _SHEET.match(n)):
            _check_sheet(zf, name, Location(path, sheet=titles.get(name, name)), error)


def _titles(zf: zipfile.ZipFile, path: Path, error: type[OpenpcfError]) -> dict[str, str]:
    """Worksheet part -> the sheet's title, so errors name the sheet a user sees."""
    try:
        book = limits.parse_xml(zf.read("xl/workbook.xml"), Location(path), error)
        rels = limits.parse_xml(zf.read("xl/_rels/workbook.xml.rels"), Location(path), error)
    except (KeyError, OSError, zipfile.BadZipFile):
        return {}
    targets = {r.get("Id"): (r.get("Target") or "").lstrip("/") for r in rels}
    out: dict[str, str] = {}
    for sheet in book.iter("{*}sheet"):
        rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        target = targets.get(rid, "")
        part = target if target.startswith("xl/") else f"xl/{target}"
        out[part] = sheet.get("name") or part
    return out


def _check_sheet(
    zf: zipfile.ZipFile, member: str, where: Location, error: type[OpenpcfError]
) -> None:
    rows, columns, cells = limits.SHEET_ROWS, limits.SHEET_COLUMNS, limits.SHEET_CELLS
    max_row = max_col = count = 0
    tags = {f"{{*}}{t}" for t in _TAGS}
    try:
        with zf.open(member) as f:
            parse = etree.iterparse(
                f, events=("end",), tag=tags, resolve_entities=False, no_network=True,
                huge_tree=False, load_dtd=False,
            )  # fmt: skip
            for _, el in parse:
                tag = etree.QName(el).localname
                if tag == "row":  # its cells are checked: drop them as we go
                    el.clear()
                    while el.getprevious() is not None:
                        del el.getparent()[0]
                    continue
                refs = (el.get("ref") or "").split(":") if tag == "mergeCell" else [el.get("r")]
                for ref in refs:
                    if not ref:
                        continue
                    m = _REF.match(ref)
                    if m is None:
                        raise error(f"invalid cell reference {ref!r}", _at(where))
                    col, row = column_number(m.group(1)), int(m.group(2))
                    if row > rows.value:
                        raise _beyond(rows, f"cell {ref.upper()}", where, error)
                    if col > columns.value:
                        raise _beyond(columns, f"cell {ref.upper()}", where, error)
                    max_row, max_col = max(max_row, row), max(max_col, col)
                if tag == "c":
                    count += 1
                if max_row * max_col > cells.value or count > cells.value:
                    raise _beyond(cells, f"used range A1:{_corner(max_row, max_col)}", where,
                                  error)  # fmt: skip
                if count % 4096 == 0:
                    limits.check_time(_at(where), error)
    except etree.XMLSyntaxError as exc:
        raise error(f"invalid worksheet XML: {exc.msg}", _at(where)) from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise error(f"cannot read the workbook ({exc})", _at(where)) from None


def _int(text: str | None) -> int:
    return int(text) if text and text.isdigit() and len(text) <= 9 else 0


def _corner(row: int, col: int) -> str:
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"{letters}{row}"


def _at(where: Location, cell: str | None = None) -> Location:
    return Location(where.file, None, None, where.sheet, cell)


def _beyond(
    limit: limits.Limit, what: str, where: Location, error: type[OpenpcfError]
) -> OpenpcfError:
    cell = what.removeprefix("cell ") if what.startswith("cell ") else None
    message = f"{what} is beyond the bound on {limit.what}"
    return limits.exceeded(limit, message, _at(where, cell), error)
