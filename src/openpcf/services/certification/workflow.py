"""The certification workflow: an enterprise submits a stored calculation to a verification
body; the body's verifiers review it and sign a certificate; the enterprise publishes it; the
body or a regulator may revoke it; it expires when its validity ends (computed on read).

    draft -submit-> submitted -start_review-> under_review -certify-> certified -publish-> published
    submitted/under_review -return-> draft      certified/published -revoke-> revoked

Who may do what is `domain.certification.TRANSITIONS`; every transition is a history row with
its comment, an audit entry, and (certify, publish, revoke) a ledger entry.

Who sees what: the enterprise sees its submissions; a verification body sees those ever
submitted to it; a regulator sees every submitted one (no evidence). The evidence (full
result, model version texts: the bill of materials) is read by the enterprise and the
addressed body only: submitting to a body is the deliberate grant, and it is in the history
and the audit log. Customers and the public see published certificates (totals, stages, gases,
provenance hashes), never a bill of materials. Anything a caller may not see is "not found".

Public functions (stable; the web UI calls them): `verification_bodies`, `create_submission`,
`list_submissions`, `get_submission`, `transition`, `get_evidence`, `get_certificate`,
`certificate_file`, `integrity_of`.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from openpcf.domain.canonical import NotCanonicalizable, canonical_json
from openpcf.domain.certification import (
    DEFAULT_VALID_DAYS,
    FORMAT,
    TRANSITIONS,
    Action,
    BodyInfo,
    CertificateInfo,
    Evidence,
    EvidenceModel,
    HistoryEntry,
    Integrity,
    Party,
    State,
    SubmissionCreate,
    SubmissionInfo,
    TransitionRequest,
    actions_for,
    check_document,
    effective_state,
    instant,
    may,
    sha256_of_result,
    sign,
)
from openpcf.domain.errors import OpenpcfError
from openpcf.domain.ledger import CERTIFICATE_ISSUED, CERTIFICATE_PUBLISHED, CERTIFICATE_REVOKED
from openpcf.domain.platform import Principal, Role, TenantKind
from openpcf.domain.result import Result
from openpcf.services.calculation.stored import _info as calculation_info
from openpcf.services.catalogue.products import loaded_version, own_product
from openpcf.services.certification import ledger, signing
from openpcf.services.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from openpcf.services.platform.access import signed_in, writer
from openpcf.services.platform.accounts import utc
from openpcf.store.audit import attribute
from openpcf.store.models import Calculation, ModelVersion, Tenant
from openpcf.store.models_certification import IssuedCertificate, Submission, SubmissionEvent

CERTIFICATE_PREFIX = "pcf-"


# --- reading -------------------------------------------------------------------------------


def verification_bodies(session: Session) -> list[BodyInfo]:
    """Tenants of kind verifier: where an enterprise may address a submission."""
    rows = session.scalars(
        select(Tenant).where(Tenant.kind == TenantKind.verifier.value).order_by(Tenant.slug)
    )
    return [BodyInfo(slug=t.slug, name=t.name, kind=TenantKind(t.kind)) for t in rows]


def list_submissions(
    session: Session, who: Principal, state: State | None = None
) -> list[SubmissionInfo]:
    """The submissions the caller sees (see the module docstring), newest first. `state`
    filters by the state as seen now (so 'expired' works)."""
    signed_in(who)
    query = select(Submission).where(_visible(who, _tenant_kind(session, who)))
    rows = session.scalars(query.order_by(Submission.created_at.desc(), Submission.id.desc()))
    out = [_info(session, who, s) for s in rows.unique()]
    return [s for s in out if state is None or s.status == state]


def get_submission(session: Session, who: Principal, submission_id: str) -> SubmissionInfo:
    return _info(session, who, _submission(session, who, submission_id))


def get_evidence(session: Session, who: Principal, submission_id: str) -> Evidence:
    """The full result and the model version texts, for the enterprise and the addressed body.

    A regulator sees that a submission exists but not its evidence (403)."""
    sub = _submission(session, who, submission_id)
    party = _party(session, who, sub)
    if party not in ("enterprise", "verifier"):
        raise PermissionDenied(
            "the evidence (bill of materials) is for the enterprise and the verification body "
            "it was submitted to only"
        )
    calc = sub.calculation
    versions = session.scalars(
        select(ModelVersion).where(ModelVersion.id.in_(_used_version_ids(session, sub)))
    )
    models = [
        EvidenceModel(
            product=v.product.urn,
            number=v.number,
            sha256=v.sha256,
            media_type=v.media_type,
            text=v.text,
        )
        for v in versions
    ]
    result = Result.model_validate_json(calc.result)
    # the owner's view of the calculation (full result): granted by the submission
    info = calculation_info(calc, sub.product.urn, result, owner=True)
    return Evidence(
        submission=_info(session, who, sub),
        calculation=info,
        result_sha256=sha256_of_result(calc.result),
        model_versions=sorted(models, key=lambda m: (m.product, m.number)),
    )


def get_certificate(session: Session, who: Principal, certificate_id: str) -> CertificateInfo:
    """A certificate with its status and integrity: anyone once published; before that the
    enterprise, the issuing body and regulators."""
    cert = session.scalar(
        select(IssuedCertificate).where(IssuedCertificate.certificate_id == certificate_id)
    )
    if cert is None or (cert.published_at is None and _cert_party(session, who, cert) is None):
        raise NotFound(f"no certificate {certificate_id}")
    return certificate_info(session, cert)


def certificate_file(session: Session, who: Principal, certificate_id: str) -> bytes:
    """The signed certificate file: its canonical JSON bytes exactly as signed."""
    info = get_certificate(session, who, certificate_id)
    return canonical_json(info.document)


def certificate_info(session: Session, cert: IssuedCertificate) -> CertificateInfo:
    now = datetime.now(UTC)
    state = State.revoked if cert.revoked_at is not None else (
        State.published if cert.published_at is not None else State.certified
    )  # fmt: skip
    return CertificateInfo(
        **certificate_fields(cert),
        status=effective_state(state, cert.valid_until, now),
        integrity=integrity_of(session, cert),
        document=json.loads(cert.document),
    )


def certificate_fields(cert: IssuedCertificate) -> dict[str, Any]:
    """What a certificate's views (its full record, a registry entry) show of the stored row."""
    return {
        "certificate_id": cert.certificate_id,
        "product": cert.product_urn,
        "product_name": cert.product_name,
        "tenant": cert.tenant.slug,
        "enterprise": cert.tenant.name,
        "verifier": cert.verifier.slug,
        "verifier_name": cert.verifier.name,
        "rule": cert.rule,
        "sector": cert.sector,
        "province": cert.province,
        "pcf": cert.pcf,
        "declared_unit": cert.declared_unit,
        "issued_at": utc(cert.issued_at),
        "valid_until": utc(cert.valid_until),
        "published_at": utc(cert.published_at),
        "revoked_at": utc(cert.revoked_at),
        "revocation_reason": cert.revocation_reason,
    }


