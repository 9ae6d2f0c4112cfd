"""Certification: submissions of stored footprints to verification bodies, their workflow,
the evidence verifiers review, signed certificates and verifiers' public keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.certification import (
    BodyInfo,
    CertificateInfo,
    Evidence,
    SigningKeyInfo,
    State,
    SubmissionCreate,
    SubmissionInfo,
    TransitionRequest,
)
from openpcf.domain.platform import Role
from openpcf.services.certification import signing
from openpcf.services.certification import workflow as certification
from openpcf.services.platform.access import require

router = APIRouter(prefix="/certification", tags=["certification"])

SubmissionId = Annotated[str, Path(description="submission UUID")]
CertificateId = Annotated[str, Path(description="certificate id", examples=["pcf-3f9a1c2b7d4e"])]


@router.get(
    "/bodies",
    response_model=list[BodyInfo],
    summary="List verification bodies",
    responses=responses(401),
)
def list_bodies(db: SessionDep, _who: PrincipalDep) -> list[BodyInfo]:
    """Tenants of kind verifier, to which an enterprise may submit a footprint."""
    return certification.verification_bodies(db)


@router.post(
    "/submissions",
    response_model=SubmissionInfo,
    status_code=status.HTTP_201_CREATED,
    summary="Create a draft submission of a stored calculation",
    responses=responses(401, 403, 404, 422),
)
def create_submission(new: SubmissionCreate, db: SessionDep, who: PrincipalDep) -> SubmissionInfo:
    """An admin or member of an enterprise addresses one stored calculation of its product to a
    verification body. The draft is seen by the body only once submitted."""
    return certification.create_submission(db, who, new)


@router.get(
    "/submissions",
    response_model=list[SubmissionInfo],
    summary="List the submissions the caller sees",
    responses=responses(401),
)
def list_submissions(
    db: SessionDep,
    who: PrincipalDep,
    state: Annotated[State | None, Query(description="state as seen now")] = None,
) -> list[SubmissionInfo]:
    """An enterprise: its own; a verification body: those submitted to it; a regulator: every
    submitted one."""
    return certification.list_submissions(db, who, state)


@router.get(
    "/submissions/{submission_id}",
    response_model=SubmissionInfo,
    summary="Get a submission with its history",
    responses=responses(401, 404),
)
def get_submission(
    submission_id: SubmissionId, db: SessionDep, who: PrincipalDep
) -> SubmissionInfo:
    return certification.get_submission(db, who, submission_id)


@router.post(
    "/submissions/{submission_id}/transitions",
    response_model=SubmissionInfo,
    summary="Move a submission through the workflow",
    responses=responses(401, 403, 404, 409, 422),
)
def transition(
    submission_id: SubmissionId, request: TransitionRequest, db: SessionDep, who: PrincipalDep
) -> SubmissionInfo:
    """`submit` (enterprise admin/member), `start_review`, `return` (with a comment) and
    `certify` (a verifier of the addressed body; signs the certificate with their key),
    `publish` (enterprise admin), `revoke` (with a reason: the issuing body or a regulator's
    admin). 403: wrong role or party; 409: not allowed from the current state."""
    return certification.transition(db, who, submission_id, request)


@router.get(
    "/submissions/{submission_id}/evidence",
    response_model=Evidence,
    summary="The evidence a verifier reviews",
    responses=responses(401, 403, 404),
)
def get_evidence(submission_id: SubmissionId, db: SessionDep, who: PrincipalDep) -> Evidence:
    """The full result and the model version texts (the bill of materials): for the enterprise
    and the verification body the submission was sent to; nobody else."""
    return certification.get_evidence(db, who, submission_id)


@router.get(
    "/certificates/{certificate_id}",
    response_model=CertificateInfo,
    summary="Get a certificate with its status and integrity",
    responses=responses(401, 404),
)
def get_certificate(
    certificate_id: CertificateId, db: SessionDep, who: PrincipalDep
) -> CertificateInfo:
    """Anyone, once published; before that the enterprise, the issuing body and regulators.
    `integrity` flags a footprint changed after certification."""
    return certification.get_certificate(db, who, certificate_id)


@router.get(
    "/certificates/{certificate_id}/file",
    summary="Download the signed certificate file",
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}}}},
        **responses(401, 404),
    },
    response_class=Response,
)
def certificate_file(certificate_id: CertificateId, db: SessionDep, who: PrincipalDep) -> Response:
    """The canonical JSON bytes exactly as signed; check offline with
    `openpcf certificate verify FILE`."""
    data = certification.certificate_file(db, who, certificate_id)
    headers = {"Content-Disposition": f'attachment; filename="{certificate_id}.json"'}
    return Response(data, media_type="application/json", headers=headers)


@router.get(
    "/keys",
    response_model=list[SigningKeyInfo],
    summary="Verifiers' public keys",
    responses=responses(401),
)
def list_keys(
    db: SessionDep,
    _who: PrincipalDep,
    body: Annotated[str | None, Query(description="one verification body's keys")] = None,
) -> list[SigningKeyInfo]:
    """Every verification body's Ed25519 public keys (retired ones too: they check old
    certificates). Save as a trust list for `openpcf certificate verify --trust`."""
    return signing.list_keys(db, body)


@router.post(
    "/keys",
    response_model=SigningKeyInfo,
    status_code=status.HTTP_201_CREATED,
    summary="Make a new signing key (rotate)",
    responses=responses(401, 403),
)
def create_key(db: SessionDep, who: PrincipalDep) -> SigningKeyInfo:
    """A verifier user makes a new key for themself; their earlier key is retired."""
    require(who, Role.verifier)
    return signing.new_key_for(db, who, who.subject)
