"""Monitoring pages: the tenant's sites and a live dashboard per site.

The dashboard receives the live snapshot as server-sent events from `/monitoring/{site}/events`
(the same generator as the API's `/monitoring/sites/{site}/stream`, authorised by the web
session cookie instead of a bearer token, since a browser's EventSource sends no headers).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, StreamingResponse

from openpcf.services.monitoring import live, registry
from openpcf.web.auth import SignedIn
from openpcf.web.common import call
from openpcf.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/monitoring", response_class=HTMLResponse)
def sites_page(request: Request, user: SignedIn) -> HTMLResponse:
    sites = call(request, registry.list_sites, user.principal)
    return render(request, "monitoring/index.html", {"sites": sites})


@router.get("/monitoring/{site}", response_class=HTMLResponse)
def site_page(site: str, request: Request, user: SignedIn) -> HTMLResponse:
    snap = call(request, live.live, user.principal, site)
    meters = call(request, registry.list_meters, user.principal, site)
    return render(request, "monitoring/site.html", {"snap": snap, "meters": meters,
                                                     "every": live.sse_interval()})  # fmt: skip


@router.get("/monitoring/{site}/events")
def site_events(site: str, request: Request, user: SignedIn) -> StreamingResponse:
    call(request, registry.site_of, user.principal, site)  # 404 before the stream starts
    events = live.live_events(lambda: request.app.state.sessions(read_only=True), user.principal,
                              site, live.sse_interval(), request.is_disconnected)  # fmt: skip
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})  # fmt: skip
