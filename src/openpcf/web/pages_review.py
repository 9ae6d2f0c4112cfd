"""The verifier's downloads of a submission's evidence: the footprint study report (HTML,
PDF) in the page's language, as the enterprise gets it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from openpcf.io.report_html import ReportContext, render_report_html
from openpcf.io.report_pdf import render_report_pdf
from openpcf.services.calculation.methodology import get_profile
from openpcf.web.auth import Verifier, WebNotFound
from openpcf.web.pages_enterprise import public_base_url
from openpcf.web.pages_verifier import evidence_of
from openpcf.web.render import language

router = APIRouter(include_in_schema=False)


@router.get("/verify/submissions/{submission_id}/report.{fmt}")
def evidence_report(request: Request, user: Verifier, submission_id: str, fmt: str) -> Response:
    if fmt not in ("html", "pdf"):
        raise WebNotFound()
    evidence = evidence_of(request, user, submission_id)
    result = evidence.calculation.result
    assert result is not None
    ctx = ReportContext(profile=get_profile(result.profile), public_url=public_base_url(request))
    lang = language(request)
    if fmt == "html":
        return HTMLResponse(render_report_html(result, lang, ctx))
    name = f"openpcf-report-{evidence.calculation.id[:8]}.pdf"
    return Response(
        render_report_pdf(result, lang, ctx),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
