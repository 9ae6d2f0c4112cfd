"""openpcf's own model of the PACT ProductFootprint (v3.0 and v2.3), to validate every export and
import on any installed copy.

The WBCSD licence of the PACT specification allows sharing exact copies only, so openpcf ships no
copy or extract of its schemas; it may ship software implementing the data model (a "separate
derivative"). This module is that: pydantic models written from the data model's text (v3
data-model.md, v2.3 index.bs: properties, their data types, which are mandatory, the value
rules), in our own words and structure. `schema.py` validates against the spec's own schemas when
a copy is at hand; tests/test_pact_model.py checks that both give the same verdict on openpcf's
exports and on broken documents.

Rules implemented (M = mandatory):
- ids are UUIDs (8-4-4-4-12 hex); company, product and classification ids are URNs (`urn:`),
  at least one each, no duplicates; date-times are RFC 3339 with a zone; status Active or
  Deprecated; specVersion is MAJOR.MINOR.PATCH (optionally -YYYYMMDD) of the version written.
- v3 quantities are Decimals as strings (`-182.84`), with the sign rules of their data types
  (declaredUnitAmount > 0; emissions >= 0; uptake and removals <= 0); v2 keeps its numbers as
  strings too, except DQRs (1-3), coverage and shares (0-100) as JSON numbers.
- at most one of geographyRegionOrSubregion, geographyCountry (ISO 3166-1 alpha-2) and
  geographyCountrySubdivision (ISO 3166-2); the declared unit is one the version defines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from openpcf.io.pact.schema import PactVersion

_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_uuid(text: str) -> bool:
    """A UUID in its 8-4-4-4-12 hexadecimal form (RFC 9562), as JSON Schema's `format: uuid`."""
    return bool(_UUID.match(text))


def _uuid(value: str) -> str:
    if not is_uuid(value):
        raise ValueError(f"'{value}' is not a 'uuid' (8-4-4-4-12 hexadecimal digits)")
    return value


def _date_time(value: str) -> str:
    ok = bool(_RFC3339.match(value))
    if ok:
        try:
            datetime.fromisoformat(value.upper().replace("Z", "+00:00").replace(" ", "T"))
        except ValueError:
            ok = False
    if not ok:
        raise ValueError(f"'{value}' is not a 'date-time' (RFC 3339, with a time zone)")
    return value


def _urn(value: str) -> str:
    if not value[:4].lower() == "urn:":
        raise ValueError(f"'{value}' is not a URN (urn:...)")
    return value


def _decimal(sign: Literal["any", ">0", ">=0", "<=0"]) -> AfterValidator:
    def check(value: str) -> str:
        try:
            number = Decimal(value) if _DECIMAL.match(value) else None
        except InvalidOperation:
            number = None
        if number is None:
            raise ValueError(f"'{value}' is not a decimal number written as a string ('42.12')")
        ok = {"any": True, ">0": number > 0, ">=0": number >= 0, "<=0": number <= 0}[sign]
        if not ok:
            raise ValueError(f"{value} must be {sign[:-1]} {sign[-1]}".replace("  ", " "))
        return value

    return AfterValidator(check)


