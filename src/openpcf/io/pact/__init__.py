"""PACT ProductFootprints: a `Result` out as PACT v3.0 or v2.3, a supplier's footprint in as `pcf:`.

Export maps one result (per its declared unit) plus the metadata a result does not hold (company,
product ids, periods, status: a `PactContext`) to a ProductFootprint and validates it against
openpcf's own model of the PACT data model (`model`). Values PACT requires that openpcf does not
compute are taken from the context: the product's mass per piece (or liter, m3, m2) must be given
there; carbon contents and packaging, when absent, are written as 0 / false and the export's
notes and `comment` say so.

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

The package: this module holds what export and import share; `export` writes a footprint,
`supplier` reads one, `model` is openpcf's model of the data model that validates both, `schema`
validates against a copy of the spec's own schemas (used by the tests to check `model`).
"""

from __future__ import annotations

from openpcf.domain.errors import OpenpcfError


class PactError(OpenpcfError):
    """A PACT footprint is invalid, or a result holds something PACT cannot express."""


class MassUnknown(PactError):
    """The declared unit needs productMassPerDeclaredUnit and none was given: a caller that
    keeps the mass elsewhere (the platform's product) names its own field instead."""

    def __init__(self, message: str, unit: str, amount: float) -> None:
        super().__init__(message)
        self.unit, self.amount = unit, amount  # the PACT declared unit, e.g. piece, and amount


class UnitUnnamed(PactError):
    """The PACT version has no declared unit of the result's dimension (v2.3 has no piece):
    a caller tells the product's owner which version does not carry the footprint."""

    def __init__(self, message: str, unit: str, version: str) -> None:
        super().__init__(message)
        self.unit, self.version = unit, version  # the openpcf unit, e.g. piece; "2" or "3"


class CpcMissing(PactError):
    """PACT v2 requires productCategoryCpc and the product has no UN CPC code."""


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


DQ_NAMES = ("technological", "temporal", "geographical", "completeness", "reliability")


def v2_dqr(rating: float) -> float:
    """openpcf's 1 (very good) … 5 (very poor) on PACT v2's 1 (good) … 3 (poor) scale."""
    return 1.0 + (rating - 1.0) / 2.0


def rating_of_v2_dqr(dqr: float) -> int:
    return min(5, max(1, round(1.0 + 2.0 * (dqr - 1.0))))
