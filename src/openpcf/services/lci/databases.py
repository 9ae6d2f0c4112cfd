"""Background LCI databases: import, list, look up, and every process's footprint at once.

Stored versions are immutable (`io/lci_package.py`), so what is computed from one (its index
of names, its factorisation, its per-gas footprints) is cached per version for the process.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from openpcf import __version__, config
from openpcf.domain.errors import (
    CalculationError,
    DatabaseError,
    ImportFailure,
    Location,
)
from openpcf.domain.gases import GWP_SETS, Flow
from openpcf.domain.lci import ImportReport, ProcessInfo
from openpcf.engine.solve import (
    Factorisation,
    SingularSystem,
    factorise,
    footprints_of_all_processes,
)
from openpcf.factors.bundled import gwp_table
from openpcf.io.archive import Archive
from openpcf.io.ghg_flow_map import ghg_flow_map
from openpcf.io.lci_package import StoredDatabase, check_name, names, read_version, versions
from openpcf.io.lci_package import write_version as _write_version
from openpcf.io.method_file import MethodRow, read_method
from openpcf.services.lci.compare import climate_method, compare
from openpcf.services.lci.linking import LinkedDatabase, link_database
from openpcf.services.lci.providers import read_pins

#: Called with (stage, done, total) while importing: "reading", "linking", "writing".
ImportProgress = Callable[[str, int, int], None]


def databases_root() -> Path:
    return config.home() / "databases"


@dataclass(frozen=True)
class Imported:
    name: str
    version: str
    report: ImportReport
    reused: bool  # the latest version came from the same source bytes and GHG map


def import_database(
    path: Path,
    name: str | None = None,
    progress: ImportProgress | None = None,
    linking: Path | None = None,
    unlinked: str = "cut-off",
) -> Imported:
    """Read, link and store an export as a new version; nothing is written if any step fails.

    `linking` pins providers (CSV, see `services/lci/providers.py`); `unlinked` is "cut-off"
    (inputs nothing makes are cut off and listed) or "error" (the import fails on them).
    """
    # the readers (olca-schema, lxml) are imported here: a calculation that only looks up
    # stored databases does not pay for them
    from openpcf.io.ecospold2 import is_ecospold2, read_ecospold2
    from openpcf.io.ilcd import read_ilcd
    from openpcf.io.ilcd_tree import is_ilcd
    from openpcf.io.olca_jsonld import is_jsonld, read_jsonld

    path = Path(path)
    name = check_name(name or _name_from(path))
    root = databases_root()
    ghg = ghg_flow_map()

    def stage(what: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda done, total: progress(what, done, total))

    with Archive(path) as archive:
        if is_ilcd(archive):  # first: TIDAS JSON also has processes/*.json
            reader = read_ilcd
        elif is_jsonld(archive):
            reader = read_jsonld
        elif is_ecospold2(archive):
            reader = read_ecospold2
        else:
            raise ImportFailure(
                "neither an openLCA JSON-LD export (processes/*.json), ILCD or TIDAS data sets "
                "(processes/*.xml, processes/*.json) nor ecospold2 data sets (*.spold)",
                Location(path),
            )
        digest = archive.digest()
        policy = _policy_digest(linking, unlinked)
        same = _same_as_latest(root, name, digest, ghg.digest, policy)
        if same is not None:
            return same
        source = reader(archive, stage("reading"))
    pins_from = None if linking is None else (lambda infos: read_pins(linking, source, infos))
    linked = link_database(source, ghg, stage("linking"), unlinked=unlinked, pins_from=pins_from)
    meta = {
        "source": {"path": str(path.resolve()), "format": source.format, "sha256": digest,
                   "files": source.files},
        "ghg_flow_map_sha256": ghg.digest,
        "linking": policy,
        "openpcf": __version__,
    }  # fmt: skip
    used = {p.location for p in source.processes if p.location}
    if source.locations:
        meta["locations"] = {c: n for c, n in sorted(source.locations.items()) if c in used}
    methods = tuple(
        {"id": m.id, "name": m.name, "names": m.names, "reference": m.reference,
         "factors": m.factors}
        for m in source.methods
    )  # fmt: skip
    report = _compared(name, linked, methods)
    if progress is not None:
        progress("writing", 0, 1)
    version = _write_version(root, name, meta, linked.processes, linked.flows,
                             linked.technosphere, linked.biosphere, report,
                             linked.technosphere_uncertainty, linked.biosphere_uncertainty,
                             methods)  # fmt: skip
    if progress is not None:
        progress("writing", 1, 1)
    return Imported(name, version, report, reused=False)


def _compared(name: str, linked: LinkedDatabase, methods: tuple[dict, ...]) -> ImportReport:
    """The report, with the bundled mapping compared to the release's climate method, if any."""
    db = StoredDatabase(name, "importing", Path("."), {}, linked.processes, linked.flows,
                        linked.technosphere, linked.biosphere, linked.report, methods=methods)  # fmt: skip
    method = climate_method(db)
    if method is None:
        return linked.report
    try:
        ours = footprints(db, "AR6", allow_unmapped=True).kg_co2e
        theirs = footprints(db, method=method["id"]).kg_co2e
        gases, per_gas = gas_footprints(db)
    except CalculationError as exc:  # the database is stored; its report says why
        note = f"GWP100 not compared with the release's method '{method['name']}': {exc.message}"
        return linked.report.model_copy(update={"notes": (*linked.report.notes, note)})
    notes, entries = compare(db, method, ours, theirs, gases, per_gas)
    return linked.report.model_copy(
        update={"notes": (*linked.report.notes, *notes), "method_comparison": entries}
    )


