"""The linear path: the usage of the calculations in scope streamed in chunks to workers,
which return the change of each total, stage and gas."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Select, case, literal, select
from sqlalchemy.orm import Session

from openpcf.engine.recompute import Change, ChunkResult, concatenated, grades, recompute_chunk
from openpcf.rules.catalogue import product_rules
from openpcf.services.recompute.changes import Target, accounting_groups
from openpcf.services.recompute.executor import Executor
from openpcf.services.recompute.report import Progress, RecomputeReport
from openpcf.store.models_recompute import (
    CalculationUsage,
    RecomputedFootprint,
    RecomputeFactorSet,
    RecomputeRun,
)

CHUNK = 100_000


@dataclass
class Linear:
    """What the linear path recomputed, in arrays (one entry per calculation)."""

    calc: np.ndarray
    tenant: np.ndarray
    previous: np.ndarray
    pcf: np.ndarray
    changes: np.ndarray  # rows x Change.layout
    rule: np.ndarray  # index into `rules` (the rules that grade), -1: none
    divisor: np.ndarray  # NaN: graded by no rule
    rules: list[str]

    def without(self, calcs: np.ndarray) -> Linear:
        keep = ~np.isin(self.calc, calcs)
        return Linear(
            self.calc[keep], self.tenant[keep], self.previous[keep], self.pcf[keep],
            self.changes[keep], self.rule[keep], self.divisor[keep], self.rules,
        )  # fmt: skip


def already_recomputed(session: Session, target: Target) -> np.ndarray:
    """Calculations a run for this same set version (and scope) already recomputed."""
    runs = select(RecomputeRun.id).where(
        RecomputeRun.label == target.fs.label, _scope(RecomputeRun.tenant_id, target)
    )
    if session.scalar(runs.limit(1)) is None:
        return np.zeros(0, dtype=np.int64)
    found = session.scalars(
        select(RecomputedFootprint.calculation_id).where(RecomputedFootprint.run_id.in_(runs))
    ).all()
    return np.unique(np.array(found, dtype=np.int64))


def _scope(column: Any, target: Target) -> Any:
    return column.is_(None) if target.tenant_id is None else column == target.tenant_id


def _usage_query(
    target: Target,
    old_sets: list[RecomputeFactorSet],
    groups: dict[tuple[str, str], int],
    electric: set[int],
    graded: list[str],
) -> Select:
    """One table, no join with the calculations' large rows, and no ORDER BY (SQLite would sort
    every blob in a temporary B-tree before the first row; the run sorts by key at the end).
    Whether a row
    must be recalculated in full, its accounting group and its graded rule come as small
    integers the database computes (CASE over the few known values): no string per row
    crosses to Python. Group -1: a profile or GWP set this software does not know."""
    u = CalculationUsage
    group = case(*(((u.profile == p) & (u.gwp == g), i) for (p, g), i in groups.items()),
                 else_=-1)  # fmt: skip
    forced = case(
        (u.linear.is_(False), 1),
        (u.electricity.is_(True) & u.set_id.in_(sorted(electric)), 1),
        else_=0,
    )
    rule = (
        case(*((u.rule == r, i) for i, r in enumerate(graded)), else_=-1) if graded else literal(-1)
    )
    query = select(
        u.calculation_id, u.usage, forced, group, rule, u.grade_divisor, u.pcf, u.tenant_id
    ).where(u.set_id.in_([s.id for s in old_sets]))  # fmt: skip
    if target.tenant_id is not None:
        query = query.where(u.tenant_id == target.tenant_id)
    return query


@dataclass
class _Chunk:
    calc: np.ndarray
    tenant: np.ndarray
    previous: np.ndarray
    divisor: np.ndarray  # NaN: the rule grades nothing
    rule: np.ndarray
    future: Future | Any


def _rows_of(session: Session, query: Select, size: int) -> Iterator[list[tuple]]:
    """The query's rows in lists of `size`, as plain DBAPI tuples (on PostgreSQL a server-side
    cursor in binary format: no hex to decode): building SQLAlchemy rows costs more than the
    rest of a chunk's reading."""
    conn = session.connection()
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    raw = conn.connection.driver_connection
    postgres = conn.dialect.name == "postgresql"
    cur = (
        raw.cursor(name="openpcf_recompute", binary=True)  # type: ignore[union-attr]
        if postgres
        else raw.cursor()  # type: ignore[union-attr]
    )
    try:
        cur.execute(sql)
        while part := cur.fetchmany(size):
            yield part
    finally:
        cur.close()


