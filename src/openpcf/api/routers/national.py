"""The national layer's overview: the national list of products and its rule coverage, and the
grades and green-procurement thresholds regulators set."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.services.catalogue import procurement
from openpcf.services.catalogue.national_products import ProductCatalogue, product_catalogue
from openpcf.services.catalogue.procurement import ThresholdCreate, ThresholdInfo

router = APIRouter(prefix="/national", tags=["methodology"])


@router.get(
    "/products",
    response_model=ProductCatalogue,
    summary="The products national lists name, each with its rule status (published, draft, "
    "missing), and progress toward 100 rules by 2027 and 200 by 2030",
    responses=responses(401),
)
def products(db: SessionDep) -> ProductCatalogue:
    return product_catalogue(db)


@router.get(
    "/procurement-thresholds",
    response_model=list[ThresholdInfo],
    summary="Grades and green-procurement thresholds by product rule and declared unit",
    responses=responses(401),
)
def list_thresholds(
    db: SessionDep, rule: Annotated[str | None, Query(max_length=100)] = None
) -> list[ThresholdInfo]:
    return procurement.thresholds(db, rule)


@router.post(
    "/procurement-thresholds",
    response_model=ThresholdInfo,
    status_code=status.HTTP_201_CREATED,
    summary="Set grades and a green-procurement threshold (a regulator), with source and dates",
    responses=responses(401, 403, 422),
)
def set_threshold(new: ThresholdCreate, db: SessionDep, who: PrincipalDep) -> ThresholdInfo:
    return procurement.set_threshold(db, who, new)
