"""Web sessions through the API: a user lists and revokes their browser sessions; a tenant's
admins do so for the tenant's users (e.g. after a lost laptop)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.services.platform import web_sessions
from openpcf.services.platform.access import signed_in
from openpcf.services.platform.web_sessions import SessionInfo

router = APIRouter(prefix="/auth/sessions", tags=["auth"])


@router.get(
    "",
    response_model=list[SessionInfo],
    summary="Web sessions of a user (default: the caller)",
    responses=responses(401, 403, 404),
)
def list_sessions(
    db: SessionDep,
    who: PrincipalDep,
    email: Annotated[str | None, Query(max_length=320, description="admins: a user")] = None,
    ended: Annotated[bool, Query(description="include revoked and expired sessions")] = False,
) -> list[SessionInfo]:
    signed_in(who)
    return web_sessions.list_sessions(db, who, email, include_ended=ended)


@router.delete(
    "/{session_id}",
    response_model=SessionInfo,
    summary="Revoke a web session (signed out at once)",
    responses=responses(401, 403, 404),
)
def revoke(db: SessionDep, who: PrincipalDep, session_id: str) -> SessionInfo:
    signed_in(who)
    return web_sessions.revoke_session(db, who, session_id[:64])