def _unique(items: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item in seen:
            raise ValueError(f"{item!r} is listed twice")
        seen.append(item)
    return items


Uuid = Annotated[str, AfterValidator(_uuid)]
DateTime = Annotated[str, AfterValidator(_date_time)]
Urn = Annotated[str, AfterValidator(_urn)]
NonEmpty = Annotated[str, Field(min_length=1)]
Dec = Annotated[str, _decimal("any")]
Positive = Annotated[str, _decimal(">0")]
NonNegative = Annotated[str, _decimal(">=0")]
NonPositive = Annotated[str, _decimal("<=0")]
Urns = Annotated[list[Urn], Field(min_length=1), AfterValidator(_unique)]
Status = Literal["Active", "Deprecated"]
Percent = Annotated[float, Field(ge=0, le=100)]

#: UN M49 regions and subregions PACT names (geographyRegionOrSubregion).
Region = Literal[
    "Africa", "Americas", "Asia", "Europe", "Oceania", "Australia and New Zealand",
    "Central Asia", "Eastern Asia", "Eastern Europe", "Latin America and the Caribbean",
    "Melanesia", "Micronesia", "Northern Africa", "Northern America", "Northern Europe",
    "Polynesia", "South-eastern Asia", "Southern Asia", "Southern Europe", "Sub-Saharan Africa",
    "Western Asia", "Western Europe",
]  # fmt: skip
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Subdivision = Annotated[str, Field(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")]
SpecVersion = Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+(-\d{8})?$")]
Gwp = Annotated[str, Field(pattern=r"^AR\d+$")]


class _Part(BaseModel):
    # Extensions and properties of other spec revisions are allowed, as the spec's schemas do.
    model_config = ConfigDict(extra="allow", strict=True)


class _Located(_Part):
    geographyRegionOrSubregion: Region | None = None
    geographyCountry: Country | None = None
    geographyCountrySubdivision: Subdivision | None = None

    @model_validator(mode="after")
    def _one_geography(self) -> _Located:
        given = [k for k in ("geographyRegionOrSubregion", "geographyCountry",
                             "geographyCountrySubdivision") if getattr(self, k) is not None]  # fmt: skip
        if len(given) > 1:
            raise ValueError(f"give at most one geography, not {' and '.join(given)}")
        return self


class SectorRuleV(_Part):
    operator: Literal["PEF", "EPD International", "Other"]
    ruleNames: Annotated[list[NonEmpty], Field(min_length=1), AfterValidator(_unique)]
    otherOperatorName: NonEmpty | None = None


class FactorSource(_Part):
    name: NonEmpty
    version: NonEmpty


SectorRules = Annotated[list[SectorRuleV], Field(min_length=1), AfterValidator(_unique)]
FactorSources = Annotated[list[FactorSource], Field(min_length=1)]
Gwps = Annotated[list[Gwp], Field(min_length=1), AfterValidator(_unique)]


class Extension(_Part):
    specVersion: str
    dataSchema: str
    documentation: str | None = None
    data: dict[str, Any]


# ------------------------------------------------------------------------------------ v3.0


class DqiV3(_Part):
    technologicalDQR: Dec
    geographicalDQR: Dec
    temporalDQR: Dec


class VerificationV3(_Part):
    coverage: Literal["PCF calculation model", "PCF program", "product level"] | None = None
    providerName: str | None = None
    completedAt: DateTime | None = None
    standardName: str | None = None
    comments: str | None = None


class CarbonFootprintV3(_Located):
    declaredUnitOfMeasurement: Literal[
        "liter", "kilogram", "cubic meter", "kilowatt hour", "megajoule", "ton kilometer",
        "square meter", "piece", "hour", "megabit second",
    ]  # fmt: skip
    declaredUnitAmount: Positive
    productMassPerDeclaredUnit: Dec
    referencePeriodStart: DateTime
    referencePeriodEnd: DateTime
    boundaryProcessesDescription: str | None = None
    pcfExcludingBiogenicUptake: Dec
    pcfIncludingBiogenicUptake: Dec
    fossilCarbonContent: NonNegative
    biogenicCarbonContent: NonNegative | None = None
    recycledCarbonContent: NonNegative | None = None
    fossilGhgEmissions: NonNegative
    landUseChangeGhgEmissions: NonNegative | None = None
    landCarbonLeakage: NonNegative | None = None
    landManagementFossilGhgEmissions: NonNegative | None = None
    landManagementBiogenicCO2Emissions: NonNegative | None = None
    landManagementBiogenicCO2Removals: NonPositive | None = None
    biogenicCO2Uptake: NonPositive | None = None
    biogenicNonCO2Emissions: NonNegative | None = None
    landAreaOccupation: NonNegative | None = None
    aircraftGhgEmissions: NonNegative | None = None
    packagingEmissionsIncluded: bool | None = None
    packagingGhgEmissions: NonNegative | None = None
    packagingBiogenicCarbonContent: NonNegative | None = None
    outboundLogisticsGhgEmissions: NonNegative | None = None
    ccsTechnologicalCO2CaptureIncluded: bool | None = None
    ccsTechnologicalCO2Capture: NonPositive | None = None
    technologicalCO2CaptureOrigin: str | None = None
    technologicalCO2Removals: NonPositive | None = None
    ccuCarbonContent: NonNegative | None = None
    ccuCalculationApproach: Literal["Cut-off", "Credit"] | None = None
    ccuCreditCertification: str | None = None
    ipccCharacterizationFactors: Gwps
    crossSectoralStandards: Annotated[list[str], Field(min_length=1), AfterValidator(_unique)]
    productOrSectorSpecificRules: SectorRules | None = None
    exemptedEmissionsPercent: Dec
    exemptedEmissionsDescription: str | None = None
    allocationRulesDescription: str | None = None
    secondaryEmissionFactorSources: FactorSources | None = None
    primaryDataShare: Dec | None = None
    dqi: DqiV3 | None = None
    verification: VerificationV3 | None = None


class _Footprint(_Part):
    """What the ProductFootprint of v3.0 and of v2.3 share."""

    id: Uuid
    specVersion: SpecVersion
    precedingPfIds: Annotated[list[Uuid], Field(min_length=1), AfterValidator(_unique)] | None = (
        None
    )
    created: DateTime
    status: Status
    validityPeriodStart: DateTime | None = None
    validityPeriodEnd: DateTime | None = None
    companyName: NonEmpty
    companyIds: Urns
    productDescription: str
    productIds: Urns
    productClassifications: Urns | None = None
    productNameCompany: NonEmpty
    extensions: list[Extension] | None = None


class ProductFootprintV3(_Footprint):
    comment: str | None = None
    pcf: CarbonFootprintV3


# ------------------------------------------------------------------------------------ v2.3

V2Number = Annotated[str, _decimal("any")]
Dqr = Annotated[float, Field(ge=1, le=3)]


class DqiV2(_Part):
    coveragePercent: Percent
    technologicalDQR: Dqr
    temporalDQR: Dqr
    geographicalDQR: Dqr
    completenessDQR: Dqr
    reliabilityDQR: Dqr


class AssuranceV2(_Part):
    assurance: bool
    coverage: Literal["corporate level", "product line", "PCF system", "product level"] | None = (
        None
    )
    level: Literal["limited", "reasonable"] | None = None
    boundary: Literal["Gate-to-Gate", "Cradle-to-Gate"] | None = None
    providerName: str
    completedAt: DateTime | None = None
    standardName: str | None = None
    comments: str | None = None


class CarbonFootprintV2(_Located):
    declaredUnit: Literal[
        "liter", "kilogram", "cubic meter", "kilowatt hour", "megajoule", "ton kilometer",
        "square meter",
    ]  # fmt: skip
    unitaryProductAmount: Annotated[str, _decimal(">0")]
    productMassPerDeclaredUnit: V2Number | None = None
    pCfExcludingBiogenic: Annotated[str, _decimal(">=0")]
    pCfIncludingBiogenic: V2Number | None = None
    fossilGhgEmissions: Annotated[str, _decimal(">=0")]
    fossilCarbonContent: Annotated[str, _decimal(">=0")]
    biogenicCarbonContent: Annotated[str, _decimal(">=0")]
    dLucGhgEmissions: Annotated[str, _decimal(">=0")] | None = None
    landManagementGhgEmissions: V2Number | None = None
    otherBiogenicGhgEmissions: Annotated[str, _decimal(">=0")] | None = None
    iLucGhgEmissions: Annotated[str, _decimal(">=0")] | None = None
    biogenicCarbonWithdrawal: Annotated[str, _decimal("<=0")] | None = None
    aircraftGhgEmissions: Annotated[str, _decimal(">=0")] | None = None
    packagingEmissionsIncluded: bool
    packagingGhgEmissions: Annotated[str, _decimal(">=0")] | None = None
    characterizationFactors: Literal["AR6", "AR5"]
    ipccCharacterizationFactorsSources: Gwps
    crossSectoralStandardsUsed: Annotated[
        list[Literal["GHG Protocol Product standard", "ISO Standard 14067",
                     "ISO Standard 14044"]],
        Field(min_length=1), AfterValidator(_unique),
    ]  # fmt: skip
    productOrSectorSpecificRules: SectorRules | None = None
    biogenicAccountingMethodology: Literal["PEF", "ISO", "GHGP", "Quantis"] | None = None
    boundaryProcessesDescription: str
    referencePeriodStart: DateTime
    referencePeriodEnd: DateTime
    secondaryEmissionFactorSources: FactorSources | None = None
    exemptedEmissionsPercent: Percent
    exemptedEmissionsDescription: str
    allocationRulesDescription: str | None = None
    uncertaintyAssessmentDescription: str | None = None
    primaryDataShare: Percent | None = None
    dqi: DqiV2 | None = None
    assurance: AssuranceV2 | None = None


class ProductFootprintV2(_Footprint):
    version: Annotated[int, Field(ge=0, le=2**31 - 1)]
    updated: DateTime | None = None
    statusComment: str | None = None
    productCategoryCpc: NonEmpty
    comment: str
    pcf: CarbonFootprintV2


MODELS: dict[PactVersion, type[BaseModel]] = {"3": ProductFootprintV3, "2": ProductFootprintV2}


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part.startswith(("function-", "constrained-", "list[")):
            out += f".{part}" if out else part
    return out or "(document)"


def footprint_errors(document: Any, version: PactVersion) -> list[str]:
    """Every breach of PACT v`version`'s ProductFootprint data model in `document`, as
    'path: message', sorted by path; [] when it is a valid ProductFootprint."""
    try:
        MODELS[version].model_validate(document)
    except ValidationError as exc:
        found = set()
        for error in exc.errors(include_url=False):
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "missing":
                message = "a required property is missing"
            found.add((_path(error["loc"]), message))
        return [f"{path}: {message}" for path, message in sorted(found)]
    return []
