"""The public disclosure registry: every certified footprint its enterprise published, found by
name, product rule, sector, province and declared unit, and one by certificate id (the public
product page `/p/{certificate_id}` that a carbon label's QR code points at).

A published certificate never disappears: once revoked or expired it is listed with that status
(and the revocation's reason), so a label on a shelf keeps telling the truth. Nothing here needs
credentials, and nothing here holds a bill of materials.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from openpcf import config
from openpcf.domain.certification import Integrity, State, effective_state
from openpcf.io.label import product_page_url
from openpcf.services.certification.workflow import certificate_fields, integrity_of
from openpcf.services.errors import NotFound
from openpcf.services.platform.accounts import utc
from openpcf.store.models import Tenant
from openpcf.store.models_certification import IssuedCertificate


class RegistryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    certificate_id: str = Field(examples=["pcf-3f9a1c2b7d4e5f60"])
    status: State = Field(description="published, revoked or expired (as of now)")
    product: str = Field(description="product URN")
    product_name: str
    enterprise: str = Field(description="name of the enterprise")
    tenant: str
    rule: str
    sector: str | None
    province: str | None = Field(description="ISO 3166-2 region of the product")
    pcf: float = Field(description="kg CO2e per declared unit")
    pcf_unit: str = "kg CO2e"
    declared_unit: str = Field(examples=["1 kWh"])
    verifier: str
    verifier_name: str
    issued_at: datetime
    valid_until: datetime
    published_at: datetime | None
    revoked_at: datetime | None
    revocation_reason: str | None
    url: str = Field(description="the public product page (the label's QR code)")


class RegistryCertificate(RegistryEntry):
    """One entry with the footprint's summary, its integrity and the signed document."""

    stages: dict[str, float]
    gases: dict[str, float]
    profile: str
    gwp: str
    factor_sets: list[str]
    integrity: Integrity
    document: dict[str, Any]


class Coverage(BaseModel):
    """How much is certified and published, for regulators and the public."""

    model_config = ConfigDict(frozen=True)

    total: int
    by_status: dict[str, int]
    by_rule: dict[str, int]
    by_province: dict[str, int]
    by_sector: dict[str, int]


def search(
    session: Session,
    q: str | None = None,
    rule: str | None = None,
    sector: str | None = None,
    province: str | None = None,
    unit: str | None = None,
    status: State | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[RegistryEntry]:
    """Published certificates (also those since revoked or expired), newest first.

    `q` matches product name, URN or enterprise name (case-insensitive, substring); `unit`
    the declared unit ('kWh') or the whole declared unit ('1 kWh')."""
    now = datetime.now(UTC)
    query = (
        select(IssuedCertificate)
        .join(Tenant, Tenant.id == IssuedCertificate.tenant_id)
        .where(IssuedCertificate.published_at.is_not(None))
    )
    if q:
        needle = q.strip().lower()
        query = query.where(
            or_(
                func.lower(IssuedCertificate.product_name).contains(needle, autoescape=True),
                func.lower(IssuedCertificate.product_urn).contains(needle, autoescape=True),
                func.lower(Tenant.name).contains(needle, autoescape=True),
            )
        )
    if rule:
        query = query.where(IssuedCertificate.rule == rule)
    if sector:
        query = query.where(func.lower(IssuedCertificate.sector) == sector.strip().lower())
    if province:
        query = query.where(IssuedCertificate.province == province.strip().upper())
    if unit:
        unit = unit.strip()
        query = query.where(
            IssuedCertificate.declared_unit == unit
            if " " in unit
            else IssuedCertificate.declared_unit.endswith(" " + unit, autoescape=True)
        )
    if status is not None:
        query = query.where(_status_is(status, now))
    rows = session.scalars(
        query.order_by(IssuedCertificate.issued_at.desc(), IssuedCertificate.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_entry(c, now) for c in rows]


def entry(session: Session, certificate_id: str) -> RegistryCertificate:
    """The public product page's data; NotFound unless the certificate was ever published."""
    cert = session.scalar(
        select(IssuedCertificate).where(
            IssuedCertificate.certificate_id == certificate_id,
            IssuedCertificate.published_at.is_not(None),
        )
    )
    if cert is None:
        raise NotFound(f"no published certificate {certificate_id}")
    doc = json.loads(cert.document)
    return RegistryCertificate(
        **_entry(cert, datetime.now(UTC)).model_dump(),
        stages=doc.get("stages", {}),
        gases=doc.get("gases", {}),
        profile=doc.get("profile", ""),
        gwp=doc.get("gwp", ""),
        factor_sets=doc.get("factor_sets", []),
        integrity=integrity_of(session, cert),
        document=doc,
    )


def document_bytes(session: Session, certificate_id: str) -> bytes:
    """The signed certificate file of a published certificate, byte for byte as signed."""
    cert = session.scalar(
        select(IssuedCertificate.document).where(
            IssuedCertificate.certificate_id == certificate_id,
            IssuedCertificate.published_at.is_not(None),
        )
    )
    if cert is None:
        raise NotFound(f"no published certificate {certificate_id}")
    return cert.encode("utf-8")


def coverage(session: Session) -> Coverage:
    now = datetime.now(UTC)
    rows = list(
        session.scalars(
            select(IssuedCertificate).where(IssuedCertificate.published_at.is_not(None))
        )
    )
    out: dict[str, dict[str, int]] = {"status": {}, "rule": {}, "province": {}, "sector": {}}
    for c in rows:
        for name, value in (
            ("status", _status(c, now).value),
            ("rule", c.rule),
            ("province", c.province or "unknown"),
            ("sector", c.sector or "unknown"),
        ):
            out[name][value] = out[name].get(value, 0) + 1
    return Coverage(
        total=len(rows),
        by_status=out["status"],
        by_rule=out["rule"],
        by_province=out["province"],
        by_sector=out["sector"],
    )


def public_url(certificate_id: str) -> str:
    """The certificate's public product page (the label's QR code points there)."""
    return product_page_url(config.public_url(), certificate_id)


def _status(cert: IssuedCertificate, now: datetime) -> State:
    state = State.revoked if cert.revoked_at is not None else State.published
    return effective_state(state, utc(cert.valid_until), now)


def _status_is(status: State, now: datetime) -> ColumnElement[bool]:
    revoked = IssuedCertificate.revoked_at.is_not(None)
    if status is State.revoked:
        return revoked
    if status is State.expired:
        return and_(~revoked, IssuedCertificate.valid_until <= now)
    if status is State.published:
        return and_(~revoked, IssuedCertificate.valid_until > now)
    return IssuedCertificate.id.is_(None)  # no published certificate is in another state


def _entry(cert: IssuedCertificate, now: datetime) -> RegistryEntry:
    return RegistryEntry(
        **certificate_fields(cert),
        status=_status(cert, now),
        url=public_url(cert.certificate_id),
    )
