"""Sign-in, sign-out, the language switch, the landing page and each kind's home page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from openpcf.domain.errors import OpenpcfError
from openpcf.services.platform import web_sessions
from openpcf.services.platform.web_sessions import SignInThrottled
from openpcf.web import i18n
from openpcf.web.auth import (
    Csrf,
    MaybeUser,
    SignedIn,
    WebNotFound,
    clear_session,
    pre_session_csrf,
    session_token,
    set_session,
)
from openpcf.web.render import render

router = APIRouter(include_in_schema=False)

HOME = {
    "enterprise": "/app/products",
    "verifier": "/verify/queue",
    "regulator": "/regulate/coverage",
}


def safe_next(target: str | None, default: str = "/app") -> str:
    """Only same-site paths: an open redirect would let a link send users anywhere."""
    if not target:
        return default
    parts = urlparse(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@router.get("/")
def landing(request: Request, user: MaybeUser) -> Response:
    return render(request, "public/landing.html", {})


@router.get("/app")
def home(user: SignedIn) -> Response:
    return RedirectResponse(HOME.get(user.kind, "/registry"), status_code=303)


@router.get("/sign-in")
def sign_in_page(request: Request, user: MaybeUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    response = Response()
    token = pre_session_csrf(request, response)
    page = render(request, "auth/sign_in.html", {"next": safe_next(next)}, csrf_token=token)
    page.headers.append("set-cookie", response.headers["set-cookie"])
    return page


@router.post("/sign-in", dependencies=[Csrf])
def sign_in(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/app",
) -> Response:
    address = request.client.host if request.client else "unknown"
    agent = request.headers.get("user-agent")
    error, status, minutes = "Wrong e-mail or password.", 401, 0
    token = None
    if email and password and len(email) <= 320 and len(password) <= 1024:
        try:
            with request.app.state.sessions() as db:
                token, _principal = web_sessions.sign_in(db, email, password, address, agent)
        except SignInThrottled as exc:
            error, status = "Too many failed sign-ins. Try again in {minutes} minutes.", 429
            minutes = exc.minutes
        except OpenpcfError:
            pass
    if token is None:
        lang = render_lang(request)
        page = render(
            request,
            "auth/sign_in.html",
            {
                "next": safe_next(next),
                "email": email,
                "error": i18n.translate(lang, error, minutes=minutes),
            },
            status_code=status,
            csrf_token=request.cookies.get("openpcf_csrf", ""),
        )
        if status == 429:
            page.headers["Retry-After"] = "60"
        return page
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session(response, request, token)
    return response


def render_lang(request: Request) -> str:
    return i18n.choose(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))


@router.post("/sign-out", dependencies=[Csrf])
def sign_out(request: Request) -> Response:
    """Revokes the session server-side: the cookie, even if copied, no longer signs in."""
    token = session_token(request)
    if token:
        with request.app.state.sessions() as db:
            web_sessions.sign_out(db, token)
    response = RedirectResponse("/sign-in", status_code=303)
    clear_session(response)
    return response


@router.get("/account/sessions")
def sessions_page(request: Request, user: SignedIn, email: str | None = None) -> Response:
    """The user's signed-in sessions (admins: any user of their tenant, `?email=`)."""
    try:
        with request.app.state.sessions() as db:
            rows = web_sessions.list_sessions(db, user.principal, email or user.email)
    except OpenpcfError:
        raise WebNotFound() from None
    current = _current_id(request, rows)
    return render(
        request,
        "auth/sessions.html",
        {"sessions": rows, "of": email or user.email, "current": current},
    )


@router.post("/account/sessions/{public_id}/revoke", dependencies=[Csrf])
def revoke_session(request: Request, user: SignedIn, public_id: str) -> Response:
    try:
        with request.app.state.sessions() as db:
            info = web_sessions.revoke_session(db, user.principal, public_id)
    except OpenpcfError:
        raise WebNotFound() from None
    target = "/account/sessions" + (f"?email={info.email}" if info.email != user.email else "")
    return RedirectResponse(target, status_code=303)


def _current_id(request: Request, rows: list[web_sessions.SessionInfo]) -> str | None:
    token = session_token(request)
    if not token:
        return None
    with request.app.state.sessions(read_only=True) as db:
        found = web_sessions.active_session(db, token)
    return found.public_id if found else None


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next, "/"), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response
