"""Whether a label (or a report) may print a certificate: only for the result the certificate
signs, and only with a QR code a buyer can open.

A certificate's signed file names the sha256 of the canonical result it certifies
(`calculation.result_sha256`); a label printed for any other result would lend it a verifier's
signature, so the hash must match. The QR code points at `{public_url}/p/{id}`: a loopback
address (127.0.0.1, localhost, ::1, the default when OPENPCF_PUBLIC_URL is unset) opens nothing
on a buyer's phone, so such a label stays a draft. Each refusal gives its reason.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from openpcf.domain.certification import check_document, parse_instant, sha256_of_result
from openpcf.domain.result import Result
from openpcf.io.label import CertificateSummary


@dataclass(frozen=True)
class LabelCertificate:
    """The certificate to print, or None and why the label is a draft."""

    certificate: CertificateSummary | None
    reason: str | None = None


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def label_certificate(
    result: Result, certificate_id: str, document: bytes | None, public_url: str
) -> LabelCertificate:
    """The certificate `certificate_id` for a label of `result`, from its signed file
    (`document`, None when it could not be found), if it certifies exactly this result."""
    if is_loopback(public_url):
        return LabelCertificate(
            None,
            f"the public URL {public_url} is a loopback address: a QR code to it opens nothing "
            "on a buyer's phone; set OPENPCF_PUBLIC_URL to the registry's public address",
        )
    if document is None:
        return LabelCertificate(None, f"certificate {certificate_id} was not found")
    doc, checks = check_document(document, datetime.now(UTC))
    # an expired or not yet valid certificate still prints, with its status; unreadable dates
    # and every other failed check refuse it
    dated = ("expired on", "not valid before")
    failed = [
        c for c in checks if not c.ok and not (c.name == "validity" and c.message.startswith(dated))
    ]
    if doc is None or failed:
        why = "; ".join(f"{c.name}: {c.message}" for c in failed) or "unreadable"
        return LabelCertificate(None, f"certificate {certificate_id} does not verify ({why})")
    if doc.get("certificate_id") != certificate_id:
        return LabelCertificate(
            None, f"the certificate file is {doc.get('certificate_id')}, not {certificate_id}"
        )
    signed = str(doc.get("calculation", {}).get("result_sha256", ""))
    have = sha256_of_result(result.model_dump_json())
    if have != signed:
        return LabelCertificate(
            None,
            f"certificate {certificate_id} signs another result (result sha256 "
            f"{signed[:16]}…, this result {have[:16]}…): a certified label is printed only for "
            "the result the certificate signs (its result JSON, as stored)",
        )
    validity = next(c for c in checks if c.name == "validity")
    status = "valid" if validity.ok else validity.message.split(" ")[0]  # expired | not
    return LabelCertificate(
        CertificateSummary(
            id=certificate_id,
            status=status,
            verifier=str(doc.get("verifier", {}).get("name") or "") or None,
            issued=parse_instant(doc["issued_at"]).date(),
            valid_until=parse_instant(doc["valid_until"]).date(),
            key_fingerprint=str(doc.get("key", {}).get("fingerprint") or "") or None,
        )
    )
