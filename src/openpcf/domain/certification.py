"""Certification, pure: the workflow's states and who may move a submission between them, the
schemas the API and CLI exchange, and the signed certificate document (build, sign, check).

A certificate is a JSON object in RFC 8785 canonical form (see `domain.canonical`). Its
`signature` member is an Ed25519 signature (base64) over the canonical UTF-8 bytes of the
object *without* `signature`; the object names the signing key (`key.public_key`, base64 raw
32 bytes, and `key.fingerprint`, 'sha256:' + hex sha256 of those bytes). The file handed out
is the canonical bytes of the whole object, so anyone can check it offline with the key alone.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from openpcf.domain.canonical import NotCanonicalizable, canonical_json, parse_strict
from openpcf.domain.platform import CalculationInfo, Role, TenantKind

FORMAT = "openpcf-certificate/1"
ALGORITHM = "Ed25519"
DEFAULT_VALID_DAYS = 1095  # three years, unless the verifier states otherwise


class State(StrEnum):
    draft = "draft"
    submitted = "submitted"
    under_review = "under_review"
    certified = "certified"
    published = "published"
    revoked = "revoked"
    expired = "expired"  # never stored: certified or published past valid_until (on read)


class Action(StrEnum):
    submit = "submit"
    withdraw = "withdraw"  # the enterprise takes a submission back before it is certified
    start_review = "start_review"
    return_ = "return"  # back to draft, with what to change
    certify = "certify"
    publish = "publish"
    revoke = "revoke"


Party = Literal["enterprise", "verifier", "regulator"]


@dataclass(frozen=True)
class Transition:
    sources: frozenset[State]
    target: State
    # who: (party, roles); "enterprise" is the owning tenant, "verifier" the addressed body
    who: tuple[tuple[Party, frozenset[Role]], ...]
    comment_required: bool = False


_ENTERPRISE_WRITERS = frozenset({Role.admin, Role.member})
TRANSITIONS: dict[Action, Transition] = {
    Action.submit: Transition(
        frozenset({State.draft}), State.submitted, (("enterprise", _ENTERPRISE_WRITERS),)
    ),
    Action.withdraw: Transition(
        frozenset({State.submitted, State.under_review}),
        State.draft,
        (("enterprise", _ENTERPRISE_WRITERS),),
    ),
    Action.start_review: Transition(
        frozenset({State.submitted}),
        State.under_review,
        (("verifier", frozenset({Role.verifier})),),
    ),
    Action.return_: Transition(
        frozenset({State.submitted, State.under_review}),
        State.draft,
        (("verifier", frozenset({Role.verifier})),),
        comment_required=True,
    ),
    Action.certify: Transition(
        frozenset({State.under_review}),
        State.certified,
        (("verifier", frozenset({Role.verifier})),),
    ),
    Action.publish: Transition(
        frozenset({State.certified}), State.published, (("enterprise", frozenset({Role.admin})),)
    ),
    Action.revoke: Transition(
        frozenset({State.certified, State.published}),
        State.revoked,
        (
            ("verifier", frozenset({Role.verifier, Role.admin})),
            ("regulator", frozenset({Role.admin})),
        ),
        comment_required=True,
    ),
}


def effective_state(state: State | str, valid_until: datetime | None, now: datetime) -> State:
    """The state a reader sees: a certified or published footprint past its validity is
    expired. Expiry is computed on every read, never stored, so it cannot lag behind."""
    state = State(state)
    live = state in (State.certified, State.published)
    if live and valid_until is not None and _aware(valid_until) <= now:
        return State.expired
    return state


def may(action: Action, party: Party | None, role: Role | None) -> bool:
    """Whether a principal of `party` with `role` may take `action` (any state)."""
    return any(p == party and role in roles for p, roles in TRANSITIONS[action].who)


def actions_for(state: State, party: Party | None, role: Role | None) -> list[Action]:
    """What the caller may do now (the web UI's buttons)."""
    return [a for a, t in TRANSITIONS.items() if State(state) in t.sources and may(a, party, role)]


# --- schemas -------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubmissionCreate(_In):
    product: str = Field(description="product URN", examples=["urn:openpcf:product:demo:cell"])
    calculation_id: str = Field(description="UUID of a stored calculation of the product")
    verifier: str = Field(description="slug of the verification body (a verifier tenant)")
    sector: str | None = Field(
        default=None, max_length=100, description="default: the product rule's sector"
    )
    comment: str | None = Field(default=None, max_length=5000)


class FindingAcknowledgement(_In):
    """The verifier saw an open finding of the result and says why the result is certified
    nonetheless; recorded in the signed certificate and the submission's history."""

    finding: str = Field(max_length=400, description="the finding's id, as the evidence lists it")
    comment: str = Field(min_length=1, max_length=2000, description="why it does not stand in "
                         "the way of the certificate")  # fmt: skip


class Finding(_Out):
    """An open finding of a stored result: a breach of its product rule or profile."""

    id: str = Field(description="rule/CODE, with @line where the model names one")
    code: str
    rule: str
    message: str
    line: int | None = None


def findings_of(violations: Iterable[Any]) -> list[Finding]:
    """The open findings of a result's violations, one per id (same code, rule and line)."""
    out: dict[str, Finding] = {}
    for v in violations:
        fid = f"{v.rule}/{v.code}" + (f"@{v.line}" if v.line else "")
        out.setdefault(fid, Finding(id=fid, code=v.code, rule=v.rule, message=v.message,
                                    line=v.line))  # fmt: skip
    return list(out.values())


class TransitionRequest(_In):
    action: Action
    comment: str | None = Field(
        default=None, max_length=5000, description="required to return and to revoke"
    )
    valid_days: int | None = Field(
        default=None, ge=1, le=3650, description=f"certify only; default {DEFAULT_VALID_DAYS}"
    )
    calculation_id: str | None = Field(
        default=None, description="submit only: replace the calculation (after a return)"
    )
    acknowledgements: list[FindingAcknowledgement] = Field(
        default_factory=list,
        max_length=200,
        description="certify only: one per open finding of the result (the evidence lists "
        "them), each with the verifier's comment",
    )

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"action": "submit", "comment": "Ready for verification"},
                {"action": "certify", "valid_days": 1095},
                {
                    "action": "certify",
                    "acknowledgements": [
                        {
                            "finding": "gb-t-24067/DATA_QUALITY_MISSING@14",
                            "comment": "ratings checked on site",
                        }
                    ],
                },
                {"action": "revoke", "comment": "Supplier data found wrong"},
            ]
        },
    )


