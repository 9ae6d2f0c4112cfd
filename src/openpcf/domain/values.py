"""Numbers and units as the door checks them: finite, not booleans, units pint can place.

A YAML `amount: true` is a boolean that pydantic would read as 1; `kg**1000000` or an expression
is a string that pint would evaluate at every calculation. Both are refused when a document is
validated, so nothing malformed is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from openpcf.units import co2e_unit_problem, unit_problem


def not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {str(value).lower()}")
    return value


def unit(value: str) -> str:
    """A unit: names pint knows, joined by '*', '/' or spaces, small integer exponents."""
    problem = unit_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def co2e_unit(value: str) -> str:
    """'<mass> CO2e/<unit>', both parts units as above."""
    problem = co2e_unit_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


Number = Annotated[float, BeforeValidator(not_bool)]