def integrity_of(session: Session, cert: IssuedCertificate) -> Integrity:
    """Whether the stored certificate still holds: its signature by a key the issuing body
    registered, and the stored footprint still hashing to what was certified (a footprint
    changed after certification is flagged here, on every read)."""
    _, checks = check_document(cert.document.encode("utf-8"), utc(cert.issued_at))  # type: ignore[arg-type]
    by_name = {c.name: c for c in checks}
    problems = [c.message for c in checks if not c.ok and c.name != "validity"]
    doc = json.loads(cert.document)
    key = signing.key_by_fingerprint(session, cert.key_fingerprint)
    registered = (
        key is not None
        and key.tenant_id == cert.verifier_tenant_id
        and key.public_key == doc.get("key", {}).get("public_key")
    )
    if not registered:
        problems.append("the signing key is not a registered key of the issuing body")
    signature_ok = by_name.get("signature") is not None and by_name["signature"].ok and registered
    calc = session.get(Calculation, cert.calculation_id)
    certified = doc.get("calculation", {}).get("result_sha256")
    try:
        now_hash = sha256_of_result(calc.result) if calc is not None else None
    except NotCanonicalizable:
        now_hash = None
    matches = calc is not None and now_hash == certified and calc.pcf == cert.pcf
    if not matches:
        problems.append(
            "the stored footprint no longer matches the certified one (result sha256 "
            f"{(now_hash or 'unreadable')[:16]}... != certified {str(certified)[:16]}...): it was "
            "changed after certification"
        )
    ok = signature_ok and matches
    return Integrity(
        ok=ok,
        signature_valid=signature_ok,
        result_matches=matches,
        message="signature valid; footprint unchanged since certification"
        if ok
        else "; ".join(problems),
    )


