"""What is signed and labelled stays tied together: a certified label only for the result its
certificate signs and only with a public (not loopback) URL, else a draft with the reason; the
trust list `certificate keys --export` writes is read by `certificate verify --trust`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from typer.testing import CliRunner

from openpcf.cli import app
from openpcf.domain.certification import sha256_of_result
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project
from openpcf.services.certification.label_check import is_loopback, label_certificate

from .cli_runner import openpcf
from .signed import signed_certificate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PUBLIC = "https://pcf.example.cn"
runner = CliRunner()  # in-process; a subprocess where the database must be fresh


@pytest.fixture(scope="module")
def cement_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = openpcf("calc", str(EXAMPLES / "cement.yaml"), "--format", "json")
    assert run.returncode == 0, run.stderr
    path = tmp_path_factory.mktemp("cement") / "cement.json"
    path.write_text(run.stdout)
    return path


def qr(png: Path) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(png))]


def label(
    result: Path, certificate_id: str, file: Path, env: dict[str, str | None]
) -> tuple[str, list[str]]:
    """`openpcf label` of the result with the certificate: (stderr, the QR codes on the PNG)."""
    png = file.with_suffix(".png")
    run = runner.invoke(app, ["label", str(result), "--png", str(png), "--certificate-id",
                              certificate_id, "--certificate", str(file)], env=env)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    return run.stderr, qr(png)


def test_loopback_addresses_are_recognised() -> None:
    for url in (
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://[::1]/",
        "http://0.0.0.0",
    ):
        assert is_loopback(url), url
    for url in (PUBLIC, "http://10.0.0.5:8000", "https://registry.example"):
        assert not is_loopback(url), url


def test_a_certificate_of_another_result_gives_a_draft_with_the_reason() -> None:
    cement = calculate(load_project(EXAMPLES / "cement.yaml"))
    clinker = calculate(load_project(EXAMPLES / "clinker.yaml"))
    doc = signed_certificate("CFP-1", sha256_of_result(clinker.model_dump_json()))
    got = label_certificate(cement, "CFP-1", doc, PUBLIC)
    assert got.certificate is None and "signs another result" in (got.reason or "")
    own = label_certificate(clinker, "CFP-1", doc, PUBLIC)
    assert own.certificate is not None and own.certificate.status == "valid"
    assert own.certificate.verifier == "CN Verify"
    loop = label_certificate(clinker, "CFP-1", doc, "http://127.0.0.1:8000")
    assert loop.certificate is None and "loopback" in (loop.reason or "")
    wrong_id = label_certificate(clinker, "CFP-2", doc, PUBLIC)
    assert wrong_id.certificate is None and "not CFP-2" in (wrong_id.reason or "")
    tampered = doc.replace(b'"value":716', b'"value":700')
    bad = label_certificate(clinker, "CFP-1", tampered, PUBLIC)
    assert bad.certificate is None and "does not verify" in (bad.reason or "")


def test_cli_label_for_another_results_certificate_is_a_draft_without_qr(
    tmp_path: Path, cement_json: Path
) -> None:
    other = tmp_path / "other.json"
    other.write_bytes(signed_certificate("CFP-7", "0" * 64))
    env: dict[str, str | None] = {"OPENPCF_PUBLIC_URL": PUBLIC}
    stderr, codes = label(cement_json, "CFP-7", other, env)
    assert "draft, not certified" in stderr and "signs another result" in stderr
    assert codes == []


def test_cli_label_with_a_loopback_public_url_is_a_draft(tmp_path: Path, cement_json: Path) -> None:
    cert = tmp_path / "cert.json"
    cert.write_bytes(signed_certificate("CFP-8", sha256_of_result(cement_json.read_text())))
    env: dict[str, str | None] = {"OPENPCF_PUBLIC_URL": None}  # unset: the loopback default
    stderr, codes = label(cement_json, "CFP-8", cert, env)
    assert "loopback" in stderr and "OPENPCF_PUBLIC_URL" in stderr and codes == []
    stderr, codes = label(cement_json, "CFP-8", cert, env | {"OPENPCF_PUBLIC_URL": PUBLIC})
    assert codes == [f"{PUBLIC}/p/CFP-8"], stderr


def test_a_certificate_id_not_in_the_database_is_a_draft(tmp_path: Path, cement_json: Path) -> None:
    env = os.environ | {"OPENPCF_HOME": str(tmp_path), "OPENPCF_PUBLIC_URL": PUBLIC}
    env.pop("OPENPCF_DATABASE_URL", None)
    png = tmp_path / "label.png"
    run = openpcf("label", str(cement_json), "--png", str(png), "--certificate-id", "CFP-404",
                  env=env)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "no published certificate CFP-404" in run.stderr and qr(png) == []


def test_the_exported_trust_list_is_read_by_verify(tmp_path: Path) -> None:
    """certificate keys --export → certificate verify --trust, with a key made by the CLI."""
    from cryptography.hazmat.primitives import serialization

    env = os.environ | {"OPENPCF_HOME": str(tmp_path)}
    for name in ("OPENPCF_DATABASE_URL", "OPENPCF_KEYS_DIR", "OPENPCF_KEY_PASSPHRASE"):
        env.pop(name, None)
    steps = [
        ("tenants", "create", "cnverify", "--kind", "verifier"),
        ("users", "create", "cnverify", "v@cnverify.example", "--role", "verifier"),
        ("certificate", "new-key", "--user", "v@cnverify.example"),
        ("certificate", "keys", "--export", "-o", str(tmp_path / "trust.json")),
    ]
    for args in steps:
        r = openpcf(*args, env=env)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    trust = tmp_path / "trust.json"
    (key,) = json.loads(trust.read_text())["keys"]
    assert "BEGIN PUBLIC KEY" in key["public_key_pem"]  # the PEM inside the JSON misled the reader
    pem = (tmp_path / "keys" / f"{key['fingerprint'].removeprefix('sha256:')}.pem").read_bytes()
    private = serialization.load_pem_private_key(pem, password=None)
    cert = tmp_path / "cert.json"
    cert.write_bytes(signed_certificate("CFP-3", "0" * 64, private))  # type: ignore[arg-type]
    r = openpcf("certificate", "verify", str(cert), "--trust", str(trust), "--at",
                "2026-06-01T00:00:00", env=env)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASS trusted key" in r.stdout and "VALID" in r.stdout
    # the PEM form of the same key is a trust list too
    pem_list = tmp_path / "trust.pem"
    pem_list.write_text(key["public_key_pem"])
    r = openpcf("certificate", "verify", str(cert), "--trust", str(pem_list), "--at",
                "2026-06-01T00:00:00", env=env)  # fmt: skip
    assert r.returncode == 0 and "PASS trusted key" in r.stdout, r.stdout + r.stderr


def test_cli_report_shows_only_the_certificate_of_its_result(
    tmp_path: Path, cement_json: Path
) -> None:
    env: dict[str, str | None] = {"OPENPCF_PUBLIC_URL": PUBLIC}
    other, own = tmp_path / "other.json", tmp_path / "own.json"
    other.write_bytes(signed_certificate("CFP-5", "0" * 64))
    own.write_bytes(signed_certificate("CFP-5", sha256_of_result(cement_json.read_text())))
    page = tmp_path / "report.html"
    args = ["report", str(cement_json), "--html", str(page), "--certificate-id", "CFP-5"]
    run = runner.invoke(app, [*args, "--certificate", str(other)], env=env)
    assert run.exit_code == 0 and "draft report" in run.stderr, run.stderr
    assert f"{PUBLIC}/p/CFP-5" not in page.read_text()
    run = runner.invoke(app, [*args, "--certificate", str(own)], env=env)
    assert run.exit_code == 0 and "draft report" not in run.stderr, run.stderr
    assert f"{PUBLIC}/p/CFP-5" in page.read_text()
