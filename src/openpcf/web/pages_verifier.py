"""Verifier pages: the queue of a verification body, a submission's evidence (result, model
documents, factor sets, profile, data quality, check findings), and the workflow actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from openpcf.domain.certification import State
from openpcf.io.charts import all_charts
from openpcf.services.calculation.methodology import get_profile
from openpcf.services.certification import workflow as certification
from openpcf.services.errors import NotFound, PermissionDenied
from openpcf.web import workflow
from openpcf.web.auth import Csrf, Verifier, WebForbidden, WebNotFound, WebUser
from openpcf.web.common import db
from openpcf.web.render import language, render

router = APIRouter(include_in_schema=False)

TABS = {
    "open": (State.submitted, State.under_review),
    "certified": (State.certified, State.published),
    "closed": (State.draft, State.revoked, State.expired),
}


@router.get("/verify/queue")
def queue(request: Request, user: Verifier, tab: str = "open") -> Response:
    tab = tab if tab in TABS else "open"
    with db(request, read_only=True) as session:
        subs = certification.list_submissions(session, user.principal)
    counts = {name: sum(s.status in states for s in subs) for name, states in TABS.items()}
    shown = [s for s in subs if s.status in TABS[tab]]
    ctx = {"submissions": shown, "tab": tab, "counts": counts}
    return render(request, "verifier/queue.html", ctx)


def _evidence_page(
    request: Request, user: WebUser, submission_id: str, error: str | None = None
) -> Response:
    with db(request, read_only=True) as session:
        try:
            evidence = certification.get_evidence(session, user.principal, submission_id)
        except NotFound as e:
            raise WebNotFound() from e
        except PermissionDenied as e:
            raise WebForbidden() from e
    result = evidence.calculation.result
    assert result is not None
    ctx = {
        "evidence": evidence,
        "submission": evidence.submission,
        "calc": evidence.calculation,
        "result": result,
        "profile": get_profile(result.profile),
        "charts": all_charts(result, language(request)),
        "inputs": sorted(result.contributions, key=lambda c: -abs(c.kg_co2e)),
        "total": result.pcf.value,
        "action_url": f"/verify/submissions/{submission_id}/action",
        "action_error": error,
    }
    return render(request, "verifier/evidence.html", ctx, status_code=409 if error else 200)


@router.get("/verify/submissions/{submission_id}")
def evidence_page(request: Request, user: Verifier, submission_id: str) -> Response:
    return _evidence_page(request, user, submission_id)


@router.post("/verify/submissions/{submission_id}/action", dependencies=[Csrf])
def action(
    request: Request,
    user: Verifier,
    submission_id: str,
    action: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    here = f"/verify/submissions/{submission_id}"
    return workflow.act(request, user, submission_id, action, comment, here, _evidence_page)