# --- writing -------------------------------------------------------------------------------


def create_submission(session: Session, who: Principal, new: SubmissionCreate) -> SubmissionInfo:
    """A draft submission of one stored calculation of the caller's product to a body."""
    with session.begin():
        writer(session, who)
        if _tenant_kind(session, who) != TenantKind.enterprise:
            raise PermissionDenied("only an enterprise submits footprints for certification")
        product = own_product(session, who, new.product)
        calc = _calculation_of(session, product.id, new.calculation_id)
        body = session.scalar(
            select(Tenant).where(
                Tenant.slug == new.verifier, Tenant.kind == TenantKind.verifier.value
            )
        )
        if body is None:
            raise NotFound(
                f"no verification body '{new.verifier}' (GET /certification/bodies lists them)"
            )
        now = datetime.now(UTC)
        sub = Submission(
            uuid=str(uuid.uuid4()),
            tenant_id=product.tenant_id,
            product_id=product.id,
            calculation_id=calc.id,
            verifier_tenant_id=body.id,
            state=State.draft.value,
            sector=new.sector,
            created_by=who.actor,
            updated_at=now,
        )
        sub.tenant, sub.verifier, sub.product, sub.calculation = product.tenant, body, product, calc
        session.add(sub)
        session.flush()
        _event(session, who, sub, "create", None, State.draft, new.comment, now)
        return _info(session, who, sub)


def transition(
    session: Session, who: Principal, submission_id: str, request: TransitionRequest
) -> SubmissionInfo:
    """Take `request.action` on the submission, if the caller's party and role allow it and the
    submission's state does: 404 when the caller cannot see it, 403 for the wrong role or
    party, 409 for the wrong state, 422 for a missing comment."""
    with session.begin():
        signed_in(who)
        sub = _submission(session, who, submission_id, lock=True)
        party = _party(session, who, sub)
        action = request.action
        rule = TRANSITIONS[action]
        if not may(action, party, who.role):
            allowed = " or ".join(
                f"a {'/'.join(sorted(r.value for r in roles))} of the {p}" for p, roles in rule.who
            )
            raise PermissionDenied(
                f"'{action.value}' is for {allowed}; you are a {who.role} of the {party}",
                details={"action": action.value, "party": party, "role": who.role},
            )
        cert = _certificate_of(session, sub)
        now = datetime.now(UTC)
        current = State(sub.state)
        if action is not Action.revoke:  # an expired certificate may still be revoked
            current = effective_state(current, cert.valid_until if cert else None, now)
        if current not in rule.sources:
            sources = ", ".join(sorted(s.value for s in rule.sources))
            raise Conflict(
                f"cannot '{action.value}' a submission that is {current.value} (only from: "
                f"{sources})",
                details={"state": current.value, "allowed_from": sorted(rule.sources)},
            )
        comment = (request.comment or "").strip() or None
        if rule.comment_required and comment is None:
            raise InvalidRequest(f"'{action.value}' needs a comment saying why")
        if request.valid_days is not None and action is not Action.certify:
            raise InvalidRequest("valid_days is for 'certify' only")
        if request.calculation_id is not None and action is not Action.submit:
            raise InvalidRequest("calculation_id is for 'submit' only")
        attribute(session, who.actor, sub.tenant.slug)
        if action is Action.submit and request.calculation_id is not None:
            sub.calculation = _calculation_of(session, sub.product_id, request.calculation_id)
        elif action is Action.certify:
            _certify(session, who, sub, request.valid_days or DEFAULT_VALID_DAYS, now)
        elif action is Action.publish:
            assert cert is not None
            cert.published_at = now
            ledger.append(session, who.actor, CERTIFICATE_PUBLISHED,
                          {"certificate_id": cert.certificate_id, "product": cert.product_urn})  # fmt: skip
        elif action is Action.revoke:
            assert cert is not None
            cert.revoked_at, cert.revoked_by, cert.revocation_reason = now, who.actor, comment
            ledger.append(session, who.actor, CERTIFICATE_REVOKED, {
                "certificate_id": cert.certificate_id, "product": cert.product_urn,
                "reason": comment, "by": who.actor, "by_tenant": who.tenant,
            })  # fmt: skip
        before = State(sub.state)
        sub.state = rule.target.value
        sub.updated_at = now
        _event(session, who, sub, action.value, before, rule.target, comment, now)
        session.flush()
        return _info(session, who, sub)


