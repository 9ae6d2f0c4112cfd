"""Recompute every stored footprint that depends on a changed factor, beside the old ones.

At calculation time (`record_usage`, called by `run_calculation`) each calculation records, per
factor-set version it drew on, its usage vector: how much of each factor's activity one declared
unit uses, by stage (`engine/recompute.py`). The set versions themselves are recorded whole, so
the old values are known even when the software no longer ships them.

`recompute(...)` for a new version NAME@VERSION then:
1. compares it with every recorded older version of NAME: a factor is unchanged, changed in
   value (linear: delta = usage x (new - old) . GWP weights), or one a calculation cannot follow
   linearly: removed, or a new unit (full recalculation, which reports what fails);
2. streams the usage of the calculations in scope (the tenant's for a tenant set, every
   tenant's for the bundled or a regulator's set) in chunks to worker processes (all local cores
   by default, or a Dask cluster: `scheduler` or OPENPCF_DASK_SCHEDULER), which return the change
   of each total and of each stage and gas;
3. recalculates in full, from the recorded model versions and set versions, the calculations the
   linear path cannot follow: those stored before usage was recorded, those using a removed or
   re-united factor, those whose usage could not be recorded exactly, and those resolving
   electricity by region and year when the set adds or drops an electricity factor (the choice of
   factor may change). The benchmark grade is not linear: it is re-read from the new total;
4. writes, in one transaction, a run and one `recomputed_footprints` row per recomputed
   calculation (new total, grade, changes by stage and gas as float64 values named by the run's
   `change_columns`; the full Result for full recalculations), by binary COPY built with numpy
   on PostgreSQL and 100-row INSERTs on SQLite. Old rows are never touched. A failed run stores
   nothing; running again for the same version skips the calculations it already recomputed.

Everything per calculation stays in numpy arrays from the read to the write: a Python object
per calculation (a dict, a JSON string, a row tuple built by hand) costs microseconds, and a
million of them was most of a run (see `benchmarks/recompute.py`).

The full result of a linear row is materialised on read (`recomputed_calculation`): the recorded
models recalculated with the run's set version, checked against the stored total to 1e-9.
"""

from __future__ import annotations

import hashlib
import os
import struct
import time
import uuid
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, repeat
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, case, exists, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from openpcf import __version__
from openpcf.domain.errors import OpenpcfError
from openpcf.domain.factor import Factor, FactorSet
from openpcf.domain.gases import CO2E, GWP_SETS, Flow
from openpcf.domain.model import STAGES
from openpcf.domain.platform import (
    CalculationInfo,
    Footprint,
    Principal,
    Role,
    UsedModelVersion,
)
from openpcf.domain.result import Amount, DeclaredUnit, Note, Result
from openpcf.engine.recompute import (
    EXCLUDED,
    Change,
    ChunkResult,
    concatenated,
    grades,
    pack,
    recompute_chunk,
)
from openpcf.engine.solve import factorise, footprints_of_all_processes
from openpcf.factors.bundled import bundled_set, gwp_table
from openpcf.factors.catalogue import Catalogue
from openpcf.io.model_file import LoadedModel
from openpcf.rules.catalogue import product_rules, profiles
from openpcf.services.calculation.calculate import accounting_for, calculate, counts_in_total
from openpcf.services.calculation.check import check
from openpcf.services.calculation.inventory import Line, build_inventory, reference_per_declared
from openpcf.services.calculation.project import Project
from openpcf.services.catalogue.products import loaded_version
from openpcf.services.errors import InvalidRequest, NotFound, PermissionDenied
from openpcf.services.platform.access import own
from openpcf.services.platform.accounts import utc
from openpcf.store.audit import attribute
from openpcf.store.models import (
    AuditEntry,
    Calculation,
    FactorSetVersion,
    ModelVersion,
    Product,
    Tenant,
)
from openpcf.store.models_recompute import (
    CalculationUsage,
    RecomputedFootprint,
    RecomputeFactor,
    RecomputeFactorSet,
    RecomputeRun,
)
from openpcf.units import factor_between, same_dimension

SCHEDULER_ENV = "OPENPCF_DASK_SCHEDULER"
CHUNK = 100_000
TOLERANCE = 1e-9  # relative: a materialised result must agree with the stored total

# --- usage at calculation time ---------------------------------------------------------------


