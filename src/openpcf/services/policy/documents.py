"""Policies and standards: the bundled seed overlaid with the versions regulators wrote.

A document's current state is its newest version. The seed (`rules/policy_seed.py`) is version
1 of each seeded document and stays readable after edits, as every stored version does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openpcf.domain.platform import Principal, TenantKind
from openpcf.domain.policy import (
    PolicyDocument,
    PolicyInput,
    PolicyKind,
    PolicyStatus,
    PolicyType,
)
from openpcf.rules.policy_seed import seed_documents
from openpcf.services.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from openpcf.services.platform.access import writer
from openpcf.store.models import Tenant
from openpcf.store.models_policy import PolicyVersion


@dataclass(frozen=True)
class PolicyFilter:
    """What a reader narrows the tracker to; every field optional, all must hold."""

    q: str | None = None  # words in titles, issuer, number, requirements, sectors, note
    region: str | None = None  # ISO 3166-2; national documents apply to every province
    include_national: bool = False
    sector: str | None = None  # a sector name or a product rule id
    rule: str | None = None
    type: PolicyType | None = None
    status: PolicyStatus | None = None
    kind: PolicyKind | None = None
    date_from: str | None = None  # YYYY[-MM[-DD]], compared as a prefix-aware string
    date_to: str | None = None


def current(session: Session) -> dict[str, PolicyDocument]:
    """Every document's newest version, with `superseded_by` filled from its successors."""
    docs = {d.id: d for d in seed_documents()}
    newest = (
        select(PolicyVersion.slug, func.max(PolicyVersion.version).label("v"))
        .group_by(PolicyVersion.slug)
        .subquery()
    )
    rows = session.scalars(
        select(PolicyVersion).join(
            newest, (PolicyVersion.slug == newest.c.slug) & (PolicyVersion.version == newest.c.v)
        )
    )
    for row in rows:
        docs[row.slug] = _document(row)
    successors = {d.supersedes: d.id for d in docs.values() if d.supersedes}
    return {
        slug: d.model_copy(update={"superseded_by": successors.get(slug)})
        for slug, d in sorted(docs.items(), key=lambda kv: (kv[1].date, kv[0]), reverse=True)
    }


def list_documents(session: Session, f: PolicyFilter | None = None) -> list[PolicyDocument]:
    """The current documents that pass `f`, newest first."""
    f = f or PolicyFilter()
    return [d for d in current(session).values() if matches(d, f)]


def matches(d: PolicyDocument, f: PolicyFilter) -> bool:
    if f.region:
        region = f.region.strip().upper()
        if region not in d.regions and not (f.include_national and "CN" in d.regions):
            return False
    if f.sector:
        needle = f.sector.strip().lower()
        if not any(needle in s.lower() for s in (*d.sectors, *d.rules)):
            return False
    if f.rule and f.rule not in d.rules:
        return False
    if f.type and f.type not in d.types:
        return False
    if f.status and d.status != f.status:
        return False
    if f.kind and d.kind != f.kind:
        return False
    if f.date_from and d.date[: len(f.date_from)] < f.date_from[: len(d.date)]:
        return False
    if f.date_to and d.date[: len(f.date_to)] > f.date_to[: len(d.date)]:
        return False
    if f.q:
        text = " ".join(_words(d)).lower()
        if not all(word in text for word in f.q.lower().split()):
            return False
    return True


def document(session: Session, slug: str) -> PolicyDocument:
    try:
        return current(session)[slug]
    except KeyError:
        raise NotFound(f"no policy or standard '{slug}'") from None


def versions(session: Session, slug: str) -> list[PolicyDocument]:
    """Every version of a document, oldest first (the seed's version 1 included)."""
    out = [d for d in seed_documents() if d.id == slug]
    rows = session.scalars(
        select(PolicyVersion).where(PolicyVersion.slug == slug).order_by(PolicyVersion.version)
    )
    out += [_document(r) for r in rows]
    if not out:
        raise NotFound(f"no policy or standard '{slug}'")
    return out


def version(session: Session, slug: str, number: int) -> PolicyDocument:
    for d in versions(session, slug):
        if d.version == number:
            return d
    raise NotFound(f"'{slug}' has no version {number}")


def create(
    session: Session, who: Principal, slug: str, new: PolicyInput, note: str = ""
) -> PolicyDocument:
    """A new document, version 1; its slug must be unused."""
    with session.begin():
        _regulator(session, who)
        if slug in current(session):
            raise Conflict(f"'{slug}' exists; edit it instead")
        _check_links(session, slug, new)
        return _write(session, who, slug, 1, new, note or "created")