class HistoryEntry(_Out):
    at: datetime
    action: str
    from_state: State | None
    to_state: State
    actor: str
    tenant: str
    role: Role
    comment: str | None
    acknowledged_findings: list[dict[str, Any]] = Field(
        default_factory=list,
        description="certify: each open finding the verifier acknowledged, with the comment "
        "(as signed in the certificate)",
    )


class SubmissionInfo(_Out):
    id: str = Field(description="submission UUID")
    tenant: str = Field(description="the enterprise")
    product: str = Field(description="product URN")
    product_name: str
    calculation_id: str
    verifier: str = Field(description="slug of the verification body")
    verifier_name: str
    state: State = Field(description="stored state (never 'expired')")
    status: State = Field(description="state as seen now: 'expired' past validity")
    sector: str | None
    certificate_id: str | None
    valid_until: datetime | None
    created_by: str
    created_at: datetime | None
    updated_at: datetime | None
    history: list[HistoryEntry]
    actions: list[Action] = Field(description="what the caller may do now")


class EvidenceModel(_Out):
    product: str
    number: int
    sha256: str
    media_type: str
    text: str = Field(description="the model document (bill of materials) as uploaded")


class Evidence(_Out):
    """What a verifier reviews: readable by the enterprise and the addressed body only."""

    submission: SubmissionInfo
    calculation: CalculationInfo
    result_sha256: str = Field(description="sha256 of the canonical stored result")
    model_versions: list[EvidenceModel]
    findings: list[Finding] = Field(
        default_factory=list,
        description="open findings of the result; certify acknowledges each with a comment",
    )
    meter_proofs: list[dict[str, Any]] = Field(
        default_factory=list,
        description="for each meter a metered direct connection names: its readings over the "
        "period and the ledger entries chaining them, checked against the stored readings",
    )


class Integrity(_Out):
    ok: bool
    signature_valid: bool
    result_matches: bool = Field(
        description="the stored footprint still hashes to the certificate's result_sha256"
    )
    message: str


class CertificateInfo(_Out):
    certificate_id: str
    status: State
    product: str
    product_name: str
    tenant: str
    enterprise: str
    verifier: str
    verifier_name: str
    rule: str
    sector: str | None
    province: str | None
    pcf: float
    declared_unit: str
    issued_at: datetime
    valid_until: datetime
    published_at: datetime | None
    revoked_at: datetime | None
    revocation_reason: str | None
    integrity: Integrity
    document: dict[str, Any] = Field(description="the signed certificate")


class SigningKeyInfo(_Out):
    fingerprint: str = Field(examples=["sha256:3b1f…"])
    algorithm: str = ALGORITHM
    body: str = Field(description="slug of the verification body")
    body_name: str
    owner: str = Field(description="the verifier user whose key it is")
    public_key: str = Field(description="base64 of the raw 32-byte Ed25519 public key")
    public_key_pem: str
    created_at: datetime | None
    retired_at: datetime | None


class BodyInfo(_Out):
    slug: str
    name: str
    kind: TenantKind


