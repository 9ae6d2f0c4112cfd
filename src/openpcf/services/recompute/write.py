"""The footprints a run stores: built from both paths in key order, written in one transaction
by binary COPY (PostgreSQL) or 100-row INSERTs (SQLite)."""

from __future__ import annotations

import struct
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, repeat
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import sessionmaker

from openpcf.domain.platform import Principal
from openpcf.engine.recompute import Change
from openpcf.services.recompute.changes import Target
from openpcf.services.recompute.full import Recalculated
from openpcf.services.recompute.linear import CHUNK, Linear, linear_grades
from openpcf.services.recompute.report import Progress, RecomputeReport
from openpcf.store.audit import attribute
from openpcf.store.models import AuditEntry, Tenant
from openpcf.store.models_recompute import RecomputeRun


@dataclass(frozen=True)
class Rows:
    """The footprints a run stores, in key order, as parallel columns."""

    calc: np.ndarray
    tenant: np.ndarray
    previous: np.ndarray
    pcf: np.ndarray
    grade: list[str | None]
    method: list[str]
    changes: np.ndarray  # rows x columns
    columns: tuple[str, ...]
    result: list[str | None]


def rows_of_run(linear: Linear, full: list[Recalculated], change: Change) -> Rows:
    """All the footprints of a run in key order; the change columns are the stages and the
    gases of the change, then any other gas a full recalculation moved."""
    extra = sorted({g for r in full for g in r.gases} - set(change.gas_names))
    columns = (*change.layout, *(f"gas:{g}" for g in extra))
    at = {name: i for i, name in enumerate(columns)}
    changes = np.zeros((len(linear.calc) + len(full), len(columns)))
    changes[: len(linear.calc), : len(change.layout)] = linear.changes
    for i, r in enumerate(full, len(linear.calc)):
        for kind, values in (("stage", r.stages), ("gas", r.gases)):
            for name, value in values.items():
                if f"{kind}:{name}" in at:
                    changes[i, at[f"{kind}:{name}"]] = value
    calc = np.concatenate([linear.calc, np.array([r.calc for r in full], dtype=np.int64)])
    order = np.argsort(calc, kind="stable")
    grade = linear_grades(linear) + [r.result.grade for r in full]
    method = ["linear"] * len(linear.calc) + ["full"] * len(full)
    result: list[str | None] = [None] * len(linear.calc)
    result += [r.result.model_dump_json() for r in full]
    pick = order.tolist()
    return Rows(
        calc=calc[order],
        tenant=np.concatenate([linear.tenant, np.array([r.tenant for r in full], np.int64)])[order],
        previous=np.concatenate([linear.previous, [r.previous for r in full]])[order],
        pcf=np.concatenate([linear.pcf, [r.result.pcf.value for r in full]])[order],
        grade=[grade[i] for i in pick],
        method=[method[i] for i in pick],
        changes=changes[order],
        columns=columns,
        result=[result[i] for i in pick],
    )


_COLUMNS = (
    "run_id", "calculation_id", "tenant_id", "pcf", "previous_pcf", "grade", "method", "changes",
    "result",
)  # fmt: skip
_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
_PGCOPY_TRAILER = b"\xff\xff"


def _pgcopy(run_id: int, rows: Rows) -> Iterator[bytes]:
    """The footprints as PostgreSQL's binary COPY stream (big-endian, each field length-
    prefixed, -1 for NULL), built with numpy: rows with the same grade, method and no result
    share one fixed layout, so each such group is one structured array (per-row Python cost
    more than the server's insert)."""
    yield _PGCOPY_HEADER
    width = len(rows.columns)
    shape: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    full: list[int] = []
    for i, (grade, method, result) in enumerate(zip(rows.grade, rows.method, rows.result,
                                                    strict=True)):  # fmt: skip
        if result is None:
            shape[(grade, method)].append(i)
        else:
            full.append(i)
    for (grade, method), where in shape.items():
        g = None if grade is None else grade.encode("utf-8")
        m = method.encode("utf-8")
        fields = [("n", ">i2")]
        for name, kind in (("run", ">i4"), ("calc", ">i4"), ("tenant", ">i4"), ("pcf", ">f8"),
                           ("previous", ">f8")):  # fmt: skip
            fields += [(f"len_{name}", ">i4"), (name, kind)]
        fields += [("len_grade", ">i4")] + ([("grade", f"S{len(g)}")] if g else [])
        fields += [("len_method", ">i4"), ("method", f"S{len(m)}")]
        fields += [("len_changes", ">i4"), ("changes", "<f8", (width,)), ("len_result", ">i4")]
        index = np.asarray(where)
        for start in range(0, len(index), CHUNK):
            part = index[start : start + CHUNK]
            out = np.empty(len(part), dtype=np.dtype(fields))
            out["n"] = len(_COLUMNS)
            for name, size in (("run", 4), ("calc", 4), ("tenant", 4), ("pcf", 8),
                               ("previous", 8)):  # fmt: skip
                out[f"len_{name}"] = size
            out["run"] = run_id
            out["calc"], out["tenant"] = rows.calc[part], rows.tenant[part]
            out["pcf"], out["previous"] = rows.pcf[part], rows.previous[part]
            out["len_grade"] = -1 if g is None else len(g)
            if g:
                out["grade"] = g
            out["len_method"], out["method"] = len(m), m
            out["len_changes"], out["changes"] = 8 * width, rows.changes[part]
            out["len_result"] = -1
            yield out.tobytes()
    for i in full:
        yield _pgcopy_row(
            (run_id, int(rows.calc[i]), int(rows.tenant[i])),
            (float(rows.pcf[i]), float(rows.previous[i])),
            (rows.grade[i], rows.method[i]),
            np.ascontiguousarray(rows.changes[i], dtype="<f8").tobytes(),
            rows.result[i],
        )
    yield _PGCOPY_TRAILER


