"""The factor in force for a meter's reading: kg of each gas per unit of the meter.

- grid: the MEE grid CO2 factor of the site's province for the reading's year (basis
  grid-co2), or the national life-cycle electricity footprint factor (basis footprint). MEE
  publishes a year's factors about two years later, so for a year not yet published the
  latest earlier one is the factor in force, and the note says so.
- fuel: a fuel-combustion factor of the bundled set, converted to the meter's unit.
- supply: a direct-connection supply's own factor; wind, PV, hydro and nuclear generation emit
  nothing in operation (their life-cycle factors apply in a product footprint, see
  `monitor activity`).

CO2e is characterised with the GWP set (AR5 GWP100 by default, as China's ETS and GB/T 24067
use), the per-gas kilograms are kept alongside.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from openpcf.domain.errors import FactorError, UnitError
from openpcf.domain.factor import Factor
from openpcf.domain.gases import Flow
from openpcf.domain.monitoring import (
    CARRIER_DIMENSIONS,
    ZERO_OPERATIONAL,
    Carrier,
    FuelRule,
    GridRule,
    MeterSpec,
    SupplyRule,
)
from openpcf.factors.bundled import bundled_set, gwp_table
from openpcf.factors.catalogue import Catalogue
from openpcf.factors.electricity import PROVINCES
from openpcf.units import factor_between, quantity_of

GWP = "AR5"
_EXAMPLES = {"energy": "kWh", "mass": "kg", "volume": "m**3", "normal gas volume": "Nm3"}
_PREFIX = {"grid-co2": "cn-mee-grid", "footprint": "cn-mee-efp"}
_KIND = {"grid-co2": "grid-co2", "footprint": "electricity-footprint"}


@dataclass(frozen=True, slots=True)
class MeterFactor:
    """What one unit of the meter emits under the factor in force."""

    factor: str  # the factor's id, or 'supply:<generation>'
    co2: float  # kg per meter unit
    ch4: float
    n2o: float
    co2e: float  # kg CO2e per meter unit (GWP)
    note: str | None = None


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return Catalogue.of([bundled_set()])


def dimension_of(unit: str) -> str | None:
    q = quantity_of(unit)
    for name, example in _EXAMPLES.items():
        if quantity_of(example).dimensionality == q.dimensionality:
            return name
    return None


def check_meter(meter: MeterSpec, region: str) -> None:
    """Refuse a meter whose unit does not fit its carrier or factor; say what would."""
    where = f"meter '{meter.site}/{meter.id}'"
    dimension = dimension_of(meter.unit)
    allowed = CARRIER_DIMENSIONS[meter.carrier]
    if dimension not in allowed:
        raise UnitError(
            f"{where}: unit '{meter.unit}' ({dimension or 'unknown dimension'}) does not fit "
            f"{meter.carrier.value}; expected {' or '.join(allowed)} "
            f"(e.g. {', '.join(_EXAMPLES[d] for d in allowed)})"
        )
    rule = meter.factor
    if isinstance(rule, GridRule) and meter.carrier is not Carrier.electricity:
        raise FactorError(f"{where}: a grid factor applies to electricity only")
    if isinstance(rule, GridRule) and region.upper() not in PROVINCES | {"CN"}:
        raise FactorError(f"{where}: the site's region '{region}' is not a Chinese province")
    if isinstance(rule, SupplyRule):
        if rule.co2e is None and rule.generation not in ZERO_OPERATIONAL:
            raise FactorError(
                f"{where}: supply from '{rule.generation}' generation needs its own factor "
                f"'co2e' (kg CO2e/kWh); only {', '.join(sorted(ZERO_OPERATIONAL))} default to 0"
            )
        if dimension != "energy":
            raise UnitError(f"{where}: a supply is metered in energy (kWh, MWh, GJ)")
    if isinstance(rule, FuelRule):
        factor = catalogue().get(rule.factor, what=f"{where}: ")
        factor_between(meter.unit, factor.unit, f"{where}: the meter's unit against {factor.id}")
    meter_factor(meter, region, 2024)  # resolvable


def meter_factor(meter: MeterSpec, region: str, year: int) -> MeterFactor:
    return _meter_factor(meter.factor, meter.unit, region.upper(), year)


@lru_cache(maxsize=4096)
def _meter_factor(
    rule: GridRule | FuelRule | SupplyRule, unit: str, region: str, year: int
) -> MeterFactor:
    if isinstance(rule, SupplyRule):
        per_kwh = factor_between(unit, "kWh", "supply meter")
        if rule.co2e is None:
            note = (
                f"{rule.generation} generation emits no CO2 in operation; a product footprint "
                f"counts its life-cycle factor"
            )
            return MeterFactor(f"supply:{rule.generation}", 0.0, 0.0, 0.0, 0.0, note)
        return MeterFactor(f"supply:{rule.generation}", 0.0, 0.0, 0.0, rule.co2e * per_kwh)
    if isinstance(rule, FuelRule):
        factor, note = catalogue().get(rule.factor), None
    else:
        factor, note = _grid_factor(rule.basis, region, year)
    return _per_meter_unit(factor, unit, note)


def _grid_factor(basis: str, region: str, year: int) -> tuple[Factor, str | None]:
    cat = catalogue()
    kind, prefix = _KIND[basis], _PREFIX[basis]
    years = sorted({f.year for f in cat.by_id.values() if f.kind == kind and f.year})
    earlier = [y for y in years if y <= year]
    used = earlier[-1] if earlier else years[0]
    notes = []
    if used != year:
        notes.append(f"no {basis} factor published for {year}; the {used} factor is in force")
    factor = cat.by_id.get(f"{prefix}/{region}@{used}")
    if factor is None:
        factor = cat.by_id[f"{prefix}/CN@{used}"]
        if region != "CN":
            notes.append(f"no {basis} factor for {region}; the national value is used")
    return factor, "; ".join(notes) or None


def _per_meter_unit(factor: Factor, unit: str, note: str | None) -> MeterFactor:
    scale = factor_between(unit, factor.unit, f"meter unit against {factor.id}")
    table = gwp_table()
    if factor.co2e is not None:
        return MeterFactor(factor.id, 0.0, 0.0, 0.0, factor.co2e * scale, note)
    gases = factor.gases or {}
    co2e = sum(kg * table.gwp(Flow(gas, factor.origin), GWP) for gas, kg in gases.items())
    return MeterFactor(
        factor.id,
        gases.get("CO2", 0.0) * scale,
        gases.get("CH4", 0.0) * scale,
        gases.get("N2O", 0.0) * scale,
        co2e * scale,
        note,
    )
