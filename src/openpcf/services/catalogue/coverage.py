"""Coverage of the national system for regulators: how many enterprise products exist, how
many have a calculated footprint, a certificate and a published certificate, by province and
by product rule (the sector's rule).

Only counts leave this module: a regulator learns how far certification reaches, never an
enterprise's products or bill of materials. A product's province is its model's region (the
latest model version's `product.region`, else the region of its first grid-electricity
input); a certificate's is the one it was signed with. Neither known: "unknown".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openpcf.domain.errors import OpenpcfError
from openpcf.domain.platform import Principal, TenantKind
from openpcf.io.model_file import model_from_text
from openpcf.rules.catalogue import product_rules
from openpcf.services.catalogue.products import document_path
from openpcf.services.errors import PermissionDenied
from openpcf.services.platform.access import signed_in
from openpcf.store.models import Calculation, ModelVersion, Product, Tenant
from openpcf.store.models_certification import IssuedCertificate

UNKNOWN = "unknown"
GENERAL = "general"


@dataclass
class CoverageRow:
    key: str  # province code or product rule id
    label: str
    products: int = 0
    calculated: int = 0
    certified: int = 0  # products with a certificate (any state)
    published: int = 0  # products with a published, unrevoked certificate

    @property
    def share_certified(self) -> float:
        return self.certified / self.products if self.products else 0.0


@dataclass
class CoverageReport:
    total: CoverageRow
    by_province: list[CoverageRow] = field(default_factory=list)
    by_rule: list[CoverageRow] = field(default_factory=list)


@dataclass
class _Product:
    province: str
    rule: str
    calculated: bool = False
    certified: bool = False
    published: bool = False


def coverage(session: Session, who: Principal) -> CoverageReport:
    """Counts for a regulator (any role of a regulator tenant); others are refused."""
    signed_in(who)
    with session.begin():
        kind = session.scalar(select(Tenant.kind).where(Tenant.id == who.tenant_id))
        if kind != TenantKind.regulator.value:
            raise PermissionDenied("coverage is for regulators")
        found = placed_products(session)
    rules = product_rules()
    total = CoverageRow("all", "all")
    provinces: dict[str, CoverageRow] = {}
    by_rule: dict[str, CoverageRow] = {}
    for p in found.values():
        rule = rules.get(p.rule)
        label = rule.name if rule is not None else p.rule
        for row in (
            total,
            provinces.setdefault(p.province, CoverageRow(p.province, p.province)),
            by_rule.setdefault(p.rule, CoverageRow(p.rule, label)),
        ):
            row.products += 1
            row.calculated += p.calculated
            row.certified += p.certified
            row.published += p.published
    order = lambda r: (r.key == UNKNOWN, -r.products, r.key)  # noqa: E731
    return CoverageReport(
        total=total,
        by_province=sorted(provinces.values(), key=order),
        by_rule=sorted(by_rule.values(), key=order),
    )


def placed_products(session: Session) -> dict[int, _Product]:
    """Every enterprise product with a model version, with its province, rule and progress."""
    latest = (
        select(ModelVersion.product_id, func.max(ModelVersion.number).label("number"))
        .group_by(ModelVersion.product_id)
        .subquery()
    )
    rows = session.execute(
        select(Product, ModelVersion)
        .join(Tenant, Tenant.id == Product.tenant_id)
        .join(latest, latest.c.product_id == Product.id)
        .join(
            ModelVersion,
            (ModelVersion.product_id == Product.id) & (ModelVersion.number == latest.c.number),
        )
        .where(Tenant.kind == TenantKind.enterprise.value)
    ).all()
    out: dict[int, _Product] = {}
    for product, version in rows:
        province, rule = _place_and_rule(product, version)
        out[product.id] = _Product(province, rule)
    calculated = session.scalars(select(Calculation.product_id).distinct())
    for pid in calculated:
        if pid in out:
            out[pid].calculated = True
    certs = session.execute(
        select(
            Product.id,
            IssuedCertificate.province,
            IssuedCertificate.published_at,
            IssuedCertificate.revoked_at,
        ).join(Product, Product.urn == IssuedCertificate.product_urn)
    ).all()
    for pid, province, published_at, revoked_at in certs:
        if pid not in out:
            continue
        out[pid].certified = True
        if published_at is not None and revoked_at is None:
            out[pid].published = True
        if province and out[pid].province == UNKNOWN:
            out[pid].province = province
    return out


def _place_and_rule(product: Product, version: ModelVersion) -> tuple[str, str]:
    try:
        model = model_from_text(
            version.text, document_path(product, version.number, version.media_type)
        ).model
    except OpenpcfError:
        return UNKNOWN, GENERAL
    region = model.product.region
    if region is None:
        region = next(
            (i.electricity.region for i in model.inputs if i.electricity and i.electricity.region),
            None,
        )
    return (region.upper() if region else UNKNOWN), model.product.rule or GENERAL
