"""`openpcf certificate verify` checks a certificate offline and names what failed; the trust
list of `certificate keys --export` is honoured; tenants are made with a kind."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openpcf.domain.canonical import canonical_json
from openpcf.domain.certification import FORMAT, public_raw, sign
from tests.cli_runner import openpcf

BODY = {
    "format": FORMAT,
    "certificate_id": "pcf-0123456789abcdef",
    "product": {"urn": "urn:openpcf:product:demo:cell", "name": "Cell"},
    "declared_unit": {"amount": 1, "unit": "kWh"},
    "pcf": {"value": 58.9, "unit": "kg CO2e"},
    "calculation": {"id": "c", "result_sha256": "0" * 64},
    "verifier": {"body": "cnverify", "name": "CN Verify", "user": "v@cnverify.example"},
    "issued_at": "2026-01-01T00:00:00Z",
    "valid_until": "2029-01-01T00:00:00Z",
}
KEY = Ed25519PrivateKey.generate()


def _file(tmp_path: Path, doc: dict, name: str = "cert.json", raw: bytes | None = None) -> str:
    path = tmp_path / name
    path.write_bytes(raw if raw is not None else canonical_json(doc))
    return str(path)


def _trust(tmp_path: Path, key: Ed25519PrivateKey) -> str:
    raw = public_raw(key.public_key())
    path = tmp_path / "trust.json"
    path.write_text(json.dumps({"keys": [{"public_key": base64.b64encode(raw).decode()}]}))
    return str(path)


def test_a_genuine_certificate_verifies_and_a_trusted_key_is_named(tmp_path: Path) -> None:
    doc = sign(BODY, KEY)
    at = ("--at", "2026-06-01T00:00:00")
    r = openpcf("certificate", "verify", _file(tmp_path, doc), *at)
    assert r.returncode == 0 and "VALID" in r.stdout and "INVALID" not in r.stdout, r.stdout
    r = openpcf(
        "certificate", "verify", _file(tmp_path, doc), "--trust", _trust(tmp_path, KEY), *at
    )
    assert r.returncode == 0 and "PASS trusted key" in r.stdout, r.stdout + r.stderr
    other = Ed25519PrivateKey.generate()
    r = openpcf("certificate", "verify", _file(tmp_path, doc), "--trust", _trust(tmp_path, other),
                *at, "--format", "json")  # fmt: skip
    report = json.loads(r.stdout)
    assert r.returncode == 1 and report["ok"] is False
    assert [c["name"] for c in report["checks"] if not c["ok"]] == ["trusted key"]


def test_each_failure_is_named(tmp_path: Path) -> None:
    doc = sign(BODY, KEY)
    at = ("--at", "2026-06-01T00:00:00")
    altered = doc | {"pcf": {"value": 12.0, "unit": "kg CO2e"}}  # a lower footprint, same signature
    cases = [
        (_file(tmp_path, altered, "altered.json"), at, "FAIL signature"),
        (_file(tmp_path, doc, "late.json"), ("--at", "2030-01-01T00:00:00"), "FAIL validity"),
        (_file(tmp_path, doc, "early.json"), ("--at", "2025-01-01T00:00:00"), "FAIL validity"),
        (_file(tmp_path, doc, "pretty.json", json.dumps(doc, indent=2).encode()), at,
         "FAIL canonical form"),
        (_file(tmp_path, doc, "dup.json", b'{"a":1,"a":2}'), at, "FAIL format"),
        (_file(tmp_path, doc, "other.json", b'{"a":1}'), at, "not an openpcf certificate"),
    ]  # fmt: skip
    for path, when, expected in cases:
        r = openpcf("certificate", "verify", path, *when)
        assert r.returncode == 1, f"{path}: {r.stdout}"
        assert expected in r.stdout and "INVALID" in r.stdout, f"{path}: {r.stdout}"


def test_tenants_are_made_with_a_kind(tmp_path: Path) -> None:
    env = os.environ | {"OPENPCF_HOME": str(tmp_path)}
    r = openpcf("tenants", "create", "cnverify", "--kind", "verifier", env=env)
    assert r.returncode == 0 and "verifier tenant cnverify created" in r.stdout, r.stderr
    r = openpcf("tenants", "list", "--format", "json", env=env)
    assert [(t["slug"], t["kind"]) for t in json.loads(r.stdout)] == [("cnverify", "verifier")]
    r = openpcf("tenants", "create", "x", "--kind", "bank", env=env)
    assert r.returncode == 2 and "bank" in r.stderr
    r = openpcf("certificate", "keys", "--export", env=env)
    assert r.returncode == 0 and json.loads(r.stdout) == {"keys": []}
    r = openpcf("ledger", "verify", env=env)
    assert r.returncode == 0 and "ledger intact: 0 entries" in r.stdout
