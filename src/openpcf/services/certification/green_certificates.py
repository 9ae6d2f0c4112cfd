"""Green electricity certificates (绿证): each is claimable once across the whole platform.

A claim is recorded when a result that credits the certificate is computed. Claiming again
for the same product is a no-op; any other claim of the id, by this tenant or another, is
refused, and the claimant is told only that the certificate is already claimed (another
tenant's product is never named). Where the registry's issuance records are imported
(`gec_issuance`), a claim must name an issued certificate of its generation type, for no more
than its issued volume. The whole set of a model's claims is recorded in one transaction, or
none of it; every claim and every refusal is a ledger entry (a refusal in a transaction of its
own, after the refused one rolled back).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from openpcf.domain.errors import ModelError
from openpcf.domain.ledger import GREEN_CERTIFICATE_CLAIMED, GREEN_CERTIFICATE_REFUSED
from openpcf.services.calculation.project import Project
from openpcf.services.certification import ledger
from openpcf.services.certification.gec_issuance import issuance_records, registry_in_use
from openpcf.store.audit import ACTOR, attribute
from openpcf.store.models import CertificateClaim
from openpcf.store.models_national import CertificateIssuance
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


class CertificateRefused(ModelError):
    """A claim the platform refuses; `refusal` is what the ledger records of it."""

    def __init__(self, message: str, refusal: dict) -> None:
        super().__init__(message)
        self.refusal = refusal


def record_claims(sessions: sessionmaker, tenant: str, project: Project) -> list[Claim]:
    """Record the model's certificate claims for its product; all or nothing."""
    if not claims_in(project):
        return []
    who = _user()
    with sessions() as session:
        try:
            with session.begin():
                attribute(session, f"operator:{who}", tenant)
                return claim_certificates(session, tenant, project, who)
        except CertificateRefused as exc:
            record_refusal(session, f"operator:{who}", tenant, exc)
            raise


def record_refusal(session: Session, actor: str, tenant: str, exc: CertificateRefused) -> None:
    """The refused claim's ledger entry, in a transaction of its own (the claim's rolled back)."""
    with session.begin():
        attribute(session, actor, tenant)
        ledger.append(session, actor, GREEN_CERTIFICATE_REFUSED, exc.refusal)


def claim_certificates(session: Session, tenant: str, project: Project, who: str) -> list[Claim]:
    """Claim the model's certificates in the caller's transaction (see `record_claims`).

    Raises `CertificateRefused` (the caller records the refusal once this transaction has
    rolled back, see `record_refusal`)."""
    claims = claims_in(project)
    if not claims:
        return []
    return claim(session, tenant, product_key(project), claims, who)


def claim(
    session: Session, tenant: str, product: str, claims: list[Claim], who: str
) -> list[Claim]:
    """Claim certificates for `product` (a product URN, a model file, or 'site:<slug>' for a
    monitored site's consumption) in the caller's transaction; see `claim_certificates`."""
    ids = [c.certificate_id for c in claims]
    existing = {
        row.certificate_id: row
        for row in session.scalars(
            select(CertificateClaim).where(CertificateClaim.certificate_id.in_(ids))
        )
    }
    issued = issuance_records(session, ids)
    checked = registry_in_use(session)
    actor = session.info.get(ACTOR) or who
    for c in claims:
        row = existing.get(c.certificate_id)
        refusal = {"tenant": tenant, "certificate_id": c.certificate_id, "product": product,
                   "kwh": c.kwh, "generation": c.generation}  # fmt: skip
        if row is None:
            problem = _against_issuance(c, issued.get(c.certificate_id), checked)
            if problem:
                raise CertificateRefused(problem, refusal | {"reason": problem})
            session.add(CertificateClaim(
                tenant=tenant, certificate_id=c.certificate_id, product=product, kwh=c.kwh,
                generation=c.generation, claimed_by=who,
            ))  # fmt: skip
            # a claim is a ledger entry too, in the same transaction (both or neither)
            ledger.append(session, actor, GREEN_CERTIFICATE_CLAIMED, {
                "tenant": tenant, "certificate_id": c.certificate_id, "product": product,
                "kwh": c.kwh, "generation": c.generation,
                "issued": c.certificate_id in issued,
            })  # fmt: skip
        elif row.tenant != tenant:
            message = f"certificate {c.certificate_id} (input '{c.input}') is already claimed"
            raise CertificateRefused(message, refusal | {"reason": "already claimed"})
        elif row.product != product:
            message = (
                f"certificate {c.certificate_id} (input '{c.input}') is already claimed by "
                f"{row.product} on {row.claimed_at:%Y-%m-%d}; a certificate can be claimed "
                f"once on the platform"
            )
            raise CertificateRefused(message, refusal | {"reason": "already claimed"})
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


def _against_issuance(c: Claim, issued: CertificateIssuance | None, checked: bool) -> str | None:
    """Why the registry's records refuse this claim, if they do."""
    if issued is None:
        if checked:
            return (
                f"certificate {c.certificate_id} (input '{c.input}') is not in the imported "
                "issuance records; only issued certificates can be claimed"
            )
        return None
    if issued.generation != c.generation:
        return (
            f"certificate {c.certificate_id} (input '{c.input}') was issued for "
            f"{issued.generation} generation; the model says {c.generation}"
        )
    if c.kwh > issued.kwh * (1 + 1e-9):
        return (
            f"certificate {c.certificate_id} (input '{c.input}') claims {c.kwh:g} kWh; "
            f"{issued.kwh:g} kWh were issued"
        )
    return None


def list_claims(session: Session, tenant: str) -> list[CertificateClaim]:
    """The tenant's own claims."""
    return list(session.scalars(
        select(CertificateClaim).where(CertificateClaim.tenant == tenant)
        .order_by(CertificateClaim.certificate_id)
    ))  # fmt: skip


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
