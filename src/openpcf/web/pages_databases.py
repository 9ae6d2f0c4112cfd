"""The installed background databases for any signed-in user: a list, and one database with
what its import found (counts, linking choices, cut-offs, unmapped GHG flows, notes), so the
background data a footprint drew on can be checked. Read-only; importing is the operator's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from openpcf.services.errors import NotFound
from openpcf.services.lci.installed import MAX_LIMIT, installed, list_installed
from openpcf.web.auth import SignedIn, WebNotFound
from openpcf.web.render import render

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/app/databases")
def databases_page(request: Request, user: SignedIn) -> Response:
    rows = list_installed(user.principal)
    return render(request, "lci/databases.html", {"rows": rows, "section": "databases"})


@router.get("/app/databases/{name}")
def database_page(
    request: Request,
    user: SignedIn,
    name: str,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    try:
        db = installed(user.principal, name[:200], offset, PAGE)
    except NotFound:
        raise WebNotFound() from None
    ctx = {"db": db, "offset": offset, "page": min(PAGE, MAX_LIMIT), "section": "databases"}
    return render(request, "lci/database.html", ctx)