def linear_changes(
    session: Session,
    target: Target,
    old_sets: list[RecomputeFactorSet],
    change: Change,
    electric: set[int],
    done: np.ndarray,
    address: str | None,
    chunk_size: int,
    report: RecomputeReport,
    say: Progress,
) -> tuple[Linear, list[tuple[int, float]]]:
    """Stream the usage in chunks to the workers, a bounded number in flight (memory stays a few
    chunks, and reading overlaps computing); gather the linear changes and what needs a full
    recalculation."""
    groups = accounting_groups()
    graded = sorted(rid for rid, r in product_rules().items() if r.benchmark_classes)
    query = _usage_query(target, old_sets, groups, electric, graded)
    parts: list[tuple[_Chunk, ChunkResult]] = []
    full: list[tuple[int, float]] = []
    pending: deque[_Chunk] = deque()
    with Executor(address) as (submit, workers):

        def gather() -> None:
            chunk = pending.popleft()
            parts.append((chunk, chunk.future.result()))
            chunk.future = None  # free the chunk's usage as soon as it is done
            say("compute", sum(len(c.calc) for c, _ in parts), None)

        for part in _rows_of(session, query, chunk_size):
            if done.size:
                fresh = ~np.isin(np.fromiter((r[0] for r in part), np.int64, len(part)), done)
                report.skipped += int((~fresh).sum())
                part = [r for r, keep in zip(part, fresh.tolist(), strict=True) if keep]
            if not part:
                continue
            calc, usage, forced, group, rule, divisor, pcf, tenant = zip(*part, strict=True)
            n = len(part)
            groups_ = np.array(group, dtype=np.int64)
            buffer, counts = concatenated(usage)
            del usage, part
            pending.append(
                _Chunk(
                    calc=np.array(calc, dtype=np.int64),
                    tenant=np.array(tenant, dtype=np.int64),
                    previous=np.array(pcf, dtype=np.float64),
                    divisor=np.array(divisor, dtype=np.float64),  # None -> NaN
                    rule=np.array(rule, dtype=np.int64),
                    future=submit(
                        recompute_chunk,
                        buffer,
                        counts,
                        np.maximum(groups_, 0),
                        np.array(forced, dtype=bool) | (groups_ < 0),
                        change,
                    ),
                )
            )
            report.examined += n
            say("read", report.examined, None)
            while len(pending) > workers:
                gather()
        while pending:
            gather()
    out = Linear(
        *(np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.float64, np.float64)),
        changes=np.zeros((0, len(change.layout))),
        rule=np.zeros(0, dtype=np.int64),
        divisor=np.zeros(0),
        rules=graded,
    )
    if parts:
        picked = [(c, r, np.flatnonzero(r.dependent & ~r.full)) for c, r in parts]
        out = Linear(
            calc=np.concatenate([c.calc[i] for c, _, i in picked]),
            tenant=np.concatenate([c.tenant[i] for c, _, i in picked]),
            previous=np.concatenate([c.previous[i] for c, _, i in picked]),
            pcf=np.concatenate([c.previous[i] + r.delta[i] for c, r, i in picked]),
            changes=np.concatenate([r.changes for _, r, _ in picked]),
            rule=np.concatenate([c.rule[i] for c, _, i in picked]),
            divisor=np.concatenate([c.divisor[i] for c, _, i in picked]),
            rules=graded,
        )
        for c, r, _ in picked:
            where = np.flatnonzero(r.full)
            full += zip(c.calc[where].tolist(), c.previous[where].tolist(), strict=True)
    return out, full


def split_full(
    linear: Linear, full: list[tuple[int, float]], report: RecomputeReport
) -> tuple[Linear, list[tuple[int, float]]]:
    """What is recalculated in full, each calculation once, and the linear rest. A calculation
    drawing on two recorded versions of the set (two usage rows) is recalculated in full: the
    linear path sees each version alone."""
    ids, counts = np.unique(linear.calc, return_counts=True)
    twice = np.isin(linear.calc, ids[counts > 1])
    todo = dict(zip(linear.calc[twice].tolist(), linear.previous[twice].tolist(), strict=True))
    todo.update(full)
    if todo:
        linear = linear.without(np.fromiter(todo, np.int64, len(todo)))
    report.linear = len(linear.calc)
    report.dependent = report.linear + len(todo)
    return linear, sorted(todo.items())


def linear_grades(linear: Linear) -> list[str | None]:
    """The benchmark grade of each new linear total: not linear, so re-read from the total."""
    out = np.full(len(linear.calc), None, dtype=object)
    for code, rule_id in enumerate(linear.rules):
        rule = product_rules().get(rule_id)
        if rule is None or not rule.benchmark_classes:
            continue
        where = np.flatnonzero((linear.rule == code) & ~np.isnan(linear.divisor))
        if not where.size:
            continue
        classes = sorted(rule.benchmark_classes, key=lambda c: c.max_kg_co2e)
        thresholds = np.array([c.max_kg_co2e for c in classes])
        names = np.array([c.grade for c in classes] + [None], dtype=object)
        found = grades(linear.pcf[where], linear.divisor[where], rule.declared_unit.amount,
                       thresholds)  # fmt: skip
        out[where] = names[found]
    return out.tolist()
