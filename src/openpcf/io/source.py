"""Read YAML or JSON keeping the line of every value, and turn validation errors into ours.

Users fix files by line, so every error must point at one. PyYAML's composer gives each node
its start mark; we walk the node tree once to map each path (('inputs', 2, 'unit')) to a line.
JSON is parsed by `json` (strict) and, where it is also valid YAML, mapped the same way.
Both go through io/limits.py, which bounds size, nesting and value count.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from openpcf.domain.errors import Location, MultiError, OpenpcfError
from openpcf.io import limits

Path_ = tuple[str | int, ...]
_JSON_LINES_BYTES = 2 * 1024 * 1024  # larger JSON is not re-read as YAML for its line numbers


def _line_map(node: yaml.Node, path: Path_, out: dict[Path_, int], seen: set[int]) -> None:
    """Each path's line; a repeated (aliased) node is mapped where it is written, once."""
    out[path] = node.start_mark.line + 1
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            _line_map(value, child, out, seen)
            out[(*child, "<key>")] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*path, i), out, seen)


def _lines_of(node: yaml.Node | None) -> dict[Path_, int]:
    lines: dict[Path_, int] = {}
    if node is not None:
        _line_map(node, (), lines, set())
    return lines


class Document:
    """Parsed data of one file plus the line of each path in it."""

    def __init__(self, path: Path, data: Any, lines: dict[Path_, int], text: str) -> None:
        self.path = path
        self.data = data
        self.lines = lines
        self.text = text

    def line(self, path: Path_) -> int | None:
        """The line of `path`, else of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return None

    def where(self, path: Path_) -> Location:
        return Location(self.path, self.line(path), dotted(path) or None)


def read_document(path: Path, error: type[OpenpcfError]) -> Document:
    """Read a .yaml/.yml/.json file (bounded, io/limits.py); a syntax error names file and line."""
    return parse_document(limits.read_text(path, error), path, error)


def parse_document(text: str, path: Path, error: type[OpenpcfError]) -> Document:
    """Parse text as the file `path` would be (JSON for .json, else YAML), e.g. a stored model.

    Both are bounded in size, depth and value count (YAML aliases count as what they repeat)."""
    where = Location(path)
    if path.suffix.lower() == ".json":
        data = limits.load_json(text, where, error)
        node = None
        if len(text) <= _JSON_LINES_BYTES:  # JSON is YAML: map its lines the same way
            try:
                node = limits.load_yaml(text, where, error)[1]
            except OpenpcfError:
                node = None
        return Document(path, data, _lines_of(node), text)
    data, node = limits.load_yaml(text, where, error)
    return Document(path, data, _lines_of(node), text)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate(
    model: type[BaseModel], data: Any, doc: Document, error: type[OpenpcfError], base: Path_ = ()
) -> Any:
    """Validate `data` (found at `base` in `doc`) as `model`; every problem named by line/field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems: list[OpenpcfError] = []
        for e in exc.errors(include_url=False):
            loc = (*base, *e["loc"])
            if e["type"] == "extra_forbidden":
                allowed = ", ".join(_fields_at(model, e["loc"][:-1]))
                msg = f"unknown field '{e['loc'][-1]}'; expected one of: {allowed}"
                where = Location(doc.path, doc.line((*loc, "<key>")) or doc.line(loc), dotted(loc))
            else:
                msg = _message(e)
                where = doc.where(loc)
            problems.append(error(msg, where))
        raise (problems[0] if len(problems) == 1 else MultiError(problems)) from None


def _message(e: dict[str, Any]) -> str:
    msg = str(e["msg"]).removeprefix("Value error, ")
    if e["type"] == "missing":
        return "required field is missing"
    if e["type"] in {"float_parsing", "float_type", "int_parsing", "int_type"}:
        return f"expected a number, got {e.get('input')!r}"
    if e["type"] in {"dict_type", "model_type"}:
        return f"expected a mapping of fields, got {e.get('input')!r}"
    return msg[0].lower() + msg[1:] if msg else msg


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names allowed at `loc` inside `model`, for 'unknown field' messages."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else current
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                field = next((f for f in current.model_fields.values() if f.alias == part), None)
            if field is None:
                return []
            current = field.annotation
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _unwrap(tp: Any) -> Any:
    """Optional[X] -> X."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp
