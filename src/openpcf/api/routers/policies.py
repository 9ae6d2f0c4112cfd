"""The policy and standards tracker: read by anyone, maintained by regulators; provinces and
the map views of China."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import BaseModel, Field

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.policy import (
    SLUG,
    PolicyDocument,
    PolicyInput,
    PolicyKind,
    PolicyStatus,
    PolicyType,
)
from openpcf.services.policy import documents, feed, maps, regions

router = APIRouter(tags=["policies"])

Slug = Annotated[
    str, Path(pattern=SLUG, max_length=120, examples=["qh-2025-data-centre-renewables"])
]
Region = Annotated[str, Path(max_length=10, examples=["CN-JS"])]
DateQuery = Annotated[str | None, Query(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")]
Lang = Annotated[str, Query(pattern="^(zh|en)$", description="language of names and titles")]


class PolicyCreate(BaseModel):
    id: str = Field(pattern=SLUG, max_length=120, description="permanent id, e.g. js-2026-pcf-plan")
    document: PolicyInput
    note: str = Field(default="", max_length=2000, description="why this version was written")


class PolicyEdit(BaseModel):
    document: PolicyInput
    note: str = Field(default="", max_length=2000)


class Supersession(BaseModel):
    successor: str = Field(pattern=SLUG, max_length=120, description="the document replacing it")
    note: str = Field(default="", max_length=2000)


@router.get(
    "/policies",
    response_model=list[PolicyDocument],
    summary="Search policies and standards",
    responses=responses(401, 422),
)
def list_policies(
    db: SessionDep,
    _who: PrincipalDep,
    q: Annotated[str | None, Query(max_length=200, description="words in title, issuer...")] = None,
    region: Annotated[str | None, Query(max_length=10, examples=["CN-QH"])] = None,
    include_national: Annotated[bool, Query(description="with region: national ones too")] = False,
    sector: Annotated[str | None, Query(max_length=100, description="sector or rule id")] = None,
    rule: Annotated[str | None, Query(max_length=100, description="product rule id")] = None,
    type: Annotated[PolicyType | None, Query()] = None,
    status_: Annotated[PolicyStatus | None, Query(alias="status")] = None,
    kind: Annotated[PolicyKind | None, Query()] = None,
    date_from: DateQuery = None,
    date_to: DateQuery = None,
) -> list[PolicyDocument]:
    """Current versions, newest first. National documents apply everywhere; pass
    `include_national=true` with a region to list them too."""
    f = documents.PolicyFilter(
        q, region, include_national, sector, rule, type, status_, kind, date_from, date_to
    )
    return documents.list_documents(db, f)


@router.get(
    "/policies/feed.atom",
    summary="Atom feed of changes to policies and standards",
    response_class=Response,
    responses={
        200: {"content": {"application/atom+xml": {"schema": {"type": "string"}}}},
        **responses(401, 422),
    },
)
def policy_feed(db: SessionDep, _who: PrincipalDep, lang: Lang = "en") -> Response:
    return Response(feed.atom(db, lang), media_type="application/atom+xml")


@router.get(
    "/policies/{slug}",
    response_model=PolicyDocument,
    summary="A policy or standard (current version)",
    responses=responses(401, 404, 422),
)
def get_policy(slug: Slug, db: SessionDep, _who: PrincipalDep) -> PolicyDocument:
    return documents.document(db, slug)


@router.get(
    "/policies/{slug}/versions",
    response_model=list[PolicyDocument],
    summary="Every version of a policy or standard, oldest first",
    responses=responses(401, 404, 422),
)
def policy_versions(slug: Slug, db: SessionDep, _who: PrincipalDep) -> list[PolicyDocument]:
    return documents.versions(db, slug)


@router.post(
    "/policies",
    response_model=PolicyDocument,
    status_code=status.HTTP_201_CREATED,
    summary="Add a policy or standard (regulators)",
    responses=responses(401, 403, 409, 422),
)
def create_policy(
    db: SessionDep, who: PrincipalDep, body: Annotated[PolicyCreate, Body()]
) -> PolicyDocument:
    return documents.create(db, who, body.id, body.document, body.note)


@router.put(
    "/policies/{slug}",
    response_model=PolicyDocument,
    summary="Write a new version of a policy or standard (regulators)",
    responses=responses(401, 403, 404, 422),
)
def edit_policy(
    slug: Slug, db: SessionDep, who: PrincipalDep, body: Annotated[PolicyEdit, Body()]
) -> PolicyDocument:
    """Earlier versions stay readable unchanged at `/policies/{slug}/versions`."""
    return documents.edit(db, who, slug, body.document, body.note)


@router.post(
    "/policies/{slug}/supersede",
    response_model=PolicyDocument,
    summary="Mark a policy or standard superseded by another (regulators)",
    responses=responses(401, 403, 404, 422),
)
def supersede_policy(
    slug: Slug, db: SessionDep, who: PrincipalDep, body: Annotated[Supersession, Body()]
) -> PolicyDocument:
    return documents.supersede(db, who, slug, body.successor, body.note)


@router.get(
    "/regions/{code}",
    response_model=regions.ProvinceView,
    summary="A province: its policies, grid factors, certified products, pilots",
    responses=responses(401, 404, 422),
)
def region(code: Region, db: SessionDep, _who: PrincipalDep) -> regions.ProvinceView:
    return regions.province_view(db, code)


@router.get(
    "/maps/{view}.svg",
    summary="A map of China's provinces: policy status, certification or grid factors",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}},
        **responses(401, 422),
    },
)
def china_map(
    view: maps.MapView,
    db: SessionDep,
    _who: PrincipalDep,
    lang: Lang = "en",
    year: Annotated[int | None, Query(ge=2000, le=2100, description="grid view's year")] = None,
) -> Response:
    return Response(maps.map_svg(db, view, lang, year), media_type="image/svg+xml")
