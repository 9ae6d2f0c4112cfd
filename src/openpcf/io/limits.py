"""Bounds on everything read from outside: bytes, nesting, node count, aliases, zips, XML, time.

Every reader of untrusted input (API bodies, web uploads, CLI files, importers of partners' and
databases' exports) goes through these functions, so a 400-byte file cannot cost gigabytes or
minutes. A refusal is a `LimitExceeded` that names the limit, its value and where it was hit; the
API answers it with 413 `limit_exceeded`. The values are in docs/security.md.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import posixpath
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any

import yaml

from openpcf.domain.errors import Location, OpenpcfError


@dataclass(frozen=True)
class Limit:
    """One bound: a stable name (shown in errors and docs), its value and what it counts."""

    name: str
    value: int
    what: str


KIB, MIB, GIB = 1024, 1024 * 1024, 1024 * 1024 * 1024

# Documents read whole as text (models, factor files, PACT files, JSON bodies).
DOCUMENT_BYTES = Limit("document_bytes", 16 * MIB, "bytes of one YAML or JSON document")
DEPTH = Limit("depth", 64, "levels of nesting in a YAML or JSON document")
NODES = Limit("nodes", 100_000, "values in a document, counting each alias as what it repeats")
ALIASES = Limit("yaml_aliases", 1_000, "YAML alias uses (*name) in one document")
NUMBER_DIGITS = Limit("number_digits", 400, "characters of one number")
# Zip archives (openLCA JSON-LD, ecoSpold2 and ILCD exports, LCI packages, xlsx workbooks).
ZIP_MEMBERS = Limit("zip_members", 500_000, "files in one zip archive")
MEMBER_BYTES = Limit("zip_member_bytes", 512 * MIB, "uncompressed bytes of one file in a zip")
ZIP_BYTES = Limit("zip_total_bytes", 32 * GIB, "uncompressed bytes of all files in a zip")
ZIP_RATIO = Limit("zip_ratio", 200, "uncompressed/compressed size of one file in a zip")
# XML (ecoSpold2, ILCD, xlsx parts); lxml without huge_tree also caps depth at 256.
XML_BYTES = Limit("xml_bytes", 256 * MIB, "bytes of one XML document")
# Excel bills of materials.
XLSX_BYTES = Limit("xlsx_bytes", 64 * MIB, "uncompressed bytes of an xlsx workbook")
SHEET_ROWS = Limit("sheet_rows", 5_000, "rows of one worksheet")
SHEET_COLUMNS = Limit("sheet_columns", 100, "columns of one worksheet")
SHEET_CELLS = Limit("sheet_cells", 300_000, "cells of one worksheet's used range (rows x columns)")
# One request to the API or the web pages (the model upload has its own 2 MiB bound).
REQUEST_BYTES = Limit("request_bytes", 16 * MIB, "bytes of one request body")
# Wall-clock time of one request's parsing and calculation (checked cooperatively).
REQUEST_SECONDS = Limit("request_seconds", 30, "seconds of work for one request")

ALL = (
    DOCUMENT_BYTES, DEPTH, NODES, ALIASES, NUMBER_DIGITS, ZIP_MEMBERS, MEMBER_BYTES, ZIP_BYTES,
    ZIP_RATIO, XML_BYTES, XLSX_BYTES, SHEET_ROWS, SHEET_COLUMNS, SHEET_CELLS, REQUEST_BYTES,
    REQUEST_SECONDS,
)  # fmt: skip


class LimitExceeded(OpenpcfError):
    """Input beyond one of the bounds above; `limit` says which."""

    limit: Limit

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message, location)


@cache
def _kind(error: type[OpenpcfError]) -> type[LimitExceeded]:
    """LimitExceeded that is also `error`, so callers catching ModelError etc. still catch it."""
    if issubclass(error, LimitExceeded):
        return error
    return type(f"{error.__name__}LimitExceeded", (LimitExceeded, error), {})


def exceeded(
    limit: Limit, message: str, where: Location | None, error: type[OpenpcfError] = OpenpcfError
) -> LimitExceeded:
    """The error for `limit`: '<message> (limit <name> = <value>)', of kind `error`."""
    exc = _kind(error)(f"{message} (limit {limit.name} = {limit.value})", where)
    exc.limit = limit
    return exc


# --- time ----------------------------------------------------------------------------------

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


@contextlib.contextmanager
def time_limit(seconds: float | None = None) -> Iterator[None]:
    """Within this block, `check_time` raises once `seconds` have passed (nested: the earlier)."""
    seconds = REQUEST_SECONDS.value if seconds is None else seconds
    end = time.monotonic() + seconds
    current = _deadline.get()
    token = _deadline.set(end if current is None else min(current, end))
    try:
        yield
    finally:
        _deadline.reset(token)


def check_time(where: Location | None = None, error: type[OpenpcfError] = OpenpcfError) -> None:
    """Raise when the current request's time is up; cheap enough for every loop iteration."""
    end = _deadline.get()
    if end is not None and time.monotonic() > end:
        raise exceeded(REQUEST_SECONDS, "the input took too long to process", where, error)


