"""Issued green certificates, as a regulator or registry operator imports them, and the
national view of claims (by province and generation type).

Issuance records are a record: an import adds certificates and never changes one; the same row
imported again is skipped, a different one for a known id is an error. An import is one
transaction (all rows or none) with one ledger entry (row count and the file's sha256). Once any
record is imported, only issued certificates can be claimed (see `green_certificates`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openpcf.domain.ledger import GREEN_CERTIFICATES_ISSUED
from openpcf.domain.platform import Principal
from openpcf.io.gec_issuance_csv import IssuedCertificate, parse_issuances
from openpcf.services.certification import ledger
from openpcf.services.errors import Conflict
from openpcf.services.platform.access import national
from openpcf.store.models import CertificateClaim
from openpcf.store.models_national import CertificateClaimConflict, CertificateIssuance

NOT_ISSUED = "not in the issuance records"


class IssuanceImport(BaseModel):
    model_config = ConfigDict(frozen=True)

    added: int = Field(description="certificates new to the records")
    unchanged: int = Field(description="rows already recorded exactly so (skipped)")
    sha256: str = Field(description="sha256 of the imported file")
    ledger_seq: int = Field(description="the import's ledger entry")


class ClaimGroup(BaseModel):
    model_config = ConfigDict(frozen=True)

    province: str = Field(description=f"the issuing project's province, or '{NOT_ISSUED}'")
    generation: str
    claims: int
    kwh: float = Field(description="claimed volume")
    issued_kwh: float = Field(description="issued volume of the claimed certificates")


class ClaimSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    groups: list[ClaimGroup]
    issued_certificates: int
    issued_kwh: float
    claimed_certificates: int
    conflicts: int = Field(description="claims displaced when claims became national (0010)")


def issuance_records(session: Session, ids: Iterable[str]) -> dict[str, CertificateIssuance]:
    ids = list(ids)
    rows = session.scalars(
        select(CertificateIssuance).where(CertificateIssuance.certificate_id.in_(ids))
    )
    return {r.certificate_id: r for r in rows}


def registry_in_use(session: Session) -> bool:
    """Whether any issuance record is imported (then every claim must name one)."""
    return session.scalar(select(CertificateIssuance.id).limit(1)) is not None


def import_issuances(
    session: Session, who: Principal, text: str, source: str = "issuance CSV"
) -> IssuanceImport:
    """Add the file's certificates to the issuance records (regulators, the operator)."""
    certs = parse_issuances(text, source)  # before the transaction: a bad file touches nothing
    with session.begin():
        national(session, who)
        known = issuance_records(session, [c.certificate_id for c in certs])
        added = 0
        for c in certs:
            old = known.get(c.certificate_id)
            if old is not None:
                if _same(old, c):
                    continue
                raise Conflict(
                    f"certificate {c.certificate_id} is already recorded as issued with other "
                    "data; issuance records are not changed by an import"
                )
            session.add(CertificateIssuance(
                certificate_id=c.certificate_id, kwh=c.kwh, generation=c.generation,
                project=c.project, province=c.province, period_start=c.period_start,
                period_end=c.period_end, issuer=c.issuer, imported_by=who.actor,
            ))  # fmt: skip
            added += 1
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        entry = ledger.append(session, who.actor, GREEN_CERTIFICATES_ISSUED, {
            "source": source[:200], "sha256": digest, "added": added,
            "unchanged": len(certs) - added,
        })  # fmt: skip
        return IssuanceImport(
            added=added, unchanged=len(certs) - added, sha256=digest, ledger_seq=entry.seq
        )


def claim_summary(session: Session, who: Principal) -> ClaimSummary:
    """Claims across the platform by province and generation type (regulators, the operator)."""
    with session.begin():
        national(session, who)
        rows = session.execute(
            select(
                CertificateIssuance.province,
                CertificateClaim.generation,
                func.count(),
                func.sum(CertificateClaim.kwh),
                func.coalesce(func.sum(CertificateIssuance.kwh), 0.0),
            )
            .select_from(CertificateClaim)
            .outerjoin(
                CertificateIssuance,
                CertificateIssuance.certificate_id == CertificateClaim.certificate_id,
            )
            .group_by(CertificateIssuance.province, CertificateClaim.generation)
        ).all()
        issued = session.execute(
            select(func.count(), func.coalesce(func.sum(CertificateIssuance.kwh), 0.0))
        ).one()
        conflicts = session.scalar(select(func.count()).select_from(CertificateClaimConflict))
        groups = sorted(
            (
                ClaimGroup(
                    province=p or NOT_ISSUED,
                    generation=g,
                    claims=n,
                    kwh=float(k),
                    issued_kwh=float(i),
                )
                for p, g, n, k, i in rows
            ),
            key=lambda c: (c.province, c.generation),
        )
        return ClaimSummary(
            groups=groups,
            issued_certificates=int(issued[0]),
            issued_kwh=float(issued[1]),
            claimed_certificates=sum(g.claims for g in groups),
            conflicts=int(conflicts or 0),
        )


def _same(row: CertificateIssuance, c: IssuedCertificate) -> bool:
    return (
        abs(row.kwh - c.kwh) <= 1e-9 * max(row.kwh, 1.0)
        and row.generation == c.generation
        and row.project == c.project
        and row.province == c.province
        and row.period_start == c.period_start
        and row.period_end == c.period_end
        and row.issuer == c.issuer
    )
