"""A national factor set in an offline installation: saved from the platform's API, pulled over
real HTTP or imported from the file, then named in `openpcf calc --factor-set`; and the
registry's issuance records imported with `openpcf certificates import-issuances`."""

from __future__ import annotations

import json
import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.domain.platform import Role, TenantKind
from openpcf.services.platform import accounts
from openpcf.store.db import sessions

from .cli_runner import openpcf
from .test_national import GEC_MODEL, ISSUANCES, MODEL, STEEL_V1


def _national_document(tmp_path: Path) -> str:
    """GET /factor-sets/national/1 of a platform where a regulator published it."""
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    factory, op = sessions(url), accounts.operator("tests")
    accounts.create_tenant(factory(), op, "regulator", "Regulator", kind=TenantKind.regulator)
    token = accounts.create_user(factory(), op, "regulator", "a@reg.example", Role.admin).token
    auth = {"Authorization": f"Bearer {token.token}"}
    with TestClient(create_app(url)) as client:
        body = {"name": "national", "version": "1", "title": "National", "factors": [STEEL_V1]}
        assert client.post("/factor-sets", json=body, headers=auth).status_code == 201
        assert client.post("/factor-sets/national/1/publish", headers=auth).status_code == 200
        return client.get("/factor-sets/national/1", headers=auth).text


def test_a_pulled_national_set_computes_offline_and_is_pinned(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    (served / "national-1.json").write_text(_national_document(tmp_path), "utf-8")
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(served))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**os.environ, "OPENPCF_HOME": str(tmp_path / "home")}
    model = tmp_path / "coil.yaml"
    model.write_text(MODEL.format(name="Coil"), "utf-8")
    try:
        before = openpcf("calc", str(model), "--factor-set", "national@1", env=env)
        assert before.returncode == 1 and "openpcf factors pull" in before.stderr
        url = f"http://127.0.0.1:{server.server_address[1]}/national-1.json"
        pulled = openpcf("factors", "pull", url, env=env)
        assert pulled.returncode == 0, pulled.stderr
        assert "kept regulator:national@1: 1 factor(s)" in pulled.stdout
    finally:
        server.shutdown()
    done = openpcf("calc", str(model), "--factor-set", "national@1", "-f", "json", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["pcf"]["value"] == 3.0  # 1.5 kg × 2.0 kg CO2e/kg
    assert "regulator:national@1" in result["provenance"]["factor_sets"]
    shown = openpcf("factors", "show", "cn-national/steel-hr", "--factor-set", "national@1",
                    "-f", "json", env=env)  # fmt: skip
    assert json.loads(shown.stdout)["co2e"] == 2.0
    # a changed copy of the document is refused (its sha256 no longer matches)
    doc = json.loads((served / "national-1.json").read_text("utf-8"))
    doc["factors"][0]["co2e"] = 1.0
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(doc), "utf-8")
    refused = openpcf("factors", "import", str(tampered), env=env)
    assert refused.returncode == 1 and "do not match the document's sha256" in refused.stderr


def test_cli_imports_issuances_and_refuses_an_unissued_claim(tmp_path: Path) -> None:
    env = {**os.environ, "OPENPCF_HOME": str(tmp_path / "home"), "OPENPCF_TENANT": "t"}
    csv = tmp_path / "issued.csv"
    csv.write_text(ISSUANCES, "utf-8")
    done = openpcf("certificates", "import-issuances", str(csv), env=env)
    assert done.returncode == 0, done.stderr
    assert "3 certificate(s) added, 0 already recorded" in done.stdout
    again = openpcf("certificates", "import-issuances", str(csv), env=env)
    assert "0 certificate(s) added, 3 already recorded" in again.stdout
    model = tmp_path / "m.yaml"
    model.write_text(GEC_MODEL.format(name="M", cert="GEC-ZZ", mwh=1, gen="wind"), "utf-8")
    refused = openpcf("calc", str(model), env=env)
    assert refused.returncode == 1 and "not in the imported issuance records" in refused.stderr
    model.write_text(GEC_MODEL.format(name="M", cert="GEC-NM-2", mwh=1, gen="wind"), "utf-8")
    assert openpcf("calc", str(model), env=env).returncode == 0
    summary = json.loads(openpcf("certificates", "summary", "-f", "json", env=env).stdout)
    assert [(g["province"], g["generation"], g["kwh"]) for g in summary["groups"]] == [
        ("CN-NM", "wind", 1000.0)
    ]