# --- bytes ---------------------------------------------------------------------------------


def check_size(
    size: int, limit: Limit, where: Location | None, error: type[OpenpcfError] = OpenpcfError
) -> None:
    if size > limit.value:
        raise exceeded(limit, f"{size} bytes is too large", where, error)


def read_text(
    path: Path, error: type[OpenpcfError], limit: Limit = DOCUMENT_BYTES, encoding: str = "utf-8"
) -> str:
    """A file's text, refused before reading when larger than `limit`."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(limit.value + 1)
    except FileNotFoundError:
        raise error("file not found", Location(path)) from None
    except OSError as exc:
        raise error(f"cannot read the file: {exc}", Location(path)) from None
    if len(data) > limit.value:
        raise exceeded(limit, "the file is too large", Location(path), error)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise error(f"cannot read the file: not {encoding} text ({exc})", Location(path)) from None


# --- JSON ----------------------------------------------------------------------------------


def _finite(text: str) -> float:
    if len(text) > NUMBER_DIGITS.value:
        raise ValueError(f"the number {text[:20]}… has more than {NUMBER_DIGITS.value} characters")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range (not finite)")
    return value


def _integer(text: str) -> int:
    if len(text) > NUMBER_DIGITS.value:
        raise ValueError(f"the number {text[:20]}… has more than {NUMBER_DIGITS.value} characters")
    return int(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows; give a finite number")


def load_json(
    text: str | bytes,
    where: Location,
    error: type[OpenpcfError] = OpenpcfError,
    size: Limit = DOCUMENT_BYTES,
    nodes: Limit | None = NODES,
) -> Any:
    """Strict JSON: size, depth and node count bounded, finite numbers only (no NaN/Infinity).

    Importers of databases pass nodes=None: JSON has no aliases, so its bytes bound its size."""
    check_size(len(text), size, where, error)
    try:
        data = json.loads(
            text, parse_float=_finite, parse_int=_integer, parse_constant=_no_constant
        )
    except json.JSONDecodeError as exc:
        at = Location(where.file, exc.lineno, where.field, where.sheet, where.cell)
        raise error(f"invalid JSON: {exc.msg} (column {exc.colno})", at) from None
    except RecursionError:
        raise exceeded(DEPTH, "the JSON is nested too deeply", where, error) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"invalid JSON: {exc}", where) from None
    check_shape(data, where, error, nodes)
    return data


def check_shape(
    data: Any,
    where: Location,
    error: type[OpenpcfError] = OpenpcfError,
    nodes_limit: Limit | None = NODES,
) -> None:
    """Depth and value count of parsed data (iteratively: deep data cannot overflow this)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    most = nodes_limit.value if nodes_limit is not None else None
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if most is not None and nodes > most:
            raise exceeded(NODES, "the document has too many values", where, error)
        if depth > DEPTH.value:
            raise exceeded(DEPTH, "the document is nested too deeply", where, error)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


# --- YAML ----------------------------------------------------------------------------------


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing deep nesting, too many values and alias bombs.

    Aliases are legal YAML and harmless until something walks the data as a tree: 7 levels of
    9 aliases are 4.8 million values to validate, print or hash. Each node's expanded size (an
    alias counts as everything it repeats) is summed while composing, and refused past NODES.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._count = 0
        self._sizes: dict[int, int] = {}  # expanded size of each composed node (the tree holds it)
        self.where = Location()
        self.error: type[OpenpcfError] = OpenpcfError

    def _here(self) -> Location:
        mark = self.peek_event().start_mark if self.check_event() else None
        line = mark.line + 1 if mark else None
        return Location(self.where.file, line, self.where.field)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > ALIASES.value:
                raise exceeded(ALIASES, "too many YAML aliases", self._here(), self.error)
            where = self._here()
            node = super().compose_node(parent, index)
            if id(node) not in self._sizes:  # &a [*a]: a value inside itself, endless
                raise self.error("a YAML alias refers to the value it is inside", where)
            return node
        self._depth += 1
        self._count += 1
        if self._depth > DEPTH.value:
            raise exceeded(DEPTH, "the YAML is nested too deeply", self._here(), self.error)
        if self._count % 512 == 0:
            check_time(self.where, self.error)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        size = 1  # itself plus its children, an alias child at the full size it repeats
        if isinstance(node, yaml.MappingNode):
            size += sum(self._sizes[id(k)] + self._sizes[id(v)] for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size += sum(self._sizes[id(v)] for v in node.value)
        self._sizes[id(node)] = size
        if size > NODES.value:
            raise exceeded(
                NODES,
                "the YAML has too many values (an alias counts as all it repeats)",
                Location(self.where.file, node.start_mark.line + 1, self.where.field),
                self.error,
            )
        return node


def load_yaml(
    text: str, where: Location, error: type[OpenpcfError] = OpenpcfError
) -> tuple[Any, yaml.Node | None]:
    """Bounded safe YAML: the data and its node tree (for line numbers), composed once."""
    check_size(len(text.encode("utf-8")), DOCUMENT_BYTES, where, error)
    loader = BoundedLoader(text)
    loader.where, loader.error = where, error
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"invalid YAML: {problem}", Location(where.file, line, where.field)) from None
    except RecursionError:
        raise exceeded(DEPTH, "the YAML is nested too deeply", where, error) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise error(f"invalid YAML: {exc}", where) from None
    finally:
        loader.dispose()
    return data, node


