"""Tables of the recompute feature (see migration 0007 and `services/recompute/`).

- `recompute_factor_sets` / `recompute_factors`: every factor-set version a calculation drew on,
  recorded whole the first time it is seen (keyed by its content's sha256, so a set is never
  confused with a changed copy of the same label). A recomputation compares these with a new
  version; they also rebuild the old catalogue for a full recalculation.
- `calculation_usage`: per calculation and factor set, how much of each factor's activity one
  declared unit uses, by life-cycle stage (a packed numpy array, see `engine/recompute.py`),
  with copies of the calculation's total, profile, GWP set and rule: a run reads this one table
  in storage order instead of joining every calculation's (large) row.
- `recompute_runs` and `recomputed_footprints`: a run and the new footprints it stored beside
  the old ones. Footprints are written in bulk through the DBAPI (executemany, or COPY on
  PostgreSQL), which the ORM's audit hook does not see; the service writes one audit entry per
  run and tenant instead, naming the run and the count (as monitoring does for readings).
  A footprint's key is (run, calculation): one B-tree, and on SQLite the table itself (WITHOUT
  ROWID), so a million rows are appended in key order. Its changes by stage and gas are float64
  values in the order the run's `change_columns` names (formatting a million JSON documents
  cost more than the rest of a run; `services.recompute.read.changes_of` reads them).
  It has no foreign keys: PostgreSQL checks one per row with a trigger, which made the bulk
  insert three times slower (measured: 300,000 rows in 6.4 s with one foreign key, 2.1 s
  without). The references hold by construction: a run writes the ids it has just read from
  `calculation_usage` and `calculations` (usage references its calculation, which therefore
  cannot be deleted), and runs and footprints refuse UPDATE and DELETE.

All of them are immutable once written (database triggers, as for calculations); runs and their
footprints are append-only as well.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from openpcf.store.models import Base, created_at_column

# 64-bit ids; SQLite's rowid alias must be declared INTEGER to autoincrement.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class RecomputeFactorSet(Base):
    """A factor-set version as a calculation used it (bundled: no tenant)."""

    __tablename__ = "recompute_factor_sets"
    __table_args__ = (UniqueConstraint("set_name", "set_version", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    set_name: Mapped[str] = mapped_column(String(200))
    set_version: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()


class RecomputeFactor(Base):
    """One factor of a recorded set version, as it was (the `Factor` as JSON)."""

    __tablename__ = "recompute_factors"
    __table_args__ = (UniqueConstraint("set_id", "factor_id"),)
    __audit_omit__ = frozenset({"factor"})

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("recompute_factor_sets.id"), index=True)
    factor_id: Mapped[str] = mapped_column(String(300))
    factor: Mapped[dict[str, Any]] = mapped_column(JSON)


class CalculationUsage(Base):
    """How much of each factor of one set a calculation's declared unit uses, by stage."""

    __tablename__ = "calculation_usage"
    __table_args__ = (UniqueConstraint("calculation_id", "set_id"),)
    __audit_omit__ = frozenset({"usage"})

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    calculation_id: Mapped[int] = mapped_column(ForeignKey("calculations.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    set_id: Mapped[int] = mapped_column(ForeignKey("recompute_factor_sets.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the set's place in the catalogue
    usage: Mapped[bytes] = mapped_column(LargeBinary)  # engine.recompute.RECORD records
    electricity: Mapped[bool] = mapped_column(Boolean)  # electricity resolved by region/year
    linear: Mapped[bool] = mapped_column(Boolean)  # false: usage unknown, recalculate in full
    grade_divisor: Mapped[float | None] = mapped_column(Float)  # pcf / this * rule amount
    # copies of the calculation's (immutable) columns a run needs
    pcf: Mapped[float] = mapped_column(Float)
    profile: Mapped[str] = mapped_column(String(50))
    gwp: Mapped[str] = mapped_column(String(10))
    rule: Mapped[str] = mapped_column(String(100))


class RecomputeRun(Base):
    """One recomputation for a new factor-set version, by whom, with its summary."""

    __tablename__ = "recompute_runs"
    __audit_omit__ = frozenset({"factor_set", "summary"})

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    label: Mapped[str] = mapped_column(String(300), index=True)  # the new set version
    factor_set: Mapped[dict[str, Any]] = mapped_column(JSON)  # the new FactorSet, whole
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    recomputed: Mapped[int] = mapped_column(Integer)
    # names of the footprints' `changes` values: "stage:<stage>" and "gas:<gas>"
    change_columns: Mapped[list[str]] = mapped_column(JSON)
    scheduler: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = created_at_column()


class RecomputedFootprint(Base):
    """A footprint recomputed by a run, beside the calculation it came from (never over it)."""

    __tablename__ = "recomputed_footprints"
    __table_args__ = ({"sqlite_with_rowid": False},)
    __audit_omit__ = frozenset({"changes", "result"})
    __audit_per_batch__ = True  # one audit entry per run and tenant (see the module)

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # recompute_runs.id
    calculation_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # calculations.id
    tenant_id: Mapped[int] = mapped_column(Integer)  # tenants.id
    pcf: Mapped[float] = mapped_column(Float)
    previous_pcf: Mapped[float] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(50))
    method: Mapped[str] = mapped_column(String(10))  # linear | full
    changes: Mapped[bytes] = mapped_column(LargeBinary)  # float64 per run.change_columns
    result: Mapped[str | None] = mapped_column(Text)  # the full Result (method full)