@dataclass(frozen=True)
class FactorUsage:
    """A calculation's usage: per catalogue set, (stage code, factor id, activity per declared
    unit in the factor's unit) records; and what the linear path cannot see."""

    sets: tuple[FactorSet, ...]
    records: dict[str, list[tuple[int, str, float]]]
    electricity: bool  # some electricity input was resolved by region and year
    linear: bool  # false: some activity could not be recovered; recalculate in full
    grade_divisor: float | None


def factor_usage(project: Project, result: Result) -> FactorUsage:
    """The usage vector of `result`, computed from `project` as `calculate` computed it: each
    target line's factor activity, and each sub-assembly's folded in through the same solve."""
    acc = accounting_for(result.profile, result.gwp)
    inv = build_inventory(project, acc)
    labels = {fs.label for fs in project.catalogue.sets}
    keys: dict[tuple[str, str], int] = {}
    n = len(inv.columns)
    a = sp.lil_matrix((n, n))
    q: dict[tuple[int, int], float] = defaultdict(float)
    own: list[list[tuple[int, float]]] = []  # per target line: (key, activity per reference)
    linear, electricity, subs = True, False, False
    for j, col in enumerate(inv.columns):
        catalogue = project.catalogue_for(j)
        for ln in col.lines:
            if ln.sub is not None:
                a[ln.sub, j] += col.scale * ln.sub_amount
                subs = True
            if ln.input is not None and ln.input.electricity is not None:
                electricity = True
            found = _quantities(ln)
            if found is None:
                linear = False
                found = []
            mine = []
            for factor, qty in found:
                label = catalogue.set_of.get(factor.id)
                if label not in labels or catalogue.by_id.get(factor.id) != factor:
                    continue  # an inline factor: no published set changes it
                k = keys.setdefault((label, factor.id), len(keys))
                q[(j, k)] += col.scale * qty
                mine.append((k, qty))
            if j == 0:
                own.append(mine)
    per_unit = np.zeros((n, len(keys)))
    if subs and keys:
        rhs = np.zeros((len(keys), n))
        for (j, k), v in q.items():
            rhs[k, j] += v
        per_unit = footprints_of_all_processes(factorise(a.tocsc()), rhs)
    per_declared = reference_per_declared(project.models[0])
    top = inv.columns[0]
    amounts: dict[tuple[int, int], float] = defaultdict(float)
    for ln, mine in zip(top.lines, own, strict=True):
        code = STAGES.index(ln.stage) + (EXCLUDED if ln.stage in acc.excluded_stages else 0)  # type: ignore[arg-type]
        for k, qty in mine:
            amounts[(code, k)] += top.scale * qty * per_declared
        if ln.sub is not None:
            for k in np.flatnonzero(per_unit[ln.sub]):
                amounts[(code, int(k))] += (
                    top.scale * ln.sub_amount * per_unit[ln.sub, k] * per_declared
                )
    names = {k: key for key, k in keys.items()}
    records: dict[str, list[tuple[int, str, float]]] = {label: [] for label in labels}
    for (code, k), amount in sorted(amounts.items()):
        label, factor_id = names[k]
        records[label].append((code, factor_id, amount))
    return FactorUsage(project.catalogue.sets, records, electricity, linear, _grade_divisor(result))


def _quantities(ln: Line) -> list[tuple[Factor, float]] | None:
    """Activity (in each factor's unit) behind a line's factor parts; None when unknowable."""
    if not ln.parts:
        return []
    inp = ln.input
    if inp is not None and inp.electricity is None and len(ln.parts) == 1:
        factor = ln.parts[0][0]  # as inventory._scaled computes it
        return [(factor, inp.amount * factor_between(inp.unit, factor.unit, "factor"))]
    known: list[tuple[Factor, float]] = []
    unknown: list[Factor] = []
    for factor, flows in ln.parts:
        flow, value = _reference_flow(factor)
        if value:
            known.append((factor, flows.get(flow, 0.0) / value))
        else:
            unknown.append(factor)
    if not unknown:
        return known
    if len(unknown) > 1 or inp is None:
        return None
    # The parts split the input's amount: a zero-valued one has what the others leave.
    left = inp.amount - sum(qty / factor_between(inp.unit, f.unit, "factor") for f, qty in known)
    factor = unknown[0]
    return [*known, (factor, left * factor_between(inp.unit, factor.unit, "factor"))]


