"""Background databases on disk: one immutable datapackage folder per imported version.

    OPENPCF_HOME/databases/NAME/VERSION/
        datapackage.json   name, version, format, created, source (path, format, sha256),
                           GHG map sha256, resources (path, shape, dtype, meaning)
        processes.json     one entry per technosphere column (ProcessInfo)
        flows.json         one entry per biosphere row (ElementaryFlowInfo, with its gas)
        technosphere.npz   A as COO arrays row, col, data (float64) and shape
        biosphere.npz      B as COO arrays row, col, data (float64) and shape
        technosphere_uncertainty.npz, biosphere_uncertainty.npz
                           the entries of A and B with a distribution, one per exchange
                           (UncertainEntries: row, col, value, kind, p1, p2, p3); packages
                           written before openpcf kept distributions have none and load as
                           certain
        report.json        the import report (ImportReport)
        methods.json       the LCIA methods the source carried (ILCD), each with its factors
                           by elementary flow id, for signed amounts; absent when none

A version is written whole into a temporary folder beside the others and renamed into place,
so a reader sees either nothing or a complete version; a version is never rewritten.
VERSION counts up from 1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from openpcf.domain.errors import ImportFailure, Location
from openpcf.domain.lci import ElementaryFlowInfo, ImportReport, ProcessInfo, UncertainEntries

FORMAT = "openpcf-lci-datapackage/1"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True, eq=False)  # compared and cached by identity: one object per version
class StoredDatabase:
    name: str
    version: str
    folder: Path
    meta: dict[str, Any]
    processes: tuple[ProcessInfo, ...]
    flows: tuple[ElementaryFlowInfo, ...]
    technosphere: sp.csc_matrix
    biosphere: sp.csc_matrix
    report: ImportReport
    technosphere_uncertainty: UncertainEntries | None = None  # None: an older package
    biosphere_uncertainty: UncertainEntries | None = None
    methods: tuple[dict[str, Any], ...] = ()  # {id, name, names, reference, factors}

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ImportFailure(
            f"'{name}' is not a valid database name: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    return name


def versions(root: Path, name: str) -> list[str]:
    """The complete versions of a database, oldest first."""
    folder = root / name
    if not folder.is_dir():
        return []
    found = [p.name for p in folder.iterdir() if p.is_dir() and p.name.isdigit()]
    return sorted(found, key=int)


def names(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and versions(root, p.name))


def _save_matrix(path: Path, m: sp.spmatrix) -> None:
    coo = sp.coo_matrix(m)
    np.savez(
        path,
        row=coo.row.astype(np.int64),
        col=coo.col.astype(np.int64),
        data=coo.data.astype(np.float64),
        shape=np.asarray(coo.shape, dtype=np.int64),
    )


def _load_matrix(path: Path) -> sp.csc_matrix:
    with np.load(path, allow_pickle=False) as z:
        shape = tuple(int(x) for x in z["shape"])
        if z["data"].dtype != np.float64:
            raise ImportFailure(f"stored as {z['data'].dtype}, expected float64", Location(path))
        return sp.csc_matrix((z["data"], (z["row"], z["col"])), shape=shape)


_UNCERTAIN_ARRAYS = ("row", "col", "value", "kind", "p1", "p2", "p3")


def _save_entries(path: Path, entries: UncertainEntries) -> None:
    np.savez(path, **{k: getattr(entries, k) for k in _UNCERTAIN_ARRAYS})


def _load_entries(path: Path) -> UncertainEntries | None:
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in _UNCERTAIN_ARRAYS}
    for k in ("value", "p1", "p2", "p3"):
        if arrays[k].dtype != np.float64:
            raise ImportFailure(f"'{k}' stored as {arrays[k].dtype}, expected float64",
                                Location(path))  # fmt: skip
    if len({a.shape for a in arrays.values()}) != 1:
        raise ImportFailure("the uncertainty arrays differ in length", Location(path))
    return UncertainEntries(**arrays)


def write_version(
    root: Path,
    name: str,
    meta: dict[str, Any],
    processes: tuple[ProcessInfo, ...],
    flows: tuple[ElementaryFlowInfo, ...],
    technosphere: sp.spmatrix,
    biosphere: sp.spmatrix,
    report: ImportReport,
    technosphere_uncertainty: UncertainEntries | None = None,
    biosphere_uncertainty: UncertainEntries | None = None,
    methods: tuple[dict[str, Any], ...] = (),
) -> str:
    """Write a new version of `name` atomically and return its number."""
    check_name(name)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".incoming-{uuid.uuid4().hex}"
    tmp.mkdir()
    made_parent = False
    try:
        _save_matrix(tmp / "technosphere.npz", technosphere)
        _save_matrix(tmp / "biosphere.npz", biosphere)
        a_unc = technosphere_uncertainty or UncertainEntries.empty()
        b_unc = biosphere_uncertainty or UncertainEntries.empty()
        _save_entries(tmp / "technosphere_uncertainty.npz", a_unc)
        _save_entries(tmp / "biosphere_uncertainty.npz", b_unc)
        meta = meta | {"uncertainty": {"technosphere": a_unc.size, "biosphere": b_unc.size}}
        _dump(tmp / "processes.json", [p.model_dump() for p in processes])
        _dump(tmp / "flows.json", [f.model_dump() for f in flows])
        _dump(tmp / "report.json", report.model_dump())
        if methods:
            _dump(tmp / "methods.json", list(methods))
        parent = root / name
        made_parent = not parent.exists()
        parent.mkdir(exist_ok=True)
        while True:
            existing = versions(root, name)
            version = str(int(existing[-1]) + 1 if existing else 1)
            _dump(tmp / "datapackage.json", _descriptor(name, version, meta, technosphere,
                                                        biosphere))  # fmt: skip
            try:
                os.rename(tmp, parent / version)
            except OSError:
                if (parent / version).exists():
                    continue  # another import took this number first
                raise
            return version
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if made_parent and not versions(root, name):
            shutil.rmtree(root / name, ignore_errors=True)
        raise


def _descriptor(
    name: str, version: str, meta: dict[str, Any], a: sp.spmatrix, b: sp.spmatrix
) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **meta,
        "resources": [
            {"path": "technosphere.npz", "shape": list(a.shape), "dtype": "float64",
             "meaning": "A[i, j]: units of column i's reference product that column j takes "
                        "per unit of its own (I - A is solved)"},
            {"path": "biosphere.npz", "shape": list(b.shape), "dtype": "float64",
             "meaning": "B[f, j]: units of elementary flow f per unit of column j's reference "
                        "product; emissions positive, resources taken from nature negative"},
            {"path": "technosphere_uncertainty.npz", "dtype": "float64",
             "meaning": "entries of A with a distribution, one per exchange: row, col, value "
                        "(its part of A[row, col]), kind (stats_arrays code: 2 lognormal, "
                        "3 normal, 4 uniform, 5 triangular) and p1..p3, the parameters of the "
                        "multiplier of value (lognormal: sigma of ln; normal: sd / |value|; "
                        "uniform: low, high; triangular: low, mode, high, as ratios to value)"},
            {"path": "biosphere_uncertainty.npz", "dtype": "float64",
             "meaning": "entries of B with a distribution, as for A"},
            {"path": "processes.json", "meaning": "the columns of A and B"},
            {"path": "flows.json", "meaning": "the rows of B, with the gas each one is"},
            {"path": "report.json", "meaning": "the import report"},
        ],
    }  # fmt: skip


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")


def read_version(root: Path, name: str, version: str) -> StoredDatabase:
    folder = root / name / version
    try:
        meta = json.loads((folder / "datapackage.json").read_text("utf-8"))
        if meta.get("format") != FORMAT:
            raise ImportFailure(f"format {meta.get('format')!r}, expected {FORMAT}",
                                Location(folder / "datapackage.json"))  # fmt: skip
        processes = tuple(
            ProcessInfo.model_validate(p)
            for p in json.loads((folder / "processes.json").read_text("utf-8"))
        )
        flows = tuple(
            ElementaryFlowInfo.model_validate(f)
            for f in json.loads((folder / "flows.json").read_text("utf-8"))
        )
        report = ImportReport.model_validate_json((folder / "report.json").read_text("utf-8"))
        a = _load_matrix(folder / "technosphere.npz")
        b = _load_matrix(folder / "biosphere.npz")
        a_unc = _load_entries(folder / "technosphere_uncertainty.npz")
        b_unc = _load_entries(folder / "biosphere_uncertainty.npz")
        methods_file = folder / "methods.json"
        methods = (
            tuple(json.loads(methods_file.read_text("utf-8"))) if methods_file.exists() else ()
        )
    except (OSError, ValueError, KeyError) as exc:
        raise ImportFailure(f"stored database {name}@{version} cannot be read: {exc}",
                            Location(folder)) from None  # fmt: skip
    return StoredDatabase(name, version, folder, meta, processes, flows, a, b, report, a_unc,
                          b_unc, methods)  # fmt: skip
