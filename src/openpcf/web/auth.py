"""Web sessions: a signed cookie after sign-in, the dependencies pages take, and CSRF checks.

The cookie (`openpcf_session`, HttpOnly, SameSite=Lax, Secure over HTTPS) holds the user's
e-mail, a per-session CSRF token and the time of sign-in, signed with HMAC-SHA256 under
OPENPCF_WEB_SECRET (default: a random key kept in OPENPCF_HOME/web-secret). The user is looked
up again on every request, so disabling a user ends their sessions at once.

Every POST form carries the CSRF token in a hidden field `csrf_token`; htmx requests send it
as the `X-CSRF-Token` header (base.html sets it on <body hx-headers>). Before sign-in the
sign-in form is protected the same way with a token in a separate cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from functools import cache
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from openpcf import config
from openpcf.domain.platform import WRITERS, Principal, Role
from openpcf.services.platform.sign_in import principal_for_user

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


def session_hours() -> float:
    """OPENPCF_WEB_SESSION_HOURS: how long a sign-in lasts. Default: 12."""
    return float(os.environ.get("OPENPCF_WEB_SESSION_HOURS") or 12)


@cache
def _key_for(secret_env: str | None, home: str) -> bytes:
    if secret_env:
        return hashlib.sha256(secret_env.encode()).digest()
    path = config.home() / "web-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def secret_key() -> bytes:
    """OPENPCF_WEB_SECRET, or a random key created once in OPENPCF_HOME/web-secret (so that
    several server processes and restarts share it)."""
    try:
        return _key_for(os.environ.get("OPENPCF_WEB_SECRET"), str(config.home()))
    except FileExistsError:  # another process created it between our check and open
        _key_for.cache_clear()
        return _key_for(None, str(config.home()))


def _sign(payload: bytes) -> str:
    mac = hmac.new(secret_key(), payload, hashlib.sha256).digest()
    b64 = base64.urlsafe_b64encode
    return f"{b64(payload).decode().rstrip('=')}.{b64(mac).decode().rstrip('=')}"


def _unsign(value: str) -> bytes | None:
    try:
        data, mac = value.split(".")
        payload = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        got = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
    except (ValueError, TypeError):
        return None
    want = hmac.new(secret_key(), payload, hashlib.sha256).digest()
    return payload if hmac.compare_digest(got, want) else None


def session_cookie(email: str) -> str:
    """The signed cookie value of a new session for `email`."""
    payload = {"sub": email, "csrf": secrets.token_urlsafe(24), "iat": int(time.time())}
    return _sign(json.dumps(payload, separators=(",", ":")).encode())


def set_session(response: Response, request: Request, email: str) -> None:
    response.set_cookie(
        COOKIE,
        session_cookie(email),
        max_age=int(session_hours() * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(PRE_COOKIE, path="/")


def clear_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def _payload(request: Request) -> dict | None:
    raw = request.cookies.get(COOKIE)
    payload = _unsign(raw) if raw else None
    if payload is None:
        return None
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict) or time.time() - data.get("iat", 0) > session_hours() * 3600:
        return None
    return data


def optional_user(request: Request) -> WebUser | None:
    """The signed-in user, or None (public pages)."""
    if "web_user" in request.state._state:
        return request.state.web_user
    user = None
    data = _payload(request)
    if data is not None:
        with request.app.state.sessions(read_only=True) as db:
            found = principal_for_user(db, str(data.get("sub", "")))
        if found is not None:
            user = WebUser(principal=found[0], kind=found[1], csrf=str(data["csrf"]))
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
