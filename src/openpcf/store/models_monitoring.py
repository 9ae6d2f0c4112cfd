"""Tables of the monitoring feature (see migration 0006).

The registry (sites, meters, allowances) is written through the ORM, so each change gets its
own audit entry. Readings, rejected readings and aggregates are written in bulk by the
ingestion service through SQLAlchemy Core (one INSERT … ON CONFLICT per batch), which the
ORM's audit hook does not see; the service writes one audit entry per batch and tenant
instead (actor `service:<client id>`, entity `monitoring_readings`, with the batch's counts
and sha256).

Times of readings are integers, milliseconds since 1970-01-01 UTC: exact, compact, and the
same on SQLite and PostgreSQL for the unique key (meter, time) that makes writes idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from openpcf.store.models import Base, created_at_column


class MonitoringSite(Base):
    """A plant site of a tenant: its province (grid factor), time zone and ETS sector."""

    __tablename__ = "monitoring_sites"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    slug: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(300))
    region: Mapped[str] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(60))
    ets_sector: Mapped[str | None] = mapped_column(String(20))
    alert_above: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = created_at_column()


class MonitoringMeter(Base):
    """A meter of a site: what it measures, in which unit, how, and the rule for its factor."""

    __tablename__ = "monitoring_meters"
    __table_args__ = (UniqueConstraint("site_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("monitoring_sites.id"), index=True)
    slug: Mapped[str] = mapped_column(String(63))
    equipment: Mapped[str] = mapped_column(String(200))
    carrier: Mapped[str] = mapped_column(String(30))
    unit: Mapped[str] = mapped_column(String(30))
    reading: Mapped[str] = mapped_column(String(20))
    factor: Mapped[dict[str, Any]] = mapped_column(JSON)
    rollover: Mapped[float | None] = mapped_column(Float)
    alert_above: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = created_at_column()


class MonitoringAllowance(Base):
    """A site's ETS allowance for a year, in t CO2."""

    __tablename__ = "monitoring_allowances"
    __table_args__ = (UniqueConstraint("site_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("monitoring_sites.id"))
    year: Mapped[int] = mapped_column(Integer)
    tonnes_co2: Mapped[float] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_at_column()


class MonitoringReading(Base):
    """An accepted reading with its delta and emissions (kg) under the factor in force.

    Keyed by (meter, time), which makes writes idempotent, with no surrogate id (one index
    less to update per reading; SQLite stores it WITHOUT ROWID, clustered by meter and time).
    `tenant_id` is the meter's, copied for tenant-scoped queries; it has no foreign key of its
    own because the meter's already implies it, and PostgreSQL checks a foreign key row by row
    (two checks halve the ingestion rate; benchmarks/monitor.py)."""

    __tablename__ = "monitoring_readings"
    __audit_per_batch__ = True
    __table_args__ = ({"sqlite_with_rowid": False},)

    meter_id: Mapped[int] = mapped_column(ForeignKey("monitoring_meters.id"), primary_key=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    delta: Mapped[float] = mapped_column(Float)
    kg_co2e: Mapped[float] = mapped_column(Float)
    kg_co2: Mapped[float] = mapped_column(Float)
    kg_ch4: Mapped[float] = mapped_column(Float)
    kg_n2o: Mapped[float] = mapped_column(Float)
    factor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(20))


class MonitoringRejected(Base):
    """A reading (or a whole message) refused by the ingestion service, kept with the reason.

    `key` (sha256 of topic, reading index and text) makes a redelivered refusal count once."""

    __tablename__ = "monitoring_rejected"
    __audit_per_batch__ = True
    __table_args__ = (Index("ix_monitoring_rejected_tenant_site", "tenant", "site"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    tenant: Mapped[str] = mapped_column(String(200))
    site: Mapped[str] = mapped_column(String(200))
    meter: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(1000))
    ts_ms: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MonitoringAggregate(Base):
    """Sums of a meter's accepted readings over one window (1m, 15m, 1h, 1d)."""

    __tablename__ = "monitoring_aggregates"
    __audit_per_batch__ = True

    meter_id: Mapped[int] = mapped_column(ForeignKey("monitoring_meters.id"), primary_key=True)
    resolution: Mapped[str] = mapped_column(String(4), primary_key=True)
    start_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    amount: Mapped[float] = mapped_column(Float)
    kg_co2e: Mapped[float] = mapped_column(Float)
    kg_co2: Mapped[float] = mapped_column(Float)
    kg_ch4: Mapped[float] = mapped_column(Float)
    kg_n2o: Mapped[float] = mapped_column(Float)
    readings: Mapped[int] = mapped_column(Integer)
    last_ts_ms: Mapped[int] = mapped_column(BigInteger)
