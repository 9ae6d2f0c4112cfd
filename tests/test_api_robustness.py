"""Regressions for inputs found by fuzzing the API (schemathesis) against its OpenAPI schema:
each request here once answered a 5xx or a response that broke its documented schema."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from tests.platform_world import World


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic !!!",  # not base64
        "Basic " + base64.b64encode(b"no-colon").decode(),  # no client_id:client_secret
        "Basic " + base64.b64encode("é:x".encode()).decode(),  # not ASCII
    ],
)
def test_token_malformed_basic_is_oauth_invalid_client(
    client: TestClient, authorization: str
) -> None:
    """A malformed HTTP Basic header answered HTTPBasic's own {code, message, details} 401,
    not the documented OAuth error (RFC 6749 section 5.2) with `error` and
    `error_description`."""
    r = client.post(
        "/auth/token",
        headers={"Authorization": authorization},
        data={"grant_type": "client_credentials"},
    )
    assert r.status_code == 401
    body = r.json()
    assert body["error"] == body["code"] == "invalid_client"
    assert body["error_description"] == body["message"]


@pytest.mark.parametrize("offset", [2**63, 19785691346909752310148104192])
def test_audit_offset_beyond_64_bits_is_invalid_not_server_error(
    client: TestClient, world: World, offset: int
) -> None:
    """An offset beyond a signed 64-bit integer reached the SQL OFFSET and failed (500)."""
    r = client.get("/audit", params={"offset": offset}, headers=world.auth("acme/admin"))
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_request"


def test_audit_largest_offset_is_an_empty_page(client: TestClient, world: World) -> None:
    r = client.get("/audit", params={"offset": 2**63 - 1}, headers=world.auth("acme/admin"))
    assert r.status_code == 200 and r.json() == []
