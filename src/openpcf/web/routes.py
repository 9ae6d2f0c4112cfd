"""Mounting the web UI on the FastAPI app: static files, the page routers, and the error pages
(sign-in redirect, 403, 404, CSRF) that replace the API's JSON errors on pages."""

from __future__ import annotations

import importlib
from importlib.resources import files
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from openpcf.web.auth import CsrfFailed, SignInRequired, WebForbidden, WebNotFound
from openpcf.web.render import render

# Page modules, each with a `router`. Optional ones (other features') are skipped when absent.
PAGE_MODULES = (
    "openpcf.web.pages_auth",
    "openpcf.web.pages_public",
    "openpcf.web.pages_enterprise",
    "openpcf.web.pages_verifier",
    "openpcf.web.pages_regulator",
    "openpcf.web.pages_policy",
    "openpcf.web.pages_editor",
    "openpcf.web.pages_versions",
    "openpcf.web.pages_review",
    "openpcf.web.pages_coverage",
    "openpcf.web.pages_databases",
)
OPTIONAL_MODULES = ("openpcf.web.pages_monitoring",)


def page_routers() -> list[APIRouter]:
    routers = [importlib.import_module(m).router for m in PAGE_MODULES]
    for name in OPTIONAL_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        routers.append(module.router)
    return routers


def install(app: FastAPI) -> None:
    """Add the pages, /static and the pages' error handlers to `app`."""
    app.mount(
        "/static", StaticFiles(directory=str(files("openpcf.web").joinpath("static"))), "static"
    )
    for router in page_routers():
        app.include_router(router)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/sign-in"})
        return RedirectResponse(f"/sign-in?next={quote(target)}", status_code=303)

    @app.exception_handler(WebForbidden)
    async def _forbidden(request: Request, _: WebForbidden) -> Response:
        return render(request, "error.html", {"code": 403}, status_code=403)

    @app.exception_handler(WebNotFound)
    async def _not_found(request: Request, _: WebNotFound) -> Response:
        return render(request, "error.html", {"code": 404}, status_code=404)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _: CsrfFailed) -> Response:
        return render(request, "error.html", {"code": 403, "csrf": True}, status_code=403)
