"""What a new factor-set version changes: whose calculations it concerns, which recorded
versions it replaces, and the coefficient tables of the linear path."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.factor import Factor, FactorSet
from openpcf.domain.gases import CO2E, GWP_SETS, Flow
from openpcf.domain.model import STAGES
from openpcf.domain.platform import Principal, Role
from openpcf.engine.recompute import Change
from openpcf.factors.bundled import bundled_set, gwp_table
from openpcf.rules.catalogue import profiles
from openpcf.services.calculation.calculate import accounting_for, counts_in_total
from openpcf.services.errors import InvalidRequest, NotFound, PermissionDenied
from openpcf.services.recompute.report import FactorChange
from openpcf.services.recompute.usage import factor_dump, set_digest
from openpcf.store.models import FactorSetVersion, Tenant
from openpcf.store.models_recompute import RecomputeFactor, RecomputeFactorSet


@dataclass
class Target:
    fs: FactorSet
    tenant_id: int | None  # scope: one tenant, or None for all
    scope: str


def find_target(session: Session, who: Principal, spec: str, tenant: str | None) -> Target:
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
        return Target(fs, None, "all tenants")
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
        return Target(shipped, None, "all tenants")
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

    return Target(as_factor_set(row), row.tenant_id, f"tenant {tenant}")


def older_versions(session: Session, target: Target) -> list[RecomputeFactorSet]:
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


def compare_versions(
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
        if now is not None and factor_dump(now) == factor_dump(old):
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
    groups = accounting_groups()
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


def accounting_groups() -> dict[tuple[str, str], int]:
    """Accounting groups: every known profile under every GWP set."""
    pairs = [(p, g) for p in sorted(profiles()) for g in GWP_SETS]
    return {pair: i for i, pair in enumerate(pairs)}
