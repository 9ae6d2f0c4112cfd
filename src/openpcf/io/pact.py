"""PACT ProductFootprints: a `Result` out as PACT v3.0 or v2.3, a supplier's footprint in as `pcf:`.

Export maps one result (per its declared unit) plus the metadata a result does not hold (company,
product ids, periods, status: a `PactContext`) to a ProductFootprint and validates it against the
bundled schema of the spec (`pact_schema`). Values PACT requires that openpcf does not compute
(carbon content, product mass per piece, packaging) are taken from the context; when absent they
are written as 0 / false and the export's notes and `comment` say so.

How the result's parts become PACT's (kg CO2e per declared unit, under the result's GWP set):

- fossil        = origins.fossil (the gases the profile counts; a profile that leaves a gas out
                  is refused, PACT counts them all)
- land use      = origins.land-use + excluded "land-use change" (PACT always counts it);
                  net removals (< 0) go to landManagementBiogenicCO2Removals (v2:
                  landManagementGhgEmissions) instead of landUseChangeGhgEmissions
- biogenic CO2  = inventory "CO2 (biogenic)" (kg, net of emissions and removals): a net removal
                  is the product's uptake (biogenicCO2Uptake, v2 biogenicCarbonWithdrawal); a
                  net emission is taken as balanced by the uptake of the same biomass and is in
                  no v3 field (v2 adds it to pCfIncludingBiogenic, "including all biogenic
                  emissions")
- biogenic non-CO2 = origins.biogenic less the counted biogenic CO2 (biogenic CH4 and CO2e
                  values of biogenic origin); v3 biogenicNonCO2Emissions, v2
                  otherBiogenicGhgEmissions
- headline      = fossil + land use + biogenic non-CO2: v3 pcfExcludingBiogenicUptake, v2
                  pCfExcludingBiogenic; under the pact-v3 profile it equals the result's total.

Stages beyond the gate must not be in the total (PACT footprints are cradle-to-gate): a result
counting distribution, use or end-of-life is refused; distribution left out by the profile is
reported as outboundLogisticsGhgEmissions (v3). v3 values are per declared unit (declaredUnitAmount
× declaredUnitOfMeasurement, the result's declared unit); v2 values are per one declaredUnit and
unitaryProductAmount says how many the product holds.

Data quality: openpcf rates 1 (very good) to 5 (very poor). PACT v3.0 DQRs run 1 to 5 as well
(technological, geographical, temporal only) and take openpcf's weighted ratings unchanged; v2.3
DQRs run 1 (good) to 3 (poor), so `v2_dqr = 1 + (rating - 1) / 2` (1→1, 3→2, 5→3, linear, the
ends kept), and back on import `rating = round(1 + 2 (dqr - 1))`.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from openpcf.domain.errors import Location, OpenpcfError
from openpcf.domain.model import DataQuality, Pcf
from openpcf.domain.result import DeclaredUnit, Result
from openpcf.io.pact_schema import PactSpecMissing, PactVersion, schema_errors, spec_version
from openpcf.units import factor_between, same_dimension


class PactError(OpenpcfError):
    """A PACT footprint is invalid, or a result holds something PACT cannot express."""


#: PACT declared units and the openpcf unit each is. v2.3 has the first seven only.
PACT_UNITS: dict[str, str] = {
    "kilogram": "kg",
    "liter": "l",
    "cubic meter": "m3",
    "kilowatt hour": "kWh",
    "megajoule": "MJ",
    "ton kilometer": "t*km",
    "square meter": "m2",
    "piece": "piece",
    "hour": "h",
}
_V2_UNITS = ("kilogram", "liter", "cubic meter", "kilowatt hour", "megajoule", "ton kilometer",
             "square meter")  # fmt: skip
#: Declared units whose product mass is "not relevant" (v3: energy, logistics, services).
_MASSLESS = ("kilowatt hour", "megajoule", "ton kilometer", "hour")

#: Cross-sectoral standards of each profile (v3 list, v2 crossSectoralStandardsUsed). GB/T
#: 24067-2024 is based on ISO 14067:2018 (see its profile). The PACT Methodology builds on the
#: GHG Protocol Product Standard and ISO 14067, the two v2 "used" values.
_STANDARDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "gb-t-24067": (("ISO14067",), ("ISO Standard 14067",)),
    "iso-14067": (("ISO14067",), ("ISO Standard 14067",)),
    "ghg-protocol-product": (("GHGP-Product",), ("GHG Protocol Product standard",)),
    "pact-v3": (("PACT-3.0",), ("GHG Protocol Product standard", "ISO Standard 14067")),
}
_V2_BIOGENIC_METHOD = {"gb-t-24067": "ISO", "iso-14067": "ISO", "ghg-protocol-product": "GHGP"}
_BEYOND_GATE = ("distribution", "use", "end-of-life")


class SectorRule(BaseModel):
    """A product or sector rule applied (PACT ProductOrSectorSpecificRule)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    operator: Literal["PEF", "EPD International", "Other"] = "Other"
    rule_names: tuple[str, ...] = Field(min_length=1)
    other_operator_name: str | None = None


