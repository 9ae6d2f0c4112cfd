"""Methodology profiles and product rules (public reference data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.methodology import ProductRule, Profile
from openpcf.services.calculation import methodology
from openpcf.services.catalogue.rule_versions import RuleListing, rule_listing

router = APIRouter(tags=["methodology"])


@router.get(
    "/profiles",
    response_model=list[Profile],
    summary="List methodology profiles",
    responses=responses(401),
)
def list_profiles(_: PrincipalDep) -> list[Profile]:
    return methodology.list_profiles()


@router.get(
    "/profiles/{profile_id}",
    response_model=Profile,
    summary="Get a profile",
    responses=responses(401, 404),
)
def get_profile(
    profile_id: Annotated[str, Path(examples=["gb-t-24067"])], _: PrincipalDep
) -> Profile:
    return methodology.get_profile(profile_id)


@router.get(
    "/rules",
    response_model=list[RuleListing],
    summary="List product rules: the bundled ones and every version published in the store",
    responses=responses(401),
)
def list_rules(_: PrincipalDep, db: SessionDep) -> list[RuleListing]:
    return rule_listing(db)


@router.get(
    "/rules/{rule_id}",
    response_model=ProductRule,
    summary="Get a product rule",
    responses=responses(401, 404),
)
def get_rule(rule_id: Annotated[str, Path(examples=["cement"])], _: PrincipalDep) -> ProductRule:
    return methodology.get_rule(rule_id)
