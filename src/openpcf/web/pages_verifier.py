"""Verifier pages: the queue of a verification body, a submission's evidence (result, model
documents, factor sets, profile, data quality, check findings), and the workflow actions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from openpcf.domain.certification import Evidence, State
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


def evidence_of(request: Request, user: WebUser, submission_id: str) -> Evidence:
    """The submission's evidence for the verifier: the 404 and 403 pages otherwise."""
    with db(request, read_only=True) as session:
        try:
            return certification.get_evidence(session, user.principal, submission_id)
        except NotFound as e:
            raise WebNotFound() from e
        except PermissionDenied as e:
            raise WebForbidden() from e


def _evidence_page(
    request: Request, user: WebUser, submission_id: str, error: str | None = None
) -> Response:
    evidence = evidence_of(request, user, submission_id)
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
        "input_notes": list(dict.fromkeys(c.name for c in result.contributions)),
        "action_error": error,
        "findings": evidence.findings,
    }
    return render(request, "verifier/evidence.html", ctx, status_code=409 if error else 200)


@router.get("/verify/submissions/{submission_id}")
def evidence_page(request: Request, user: Verifier, submission_id: str) -> Response:
    return _evidence_page(request, user, submission_id)


@router.post("/verify/submissions/{submission_id}/action", dependencies=[Csrf])
async def action(request: Request, user: Verifier, submission_id: str) -> Response:
    """The decision, with the comments on single inputs added to its comment (one line each,
    'input: comment'), so that they stay in the submission's history; certify carries one
    comment per open finding (ack_finding[i] is acknowledged by ack_comment[i])."""
    form = await request.form(max_fields=2000)
    comment = str(form.get("comment") or "").strip()
    notes = [
        f"{key[len('note::') :]}: {' '.join(str(value).split())}"
        for key, value in form.multi_items()
        if key.startswith("note::") and str(value).strip()
    ]
    if notes:
        comment = "\n".join([*([comment] if comment else []), *notes])
    acks = list(zip(map(str, form.getlist("ack_finding")), map(str, form.getlist("ack_comment")),
                    strict=False))  # fmt: skip
    here = f"/verify/submissions/{submission_id}"
    act = str(form.get("action") or "")
    return await run_in_threadpool(
        workflow.act, request, user, submission_id, act, comment, here, _evidence_page, acks
    )
