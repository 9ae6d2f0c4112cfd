"""The certification actions of the pages (submit, review, certify, return, publish, revoke):
one handler for the enterprise's and the verifier's pages, answering htmx with the actions
partial and plain forms with a redirect."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from openpcf.domain.certification import Action, SubmissionInfo, TransitionRequest
from openpcf.domain.errors import OpenpcfError
from openpcf.services.certification import workflow as certification
from openpcf.services.errors import NotFound, PermissionDenied
from openpcf.web import i18n
from openpcf.web.auth import WebForbidden, WebNotFound, WebUser
from openpcf.web.common import db
from openpcf.web.render import ACTION_LABELS, language, render


def submission_of(request: Request, user: WebUser, submission_id: str) -> SubmissionInfo:
    with db(request, read_only=True) as session:
        try:
            return certification.get_submission(session, user.principal, submission_id)
        except NotFound as e:
            raise WebNotFound() from e


def act(
    request: Request,
    user: WebUser,
    submission_id: str,
    action: str,
    comment: str,
    here: str,
    page: Callable[[Request, WebUser, str, str | None], Response],
) -> Response:
    """Take `action` (posted to `here`/action); on success a redirect to the submission's page
    `here` (htmx: HX-Redirect), else the form with the service's reason: the actions partial
    for htmx, the whole `page` (request, user, submission id, message) for a plain form."""
    back, action_url = here, f"{here}/action"
    lang = language(request)
    error = None
    try:
        req = TransitionRequest(action=Action(action), comment=comment.strip() or None)
        with db(request) as session:
            certification.transition(session, user.principal, submission_id, req)
    except NotFound as e:
        raise WebNotFound() from e
    except PermissionDenied as e:
        if not request.headers.get("hx-request"):
            raise WebForbidden() from e
        error = e.message
    except OpenpcfError as e:
        error = e.message
    except ValueError:
        error = i18n.translate(lang, "Unknown action.")
    if error is None:
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": back})
        return RedirectResponse(back, status_code=303)
    label = i18n.translate(lang, ACTION_LABELS.get(action, action))
    message = f"{label}: {error}"
    if not request.headers.get("hx-request"):
        return page(request, user, submission_id, message)
    submission = submission_of(request, user, submission_id)
    ctx = {"submission": submission, "action_url": action_url, "action_error": message}
    return render(request, "_actions.html", ctx)
