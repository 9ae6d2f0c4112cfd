"""OAuth2 client credentials (RFC 6749 section 4.4): POST /auth/token with HTTP Basic.

Requests are rate-limited in the server process (token buckets, OPENPCF_TOKEN_RATE): per
source address, and per client id *from that address*, each refilled evenly over a minute;
beyond the limit the answer is 429 with Retry-After. The client's bucket is keyed by (client
id, address) so that a stranger who knows a client id exhausts only their own share and cannot
lock the real client out. Several server processes each keep their own buckets.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from openpcf import config
from openpcf.api.deps import SessionDep
from openpcf.api.errors import OAuthError, OAuthErrorOut
from openpcf.domain.platform import TokenResponse
from openpcf.services.errors import AuthenticationFailed
from openpcf.services.platform.accounts import issue_access_token

router = APIRouter(tags=["auth"])


class TokenBuckets:
    """In-process token buckets: `rate` requests per minute per key, bursts up to `rate`."""

    def __init__(self, rate: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.clock = rate, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when the request may pass (a token is taken), else seconds until one is due."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.rate), now))
            tokens = min(float(self.rate), tokens + (now - at) * self.rate / 60.0)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > 100_000:  # forget idle keys rather than grow
                    self._buckets = {key: self._buckets[key]}
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) * 60.0 / self.rate


def _limited(request: Request, client_id: str | None) -> JSONResponse | None:
    """A 429 answer when the client id or the source address is over its rate, else None."""
    state = request.app.state
    if not hasattr(state, "token_buckets"):
        per_client, per_address = config.token_rate()
        state.token_buckets = (TokenBuckets(per_client), TokenBuckets(per_address))
    by_client, by_address = state.token_buckets
    address = request.client.host if request.client else "unknown"
    wait = by_address.take(f"addr:{address}")
    if not wait and client_id:
        wait = by_client.take(f"client:{client_id}@{address}")
    if not wait:
        return None
    seconds = max(1, math.ceil(wait))
    text = f"too many token requests; retry in {seconds} s"
    body = {"error": "rate_limited", "error_description": text, "code": "rate_limited",
            "message": text}  # fmt: skip
    headers = {"Retry-After": str(seconds), "Cache-Control": "no-store"}
    return JSONResponse(body, status_code=429, headers=headers)


class _ClientBasic(HTTPBasic):
    """HTTP Basic whose malformed header (not base64, no colon) is an OAuth invalid_client
    error, as documented, rather than HTTPBasic's own 401."""

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:
        try:
            return await super().__call__(request)
        except HTTPException:
            raise OAuthError(401, "invalid_client", "malformed HTTP Basic credentials") from None


basic = _ClientBasic(
    auto_error=False,
    scheme_name="clientBasic",
    description="client_id and client_secret of an API client (`openpcf clients create`)",
)


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    summary="Access token for an API client (OAuth2 client credentials)",
    responses={
        400: {"model": OAuthErrorOut, "description": "invalid_request or unsupported_grant_type"},
        401: {"model": OAuthErrorOut, "description": "invalid_client: unknown id or wrong secret"},
        429: {
            "model": OAuthErrorOut,
            "description": "rate_limited: too many requests for the client id or from the "
            "address (OPENPCF_TOKEN_RATE); see Retry-After",
        },
    },
)
def token(
    request: Request,
    db: SessionDep,
    response: Response,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)],
    grant_type: Annotated[str | None, Form(examples=["client_credentials"])] = None,
    scope: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form(description="instead of HTTP Basic")] = None,
    client_secret: Annotated[str | None, Form(description="instead of HTTP Basic")] = None,
) -> TokenResponse | JSONResponse:
    """Exchange client credentials, sent with HTTP Basic (or as form fields), for a bearer
    token that expires after `expires_in` seconds (OPENPCF_TOKEN_TTL)."""
    limited = _limited(request, credentials.username if credentials else client_id)
    if limited is not None:
        return limited
    if grant_type is None:
        raise OAuthError(400, "invalid_request", "grant_type is missing")
    if grant_type != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type", "only client_credentials is supported")
    if credentials is not None:
        client_id, client_secret = credentials.username, credentials.password
    if not client_id or client_secret is None:
        raise OAuthError(401, "invalid_client", "send client_id:client_secret with HTTP Basic")
    try:
        issued = issue_access_token(db, client_id, client_secret, scope)
    except AuthenticationFailed as exc:
        raise OAuthError(401, "invalid_client", exc.message) from None
    response.headers["Cache-Control"] = "no-store"
    return issued
