"""Stored calculations (footprints) by id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.platform import CalculationInfo
from openpcf.services.calculation import stored as calculations

router = APIRouter(prefix="/calculations", tags=["calculations"])


@router.get(
    "/{calculation_id}",
    response_model=CalculationInfo,
    summary="Get a calculation",
    responses=responses(401, 404),
)
def get_calculation(
    calculation_id: Annotated[str, Path(description="calculation UUID")],
    db: SessionDep,
    who: PrincipalDep,
) -> CalculationInfo:
    """The owning tenant gets the full result; anyone gets the footprint of a public product
    (totals, stages, gases, provenance; no input lines)."""
    return calculations.get_calculation(db, who, calculation_id)
