"""Web sessions: a server-side session after sign-in, the dependencies pages take, and CSRF.

The cookie (`openpcf_session`, HttpOnly, SameSite=Lax, Secure over HTTPS) holds a random
session token; the `web_sessions` table keeps its sha256 with the user, the session's CSRF
token, expiry (OPENPCF_WEB_SESSION_HOURS) and revocation (see
`services/platform/web_sessions.py`). Signing out revokes the row, so a copied cookie stops
working at once; the user is looked up again on every request, so disabling a user ends their
sessions at once too.

Every POST form carries the CSRF token in a hidden field `csrf_token`; htmx requests send it
as the `X-CSRF-Token` header (base.html sets it on <body hx-headers>). Before sign-in the
sign-in form is protected the same way with a token in a separate cookie.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from openpcf.domain.platform import WRITERS, Principal, Role
from openpcf.services.platform.web_sessions import active_session, session_for, session_hours

COOKIE = "openpcf_session"
PRE_COOKIE = "openpcf_csrf"  # CSRF token of the sign-in form, before a session exists


class SignInRequired(Exception):
    """A private page asked without a session: the browser is sent to the sign-in page."""


class WebForbidden(Exception):
    """Signed in, but this page is not for the user's role or tenant kind: a 403 page."""


class WebNotFound(Exception):
    """Not there, or another tenant's: a 404 page (never says which)."""


class CsrfFailed(Exception):
    """A POST without the session's CSRF token: a 403 page."""


@dataclass(frozen=True)
class WebUser:
    """The signed-in user: who (principal), their tenant's kind, and the session's CSRF token."""

    principal: Principal
    kind: str  # enterprise | verifier | regulator
    csrf: str

    @property
    def email(self) -> str:
        return self.principal.subject

    @property
    def tenant(self) -> str:
        return str(self.principal.tenant)

    @property
    def role(self) -> Role:
        return Role(self.principal.role)

    @property
    def can_write(self) -> bool:
        return self.principal.role in WRITERS


def set_session(response: Response, request: Request, token: str) -> None:
    """Put a session token (from `web_sessions.sign_in`) in the session cookie."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(session_hours() * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(PRE_COOKIE, path="/")


def clear_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


def session_cookie(email: str, database_url: str) -> str:
    """A session token for `email` made without a password (tests, operators' tooling)."""
    from openpcf.store.db import sessions

    return session_for(sessions(database_url)(), "operator:session-cookie", email)


def optional_user(request: Request) -> WebUser | None:
    """The signed-in user, or None (public pages)."""
    if "web_user" in request.state._state:
        return request.state.web_user
    user = None
    token = session_token(request)
    if token:
        with request.app.state.sessions(read_only=True) as db:
            found = active_session(db, token)
        if found is not None:
            user = WebUser(principal=found.principal, kind=found.kind, csrf=found.csrf)
    request.state.web_user = user
    return user


def signed_in(request: Request) -> WebUser:
    """Dependency of every private page: the user, or a redirect to the sign-in page."""
    user = optional_user(request)
    if user is None:
        raise SignInRequired()
    return user


def require(*kinds: str, roles: frozenset[Role] | None = None):
    """A dependency admitting users of tenants of these kinds (and, if given, these roles)."""

    def dependency(request: Request) -> WebUser:
        user = signed_in(request)
        if kinds and user.kind not in kinds:
            raise WebForbidden()
        if roles is not None and user.role not in roles:
            raise WebForbidden()
        return user

    return dependency


async def csrf_checked(request: Request) -> None:
    """Dependency of every POST: the form field or header must carry the session's token."""
    form = await request.form()
    sent = request.headers.get("x-csrf-token") or str(form.get("csrf_token") or "")
    user = optional_user(request)
    expected = user.csrf if user is not None else request.cookies.get(PRE_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfFailed()


def pre_session_csrf(request: Request, response: Response) -> str:
    """The sign-in form's CSRF token (kept in its own short-lived cookie)."""
    token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    response.set_cookie(
        PRE_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return token


SignedIn = Annotated[WebUser, Depends(signed_in)]
MaybeUser = Annotated[WebUser | None, Depends(optional_user)]
Enterprise = Annotated[WebUser, Depends(require("enterprise"))]
EnterpriseWriter = Annotated[WebUser, Depends(require("enterprise", roles=WRITERS))]
Verifier = Annotated[WebUser, Depends(require("verifier"))]
Regulator = Annotated[WebUser, Depends(require("regulator"))]
Csrf = Depends(csrf_checked)