# --- the document --------------------------------------------------------------------------


def fingerprint(public_raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(public_raw).hexdigest()


def public_raw(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def sha256_of_result(result_json: str) -> str:
    """sha256 (hex) of the canonical form of a stored result's JSON."""
    return hashlib.sha256(canonical_json(parse_strict(result_json, "stored result"))).hexdigest()


def instant(at: datetime) -> str:
    """A document time: UTC, seconds, 'Z'."""
    return _aware(at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def signed_bytes(document: Mapping[str, Any]) -> bytes:
    """What the signature covers: the canonical form of the document without `signature`."""
    return canonical_json({k: v for k, v in document.items() if k != "signature"})


def sign(body: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The document with its key and signature; `body` holds everything else."""
    raw = public_raw(key.public_key())
    doc = dict(body)
    doc["key"] = {
        "algorithm": ALGORITHM,
        "fingerprint": fingerprint(raw),
        "public_key": base64.b64encode(raw).decode(),
    }
    doc["signature"] = base64.b64encode(key.sign(signed_bytes(doc))).decode()
    return doc


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str


def check_document(
    data: bytes,
    now: datetime,
    trusted: Iterable[str] | None = None,
) -> tuple[dict[str, Any] | None, list[Check]]:
    """Every check of a certificate file: form, canonical bytes, signature, validity dates and,
    when `trusted` (fingerprints) is given, that the signing key is trusted. Offline."""
    checks: list[Check] = []
    try:
        doc = parse_strict(data.decode("utf-8"), "certificate")
        if not isinstance(doc, dict):
            raise NotCanonicalizable("certificate: expected a JSON object")
    except (UnicodeDecodeError, NotCanonicalizable) as exc:
        return None, [Check("format", False, str(exc))]
    missing = [f for f in _REQUIRED if f not in doc]
    if doc.get("format") != FORMAT or missing:
        why = f"missing {', '.join(missing)}" if missing else f"format is not {FORMAT}"
        return doc, [Check("format", False, f"not an openpcf certificate: {why}")]
    checks.append(Check("format", True, FORMAT))
    body = data[:-1] if data.endswith(b"\n") else data
    try:
        canonical = body == canonical_json(doc)
    except NotCanonicalizable as exc:
        return doc, [*checks, Check("canonical form", False, str(exc))]
    checks.append(
        Check("canonical form", True, "the file is in RFC 8785 canonical form")
        if canonical
        else Check(
            "canonical form",
            False,
            "the file is not in RFC 8785 canonical form (re-serialised or edited); "
            "the signature below is checked over the canonical form of its content",
        )
    )
    checks.append(_signature(doc))
    checks.append(_validity(doc, now))
    if trusted is not None:
        fp = str(doc.get("key", {}).get("fingerprint", ""))
        ok = fp in set(trusted)
        checks.append(
            Check(
                "trusted key",
                ok,
                f"key {fp} is in the trust list"
                if ok
                else f"key {fp} is not in the trust list: the signature may be genuine, but "
                "not by a key you trust",
            )
        )
    return doc, checks


_REQUIRED = ("format", "certificate_id", "product", "pcf", "key", "signature", "issued_at",
             "valid_until", "calculation", "verifier")  # fmt: skip


def _signature(doc: Mapping[str, Any]) -> Check:
    key = doc.get("key") or {}
    try:
        raw = base64.b64decode(str(key.get("public_key", "")), validate=True)
        public = Ed25519PublicKey.from_public_bytes(raw)
        signature = base64.b64decode(str(doc.get("signature", "")), validate=True)
    except ValueError as exc:
        return Check("signature", False, f"unreadable key or signature: {exc}")
    if key.get("algorithm") != ALGORITHM:
        return Check("signature", False, f"unsupported algorithm {key.get('algorithm')!r}")
    if fingerprint(raw) != key.get("fingerprint"):
        return Check("signature", False, "the key's fingerprint does not match its public key")
    try:
        public.verify(signature, signed_bytes(doc))
    except InvalidSignature:
        return Check(
            "signature",
            False,
            "the signature does not match the content: the certificate was altered after "
            "signing, or signed by another key",
        )
    return Check("signature", True, f"Ed25519 signature valid, key {key['fingerprint']}")


def _validity(doc: Mapping[str, Any], now: datetime) -> Check:
    try:
        issued = parse_instant(str(doc["issued_at"]))
        until = parse_instant(str(doc["valid_until"]))
    except ValueError as exc:
        return Check("validity", False, f"unreadable dates: {exc}")
    if now < issued:
        return Check("validity", False, f"not valid before {doc['issued_at']}")
    if now >= until:
        return Check("validity", False, f"expired on {doc['valid_until']}")
    return Check("validity", True, f"valid from {doc['issued_at']} until {doc['valid_until']}")


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