def _certify(
    session: Session, who: Principal, sub: Submission, valid_days: int, now: datetime
) -> IssuedCertificate:
    """Sign the certificate of the submission's calculation with the verifier's key."""
    key_row, private = signing.active_key(session, who)
    calc = sub.calculation
    result = Result.model_validate_json(calc.result)
    version = session.get(ModelVersion, calc.model_version_id)
    assert version is not None
    try:
        province = loaded_version(version).model.product.region
        result_sha = sha256_of_result(calc.result)
    except (OpenpcfError, NotCanonicalizable) as exc:
        raise Conflict(f"the stored calculation cannot be certified: {exc}") from None
    sector = sub.sector or _sector_of(result.rule)
    issued = now.replace(microsecond=0)
    until = issued + timedelta(days=valid_days)
    certificate_id = CERTIFICATE_PREFIX + secrets.token_hex(8)
    du = result.declared_unit
    body = {
        "format": FORMAT,
        "certificate_id": certificate_id,
        "product": {
            "urn": sub.product.urn,
            "name": sub.product.name,
            "enterprise": sub.tenant.name,
            "tenant": sub.tenant.slug,
            "region": province,
            "sector": sector,
        },
        "declared_unit": {"amount": du.amount, "unit": du.unit},
        "pcf": {"value": result.pcf.value, "unit": result.pcf.unit},
        "stages": dict(result.stages),
        "gases": dict(result.gases),
        "profile": result.profile,
        "gwp": result.gwp,
        "rule": result.rule,
        "factor_sets": list(calc.factor_sets),
        "calculation": {
            "id": calc.uuid,
            "result_sha256": result_sha,
            "input_hash": calc.input_hash,
            "software_version": calc.software_version,
        },
        "model_versions": [
            {"product": m["product"], "number": m["number"], "sha256": m["sha256"]}
            for m in calc.model_versions
        ],
        "verifier": {"body": sub.verifier.slug, "name": sub.verifier.name, "user": who.subject},
        "issued_at": instant(issued),
        "valid_until": instant(until),
    }
    document = sign(body, private)
    text = canonical_json(document).decode("utf-8")
    cert = IssuedCertificate(
        certificate_id=certificate_id,
        submission_id=sub.id,
        tenant_id=sub.tenant_id,
        verifier_tenant_id=sub.verifier_tenant_id,
        calculation_id=calc.id,
        product_urn=sub.product.urn,
        product_name=sub.product.name,
        rule=result.rule,
        sector=sector,
        province=province,
        declared_unit=f"{du.amount:g} {du.unit}",
        pcf=calc.pcf,
        key_fingerprint=key_row.fingerprint,
        document=text,
        issued_at=issued,
        valid_until=until,
    )
    session.add(cert)
    session.flush()
    ledger.append(session, who.actor, CERTIFICATE_ISSUED, {
        "certificate_id": certificate_id, "product": sub.product.urn,
        "document_sha256": _sha256(text), "result_sha256": result_sha,
        "verifier": sub.verifier.slug, "key": key_row.fingerprint,
        "valid_until": document["valid_until"],
    })  # fmt: skip
    return cert


# --- helpers -------------------------------------------------------------------------------


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sector_of(rule_id: str) -> str | None:
    from openpcf.rules.catalogue import product_rules

    rule = product_rules().get(rule_id)
    if rule is None:
        return None
    return rule.cbam.sector if rule.cbam is not None else rule.name


def _tenant_kind(session: Session, who: Principal) -> TenantKind | None:
    if who.tenant_id is None:
        return None
    kind = session.scalar(select(Tenant.kind).where(Tenant.id == who.tenant_id))
    return TenantKind(kind) if kind else None


def _ever_submitted() -> ColumnElement[bool]:
    return exists().where(
        SubmissionEvent.submission_id == Submission.id, SubmissionEvent.action == "submit"
    )


def _visible(who: Principal, kind: TenantKind | None) -> ColumnElement[bool]:
    own = Submission.tenant_id == who.tenant_id
    if kind is TenantKind.regulator:
        return or_(own, _ever_submitted())
    return or_(own, (Submission.verifier_tenant_id == who.tenant_id) & _ever_submitted())


