"""Database tables (SQLAlchemy 2 typed models)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, String, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class CertificateClaim(Base):
    """A green electricity certificate claimed for one product; claimable once per tenant."""

    __tablename__ = "certificate_claims"
    __table_args__ = (UniqueConstraint("tenant", "certificate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200))
    certificate_id: Mapped[str] = mapped_column(String(200))
    product: Mapped[str] = mapped_column(String(500))
    kwh: Mapped[float] = mapped_column(Float)
    generation: Mapped[str] = mapped_column(String(50))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    claimed_by: Mapped[str] = mapped_column(String(200))