def _reference_flow(factor: Factor) -> tuple[Flow, float]:
    if factor.gases is not None:
        gas = max(factor.gases, key=lambda g: abs(factor.gases[g]))  # type: ignore[index]
        return Flow(gas, factor.origin), factor.gases[gas]
    return Flow(CO2E, factor.origin, factor.gwp or "unspecified"), float(factor.co2e or 0.0)


def _grade_divisor(result: Result) -> float | None:
    """What `grade_of` divides the total by (declared amount in the rule's unit), if it grades."""
    rule = product_rules().get(result.rule)
    du = result.declared_unit
    if rule is None or not rule.benchmark_classes:
        return None
    if not same_dimension(du.unit, rule.declared_unit.unit):
        return None
    return du.amount * factor_between(du.unit, rule.declared_unit.unit, "declared unit")


def record_usage(
    session: Session, calculation: Calculation, project: Project, result: Result
) -> None:
    """Store the calculation's usage per set (and each set version, whole, on first sight)."""
    usage = factor_usage(project, result)
    for position, fs in enumerate(usage.sets):
        set_row = _recorded_set(session, fs, calculation.tenant_id)
        records = usage.records.get(fs.label, [])
        ids = {fid for _, fid, _ in records}
        key_of = dict(
            session.execute(
                select(RecomputeFactor.factor_id, RecomputeFactor.id).where(
                    RecomputeFactor.set_id == set_row.id, RecomputeFactor.factor_id.in_(ids)
                )
            ).all()
        ) if ids else {}  # fmt: skip
        session.add(
            CalculationUsage(
                calculation_id=calculation.id,
                tenant_id=calculation.tenant_id,
                set_id=set_row.id,
                position=position,
                usage=pack(
                    [c for c, _, _ in records],
                    [key_of[fid] for _, fid, _ in records],
                    [x for _, _, x in records],
                ),
                electricity=usage.electricity,
                linear=usage.linear,
                grade_divisor=usage.grade_divisor,
                pcf=calculation.pcf,
                profile=calculation.profile,
                gwp=calculation.gwp,
                rule=calculation.rule,
            )
        )
    session.flush()


# Digests of the sets last seen (the bundled set is one object for the life of the process);
# the set is held with its digest, so an id is never mistaken for a later object's.
_digests: OrderedDict[int, tuple[FactorSet, str]] = OrderedDict()


def set_digest(fs: FactorSet) -> str:
    """sha256 of a set's content: what tells two sets of one label apart."""
    found = _digests.get(id(fs))
    if found is not None and found[0] is fs:
        return found[1]
    digest = hashlib.sha256(fs.model_dump_json().encode("utf-8")).hexdigest()
    _digests[id(fs)] = (fs, digest)
    if len(_digests) > 16:
        _digests.popitem(last=False)
    return digest


def _recorded_set(session: Session, fs: FactorSet, tenant_id: int) -> RecomputeFactorSet:
    digest = set_digest(fs)
    query = select(RecomputeFactorSet).where(
        RecomputeFactorSet.set_name == fs.id,
        RecomputeFactorSet.set_version == fs.version,
        RecomputeFactorSet.sha256 == digest,
    )
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():  # another calculation may record it at the same time
            row = RecomputeFactorSet(
                tenant_id=tenant_id if ":" in fs.id else None,
                set_name=fs.id,
                set_version=fs.version,
                title=fs.title[:500],
                sha256=digest,
            )
            session.add(row)
            session.flush()
            session.add_all(
                RecomputeFactor(set_id=row.id, factor_id=f.id, factor=_dump(f)) for f in fs.factors
            )
            session.flush()
            return row
    except IntegrityError:
        found = session.scalar(query)
        assert found is not None
        return found


def _dump(f: Factor) -> dict[str, Any]:
    return f.model_dump(mode="json", exclude_defaults=True)


# --- the report --------------------------------------------------------------------------------


class FactorChange(BaseModel):
    """One factor of an older recorded version against the new version."""

    factor: str
    old_set: str
    kind: Literal["value", "removed", "unit"]
    unit: str
    old: dict[str, float]
    new: dict[str, float] | None = None


class ProductChange(BaseModel):
    product: str
    calculation: str
    previous: float
    new: float
    change: float
    percent: float | None


class RecomputeReport(BaseModel):
    run: str | None
    factor_set: str
    replaces: list[str]
    scope: str
    scheduler: str
    dry_run: bool
    examined: int = 0
    dependent: int = 0
    linear: int = 0
    full: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = []
    factors: list[FactorChange] = []
    percent_min: float | None = None
    percent_median: float | None = None
    percent_max: float | None = None
    top: list[ProductChange] = []
    seconds: dict[str, float] = {}

    @property
    def recomputed(self) -> int:
        return self.linear + self.full


