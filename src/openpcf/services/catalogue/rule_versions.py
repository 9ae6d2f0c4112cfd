"""Product rules and methodology profiles as published data: a regulator uploads a version
(YAML, the same schema as the bundled files), publishes it, and may later withdraw it; a
published version never changes (but for its withdrawal date). The version in force on a date is
the published one with the latest `valid_from` on or before it that is not withdrawn by then;
where none is, the bundled one is (version 'bundled@<openpcf version>': the bundled rules and
profiles are the initial versions). Calculations use the versions in force on their date and
record the ones they used. `kind` is 'product' (a product rule) or 'profile'.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from openpcf.domain.errors import Location
from openpcf.domain.methodology import ProductRule, Profile
from openpcf.domain.platform import Principal
from openpcf.io import limits
from openpcf.rules.catalogue import BUNDLED, bundled_profiles, bundled_rules
from openpcf.services.errors import Conflict, Immutable, InvalidRequest, NotFound
from openpcf.services.platform.access import national
from openpcf.services.platform.accounts import now, utc
from openpcf.store.models_national import RuleVersion

MAX_BYTES = 512 * 1024
Kind = Literal["product", "profile"]
SCHEMA: dict[str, type[ProductRule] | type[Profile]] = {"product": ProductRule, "profile": Profile}
WHAT = {"product": "rule", "profile": "profile"}


def _bundled(kind: Kind) -> Mapping[str, ProductRule | Profile]:
    return bundled_rules() if kind == "product" else bundled_profiles()


@dataclass(frozen=True)
class InForce:
    """What a calculation on a date runs under: published versions by id, and every id's label."""

    rules: dict[str, ProductRule]
    rule_versions: dict[str, str]
    profiles: dict[str, Profile]
    profile_versions: dict[str, str]


class RuleVersionInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Kind
    rule_id: str = Field(description="the product rule's or the profile's id")
    version: str
    valid_from: date
    withdrawn_on: date | None
    status: str = Field(description="draft | published | withdrawn")
    sha256: str
    published_at: Any = None
    published_by: str | None = None
    document: dict[str, Any] = Field(description="the rule or profile, as validated")


class RuleListing(ProductRule):
    """A product rule as `GET /rules` lists it: a bundled one, or a version published in the
    store (the same rule id may appear several times, one entry per version)."""

    version: str = Field(description="'bundled@<openpcf version>' or the published version")
    status: Literal["bundled", "published", "withdrawn"]
    valid_from: date | None = Field(default=None, description="first day in force (published)")
    withdrawn_on: date | None = None
    published_by: str | None = None


def rule_listing(session: Session) -> list[RuleListing]:
    """The bundled product rules, then every published (or withdrawn) version in the store."""
    out = [RuleListing.model_validate(r.model_dump() | {"version": BUNDLED, "status": "bundled"})
           for r in bundled_rules().values()]  # fmt: skip
    with session.begin():
        rows = session.scalars(select(RuleVersion).where(
            RuleVersion.kind == "product", RuleVersion.published_at.is_not(None))
            .order_by(RuleVersion.rule_id, RuleVersion.valid_from, RuleVersion.id))  # fmt: skip
        for r in rows:
            out.append(RuleListing.model_validate(r.document | {
                "version": r.version, "status": "withdrawn" if r.withdrawn_on else "published",
                "valid_from": r.valid_from, "withdrawn_on": r.withdrawn_on,
                "published_by": r.published_by,
            }))  # fmt: skip
    return out


