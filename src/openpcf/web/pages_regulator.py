"""Regulator pages: factor-set versions (the bundled national set and the regulator's own, with
their publish state) and the coverage of certification by province and by product rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from openpcf.domain.errors import OpenpcfError
from openpcf.factors.bundled import bundled_set
from openpcf.services.catalogue import coverage, factor_sets
from openpcf.services.policy.regions import policies_without_certificates
from openpcf.web.auth import Csrf, Regulator
from openpcf.web.common import call, problems
from openpcf.web.render import render

router = APIRouter(include_in_schema=False)


def _factor_sets_page(
    request: Request, user: Regulator, errors: list[str] | None = None
) -> Response:
    bundled = bundled_set()
    own = call(request, factor_sets.list_factor_sets, user.principal)
    ctx = {
        "bundled": bundled,
        "bundled_count": len(bundled.factors),
        "sets": sorted(own, key=lambda s: (s.name, s.created_at or 0), reverse=False),
        "errors": errors,
    }
    return render(request, "regulator/factor_sets.html", ctx, status_code=422 if errors else 200)


@router.get("/regulate/factor-sets")
def factor_sets_page(request: Request, user: Regulator) -> Response:
    return _factor_sets_page(request, user)


@router.post("/regulate/factor-sets/publish", dependencies=[Csrf])
def publish(
    request: Request,
    user: Regulator,
    name: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    try:
        call(request, factor_sets.publish_factor_set, user.principal, name, version)
    except OpenpcfError as e:
        return _factor_sets_page(request, user, problems(e))
    return RedirectResponse("/regulate/factor-sets", status_code=303)


@router.get("/regulate/coverage")
def coverage_page(request: Request, user: Regulator) -> Response:
    report = call(request, coverage.coverage, user.principal)
    top = max((r.products for r in report.by_province), default=0)
    waiting = call(request, policies_without_certificates)
    ctx = {"report": report, "top": top, "policies_without_certificates": waiting}
    return render(request, "regulator/coverage.html", ctx)
