"""Web sign-in as OWASP ASVS level 2 asks: throttled, constant-time, server-side sessions.

- Throttling (ASVS 2.2.1): failed sign-ins are recorded per e-mail and per source address;
  once either has OPENPCF_SIGN_IN_LIMITS failures within the window, further tries are refused
  (even with the right password) until the window has passed. A refusal for throttling says
  so (429) and names no account state.
- Constant time (ASVS 2.2.1, 3.x): an unknown e-mail is checked against a dummy scrypt hash,
  so a wrong e-mail and a wrong password cost the same and answer the same.
- Sessions (ASVS 3.3.1, 3.3.4): the cookie carries a random 256-bit token; only its sha256 is
  stored with the user, expiry, address and browser. Signing out revokes the row, so the
  cookie is useless afterwards; the user and their tenant's admins list and revoke sessions,
  and disabling a user ends them all (the user is looked up on every request).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openpcf import config
from openpcf.domain.platform import Principal, Role
from openpcf.services.errors import AuthenticationFailed, NotFound, PermissionDenied
from openpcf.services.platform.accounts import (
    _DUMMY_HASH,
    _user_principal,
    now,
    token_hash,
    utc,
    verify_secret,
)
from openpcf.services.platform.sign_in import tenant_kind
from openpcf.store.audit import attribute
from openpcf.store.models import Tenant, User
from openpcf.store.models_security import SignInFailure, WebSession

SESSION_PREFIX = "opcf_ws_"


class SignInThrottled(AuthenticationFailed):
    """Too many failed sign-ins for this e-mail or from this address: wait."""

    code = "rate_limited"

    def __init__(self, minutes: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {minutes} minutes")
        self.minutes = minutes


class SessionInfo(BaseModel):
    """A web session as its user and admins see it (never its token)."""

    id: str = Field(description="the session's public id (to revoke it)")
    email: str
    created_at: datetime | None
    expires_at: datetime | None
    address: str | None
    user_agent: str | None
    active: bool
    revoked_at: datetime | None = None
    revoked_by: str | None = None


@dataclass(frozen=True)
class ActiveSession:
    """Who a session cookie stands for (looked up on every page)."""

    principal: Principal
    kind: str
    csrf: str
    public_id: str


def session_hours() -> float:
    """OPENPCF_WEB_SESSION_HOURS: how long a sign-in lasts. Default: 12."""
    import os

    return float(os.environ.get("OPENPCF_WEB_SESSION_HOURS") or 12)


def _recent_failures(session: Session, column: object, value: str, since: datetime) -> int:
    query = select(func.count()).select_from(SignInFailure)
    query = query.where(column == value, SignInFailure.at > since)  # type: ignore[arg-type]
    return int(session.scalar(query) or 0)


def sign_in(
    session: Session, email: str, password: str, address: str, user_agent: str | None = None
) -> tuple[str, Principal]:
    """A new session token for the user when the password matches and neither the e-mail nor
    the address is throttled; AuthenticationFailed (or SignInThrottled) otherwise. A failure
    is recorded (and committed) either way."""
    email = email.strip().lower()[:320]
    address = (address or "unknown")[:64]
    per_account, per_address, minutes = config.sign_in_limits()
    with session.begin():
        since = now() - timedelta(minutes=minutes)
        throttled = (
            per_account > 0
            and _recent_failures(session, SignInFailure.email, email, since) >= per_account
        ) or (
            per_address > 0
            and _recent_failures(session, SignInFailure.address, address, since) >= per_address
        )
        user = session.scalar(select(User).where(User.email == email))
        # One scrypt per try, unknown e-mails against a dummy hash (timing tells nothing);
        # none while throttled (the refusal is the same for every e-mail then).
        stored = user.password_hash if user is not None else None
        matches = (
            not throttled and verify_secret(password, stored or _DUMMY_HASH) and stored is not None
        )
        usable = user is not None and user.disabled_at is None
        attribute(session, f"anonymous:{address}", user.tenant.slug if user else None)
        failure: AuthenticationFailed | None = None
        if throttled or not matches or not usable or user is None:
            session.add(SignInFailure(email=email, address=address, at=now()))
            old = now() - timedelta(days=1)  # keep the table small
            session.execute(delete(SignInFailure).where(SignInFailure.at < old))
            failure = (
                SignInThrottled(minutes)
                if throttled
                else AuthenticationFailed("wrong e-mail or password")
            )
        else:
            attribute(session, f"user:{user.email}", user.tenant.slug)
            token = _new_session(session, user, address, user_agent)
            # a success clears the account's failures (not the address's)
            session.execute(delete(SignInFailure).where(SignInFailure.email == email))
            principal = _user_principal(user)
    if failure is not None:
        raise failure
    return token, principal


def _new_session(session: Session, user: User, address: str | None, user_agent: str | None) -> str:
    """A session row for `user` (in the caller's transaction); its token, shown once."""
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    session.add(
        WebSession(
            public_id=secrets.token_hex(8),
            token_hash=token_hash(token),
            user_id=user.id,
            csrf=secrets.token_urlsafe(24),
            address=address,
            user_agent=(user_agent or "")[:300] or None,
            expires_at=now() + timedelta(hours=session_hours()),
        )
    )
    return token


def session_for(session: Session, actor: str, email: str) -> str:
    """A session token for `email` without a password: for tests and operators' tooling
    (never reachable from the web)."""
    with session.begin():
        user = session.scalars(select(User).where(User.email == email)).one()
        attribute(session, actor, user.tenant.slug)
        return _new_session(session, user, None, None)


_ACTIVE = (
    select(WebSession.csrf, WebSession.public_id, WebSession.expires_at, User, Tenant)
    .join(User, User.id == WebSession.user_id)
    .join(Tenant, Tenant.id == User.tenant_id)
)


def active_session(session: Session, token: str) -> ActiveSession | None:
    """The user a session token stands for, or None (unknown, revoked, expired, disabled)."""
    if not token.startswith(SESSION_PREFIX):
        return None
    row = session.execute(
        _ACTIVE.where(WebSession.token_hash == token_hash(token), WebSession.revoked_at.is_(None))
    ).first()
    if row is None or utc(row.expires_at) <= now():  # type: ignore[operator]
        return None
    user: User = row.User
    if user.disabled_at is not None:
        return None
    return ActiveSession(_user_principal(user), tenant_kind(row.Tenant), row.csrf, row.public_id)


def sign_out(session: Session, token: str) -> bool:
    """Revoke the session of `token` (sign-out); False when there was none."""
    with session.begin():
        row = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
        if row is None or row.revoked_at is not None:
            return False
        user = session.get(User, row.user_id)
        actor = f"user:{user.email}" if user else "anonymous"
        attribute(session, actor, user.tenant.slug if user else None)
        row.revoked_at, row.revoked_by = now(), actor
        return True


def _visible_user(session: Session, who: Principal, email: str) -> User:
    """The user whose sessions `who` may see: themself, or (admins) a user of their tenant;
    operators any user."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if who.kind == "operator":
        if user is None:
            raise NotFound(f"no user '{email}'")
        return user
    if user is None or user.tenant_id != who.tenant_id:
        raise NotFound("no such user in your tenant")  # the address is not echoed back
    if user.email != who.subject and who.role != Role.admin:
        raise PermissionDenied("only the tenant's admins see other users' sessions")
    return user


def list_sessions(
    session: Session, who: Principal, email: str | None = None, include_ended: bool = False
) -> list[SessionInfo]:
    """Sessions of a user (default: the caller), newest first."""
    with session.begin():
        user = _visible_user(session, who, email or who.subject)
        query = select(WebSession).where(WebSession.user_id == user.id)
        rows = session.scalars(query.order_by(WebSession.id.desc()))
        out = [_info(r, user.email) for r in rows]
    return out if include_ended else [s for s in out if s.active]


def revoke_session(session: Session, who: Principal, public_id: str) -> SessionInfo:
    """End one session: the user's own, or (admins) one of their tenant's users."""
    with session.begin():
        row = session.scalar(select(WebSession).where(WebSession.public_id == public_id))
        user = session.get(User, row.user_id) if row is not None else None
        if row is None or user is None:
            raise NotFound(f"no session '{public_id}'")
        _visible_user(session, who, user.email)
        attribute(session, who.actor, user.tenant.slug)
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = now(), who.actor
        return _info(row, user.email)


def revoke_all(session: Session, who: Principal, email: str) -> int:
    """End every active session of a user; how many were ended."""
    with session.begin():
        user = _visible_user(session, who, email)
        attribute(session, who.actor, user.tenant.slug)
        rows = session.scalars(
            select(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
        ).all()
        for row in rows:
            row.revoked_at, row.revoked_by = now(), who.actor
        return len(rows)


def _info(row: WebSession, email: str) -> SessionInfo:
    expires = utc(row.expires_at)
    active = row.revoked_at is None and expires is not None and expires > now()
    return SessionInfo(
        id=row.public_id,
        email=email,
        created_at=utc(row.created_at),
        expires_at=expires,
        address=row.address,
        user_agent=row.user_agent,
        active=active,
        revoked_at=utc(row.revoked_at),
        revoked_by=row.revoked_by,
    )
