"""Product rules and methodology profiles as published data: regulators upload, publish and
withdraw versions; everyone reads them, and what a new version changes. The same routes serve
both, under /rules/{rule_id}/versions and /profiles/{rule_id}/versions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from openpcf.api.deps import PrincipalDep, SessionDep, text_body
from openpcf.api.errors import responses
from openpcf.services.catalogue import rule_versions
from openpcf.services.catalogue.rule_versions import MAX_BYTES, Kind, RuleDiff, RuleVersionInfo

Version = Annotated[str, Path(examples=["2026.1"])]
RuleId = Annotated[str, Path(examples=["cement"], description="the product rule's or profile's id")]
YAML = {"application/yaml": {"schema": {"type": "string"}}}


async def yaml_document(request: Request) -> str:
    media = ("application/yaml", "application/x-yaml", "text/yaml")
    text, _ = await text_body(request, media, MAX_BYTES, "the document")
    return text


def _router(kind: Kind, prefix: str) -> APIRouter:
    router = APIRouter(prefix=f"/{prefix}/{{rule_id}}/versions", tags=["methodology"])
    what = "a product rule" if kind == "product" else "a methodology profile"

    @router.get("", response_model=list[RuleVersionInfo], responses=responses(401),
                summary=f"Versions of {what}, published and draft")  # fmt: skip
    def list_versions(rule_id: RuleId, db: SessionDep) -> list[RuleVersionInfo]:
        return rule_versions.versions(db, rule_id, kind)

    @router.post("", response_model=RuleVersionInfo, status_code=status.HTTP_201_CREATED,
                 summary=f"Upload a draft version of {what} (a regulator), as YAML",
                 responses=responses(401, 403, 409, 413, 415, 422),
                 openapi_extra={"requestBody": {"required": True, "content": YAML}})  # fmt: skip
    def upload_version(
        rule_id: RuleId,
        text: Annotated[str, Depends(yaml_document)],
        db: SessionDep,
        who: PrincipalDep,
        version: Annotated[str, Query(min_length=1, max_length=50, examples=["2026.1"])],
        valid_from: Annotated[date, Query(description="first day the version is in force")],
    ) -> RuleVersionInfo:
        return rule_versions.upload(db, who, rule_id, version, valid_from, text, kind)

    @router.post("/{version}/publish", response_model=RuleVersionInfo,
                 summary=f"Publish a draft of {what} (a regulator); it never changes after",
                 responses=responses(401, 403, 404, 409))  # fmt: skip
    def publish_version(
        rule_id: RuleId, version: Version, db: SessionDep, who: PrincipalDep
    ) -> RuleVersionInfo:
        return rule_versions.publish(db, who, rule_id, version, kind)

    @router.post("/{version}/withdraw", response_model=RuleVersionInfo,
                 summary=f"Withdraw a published version of {what} from a date (a regulator)",
                 responses=responses(401, 403, 404, 409))  # fmt: skip
    def withdraw_version(
        rule_id: RuleId,
        version: Version,
        db: SessionDep,
        who: PrincipalDep,
        on: Annotated[date, Query(description="first day it is no longer in force")],
    ) -> RuleVersionInfo:
        return rule_versions.withdraw(db, who, rule_id, version, on, kind)

    @router.get("/{version}/diff", response_model=RuleDiff, responses=responses(404),
                summary="What the version changes against another ('bundled': the shipped one)")  # fmt: skip
    def diff_version(
        rule_id: RuleId,
        version: Version,
        db: SessionDep,
        against: Annotated[str, Query(examples=["bundled"])] = "bundled",
    ) -> RuleDiff:
        return rule_versions.diff(db, rule_id, against, version, kind)

    return router


rules_router = _router("product", "rules")
profiles_router = _router("profile", "profiles")
