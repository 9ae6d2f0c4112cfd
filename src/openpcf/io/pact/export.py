"""A `Result` out as a PACT v3.0 or v2.3 ProductFootprint (the mapping: see the package)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from openpcf.domain.result import DeclaredUnit, Result
from openpcf.io.pact import (
    DQ_NAMES,
    PACT_UNITS,
    CpcMissing,
    MassUnknown,
    PactError,
    UnitUnnamed,
    v2_dqr,
)
from openpcf.io.pact.model import footprint_errors
from openpcf.io.pact.schema import PactVersion, spec_version
from openpcf.units import factor_between, same_dimension

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
        raise UnitUnnamed(
            f"PACT v{version} cannot express the declared unit '{declared.unit}'; it allows "
            f"{allowed}. Declare the model per one of these (with product.conversion)",
            declared.unit,
            version,
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
    mass = _mass(result.declared_unit, unit, amount, context)
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
    errors = footprint_errors(head, version)  # always: openpcf's own model of the data model
    if errors:
        raise PactError(
            f"the export breaks the PACT v{version} data model: " + "; ".join(errors[:10])
        )
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
            **{f"{name}DQR": round(v2_dqr(getattr(dq, name)), 2) for name in DQ_NAMES},
        }
    return pcf


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


def _mass(declared: DeclaredUnit, unit: str, amount: float, context: PactContext) -> float:
    if context.product_mass_per_declared_unit is not None:
        return context.product_mass_per_declared_unit
    if same_dimension(declared.unit, "kg"):
        return declared.amount * factor_between(declared.unit, "kg", "declared unit")
    if unit in _MASSLESS:
        return 0.0  # v3 data model: "SHOULD be populated with 0" when mass is not relevant
    raise MassUnknown(
        f"productMassPerDeclaredUnit is unknown for a declared unit in {unit} (PACT requires "
        f"the mass of the product in it): give product_mass_per_declared_unit (kg) in the "
        f"export context (--context FILE)",
        unit,
        amount,
    )


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
    raise CpcMissing(
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
