"""What changes between two versions of a factor set: factors added, removed and changed (old
and new value, and by how many per cent), and which stored footprints the newer version would
change (the recomputation's dry run), for a regulator to see before publishing."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from openpcf.domain.factor import Factor
from openpcf.domain.platform import Principal
from openpcf.services.catalogue.factor_sets import get_factor_set
from openpcf.services.platform.access import signed_in
from openpcf.services.recompute.report import RecomputeReport
from openpcf.services.recompute.run import recompute


class FactorValueChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    unit: str
    old: float | None = Field(description="kg CO2e per unit in the older version")
    new: float | None = Field(description="kg CO2e per unit in the newer version")
    percent: float | None = Field(description="(new - old) / old × 100; null if old is 0")
    fields: list[str] = Field(description="the factor's fields that differ")


class FactorSetDiff(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    old_version: str
    new_version: str
    added: list[Factor]
    removed: list[Factor]
    changed: list[FactorValueChange]


def diff_versions(
    session: Session, who: Principal, name: str, old_version: str, new_version: str
) -> FactorSetDiff:
    """Factors of `new_version` against `old_version` of the set (each readable by the caller)."""
    old = get_factor_set(session, who, name, old_version)
    new = get_factor_set(session, who, name, new_version)
    return diff_factors(name, old_version, new_version, old.factors, new.factors)


def diff_factors(
    name: str, old_version: str, new_version: str, old: list[Factor], new: list[Factor]
) -> FactorSetDiff:
    before, after = {f.id: f for f in old}, {f.id: f for f in new}
    changed = []
    for fid in sorted(before.keys() & after.keys()):
        a, b = before[fid], after[fid]
        da, db = a.model_dump(mode="json"), b.model_dump(mode="json")
        fields = sorted(k for k in da.keys() | db.keys() if da.get(k) != db.get(k))
        if not fields:
            continue
        pct = None
        if a.co2e is not None and b.co2e is not None and a.co2e != 0:
            pct = round((b.co2e - a.co2e) / a.co2e * 100, 6)
        changed.append(FactorValueChange(
            id=fid, unit=b.unit, old=a.co2e, new=b.co2e, percent=pct, fields=fields,
        ))  # fmt: skip
    return FactorSetDiff(
        name=name,
        old_version=old_version,
        new_version=new_version,
        added=[after[i] for i in sorted(after.keys() - before.keys())],
        removed=[before[i] for i in sorted(before.keys() - after.keys())],
        changed=changed,
    )


def preview_footprints(
    factory: sessionmaker, who: Principal, name: str, version: str, top: int = 20
) -> RecomputeReport:
    """Which stored footprints the version (a draft too) would change, and by how much: the
    recomputation's dry run, nothing stored. A regulator's set concerns every tenant."""
    signed_in(who)
    return recompute(
        factory, who, f"{name}@{version}", who.tenant, dry_run=True, drafts=True, top=top
    )
