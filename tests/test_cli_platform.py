"""Platform commands: tenants, users, clients, store upgrade (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from openpcf.cli import app
from openpcf.services.platform.accounts import principal_for_token
from openpcf.store.db import sessions

runner = CliRunner()


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENPCF_DATABASE_URL", database_url)
    return database_url


def test_store_upgrade_migrates_then_reports_current(cli: str) -> None:
    first = runner.invoke(app, ["store", "upgrade"])
    assert first.exit_code == 0, first.output
    assert (
        "applied 0001, 0002, 0003, 0004, 0005, 0006, 0007, 0008, 0009, 0010, 0011, 0012; "
        "now at 0012" in first.output
    )
    again = runner.invoke(app, ["store", "upgrade"])
    assert "already at the latest revision 0012" in again.output


def test_tenant_user_and_client_creation(cli: str) -> None:
    r = runner.invoke(app, ["tenants", "create", "acme", "--display-name", "Acme Co"])
    assert r.exit_code == 0 and "tenant acme created" in r.output
    again = runner.invoke(app, ["tenants", "create", "acme"])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(app, ["tenants", "create", "Not_Valid"])
    assert bad.exit_code == 1 and "lower-case" in bad.output

    r = runner.invoke(app, ["users", "create", "acme", "ana@acme.example", "--role", "admin"])
    assert r.exit_code == 0, r.output
    token = r.output.strip().splitlines()[-1]
    assert token.startswith("opcf_pat_")
    who = principal_for_token(sessions(cli)(), token)
    assert (who.subject, who.tenant, who.role) == ("ana@acme.example", "acme", "admin")
    r = runner.invoke(app, ["users", "create", "nowhere", "bo@x.example"])
    assert r.exit_code == 1 and "no tenant 'nowhere'" in r.output

    r = runner.invoke(app, ["clients", "create", "acme", "--name", "ERP", "--format", "json"])
    assert r.exit_code == 0, r.output
    creds = json.loads(r.output)
    assert creds["client_id"].startswith("opcf_client_")
    assert creds["client_secret"].startswith("opcf_cs_") and creds["tenant"] == "acme"

    listed = runner.invoke(app, ["tenants", "list", "--format", "json"])
    assert [t["slug"] for t in json.loads(listed.output)] == ["acme"]


def test_serve_refuses_half_a_certificate(cli: str, tmp_path) -> None:
    r = runner.invoke(app, ["serve", "--certfile", str(tmp_path / "c.pem")])
    assert r.exit_code == 1 and "both --certfile and --keyfile" in r.output
