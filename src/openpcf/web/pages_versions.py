"""Model versions: download any version as YAML or Excel, restore an old one as a new
version, and the difference between two versions with the footprint change each line causes."""

from __future__ import annotations

import yaml
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from openpcf.domain.errors import OpenpcfError
from openpcf.domain.platform import product_urn
from openpcf.io.excel_export import workbook_bytes
from openpcf.services.calculation.calculate import DEFAULT_PROFILE
from openpcf.services.calculation.methodology import list_profiles
from openpcf.services.calculation.stored_uncertainty import calculation_uncertainty
from openpcf.services.calculation.version_diff import diff_versions
from openpcf.services.catalogue import products
from openpcf.web import editor_form as ef
from openpcf.web.auth import Csrf, Enterprise, EnterpriseWriter, WebNotFound, WebUser
from openpcf.web.common import call, db, problems
from openpcf.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/app/products/{slug}/versions/{number}/model.{fmt}")
def download(request: Request, user: Enterprise, slug: str, number: int, fmt: str) -> Response:
    """The version as stored (YAML or JSON), or as an Excel BOM that reads back the same."""
    doc = call(
        request, products.get_version, user.principal, product_urn(user.tenant, slug), number
    )
    name = f"{slug}-v{number}"
    if fmt in ("yaml", "json"):
        suffix = "json" if doc.media_type == "application/json" else "yaml"
        return Response(
            doc.text,
            media_type=doc.media_type,
            headers={"Content-Disposition": f'attachment; filename="{name}.{suffix}"'},
        )
    if fmt == "xlsx":
        return Response(
            workbook_bytes(yaml.safe_load(doc.text)),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    raise WebNotFound()


@router.post("/app/products/{slug}/versions/{number}/restore", dependencies=[Csrf])
def restore(request: Request, user: EnterpriseWriter, slug: str, number: int) -> Response:
    """An old version stored again as the newest, with a note saying so."""
    urn = product_urn(user.tenant, slug)
    doc = call(request, products.get_version, user.principal, urn, number)
    note = f"Restored from version {number} ({user.email})"
    json_doc = doc.media_type == "application/json"  # JSON has no comments for a note
    text = doc.text if json_doc else ef.with_note(doc.text, note)
    try:
        with db(request) as session:
            saved, _ = products.add_model_version(
                session, user.principal, urn, text, doc.media_type
            )
    except OpenpcfError as e:
        return render(request, "enterprise/_calc_error.html", {"errors": problems(e)}, 422)
    return RedirectResponse(f"/app/products/{slug}?v={saved.number}&saved=1", status_code=303)


def version_notes(request: Request, user: WebUser, urn: str, numbers: list[int]) -> dict[int, str]:
    """The change note of each of the (at most 30 newest) versions."""
    out = {}
    for n in sorted(numbers, reverse=True)[:30]:
        out[n] = ef.change_note(call(request, products.get_version, user.principal, urn, n).text)
    return out


@router.get("/app/products/{slug}/diff")
def diff_page(
    request: Request,
    user: Enterprise,
    slug: str,
    a: int | None = None,
    b: int | None = None,
    profile: str = DEFAULT_PROFILE,
) -> Response:
    """Two versions side by side (default: the latest and the one before it)."""
    urn = product_urn(user.tenant, slug)
    info = call(request, products.get_product, user.principal, urn)
    latest = info.latest_version or 0
    b = b or latest
    a = a or max(b - 1, 1)
    if profile not in {p.id for p in list_profiles()}:
        profile = DEFAULT_PROFILE
    diff = call(request, diff_versions, user.principal, urn, a, b, profile)
    ctx = {
        "product": info,
        "diff": diff,
        "numbers": list(range(latest, 0, -1)),
        "profiles": list_profiles(),
        "section": "products",
    }
    return render(request, "enterprise/diff.html", ctx)


@router.get("/app/calculations/{calculation_id}/uncertainty")
def uncertainty(
    request: Request, user: Enterprise, calculation_id: str, n: int = 2000, seed: int | None = None
) -> Response:
    """The htmx partial of the result page: a Monte Carlo run of the calculation."""
    try:
        mc = call(request, calculation_uncertainty, user.principal, calculation_id, n, seed)
    except OpenpcfError as e:
        return render(request, "enterprise/_calc_error.html", {"errors": problems(e)})
    return render(request, "enterprise/_uncertainty.html", {"mc": mc})
