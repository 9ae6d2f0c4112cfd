"""The PACT client (`openpcf suppliers request`): retries against a mock host, and the whole
exchange against a real `openpcf serve --demo` on a free port."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from openpcf.cli import app
from openpcf.services.exchange.client import PactClientError, fetch_footprints
from openpcf.services.platform import accounts
from openpcf.store.db import sessions
from openpcf.store.models import SupplierRequest
from tests.test_serve import CLIENT, FOOTPRINT, serving


def test_fetch_retries_server_errors_and_follows_links() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url}")
        if request.url.path == "/auth/token":
            assert request.headers["authorization"].startswith("Basic ")
            return httpx.Response(200, json={"access_token": "t", "token_type": "bearer"})
        if len(calls) == 2:
            return httpx.Response(503, json={"code": "InternalError", "message": "busy"})
        if "offset" not in str(request.url):
            link = '<https://h.example/3/footprints?offset=1>; rel="next"'
            return httpx.Response(200, json={"data": []}, headers={"link": link})
        return httpx.Response(200, json={"data": []})

    fetched = fetch_footprints(
        "h.example", "urn:x", "id", "secret",
        transport=httpx.MockTransport(answer), sleep=lambda _: None,
    )  # fmt: skip
    assert fetched.footprints == [] and fetched.host == "https://h.example"
    assert calls[1] == calls[2] == "GET https://h.example/3/footprints?productId=urn%3Ax"
    assert calls[3] == "GET https://h.example/3/footprints?offset=1"


def test_fetch_reports_a_refused_client() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client", "error_description": "no"})

    with pytest.raises(PactClientError, match="invalid_client"):
        fetch_footprints("https://h.example", "urn:x", "id", "bad",
                         transport=httpx.MockTransport(answer))  # fmt: skip


def test_suppliers_request_against_a_real_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "supplier-home"
    home.mkdir()
    with serving(home) as server:
        _tenant, client_id, secret = CLIENT.findall(server.output)[0]
        cell = next(
            f for f in FOOTPRINT.findall(server.output)
            if f[0].endswith("lfp-cell-280ah") and f[1] == "pact-v3"
        )  # fmt: skip
        url = f"sqlite:///{tmp_path / 'buyer.db'}"
        monkeypatch.setenv("OPENPCF_DATABASE_URL", url)
        monkeypatch.setenv("OPENPCF_TENANT", "buyer")
        accounts.create_tenant(sessions(url)(), accounts.operator("tests"), "buyer", "Buyer")
        result = CliRunner().invoke(
            app,
            ["suppliers", "request", server.base, cell[0], "--id", cell[2],
             "--client-id", client_id, "--client-secret", secret],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    entry = yaml.safe_load(result.stdout)["inputs"][0]
    assert entry["pcf"]["pact_id"] == cell[2] and entry["primary"] is True
    with sessions(url)() as s:
        row = s.scalars(select(SupplierRequest)).one()
    assert row.status == "fulfilled" and row.product_id == cell[0]
    stored = json.loads(row.result)
    assert stored["provenance"]["host"] == server.base
    assert cell[2] in stored["provenance"]["footprint_ids"]
    assert all(pf["pcf"] for pf in stored["footprints"])
