"""Characterisation tables for `openpcf db footprints --method FILE`.

CSV, one elementary flow a row, either `flow_id,kg_co2e_per_unit` (the flow's UUID in the
source data) or `flow_name,category,kg_co2e_per_unit` (exact name, case-insensitive; an empty
category matches the name in any category). The value is kg CO2e per unit of the flow's
reference unit, applied to signed amounts (resources taken from nature are negative).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from openpcf.domain.errors import FactorError, Location
from openpcf.io import limits

VALUE = "kg_co2e_per_unit"


@dataclass(frozen=True)
class MethodRow:
    line: int
    value: float
    flow_id: str | None = None
    flow_name: str | None = None
    category: str | None = None

    @property
    def label(self) -> str:
        if self.flow_id:
            return f"flow_id {self.flow_id}"
        return f"flow '{self.flow_name}'" + (f" in '{self.category}'" if self.category else "")


def read_method(path: Path) -> tuple[MethodRow, ...]:
    path = Path(path)
    text = limits.read_text(path, FactorError, encoding="utf-8-sig")  # bounded in size
    reader = csv.DictReader(text.splitlines())
    columns = set(reader.fieldnames or ())
    by_id = {"flow_id", VALUE} <= columns
    by_name = {"flow_name", VALUE} <= columns
    if not (by_id or by_name):
        raise FactorError(
            f"expected columns flow_id,{VALUE} or flow_name,category,{VALUE}; found "
            f"{', '.join(sorted(columns)) or 'none'}",
            Location(path, 1),
        )
    rows: list[MethodRow] = []
    seen: dict[tuple[str, ...], int] = {}
    for line, r in enumerate(reader, start=2):
        raw = (r.get(VALUE) or "").strip()
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise FactorError(f"{VALUE} {raw!r} is not a finite number", Location(path, line))
        flow_id = (r.get("flow_id") or "").strip() or None
        name = (r.get("flow_name") or "").strip() or None
        category = (r.get("category") or "").strip() or None
        if not flow_id and not name:
            raise FactorError("the row names no flow_id or flow_name", Location(path, line))
        key = (
            ("id", flow_id) if flow_id else ("name", (name or "").lower(), (category or "").lower())
        )
        if key in seen:
            raise FactorError(f"the same flow is already characterised on line {seen[key]}",
                              Location(path, line))  # fmt: skip
        seen[key] = line
        rows.append(MethodRow(line, value, flow_id, name, category))
    return tuple(rows)
