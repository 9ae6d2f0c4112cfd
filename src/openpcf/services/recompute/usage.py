"""Usage at calculation time: how much of each factor one declared unit of a calculation uses,
and every factor-set version a calculation drew on, recorded whole."""

from __future__ import annotations

import hashlib
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openpcf.domain.factor import Factor, FactorSet
from openpcf.domain.gases import CO2E, Flow
from openpcf.domain.model import STAGES
from openpcf.domain.result import Result
from openpcf.engine.recompute import EXCLUDED, pack
from openpcf.engine.solve import factorise, footprints_of_all_processes
from openpcf.rules.catalogue import product_rules
from openpcf.services.calculation.calculate import accounting_for
from openpcf.services.calculation.inventory import Line, build_inventory, reference_per_declared
from openpcf.services.calculation.project import Project
from openpcf.store.models import Calculation
from openpcf.store.models_recompute import CalculationUsage, RecomputeFactor, RecomputeFactorSet
from openpcf.units import factor_between, same_dimension


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
        set_row = recorded_set(session, fs, calculation.tenant_id)
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


def recorded_set(session: Session, fs: FactorSet, tenant_id: int) -> RecomputeFactorSet:
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
                RecomputeFactor(set_id=row.id, factor_id=f.id, factor=factor_dump(f))
                for f in fs.factors
            )
            session.flush()
            return row
    except IntegrityError:
        found = session.scalar(query)
        assert found is not None
        return found


def factor_dump(f: Factor) -> dict[str, Any]:
    return f.model_dump(mode="json", exclude_defaults=True)
