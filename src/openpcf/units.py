"""One pint registry for openpcf, with the units product footprints need.

Added to pint's defaults:
- `piece` (pc, pcs, unit counts) as its own dimension, so pieces never convert to kilograms;
- `kgce`/`tce`, coal equivalent: 1 kgce = 29 307 kJ of net calorific value, GB/T 2589
  (综合能耗计算通则; 2008 edition clause 6.2, kept in GB/T 2589-2020 chapter 8);
- `Nm3`, a normal cubic metre of gas (0 °C, 101.325 kPa), as its own dimension: a gas volume at
  other conditions is not a normal volume, so `m3` never converts to `Nm3` silently;
- `tkm` for freight (tonne-kilometre), equal to t*km.
"""

from __future__ import annotations

from functools import lru_cache

import pint

from openpcf.domain.errors import Location, UnitError
from openpcf.domain.values import (
    CO2E_PER,
    co2e_parts,
    normalise_unit,
    unit_names,
    unit_shape_problem,
)


def _registry() -> pint.UnitRegistry:
    """pint's registry, its parsed definitions cached on disk (a fifth of the time of parsing
    them at every start, which was a quarter of a second of each CLI command); without the
    cache when the user's cache folder cannot be written."""
    try:
        return pint.UnitRegistry(autoconvert_offset_to_baseunit=True, cache_folder=":auto:")
    except OSError:
        return pint.UnitRegistry(autoconvert_offset_to_baseunit=True, cache_folder=None)


registry = _registry()
registry.define("piece = [piece] = pc = pcs = pieces = item = items = unit_count")
registry.define("kgce = 29307 * kJ = kg_ce")
registry.define("tce = 1000 * kgce = t_ce")
registry.define("normal_cubic_meter = [normal_gas_volume] = Nm3 = Nm³ = Nm^3")
registry.define("tkm = tonne * kilometer = t_km")


@lru_cache(maxsize=4096)
def unit_problem(text: str) -> str | None:
    """Why `text` is not a unit openpcf accepts (its shape, domain/values.py, then each name
    against pint's registry), else None. Checked before pint evaluates anything."""
    problem = unit_shape_problem(text)
    if problem is not None:
        return problem
    for name in unit_names(text):
        if name not in registry:
            return f"'{name}' is not a unit openpcf knows"
    return None


@lru_cache(maxsize=4096)
def _parse(text: str) -> pint.Quantity:
    return registry.parse_expression(normalise_unit(text))


def quantity_of(text: str, where: Location | None = None) -> pint.Quantity:
    """Parse a unit ('kWh', 't*km', '10^4 Nm3') or a quantity ('0.896 kWh')."""
    problem = unit_problem(text)
    if problem is not None:
        message = problem if problem.startswith("'") else f"'{text}' is not a unit: {problem}"
        raise UnitError(message, where)
    try:
        q = _parse(text)
    except (pint.errors.PintError, AttributeError, SyntaxError, TypeError, ValueError) as exc:
        raise UnitError(f"'{text}' is not a unit openpcf knows ({exc})", where) from None
    if not isinstance(q, pint.Quantity) or q.unitless:  # a bare number such as "1"
        raise UnitError(f"'{text}' has no unit; expected e.g. kg, kWh, t*km, piece", where)
    return q


def factor_between(from_unit: str, to_unit: str, what: str, where: Location | None = None) -> float:
    """How many `to_unit` one `from_unit` is; a dimension mismatch is an error naming `what`."""
    a = quantity_of(from_unit, where)
    b = quantity_of(to_unit, where)
    if a.dimensionality != b.dimensionality:
        raise UnitError(
            f"{what}: '{from_unit}' ({_dimension(a)}) cannot be converted to '{to_unit}' "
            f"({_dimension(b)})",
            where,
        )
    return float((a / b).to_reduced_units().to("dimensionless").magnitude)


def same_dimension(a: str, b: str) -> bool:
    return quantity_of(a).dimensionality == quantity_of(b).dimensionality


_DIMENSION_NAMES = {
    "kg": "mass",
    "kWh": "energy",
    "m**3": "volume",
    "m**2": "area",
    "piece": "count of pieces",
    "t*km": "freight, mass × distance",
    "Nm3": "normal gas volume",
    "m": "length",
}


def _dimension(q: pint.Quantity) -> str:
    for example, name in _DIMENSION_NAMES.items():
        if _parse(example).dimensionality == q.dimensionality:
            return name
    return str(q.dimensionality)


_CO2E_PER = CO2E_PER


def co2e_unit_problem(text: str) -> str | None:
    """Why `text` is not '<mass> CO2e/<unit>' with units openpcf accepts, else None."""
    parts = co2e_parts(text)
    if parts is None:
        return f"'{text}' is not of the form '<mass> CO2e/<unit>', e.g. 'kg CO2e/kg'"
    return unit_problem(parts[0]) or unit_problem(parts[1])


def co2e_per_unit(text: str, where: Location | None = None) -> tuple[float, str]:
    """Split 't CO2e/t' into (kg CO2e in one mass unit, the activity unit): (1000.0, 't')."""
    m = _CO2E_PER.match(text)
    if not m:
        raise UnitError(
            f"'{text}' is not of the form '<mass> CO2e/<unit>', e.g. 'kg CO2e/kg'", where
        )
    mass = m["mass"] or "kg"
    kg = factor_between(mass, "kg", f"the mass part of '{text}'", where)
    quantity_of(m["per"], where)
    return kg, m["per"]
