"""Factor sets: the tenant's own (drafts, then published immutable versions) and the national
sets regulators publish, readable by every tenant; diffs between versions and the preview of
which stored footprints a version would change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.platform import (
    FactorSetCreate,
    FactorSetDocument,
    FactorSetInfo,
    FactorSetUpdate,
)
from openpcf.services.catalogue import factor_sets
from openpcf.services.catalogue.factor_set_diff import (
    FactorSetDiff,
    diff_versions,
    preview_footprints,
)
from openpcf.services.recompute.report import RecomputeReport

router = APIRouter(prefix="/factor-sets", tags=["factor sets"])
Name = Annotated[str, Path(examples=["acme-survey"])]
Version = Annotated[str, Path(examples=["2024.1"])]


@router.get(
    "",
    response_model=list[FactorSetInfo],
    summary="List the tenant's factor sets and the national (regulator-published) ones",
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


@router.get(
    "/{name}/{version}/diff",
    response_model=FactorSetDiff,
    summary="Factors added, removed and changed since another version (old/new value and %)",
    responses=responses(401, 404),
)
def diff_set(
    name: Name,
    version: Version,
    db: SessionDep,
    who: PrincipalDep,
    against: Annotated[str, Query(description="the older version", examples=["2024.1"])],
) -> FactorSetDiff:
    return diff_versions(db, who, name, against, version)


@router.get(
    "/{name}/{version}/preview",
    response_model=RecomputeReport,
    summary="Which stored footprints this version (a draft too) would change: a dry run (admins)",
    responses=responses(401, 403, 404),
)
def preview_set(
    name: Name, version: Version, request: Request, who: PrincipalDep
) -> RecomputeReport:
    """A regulator's set concerns every tenant's footprints; a company's, its own."""
    factory = request.app.state.sessions.open()
    return preview_footprints(factory, who, name, version)