Progress = Callable[[str, int, int | None], None]  # (phase, done, total)


# --- the run -----------------------------------------------------------------------------------


@dataclass
class _Target:
    fs: FactorSet
    tenant_id: int | None  # scope: one tenant, or None for all
    scope: str


@dataclass
class _Linear:
    """What the linear path recomputed, in arrays (one entry per calculation)."""

    calc: np.ndarray
    tenant: np.ndarray
    previous: np.ndarray
    pcf: np.ndarray
    changes: np.ndarray  # rows x Change.layout
    rule: np.ndarray  # index into `rules` (the rules that grade), -1: none
    divisor: np.ndarray  # NaN: graded by no rule
    rules: list[str]

    def without(self, calcs: np.ndarray) -> _Linear:
        keep = ~np.isin(self.calc, calcs)
        return _Linear(
            self.calc[keep], self.tenant[keep], self.previous[keep], self.pcf[keep],
            self.changes[keep], self.rule[keep], self.divisor[keep], self.rules,
        )  # fmt: skip


@dataclass
class _Recalculated:
    """A calculation recalculated in full."""

    calc: int
    tenant: int
    previous: float
    result: Result
    stages: dict[str, float]  # change by stage
    gases: dict[str, float]  # change by gas


@dataclass(frozen=True)
class _Rows:
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
        target = _target(session, who, factor_set, tenant)
        old_sets = _old_sets(session, target)
        change, factor_changes, electric = _change(session, target.fs, old_sets)
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
        done = _already_recomputed(session, target)
        linear, full = _linear(session, target, old_sets, change, electric, done, address,
                               chunk_size, report, say)  # fmt: skip
        clock.lap("read and compute")
        full += _legacy(session, target, done, report)
        linear, todo = _in_full(linear, full, report)
        recalculated_ = _full(session, target.fs, todo, report, say)
        clock.lap("full")
    rows = _rows(linear, recalculated_, change)
    _summarise(factory, rows, report, top)
    clock.lap("grades and report")
    if not dry_run and len(rows.calc):
        report.run = _write(factory, who, target, rows, report, say)
    clock.lap("write")
    report.seconds = clock.laps
    return report


def _target(session: Session, who: Principal, spec: str, tenant: str | None) -> _Target:
    """The new set version, and whose calculations it concerns."""
    if who.kind != "operator":
        if who.role is not Role.admin:
            raise PermissionDenied("recomputing footprints is for a tenant's admins")
        if tenant not in (None, who.tenant):
            raise PermissionDenied("a tenant's admin recomputes with the tenant's own factor sets")
        tenant = who.tenant
    path = Path(spec)
    if tenant is None and path.suffix.lower() == ".json" and path.is_file():
        try:
            fs = FactorSet.model_validate_json(path.read_text("utf-8"))
        except ValidationError as exc:
            raise InvalidRequest(f"{path}: not a factor set document: {exc}") from None
        if ":" in fs.id:
            raise InvalidRequest(
                f"{path}: set id '{fs.id}' names a tenant's set; publish tenant sets through "
                "the platform and recompute with --tenant"
            )
        return _Target(fs, None, "all tenants")
    name, at, version = spec.partition("@")
    if not at or not name or not version:
        raise InvalidRequest(f"--factor-set '{spec}': expected NAME@VERSION or a .json file")
    if tenant is None:
        shipped = bundled_set()
        if spec != shipped.label:
            raise InvalidRequest(
                f"'{spec}' is not the bundled factor set ({shipped.label}); name a tenant's "
                "published set with --tenant, or give a factor-set .json file"
            )
        return _Target(shipped, None, "all tenants")
    row = session.scalar(
        select(FactorSetVersion)
        .join(Tenant, Tenant.id == FactorSetVersion.tenant_id)
        .where(
            Tenant.slug == tenant,
            FactorSetVersion.name == name.removeprefix(f"{tenant}:"),
            FactorSetVersion.version == version,
            FactorSetVersion.published_at.is_not(None),
        )
    )
    if row is None:
        raise NotFound(f"'{spec}' is not a published factor set of tenant {tenant}")
    from openpcf.services.catalogue.factor_sets import as_factor_set

    return _Target(as_factor_set(row), row.tenant_id, f"tenant {tenant}")


