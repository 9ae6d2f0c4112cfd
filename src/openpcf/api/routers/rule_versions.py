"""Product rules as published data: regulators upload, publish and withdraw rule versions;
everyone reads them, and what a new version changes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from openpcf.api.deps import PrincipalDep, SessionDep, text_body
from openpcf.api.errors import responses
from openpcf.services.catalogue import rule_versions
from openpcf.services.catalogue.rule_versions import MAX_BYTES, RuleDiff, RuleVersionInfo

router = APIRouter(prefix="/rules/{rule_id}/versions", tags=["methodology"])
RuleId = Annotated[str, Path(examples=["cement"])]
Version = Annotated[str, Path(examples=["2026.1"])]


async def yaml_document(request: Request) -> str:
    media = ("application/yaml", "application/x-yaml", "text/yaml")
    text, _ = await text_body(request, media, MAX_BYTES, "the rule")
    return text


@router.get("", response_model=list[RuleVersionInfo], summary="Published and draft versions",
            responses=responses(401))  # fmt: skip
def list_versions(rule_id: RuleId, db: SessionDep) -> list[RuleVersionInfo]:
    return rule_versions.versions(db, rule_id)


@router.post(
    "",
    response_model=RuleVersionInfo,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a draft version (a regulator): the rule as YAML, the product-rule schema",
    responses=responses(401, 403, 409, 413, 415, 422),
    openapi_extra={"requestBody": {"required": True,
                                   "content": {"application/yaml": {"schema": {"type": "string"}}}}},
)  # fmt: skip
def upload_version(
    rule_id: RuleId,
    text: Annotated[str, Depends(yaml_document)],
    db: SessionDep,
    who: PrincipalDep,
    version: Annotated[str, Query(min_length=1, max_length=50, examples=["2026.1"])],
    valid_from: Annotated[date, Query(description="first day the version is in force")],
) -> RuleVersionInfo:
    return rule_versions.upload(db, who, rule_id, version, valid_from, text)


@router.post("/{version}/publish", response_model=RuleVersionInfo,
             summary="Publish a draft (a regulator); from then on it never changes",
             responses=responses(401, 403, 404, 409))  # fmt: skip
def publish_version(
    rule_id: RuleId, version: Version, db: SessionDep, who: PrincipalDep
) -> RuleVersionInfo:
    return rule_versions.publish(db, who, rule_id, version)


@router.post("/{version}/withdraw", response_model=RuleVersionInfo,
             summary="Withdraw a published version from a date (a regulator)",
             responses=responses(401, 403, 404, 409))  # fmt: skip
def withdraw_version(
    rule_id: RuleId,
    version: Version,
    db: SessionDep,
    who: PrincipalDep,
    on: Annotated[date, Query(description="first day it is no longer in force")],
) -> RuleVersionInfo:
    return rule_versions.withdraw(db, who, rule_id, version, on)


@router.get("/{version}/diff", response_model=RuleDiff,
            summary="What the version changes against another ('bundled': the shipped rule)",
            responses=responses(404))  # fmt: skip
def diff_version(
    rule_id: RuleId,
    version: Version,
    db: SessionDep,
    against: Annotated[str, Query(examples=["bundled"])] = "bundled",
) -> RuleDiff:
    return rule_versions.diff(db, rule_id, against, version)
