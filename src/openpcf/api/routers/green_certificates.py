"""Green electricity certificates nationally: issuance records, claims, the regulator's view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from openpcf.api.deps import PrincipalDep, SessionDep, text_body
from openpcf.api.errors import responses
from openpcf.domain.platform import Principal
from openpcf.io.gec_issuance_csv import COLUMNS, MAX_BYTES
from openpcf.services.certification import gec_issuance
from openpcf.services.certification.gec_issuance import ClaimSummary, IssuanceImport
from openpcf.services.certification.green_certificates import list_claims
from openpcf.services.platform.access import signed_in

router = APIRouter(prefix="/green-certificates", tags=["green certificates"])
EXAMPLE = (
    ",".join(COLUMNS) + "\nGEC-QH-2025-000001,1,MWh,solar-pv,Golmud PV 200 MW,CN-QH,"
    "2025-01-01,2025-01-31,China Green Certificate Trading Platform\n"
)


async def csv_document(request: Request) -> str:
    """The raw request body: a UTF-8 CSV, bounded in size."""
    text, _ = await text_body(request, ("text/csv", "text/plain"), MAX_BYTES, "the file")
    return text.removeprefix("\ufeff")


@router.post(
    "/issuances",
    response_model=IssuanceImport,
    status_code=status.HTTP_201_CREATED,
    summary="Import issued certificates (a regulator): CSV " + ",".join(COLUMNS),
    responses=responses(401, 403, 409, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": EXAMPLE}},
        }
    },
)
def import_issuances(
    text: Annotated[str, Depends(csv_document)], db: SessionDep, who: PrincipalDep
) -> IssuanceImport:
    """All rows or none; a certificate already recorded with other data is a 409."""
    return gec_issuance.import_issuances(db, who, text, "request body")


@router.get(
    "/claims",
    summary="The tenant's certificate claims",
    responses=responses(401),
)
def claims(db: SessionDep, who: PrincipalDep) -> list[dict[str, Any]]:
    return _claims(db, signed_in(who))


@router.get(
    "/summary",
    response_model=ClaimSummary,
    summary="Claims across the platform by province and generation type (a regulator)",
    responses=responses(401, 403),
)
def summary(db: SessionDep, who: PrincipalDep) -> ClaimSummary:
    return gec_issuance.claim_summary(db, who)


def _claims(db: SessionDep, who: Principal) -> list[dict[str, Any]]:
    with db.begin():
        return [
            {"certificate_id": r.certificate_id, "product": r.product, "kwh": r.kwh,
             "generation": r.generation, "claimed_at": r.claimed_at.isoformat()}
            for r in list_claims(db, who.tenant or "")
        ]  # fmt: skip