def _old_sets(session: Session, target: _Target) -> list[RecomputeFactorSet]:
    query = select(RecomputeFactorSet).where(
        RecomputeFactorSet.set_name == target.fs.id,
        RecomputeFactorSet.sha256 != set_digest(target.fs),
    )
    return list(session.scalars(query.order_by(RecomputeFactorSet.id)))


def _electricity_ids(factors: list[Factor]) -> frozenset[str]:
    """Factors `resolve_electricity` and `generation_factor` choose among by region and year."""
    return frozenset(
        f.id for f in factors
        if f.id.startswith(("cn-mee-grid/", "cn-mee-efp/"))
        or f.kind in ("grid-co2", "electricity-footprint")
    )  # fmt: skip


def _flows(f: Factor) -> dict[Flow, float]:
    if f.gases is not None:
        return {Flow(g, f.origin): kg for g, kg in f.gases.items()}
    return {Flow(CO2E, f.origin, f.gwp or "unspecified"): float(f.co2e or 0.0)}


def _change(
    session: Session, new: FactorSet, old_sets: list[RecomputeFactorSet]
) -> tuple[Change, list[FactorChange], set[int]]:
    """The coefficient tables of a run, the changed factors, and the old sets whose electricity
    factors differ in their ids from the new set's (choices by region and year may change)."""
    by_id = {f.id: f for f in new.factors}
    new_electric = _electricity_ids(list(new.factors))
    deltas: list[dict[Flow, float]] = []
    rows = session.execute(
        select(RecomputeFactor.id, RecomputeFactor.set_id, RecomputeFactor.factor)
        .where(RecomputeFactor.set_id.in_([s.id for s in old_sets]))
        .order_by(RecomputeFactor.id)
    ).all() if old_sets else []  # fmt: skip
    size = max((r.id for r in rows), default=0) + 1
    column = np.full(size, -1, dtype=np.int64)
    full = np.zeros(size, dtype=bool)
    label = {s.id: f"{s.set_name}@{s.set_version}" for s in old_sets}
    changes: list[FactorChange] = []
    old_factors: dict[int, list[Factor]] = defaultdict(list)
    for key, set_id, data in rows:
        old = Factor.model_validate(data)
        old_factors[set_id].append(old)
        now = by_id.get(old.id)
        if now is not None and _dump(now) == _dump(old):
            continue
        before = {f.label(): v for f, v in _flows(old).items()}
        if now is None or now.unit != old.unit:
            full[key] = True
            kind: Literal["value", "removed", "unit"] = "removed" if now is None else "unit"
            changes.append(FactorChange(factor=old.id, old_set=label[set_id], kind=kind,
                                        unit=old.unit, old=before,
                                        new=None if now is None else
                                        {f.label(): v for f, v in _flows(now).items()}))  # fmt: skip
            continue
        after, was = _flows(now), _flows(old)
        delta = {f: after.get(f, 0.0) - was.get(f, 0.0) for f in {*after, *was}}
        if not any(delta.values()):
            continue  # provenance only (name, source, year): totals do not move
        column[key] = len(deltas)
        deltas.append(delta)
        changes.append(FactorChange(factor=old.id, old_set=label[set_id], kind="value",
                                    unit=old.unit, old=before,
                                    new={f.label(): v for f, v in after.items()}))  # fmt: skip
    electric = {s.id for s in old_sets if _electricity_ids(old_factors[s.id]) != new_electric}
    gas_names = tuple(sorted({f.gas for d in deltas for f in d}))
    groups = _groups()
    total = np.zeros((len(groups), len(deltas)))
    gases = np.zeros((len(groups), len(deltas), len(gas_names)))
    for (profile, gwp), g in groups.items():
        acc = accounting_for(profile, gwp)
        for c, delta in enumerate(deltas):
            for f, kg in delta.items():
                w = gwp_table().gwp(f, acc.gwp) * counts_in_total(f, acc)
                total[g, c] += kg * w
                gases[g, c, gas_names.index(f.gas)] += kg * w
    return Change(column, full, total, gases, gas_names, STAGES), changes, electric


def _groups() -> dict[tuple[str, str], int]:
    """Accounting groups: every known profile under every GWP set."""
    pairs = [(p, g) for p in sorted(profiles()) for g in GWP_SETS]
    return {pair: i for i, pair in enumerate(pairs)}


def _already_recomputed(session: Session, target: _Target) -> np.ndarray:
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