class PactContext(BaseModel):
    """What a PACT footprint states that a `Result` does not hold. Datetimes without a zone are UTC."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    company_name: str = Field(min_length=1)
    company_ids: tuple[str, ...] = Field(min_length=1, description="URNs of the data owner")
    product_ids: tuple[str, ...] = Field(min_length=1, description="URNs of the product")
    product_name: str = Field(min_length=1, description="productNameCompany")
    product_description: str = ""
    product_classifications: tuple[str, ...] = Field(
        default=(), description="URNs, e.g. urn:pact:productclassification:un-cpc:4642"
    )
    product_category_cpc: str | None = Field(
        default=None, description="UN CPC code (v2 only; else taken from an un-cpc classification)"
    )
    reference_period_start: datetime
    reference_period_end: datetime
    validity_period_start: datetime | None = None
    validity_period_end: datetime | None = None
    geography: str | None = Field(
        default=None, description="ISO 3166-1 alpha-2 country, ISO 3166-2 subdivision or UN region"
    )
    status: Literal["Active", "Deprecated"] = "Active"
    version: int = Field(default=0, ge=0, description="v2 only (v3 has no version field)")
    preceding_pf_ids: tuple[uuid.UUID, ...] = ()
    id: uuid.UUID | None = Field(
        default=None, description="default: derived from the inputs' hash, profile and ids"
    )
    created: datetime | None = Field(default=None, description="default: now")
    comment: str | None = None
    exempted_emissions_percent: float = Field(default=0.0, ge=0, le=100)
    exempted_emissions_description: str = ""
    product_mass_per_declared_unit: float | None = Field(
        default=None, ge=0, description="kg of product in the declared unit"
    )
    fossil_carbon_content: float | None = Field(default=None, ge=0, description="kg C per DU")
    biogenic_carbon_content: float | None = Field(default=None, ge=0, description="kg C per DU")
    packaging_emissions_included: bool | None = None
    product_rules: tuple[SectorRule, ...] = ()

    @field_validator("company_ids", "product_ids", "product_classifications")
    @classmethod
    def _urns(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        for i in ids:
            if not re.match(r"^urn:", i, re.IGNORECASE):
                raise ValueError(f"'{i}' is not a URN (urn:...)")
        return ids


@dataclass(frozen=True)
class PactExport:
    document: dict[str, Any]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Parts:
    """The result split the way PACT reports it, kg CO2e per declared unit."""

    fossil: float
    land_use: float  # >= 0
    land_removals: float  # <= 0
    biogenic_non_co2: float  # >= 0
    biogenic_co2: float  # net, either sign
    uptake: float  # <= 0
    outbound_logistics: float | None
    notes: tuple[str, ...] = ()

    @property
    def headline(self) -> float:
        """v3 pcfExcludingBiogenicUptake, v2 pCfExcludingBiogenic."""
        return self.fossil + self.land_use + self.land_removals + self.biogenic_non_co2

    @property
    def including_uptake(self) -> float:
        """v3 pcfIncludingBiogenicUptake."""
        return self.headline + self.uptake

    @property
    def including_biogenic(self) -> float:
        """v2 pCfIncludingBiogenic: all biogenic CO2, emitted and removed."""
        return self.headline + self.uptake + max(self.biogenic_co2, 0.0)


def footprint_parts(result: Result) -> Parts:
    refused = [k for k in result.excluded if "(not counted by" in k]
    if refused:
        raise PactError(
            f"the result leaves out gases PACT counts ({', '.join(refused)}); export under a "
            f"profile that counts all gases, e.g. --profile pact-v3"
        )
    beyond = [s for s in _BEYOND_GATE if s in result.stages]
    if beyond:
        raise PactError(
            f"PACT footprints are cradle-to-gate, but the result counts the stage(s) "
            f"{', '.join(beyond)} under {result.profile}; export under --profile pact-v3, which "
            f"leaves them out (distribution is then reported as outbound logistics)"
        )
    scale = max(1.0, sum(abs(v) for v in result.origins.values()))

    def clean(x: float) -> float:
        return 0.0 if abs(x) <= 1e-12 * scale else x

    notes: list[str] = []
    fossil = clean(result.origins.get("fossil", 0.0))
    if fossil < 0:
        raise PactError(f"fossil emissions are negative ({fossil:g} kg CO2e); PACT has no place")
    land = clean(result.origins.get("land-use", 0.0) + result.excluded.get("land-use change", 0.0))
    bio_co2 = clean(result.inventory.get("CO2 (biogenic)", 0.0))
    counted_bio_co2 = 0.0 if "biogenic CO2" in result.excluded else bio_co2
    bio_other = clean(result.origins.get("biogenic", 0.0) - counted_bio_co2)
    if bio_other < 0:
        notes.append(
            f"biogenic CO2e values below zero ({bio_other:.6g} kg CO2e) are taken as uptake"
        )
    if bio_co2 > 0:
        notes.append(
            f"{bio_co2:.6g} kg biogenic CO2 emitted per declared unit is taken as balanced by the "
            f"uptake of the same biomass (no term in pcfExcludingBiogenicUptake)"
        )
    headline = fossil + land + max(bio_other, 0.0)
    if abs(headline - result.pcf.value) > 1e-9 * scale:
        notes.append(
            f"the PACT headline ({headline:.6g}) differs from the result's total "
            f"({result.pcf.value:.6g}) under {result.profile}, which counts biogenic CO2 or "
            f"leaves land-use change out; the pact-v3 profile gives the same number"
        )
    outbound = result.excluded.get("stage distribution")
    return Parts(
        fossil=fossil,
        land_use=max(land, 0.0),
        land_removals=min(land, 0.0),
        biogenic_non_co2=max(bio_other, 0.0),
        biogenic_co2=bio_co2,
        uptake=min(bio_co2, 0.0) + min(bio_other, 0.0),
        outbound_logistics=clean(outbound) if outbound is not None else None,
        notes=tuple(notes),
    )


def declared_unit_for(declared: DeclaredUnit, version: PactVersion = "3") -> tuple[str, float]:
    """The PACT declared unit for an openpcf one, and the declared amount in it.

    Among PACT units of the same dimension, one a power of ten away is preferred, the nearest
    first (t → kilogram ×1000, GJ → megajoule ×1000, m3 → cubic meter, ml → liter ×0.001).
    """
    names = list(PACT_UNITS) if version == "3" else list(_V2_UNITS)
    fits = [n for n in names if same_dimension(declared.unit, PACT_UNITS[n])]
    if not fits:
        allowed = ", ".join(f"{n} ({PACT_UNITS[n]})" for n in names)
        raise PactError(
            f"PACT v{version} cannot express the declared unit '{declared.unit}'; it allows "
            f"{allowed}. Declare the model per one of these (with product.conversion)"
        )

    def distance(name: str) -> float:
        f = factor_between(declared.unit, PACT_UNITS[name], "declared unit")
        exponent = Decimal(repr(f)).log10()
        return float(abs(exponent)) if exponent == exponent.to_integral_value() else 1e9

    best = min(fits, key=lambda n: (distance(n), fits.index(n)))
    return best, declared.amount * factor_between(declared.unit, PACT_UNITS[best], "declared unit")


def product_footprint(
    result: Result, context: PactContext, version: PactVersion = "3"
) -> PactExport:
    """The result as a validated PACT ProductFootprint of `version` ("3" or "2")."""
    parts = footprint_parts(result)
    unit, amount = declared_unit_for(result.declared_unit, version)
    notes = list(parts.notes)
    mass = _mass(result.declared_unit, unit, context, notes)
    gwps = _gwp_sets(result, notes)
    standards = _STANDARDS.get(result.profile)
    if standards is None:
        raise PactError(
            f"PACT names no cross-sectoral standard for the profile '{result.profile}'; export "
            f"under one of {', '.join(_STANDARDS)}"
        )
    if context.fossil_carbon_content is None:
        notes.append("fossilCarbonContent is not assessed by openpcf and written as 0")
    if version == "2" and context.biogenic_carbon_content is None:
        notes.append("biogenicCarbonContent is not assessed by openpcf and written as 0")
    if version == "2" and context.packaging_emissions_included is None:
        notes.append("packagingEmissionsIncluded is not known and written as false")
    head = _header(result, context, version, notes)
    if version == "3":
        head["pcf"] = _carbon_footprint_v3(
            result, context, parts, unit, amount, mass, gwps, standards[0]
        )
    else:
        head["pcf"] = _carbon_footprint_v2(
            result, context, parts, unit, amount, mass, gwps, standards
        )
    try:
        errors = schema_errors(head, version)
    except PactSpecMissing as exc:
        notes.append(f"not validated: {exc}")
        errors = []
    if errors:
        raise PactError(f"the export breaks the PACT v{version} schema: " + "; ".join(errors[:10]))
    return PactExport(head, tuple(notes))


def _header(
    result: Result, context: PactContext, version: PactVersion, notes: list[str]
) -> dict[str, Any]:
    key = "|".join((result.provenance.input_hash, result.profile, result.gwp,
                    *context.company_ids, *context.product_ids))  # fmt: skip
    pf_id = context.id or uuid.uuid5(uuid.NAMESPACE_URL, f"urn:openpcf:pcf:{key}")
    doc: dict[str, Any] = {"id": str(pf_id), "specVersion": spec_version(version)}
    if context.preceding_pf_ids:
        doc["precedingPfIds"] = [str(i) for i in context.preceding_pf_ids]
    if version == "2":
        doc["version"] = context.version
    doc["created"] = _ts(context.created or datetime.now(UTC))
    doc["status"] = context.status
    if context.validity_period_start:
        doc["validityPeriodStart"] = _ts(context.validity_period_start)
    if context.validity_period_end:
        doc["validityPeriodEnd"] = _ts(context.validity_period_end)
    doc |= {
        "companyName": context.company_name,
        "companyIds": list(context.company_ids),
        "productDescription": context.product_description,
        "productIds": list(context.product_ids),
    }
    if version == "2":
        doc["productCategoryCpc"] = _cpc(context)
    if context.product_classifications:
        doc["productClassifications"] = list(context.product_classifications)
    doc["productNameCompany"] = context.product_name
    doc["comment"] = _comment(result, context, notes)
    return doc


def _carbon_footprint_v3(
    result: Result,
    context: PactContext,
    parts: Parts,
    unit: str,
    amount: float,
    mass: float,
    gwps: list[str],
    standards: tuple[str, ...],
) -> dict[str, Any]:
    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": unit,
        "declaredUnitAmount": _dec(amount),
        "productMassPerDeclaredUnit": _dec(mass),
        "referencePeriodStart": _ts(context.reference_period_start),
        "referencePeriodEnd": _ts(context.reference_period_end),
        **_geography(context.geography, "3"),
        "boundaryProcessesDescription": _boundary(result),
        "pcfExcludingBiogenicUptake": _dec(parts.headline),
        "pcfIncludingBiogenicUptake": _dec(parts.including_uptake),
        "fossilCarbonContent": _dec(context.fossil_carbon_content or 0.0),
    }
    if context.biogenic_carbon_content is not None:
        pcf["biogenicCarbonContent"] = _dec(context.biogenic_carbon_content)
    pcf |= {
        "fossilGhgEmissions": _dec(parts.fossil),
        "landUseChangeGhgEmissions": _dec(parts.land_use),
    }
    if parts.land_removals < 0:
        pcf["landManagementBiogenicCO2Removals"] = _dec(parts.land_removals)
    pcf |= {
        "biogenicCO2Uptake": _dec(parts.uptake),
        "biogenicNonCO2Emissions": _dec(parts.biogenic_non_co2),
    }
    if context.packaging_emissions_included is not None:
        pcf["packagingEmissionsIncluded"] = context.packaging_emissions_included
    if parts.outbound_logistics is not None and parts.outbound_logistics >= 0:
        pcf["outboundLogisticsGhgEmissions"] = _dec(parts.outbound_logistics)
    pcf |= {"ipccCharacterizationFactors": gwps, "crossSectoralStandards": list(standards)}
    pcf |= _common_tail(result, context)
    pcf["primaryDataShare"] = _dec(round(result.primary_data_share, 4))
    dq = result.data_quality
    if dq is not None:
        pcf["dqi"] = {
            "technologicalDQR": _dec(round(dq.technological, 2)),
            "geographicalDQR": _dec(round(dq.geographical, 2)),
            "temporalDQR": _dec(round(dq.temporal, 2)),
        }
    return pcf


def _carbon_footprint_v2(
    result: Result,
    context: PactContext,
    parts: Parts,
    unit: str,
    amount: float,
    mass: float,
    gwps: list[str],
    standards: tuple[tuple[str, ...], tuple[str, ...]],
) -> dict[str, Any]:
    def per(x: float) -> str:  # v2 values are per one declared unit
        return _dec(x / amount)

    pcf: dict[str, Any] = {
        "declaredUnit": unit,
        "unitaryProductAmount": _dec(amount),
        "productMassPerDeclaredUnit": per(mass),
        "pCfExcludingBiogenic": per(parts.headline),
        "pCfIncludingBiogenic": per(parts.including_biogenic),
        "fossilGhgEmissions": per(parts.fossil),
        "fossilCarbonContent": per(context.fossil_carbon_content or 0.0),
        "biogenicCarbonContent": per(context.biogenic_carbon_content or 0.0),
        "dLucGhgEmissions": per(parts.land_use),
    }
    if parts.land_removals < 0:
        pcf["landManagementGhgEmissions"] = per(parts.land_removals)
    pcf |= {
        "otherBiogenicGhgEmissions": per(parts.biogenic_non_co2),
        "biogenicCarbonWithdrawal": per(parts.uptake),
        "characterizationFactors": "AR5" if "AR5" in gwps else "AR6",
        "ipccCharacterizationFactorsSources": gwps,
        "crossSectoralStandardsUsed": list(standards[1]),
        "crossSectoralStandards": list(standards[0]),
    }
    tail = _common_tail(result, context)
    if "productOrSectorSpecificRules" in tail:
        pcf["productOrSectorSpecificRules"] = tail.pop("productOrSectorSpecificRules")
    if result.profile in _V2_BIOGENIC_METHOD:
        pcf["biogenicAccountingMethodology"] = _V2_BIOGENIC_METHOD[result.profile]
    pcf |= {
        "boundaryProcessesDescription": _boundary(result),
        "referencePeriodStart": _ts(context.reference_period_start),
        "referencePeriodEnd": _ts(context.reference_period_end),
        **_geography(context.geography, "2"),
    }
    if "secondaryEmissionFactorSources" in tail:
        pcf["secondaryEmissionFactorSources"] = tail.pop("secondaryEmissionFactorSources")
    pcf |= {
        "exemptedEmissionsPercent": context.exempted_emissions_percent,
        "exemptedEmissionsDescription": context.exempted_emissions_description,
        "packagingEmissionsIncluded": bool(context.packaging_emissions_included),
        "allocationRulesDescription": result.allocation,
        "primaryDataShare": round(result.primary_data_share, 4),
    }
    dq = result.data_quality
    if dq is not None:
        pcf["dqi"] = {
            "coveragePercent": round(100 * dq.coverage, 2),
            **{f"{name}DQR": round(v2_dqr(getattr(dq, name)), 2) for name in _DQ_NAMES},
        }
    return pcf


_DQ_NAMES = ("technological", "temporal", "geographical", "completeness", "reliability")


def v2_dqr(rating: float) -> float:
    """openpcf's 1 (very good) … 5 (very poor) on PACT v2's 1 (good) … 3 (poor) scale."""
    return 1.0 + (rating - 1.0) / 2.0


def rating_of_v2_dqr(dqr: float) -> int:
    return min(5, max(1, round(1.0 + 2.0 * (dqr - 1.0))))


def _common_tail(result: Result, context: PactContext) -> dict[str, Any]:
    tail: dict[str, Any] = {}
    if context.product_rules:
        tail["productOrSectorSpecificRules"] = [
            {"operator": r.operator, "ruleNames": list(r.rule_names)}
            | ({"otherOperatorName": r.other_operator_name} if r.other_operator_name else {})
            for r in context.product_rules
        ]
    tail["exemptedEmissionsPercent"] = _dec(round(context.exempted_emissions_percent, 4))
    if context.exempted_emissions_description:
        tail["exemptedEmissionsDescription"] = context.exempted_emissions_description
    tail["allocationRulesDescription"] = result.allocation
    sources = _secondary_sources(result)
    if sources:
        tail["secondaryEmissionFactorSources"] = sources
    return tail


def _secondary_sources(result: Result) -> list[dict[str, str]]:
    """Published factor data the result used (factors with a publisher), by source and version."""
    seen: dict[tuple[str, str], None] = {}
    for f in result.factors:
        if f.publisher:
            version = f.version or (str(f.year) if f.year else "unversioned")
            seen.setdefault((f.source.strip(), version), None)
    return [{"name": name, "version": version} for name, version in seen]


def _gwp_sets(result: Result, notes: list[str]) -> list[str]:
    """The result's GWP set and those of CO2e values it used as given, oldest first."""
    sets = {result.gwp}
    for label in result.inventory:
        m = re.match(r"^CO2e \(([^,]+),", label)
        if m and re.fullmatch(r"AR\d+", m[1]):
            sets.add(m[1])
        elif m and "unstated" not in sets:
            sets.add("unstated")
            notes.append("some CO2e values used as given do not state their GWP set")
    sets.discard("unstated")
    return sorted(sets, key=lambda s: int(s[2:]))


