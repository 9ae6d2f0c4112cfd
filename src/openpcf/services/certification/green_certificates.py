"""Green electricity certificates: each may be claimed once across all products of a tenant.

A claim is recorded when a result that credits the certificate is computed. Claiming again
for the same product is a no-op; for another product it is an error naming the first claim.
The whole set of a model's claims is recorded in one transaction, or none of it.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from openpcf.domain.errors import ModelError
from openpcf.domain.ledger import GREEN_CERTIFICATE_CLAIMED
from openpcf.services.calculation.project import Project
from openpcf.services.certification import ledger
from openpcf.store.audit import ACTOR, attribute
from openpcf.store.models import CertificateClaim
from openpcf.units import factor_between


@dataclass(frozen=True)
class Claim:
    certificate_id: str
    kwh: float
    generation: str
    input: str


def claims_in(project: Project) -> list[Claim]:
    """Every certificate the target model's electricity inputs name."""
    out = []
    for inp in project.models[0].model.inputs:
        certs = inp.electricity.certificates if inp.electricity else None
        for c in certs.claims if certs else []:
            kwh = c.amount * factor_between(c.unit, "kWh", f"certificate {c.id}")
            out.append(Claim(c.id, kwh, c.generation, inp.name))
    ids = [c.certificate_id for c in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ModelError(f"certificate(s) {', '.join(dup)} listed more than once in the model",
                         project.models[0].where("inputs"))  # fmt: skip
    return out


def product_key(project: Project) -> str:
    lm = project.models[0]
    return lm.model.product.id or f"file:{lm.path.resolve()}"


def record_claims(sessions: sessionmaker, tenant: str, project: Project) -> list[Claim]:
    """Record the model's certificate claims for its product; all or nothing."""
    if not claims_in(project):
        return []
    who = _user()
    with sessions() as session, session.begin():
        attribute(session, f"operator:{who}", tenant)
        return claim_certificates(session, tenant, project, who)


def claim_certificates(session: Session, tenant: str, project: Project, who: str) -> list[Claim]:
    """Claim the model's certificates in the caller's transaction (see `record_claims`)."""
    claims = claims_in(project)
    if not claims:
        return []
    product = product_key(project)
    existing = {
        row.certificate_id: row
        for row in session.scalars(
            select(CertificateClaim).where(
                CertificateClaim.tenant == tenant,
                CertificateClaim.certificate_id.in_([c.certificate_id for c in claims]),
            )
        )
    }
    for c in claims:
        row = existing.get(c.certificate_id)
        if row is None:
            session.add(CertificateClaim(
                tenant=tenant, certificate_id=c.certificate_id, product=product, kwh=c.kwh,
                generation=c.generation, claimed_by=who,
            ))  # fmt: skip
            # a claim is a ledger entry too, in the same transaction (both or neither)
            ledger.append(session, session.info.get(ACTOR) or who, GREEN_CERTIFICATE_CLAIMED, {
                "tenant": tenant, "certificate_id": c.certificate_id, "product": product,
                "kwh": c.kwh, "generation": c.generation,
            })  # fmt: skip
        elif row.product != product:
            raise ModelError(
                f"certificate {c.certificate_id} (input '{c.input}') is already claimed by "
                f"{row.product} on {row.claimed_at:%Y-%m-%d}; a certificate can be claimed "
                f"once per tenant"
            )
        elif abs(row.kwh - c.kwh) > 1e-6 * max(row.kwh, 1.0):
            raise ModelError(
                f"certificate {c.certificate_id} was claimed with {row.kwh:g} kWh; the model "
                f"now states {c.kwh:g} kWh"
            )
    try:
        session.flush()
    except IntegrityError:  # a concurrent claim of the same certificate won the race
        raise ModelError(
            "a certificate in this model was claimed at the same moment by another product; "
            "run again to see which"
        ) from None
    return claims


def list_claims(session: Session, tenant: str) -> list[CertificateClaim]:
    return list(session.scalars(
        select(CertificateClaim).where(CertificateClaim.tenant == tenant)
        .order_by(CertificateClaim.certificate_id)
    ))  # fmt: skip


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
