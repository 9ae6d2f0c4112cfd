"""Resolve `electricity: {region, year, basis}` to one factor of the bundled set.

Two different numbers exist and must not be confused (shared/data/README.md):
- basis `footprint`: the life-cycle electricity carbon-footprint factor (CO2e) that MEE, NBS
  and NEA publish for product footprints. Only national values exist; a provincial model gets
  the national value and the result says so.
- basis `grid-co2`: the MEE/NBS grid CO2 emission factor (operational CO2 only) of the
  province, else the national one, with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpcf.domain.errors import FactorError, Location
from openpcf.domain.factor import Factor
from openpcf.factors.catalogue import Catalogue

#: ISO 3166-2:CN province-level codes (2017 edition, letter codes).
PROVINCES = frozenset(
    [
        "CN-AH",
        "CN-BJ",
        "CN-CQ",
        "CN-FJ",
        "CN-GD",
        "CN-GS",
        "CN-GX",
        "CN-GZ",
        "CN-HA",
        "CN-HB",
        "CN-HE",
        "CN-HI",
        "CN-HK",
        "CN-HL",
        "CN-HN",
        "CN-JL",
        "CN-JS",
        "CN-JX",
        "CN-LN",
        "CN-MO",
        "CN-NM",
        "CN-NX",
        "CN-QH",
        "CN-SC",
        "CN-SD",
        "CN-SH",
        "CN-SN",
        "CN-SX",
        "CN-TJ",
        "CN-TW",
        "CN-XJ",
        "CN-XZ",
        "CN-YN",
        "CN-ZJ",
    ]
)
_PREFIX = {"footprint": "cn-mee-efp", "grid-co2": "cn-mee-grid"}
_KIND = {"footprint": "electricity-footprint", "grid-co2": "grid-co2"}


@dataclass(frozen=True)
class Resolved:
    factor: Factor
    note: str | None  # why a national value stands in for the region, if it does
    code: str | None


def resolve_electricity(
    catalogue: Catalogue, region: str, year: int, basis: str, where: Location | None = None
) -> Resolved:
    region = region.strip().upper()
    if region != "CN" and not region.startswith("CN-"):
        raise FactorError(
            f"electricity.region '{region}': the bundled set covers China only (CN or a "
            f"province such as CN-JS); give this input a factor of your own instead",
            where,
        )
    prefix, kind = _PREFIX[basis], _KIND[basis]
    years = sorted({f.year for f in catalogue.by_id.values() if f.kind == kind and f.year})
    if year not in years:
        raise FactorError(
            f"no {basis} electricity factor is published for {year}; years that exist: "
            f"{', '.join(map(str, years))}",
            where,
        )
    local = catalogue.by_id.get(f"{prefix}/{region}@{year}")
    if local is not None:
        return Resolved(local, None, None)
    national = catalogue.by_id[f"{prefix}/CN@{year}"]
    if region == "CN":
        return Resolved(national, None, None)
    if region not in PROVINCES:
        raise FactorError(
            f"electricity.region '{region}' is not an ISO 3166-2 province code; use CN or one "
            f"of {', '.join(sorted(PROVINCES))}",
            where,
        )
    if basis == "footprint":
        note = (
            f"no provincial electricity carbon-footprint factor is published for {region}; "
            f"the national {year} value {national.co2e} kg CO2e/kWh is used"
        )
        return Resolved(national, note, "NATIONAL_ELECTRICITY_FOOTPRINT")
    note = (
        f"no MEE grid CO2 factor for {region} in {year}; the national value is used "
        f"instead of the provincial one"
    )
    return Resolved(national, note, "GRID_NATIONAL_FALLBACK")


#: Green-power direct connection (绿电直连) thresholds: at least 60% of the project's available
#: generation used on site, covering at least 30% of the user's consumption, 35% from 2030.
#: NDRC/NEA notice on orderly promoting green-power direct connection (发改能源〔2025〕650号).
MIN_ON_SITE_SHARE_OF_GENERATION = 0.60
DIRECT_CONNECTION_SOURCE = "NDRC/NEA 关于有序推动绿电直连发展有关事项的通知 (2025)"


def min_share_of_consumption(year: int) -> float:
    return 0.35 if year >= 2030 else 0.30


def direct_connection_failures(
    generation_kwh: float, on_site_kwh: float, consumption_kwh: float, year: int
) -> list[str]:
    """Each threshold the metered evidence misses, said with the numbers."""
    failures = []
    if on_site_kwh > generation_kwh:
        failures.append(
            f"on-site use {on_site_kwh:g} kWh exceeds the project's generation {generation_kwh:g} kWh"
        )
    if on_site_kwh > consumption_kwh:
        failures.append(
            f"on-site use {on_site_kwh:g} kWh exceeds the site's consumption {consumption_kwh:g} kWh"
        )
    if failures:
        return failures
    used = on_site_kwh / generation_kwh
    if used < MIN_ON_SITE_SHARE_OF_GENERATION:
        failures.append(
            f"only {used:.1%} of the project's generation is used on site; at least "
            f"{MIN_ON_SITE_SHARE_OF_GENERATION:.0%} is required ({DIRECT_CONNECTION_SOURCE})"
        )
    covered, floor = on_site_kwh / consumption_kwh, min_share_of_consumption(year)
    if covered < floor:
        failures.append(
            f"the direct connection covers {covered:.1%} of the site's consumption; at least "
            f"{floor:.0%} is required in {year} ({DIRECT_CONNECTION_SOURCE})"
        )
    return failures


def generation_factor(catalogue: Catalogue, generation: str, year: int) -> Resolved:
    """Life-cycle factor of one generation type: the year's, else the latest earlier one."""
    years = sorted(
        f.year
        for f in catalogue.by_id.values()
        if f.id.startswith(f"cn-mee-efp/{generation}@") and f.year
    )
    if not years:
        raise FactorError(f"no electricity carbon-footprint factor for generation '{generation}'")
    earlier = [y for y in years if y <= year]
    if not earlier:
        raise FactorError(
            f"no '{generation}' electricity carbon-footprint factor for {year} or before; years "
            f"that exist: {', '.join(map(str, years))}"
        )
    chosen = earlier[-1]
    factor = catalogue.by_id[f"cn-mee-efp/{generation}@{chosen}"]
    if chosen == year:
        return Resolved(factor, None, None)
    return Resolved(
        factor,
        f"no {year} life-cycle factor for {generation} generation is published; the {chosen} "
        f"value {factor.co2e} kg CO2e/kWh is used",
        "GENERATION_FACTOR_EARLIER_YEAR",
    )