def _mass(declared: DeclaredUnit, unit: str, context: PactContext, notes: list[str]) -> float:
    if context.product_mass_per_declared_unit is not None:
        return context.product_mass_per_declared_unit
    if same_dimension(declared.unit, "kg"):
        return declared.amount * factor_between(declared.unit, "kg", "declared unit")
    if unit in _MASSLESS:
        return 0.0
    notes.append(
        f"productMassPerDeclaredUnit is not known for a declared unit in {unit} and is written "
        f"as 0; give product_mass_per_declared_unit in the export context"
    )
    return 0.0


def _geography(code: str | None, version: PactVersion) -> dict[str, str]:
    if not code:
        return {}
    if re.fullmatch(r"[A-Z]{2}-[A-Z0-9]{1,3}", code):
        return {"geographyCountrySubdivision": code}
    if re.fullmatch(r"[A-Z]{2}", code):
        return {"geographyCountry": code}
    if code in UN_REGIONS:
        return {"geographyRegionOrSubregion": code}
    raise PactError(
        f"geography '{code}' is neither an ISO 3166 code (CN, CN-JS) nor a UN M49 region "
        f"({', '.join(UN_REGIONS[:5])}, ...)"
    )


#: UN M49 regions and sub-regions (UN Statistics Division, Standard country or area codes for
#: statistical use), the names PACT's geographyRegionOrSubregion takes.
UN_REGIONS: tuple[str, ...] = (
    "Africa", "Americas", "Asia", "Europe", "Oceania", "Australia and New Zealand",
    "Central Asia", "Eastern Asia", "Eastern Europe", "Latin America and the Caribbean",
    "Melanesia", "Micronesia", "Northern Africa", "Northern America", "Northern Europe",
    "Polynesia", "South-eastern Asia", "Southern Asia", "Southern Europe", "Sub-Saharan Africa",
    "Western Asia", "Western Europe",
)  # fmt: skip


