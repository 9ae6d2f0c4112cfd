"""The API's documentation pages, /docs (Swagger UI) and /redoc (ReDoc), served entirely from
the package: FastAPI's defaults load their scripts from a CDN, which is often unreachable in
China and never reachable offline. The scripts (web/static/apidocs, with their licences) come
from the npm packages swagger-ui-dist and redoc; the start-up code is a static file too, so the
pages run under a Content-Security-Policy without inline scripts."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

ASSETS = "/static/apidocs"
_HEAD = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
"""


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return HTMLResponse(
        _HEAD.format(title="openpcf API · Swagger UI")
        + f"""  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi="/openapi.json"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="{ASSETS}/swagger-init.js"></script>
</body>
</html>
"""
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return HTMLResponse(
        _HEAD.format(title="openpcf API · ReDoc")
        + f"""</head>
<body>
  <redoc spec-url="/openapi.json"></redoc>
  <script src="{ASSETS}/redoc.standalone.js"></script>
</body>
</html>
"""
    )
