"""The same model under several profiles, and a reconciliation that explains each gap.

From the base profile to another, the settings are switched one rule at a time in a fixed
order (GWP set, gases, electricity, boundary, allocation, biogenic, land-use change); each step's
change of total is attributed to that rule. The steps telescope, so they add up to the gap.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from openpcf.domain.methodology import RECONCILIATION_STEPS, Accounting
from openpcf.domain.result import Result
from openpcf.services.calculation.calculate import accounting_for, calculate_under
from openpcf.services.calculation.project import Project


@dataclass(frozen=True)
class Step:
    rule: str
    kg_co2e: float
    detail: str


@dataclass(frozen=True)
class Reconciliation:
    base: str
    other: str
    base_total: float
    other_total: float
    steps: tuple[Step, ...]

    @property
    def gap(self) -> float:
        return self.other_total - self.base_total


@dataclass(frozen=True)
class Comparison:
    results: tuple[Result, ...]  # the base profile's first
    reconciliations: tuple[Reconciliation, ...]  # base against each other profile


def compare(project: Project, base: str, others: list[str], gwp: str | None = None) -> Comparison:
    base_acc = accounting_for(base, gwp)
    base_result = calculate_under(project, base_acc)
    results, recs = [base_result], []
    for other in dict.fromkeys(o for o in others if o != base):
        other_acc = accounting_for(other, gwp)
        rec, result = reconcile(project, base_acc, other_acc, base_result)
        results.append(result)
        recs.append(rec)
    return Comparison(tuple(results), tuple(recs))


def reconcile(
    project: Project, base: Accounting, other: Accounting, base_result: Result | None = None
) -> tuple[Reconciliation, Result]:
    current = base
    previous = base_result or calculate_under(project, base)
    start = previous.pcf.value
    steps = []
    for rule, fields in RECONCILIATION_STEPS:
        changes = {f: getattr(other, f) for f in fields if getattr(other, f) != getattr(current, f)}
        if not changes:
            continue
        current = replace(current, **changes)
        result = calculate_under(project, replace(current, profile=other.profile))
        detail = "; ".join(
            f"{f}: {_show(getattr(base, f))} → {_show(v)}" for f, v in changes.items()
        )
        steps.append(Step(rule, result.pcf.value - previous.pcf.value, detail))
        previous = result
    final = calculate_under(project, other) if previous.profile != other.profile else previous
    rec = Reconciliation(base.profile, other.profile, start, final.pcf.value, tuple(steps))
    return rec, final


def _show(value: object) -> str:
    if isinstance(value, frozenset):
        value = tuple(sorted(value))
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]" if value else "none"
    if value is None:
        return "all"
    return str(value)