def edit(
    session: Session, who: Principal, slug: str, new: PolicyInput, note: str = ""
) -> PolicyDocument:
    """A new version of an existing document; the previous versions stay as they were."""
    with session.begin():
        _regulator(session, who)
        old = document(session, slug)
        _check_links(session, slug, new)
        return _write(session, who, slug, old.version + 1, new, note or "edited")


def supersede(
    session: Session, who: Principal, slug: str, successor: str, note: str = ""
) -> PolicyDocument:
    """Mark `slug` superseded by the existing document `successor` (both get a new version)."""
    with session.begin():
        _regulator(session, who)
        docs = current(session)
        if slug not in docs or successor not in docs:
            missing = slug if slug not in docs else successor
            raise NotFound(f"no policy or standard '{missing}'")
        if slug == successor:
            raise InvalidRequest("a document cannot supersede itself")
        old, new = docs[slug], docs[successor]
        reason = note or f"superseded by {successor}"
        _write(session, who, slug, old.version + 1,
               as_input(old).model_copy(update={"status": PolicyStatus.superseded}), reason)  # fmt: skip
        _write(session, who, successor, new.version + 1,
               as_input(new).model_copy(update={"supersedes": slug}), f"supersedes {slug}")  # fmt: skip
        return document(session, slug)


def parse_input(data: object) -> PolicyInput:
    """A regulator's document from JSON-like data; errors name the field."""
    try:
        return PolicyInput.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidRequest(f"invalid policy document: {problems}") from None


@dataclass(frozen=True)
class Change:
    """One entry of the feed: a version of a document, when it was written and by whom."""

    document: PolicyDocument
    at: datetime


def changes(session: Session, limit: int = 100) -> list[Change]:
    """Newest first: every stored version, then the seed (dated by the document's own date)."""
    rows = session.scalars(
        select(PolicyVersion).order_by(PolicyVersion.created_at.desc(), PolicyVersion.id.desc())
        .limit(limit)
    )  # fmt: skip
    out = [Change(_document(r), _aware(r.created_at)) for r in rows]
    seeds = sorted(seed_documents(), key=lambda d: (d.date, d.id), reverse=True)
    out += [Change(d, _date_time(d.date)) for d in seeds]
    return out[:limit]


def _regulator(session: Session, who: Principal) -> None:
    writer(session, who)
    kind = session.scalar(select(Tenant.kind).where(Tenant.id == who.tenant_id))
    if kind != TenantKind.regulator.value:
        raise PermissionDenied("only a regulator maintains the policy tracker")


def _check_links(session: Session, slug: str, new: PolicyInput) -> None:
    if new.supersedes is not None:
        if new.supersedes == slug:
            raise InvalidRequest("supersedes: a document cannot supersede itself")
        if new.supersedes not in current(session):
            raise InvalidRequest(f"supersedes: no policy or standard '{new.supersedes}'")


def _write(
    session: Session, who: Principal, slug: str, number: int, new: PolicyInput, note: str
) -> PolicyDocument:
    row = PolicyVersion(
        slug=slug,
        version=number,
        tenant_id=who.tenant_id,
        data=new.model_dump(mode="json"),
        change_note=note[:2000],
        changed_by=who.actor,
    )
    session.add(row)
    session.flush()
    return _document(row)


def _document(row: PolicyVersion) -> PolicyDocument:
    return PolicyDocument.model_validate(
        {**row.data, "id": row.slug, "version": row.version, "changed_by": row.changed_by,
         "changed_at": _aware(row.created_at), "change_note": row.change_note}
    )  # fmt: skip


def as_input(d: PolicyDocument) -> PolicyInput:
    return PolicyInput.model_validate(d.model_dump(include=set(PolicyInput.model_fields)))


def _words(d: PolicyDocument) -> Iterable[str]:
    yield from (d.id, d.issuer, d.title_zh, d.title_en, d.number or "", d.city or "", d.note or "")
    yield from d.sectors
    yield from d.rules
    for r in d.requirements:
        yield r.text
        yield r.text_zh or ""


def _aware(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _date_time(text: str) -> datetime:
    parts = [int(x) for x in text.split("-")] + [1, 1]
    return datetime(parts[0], parts[1], parts[2], tzinfo=UTC)
