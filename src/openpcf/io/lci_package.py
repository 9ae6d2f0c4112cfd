"""Background databases on disk: one immutable datapackage folder per imported version.

    OPENPCF_HOME/databases/NAME/VERSION/
        datapackage.json   name, version, format, created, source (path, format, sha256),
                           GHG map sha256, resources (path, shape, dtype, meaning)
        processes.json     one entry per technosphere column (ProcessInfo)
        flows.json         one entry per biosphere row (ElementaryFlowInfo, with its gas)
        technosphere.npz   A as COO arrays row, col, data (float64) and shape
        biosphere.npz      B as COO arrays row, col, data (float64) and shape
        report.json        the import report (ImportReport)

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
from openpcf.domain.lci import ElementaryFlowInfo, ImportReport, ProcessInfo

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


def write_version(
    root: Path,
    name: str,
    meta: dict[str, Any],
    processes: tuple[ProcessInfo, ...],
    flows: tuple[ElementaryFlowInfo, ...],
    technosphere: sp.spmatrix,
    biosphere: sp.spmatrix,
    report: ImportReport,
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
        _dump(tmp / "processes.json", [p.model_dump() for p in processes])
        _dump(tmp / "flows.json", [f.model_dump() for f in flows])
        _dump(tmp / "report.json", report.model_dump())
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
    except (OSError, ValueError, KeyError) as exc:
        raise ImportFailure(f"stored database {name}@{version} cannot be read: {exc}",
                            Location(folder)) from None  # fmt: skip
    return StoredDatabase(name, version, folder, meta, processes, flows, a, b, report)
