"""A certificate file signed with a fresh Ed25519 key, in the form the certification workflow
writes (domain/certification.py), for tests of what may print it."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openpcf.domain.canonical import canonical_json
from openpcf.domain.certification import FORMAT, sign

KEY = Ed25519PrivateKey.generate()


def signed_certificate(
    certificate_id: str, result_sha256: str, key: Ed25519PrivateKey = KEY
) -> bytes:
    body = {
        "format": FORMAT,
        "certificate_id": certificate_id,
        "product": {"urn": "urn:openpcf:product:demo:cement", "name": "Cement"},
        "declared_unit": {"amount": 1, "unit": "t"},
        "pcf": {"value": 716.0, "unit": "kg CO2e"},
        "calculation": {"id": "c", "result_sha256": result_sha256},
        "verifier": {"body": "cnverify", "name": "CN Verify", "user": "v@cnverify.example"},
        "issued_at": "2026-01-01T00:00:00Z",
        "valid_until": "2036-01-01T00:00:00Z",
    }
    return canonical_json(sign(body, key))
