"""Enterprise pages: products, model versions (YAML/JSON, Excel BOM, a form for inputs),
calculations and their result pages with charts, profile comparison and downloads.

URLs name a product by its slug: the URN is built from the signed-in user's tenant, so a page
can only ever reach the tenant's own products (another tenant's slug is simply not found).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import yaml
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openpcf import config
from openpcf.domain.certification import Action, SubmissionCreate, TransitionRequest
from openpcf.domain.errors import OpenpcfError
from openpcf.domain.model import STAGES
from openpcf.domain.platform import (
    CalculationInfo,
    CalculationRequest,
    ProductCreate,
    ProductUpdate,
    Visibility,
    product_urn,
)
from openpcf.domain.result import Result
from openpcf.io.charts import all_charts
from openpcf.io.label import DEFAULT_SIZE, CertificateSummary, label_png, label_svg
from openpcf.io.model_edit import adopt_product_id, append_input
from openpcf.io.model_file import load_model
from openpcf.io.report_html import ReportContext, render_report_html
from openpcf.io.report_pdf import render_report_pdf
from openpcf.services.calculation import stored as calculations
from openpcf.services.calculation.methodology import get_profile, list_profiles
from openpcf.services.calculation.profile_comparison import compare_calculation
from openpcf.services.calculation.references import reference_problems
from openpcf.services.catalogue import factor_sets, products
from openpcf.services.certification import certified_results
from openpcf.services.certification import workflow as certification
from openpcf.web import certification_view, pages_versions, workflow
from openpcf.web.auth import Csrf, Enterprise, EnterpriseWriter, WebNotFound, WebUser
from openpcf.web.common import call, db, problems
from openpcf.web.drilldown import sub_assemblies
from openpcf.web.product_rows import product_rows
from openpcf.web.render import language, render

router = APIRouter(include_in_schema=False)

MAX_UPLOAD = 5 * 1024 * 1024
VISIBILITIES = {v.value for v in Visibility}


# --- products ---------------------------------------------------------------------------------


@router.get("/app/products")
def product_list(request: Request, user: Enterprise, q: str = "") -> Response:
    ctx = _products_context(request, user, q=q[:200])
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "product-rows":
        return render(request, "enterprise/_product_rows.html", ctx)
    return render(request, "enterprise/products.html", ctx)


def _products_context(request: Request, user: WebUser, **extra: Any) -> dict[str, Any]:
    mine = [
        p for p in call(request, products.list_products, user.principal) if p.tenant == user.tenant
    ]
    rows = product_rows(request, user, mine, str(extra.get("q") or ""))
    return {"products": mine, "rows": rows, "section": "products", **extra}


@router.post("/app/products", dependencies=[Csrf])
def product_create(
    request: Request,
    user: EnterpriseWriter,
    slug: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form()] = "private",
) -> Response:
    try:
        new = ProductCreate(
            slug=slug.strip(),
            name=name.strip(),
            visibility=Visibility(visibility) if visibility in VISIBILITIES else Visibility.private,
        )
        with db(request) as session:
            products.create_product(session, user.principal, new)
    except OpenpcfError as e:
        return _product_form_error(request, user, problems(e), slug, name)
    except ValueError as e:  # pydantic: slug pattern, empty name
        return _product_form_error(request, user, _validation_lines(e), slug, name)
    return RedirectResponse(f"/app/products/{new.slug}", status_code=303)


def _validation_lines(e: ValueError) -> list[str]:
    errors = getattr(e, "errors", None)
    if callable(errors):
        return [f"{'.'.join(str(p) for p in x['loc'])}: {x['msg']}" for x in errors()]
    return [str(e)]


def _product_form_error(
    request: Request, user: WebUser, lines: list[str], slug: str, name: str
) -> Response:
    ctx = _products_context(request, user, form_errors=lines, form={"slug": slug, "name": name})
    return render(request, "enterprise/products.html", ctx, status_code=422)


@router.get("/app/products/{slug}")
def product_page(request: Request, user: Enterprise, slug: str, v: int | None = None) -> Response:
    return render(request, "enterprise/product.html", _product_context(request, user, slug, v))


def _product_context(
    request: Request, user: WebUser, slug: str, number: int | None = None, **extra: Any
) -> dict[str, Any]:
    urn = product_urn(user.tenant, slug)
    info = call(request, products.get_product, user.principal, urn)
    if info.tenant != user.tenant:
        raise WebNotFound()
    versions = call(request, products.list_versions, user.principal, urn)
    shown = None
    if versions:
        wanted = number or versions[-1].number
        try:
            shown = call(request, products.get_version, user.principal, urn, wanted)
        except WebNotFound:
            shown = None
    calcs = call(request, calculations.list_calculations, user.principal, urn)
    numbers = [v.number for v in versions]
    unresolved = []
    if shown is not None:  # every reference problem of the version at once, not at calculation
        inputs = list(enumerate(shown.model.inputs))
        with db(request, read_only=True) as session:
            found = reference_problems(session, user.principal, inputs, shown.model.factors)
        unresolved = [e.message for e in found]
    return {
        "unresolved": unresolved,
        "notes": pages_versions.version_notes(request, user, urn, numbers),
        "product": info,
        "versions": sorted(versions, key=lambda v: -v.number),
        "shown": shown,
        "calculations": calcs,
        "profiles": list_profiles(),
        # published sets the tenant may name: its own and the national (regulators') ones
        "factor_sets": [
            f
            for f in call(request, factor_sets.list_factor_sets, user.principal)
            if f.published_at is not None
        ],
        "stages": STAGES,
        "section": "products",
        **extra,
    }


@router.post("/app/products/{slug}/settings", dependencies=[Csrf])
def product_settings(
    request: Request,
    user: EnterpriseWriter,
    slug: str,
    name: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form()] = "private",
    mass_per_declared_unit_kg: Annotated[str | None, Form()] = None,
    cpc: Annotated[str | None, Form()] = None,
) -> Response:
    urn = product_urn(user.tenant, slug)
    mass = mass_per_declared_unit_kg
    try:
        change = ProductUpdate(
            name=name.strip() or None,
            visibility=Visibility(visibility) if visibility in VISIBILITIES else None,
            # an empty field removes the mass (the CPC code); a form without it leaves it
            **({} if mass is None else {"mass_per_declared_unit_kg": mass.strip() or None}),
            **({} if cpc is None else {"cpc": cpc.strip()}),
        )
        call(request, products.update_product, user.principal, urn, change)
    except (OpenpcfError, ValueError) as e:
        lines = problems(e) if isinstance(e, OpenpcfError) else _validation_lines(e)
        return _product_error(request, user, slug, lines)
    return RedirectResponse(f"/app/products/{slug}", status_code=303)


def _product_error(request: Request, user: WebUser, slug: str, lines: list[str]) -> Response:
    ctx = _product_context(request, user, slug, model_errors=lines)
    return render(request, "enterprise/product.html", ctx, status_code=422)


def _store_version(
    request: Request,
    user: WebUser,
    slug: str,
    text: str,
    media_type: str,
    filename: str | None = None,
) -> Response:
    """Store a new model version. From an uploaded file, the product.id the file states is a
    suggestion: the version is stored as this product's (the page says which id it replaced);
    its problems name the uploaded file, not the name the server stores it under."""
    urn = product_urn(user.tenant, slug)
    replaced = None
    if filename is not None:
        text, replaced = adopt_product_id(text, urn, Path(filename))
    try:
        info, created = call(
            request, products.add_model_version, user.principal, urn, text, media_type
        )
    except OpenpcfError as e:
        lines = problems(e)
        if filename:
            stored = re.compile(re.escape(f"{user.tenant}/{slug}@") + r"\d+\.(?:yaml|json)")
            lines = [stored.sub(Path(filename).name, line) for line in lines]
        return _product_error(request, user, slug, lines)
    flag = "saved" if created else "unchanged"
    adopted = f"&adopted={quote(replaced, safe='')}" if replaced else ""
    return RedirectResponse(
        f"/app/products/{slug}?v={info.number}&{flag}=1{adopted}", status_code=303
    )


@router.post("/app/products/{slug}/versions/upload", dependencies=[Csrf])
async def upload_version(
    request: Request,
    user: EnterpriseWriter,
    slug: str,
    document: Annotated[UploadFile, File()],
) -> Response:
    """A model document: YAML or JSON stored as is, an Excel BOM stored as the YAML it reads as.

    Reading and storing run in a worker thread: a hostile upload must not stall the server."""
    data = await document.read(MAX_UPLOAD + 1)
    filename = document.filename or "model"
    return await run_in_threadpool(_upload, request, user, slug, data, filename)


def _upload(request: Request, user: WebUser, slug: str, data: bytes, filename: str) -> Response:
    name = filename.lower()
    if len(data) > MAX_UPLOAD:
        return _product_error(request, user, slug, [f"{name}: larger than {MAX_UPLOAD} bytes"])
    if name.endswith(".xlsx"):
        try:
            text = _workbook_as_yaml(data, filename if name != "model" else "model.xlsx")
        except OpenpcfError as e:
            return _product_error(request, user, slug, _as_uploaded(problems(e), filename))
        return _store_version(request, user, slug, text, "application/yaml")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _product_error(
            request,
            user,
            slug,
            [f"{name}: expected UTF-8 text (YAML or JSON) or an .xlsx workbook"],
        )
    media = "application/json" if name.endswith(".json") else "application/yaml"
    return _store_version(request, user, slug, text, media, filename=name)


def _as_uploaded(lines: list[str], filename: str) -> list[str]:
    """Problems naming the uploaded file as the person knows it, not the server's copy."""
    name = Path(filename or "model.xlsx").name
    temp = re.compile(r"(?:/[^\s:,']*)?/" + re.escape(name))
    return [temp.sub(name, line) for line in lines]