def _scope(column: Any, target: _Target) -> Any:
    return column.is_(None) if target.tenant_id is None else column == target.tenant_id


def _usage_query(
    target: _Target,
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


def _linear(
    session: Session,
    target: _Target,
    old_sets: list[RecomputeFactorSet],
    change: Change,
    electric: set[int],
    done: np.ndarray,
    address: str | None,
    chunk_size: int,
    report: RecomputeReport,
    say: Progress,
) -> tuple[_Linear, list[tuple[int, float]]]:
    """Stream the usage in chunks to the workers, a bounded number in flight (memory stays a few
    chunks, and reading overlaps computing); gather the linear changes and what needs a full
    recalculation."""
    groups = _groups()
    graded = sorted(rid for rid, r in product_rules().items() if r.benchmark_classes)
    query = _usage_query(target, old_sets, groups, electric, graded)
    parts: list[tuple[_Chunk, ChunkResult]] = []
    full: list[tuple[int, float]] = []
    pending: deque[_Chunk] = deque()
    with _Executor(address) as (submit, workers):

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
    out = _Linear(
        *(np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.float64, np.float64)),
        changes=np.zeros((0, len(change.layout))),
        rule=np.zeros(0, dtype=np.int64),
        divisor=np.zeros(0),
        rules=graded,
    )
    if parts:
        picked = [(c, r, np.flatnonzero(r.dependent & ~r.full)) for c, r in parts]
        out = _Linear(
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


def _in_full(
    linear: _Linear, full: list[tuple[int, float]], report: RecomputeReport
) -> tuple[_Linear, list[tuple[int, float]]]:
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


def _grades(linear: _Linear) -> list[str | None]:
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


def _legacy(
    session: Session, target: _Target, done: np.ndarray, report: RecomputeReport
) -> list[tuple[int, float]]:
    """Calculations stored without usage that drew on another version of the set.

    The ids first (a calculation's large row is read only if it has no usage)."""
    ids = select(Calculation.id).where(
        ~exists().where(CalculationUsage.calculation_id == Calculation.id)
    )
    if target.tenant_id is not None:
        ids = ids.where(Calculation.tenant_id == target.tenant_id)
    legacy = session.scalars(ids).all()
    out = []
    for start in range(0, len(legacy), 1000):
        for calc_id, labels, pcf in session.execute(
            select(Calculation.id, Calculation.factor_sets, Calculation.pcf).where(
                Calculation.id.in_(legacy[start : start + 1000])
            )
        ):
            names = [label.rpartition("@") for label in labels]
            if any(n == target.fs.id and f"{n}@{v}" != target.fs.label for n, _, v in names):
                if calc_id in done:
                    report.skipped += 1
                    continue
                report.examined += 1
                out.append((calc_id, pcf))
    return out


def _full(
    session: Session,
    new: FactorSet,
    todo: list[tuple[int, float]],
    report: RecomputeReport,
    say: Progress,
) -> list[_Recalculated]:
    """Recalculate in full what the linear path cannot follow; failures are reported, not stored."""
    out = []
    for n, (calc_id, previous) in enumerate(todo, 1):
        calc = session.get(Calculation, calc_id)
        assert calc is not None
        try:
            result = recalculated(session, calc, new)
        except OpenpcfError as exc:
            report.failed += 1
            if len(report.failures) < 100:
                report.failures.append(f"calculation {calc.uuid} ({calc.product.urn}): {exc}")
            continue
        old = Result.model_validate_json(calc.result)
        out.append(
            _Recalculated(
                calc_id, calc.tenant_id, previous, result,
                _difference(old.stages, result.stages), _difference(old.gases, result.gases),
            )
        )  # fmt: skip
        report.full += 1
        say("full", n, len(todo))
    return out


def _difference(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: b.get(k, 0.0) - a.get(k, 0.0) for k in {**a, **b} if b.get(k, 0.0) != a.get(k, 0.0)}


def _rows(linear: _Linear, full: list[_Recalculated], change: Change) -> _Rows:
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
    grade = _grades(linear) + [r.result.grade for r in full]
    method = ["linear"] * len(linear.calc) + ["full"] * len(full)
    result: list[str | None] = [None] * len(linear.calc)
    result += [r.result.model_dump_json() for r in full]
    pick = order.tolist()
    return _Rows(
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


def changes_of(columns: list[str] | tuple[str, ...], changes: bytes) -> dict[str, dict[str, float]]:
    """A stored footprint's changes as {"stages": {stage: kg CO2e}, "gases": {gas: kg CO2e}},
    the non-zero ones; `columns` is its run's `change_columns`."""
    values = np.frombuffer(changes, dtype="<f8")
    if len(values) != len(columns):
        raise ValueError(f"{len(values)} change values for {len(columns)} columns")
    out: dict[str, dict[str, float]] = {"stages": {}, "gases": {}}
    for name, value in zip(columns, values.tolist(), strict=True):
        kind, _, key = name.partition(":")
        if value:
            out["stages" if kind == "stage" else "gases"][key] = value
    return out


def _summarise(factory: sessionmaker, rows: _Rows, report: RecomputeReport, top: int) -> None:
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


_COLUMNS = (
    "run_id", "calculation_id", "tenant_id", "pcf", "previous_pcf", "grade", "method", "changes",
    "result",
)  # fmt: skip
_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
_PGCOPY_TRAILER = b"\xff\xff"


def _pgcopy(run_id: int, rows: _Rows) -> Iterator[bytes]:
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


def _sqlite_insert(dbapi: Any, run_id: int, rows: _Rows) -> None:
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


def _write(
    factory: sessionmaker, who: Principal, target: _Target, rows: _Rows,
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


# --- execution: local processes or a Dask cluster ----------------------------------------------


class _Executor:
    """(`submit(fn, *args) -> future`, how many run at once): a Dask cluster's when an address
    is given, else a pool of local processes (one per core)."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self._client: Any = None
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> tuple[Callable[..., Any], int]:
        if self.address:
            from distributed import Client

            self._client = Client(self.address, timeout="30s")
            return self._client.submit, max(sum(self._client.nthreads().values()), 1)
        # fork: a worker starts in milliseconds with the numpy code it needs; spawn and
        # forkserver re-import the main module (the whole CLI) in every worker, seconds each.
        # Workers touch no database connection and leave through os._exit.
        method = "fork" if "fork" in get_all_start_methods() else "spawn"
        workers = os.cpu_count() or 1
        self._pool = ProcessPoolExecutor(workers, mp_context=get_context(method))
        return self._pool.submit, workers

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


# --- full recalculation from the store ---------------------------------------------------------


def recalculated(session: Session, calc: Calculation, new: FactorSet) -> Result:
    """`calc` recalculated from its recorded model versions and set versions, with `new` in
    place of its version of the same set. Violations are listed, as with allow_violations."""
    recorded = _calculation_sets(session, calc)
    first = next((i for i, fs in enumerate(recorded) if fs.id == new.id), None)
    # every recorded version of the set gives way to the one new version, in the first's place
    sets = [
        new if i == first else fs for i, fs in enumerate(recorded) if fs.id != new.id or i == first
    ]
    project = _recorded_project(session, calc, sets)
    result = calculate(project, gwp=calc.gwp, profile=calc.profile)
    return result.model_copy(update={"violations": tuple(check(project, calc.profile, result))})


def _calculation_sets(session: Session, calc: Calculation) -> list[FactorSet]:
    recorded = session.execute(
        select(RecomputeFactorSet)
        .join(CalculationUsage, CalculationUsage.set_id == RecomputeFactorSet.id)
        .where(CalculationUsage.calculation_id == calc.id)
        .order_by(CalculationUsage.position)
    ).scalars().all()  # fmt: skip
    if recorded:
        return [_rebuilt(session, s) for s in recorded]
    tenant = calc.product.tenant.slug
    shipped = bundled_set()
    sets: list[FactorSet] = []
    for label in calc.factor_sets:
        name, _, version = label.rpartition("@")
        if name == shipped.id:
            if label != shipped.label:
                raise InvalidRequest(
                    f"the calculation used {label}, which this software does not ship and which "
                    "was not recorded; it cannot be recalculated as it was"
                )
            sets.append(shipped)
        elif name.startswith(f"{tenant}:"):
            row = session.scalar(
                select(FactorSetVersion).where(
                    FactorSetVersion.tenant_id == calc.tenant_id,
                    FactorSetVersion.name == name.removeprefix(f"{tenant}:"),
                    FactorSetVersion.version == version,
                )
            )
            if row is None:
                raise NotFound(f"factor set {label} of the calculation is gone")
            from openpcf.services.catalogue.factor_sets import as_factor_set

            sets.append(as_factor_set(row))
    return sets  # inline sets and databases come back from the models themselves


def _rebuilt(session: Session, s: RecomputeFactorSet) -> FactorSet:
    factors = session.scalars(
        select(RecomputeFactor.factor).where(RecomputeFactor.set_id == s.id).order_by(RecomputeFactor.id)
    ).all()  # fmt: skip
    return FactorSet(
        id=s.set_name,
        version=s.set_version,
        title=s.title,
        factors=tuple(Factor.model_validate(f) for f in factors),
    )


def _recorded_project(session: Session, calc: Calculation, sets: list[FactorSet]) -> Project:
    """The project of the exact model versions the calculation used (not the latest ones)."""
    used = [UsedModelVersion.model_validate(m) for m in calc.model_versions]
    models: list[LoadedModel] = []
    for u in used:
        version = session.scalar(
            select(ModelVersion)
            .join(Product, Product.id == ModelVersion.product_id)
            .where(
                Product.urn == u.product,
                Product.tenant_id == calc.tenant_id,
                ModelVersion.number == u.number,
            )
        )
        if version is None or version.sha256 != u.sha256:
            raise NotFound(f"model version {u.product} #{u.number} of the calculation is gone")
        models.append(loaded_version(version))
    index_of = {u.product: i for i, u in enumerate(used)}
    links = {
        (i, k): index_of[line.product]
        for i, m in enumerate(models)
        for k, line in enumerate(m.model.inputs)
        if line.product is not None and line.product in index_of
    }
    digest = hashlib.sha256()
    for m in models:
        digest.update(m.path.name.encode() + b"\0" + m.doc.text.encode("utf-8") + b"\0")
    for fs in sets:
        digest.update(fs.label.encode() + b"\0" + fs.model_dump_json().encode() + b"\0")
    return Project(
        models=tuple(models),
        links=links,
        catalogue=Catalogue.of(sets),
        factor_files=(),
        input_hash=digest.hexdigest(),
    )


# --- reading a recomputed footprint ------------------------------------------------------------


def recomputed_calculation(
    session: Session, who: Principal, calculation_id: str, run_id: str
) -> CalculationInfo:
    """The recomputed footprint of a calculation of the caller's tenant, with its full result.

    A linear row stores the new totals; its full result is materialised here from the recorded
    models and set versions with the run's set, and must agree with the stored total."""
    with session.begin():
        found = session.execute(
            select(RecomputedFootprint, RecomputeRun, Calculation)
            .join(RecomputeRun, RecomputeRun.id == RecomputedFootprint.run_id)
            .join(Calculation, Calculation.id == RecomputedFootprint.calculation_id)
            .where(
                Calculation.uuid == calculation_id,
                RecomputeRun.uuid == run_id,
                own(who, Calculation.tenant_id),
            )
        ).first()
        if found is None:
            raise NotFound(f"no recomputation {run_id} of calculation {calculation_id}")
        row, run, calc = found
        if row.result is not None:
            result = Result.model_validate_json(row.result)
        else:
            result = recalculated(session, calc, FactorSet.model_validate(run.factor_set))
            if abs(result.pcf.value - row.pcf) > TOLERANCE * max(abs(row.pcf), 1e-12):
                raise InvalidRequest(
                    f"the recalculated total {result.pcf.value!r} differs from the stored "
                    f"{row.pcf!r}: a model or set version changed since the run"
                )
        note = Note(
            code="RECOMPUTED",
            message=f"recomputed by run {run.uuid} with factor set {run.label} from "
            f"calculation {calc.uuid} (total before: {row.previous_pcf:.6g} kg CO2e)",
        )
        result = result.model_copy(update={"warnings": (*result.warnings, note)})
        du = result.declared_unit
        return CalculationInfo(
            id=calc.uuid,
            product=calc.product.urn,
            model_version=calc.model_versions[0]["number"],
            profile=calc.profile,
            gwp=calc.gwp,
            pcf=Amount(value=row.pcf, unit="kg CO2e"),
            declared_unit=DeclaredUnit(amount=du.amount, unit=du.unit),
            created_at=utc(run.created_at),
            rule=calc.rule,
            factor_sets=list(result.provenance.factor_sets),
            model_versions=[UsedModelVersion.model_validate(m) for m in calc.model_versions],
            software_version=__version__,
            input_hash=result.provenance.input_hash,
            created_by=run.created_by,
            footprint=Footprint.of(result),
            result=result,
        )


# --- timing ------------------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 3)
        self.laps["total"] = round(now - self.start, 3)
        self.last = now
