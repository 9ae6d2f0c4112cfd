"""POST /auth/token is rate-limited per client id and per source address (token buckets):
429 with Retry-After beyond the limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.api.routers.auth import TokenBuckets
from tests.databases import empty_database
from tests.platform_world import make_world


def test_a_bucket_refills_evenly_over_a_minute() -> None:
    now = [0.0]
    bucket = TokenBuckets(10, clock=lambda: now[0])
    assert [bucket.take("k") for _ in range(10)] == [0.0] * 10  # a burst of 10
    # empty: the next token is due after 60 s / 10 = 6 s
    assert bucket.take("k") == pytest.approx(6.0)
    assert bucket.take("other") == 0.0  # keys are independent
    now[0] = 3.0  # half a token refilled: 3 s to go
    assert bucket.take("k") == pytest.approx(3.0)
    now[0] = 6.0
    assert bucket.take("k") == 0.0
    assert TokenBuckets(0).take("k") == 0.0  # 0 turns the limit off


def test_token_requests_beyond_the_rate_get_429(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENPCF_TOKEN_RATE", "2,3")  # per client id, per address
    with empty_database("sqlite", tmp_path) as url:  # type: ignore[arg-type]
        world = make_world(url)
        with TestClient(create_app(url)) as client:
            cid, secret = world.clients["acme"]
            form = {"grant_type": "client_credentials"}
            codes = [client.post("/auth/token", data=form, auth=(cid, secret)).status_code
                     for _ in range(3)]  # fmt: skip
            assert codes == [200, 200, 429]
            r = client.post("/auth/token", data=form, auth=(cid, secret))
            assert r.status_code == 429 and r.json()["error"] == "rate_limited"
            assert 1 <= int(r.headers["retry-after"]) <= 30  # 60 s / 2 per token
            # the address's own limit (3 a minute) stops another client from it as well
            other, other_secret = world.clients["other"]
            r = client.post("/auth/token", data=form, auth=(other, other_secret))
            assert r.status_code == 429