def _workbook_as_yaml(data: bytes, filename: str) -> str:
    """The Excel BOM read and validated (errors name sheet and cell), as a YAML document."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(filename).name
        if path.suffix.lower() != ".xlsx":
            path = path.with_suffix(".xlsx")
        path.write_bytes(data)
        loaded = load_model(path)
    header = f"# Read from the Excel BOM {Path(filename).name}\n"
    return header + yaml.safe_dump(loaded.doc.data, sort_keys=False, allow_unicode=True, width=100)


@router.post("/app/products/{slug}/versions/text", dependencies=[Csrf])
def save_text(
    request: Request,
    user: EnterpriseWriter,
    slug: str,
    text: Annotated[str, Form()] = "",
    media_type: Annotated[str, Form()] = "application/yaml",
) -> Response:
    return _store_version(request, user, slug, text.replace("\r\n", "\n"), media_type)


@router.post("/app/products/{slug}/versions/input", dependencies=[Csrf])
def add_input(
    request: Request,
    user: EnterpriseWriter,
    slug: str,
    name: Annotated[str, Form()] = "",
    stage: Annotated[str, Form()] = "raw-materials",
    amount: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "factor",
    reference: Annotated[str, Form()] = "",
    primary: Annotated[str | None, Form()] = None,
) -> Response:
    """One input line added to the latest version through the form: a new model version."""
    urn = product_urn(user.tenant, slug)
    versions = call(request, products.list_versions, user.principal, urn)
    if not versions:
        return _product_error(
            request, user, slug, ["upload a model first; the form adds inputs to it"]
        )
    latest = call(request, products.get_version, user.principal, urn, versions[-1].number)
    try:
        value = float(amount)
    except ValueError:
        return _product_error(request, user, slug, [f"amount: expected a number, got '{amount}'"])
    if source not in ("factor", "product", "process"):
        return _product_error(request, user, slug, ["source: expected factor, product or process"])
    entry: dict[str, Any] = {
        "name": name.strip(),
        "stage": stage,
        "amount": value,
        "unit": unit.strip(),
        source: reference.strip(),
    }
    if primary:
        entry["primary"] = True
    suffix = ".json" if latest.media_type == "application/json" else ".yaml"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{slug}{suffix}"
        path.write_text(latest.text, encoding="utf-8")
        try:
            append_input(path, entry, comments=[f"added in the web form by {user.email}"])
        except OpenpcfError as e:
            return _product_error(request, user, slug, problems(e))
        text = path.read_text(encoding="utf-8")
    return _store_version(request, user, slug, text, latest.media_type)


# --- calculations -----------------------------------------------------------------------------


@router.post("/app/products/{slug}/calculate", dependencies=[Csrf])
def calculate(
    request: Request,
    user: EnterpriseWriter,
    slug: str,
    profile: Annotated[str, Form()] = "gb-t-24067",
    version: Annotated[str, Form()] = "",
    allow_violations: Annotated[str | None, Form()] = None,
    factor_set: Annotated[str, Form()] = "",
) -> Response:
    urn = product_urn(user.tenant, slug)
    try:
        req = CalculationRequest(
            profile=profile,
            version=int(version) if version.strip() else None,
            factor_sets=[factor_set] if factor_set.strip() else [],
            allow_violations=bool(allow_violations),
        )
        info = call(request, calculations.run_calculation, user.principal, urn, req)
    except (OpenpcfError, ValueError) as e:
        lines = problems(e) if isinstance(e, OpenpcfError) else _validation_lines(e)
        if request.headers.get("hx-request"):
            return render(
                request, "enterprise/_calc_error.html", {"errors": lines}, status_code=200
            )
        return _product_error(request, user, slug, lines)
    target = f"/app/calculations/{info.id}"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def own_calculation(request: Request, user: WebUser, calculation_id: str) -> CalculationInfo:
    """The tenant's calculation with its full result; another tenant's is not found."""
    info = call(request, calculations.get_calculation, user.principal, calculation_id)
    if info.result is None:
        raise WebNotFound()
    return info


@router.get("/app/calculations/{calculation_id}")
def result_page(request: Request, user: Enterprise, calculation_id: str) -> Response:
    info = own_calculation(request, user, calculation_id)
    result = info.result
    assert result is not None
    lang = language(request)
    inputs = sorted(result.contributions, key=lambda c: -abs(c.kg_co2e))
    slug = info.product.rsplit(":", 1)[-1]
    ctx = {
        "calc": info,
        "result": result,
        "slug": slug,
        "charts": all_charts(result, lang),
        "inputs": inputs,
        "total": result.pcf.value,
        "profiles": [p for p in list_profiles() if p.id != info.profile],
        "downloads": certification_view.downloads(info.id),
        "certification": certification_view.for_calculation(request, user, info),
        "subs": sub_assemblies(request, user, info),
        "section": "products",
    }
    return render(request, "enterprise/result.html", ctx)


@router.get("/app/calculations/{calculation_id}/profiles")
def profile_comparison(
    request: Request,
    user: Enterprise,
    calculation_id: str,
    profile: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """The htmx partial of the result page: the model under other profiles, reconciled."""
    chosen = profile or []
    try:
        comparison = call(request, compare_calculation, user.principal, calculation_id, chosen)
    except OpenpcfError as e:
        return render(request, "enterprise/_calc_error.html", {"errors": problems(e)})
    return render(request, "enterprise/_profiles.html", {"comparison": comparison})


@router.get("/app/calculations/{calculation_id}/result.json")
def result_json(request: Request, user: Enterprise, calculation_id: str) -> Response:
    info = own_calculation(request, user, calculation_id)
    return Response(
        info.model_dump_json(indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="openpcf-{calculation_id}.json"'},
    )


# --- certification ----------------------------------------------------------------------------


@router.post("/app/calculations/{calculation_id}/submit", dependencies=[Csrf])
def submit(
    request: Request,
    user: EnterpriseWriter,
    calculation_id: str,
    verifier: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    """A draft submission of the calculation to the body, submitted at once."""
    info = own_calculation(request, user, calculation_id)
    new = SubmissionCreate(
        product=info.product,
        calculation_id=info.id,
        verifier=verifier,
        comment=comment.strip() or None,
    )
    try:
        sub = call(request, certification.create_submission, user.principal, new)
        req = TransitionRequest(action=Action.submit, comment=comment.strip() or None)
        call(request, certification.transition, user.principal, sub.id, req)
    except OpenpcfError as e:
        return render(
            request,
            "enterprise/_calc_error.html",
            {"errors": problems(e)},
            status_code=422,
        )
    return RedirectResponse(f"/app/submissions/{sub.id}", status_code=303)


@router.get("/app/submissions")
def submissions(request: Request, user: Enterprise) -> Response:
    subs = certification_view.submissions_of(request, user)
    return render(request, "enterprise/submissions.html", {"submissions": subs})


def _submission_page(
    request: Request, user: WebUser, submission_id: str, error: str | None = None
) -> Response:
    sub = workflow.submission_of(request, user, submission_id)
    ctx = {
        "submission": sub,
        "action_url": f"/app/submissions/{submission_id}/action",
        "action_error": error,
    }
    return render(request, "enterprise/submission.html", ctx, status_code=409 if error else 200)


@router.get("/app/submissions/{submission_id}")
def submission_page(request: Request, user: Enterprise, submission_id: str) -> Response:
    return _submission_page(request, user, submission_id)


@router.post("/app/submissions/{submission_id}/action", dependencies=[Csrf])
def submission_action(
    request: Request,
    user: EnterpriseWriter,
    submission_id: str,
    action: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    here = f"/app/submissions/{submission_id}"
    return workflow.act(request, user, submission_id, action, comment, here, _submission_page)


# --- downloads: report and label --------------------------------------------------------------


def _certificate(request: Request, user: WebUser, calculation_id: str) -> CertificateSummary | None:
    with db(request) as session:
        return certified_results.certificate_of_calculation(session, user.principal, calculation_id)


@router.get("/app/calculations/{calculation_id}/report.{fmt}")
def report(request: Request, user: Enterprise, calculation_id: str, fmt: str) -> Response:
    """The footprint study report (io/report_html, io/report_pdf) in the page's language."""
    if fmt not in ("html", "pdf"):
        raise WebNotFound()
    info = own_calculation(request, user, calculation_id)
    assert info.result is not None
    ctx = ReportContext(
        certificate=_certificate(request, user, calculation_id),
        profile=get_profile(info.result.profile),
        public_url=public_base_url(request),
    )
    lang = language(request)
    name = f"openpcf-report-{calculation_id[:8]}.{fmt}"
    if fmt == "html":
        return HTMLResponse(render_report_html(info.result, lang, ctx))
    return Response(
        render_report_pdf(info.result, lang, ctx),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/app/calculations/{calculation_id}/label.{fmt}")
def label(request: Request, user: Enterprise, calculation_id: str, fmt: str) -> Response:
    """The carbon label: certified (with its QR code) once the calculation has a certificate,
    else a draft marked NOT CERTIFIED."""
    if fmt not in ("svg", "png"):
        raise WebNotFound()
    info = own_calculation(request, user, calculation_id)
    assert info.result is not None
    cert = _certificate(request, user, calculation_id)
    return label_response(info.result, cert, public_base_url(request), fmt)


def public_base_url(request: Request) -> str:
    """OPENPCF_PUBLIC_URL (for QR codes and links); never the Host header, which the client
    chooses (`openpcf serve --demo` sets it to the address it listens on)."""
    return config.public_url()


def label_response(
    result: Result, cert: CertificateSummary | None, base_url: str, fmt: str
) -> Response:
    svg = label_svg(result, certificate=cert, public_url=base_url)
    if fmt == "svg":
        return Response(svg, media_type="image/svg+xml")
    return Response(label_png(svg, DEFAULT_SIZE, dpi=150), media_type="image/png")
