"""A regionalised background: every electricity supply of a database replaced by a Chinese grid
factor, written as a new database version, with every process's footprint before and after.

Electricity supplies are found by their data, not by hand: a column whose reference product is
named electricity (电力/电), whose unit is an energy, and whose process, product or category
says it is a grid supply or mix ("grid", "eGrid", "mix", "market for electricity", 电网). The
list is shown for review; a mapping CSV (`process,action` with action `replace` or `keep`)
corrects it. A replaced column takes nothing from the technosphere any more and emits the
factor (cradle-to-gate per kWh, converted to the column's unit) through elementary rows that
carry the factor's gases, so everything upstream of electricity is recomputed by one solve.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from openpcf.domain.errors import DatabaseError, Location, OpenpcfError
from openpcf.domain.factor import Factor
from openpcf.domain.gases import CO2E
from openpcf.domain.lci import ElementaryFlowInfo, UncertainEntries
from openpcf.factors.bundled import bundled_set
from openpcf.factors.catalogue import Catalogue
from openpcf.factors.electricity import resolve_electricity
from openpcf.io.lci_package import StoredDatabase, check_name, write_version
from openpcf.io.lci_units import conversion
from openpcf.services.lci.databases import databases_root, find_process, footprints, open_database

_ELECTRICITY = re.compile(r"\belectricity\b|电力|^电$", re.IGNORECASE)
_SUPPLY = re.compile(
    r"\bgrid\b|egrid|\bmix\b|market (group )?for electricity|电网|电力结构|供电", re.IGNORECASE
)
_GRID = re.compile(r"^(CN(?:-[A-Z]{2})?)@(\d{4})$")


@dataclass(frozen=True)
class Supply:
    index: int
    why: str  # "found" (by name, classification and unit) or "mapping file line N"


@dataclass(frozen=True)
class Regionalised:
    database: str  # the new NAME@VERSION
    source: str  # the database it was made from
    factor: Factor
    factor_note: str | None
    supplies: tuple[Supply, ...]
    before: np.ndarray  # kg CO2e per unit of every column, AR6, source database
    after: np.ndarray  # the same in the new version
    processes: tuple  # ProcessInfo of the columns


def _is_energy(unit: str) -> bool:
    try:
        conversion(unit, "kWh", "electricity supply")
    except OpenpcfError:
        return False
    return True


def electricity_supplies(db: StoredDatabase) -> list[int]:
    """Columns that supply grid electricity, by product name, supply words and unit."""
    out = []
    for p in db.processes:
        names = " ".join((p.reference_product, *p.names.values()))
        if not _ELECTRICITY.search(p.reference_product) and not _ELECTRICITY.search(names):
            continue
        if not _SUPPLY.search(f"{p.name} {p.reference_product} {p.category} {names}"):
            continue
        if _is_energy(p.unit):
            out.append(p.index)
    return out


def read_mapping(path: Path, db: StoredDatabase) -> dict[int, tuple[bool, int]]:
    """column -> (replace?, line) from a CSV `process,action`."""
    try:
        rows = list(csv.DictReader(Path(path).read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        raise DatabaseError(f"cannot read the mapping file: {exc}", Location(path)) from None
    out: dict[int, tuple[bool, int]] = {}
    for line, row in enumerate(rows, start=2):
        where = Location(path, line)
        action = (row.get("action") or "").strip().lower()
        if action not in ("replace", "keep"):
            raise DatabaseError(f"action {action!r}: expected replace or keep", where)
        info = find_process(db, (row.get("process") or "").strip(), where)
        if action == "replace" and not _is_energy(info.unit):
            raise DatabaseError(f"'{info.name}' is per {info.unit}, not an energy: it cannot "
                                "take a per-kWh electricity factor", where)  # fmt: skip
        out[info.index] = (action == "replace", line)
    return out


def parse_grid(grid: str) -> tuple[str, int]:
    m = _GRID.match(grid.strip().upper())
    if not m:
        raise DatabaseError(f"--grid {grid!r}: expected CN@YEAR or CN-XX@YEAR (e.g. CN-JS@2023)")
    return m.group(1), int(m.group(2))


def regionalise(
    ref: str, grid: str, basis: str = "footprint", name: str | None = None,
    mapping: Path | None = None,
) -> Regionalised:  # fmt: skip
    db = open_database(ref)
    region, year = parse_grid(grid)
    if basis not in ("footprint", "grid-co2"):
        raise DatabaseError(f"--basis {basis!r}: expected footprint or grid-co2")
    resolved = resolve_electricity(Catalogue.of([bundled_set()]), region, year, basis)
    factor = resolved.factor
    found = {j: Supply(j, "found by name, classification and unit")
             for j in electricity_supplies(db)}  # fmt: skip
    for j, (replace, line) in (read_mapping(mapping, db) if mapping else {}).items():
        if replace:
            found[j] = Supply(j, f"mapping file line {line}")
        else:
            found.pop(j, None)
    if not found:
        raise DatabaseError(f"no electricity supply found in {db.label}; name them with "
                            "--mapping (CSV process,action with action replace)")  # fmt: skip
    supplies = tuple(found[j] for j in sorted(found))
    new = _replaced(db, factor, [s.index for s in supplies])
    target = check_name(name or db.name)
    meta = {k: db.meta[k] for k in ("source", "ghg_flow_map_sha256", "linking", "openpcf")
            if k in db.meta}  # fmt: skip
    meta["regionalised"] = {
        "from": db.label, "factor": factor.id, "factor_source": factor.source,
        "basis": basis, "grid": grid, "replaced": [db.processes[s.index].key for s in supplies],
    }  # fmt: skip
    notes = (*db.report.notes,
             f"regionalised from {db.label}: {len(supplies)} electricity supplies replaced by "
             f"{factor.id} ({factor.source})" + (f"; {resolved.note}" if resolved.note else ""))  # fmt: skip
    version = write_version(
        databases_root(), target, meta, db.processes, new.flows, new.technosphere, new.biosphere,
        db.report.model_copy(update={"notes": notes}), new.technosphere_uncertainty,
        new.biosphere_uncertainty, db.methods,
    )  # fmt: skip
    after_db = open_database(f"{target}@{version}")
    before = footprints(db, "AR6", allow_unmapped=True).kg_co2e
    after = footprints(after_db, "AR6", allow_unmapped=True).kg_co2e
    return Regionalised(after_db.label, db.label, factor, resolved.note, supplies, before, after,
                        db.processes)  # fmt: skip


def _replaced(db: StoredDatabase, factor: Factor, columns: list[int]) -> StoredDatabase:
    """A and B with the columns' inputs and emissions replaced by the factor's gases."""
    n = len(db.processes)
    keep = np.ones(n)
    keep[columns] = 0.0
    a = (db.technosphere @ sp.diags(keep)).tocsc()
    b = (db.biosphere @ sp.diags(keep)).tocsc()
    values = {CO2E: float(factor.co2e)} if factor.co2e is not None else dict(factor.gases or {})
    flows = list(db.flows)
    rows, cols, vals = [], [], []
    for gas, kg_per_kwh in values.items():
        row = len(flows)
        flows.append(ElementaryFlowInfo(
            index=row, id=f"openpcf-grid/{factor.id}/{gas}", category="openpcf/grid factor",
            name=f"{gas} of {factor.id} (grid electricity, cradle to gate)", unit="kg", gas=gas,
            origin=factor.origin, kg_per_unit=1.0,
        ))  # fmt: skip
        for j in columns:
            unit = db.processes[j].unit
            rows.append(row)
            cols.append(j)
            vals.append(kg_per_kwh * conversion(unit, "kWh", f"column {db.processes[j].key}"))
    extra = sp.csc_matrix((vals, (rows, cols)), shape=(len(flows), n))
    padding = sp.csc_matrix((len(flows) - b.shape[0], n))
    b = (sp.vstack([b, padding]) + extra).tocsc()
    dropped = set(columns)

    def filtered(u: UncertainEntries | None) -> UncertainEntries | None:
        if u is None:
            return None
        ok = np.array([c not in dropped for c in u.col], dtype=bool)
        return UncertainEntries(u.row[ok], u.col[ok], u.value[ok], u.kind[ok], u.p1[ok],
                                u.p2[ok], u.p3[ok])  # fmt: skip

    return StoredDatabase(db.name, "new", db.folder, db.meta, db.processes, tuple(flows), a, b,
                          db.report, filtered(db.technosphere_uncertainty),
                          filtered(db.biosphere_uncertainty), db.methods)  # fmt: skip
