"""Model versions: download any version as YAML or Excel, restore an old one as a new
version, and the difference between two versions with the footprint change each line causes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from openpcf.domain.errors import OpenpcfError
from openpcf.domain.platform import product_urn
from openpcf.services.catalogue import products
from openpcf.web import editor_form as ef
from openpcf.web.auth import Csrf, Enterprise, EnterpriseWriter, WebNotFound
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
        from openpcf.io.excel_export import workbook_bytes

        return Response(
            workbook_bytes(doc.model.model_dump(by_alias=True, exclude_defaults=True)),
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
