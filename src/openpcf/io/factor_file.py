"""User factor files: CSV (one factor a row, gases as columns) or YAML (a list of factors).

CSV columns: id, name, unit, source (required); co2e with gwp, or one column per gas
(CO2, CH4, N2O, SF6, ...) in kg per unit; optional origin, publisher, source_url, published,
year, region, version, kind, note, override (true/false), uncertainty (a YAML mapping such as
`{distribution: lognormal, gsd: 1.2}`). Empty cells mean "not given".
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Any

from openpcf.domain.errors import FactorError, Location, MultiError, OpenpcfError
from openpcf.domain.factor import Factor, FactorSet
from openpcf.domain.gases import canonical_gas
from openpcf.io import limits
from openpcf.io.source import Document, read_document, validate

_FIELDS = set(Factor.model_fields)
_NUMBERS = {"co2e", "year"}


def load_factor_file(path: Path) -> tuple[FactorSet, dict[str, Location]]:
    """The factors of a user file as a set named after the file, with where each is defined."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        factors, where = _from_csv(path)
    elif suffix in {".yaml", ".yml", ".json"}:
        factors, where = _from_yaml(path)
    else:
        raise FactorError("expected a .csv, .yaml, .yml or .json factor file", Location(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    fs = FactorSet(id=f"file:{path.name}", version=digest, title=str(path), factors=factors)
    return fs, where


def _from_yaml(path: Path) -> tuple[tuple[Factor, ...], dict[str, Location]]:
    doc = read_document(path, FactorError)
    items, base = _factor_list(doc)
    factors: list[Factor] = []
    where: dict[str, Location] = {}
    problems: list[OpenpcfError] = []
    for i, item in enumerate(items):
        try:
            f = validate(Factor, item, doc, FactorError, (*base, i))
        except MultiError as exc:
            problems.extend(exc.errors)
            continue
        except FactorError as exc:
            problems.append(exc)
            continue
        _add(f, doc.where((*base, i)), factors, where, problems)
    _raise(problems)
    return tuple(factors), where


def _factor_list(doc: Document) -> tuple[list[Any], tuple[str, ...]]:
    data = doc.data
    if (
        isinstance(data, dict)
        and set(data) <= {"factors"}
        and isinstance(data.get("factors"), list)
    ):
        return data["factors"], ("factors",)
    if isinstance(data, list):
        return data, ()
    raise FactorError(
        "expected a list of factors, or a mapping with a 'factors' list", Location(doc.path, 1)
    )


def _from_csv(path: Path) -> tuple[tuple[Factor, ...], dict[str, Location]]:
    text = limits.read_text(path, FactorError, encoding="utf-8-sig")  # bounded in size
    handle = io.StringIO(text, newline="")
    factors: list[Factor] = []
    where: dict[str, Location] = {}
    problems: list[OpenpcfError] = []
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        gases = {c: canonical_gas(c) for c in header if c not in _FIELDS}
        unknown = [c for c, g in gases.items() if g is None]
        if unknown:
            raise FactorError(
                f"unknown column(s) {', '.join(unknown)}; expected factor fields "
                f"({', '.join(sorted(_FIELDS - {'gases', 'flags'}))}) or gas names",
                Location(path, 1),
            )
        for row in reader:
            line = reader.line_num
            if None in row:
                problems.append(FactorError("more cells than header columns", Location(path, line)))
                continue
            try:
                f = Factor.model_validate(_row_to_factor(row, gases))
            except (ValueError, TypeError) as exc:
                problems.append(FactorError(_csv_message(exc), Location(path, line)))
                continue
            _add(f, Location(path, line), factors, where, problems)
    _raise(problems)
    return tuple(factors), where


def _row_to_factor(row: dict[str, str], gases: dict[str, str | None]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    per_gas: dict[str, float] = {}
    for column, cell in row.items():
        cell = (cell or "").strip()
        if not cell:
            continue
        if column in gases:
            per_gas[str(gases[column])] = _number(column, cell)
        elif column in _NUMBERS:
            data[column] = _number(column, cell)
        elif column == "override":
            if cell.lower() not in {"true", "false", "yes", "no", "1", "0"}:
                raise ValueError(f"column 'override': expected true or false, got {cell!r}")
            data[column] = cell.lower() in {"true", "yes", "1"}
        elif column == "uncertainty":
            data[column] = _mapping(column, cell)
        else:
            data[column] = cell
    if per_gas:
        data["gases"] = per_gas
    return data


def _mapping(column: str, cell: str) -> Any:
    try:
        return limits.load_yaml(cell, Location(), FactorError)[0]  # bounded: no alias bombs
    except OpenpcfError:
        raise ValueError(f"column '{column}': expected a mapping such as "
                         f"{{distribution: lognormal, gsd: 1.2}}, got {cell!r}") from None  # fmt: skip


def _number(column: str, cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        raise ValueError(f"column '{column}': expected a number, got {cell!r}") from None


def _csv_message(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = []
        for e in errors(include_url=False):
            field = ".".join(str(p) for p in e["loc"]) or "row"
            msg = "required column is empty or missing" if e["type"] == "missing" else e["msg"]
            parts.append(f"column '{field}': {str(msg).removeprefix('Value error, ')}")
        return "; ".join(parts)
    return str(exc)


def _add(
    f: Factor,
    loc: Location,
    factors: list[Factor],
    where: dict[str, Location],
    problems: list[OpenpcfError],
) -> None:
    if f.id in where:
        problems.append(
            FactorError(f"factor id '{f.id}' is defined twice (also at {where[f.id]})", loc)
        )
        return
    factors.append(f)
    where[f.id] = loc


def _raise(problems: list[OpenpcfError]) -> None:
    if problems:
        raise problems[0] if len(problems) == 1 else MultiError(problems)
