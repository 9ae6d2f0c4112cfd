"""Dependencies every route takes: a database session and the principal the request acts as.

Services take the principal and scope every query by it, so a route cannot reach data without
saying who asks. A request without credentials acts as the anonymous public; a request with
credentials that do not hold (unknown, revoked, expired) is refused with 401, never downgraded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2
from sqlalchemy.orm import Session

from openpcf.domain.platform import ANONYMOUS, Principal
from openpcf.services.errors import AuthenticationFailed
from openpcf.services.platform.accounts import principal_for_token

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="personalToken",
    description="A personal token (`openpcf users create` prints one) or an access token from "
    "POST /auth/token, as `Authorization: Bearer <token>`.",
)
oauth2 = OAuth2(
    flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl="/auth/token")),
    scheme_name="clientCredentials",
    description="OAuth2 client credentials: POST /auth/token with HTTP Basic client_id:secret.",
    auto_error=False,
)


async def session(request: Request) -> AsyncIterator[Session]:
    """A session per request. GET requests read only, without transactions (one round trip per
    statement); other methods' services run theirs. Creating and closing a session does no I/O,
    so this runs on the event loop, sparing two thread-pool hops."""
    s = request.app.state.sessions(read_only=request.method in ("GET", "HEAD"))
    try:
        yield s
    finally:
        s.close()


SessionDep = Annotated[Session, Depends(session)]


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    _flow: Annotated[str | None, Depends(oauth2)],
) -> Principal:
    if credentials is None:
        if request.headers.get("authorization"):
            raise AuthenticationFailed("expected 'Authorization: Bearer <token>'")
        return ANONYMOUS
    with request.app.state.sessions(read_only=True) as db:
        return principal_for_token(db, credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(principal)]


async def text_body(
    request: Request, media_types: tuple[str, ...], limit: int, what: str = "the body"
) -> tuple[str, str]:
    """The raw request body as UTF-8 text of one of `media_types`, at most `limit` bytes, and
    its content-type header."""
    from openpcf.api.errors import PayloadTooLarge, UnsupportedMediaType

    media = request.headers.get("content-type", "")
    if media.split(";")[0].strip().lower() not in media_types:
        raise UnsupportedMediaType(
            f"unsupported media type '{media}'; send {what} as {' or '.join(media_types)}"
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"{what} is larger than {limit} bytes")
    try:
        return body.decode("utf-8"), media
    except UnicodeDecodeError:
        raise UnsupportedMediaType(f"{what} must be UTF-8 text") from None
