"""The result behind a certificate, for what is rendered from it: the carbon label and the
report. A published certificate's label is public (it shows totals only, as printed on the
product); the result itself, with its input lines, never leaves this module for the public."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.certification import State, effective_state
from openpcf.domain.platform import Principal
from openpcf.domain.result import Result
from openpcf.io.label import CertificateSummary
from openpcf.services.errors import NotFound
from openpcf.services.platform.access import own
from openpcf.services.platform.accounts import utc
from openpcf.store.models import Calculation
from openpcf.store.models_certification import IssuedCertificate

LABEL_STATUS = {
    State.certified: "valid",
    State.published: "valid",
    State.revoked: "revoked",
    State.expired: "expired",
}


def summary_of(cert: IssuedCertificate) -> CertificateSummary:
    """What a label and a report print of the certificate, with its status as of now."""
    stored = State.revoked if cert.revoked_at is not None else State.published
    status = effective_state(stored, utc(cert.valid_until), datetime.now(UTC))
    issued, until = utc(cert.issued_at), utc(cert.valid_until)
    return CertificateSummary(
        id=cert.certificate_id,
        status=LABEL_STATUS.get(status, status.value),
        verifier=cert.verifier.name,
        issued=issued.date() if issued else None,
        valid_until=until.date() if until else None,
        key_fingerprint=cert.key_fingerprint,
    )


def published_result(session: Session, certificate_id: str) -> tuple[Result, CertificateSummary]:
    """The certified result of a published certificate (anyone: for its label)."""
    with session.begin():
        row = session.execute(
            select(IssuedCertificate, Calculation.result)
            .join(Calculation, Calculation.id == IssuedCertificate.calculation_id)
            .where(
                IssuedCertificate.certificate_id == certificate_id,
                IssuedCertificate.published_at.is_not(None),
            )
        ).first()
        if row is None:
            raise NotFound(f"no published certificate {certificate_id}")
        return Result.model_validate_json(row[1]), summary_of(row[0])


def certificate_of_calculation(
    session: Session, who: Principal, calculation_uuid: str
) -> CertificateSummary | None:
    """The newest certificate of the caller's tenant's calculation, if it was certified."""
    with session.begin():
        cert = session.scalar(
            select(IssuedCertificate)
            .join(Calculation, Calculation.id == IssuedCertificate.calculation_id)
            .where(Calculation.uuid == calculation_uuid, own(who, IssuedCertificate.tenant_id))
            .order_by(IssuedCertificate.issued_at.desc())
            .limit(1)
        )
        return summary_of(cert) if cert is not None else None
