"""A self-signed certificate for serving HTTPS locally (`openpcf serve --tls self-signed`).

The certificate is its own authority (basicConstraints CA), so a client can trust exactly it:
`curl --cacert cert.pem`, `httpx.Client(verify=ssl.create_default_context(cafile=...))`.
It is reused while it names the host and has more than 30 days left.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 365
RENEW_DAYS = 30


@dataclass(frozen=True)
class LocalCertificate:
    certfile: Path
    keyfile: Path
    created: bool


def self_signed_certificate(folder: Path, host: str = "localhost") -> LocalCertificate:
    folder = Path(folder)
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    names = _names(host)
    if certfile.is_file() and keyfile.is_file() and _still_good(certfile, names):
        return LocalCertificate(certfile, keyfile, created=False)
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "openpcf local"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "openpcf (self-signed)"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return LocalCertificate(certfile, keyfile, created=True)


def _names(host: str) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    if host in ("", "0.0.0.0", "::", "localhost"):
        return names
    try:
        extra: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        extra = x509.DNSName(host)
    return names if extra in names else [*names, extra]


def _still_good(certfile: Path, names: list[x509.GeneralName]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(certfile.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    left = cert.not_valid_after_utc - datetime.now(UTC)
    return left > timedelta(days=RENEW_DAYS) and all(n in san for n in names)
