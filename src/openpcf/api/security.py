"""Response headers every answer carries, and the Host check (OPENPCF_ALLOWED_HOSTS).

A plain ASGI middleware (not Starlette's BaseHTTPMiddleware) so streamed answers (server-sent
events of the monitoring pages) pass through untouched and no extra task runs per request.

- Content-Security-Policy: scripts and styles from this server only (no inline script; the
  pages' JavaScript lives in /static), `frame-ancestors 'none'` (no framing: clickjacking).
  The interactive API documentation (/docs, /redoc) loads FastAPI's Swagger UI / ReDoc from
  their CDN with an inline bootstrap script, so those two pages get a wider policy.
- X-Content-Type-Options: nosniff; Referrer-Policy: same-origin; X-Frame-Options: DENY (for
  browsers without CSP level 2).
- Strict-Transport-Security when the request came over TLS.
- Cache-Control: no-store unless the route set its own (static files may be cached): pages
  and API answers may hold a tenant's private data or tokens.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse

from openpcf import config

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=31536000; includeSubDomains"


def host_allowed(host: str, allowed: list[str]) -> bool:
    """Whether a Host header value ('name' or 'name:port') matches one of `allowed`
    ('name' for any port, 'name:port', '*.domain', '*')."""
    host = host.strip().lower()
    if not host:
        return False
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    for entry in allowed:
        if entry == "*" or entry in (host, name):
            return True
        if entry.startswith("*.") and (name.endswith(entry[1:]) or name == entry[2:]):
            return True
    return False


class SecurityHeaders:
    """Adds the headers above to every HTTP answer; refuses requests for other hosts."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        allowed = config.allowed_hosts()
        if allowed:
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            if not host_allowed(host, allowed):
                answer = PlainTextResponse(
                    "400 Bad Request: this server does not answer for that Host "
                    "(OPENPCF_ALLOWED_HOSTS)",
                    status_code=400,
                )
                await answer(scope, receive, send)
                return
        path: str = scope.get("path", "")
        tls = scope.get("scheme") == "https"

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                docs = path in DOCS_PATHS
                headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if tls:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if not path.startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
