"""Platform entities as the API, the CLI's JSON and the services exchange them: tenants, users,
credentials, products, model versions, factor-set versions, calculations, supplier requests
and audit entries. One schema for every interface (the OpenAPI document is generated from it).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from openpcf.domain.factor import Factor
from openpcf.domain.model import ProductModel
from openpcf.domain.result import Amount, DataQualitySummary, DeclaredUnit, Provenance, Result

SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
URN_PREFIX = "urn:openpcf:product:"
CPC = r"^[0-9]{1,5}$"  # UN CPC Ver.2.1: section (1 digit) ... subclass (5 digits)
CPC_DOC = "UN CPC Ver.2.1 code (1 to 5 digits), required to serve the product in PACT v2"
CLASSIFICATIONS_DOC = (
    "other product classifications as URNs (PACT productClassifications), e.g. "
    "urn:pact:productclassification:hs:252329"
)
MASS_DOC = (
    "kg of product in one declared unit of its model (PACT productMassPerDeclaredUnit), needed "
    "to serve over PACT a product declared in a unit that is not a mass (piece, liter, m2, ...)"
)


def product_urn(tenant: str, slug: str) -> str:
    return f"{URN_PREFIX}{tenant}:{slug}"


class Role(StrEnum):
    """What a user or API client may do within its tenant."""

    admin = "admin"  # the tenant's administrator (a regulator's staff in a regulator tenant)
    member = "member"  # an enterprise member: products, models, calculations, factor sets
    verifier = "verifier"  # a third-party verifier: reads everything of the tenant, writes nothing


WRITERS = frozenset({Role.admin, Role.member})


class TenantKind(StrEnum):
    """What an organisation is to the certification workflow."""

    enterprise = "enterprise"  # makes products and submits their footprints for certification
    verifier = "verifier"  # a verification body: its verifier users review and sign certificates
    regulator = "regulator"  # its admins watch coverage and may revoke certificates


class Visibility(StrEnum):
    private = "private"  # the tenant only
    public = "public"  # anyone reads the product and its footprints (never its model versions)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TenantInfo(_Out):
    slug: str = Field(description="short name, part of product URNs", examples=["demo"])
    name: str = Field(examples=["Demo Battery Co."])
    kind: TenantKind = TenantKind.enterprise
    created_at: datetime | None = None


class UserInfo(_Out):
    email: str = Field(examples=["ana@demo.example"])
    tenant: str = Field(examples=["demo"])
    role: Role
    created_at: datetime | None = None


class IssuedToken(_Out):
    """A personal token, shown once: only its hash is stored."""

    token: str = Field(examples=["opcf_pat_3q2…"])
    name: str = Field(examples=["cli"])
    expires_at: datetime | None = Field(description="null: does not expire")


class NewUser(_Out):
    user: UserInfo
    token: IssuedToken


class ClientCredentials(_Out):
    """OAuth2 client credentials; the secret is shown once: only its hash is stored."""

    tenant: str
    client_id: str = Field(examples=["opcf_client_5f1c0a2b9e7d4c11"])
    client_secret: str = Field(examples=["opcf_cs_Qm9…"])
    name: str
    role: Role


class TokenResponse(_Out):
    """RFC 6749 section 5.1 access token response."""

    access_token: str = Field(examples=["opcf_at_lS8…"])
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the token expires", examples=[3600])
    scope: str | None = None


class Principal(_Out):
    """Who a request acts as. Anonymous callers have no tenant and read public data only."""

    kind: Literal["user", "client", "anonymous", "operator"]
    subject: str = Field(description="e-mail, client id, 'anonymous' or the operator's name")
    tenant: str | None = None
    tenant_id: int | None = Field(default=None, exclude=True)
    role: Role | None = Field(default=None, description="null for anonymous callers (public)")

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.subject}"

    @property
    def can_write(self) -> bool:
        return self.role in WRITERS


ANONYMOUS = Principal(kind="anonymous", subject="anonymous")


class ProductCreate(_In):
    slug: str = Field(
        pattern=SLUG,
        max_length=63,
        examples=["lfp-cell-280ah"],
        description="lower-case letters, digits and '-'; the URN ends with it",
    )
    name: str = Field(min_length=1, max_length=300, examples=["LFP prismatic cell 280 Ah"])
    visibility: Visibility = Visibility.private
    cpc: str | None = Field(default=None, pattern=CPC, examples=["4642"], description=CPC_DOC)
    classifications: list[str] = Field(
        default_factory=list, max_length=20, description=CLASSIFICATIONS_DOC
    )
    mass_per_declared_unit_kg: float | None = Field(
        default=None, gt=0, allow_inf_nan=False, examples=[5.4], description=MASS_DOC
    )

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [{"slug": "lfp-cell-280ah", "name": "LFP cell", "visibility": "private"}]
        },
    )


class ProductUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    visibility: Visibility | None = None
    cpc: str | None = Field(
        default=None, pattern=f"{CPC}|^$", description=CPC_DOC + "; '' removes it"
    )
    classifications: list[str] | None = Field(
        default=None, max_length=20, description=CLASSIFICATIONS_DOC + "; [] removes them"
    )
    mass_per_declared_unit_kg: float | None = Field(
        default=None, gt=0, allow_inf_nan=False, description=MASS_DOC + "; null removes it"
    )


class PactNotice(_Out):
    """Why a calculation's footprint is not served over PACT (ListFootprints, GetFootprint,
    answers to requests): told to the product's owner, never served with a guessed value."""

    code: Literal["mass_unknown", "not_expressible", "v2_no_cpc", "v2_unit"] = Field(
        description="mass_unknown: the declared unit needs the product's mass per declared "
        "unit (set mass_per_declared_unit_kg); not_expressible: PACT cannot state the result; "
        "v2_no_cpc: PACT v2 needs the product's UN CPC code (set cpc); v2_unit: PACT v2.3 has "
        "no name for the declared unit (e.g. piece)"
    )
    versions: list[Literal["2", "3"]] = Field(
        default_factory=lambda: ["3"],
        description="the PACT versions (/3/, /2/ endpoints) that do not serve it for this reason",
        examples=[["2", "3"], ["2"]],
    )
    message: str = Field(
        examples=[
            "not shared over PACT: its declared unit (1 piece) needs productMassPerDeclaredUnit;"
            " set the product's mass per declared unit (mass_per_declared_unit_kg, kg in 1 piece)"
        ]
    )
    declared_unit: str = Field(description="the PACT declared unit, e.g. '1 piece'")
    calculations: list[str] = Field(default_factory=list, description="calculation UUIDs")