# --- zip -----------------------------------------------------------------------------------


def unsafe_member_name(name: str) -> str | None:
    """Why a zip member's name is refused (absolute, '..', backslash, drive, NUL), else None."""
    if "\0" in name:
        return "has a NUL character"
    if "\\" in name:
        return "has a backslash"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    if ".." in posixpath.normpath(name).split("/") or ".." in name.split("/"):
        return "climbs out of the archive ('..')"
    return None


def open_zip(
    source: Path | IO[bytes],
    where: Location,
    error: type[OpenpcfError] = OpenpcfError,
    total: Limit = ZIP_BYTES,
) -> zipfile.ZipFile:
    """A zip whose directory passed every check: member count, names, declared sizes, ratios."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise error(f"not a zip archive ({exc})", where) from None
    try:
        check_zip(zf, where, error, total)
    except BaseException:
        zf.close()
        raise
    return zf


def check_zip(
    zf: zipfile.ZipFile,
    where: Location,
    error: type[OpenpcfError] = OpenpcfError,
    total: Limit = ZIP_BYTES,
) -> None:
    infos = zf.infolist()
    if len(infos) > ZIP_MEMBERS.value:
        raise exceeded(ZIP_MEMBERS, f"the archive has {len(infos)} files", where, error)
    size = 0
    for info in infos:
        at = Location(f"{where.file}:{info.filename}")
        why = unsafe_member_name(info.filename)
        if why:
            raise error(f"the member name {info.filename!r} {why}", at)
        if info.file_size > MEMBER_BYTES.value:
            raise exceeded(MEMBER_BYTES, f"{info.file_size} bytes is too large", at, error)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MIB and ratio > ZIP_RATIO.value:
            raise exceeded(ZIP_RATIO, f"compressed {ratio:.0f}:1, a zip bomb", at, error)
        size += info.file_size
        if size > total.value:
            raise exceeded(total, f"the archive unpacks to more than {size} bytes", where, error)


def read_member(
    zf: zipfile.ZipFile,
    name: str,
    where: Location,
    error: type[OpenpcfError] = OpenpcfError,
    limit: Limit = MEMBER_BYTES,
) -> bytes:
    """A member's bytes, never more than `limit` whatever the directory claims."""
    try:
        with zf.open(name) as f:
            data = f.read(limit.value + 1)
    except (KeyError, OSError, zipfile.BadZipFile, EOFError, RuntimeError) as exc:
        raise error(f"cannot read ({exc})", where) from None
    except Exception as exc:  # zlib.error and friends from a corrupt stream
        raise error(f"cannot read ({type(exc).__name__}: {exc})", where) from None
    if len(data) > limit.value:
        raise exceeded(limit, "the file is too large", where, error)
    return data


# --- XML -----------------------------------------------------------------------------------


def xml_parser() -> Any:
    """lxml parser for untrusted XML: no entities resolved, no DTD or network, no huge trees."""
    from lxml import etree

    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=False,
    )


def parse_xml(data: bytes, where: Location, error: type[OpenpcfError] = OpenpcfError) -> Any:
    """The root element of untrusted XML; a DOCTYPE with entity declarations is refused."""
    from lxml import etree

    check_size(len(data), XML_BYTES, where, error)
    try:
        root = etree.fromstring(data, xml_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise error(f"invalid XML: {exc.msg}", Location(where.file, line, where.field)) from None
    except ValueError as exc:
        raise error(f"invalid XML: {exc}", where) from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise error("XML entity declarations (<!ENTITY>) are not accepted", where)
    return root
