"""Public pages (no sign-in): the registry search, the product page a label's QR code points
at (`/p/{certificate_id}`), its label and signed certificate, and the comparison of up to four
products with the same declared unit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from openpcf.domain.certification import State
from openpcf.io.charts import STAGE_COLOURS, STAGE_ORDER
from openpcf.services.certification import certified_results, registry
from openpcf.services.errors import NotFound
from openpcf.services.policy.regions import certifying_policy
from openpcf.web import i18n
from openpcf.web.auth import MaybeUser, WebNotFound
from openpcf.web.common import db
from openpcf.web.pages_enterprise import label_response, public_base_url
from openpcf.web.render import language, render

router = APIRouter(include_in_schema=False)

MAX_COMPARE = 4


@router.get("/registry")
def registry_page(
    request: Request,
    user: MaybeUser,
    q: str = "",
    unit: str = "",
    province: str = "",
    status: str = "",
) -> Response:
    """The search page; htmx asks it again as the user types and swaps only the results."""
    wanted = State(status) if status in ("published", "revoked", "expired") else None
    with db(request, read_only=True) as session:
        entries = registry.search(
            session,
            q=q or None,
            unit=unit or None,
            province=province or None,
            status=wanted,
            limit=100,
        )
        every = registry.search(session, limit=1000)
    ctx = {
        "entries": entries,
        "q": q,
        "unit": unit,
        "province": province,
        "status": status,
        "units": sorted({e.declared_unit for e in every}),
        "provinces": sorted({e.province for e in every if e.province}),
    }
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "results":
        return render(request, "public/_registry_results.html", ctx)
    return render(request, "public/registry.html", ctx)


@router.get("/p/{certificate_id}")
def product_page(request: Request, user: MaybeUser, certificate_id: str) -> Response:
    with db(request, read_only=True) as session:
        try:
            entry = registry.entry(session, certificate_id)
        except NotFound as e:
            raise WebNotFound() from e
        similar = [
            e
            for e in registry.search(session, unit=entry.declared_unit, limit=50)
            if e.certificate_id != certificate_id
        ]
        policy = certifying_policy(session, entry.province, entry.issued_at.date().isoformat())
    stages = [(s, entry.stages[s]) for s in STAGE_ORDER if s in entry.stages]
    stages += [(s, v) for s, v in entry.stages.items() if s not in STAGE_ORDER]
    ctx = {
        "entry": entry,
        "stages": stages,
        "stage_colours": STAGE_COLOURS,
        "similar": similar[:6],
        "policy": policy,
    }
    return render(request, "public/product.html", ctx)


@router.get("/p/{certificate_id}/label.{fmt}")
def public_label(request: Request, certificate_id: str, fmt: str) -> Response:
    if fmt not in ("svg", "png"):
        raise WebNotFound()
    with db(request) as session:
        try:
            result, cert = certified_results.published_result(session, certificate_id)
        except NotFound as e:
            raise WebNotFound() from e
    return label_response(result, cert, public_base_url(request), fmt)


@router.get("/p/{certificate_id}/certificate.json")
def certificate_file(request: Request, certificate_id: str) -> Response:
    """The signed certificate, byte for byte as signed (check it offline with the key)."""
    with db(request, read_only=True) as session:
        try:
            data = registry.document_bytes(session, certificate_id)
        except NotFound as e:
            raise WebNotFound() from e
    return Response(
        data,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{certificate_id}.json"'},
    )


@router.get("/compare")
def compare_page(
    request: Request,
    user: MaybeUser,
    c: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Up to four published footprints side by side; all must share one declared unit."""
    lang = language(request)
    ids = list(dict.fromkeys(c or []))
    error = None
    if len(ids) > MAX_COMPARE:
        error = i18n.translate(lang, "Compare at most {n} products at once.", n=MAX_COMPARE)
        ids = ids[:MAX_COMPARE]
    entries = []
    with db(request, read_only=True) as session:
        for cid in ids:
            try:
                entries.append(registry.entry(session, cid))
            except NotFound as e:
                raise WebNotFound() from e
        units = sorted({e.declared_unit for e in entries})
        candidates = []
        if len(units) == 1:
            candidates = [
                e
                for e in registry.search(session, unit=units[0], limit=100)
                if e.certificate_id not in ids
            ]
    status = 200
    if len(units) > 1:
        error = i18n.translate(
            lang,
            "These products are declared per different units ({units}); footprints compare "
            "only per the same declared unit. Remove products until one unit remains.",
            units=", ".join(units),
        )
        status = 422
    stages = [s for s in STAGE_ORDER if any(s in e.stages for e in entries)]
    top = max((e.pcf for e in entries), default=0.0)
    ctx = {
        "entries": entries,
        "ids": ids,
        "error": error,
        "unit": units[0] if len(units) == 1 else None,
        "candidates": candidates[:20] if len(ids) < MAX_COMPARE else [],
        "stages": stages,
        "stage_colours": STAGE_COLOURS,
        "top": top,
        "max_compare": MAX_COMPARE,
    }
    return render(request, "public/compare.html", ctx, status_code=status)