class ProductInfo(_Out):
    urn: str = Field(examples=["urn:openpcf:product:demo:lfp-cell-280ah"])
    tenant: str = Field(examples=["demo"])
    slug: str = Field(examples=["lfp-cell-280ah"])
    name: str = Field(examples=["LFP prismatic cell 280 Ah"])
    visibility: Visibility
    latest_version: int | None = Field(
        default=None, description="number of the latest model version (owners only)"
    )
    created_at: datetime | None = None
    cpc: str | None = Field(default=None, description=CPC_DOC)
    classifications: list[str] = Field(default_factory=list, description=CLASSIFICATIONS_DOC)
    mass_per_declared_unit_kg: float | None = Field(default=None, description=MASS_DOC)
    pact_notices: list[PactNotice] = Field(
        default_factory=list,
        description="why footprints of the product are not served over PACT (owners only)",
    )


class ModelVersionInfo(_Out):
    product: str = Field(description="product URN")
    number: int = Field(examples=[1])
    media_type: str = Field(examples=["application/yaml"])
    sha256: str = Field(description="sha256 of the document text (UTF-8)")
    size: int = Field(description="bytes of the document")
    references: list[str] = Field(
        default_factory=list, description="sub-assembly products the model's inputs reference"
    )
    created_by: str
    created_at: datetime | None = None


class ModelVersionDocument(ModelVersionInfo):
    text: str = Field(description="the document exactly as uploaded")
    model: ProductModel = Field(description="the document, validated")


class CalculationRequest(_In):
    version: int | None = Field(default=None, description="model version; default the latest")
    profile: str = Field(default="gb-t-24067", description="methodology profile (GET /profiles)")
    gwp: Literal["AR5", "AR6"] | None = Field(default=None, description="overrides the profile's")
    factor_sets: list[str] = Field(
        default_factory=list,
        description="published factor-set versions to add: the tenant's or a national one "
        "(a regulator's), as 'name@version' or 'tenant:name@version'",
    )
    allow_violations: bool = Field(
        default=False, description="compute even if the model breaks its product rule"
    )

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [{"profile": "pact-v3"}, {"version": 2, "gwp": "AR6"}]},
    )


