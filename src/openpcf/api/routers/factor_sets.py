"""The tenant's own factor sets: drafts, then published (immutable) versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.platform import (
    FactorSetCreate,
    FactorSetDocument,
    FactorSetInfo,
    FactorSetUpdate,
)
from openpcf.services.catalogue import factor_sets

router = APIRouter(prefix="/factor-sets", tags=["factor sets"])
Name = Annotated[str, Path(examples=["acme-survey"])]
Version = Annotated[str, Path(examples=["2024.1"])]


@router.get(
    "",
    response_model=list[FactorSetInfo],
    summary="List the tenant's factor sets",
    responses=responses(401),
)
def list_sets(db: SessionDep, who: PrincipalDep) -> list[FactorSetInfo]:
    return factor_sets.list_factor_sets(db, who)


@router.post(
    "",
    response_model=FactorSetInfo,
    status_code=status.HTTP_201_CREATED,
    summary="Create a draft factor-set version",
    responses=responses(401, 403, 409, 422),
)
def create_set(new: FactorSetCreate, db: SessionDep, who: PrincipalDep) -> FactorSetInfo:
    return factor_sets.create_factor_set(db, who, new)


@router.get(
    "/{name}/{version}",
    response_model=FactorSetDocument,
    summary="Get a factor-set version with its factors",
    responses=responses(401, 404),
)
def get_set(name: Name, version: Version, db: SessionDep, who: PrincipalDep) -> FactorSetDocument:
    return factor_sets.get_factor_set(db, who, name, version)


@router.patch(
    "/{name}/{version}",
    response_model=FactorSetInfo,
    summary="Change a draft (a published version is immutable: 409)",
    responses=responses(401, 403, 404, 409, 422),
)
def update_set(
    name: Name, version: Version, change: FactorSetUpdate, db: SessionDep, who: PrincipalDep
) -> FactorSetInfo:
    return factor_sets.update_factor_set(db, who, name, version, change)


@router.post(
    "/{name}/{version}/publish",
    response_model=FactorSetInfo,
    summary="Publish a draft (admins); calculations may then use it",
    responses=responses(401, 403, 404, 409),
)
def publish_set(name: Name, version: Version, db: SessionDep, who: PrincipalDep) -> FactorSetInfo:
    return factor_sets.publish_factor_set(db, who, name, version)
