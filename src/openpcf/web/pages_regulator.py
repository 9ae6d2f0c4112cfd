"""Regulator pages: factor-set versions (the bundled national set and the regulator's own, with
their publish state), the coverage of certification by province and by product rule, and the
national list of products with the status of each one's rule, and green certificates claimed
by province and generation type."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from openpcf.domain.errors import OpenpcfError
from openpcf.factors.bundled import bundled_set
from openpcf.services.catalogue import (
    coverage,
    coverage_detail,
    factor_sets,
    national_products,
    rule_versions,
)
from openpcf.services.catalogue.factor_set_diff import diff_versions, preview_footprints
from openpcf.services.certification import gec_issuance
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


@router.get("/regulate/factor-sets/{name}/{version}/review")
def review_factor_set(request: Request, user: Regulator, name: str, version: str) -> Response:
    """Before publishing: what the version changes against the latest published one of the same
    name, and which stored footprints it would change (the recomputation's dry run)."""
    own = call(request, factor_sets.list_factor_sets, user.principal)
    earlier = sorted(
        (s for s in own if s.name == name and s.published_at and s.version != version),
        key=lambda s: s.published_at,  # type: ignore[arg-type, return-value]
    )
    diff = None
    if earlier:
        diff = call(request, diff_versions, user.principal, name, earlier[-1].version, version)
    try:
        preview = preview_footprints(request.app.state.sessions.open(), user.principal, name,
                                     version)  # fmt: skip
        problem = None
    except OpenpcfError as e:
        preview, problem = None, str(e)
    ctx = {"name": name, "version": version, "diff": diff, "preview": preview, "problem": problem}
    return render(request, "regulator/factor_set_review.html", ctx)


@router.get("/regulate/coverage")
def coverage_page(request: Request, user: Regulator) -> Response:
    report = call(request, coverage.coverage, user.principal)
    top = max((r.products for r in report.by_province), default=0)
    waiting = call(request, policies_without_certificates)
    trend = call(request, coverage_detail.monthly_certificates, user.principal)
    ctx = {
        "report": report,
        "top": top,
        "policies_without_certificates": waiting,
        "trend": trend,
    }
    return render(request, "regulator/coverage.html", ctx)


def _products_page(request: Request, errors: list[str] | None = None) -> Response:
    catalogue = call(request, national_products.product_catalogue)
    versions = call(request, rule_versions.all_versions)
    ctx = {"catalogue": catalogue, "versions": versions, "errors": errors}
    return render(request, "regulator/products.html", ctx, status_code=422 if errors else 200)


@router.get("/regulate/products")
def products_page(request: Request, user: Regulator) -> Response:
    """The national list of products and the status of each one's rule; rule versions."""
    return _products_page(request)


@router.post("/regulate/rules/upload", dependencies=[Csrf])
def upload_rule(
    request: Request,
    user: Regulator,
    rule_id: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    valid_from: Annotated[str, Form()] = "",
    document: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "product",
) -> Response:
    """A draft rule or profile version from the form (the same YAML and schema as the API)."""
    try:
        day = date.fromisoformat(valid_from.strip())
    except ValueError:
        return _products_page(request, [f"valid from '{valid_from}' is not a date YYYY-MM-DD"])
    try:
        call(request, rule_versions.upload, user.principal, rule_id.strip(), version.strip(),
             day, document, _kind(kind))  # fmt: skip
    except OpenpcfError as e:
        return _products_page(request, problems(e))
    return RedirectResponse("/regulate/products", status_code=303)


@router.post("/regulate/rules/publish", dependencies=[Csrf])
def publish_rule(
    request: Request,
    user: Regulator,
    rule_id: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "product",
) -> Response:
    try:
        call(request, rule_versions.publish, user.principal, rule_id, version, _kind(kind))
    except OpenpcfError as e:
        return _products_page(request, problems(e))
    return RedirectResponse("/regulate/products", status_code=303)


@router.get("/regulate/green-certificates")
def green_certificates_page(request: Request, user: Regulator) -> Response:
    """Green certificates claimed across the platform, by province and generation type."""
    summary = call(request, gec_issuance.claim_summary, user.principal)
    return render(request, "regulator/green_certificates.html", {"summary": summary})


def _kind(kind: str) -> rule_versions.Kind:
    return "profile" if kind == "profile" else "product"
