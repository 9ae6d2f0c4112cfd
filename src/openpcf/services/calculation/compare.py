"""The same model under several profiles, and a reconciliation that explains each gap.

From the base profile to another, the settings are switched one rule at a time in a fixed
order (GWP set, gases, electricity, boundary, allocation, biogenic, land-use change); each step's
change of total is attributed to that rule. The steps telescope, so they add up to the gap.

A profile that cannot be computed for the model (a factor its settings need is not published,
say) is refused in its own column with the reason; the other profiles still compute. Each
profile computes with its own settings (its own GWP set) unless a GWP set is imposed on all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from openpcf.domain.errors import OpenpcfError
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
class Refusal:
    """A profile the model cannot be computed under, and why (the error, with its place)."""

    profile: str
    reason: str


@dataclass(frozen=True)
class Comparison:
    results: tuple[Result, ...]  # the computed profiles, the base profile's first if it computes
    reconciliations: tuple[Reconciliation, ...]  # base against each other computed profile
    refused: tuple[Refusal, ...] = ()  # profiles that cannot be computed, each with its reason
    profiles: tuple[str, ...] = ()  # every profile asked for, base first: the column order

    def column(self, profile: str) -> Result | Refusal:
        """The profile's result, or its refusal."""
        for r in self.results:
            if r.profile == profile:
                return r
        for x in self.refused:
            if x.profile == profile:
                return x
        raise KeyError(profile)

    def reconciliation(self, profile: str) -> Reconciliation | None:
        return next((r for r in self.reconciliations if r.other == profile), None)


def compare(
    project: Project,
    base: str,
    others: list[str],
    gwp: str | None = None,
    base_gwp: str | None = None,
) -> Comparison:
    """`base` and each of `others` side by side. `gwp` imposes one GWP set on every profile;
    `base_gwp` on the base profile only (a stored calculation's own set), the others keep their
    own."""
    wanted = [base, *dict.fromkeys(o for o in others if o != base)]
    base_acc = accounting_for(base, gwp or base_gwp)
    # unknown profiles and GWP sets are the caller's mistake, not a profile's refusal
    accountings = {other: accounting_for(other, gwp) for other in wanted[1:]}
    results: list[Result] = []
    recs: list[Reconciliation] = []
    refused: list[Refusal] = []
    base_result = _computed(project, base_acc, refused)
    if base_result is not None:
        results.append(base_result)
    for other, other_acc in accountings.items():
        if base_result is None:
            result = _computed(project, other_acc, refused)
            if result is not None:
                results.append(result)
            continue
        try:
            rec, result = reconcile(project, base_acc, other_acc, base_result)
        except OpenpcfError as exc:
            result = _computed(project, other_acc, refused)
            if result is None:
                continue
            # the profile computes, but a step between the two does not: the gap is one step
            gap = result.pcf.value - base_result.pcf.value
            step = Step("not decomposed", gap, f"an intermediate step cannot be computed: {exc}")
            rec = Reconciliation(base, other, base_result.pcf.value, result.pcf.value, (step,))
        results.append(result)
        recs.append(rec)
    return Comparison(tuple(results), tuple(recs), tuple(refused), tuple(wanted))


def _computed(project: Project, acc: Accounting, refused: list[Refusal]) -> Result | None:
    """The result under `acc`, or None with the profile's refusal appended to `refused`."""
    try:
        return calculate_under(project, acc)
    except OpenpcfError as exc:
        refused.append(Refusal(acc.profile, str(exc)))
        return None


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
