"""The ledger: an append-only hash chain of what must stay provable (certificates issued,
published and revoked; green-electricity certificate claims; direct-connection meter readings).

Stable interface for other features (monitoring calls it for meter readings):

    append(session, actor, kind, payload) -> LedgerEntryInfo

- `session`: the caller's session *inside its transaction* (`with session.begin():`); the
  entry commits or rolls back with the caller's change, so a claim and its ledger entry exist
  together or not at all. The session's audit actor is kept if set, else `actor` is used.
- `actor`: who acts, as in the audit log ('user:ana@x.example', 'operator:meter-bridge').
- `kind`: a dotted lower-case name, e.g. 'meter.reading' (constants in `domain/ledger.py`).
- `payload`: a JSON object (str, int, float, bool, None, lists, dicts); stored as its RFC 8785
  canonical JSON, which is what the hash covers. NaN and infinities are refused.

Appends are serialised so the chain never forks: on PostgreSQL a transaction-level advisory
lock is taken before the head is read (held to commit); on SQLite the database has one writer
at a time, and a transaction that read a head another writer has since moved fails at its
write (SQLITE_BUSY_SNAPSHOT) rather than forking. Unique seq, hash and prev_hash enforce the
same in the schema, and triggers refuse any UPDATE or DELETE of an entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from openpcf.domain.canonical import canonical_json
from openpcf.domain.ledger import GENESIS, KIND, Entry, Finding, first_problem, next_entry
from openpcf.services.errors import InvalidRequest
from openpcf.store.audit import ACTOR, attribute
from openpcf.store.models_certification import LedgerEntry

_LOCK = 7203448121  # pg_advisory_xact_lock key of ledger appends (the migrator's is ...120)


class LedgerEntryInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int = Field(description="position in the chain, from 1", examples=[42])
    kind: str = Field(examples=["certificate.issued"])
    at: str = Field(description="UTC time as hashed", examples=["2026-03-01T08:00:00.000000Z"])
    actor: str
    payload: dict[str, Any]
    prev_hash: str = Field(description="hash of the previous entry (64 zeros for the first)")
    hash: str = Field(description="sha256 of the canonical JSON of seq, kind, at, actor, "
                      "payload and prev")  # fmt: skip


class LedgerHead(BaseModel):
    """What to anchor elsewhere: the last entry's position and hash."""

    model_config = ConfigDict(frozen=True)

    seq: int = Field(description="entries in the chain (0 when empty)")
    hash: str = Field(description="hash of the last entry (64 zeros when empty)")
    at: str | None = Field(description="time of the last entry")
    algorithm: str = "sha256 over RFC 8785 canonical JSON"


class LedgerVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    entries: int = Field(description="entries checked")
    head: LedgerHead
    position: int | None = Field(default=None, description="first bad position (seq)")
    problem: str | None = Field(default=None, description="altered | removed | reordered | anchor")
    message: str | None = None


def append(session: Session, actor: str, kind: str, payload: Mapping[str, Any]) -> LedgerEntryInfo:
    """Append an entry in the caller's transaction (see the module docstring)."""
    if not re.fullmatch(KIND, kind) or len(kind) > 60:
        raise InvalidRequest(f"ledger entry kind '{kind}' must be a dotted lower-case name")
    try:
        body = canonical_json(dict(payload)).decode("utf-8")
    except ValueError as exc:
        raise InvalidRequest(f"ledger payload of '{kind}': {exc}") from None
    if not session.info.get(ACTOR):
        attribute(session, actor, None)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    last = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(1)).first()
    entry = next_entry(_entry(last) if last else None, kind, actor, json.loads(body))
    row = LedgerEntry(
        seq=entry.seq,
        kind=kind,
        at=entry.at,
        actor=actor,
        payload=body,
        prev_hash=entry.prev,
        hash=entry.hash,
    )
    session.add(row)
    session.flush()
    return _info(row)


def head(session: Session) -> LedgerHead:
    """The last entry's seq and hash, to anchor elsewhere."""
    last = session.execute(
        select(LedgerEntry.seq, LedgerEntry.hash, LedgerEntry.at)
        .order_by(LedgerEntry.seq.desc())
        .limit(1)
    ).first()
    if last is None:
        return LedgerHead(seq=0, hash=GENESIS, at=None)
    return LedgerHead(seq=last.seq, hash=last.hash, at=last.at)


def entries(
    session: Session, after: int = 0, limit: int = 100, kind: str | None = None
) -> list[LedgerEntryInfo]:
    query = select(LedgerEntry).where(LedgerEntry.seq > after)
    if kind:
        query = query.where(LedgerEntry.kind == kind)
    rows = session.scalars(query.order_by(LedgerEntry.seq).limit(limit))
    return [_info(r) for r in rows]


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


def verify(
    session: Session, anchor: tuple[int, str] | None = None, progress: Any = None
) -> LedgerVerdict:
    """Check the whole chain in stored (insertion) order; the first bad position and what is
    wrong with it. `progress(n)` is called as entries are read (for a progress bar)."""
    chain = list(_stored(session, progress))
    finding: Finding | None = first_problem(chain, anchor)
    top = head(session)
    if finding is None:
        return LedgerVerdict(ok=True, entries=len(chain), head=top)
    return LedgerVerdict(
        ok=False,
        entries=len(chain),
        head=top,
        position=finding.position,
        problem=finding.problem,
        message=finding.message,
    )


def _stored(session: Session, progress: Any) -> Iterator[Entry]:
    """Entries by primary key: the order they were inserted in, whatever their seq says."""
    rows = session.execute(
        select(
            LedgerEntry.seq,
            LedgerEntry.kind,
            LedgerEntry.at,
            LedgerEntry.actor,
            LedgerEntry.payload,
            LedgerEntry.prev_hash,
            LedgerEntry.hash,
        ).order_by(LedgerEntry.id)
    ).yield_per(5000)
    for i, r in enumerate(rows, 1):
        try:
            payload = json.loads(r.payload)
            if canonical_json(payload).decode("utf-8") != r.payload:
                raise ValueError("not the canonical text that was hashed")
        except ValueError:
            payload = {"<changed payload>": r.payload}  # fails its hash: reported as altered
        if progress is not None and i % 1000 == 0:
            progress(i)
        yield Entry(r.seq, r.kind, r.at, r.actor, payload, r.prev_hash, r.hash)


def _entry(row: LedgerEntry) -> Entry:
    payload = json.loads(row.payload)
    return Entry(row.seq, row.kind, row.at, row.actor, payload, row.prev_hash, row.hash)


def _info(row: LedgerEntry) -> LedgerEntryInfo:
    return LedgerEntryInfo(
        seq=row.seq,
        kind=row.kind,
        at=row.at,
        actor=row.actor,
        payload=json.loads(row.payload),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def parse_anchor(value: str) -> tuple[int, str]:
    """'SEQ:HASH' (as `openpcf ledger head` prints it) to (seq, hash)."""
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise InvalidRequest(f"anchor '{value}' must be SEQ:HASH, e.g. 12:{'ab' * 32}")
    return int(seq), digest
