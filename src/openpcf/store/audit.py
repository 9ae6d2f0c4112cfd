"""Every write is attributed: an audit entry per inserted, updated or deleted row.

A session that writes must say who acts (`attribute(session, actor, tenant)`); a flush of
audited rows without an actor is refused, so no use case can write anonymously. The entries are
inserted in the same transaction as the change, right after the flush that made it, so they
carry the new rows' ids and vanish with a rollback.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from openpcf.store.models import AuditEntry, Base, Tenant

ACTOR = "openpcf.actor"
TENANT = "openpcf.tenant"
READ_ONLY = "openpcf.read_only"


class UnattributedWrite(RuntimeError):
    """A session tried to write without naming who acts: a defect of the caller."""


def attribute(session: Session, actor: str, tenant: str | None) -> Session:
    """Name who writes through `session` (e.g. 'user:ana@x.example') and for which tenant."""
    session.info[ACTOR] = actor
    session.info[TENANT] = tenant
    return session


def _audited(obj: object) -> bool:
    return isinstance(obj, Base) and not isinstance(obj, AuditEntry)


@event.listens_for(Session, "before_flush")
def _require_actor(session: Session, _context: Any, _instances: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if session.info.get(READ_ONLY) and changed:
        raise UnattributedWrite("write through a read-only session (a GET request's)")
    if not session.info.get(ACTOR) and any(_audited(o) for o in changed):
        names = sorted({type(o).__name__ for o in changed if _audited(o)})
        raise UnattributedWrite(
            f"write to {', '.join(names)} without an actor; call "
            "openpcf.store.audit.attribute(session, actor, tenant) first"
        )


@event.listens_for(Session, "after_flush")
def _write_entries(session: Session, _context: Any) -> None:
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if not _audited(obj):
                continue
            details = _details(obj, action)
            if action == "update" and not details:
                continue  # touched, not changed
            rows.append(
                {
                    "at": now,
                    "tenant": _tenant_of(session, obj),
                    "actor": session.info[ACTOR],
                    "action": action,
                    "entity": obj.__tablename__,
                    "entity_id": _id_of(obj),
                    "details": details,
                }
            )
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def _tenant_of(session: Session, obj: Base) -> str | None:
    if isinstance(obj, Tenant):
        return obj.slug
    return session.info.get(TENANT)


def _id_of(obj: Base) -> str:
    mapper = sa_inspect(obj).mapper
    state = sa_inspect(obj).dict
    keys = [mapper.get_property_by_column(c).key for c in mapper.primary_key]
    return ",".join(str(state.get(k)) for k in keys)


def _details(obj: Base, action: str) -> dict[str, Any]:
    """The row's values (create, delete) or the changed ones as [old, new] (update)."""
    state = sa_inspect(obj)
    omit = type(obj).__audit_omit__
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if action == "update":
            hist = state.attrs[key].history
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            out[key] = "<changed>" if key in omit else [_plain(old), _plain(new)]
        elif key in omit:
            out[key] = "<omitted>"
        elif key in state.dict:
            out[key] = _plain(state.dict[key])
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)