PRIVATE_SUB_ASSEMBLY = "a private sub-assembly"


class UsedModelVersion(_Out):
    product: str = Field(description=f"product URN, or '{PRIVATE_SUB_ASSEMBLY}' for others")
    number: int | None = Field(default=None, description="absent for a private sub-assembly")
    sha256: str | None = Field(default=None, description="absent for a private sub-assembly")


class CalculationIntegrity(_Out):
    """Whether the stored calculation is still what was computed (checked on every read)."""

    ok: bool
    certified: bool = Field(description="a certificate signs this result's sha256")
    message: str


class Footprint(_Out):
    """The public part of a result: totals and provenance, no input lines (no bill of materials)."""

    product: str
    product_id: str | None
    declared_unit: DeclaredUnit
    pcf: Amount
    stages: dict[str, float]
    gases: dict[str, float]
    origins: dict[str, float]
    profile: str
    rule: str
    factor_set: str
    gwp: str
    grade: str | None = None
    primary_data_share: float
    data_quality: DataQualitySummary | None
    provenance: Provenance

    @classmethod
    def of(cls, result: Result) -> Footprint:
        data = result.model_dump(include=set(cls.model_fields))
        data["provenance"]["files"] = ()
        return cls.model_validate(data)


class CalculationSummary(_Out):
    id: str = Field(description="calculation UUID", examples=["0f8e…"])
    product: str = Field(description="product URN")
    model_version: int
    profile: str
    gwp: str
    pcf: Amount
    declared_unit: DeclaredUnit
    created_at: datetime | None = None
    integrity: CalculationIntegrity | None = Field(
        default=None, description="ok false: the stored calculation was altered after it was made"
    )
    pact_notice: PactNotice | None = Field(
        default=None, description="why it is not served over PACT v3 (owners only)"
    )
    pact_notices: list[PactNotice] = Field(
        default_factory=list,
        description="why it is not served, per PACT version (v3's first; owners only)",
    )


class CalculationInfo(CalculationSummary):
    """A stored calculation. `result` (with the input lines) is given to the owning tenant only."""

    rule: str
    factor_sets: list[str]
    model_versions: list[UsedModelVersion] = Field(description="every model the result used")
    software_version: str
    input_hash: str
    created_by: str | None = Field(default=None, description="owners only")
    footprint: Footprint
    result: Result | None = Field(default=None, description="the full result (owners only)")


class FactorSetCreate(_In):
    name: str = Field(pattern=SLUG, max_length=63, examples=["acme-survey"])
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$", examples=["2024.1"])
    title: str = Field(min_length=1, max_length=300, examples=["Acme supplier survey 2024"])
    factors: list[Factor] = Field(min_length=1)


class FactorSetUpdate(_In):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    factors: list[Factor] | None = Field(default=None, min_length=1)


class FactorSetInfo(_Out):
    tenant: str
    name: str
    version: str
    label: str = Field(description="what calculations name: '<tenant>:<name>@<version>'")
    title: str
    sha256: str
    factor_count: int
    published_at: datetime | None = Field(description="null while a draft (editable)")
    published_by: str | None = None
    created_by: str
    created_at: datetime | None = None


class FactorSetDocument(FactorSetInfo):
    factors: list[Factor]


class FactorInSet(Factor):
    set: str = Field(description="label of the factor set the factor comes from")


class SupplierRequestStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    fulfilled = "fulfilled"
    rejected = "rejected"
    failed = "failed"


class SupplierRequestCreate(_In):
    supplier_host: str = Field(min_length=1, max_length=300, examples=["pcf.supplier.example"])
    product_id: str = Field(
        min_length=1, max_length=300, examples=["urn:openpcf:product:supplier:hot-rolled-coil"]
    )
    message: str | None = Field(default=None, max_length=5000)


class SupplierRequestInfo(_Out):
    id: str = Field(description="request UUID")
    tenant: str = Field(description="the requesting tenant")
    requested_by: str
    supplier_host: str
    product_id: str
    status: SupplierRequestStatus
    message: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class AuditEntryInfo(_Out):
    at: datetime
    tenant: str | None
    actor: str = Field(examples=["user:ana@demo.example"])
    action: Literal["create", "update", "delete"]
    entity: str = Field(examples=["products"])
    entity_id: str
    details: dict[str, Any]