def _pgcopy_row(
    ints: tuple[int, ...], floats: tuple[float, ...], texts: tuple[str | None, ...],
    changes: bytes, result: str | None,
) -> bytes:  # fmt: skip
    """One footprint in binary COPY format, field by field (for the few full rows)."""
    out = [struct.pack(">h", len(_COLUMNS))]
    out += [struct.pack(">ii", 4, v) for v in ints]
    out += [struct.pack(">id", 8, v) for v in floats]
    for value in (*texts, changes, result):
        if value is None:
            out.append(struct.pack(">i", -1))
            continue
        data = value.encode("utf-8") if isinstance(value, str) else value
        out += [struct.pack(">i", len(data)), data]
    return b"".join(out)


_SQLITE_ROWS = 100  # rows per INSERT: 900 parameters, under SQLite's oldest limit of 999


def _sqlite_insert(dbapi: Any, run_id: int, rows: Rows) -> None:
    """The footprints by INSERTs of 100 rows each (a quarter faster than one row each: the
    per-statement work of sqlite3's executemany is paid once per 100 rows)."""
    n = len(rows.calc)
    width = 8 * len(rows.columns)
    blob = np.ascontiguousarray(rows.changes, dtype="<f8").tobytes()
    data = list(
        zip(
            repeat(run_id, n), rows.calc.tolist(), rows.tenant.tolist(), rows.pcf.tolist(),
            rows.previous.tolist(), rows.grade, rows.method,
            [blob[i : i + width] for i in range(0, n * width, width)], rows.result, strict=True,
        )
    )  # fmt: skip
    one = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    insert = f"INSERT INTO recomputed_footprints ({', '.join(_COLUMNS)}) VALUES "
    whole = n - n % _SQLITE_ROWS
    cur = dbapi.cursor()
    try:
        cur.executemany(
            insert + ", ".join([one] * _SQLITE_ROWS),
            (list(chain.from_iterable(data[i : i + _SQLITE_ROWS])) for i in range(0, whole,
                                                                                 _SQLITE_ROWS)),
        )  # fmt: skip
        cur.executemany(insert + one, data[whole:])
    finally:
        cur.close()


def write_run(
    factory: sessionmaker, who: Principal, target: Target, rows: Rows,
    report: RecomputeReport, say: Progress,
) -> str:  # fmt: skip
    """The run and its footprints, in one transaction; one audit entry per run and tenant."""
    run_uuid = str(uuid.uuid4())
    n = len(rows.calc)
    with factory() as session, session.begin():
        tenant_slug = None
        if target.tenant_id is not None:
            tenant_slug = session.get(Tenant, target.tenant_id).slug  # type: ignore[union-attr]
        attribute(session, who.actor, tenant_slug)
        run = RecomputeRun(
            uuid=run_uuid,
            tenant_id=target.tenant_id,
            label=target.fs.label,
            factor_set=target.fs.model_dump(mode="json"),
            summary=report.model_dump(mode="json", exclude={"run", "seconds"}),
            recomputed=n,
            scheduler=report.scheduler[:300],
            created_by=who.actor[:400],
            change_columns=list(rows.columns),
        )
        session.add(run)
        session.flush()
        conn = session.connection()
        dbapi = conn.connection.driver_connection
        names = ", ".join(_COLUMNS)
        if conn.dialect.name == "postgresql":
            sql = f"COPY recomputed_footprints ({names}) FROM STDIN (FORMAT BINARY)"
            with dbapi.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[union-attr]
                for block in _pgcopy(run.id, rows):
                    copy.write(block)
        else:
            _sqlite_insert(dbapi, run.id, rows)
        say("write", n, n)
        tenants, counts = np.unique(rows.tenant, return_counts=True)
        slugs = dict(session.execute(
            select(Tenant.id, Tenant.slug).where(Tenant.id.in_(tenants.tolist()))
        ).all())  # fmt: skip
        now = datetime.now(UTC)
        session.execute(
            insert(AuditEntry),
            [
                {
                    "at": now,
                    "tenant": slugs[t],
                    "actor": who.actor,
                    "action": "create",
                    "entity": "recomputed_footprints",
                    "entity_id": f"run:{run_uuid}",
                    "details": {"run": run_uuid, "factor_set": target.fs.label, "count": count},
                }
                for t, count in zip(tenants.tolist(), counts.tolist(), strict=True)
            ],
        )
    return run_uuid