def _name_from(path: Path) -> str:
    stem = path.name.removesuffix(".zip") if path.is_file() else path.name
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._") or "database"


def _policy_digest(linking: Path | None, unlinked: str) -> dict[str, str | None]:
    """The linking choices that shape the matrices, so a re-import under others is new."""
    sha = None
    if linking is not None:
        try:
            sha = hashlib.sha256(Path(linking).read_bytes()).hexdigest()
        except OSError as exc:
            raise ImportFailure(f"cannot read the linking file: {exc}", Location(linking)) from None
    return {"unlinked": unlinked, "linking_file": str(linking) if linking else None,
            "linking_sha256": sha}  # fmt: skip


def _same_as_latest(
    root: Path, name: str, digest: str, ghg_digest: str, policy: dict[str, str | None]
) -> Imported | None:
    existing = versions(root, name)
    if not existing:
        return None
    folder = root / name / existing[-1]
    try:
        meta = json.loads((folder / "datapackage.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if (meta.get("source", {}).get("sha256"), meta.get("ghg_flow_map_sha256"),
            meta.get("openpcf"), meta.get("linking")) != (digest, ghg_digest, __version__,
                                                          policy):  # fmt: skip
        return None
    if "uncertainty" not in meta:  # stored before distributions were kept: import again
        return None
    report = ImportReport.model_validate_json((folder / "report.json").read_text("utf-8"))
    return Imported(name, existing[-1], report, reused=True)


@dataclass(frozen=True)
class DatabaseSummary:
    name: str
    versions: tuple[str, ...]
    latest: dict  # the latest version's datapackage.json


def list_databases() -> list[DatabaseSummary]:
    root = databases_root()
    out = []
    for name in names(root):
        vs = versions(root, name)
        meta = json.loads((root / name / vs[-1] / "datapackage.json").read_text("utf-8"))
        out.append(DatabaseSummary(name, tuple(vs), meta))
    return out


def open_database(ref: str, where: Location | None = None) -> StoredDatabase:
    """A stored database by 'NAME' (its latest version) or 'NAME@VERSION'."""
    name, _, version = ref.partition("@")
    root = databases_root()
    available = versions(root, name)
    if not available:
        known = ", ".join(names(root)) or "none (import one with `openpcf db import`)"
        raise DatabaseError(f"no background database '{name}'; databases: {known}", where)
    if version and version not in available:
        raise DatabaseError(
            f"database '{name}' has no version {version}; versions: {', '.join(available)}",
            where,
        )
    version = version or available[-1]
    stamp = (root / name / version / "datapackage.json").stat().st_mtime_ns
    return _read(str(root), name, version, stamp)


@lru_cache(maxsize=8)
def _read(root: str, name: str, version: str, stamp: int) -> StoredDatabase:
    """One object per stored version (`stamp` tells a version removed and made again apart)."""
    return read_version(Path(root), name, version)


@dataclass(frozen=True)
class _Index:
    by_key: dict[str, ProcessInfo]
    by_id: dict[str, list[ProcessInfo]]
    by_name: dict[str, list[ProcessInfo]]


@lru_cache(maxsize=8)
def _index(db: StoredDatabase) -> _Index:
    by_id: dict[str, list[ProcessInfo]] = defaultdict(list)
    by_name: dict[str, list[ProcessInfo]] = defaultdict(list)
    for p in db.processes:
        by_id[p.process_id].append(p)
        by_name[p.name].append(p)
    return _Index({p.key: p for p in db.processes}, dict(by_id), dict(by_name))


def find_process(db: StoredDatabase, ref: str, where: Location | None = None) -> ProcessInfo:
    """A process by its key, its source UUID or its exact name; else an error that helps."""
    index = _index(db)
    if ref in index.by_key:
        return index.by_key[ref]
    hits = index.by_id.get(ref) or index.by_name.get(ref) or []
    if len(hits) == 1:
        return hits[0]
    if hits:
        shown = "; ".join(f"{db.name}/{p.key} ({_describe(p)})" for p in hits[:20])
        more = f"; and {len(hits) - 20} more" if len(hits) > 20 else ""
        raise DatabaseError(
            f"'{ref}' matches {len(hits)} processes in {db.label}; name one by its key: "
            f"{shown}{more}",
            where,
        )
    close = difflib.get_close_matches(ref, list(index.by_name), n=5, cutoff=0.6)
    hint = ("; close matches: " + "; ".join(f"'{c}'" for c in close)) if close else ""
    raise DatabaseError(
        f"no process '{ref}' in {db.label} (looked for a UUID or an exact name){hint}", where
    )


def _describe(p: ProcessInfo) -> str:
    return f"{p.name} → {p.reference_product} [{p.unit}], {p.location or 'no location'}"


@lru_cache(maxsize=8)
def factorisation(db: StoredDatabase) -> Factorisation:
    try:
        return factorise(db.technosphere)
    except SingularSystem as exc:
        raise CalculationError(f"the technosphere of {db.label} cannot be solved: {exc}") from None


@lru_cache(maxsize=8)
def gas_footprints(db: StoredDatabase) -> tuple[tuple[Flow, ...], np.ndarray]:
    """Per-gas cradle-to-gate inventory (kg) per unit of every column: (gases, n × gases)."""
    gases = tuple(sorted({Flow(f.gas, f.origin) for f in db.flows if f.gas}))  # type: ignore[arg-type]
    n = len(db.processes)
    if not gases:
        return gases, np.zeros((n, 0))
    row = {g: i for i, g in enumerate(gases)}
    mapped = [f for f in db.flows if f.gas]
    g = sp.csr_matrix(
        (
            [f.kg_per_unit or 0.0 for f in mapped],
            ([row[Flow(f.gas, f.origin)] for f in mapped], [f.index for f in mapped]),  # type: ignore[arg-type]
        ),
        shape=(len(gases), len(db.flows)),
    )
    per_gas = np.asarray((g @ db.biosphere).todense())
    return gases, _solve(db, per_gas)


def _solve(db: StoredDatabase, rhs: np.ndarray) -> np.ndarray:
    try:
        out = footprints_of_all_processes(factorisation(db), rhs)
    except SingularSystem as exc:
        raise CalculationError(f"the technosphere of {db.label} cannot be solved: {exc}") from None
    return out


@dataclass(frozen=True)
class Footprints:
    database: str  # name@version
    kg_co2e: np.ndarray  # per unit of each column's reference product
    basis: str  # "AR6 GWP100 (built-in GHG flow map)" or the method file
    unmatched: tuple[MethodRow, ...] = ()  # method rows that matched no flow
    characterised: int = 0  # elementary flows with a factor
    #: the gap, under --allow-unmapped: GHG-looking flows the map leaves out ("name (category)")
    unmapped: tuple[str, ...] = ()
    #: per column: True when its supply chain emits one of the unmapped flows
    touched: np.ndarray | None = None


def stored_method(db: StoredDatabase, ref: str) -> dict | None:
    """An LCIA method the source carried, by UUID or name (case-insensitive), else None."""
    wanted = ref.strip().lower()
    for m in db.methods:
        names = {m["id"].lower(), m["name"].lower(), *(n.lower() for n in m["names"].values())}
        if wanted in names:
            return m
    return None


def method_names(db: StoredDatabase) -> list[str]:
    return [f"'{m['name']}' ({m['id']})" for m in db.methods]


def unmapped_ghg(db: StoredDatabase) -> tuple[list[int], list[str]]:
    """Rows of B that look like greenhouse gases and have no gas, and their labels."""
    ids = {e.id for e in db.report.unmapped_ghg}
    rows = [f.index for f in db.flows if f.id in ids and not f.gas]
    return rows, [f"{db.flows[i].name.strip()} ({db.flows[i].category})" for i in rows]


def footprints(
    db: StoredDatabase,
    gwp: str = "AR6",
    method: str | Path | None = None,
    allow_unmapped: bool = False,
) -> Footprints:
    """Every column's cradle-to-gate GWP100 per unit of its reference, from one solve.

    `method`: an LCIA method the database carried (by name or UUID) or a method CSV file.
    Without one, the built-in GHG map is used, and GHG-looking flows it cannot map stop the
    calculation with their list unless `allow_unmapped` (the result then carries the gap):
    a footprint is never silently low.
    """
    if method is not None:
        stored = stored_method(db, str(method))
        if stored is not None:
            by_id = {f.id: f.index for f in db.flows}
            c = np.zeros(len(db.flows))
            for fid, value in stored["factors"].items():
                if fid in by_id:
                    c[by_id[fid]] = value
            x = _solve(db, np.asarray(db.biosphere.T @ c).ravel()[None, :])[:, 0]
            return Footprints(db.label, x, f"LCIA method '{stored['name']}' ({stored['id']}) "
                              f"of {db.label}", characterised=int(np.count_nonzero(c)))  # fmt: skip
        if not Path(method).exists() and db.methods:
            raise DatabaseError(f"--method {method}: no such file, nor a method of {db.label} "
                                f"({'; '.join(method_names(db))})")  # fmt: skip
        c, unmatched = characterisation(db, read_method(Path(method)))
        rhs = np.asarray(db.biosphere.T @ c).ravel()[None, :]
        x = _solve(db, rhs)[:, 0]
        return Footprints(db.label, x, f"method file {method}", unmatched, int(np.count_nonzero(c)))
    if gwp not in GWP_SETS:
        raise CalculationError(f"unknown GWP set '{gwp}'; expected one of {', '.join(GWP_SETS)}")
    rows, labels = unmapped_ghg(db)
    touched = None
    if rows:
        if not allow_unmapped:
            shown = "; ".join(labels[:30]) + (
                f"; and {len(labels) - 30} more" if len(labels) > 30 else ""
            )
            raise DatabaseError(
                f"{len(labels)} elementary flows of {db.label} look like greenhouse gases but the "
                f"built-in GHG map has no gas for them, so footprints would be too low: {shown}. "
                "Pass --method (a method of the database or a CSV) or --allow-unmapped to "
                "compute without them (the result then lists them)"
            )
        indicator = np.asarray(abs(db.biosphere[rows, :]).sum(axis=0)).ravel()[None, :]
        touched = _solve(db, indicator)[:, 0] != 0
    gases, per_gas = gas_footprints(db)
    weights = np.array([gwp_table().gwp(g, gwp) for g in gases])
    mapped = sum(1 for f in db.flows if f.gas)
    return Footprints(db.label, per_gas @ weights, f"{gwp} GWP100 (built-in GHG flow map)",
                      characterised=mapped, unmapped=tuple(labels), touched=touched)  # fmt: skip


def characterisation(
    db: StoredDatabase, rows: tuple[MethodRow, ...]
) -> tuple[np.ndarray, tuple[MethodRow, ...]]:
    """kg CO2e per unit of each elementary flow, and the rows that matched no flow."""
    by_id = {f.id: f.index for f in db.flows}
    by_name: dict[str, list[int]] = defaultdict(list)
    for f in db.flows:
        by_name[f.name.lower()].append(f.index)
    c = np.zeros(len(db.flows))
    set_by: dict[int, MethodRow] = {}
    unmatched = []
    for r in rows:
        if r.flow_id:
            hits = [by_id[r.flow_id]] if r.flow_id in by_id else []
        else:
            cat = (r.category or "").lower()
            hits = [i for i in by_name.get((r.flow_name or "").lower(), [])
                    if not cat or db.flows[i].category.lower() == cat]  # fmt: skip
        if not hits:
            unmatched.append(r)
        for i in hits:
            if i in set_by and set_by[i].value != r.value:
                raise DatabaseError(
                    f"method rows on lines {set_by[i].line} and {r.line} give flow "
                    f"'{db.flows[i].name}' ({db.flows[i].category}) different factors"
                )
            set_by[i] = r
            c[i] = r.value
    return c, tuple(unmatched)


@dataclass(frozen=True)
class BackgroundProcess:
    database: str  # name@version
    process: ProcessInfo
    flows: dict[Flow, float]  # kg of each gas per unit of the reference product
    unmapped: tuple[str, ...] = ()  # GHG-looking flows of its supply chain with no gas (a gap)


def background_process(ref: str, where: Location | None = None) -> BackgroundProcess:
    """A model's `process: DB/UUID` (or DB@VERSION/..., or DB/exact name) with its inventory."""
    db_ref, sep, rest = ref.partition("/")
    if not sep or not db_ref or not rest:
        raise DatabaseError(
            f"process '{ref}' must be 'DATABASE/UUID' or 'DATABASE/exact process name'", where
        )
    db = open_database(db_ref, where)
    info = find_process(db, rest, where)
    gases, per_gas = gas_footprints(db)
    flows = {g: float(v) for g, v in zip(gases, per_gas[info.index], strict=True) if v}
    rows, labels = unmapped_ghg(db)
    gap = ()
    if rows:
        touched = unmapped_upstream(db)
        gap = tuple(lab for lab, hit in zip(labels, touched[info.index], strict=True) if hit)
    return BackgroundProcess(db.label, info, flows, gap)


@lru_cache(maxsize=8)
def unmapped_upstream(db: StoredDatabase) -> np.ndarray:
    """columns × unmapped GHG flows: True where the column's supply chain emits the flow."""
    rows, _ = unmapped_ghg(db)
    return _solve(db, np.asarray(abs(db.biosphere[rows, :]).todense())) != 0
