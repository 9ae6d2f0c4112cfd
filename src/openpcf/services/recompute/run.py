"""A recomputation run, end to end (see the package docstring): compare, compute, write."""

from __future__ import annotations

import os
import time

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from openpcf.domain.platform import Principal
from openpcf.services.recompute.changes import compare_versions, find_target, older_versions
from openpcf.services.recompute.full import legacy_calculations, recalculate_all
from openpcf.services.recompute.linear import CHUNK, already_recomputed, linear_changes, split_full
from openpcf.services.recompute.report import ProductChange, Progress, RecomputeReport
from openpcf.services.recompute.write import Rows, rows_of_run, write_run
from openpcf.store.models import Calculation, Product

SCHEDULER_ENV = "OPENPCF_DASK_SCHEDULER"


def recompute(
    factory: sessionmaker,
    who: Principal,
    factor_set: str,
    tenant: str | None = None,
    *,
    dry_run: bool = False,
    scheduler: str | None = None,
    top: int = 10,
    chunk_size: int = CHUNK,
    progress: Progress | None = None,
) -> RecomputeReport:
    """Recompute the footprints depending on factors that `factor_set` changes (see module)."""
    clock = _Clock()
    say = progress or (lambda *_: None)
    with factory() as session:
        target = find_target(session, who, factor_set, tenant)
        old_sets = older_versions(session, target)
        change, factor_changes, electric = compare_versions(session, target.fs, old_sets)
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    report = RecomputeReport(
        run=None,
        factor_set=target.fs.label,
        replaces=sorted({f"{s.set_name}@{s.set_version}" for s in old_sets}),
        scope=target.scope,
        scheduler=address or f"local ({os.cpu_count()} processes)",
        dry_run=dry_run,
        factors=factor_changes,
    )
    clock.lap("compare")
    with factory() as session:
        done = already_recomputed(session, target)
        linear, full = linear_changes(session, target, old_sets, change, electric, done, address,
                               chunk_size, report, say)  # fmt: skip
        clock.lap("read and compute")
        full += legacy_calculations(session, target, done, report)
        linear, todo = split_full(linear, full, report)
        recalculated_ = recalculate_all(session, target.fs, todo, report, say)
        clock.lap("full")
    rows = rows_of_run(linear, recalculated_, change)
    _summarise(factory, rows, report, top)
    clock.lap("grades and report")
    if not dry_run and len(rows.calc):
        report.run = write_run(factory, who, target, rows, report, say)
    clock.lap("write")
    report.seconds = clock.laps
    return report


def _summarise(factory: sessionmaker, rows: Rows, report: RecomputeReport, top: int) -> None:
    if not len(rows.calc):
        return
    previous, new = rows.previous, rows.pcf
    delta = new - previous
    nonzero = previous != 0
    percent = 100.0 * delta[nonzero] / np.abs(previous[nonzero])
    if percent.size:
        report.percent_min = float(percent.min())
        report.percent_median = float(np.median(percent))
        report.percent_max = float(percent.max())
    n = min(top, len(delta))
    if n <= 0:
        return
    best = np.argpartition(-np.abs(delta), n - 1)[:n]
    best = best[np.lexsort((rows.calc[best], -np.abs(delta[best])))]
    calc_ids = rows.calc[best].tolist()
    with factory() as session:
        found = {
            c: (u, urn)
            for c, u, urn in session.execute(
                select(Calculation.id, Calculation.uuid, Product.urn)
                .join(Product, Product.id == Calculation.product_id)
                .where(Calculation.id.in_(calc_ids))
            )
        }
    report.top = [
        ProductChange(
            product=found[c][1],
            calculation=found[c][0],
            previous=float(previous[i]),
            new=float(new[i]),
            change=float(delta[i]),
            percent=float(100 * delta[i] / abs(previous[i])) if previous[i] else None,
        )
        for c, i in zip(calc_ids, best.tolist(), strict=True)
    ]


class _Clock:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 3)
        self.laps["total"] = round(now - self.start, 3)
        self.last = now
