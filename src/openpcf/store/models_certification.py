"""Tables of the certification feature (see migration 0005): submissions and their history,
signed certificates, verifiers' public keys, and the ledger.

The database refuses changes to what is a record: history rows, a certificate's signed
document, public keys (but for retiring one) and ledger entries (see the migration's triggers).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openpcf.store.models import Base, Calculation, Product, Tenant, created_at_column


class Submission(Base):
    """A stored calculation of an enterprise's product, addressed to a verification body."""

    __tablename__ = "certification_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    calculation_id: Mapped[int] = mapped_column(ForeignKey("calculations.id"))
    verifier_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    sector: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    tenant: Mapped[Tenant] = relationship(foreign_keys=[tenant_id], lazy="joined")
    verifier: Mapped[Tenant] = relationship(foreign_keys=[verifier_tenant_id], lazy="joined")
    product: Mapped[Product] = relationship(lazy="joined")
    calculation: Mapped[Calculation] = relationship()


class SubmissionEvent(Base):
    """One transition of a submission: who, in which role, from which state to which, why."""

    __tablename__ = "certification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("certification_submissions.id"), index=True
    )
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(400))
    actor_tenant: Mapped[str] = mapped_column(String(63))
    role: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IssuedCertificate(Base):
    """A signed certificate; `document` is the canonical JSON exactly as signed. Its status
    (revoked, published) lives beside it; expiry is computed from `valid_until` on read."""

    __tablename__ = "certification_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[str] = mapped_column(String(40), unique=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("certification_submissions.id"), unique=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    verifier_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    calculation_id: Mapped[int] = mapped_column(ForeignKey("calculations.id"))
    product_urn: Mapped[str] = mapped_column(String(300))
    product_name: Mapped[str] = mapped_column(String(300))
    rule: Mapped[str] = mapped_column(String(100))
    sector: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(20))
    declared_unit: Mapped[str] = mapped_column(String(100))
    pcf: Mapped[float] = mapped_column(Float)
    key_fingerprint: Mapped[str] = mapped_column(String(80))
    document: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(400))
    revocation_reason: Mapped[str | None] = mapped_column(Text)

    submission: Mapped[Submission] = relationship()
    tenant: Mapped[Tenant] = relationship(foreign_keys=[tenant_id], lazy="joined")
    verifier: Mapped[Tenant] = relationship(foreign_keys=[verifier_tenant_id], lazy="joined")
    calculation: Mapped[Calculation] = relationship()


class SigningKey(Base):
    """A verifier user's Ed25519 public key; the private key is kept outside the database
    (see `services/certification/signing.py`). Retired keys stay: they still check old certificates."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(80), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    owner: Mapped[str] = mapped_column(String(320))
    public_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    tenant: Mapped[Tenant] = relationship(lazy="joined")


class LedgerEntry(Base):
    """One entry of the append-only hash chain (see `domain/ledger.py`). `payload` is the
    canonical JSON text that was hashed; `at` the hashed time string."""

    __tablename__ = "ledger_entries"
    __table_args__ = (UniqueConstraint("prev_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[str] = mapped_column(String(60))
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(400))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
