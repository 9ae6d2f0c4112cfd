"""Database tables (SQLAlchemy 2 typed models). The schema is created by the Alembic migrations in
`store/migrations/`; a test checks that these models and the migrations agree.

Every table but `audit_log` is audited: each insert, update and delete made through a session
writes an audit entry naming who made it (see `store/audit.py`). Columns listed in a class's
`__audit_omit__` (secrets, large documents) are left out of the entry's details.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    __audit_omit__: ClassVar[frozenset[str]] = frozenset()
    # Bulk tables written through SQLAlchemy Core, which the ORM's audit hook does not see:
    # their writer puts one audit entry per batch instead (say so in the table's docstring).
    __audit_per_batch__: ClassVar[bool] = False


def created_at_column() -> Mapped[datetime]:
    """When the row was written, set by the database."""
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class CertificateClaim(Base):
    """A green electricity certificate claimed for one product; claimable once on the platform
    (the unique index on `certificate_id`, migration 0010; before it, once per tenant)."""

    __tablename__ = "certificate_claims"
    __table_args__ = (
        UniqueConstraint("tenant", "certificate_id"),
        Index("uq_certificate_claims_certificate_id", "certificate_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200))
    certificate_id: Mapped[str] = mapped_column(String(200))
    product: Mapped[str] = mapped_column(String(500))
    kwh: Mapped[float] = mapped_column(Float)
    generation: Mapped[str] = mapped_column(String(50))
    claimed_at: Mapped[datetime] = created_at_column()
    claimed_by: Mapped[str] = mapped_column(String(200))


class Tenant(Base):
    """An organisation. Its slug is part of its products' URNs: urn:openpcf:product:<slug>:..."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # enterprise | verifier (a verification body) | regulator; see domain.platform.TenantKind
    kind: Mapped[str] = mapped_column(String(20), server_default="enterprise")
    created_at: Mapped[datetime] = created_at_column()
    # where PACT answers to this company's requests may go (https://host[:port][/path])
    pact_callback_url: Mapped[str | None] = mapped_column(String(1000))


class User(Base):
    """A person of one tenant, with a role there (admin, member, verifier)."""

    __tablename__ = "users"
    __audit_omit__ = frozenset({"password_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_at_column()
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    tenant: Mapped[Tenant] = relationship(lazy="joined")


class ApiClient(Base):
    """OAuth2 client credentials of a tenant (machine-to-machine access, e.g. PACT partners)."""

    __tablename__ = "api_clients"
    __audit_omit__ = frozenset({"secret_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(100), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # where PACT answers to this client's requests may go (overrides its tenant's)
    callback_url: Mapped[str | None] = mapped_column(String(1000))

    tenant: Mapped[Tenant] = relationship(lazy="joined")


class PersonalToken(Base):
    """A user's bearer token; only its sha256 is kept (the token is shown once)."""

    __tablename__ = "personal_tokens"
    __audit_omit__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="joined")


class AccessToken(Base):
    """A bearer token issued at POST /auth/token to an API client; only its sha256 is kept."""

    __tablename__ = "access_tokens"
    __audit_omit__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    api_client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    client: Mapped[ApiClient] = relationship(lazy="joined")


class Product(Base):
    """A product of a tenant, named by URN; private (the tenant only) or public (anyone reads
    its footprints, never its model versions)."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    urn: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    visibility: Mapped[str] = mapped_column(String(10))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()
    # UN CPC Ver.2.1 code (PACT v2 productCategoryCpc) and other classification URNs (0004)
    cpc: Mapped[str | None] = mapped_column(String(10))
    classifications: Mapped[list[str] | None] = mapped_column(JSON)
    # kg of product per declared unit (PACT productMassPerDeclaredUnit) when that unit is not a
    # mass (0011): without it such a product's footprints are not served over PACT
    mass_per_declared_unit_kg: Mapped[float | None] = mapped_column(Float)

    tenant: Mapped[Tenant] = relationship(lazy="joined")


class ModelVersion(Base):
    """One immutable version of a product's model document (the text as uploaded)."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("product_id", "number"),)
    __audit_omit__ = frozenset({"text"})

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()

    product: Mapped[Product] = relationship(lazy="joined")


class FactorSetVersion(Base):
    """A tenant's own factor set, one version; editable as a draft, immutable once published."""

    __tablename__ = "factor_set_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "name", "version"),)
    __audit_omit__ = frozenset({"factors"})

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    factors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(320))

    tenant: Mapped[Tenant] = relationship(lazy="joined")


class Calculation(Base):
    """A computed footprint with everything needed to reproduce it."""

    __tablename__ = "calculations"
    __table_args__ = (Index("ix_calculations_product_created", "product_id", "created_at"),)
    __audit_omit__ = frozenset({"result"})

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    profile: Mapped[str] = mapped_column(String(50))
    gwp: Mapped[str] = mapped_column(String(10))
    rule: Mapped[str] = mapped_column(String(100))
    factor_sets: Mapped[list[str]] = mapped_column(JSON)
    model_versions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pcf: Mapped[float] = mapped_column(Float)
    declared_unit: Mapped[str] = mapped_column(String(100))
    result: Mapped[str] = mapped_column(Text)
    software_version: Mapped[str] = mapped_column(String(50))
    input_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()

    product: Mapped[Product] = relationship(lazy="joined")
    model_version: Mapped[ModelVersion] = relationship()


class SupplierRequest(Base):
    """A request to a supplier's host for a product footprint (filled in by the PACT exchange)."""

    __tablename__ = "supplier_requests"
    __audit_omit__ = frozenset({"result"})

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(320))
    supplier_host: Mapped[str] = mapped_column(String(300))
    product_id: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)  # JSON: the footprints with provenance
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Who changed what, when, in which tenant. Append-only (the database refuses changes)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_at", "tenant", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tenant: Mapped[str | None] = mapped_column(String(63))
    actor: Mapped[str] = mapped_column(String(400))
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
