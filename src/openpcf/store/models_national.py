"""Tables of the national layer (see migration 0010): issued green electricity certificates
as a registry operator imports them, and claims that a national uniqueness check displaced.

A certificate id is claimable once across the whole platform: `certificate_claims` has a
unique index on `certificate_id` alone (added by 0010); claims that existed twice before it
(once per tenant was the old rule) were moved to `certificate_claim_conflicts`, earliest kept.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from openpcf.store.models import Base


class CertificateIssuance(Base):
    """One issued green electricity certificate (绿证), from an issuance-record import."""

    __tablename__ = "green_certificate_issuances"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[str] = mapped_column(String(200), unique=True)
    kwh: Mapped[float] = mapped_column(Float)
    generation: Mapped[str] = mapped_column(String(50))
    project: Mapped[str] = mapped_column(String(300))
    province: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(String(200))
    imported_by: Mapped[str] = mapped_column(String(400))
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class CertificateClaimConflict(Base):
    """A claim recorded under the old once-per-tenant rule for an id another claim holds."""

    __tablename__ = "certificate_claim_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200))
    certificate_id: Mapped[str] = mapped_column(String(200), index=True)
    product: Mapped[str] = mapped_column(String(500))
    kwh: Mapped[float] = mapped_column(Float)
    generation: Mapped[str] = mapped_column(String(50))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str] = mapped_column(String(200))


class RuleVersion(Base):
    """A version of a product rule or methodology profile a regulator uploaded: a draft, then
    published (immutable but for its withdrawal date), in force from `valid_from` until a later
    version or withdrawal."""

    __tablename__ = "rule_versions"
    __table_args__ = (UniqueConstraint("kind", "rule_id", "version"),)
    __audit_omit__ = frozenset({"document"})

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # product (a product rule) | profile
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str] = mapped_column(String(50))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[date] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(400))


class ProcurementThreshold(Base):
    """Grade classes and a green-procurement threshold a regulator set for a product rule and
    declared unit, with its source and validity."""

    __tablename__ = "procurement_thresholds"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    declared_unit: Mapped[str] = mapped_column(String(100))
    threshold_kg_co2e: Mapped[float | None] = mapped_column(Float)
    grades: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(1000))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
