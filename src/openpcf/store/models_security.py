"""Tables of sign-in security and the ledger's signed checkpoints (see migration 0009).

Web sessions are server-side: the cookie holds a random token whose sha256 is kept here, so
signing out (or an admin's revocation) ends a session at once, which a stateless signed cookie
cannot. Failed sign-ins are kept for the throttling window (per e-mail and per address).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openpcf.store.models import Base, created_at_column


class WebSession(Base):
    """One signed-in browser session of a user; `public_id` names it in lists and revocations
    (the token itself is never stored)."""

    __tablename__ = "web_sessions"
    __audit_omit__ = frozenset({"token_hash", "csrf"})

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(400))


class SignInFailure(Base):
    """A refused sign-in (wrong password, unknown e-mail, or throttled), for throttling."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LedgerCheckpoint(Base):
    """A signed statement of the ledger's Merkle tree head: size, root, time (insert-only)."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(Integer, index=True)
    root: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(40))
    origin: Mapped[str] = mapped_column(String(300))
    key_fingerprint: Mapped[str] = mapped_column(String(100))
    public_key: Mapped[str] = mapped_column(String(100))
    signature: Mapped[str] = mapped_column(Text)
