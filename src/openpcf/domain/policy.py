"""Policies and standards on product carbon footprints as data: who requires what, where, for
which products. A document is versioned: every edit is a new immutable version; the newest is
the document's current state, and a superseded document stays readable with its successor named.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from openpcf.domain.regions import BY_CODE, NATIONAL

SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,118}[a-z0-9])?$"
DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class PolicyKind(StrEnum):
    policy = "policy"  # a government document: plan, opinion, notice, measure
    standard = "standard"  # a national, industry, local or group standard


class PolicyLevel(StrEnum):
    national = "national"
    province = "province"
    city = "city"


class PolicyStatus(StrEnum):
    draft = "draft"  # draft for comment
    issued = "issued"
    in_force = "in-force"
    superseded = "superseded"
    repealed = "repealed"


class PolicyType(StrEnum):
    management_system = "management-system"
    labelling = "labelling-certification"
    accounting_standard = "accounting-standard"
    factor_data = "factor-data"
    green_power = "green-power"
    data_centres = "data-centres"
    ets = "ets"
    hydrogen = "hydrogen"
    pilot = "pilot"
    other = "other"


class Requirement(BaseModel):
    """One key requirement as a short structured fact, e.g. new data centres 100 % renewable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=500, description="the fact, in the source's words")
    text_zh: str | None = Field(default=None, max_length=500)
    metric: str | None = Field(default=None, max_length=100, description="e.g. renewable-share")
    value: float | None = Field(default=None, allow_inf_nan=False)
    unit: str | None = Field(default=None, max_length=20, description="e.g. %")
    from_year: int | None = Field(default=None, ge=1990, le=2100)


class PolicyInput(BaseModel):
    """What a regulator writes: everything of a document but its id, version and history."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: PolicyKind = PolicyKind.policy
    level: PolicyLevel
    issuer: str = Field(min_length=1, max_length=300)
    title_zh: str = Field(default="", max_length=500)
    title_en: str = Field(default="", max_length=500)
    number: str | None = Field(default=None, max_length=100, description="document or standard no.")
    date: str = Field(description="issue date, YYYY, YYYY-MM or YYYY-MM-DD", max_length=10)
    effective: str | None = Field(default=None, max_length=10, description="date in force")
    status: PolicyStatus
    types: tuple[PolicyType, ...] = Field(min_length=1)
    regions: tuple[str, ...] = Field(min_length=1, description="ISO 3166-2 codes, CN = national")
    city: str | None = Field(default=None, max_length=100)
    sectors: tuple[str, ...] = ()
    rules: tuple[str, ...] = Field(default=(), description="product rule ids it concerns")
    requirements: tuple[Requirement, ...] = ()
    source_url: str | None = Field(default=None, max_length=1000)
    obtained: str = Field(min_length=1, max_length=500, description="how the text was obtained")
    verify: bool = Field(description="true where the primary text was not read (VERIFY)")
    note: str | None = Field(default=None, max_length=2000)
    supersedes: str | None = Field(default=None, pattern=SLUG)

    @field_validator("date", "effective")
    @classmethod
    def _date(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not DATE.match(v):
            raise ValueError("expected a date YYYY, YYYY-MM or YYYY-MM-DD")
        parts = [int(x) for x in v.split("-")] + [1, 1]
        date(parts[0], parts[1], parts[2])  # raises on 2025-02-30
        return v

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(r.strip().upper() for r in v)
        for r in out:
            if r != NATIONAL and r not in BY_CODE:
                raise ValueError(f"unknown region {r!r}: expected CN or an ISO 3166-2:CN code")
        return out

    @field_validator("source_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v and not v.startswith(("https://", "http://")):
            raise ValueError("expected an http(s) URL")
        return v

    def title(self, lang: str) -> str:
        first, second = (self.title_zh, self.title_en) if lang == "zh" else (
            self.title_en, self.title_zh)  # fmt: skip
        return first or second


class PolicyDocument(PolicyInput):
    """A version of a document as stored and served."""

    id: str = Field(pattern=SLUG)
    version: int = Field(ge=1)
    superseded_by: str | None = None
    changed_at: datetime | None = None
    changed_by: str = Field(description="who wrote this version ('seed' for the bundled data)")
    change_note: str = ""
