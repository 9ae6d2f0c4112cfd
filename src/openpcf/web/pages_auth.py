"""Sign-in, sign-out, the language switch, the landing page and each kind's home page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from openpcf.services.platform.accounts import user_password_ok
from openpcf.web import i18n
from openpcf.web.auth import (
    Csrf,
    MaybeUser,
    SignedIn,
    clear_session,
    pre_session_csrf,
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
    with request.app.state.sessions() as db:
        principal = user_password_ok(db, email, password) if email and password else None
    if principal is None:
        lang = render_lang(request)
        token = request.cookies.get("openpcf_csrf", "")
        return render(
            request,
            "auth/sign_in.html",
            {
                "next": safe_next(next),
                "email": email,
                "error": i18n.translate(lang, "Wrong e-mail or password."),
            },
            status_code=401,
            csrf_token=token,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session(response, request, principal.subject)
    return response


def render_lang(request: Request) -> str:
    return i18n.choose(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))


@router.post("/sign-out", dependencies=[Csrf])
def sign_out() -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    clear_session(response)
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next, "/"), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response