def _submission(
    session: Session, who: Principal, submission_id: str, lock: bool = False
) -> Submission:
    signed_in(who)
    query = select(Submission).where(
        Submission.uuid == submission_id, _visible(who, _tenant_kind(session, who))
    )
    if lock:
        query = query.with_for_update(of=Submission)
    sub = session.scalars(query).unique().first()
    if sub is None:
        raise NotFound(f"no submission {submission_id}")
    return sub


def _party(session: Session, who: Principal, sub: Submission) -> Party | None:
    if who.tenant_id == sub.tenant_id:
        return "enterprise"
    if who.tenant_id == sub.verifier_tenant_id:
        return "verifier"
    if _tenant_kind(session, who) is TenantKind.regulator:
        return "regulator"
    return None


def _cert_party(session: Session, who: Principal, cert: IssuedCertificate) -> Party | None:
    if who.tenant_id is None:
        return None
    if who.tenant_id == cert.tenant_id:
        return "enterprise"
    if who.tenant_id == cert.verifier_tenant_id:
        return "verifier"
    if _tenant_kind(session, who) is TenantKind.regulator:
        return "regulator"
    return None


def _calculation_of(session: Session, product_id: int, calculation_id: str) -> Calculation:
    calc = session.scalar(
        select(Calculation).where(
            Calculation.uuid == calculation_id, Calculation.product_id == product_id
        )
    )
    if calc is None:
        raise NotFound(f"no calculation {calculation_id} of this product")
    return calc


def _certificate_of(session: Session, sub: Submission) -> IssuedCertificate | None:
    return session.scalar(
        select(IssuedCertificate).where(IssuedCertificate.submission_id == sub.id)
    )


def _used_version_ids(session: Session, sub: Submission) -> list[int]:
    """Ids of every model version the calculation used (the product's and sub-assemblies'),
    all of the enterprise's own tenant."""
    from openpcf.store.models import Product

    ids = []
    for m in sub.calculation.model_versions:
        found = session.scalar(
            select(ModelVersion.id)
            .join(Product, Product.id == ModelVersion.product_id)
            .where(
                Product.urn == m["product"],
                Product.tenant_id == sub.tenant_id,
                ModelVersion.number == m["number"],
            )
        )
        if found is not None:
            ids.append(found)
    return ids


def _event(
    session: Session,
    who: Principal,
    sub: Submission,
    action: str,
    before: State | None,
    after: State,
    comment: str | None,
    at: datetime,
) -> None:
    session.add(
        SubmissionEvent(
            submission_id=sub.id,
            action=action,
            from_state=before.value if before else None,
            to_state=after.value,
            actor=who.actor,
            actor_tenant=who.tenant or "",
            role=(who.role or Role.member).value,
            comment=comment,
            at=at,
        )
    )


def _info(session: Session, who: Principal, sub: Submission) -> SubmissionInfo:
    cert = _certificate_of(session, sub)
    events = session.scalars(
        select(SubmissionEvent)
        .where(SubmissionEvent.submission_id == sub.id)
        .order_by(SubmissionEvent.at, SubmissionEvent.id)
    )
    valid_until = utc(cert.valid_until) if cert else None
    status = effective_state(sub.state, valid_until, datetime.now(UTC))
    party = _party(session, who, sub)
    actions = actions_for(status, party, who.role)
    if status is State.expired and party is not None:
        actions = [a for a in actions_for(State(sub.state), party, who.role) if a is Action.revoke]
    return SubmissionInfo(
        id=sub.uuid,
        tenant=sub.tenant.slug,
        product=sub.product.urn,
        product_name=sub.product.name,
        calculation_id=sub.calculation.uuid,
        verifier=sub.verifier.slug,
        verifier_name=sub.verifier.name,
        state=State(sub.state),
        status=status,
        sector=cert.sector if cert else sub.sector,
        certificate_id=cert.certificate_id if cert else None,
        valid_until=valid_until,
        created_by=sub.created_by,
        created_at=utc(sub.created_at),
        updated_at=utc(sub.updated_at),
        history=[
            HistoryEntry(
                at=utc(e.at),  # type: ignore[arg-type]
                action=e.action,
                from_state=State(e.from_state) if e.from_state else None,
                to_state=State(e.to_state),
                actor=e.actor,
                tenant=e.actor_tenant,
                role=Role(e.role),
                comment=e.comment,
            )
            for e in events
        ],
        actions=actions,
    )
