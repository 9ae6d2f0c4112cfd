"""OAuth2 client credentials (RFC 6749 section 4.4): POST /auth/token with HTTP Basic."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from openpcf.api.deps import SessionDep
from openpcf.api.errors import OAuthError, OAuthErrorOut
from openpcf.domain.platform import TokenResponse
from openpcf.services.accounts import issue_access_token
from openpcf.services.errors import AuthenticationFailed

router = APIRouter(tags=["auth"])


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
    },
)
def token(
    db: SessionDep,
    response: Response,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)],
    grant_type: Annotated[str | None, Form(examples=["client_credentials"])] = None,
    scope: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form(description="instead of HTTP Basic")] = None,
    client_secret: Annotated[str | None, Form(description="instead of HTTP Basic")] = None,
) -> TokenResponse:
    """Exchange client credentials, sent with HTTP Basic (or as form fields), for a bearer
    token that expires after `expires_in` seconds (OPENPCF_TOKEN_TTL)."""
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
