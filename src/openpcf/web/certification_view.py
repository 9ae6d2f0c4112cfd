"""What the pages show of certification: submissions of a calculation, the verification bodies
to submit to, state badges, and the downloads of a result (report, label)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from openpcf.domain.certification import State, SubmissionInfo
from openpcf.domain.platform import CalculationInfo
from openpcf.services.certification import workflow as certification
from openpcf.web.auth import WebUser
from openpcf.web.common import db


def downloads(calculation_id: str) -> list[tuple[str, str, str]]:
    """(href, label, format) of a result's downloads."""
    base = f"/app/calculations/{calculation_id}"
    return [
        (f"{base}/result.json", "Result", "JSON"),
        (f"{base}/report.html", "Report", "HTML"),
        (f"{base}/report.pdf", "Report", "PDF"),
        (f"{base}/label.svg", "Label", "SVG"),
        (f"{base}/label.png", "Label", "PNG"),
    ]


def submissions_of(request: Request, user: WebUser) -> list[SubmissionInfo]:
    with db(request, read_only=True) as session:
        return certification.list_submissions(session, user.principal)


def for_calculation(request: Request, user: WebUser, info: CalculationInfo) -> dict[str, Any]:
    """Submissions of this calculation and the verification bodies it can go to."""
    with db(request, read_only=True) as session:
        bodies = certification.verification_bodies(session)
        subs = [
            s
            for s in certification.list_submissions(session, user.principal)
            if s.calculation_id == info.id
        ]
    live = {State.submitted, State.under_review, State.certified, State.published}
    return {
        "available": True,
        "submissions": subs,
        "verifiers": [(b.slug, b.name) for b in bodies],
        "can_submit": user.can_write and bool(bodies) and not any(s.status in live for s in subs),
    }