def _cpc(context: PactContext) -> str:
    if context.product_category_cpc:
        return context.product_category_cpc
    for urn in context.product_classifications:
        m = re.match(r"^urn:pact:productclassification:un-cpc:(.+)$", urn, re.IGNORECASE)
        if m:
            return m[1]
    raise PactError(
        "PACT v2 requires productCategoryCpc (the UN CPC code of the product); give "
        "product_category_cpc in the export context, or a classification "
        "urn:pact:productclassification:un-cpc:<code>"
    )


def _boundary(result: Result) -> str:
    stages: dict[str, list[str]] = {}
    for c in result.contributions:
        stages.setdefault(c.stage, []).append(c.name)
    lines = [f"{stage}: {', '.join(dict.fromkeys(names))}" for stage, names in stages.items()]
    left = [k.removeprefix("stage ") for k in result.excluded if k.startswith("stage ")]
    tail = f" Stages outside the footprint: {', '.join(left)}." if left else ""
    return "Cradle-to-gate. " + "; ".join(lines) + "." + tail


def _comment(result: Result, context: PactContext, notes: list[str]) -> str:
    p = result.provenance
    text = (
        f"Computed with openpcf {p.software_version} under the {result.profile} profile "
        f"(GWP100 {result.gwp}), product rule {result.rule}, factor sets "
        f"{', '.join(p.factor_sets)}; inputs sha256 {p.input_hash}."
    )
    dq = result.data_quality
    if dq is not None:
        text += f" Data-quality ratings cover {100 * dq.coverage:.0f} % of the footprint."
    if notes:
        text += " Notes: " + "; ".join(notes) + "."
    return f"{context.comment}\n{text}" if context.comment else text


