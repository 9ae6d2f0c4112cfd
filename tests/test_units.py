"""Unit conversion with dimension checks (hand values from the unit definitions)."""

from __future__ import annotations

import pytest

from openpcf.domain.errors import UnitError
from openpcf.units import co2e_per_unit, factor_between


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("g", "kg", 1e-3),
        ("t", "kg", 1e3),
        ("MWh", "kWh", 1e3),
        ("GJ", "MJ", 1e3),
        ("TJ", "kWh", 1e12 / 3.6e6),  # 1 kWh = 3.6 MJ
        ("kWh", "MJ", 3.6),
        ("tce", "GJ", 29.307),  # GB/T 2589: 1 kgce = 29 307 kJ, so 1 tce = 29.307 GJ
        ("kgce", "kJ", 29307),
        ("t*km", "kg*km", 1e3),
        ("tkm", "t*km", 1.0),
        ("kg*km", "t*km", 1e-3),
        ("m3", "L", 1e3),
        ("m³", "m3", 1.0),
        ("10^4 Nm3", "Nm3", 1e4),
        ("m2", "cm2", 1e4),
        ("piece", "pcs", 1.0),
    ],
)
def test_conversions(source: str, target: str, expected: float) -> None:
    assert factor_between(source, target, "test") == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("source", "target", "dims"),
    [
        ("kWh", "kg", "'kWh' (energy) cannot be converted to 'kg' (mass)"),
        ("piece", "kg", "(count of pieces)"),
        ("m3", "Nm3", "'m3' (volume) cannot be converted to 'Nm3' (normal gas volume)"),
        ("t", "t*km", "(freight, mass × distance)"),
    ],
)
def test_dimension_mismatch_names_the_input(source: str, target: str, dims: str) -> None:
    with pytest.raises(UnitError) as err:
        factor_between(source, target, "input 'Grid electricity'")
    assert "input 'Grid electricity'" in str(err.value)
    assert dims in str(err.value)


def test_unknown_unit_is_an_error() -> None:
    with pytest.raises(UnitError, match="'furlongs_per_coal' is not a unit"):
        factor_between("furlongs_per_coal", "kg", "x")


def test_bare_number_is_not_a_unit() -> None:
    with pytest.raises(UnitError, match="has no unit"):
        factor_between("5", "kg", "x")


@pytest.mark.parametrize(
    ("text", "kg", "per"),
    [("kg CO2e/kg", 1.0, "kg"), ("t CO2e/t", 1000.0, "t"), ("g CO2e/kWh", 1e-3, "kWh")],
)
def test_co2e_per_unit(text: str, kg: float, per: str) -> None:
    assert co2e_per_unit(text) == (pytest.approx(kg), per)


def test_co2e_per_unit_rejects_other_forms() -> None:
    with pytest.raises(UnitError, match="not of the form"):
        co2e_per_unit("kg/kg")
    with pytest.raises(UnitError, match="cannot be converted"):
        co2e_per_unit("kWh CO2e/kg")