class RuleDiff(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule_id: str
    old_version: str
    new_version: str
    changed: dict[str, dict[str, Any]] = Field(description="field -> {old, new}")


def upload(
    session: Session, who: Principal, rule_id: str, version: str, valid_from: date, text: str,
    kind: Kind = "product",
) -> RuleVersionInfo:  # fmt: skip
    """A draft version of a rule or profile from its YAML (validated by the same schema)."""
    with session.begin():
        national(session, who)
        rule = parse_rule(text, rule_id, kind)
        if version.startswith("bundled"):
            raise InvalidRequest("versions named 'bundled…' are the ones openpcf ships")
        if session.scalar(select(RuleVersion.id).where(
                RuleVersion.kind == kind, RuleVersion.rule_id == rule_id,
                RuleVersion.version == version)) is not None:  # fmt: skip
            raise Conflict(f"{WHAT[kind]} {rule_id} version {version} already exists")
        data = rule.model_dump(mode="json")
        row = RuleVersion(
            kind=kind, tenant_id=who.tenant_id, rule_id=rule_id, version=version, document=data,
            sha256=_digest(data), valid_from=valid_from, created_by=who.actor,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return _info(row)


def publish(
    session: Session, who: Principal, rule_id: str, version: str, kind: Kind = "product"
) -> RuleVersionInfo:
    with session.begin():
        national(session, who)
        row = _row(session, rule_id, version, kind)
        if row.published_at is not None:
            raise Immutable(f"rule {rule_id} version {version} is already published")
        row.published_at = now()
        row.published_by = who.actor
        session.flush()
        return _info(row)


def withdraw(
    session: Session, who: Principal, rule_id: str, version: str, on: date, kind: Kind = "product"
) -> RuleVersionInfo:
    """From `on`, the version is no longer in force (calculations before keep it)."""
    with session.begin():
        national(session, who)
        row = _row(session, rule_id, version, kind)
        if row.published_at is None:
            raise Conflict(f"rule {rule_id} version {version} is a draft; nothing to withdraw")
        if row.withdrawn_on is not None:
            raise Immutable(f"rule {rule_id} version {version} was withdrawn on {row.withdrawn_on}")
        row.withdrawn_on = on
        session.flush()
        return _info(row)


def versions(session: Session, rule_id: str, kind: Kind = "product") -> list[RuleVersionInfo]:
    with session.begin():
        rows = session.scalars(select(RuleVersion).where(
            RuleVersion.kind == kind, RuleVersion.rule_id == rule_id)
            .order_by(RuleVersion.valid_from, RuleVersion.id))  # fmt: skip
        return [_info(r) for r in rows]


def all_versions(session: Session) -> list[RuleVersionInfo]:
    """Every uploaded version of every rule (for the regulator's page)."""
    with session.begin():
        rows = session.scalars(select(RuleVersion).order_by(
            RuleVersion.kind, RuleVersion.rule_id, RuleVersion.valid_from, RuleVersion.id))  # fmt: skip
        return [_info(r) for r in rows]


def diff(session: Session, rule_id: str, old: str, new: str, kind: Kind = "product") -> RuleDiff:
    """What a version changes against another ('bundled' names the shipped one)."""
    with session.begin():
        a, b = _document(session, rule_id, old, kind), _document(session, rule_id, new, kind)
    keys = sorted(a.keys() | b.keys())
    changed = {k: {"old": a.get(k), "new": b.get(k)} for k in keys if a.get(k) != b.get(k)}
    return RuleDiff(rule_id=rule_id, old_version=old, new_version=new, changed=changed)


def in_force(session: Session, on: date) -> InForce:
    """The published versions in force on `on`, and every rule's and profile's version label."""
    rows = session.scalars(
        select(RuleVersion)
        .where(
            RuleVersion.published_at.is_not(None),
            RuleVersion.valid_from <= on,
            or_(RuleVersion.withdrawn_on.is_(None), RuleVersion.withdrawn_on > on),
        )
        .order_by(RuleVersion.rule_id, RuleVersion.valid_from, RuleVersion.published_at)
    )
    out = InForce({}, dict.fromkeys(bundled_rules(), BUNDLED), {},
                  dict.fromkeys(bundled_profiles(), BUNDLED))  # fmt: skip
    for r in rows:  # later valid_from (then later publication) wins
        if r.kind == "profile":
            out.profiles[r.rule_id] = Profile.model_validate(r.document)
            out.profile_versions[r.rule_id] = r.version
        else:
            out.rules[r.rule_id] = ProductRule.model_validate(r.document)
            out.rule_versions[r.rule_id] = r.version
    return out


def published_rule(session: Session, rule_id: str, version: str, on: date) -> RuleVersionInfo:
    """A published version of product rule `rule_id` for `openpcf calc --rule-version`: the one
    named, or with 'latest' the one the server computes under on `on`. A draft or an unknown
    version is refused with the versions that exist, so the user can pick one."""
    with session.begin():
        rows = list(session.scalars(select(RuleVersion).where(
            RuleVersion.kind == "product", RuleVersion.rule_id == rule_id)
            .order_by(RuleVersion.valid_from, RuleVersion.id)))  # fmt: skip
        if version == "latest":
            now = in_force(session, on)
            version = now.rule_versions.get(rule_id, "")
            if rule_id not in now.rules:
                raise NotFound(f"product rule {rule_id} has no published version in force on "
                               f"{on}; {_existing(rows)}")  # fmt: skip
        row = next((r for r in rows if r.version == version), None)
        if row is None:
            raise NotFound(f"product rule {rule_id} has no version '{version}'; {_existing(rows)}")
        if row.published_at is None:
            raise Conflict(f"version '{version}' of product rule {rule_id} is a draft, not "
                           f"published; {_existing(rows)}")  # fmt: skip
        return _info(row)


def _existing(rows: list[RuleVersion]) -> str:
    """What a user can name instead: the published versions (with their dates), then drafts."""
    published = [f"{r.version} (from {r.valid_from}"
                 + (f", withdrawn on {r.withdrawn_on})" if r.withdrawn_on else ")")
                 for r in rows if r.published_at is not None]  # fmt: skip
    draft = [r.version for r in rows if r.published_at is None]
    text = "published: " + (", ".join(published) if published else "none")
    return text + (f"; drafts (not usable): {', '.join(draft)}" if draft else "")


def drafts(session: Session) -> set[str]:
    """Rule ids with a draft (unpublished) version."""
    return set(
        session.scalars(select(RuleVersion.rule_id).where(RuleVersion.published_at.is_(None)))
    )


def published_ids(session: Session) -> set[str]:
    return set(session.scalars(select(RuleVersion.rule_id).where(
        RuleVersion.published_at.is_not(None), RuleVersion.withdrawn_on.is_(None))))  # fmt: skip


def parse_rule(text: str, rule_id: str, kind: Kind = "product") -> ProductRule | Profile:
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise InvalidRequest(f"the rule document is larger than {MAX_BYTES} bytes")
    # a regulator's upload is input like any other: aliases, depth and size bounded
    data, _ = limits.load_yaml(text, Location(f"{rule_id}.yaml"), InvalidRequest)
    schema = SCHEMA[kind]
    try:
        rule = schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise InvalidRequest(
            f"the {WHAT[kind]} does not fit the {'product-rule' if kind == 'product' else 'profile'} "
            f"schema ({exc.error_count()} problem(s)); "
            f"field '{where}': {first['msg']}",
            details=[{"field": ".".join(map(str, e["loc"])), "message": e["msg"]}
                     for e in exc.errors()[:50]],
        ) from None  # fmt: skip
    if rule.id != rule_id:
        raise InvalidRequest(f"the document's id '{rule.id}' is not the {WHAT[kind]} '{rule_id}'")
    return rule


def _document(session: Session, rule_id: str, version: str, kind: Kind) -> Mapping[str, Any]:
    if version.startswith("bundled"):
        shipped = _bundled(kind).get(rule_id)
        if shipped is None:
            raise NotFound(f"openpcf ships no {WHAT[kind]} '{rule_id}'")
        return shipped.model_dump(mode="json")
    return _row(session, rule_id, version, kind).document


def _row(session: Session, rule_id: str, version: str, kind: Kind = "product") -> RuleVersion:
    row = session.scalar(select(RuleVersion).where(
        RuleVersion.kind == kind, RuleVersion.rule_id == rule_id,
        RuleVersion.version == version))  # fmt: skip
    if row is None:
        raise NotFound(f"no version {version} of {WHAT[kind]} {rule_id}")
    return row


def _digest(data: dict) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _info(row: RuleVersion) -> RuleVersionInfo:
    status = "draft" if row.published_at is None else "published"
    if row.withdrawn_on is not None:
        status = "withdrawn"
    return RuleVersionInfo(
        kind=row.kind, rule_id=row.rule_id, version=row.version, valid_from=row.valid_from,
        withdrawn_on=row.withdrawn_on, status=status, sha256=row.sha256,
        published_at=utc(row.published_at), published_by=row.published_by,
        document=row.document,
    )  # fmt: skip