def _dec(x: float) -> str:
    """A decimal string PACT accepts: no exponent, no negative zero, 12 significant digits."""
    if x == 0 or not abs(x) >= 1e-300:
        return "0"
    d = Decimal(f"{x:.12g}")
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _ts(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------- import


@dataclass(frozen=True)
class SupplierFootprint:
    """A supplier's PACT footprint as an openpcf `pcf:` value, with what the value holds."""

    pcf: Pcf
    unit: str  # the openpcf unit the value is per, e.g. 'kg'
    name: str
    parts: dict[str, float]  # kg CO2e per one `unit`: fossil, land-use, biogenic non-CO2, uptake
    dq: DataQuality | None
    notes: tuple[str, ...] = field(default=())


def read_footprints(path: Path) -> list[tuple[PactVersion, dict[str, Any]]]:
    """Every ProductFootprint in a PACT JSON file, validated: one footprint, a list, a response
    body ({"data": ...}) or a RequestFulfilledEvent."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PactError("file not found", Location(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PactError(f"cannot read the file: {exc}", Location(path)) from None
    except json.JSONDecodeError as exc:
        raise PactError(f"invalid JSON: {exc.msg}", Location(path, exc.lineno)) from None
    found = _footprints(data)
    if not found:
        raise PactError(
            'no ProductFootprint found (expected one, a list, {"data": ...} or an event)',
            Location(path),
        )
    out: list[tuple[PactVersion, dict[str, Any]]] = []
    for i, pf in enumerate(found):
        version = _version_of(pf, path)
        try:
            errors = schema_errors(pf, version)
        except PactSpecMissing:
            errors = []  # no copy of the spec here; the fields read below are still checked
        if errors:
            where = f"footprint {i + 1} " if len(found) > 1 else ""
            raise PactError(
                f"{where}is not a valid PACT v{version} ProductFootprint: "
                + "; ".join(errors[:10]),
                Location(path),
            )
        out.append((version, pf))
    return out


def _footprints(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, list):
        return [d for d in data if isinstance(d, dict)]
    if not isinstance(data, dict):
        return []
    if "pcf" in data:
        return [data]
    inner = data.get("data")
    if isinstance(inner, dict) and "pfs" in inner:
        return _footprints(inner["pfs"])
    return _footprints(inner) if inner is not None else []


def _version_of(pf: dict[str, Any], path: Path) -> PactVersion:
    major = str(pf.get("specVersion", "")).split(".")[0]
    if major in ("2", "3"):
        return major  # type: ignore[return-value]
    pcf = pf.get("pcf") if isinstance(pf.get("pcf"), dict) else {}
    if "declaredUnitOfMeasurement" in pcf:
        return "3"
    if "declaredUnit" in pcf:
        return "2"
    raise PactError(
        f"unsupported PACT specVersion '{pf.get('specVersion')}'; openpcf reads 2.x and 3.x",
        Location(path),
    )


def supplier_footprint(version: PactVersion, pf: dict[str, Any]) -> SupplierFootprint:
    """A validated footprint as a `pcf:` value per one declared unit, keeping its provenance."""
    cf = pf["pcf"]
    notes: list[str] = []
    if version == "3":
        pact_unit, amount = cf["declaredUnitOfMeasurement"], _num(cf["declaredUnitAmount"])
        headline = _num(cf["pcfExcludingBiogenicUptake"]) / amount
        fossil = sum(_num(cf.get(k, "0")) for k in ("fossilGhgEmissions",
                     "technologicalCO2Removals", "ccsTechnologicalCO2Capture"))  # fmt: skip
        land = sum(_num(cf.get(k, "0")) for k in ("landUseChangeGhgEmissions",
                   "landManagementBiogenicCO2Emissions", "landManagementBiogenicCO2Removals"))  # fmt: skip
        biogenic = _num(cf.get("biogenicNonCO2Emissions", "0"))
        uptake = _num(cf.get("biogenicCO2Uptake", "0"))
        gwps = list(cf["ipccCharacterizationFactors"])
        version_no = None
        dq = None
        if "dqi" in cf:
            d = cf["dqi"]
            notes.append(
                f"PACT v3 gives three DQRs (technological {d['technologicalDQR']}, geographical "
                f"{d['geographicalDQR']}, temporal {d['temporalDQR']}); openpcf's dq needs five, "
                f"so none is set"
            )
    else:
        pact_unit, amount = cf["declaredUnit"], 1.0  # v2 values are per one declared unit
        headline = _num(cf["pCfExcludingBiogenic"])
        fossil = _num(cf["fossilGhgEmissions"])
        land = _num(cf.get("dLucGhgEmissions", "0")) + _num(
            cf.get("landManagementGhgEmissions", "0")
        )
        biogenic = _num(cf.get("otherBiogenicGhgEmissions", "0"))
        uptake = _num(cf.get("biogenicCarbonWithdrawal", "0"))
        gwps = list(cf.get("ipccCharacterizationFactorsSources") or [cf["characterizationFactors"]])
        version_no = pf.get("version")
        dq = _dq_from_v2(cf["dqi"]) if "dqi" in cf else None
    if pact_unit not in PACT_UNITS:
        raise PactError(
            f"the declared unit '{pact_unit}' has no openpcf unit; openpcf reads "
            f"{', '.join(PACT_UNITS)}"
        )
    unit = PACT_UNITS[pact_unit]
    parts = {name: value / amount for name, value in
             (("fossil", fossil), ("land-use", land), ("biogenic", biogenic), ("uptake", uptake))}  # fmt: skip
    origin = max(("fossil", "land-use", "biogenic"), key=lambda o: abs(parts[o]))
    if origin != "fossil" or parts["land-use"] or parts["biogenic"]:
        notes.append(
            f"the value mixes origins (fossil {parts['fossil']:.6g}, land use "
            f"{parts['land-use']:.6g}, biogenic non-CO2 {parts['biogenic']:.6g} kg CO2e/{unit}); "
            f"a pcf input has one, so it takes the largest: {origin}"
        )
    gwp = gwps[0] if len(gwps) == 1 and gwps[0] in ("AR5", "AR6") else None
    if gwp is None:
        notes.append(f"GWP sets {'+'.join(gwps)}: not one openpcf knows, so left unstated")
    valid_until, implied = _valid_until(pf, cf)
    if implied:
        notes.append("no validityPeriodEnd: valid until 3 years after referencePeriodEnd")
    pcf = Pcf(
        value=headline,
        unit=f"kg CO2e/{unit}",
        source=f"PACT {pf['specVersion']} footprint {pf['id']} by {pf['companyName']}: "
        f"{pf['productNameCompany']}",
        gwp=gwp,
        origin=origin,
        pact_id=pf["id"],
        company=pf["companyName"],
        spec_version=pf["specVersion"],
        version=version_no,
        valid_until=valid_until,
    )
    return SupplierFootprint(pcf, unit, pf["productNameCompany"], parts, dq, tuple(notes))


def _num(text: str | float) -> float:
    try:
        return float(Decimal(str(text)))
    except InvalidOperation:
        raise PactError(f"'{text}' is not a decimal number") from None


def _dq_from_v2(dqi: dict[str, float]) -> DataQuality:
    return DataQuality(**{name: rating_of_v2_dqr(dqi[f"{name}DQR"]) for name in _DQ_NAMES})


def _valid_until(pf: dict[str, Any], cf: dict[str, Any]) -> tuple[date, bool]:
    if "validityPeriodEnd" in pf:
        return _date(pf["validityPeriodEnd"]), False
    end = _date(cf["referencePeriodEnd"])
    try:
        return end.replace(year=end.year + 3), True
    except ValueError:  # 29 February
        return end.replace(year=end.year + 3, day=28), True


def _date(text: str) -> date:
    return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).date()
