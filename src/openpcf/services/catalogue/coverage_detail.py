"""What a regulator drills into from the coverage counts: one province's products with their
progress and certificates, and certificates issued and published month by month."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.platform import Principal, TenantKind
from openpcf.services.catalogue.coverage import placed_products
from openpcf.services.errors import PermissionDenied
from openpcf.services.platform.access import signed_in
from openpcf.store.models import Product, Tenant
from openpcf.store.models_certification import IssuedCertificate


@dataclass(frozen=True)
class ProvinceProduct:
    name: str
    enterprise: str
    rule: str
    calculated: bool
    certified: bool
    published: bool
    certificate_id: str | None  # the newest certificate, if any
    pcf: float | None  # its footprint
    declared_unit: str | None


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM
    issued: int
    published: int


def _regulator(session: Session, who: Principal) -> None:
    signed_in(who)
    kind = session.scalar(select(Tenant.kind).where(Tenant.id == who.tenant_id))
    if kind != TenantKind.regulator.value:
        raise PermissionDenied("coverage is for regulators")


def province_products(session: Session, who: Principal, code: str) -> list[ProvinceProduct]:
    """The products placed in province `code` (as the coverage counts place them)."""
    with session.begin():
        _regulator(session, who)
        found = {
            pid: p for pid, p in placed_products(session).items() if p.province == code.upper()
        }
        rows = session.execute(
            select(Product, Tenant.name)
            .join(Tenant, Tenant.id == Product.tenant_id)
            .where(Product.id.in_(found))
        ).all()
        certs: dict[str, IssuedCertificate] = {}
        for c in session.scalars(
            select(IssuedCertificate)
            .where(IssuedCertificate.product_urn.in_([p.urn for p, _ in rows]))
            .order_by(IssuedCertificate.issued_at)
        ):
            certs[c.product_urn] = c
        out = []
        for product, enterprise in rows:
            p, cert = found[product.id], certs.get(product.urn)
            out.append(ProvinceProduct(
                product.name, enterprise, p.rule, p.calculated, p.certified, p.published,
                cert.certificate_id if cert else None, cert.pcf if cert else None,
                cert.declared_unit if cert else None,
            ))  # fmt: skip
    return sorted(out, key=lambda r: (not r.published, not r.certified, r.enterprise, r.name))


def monthly_certificates(session: Session, who: Principal) -> list[Month]:
    """Certificates issued and published per calendar month, oldest first, no gaps."""
    with session.begin():
        _regulator(session, who)
        rows = session.execute(
            select(IssuedCertificate.issued_at, IssuedCertificate.published_at)
        ).all()
    issued = Counter(i.strftime("%Y-%m") for i, _ in rows)
    published = Counter(p.strftime("%Y-%m") for _, p in rows if p is not None)
    months = sorted({*issued, *published})
    if not months:
        return []
    out, (y, m) = [], map(int, months[0].split("-"))
    while f"{y:04d}-{m:02d}" <= months[-1]:
        key = f"{y:04d}-{m:02d}"
        out.append(Month(key, issued.get(key, 0), published.get(key, 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
