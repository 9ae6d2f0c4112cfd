"""Numbers and units as the door checks them: finite, not booleans, units of a plain shape.

A YAML `amount: true` is a boolean that pydantic would read as 1; `kg**1000000` or an expression
is a string that pint would evaluate at every calculation. Both are refused when a document is
validated, so nothing malformed is stored. The shape is checked here; that each name is a unit
pint knows is checked by `openpcf.units.unit_problem` where a model is read (io/model_file.py).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BeforeValidator

# A unit is an optional scale ('1', '0.896', '10**4') and unit names joined by '*', '/' or
# spaces, each name with an optional small integer exponent: 'kg', 't*km', 'm**2*year',
# '10^4 Nm3', 'm²'. Anything else (parentheses, 'kg**1000000', code) is refused before pint,
# whose parser is an expression evaluator, sees it.
MAX_UNIT_CHARS = 64
MAX_EXPONENT = 9
_SCALE = r"(?:\d{1,12}(?:\.\d{1,12})?(?:[eE][+-]?\d{1,2})?|10\*\*[+-]?\d{1,2})"
_NAME = r"[^\W\d][\w°µΩ]*"
_TERM = rf"{_NAME}(?:\s*\*\*\s*-?\d+)?"
_UNIT = re.compile(rf"^\s*(?:{_SCALE}\s*\*?\s*)?(?:{_TERM}(?:\s*(?:\*|/|\s)\s*{_TERM})*)?\s*$")
_SCALE_PREFIX = re.compile(rf"^\s*{_SCALE}")
_NAMES = re.compile(_NAME)
_EXPONENTS = re.compile(r"\*\*\s*(-?\d+)")
_NORMAL_VOLUME = re.compile(r"\bNm(\^|\*\*)?[3³]")
_POWER_OF_LENGTH = re.compile(r"\b(m|mm|cm|dm|km)([23])\b")
_SUPERSCRIPTS = str.maketrans({"²": "**2", "³": "**3", "·": "*", "×": "*"})
CO2E_PER = re.compile(r"^\s*(?P<mass>[^/]*?)\s*CO2e?\s*/\s*(?P<per>.+?)\s*$", re.IGNORECASE)


def normalise_unit(text: str) -> str:
    """'m2' -> 'm**2', 'Nm³' -> 'Nm3', '10^4' -> '10**4', '·' -> '*' (pint's spelling)."""
    text = _NORMAL_VOLUME.sub("Nm3", text.strip())
    text = _POWER_OF_LENGTH.sub(r"\1**\2", text)
    return text.translate(_SUPERSCRIPTS).replace("^", "**")


@lru_cache(maxsize=4096)
def unit_shape_problem(text: str) -> str | None:
    """Why `text` does not have the shape of a unit, else None."""
    if not isinstance(text, str):
        return "a unit is text, e.g. kg, kWh, t*km"
    if len(text) > MAX_UNIT_CHARS:
        return f"a unit has at most {MAX_UNIT_CHARS} characters"
    normal = normalise_unit(text)
    if not _UNIT.match(normal):
        return "expected unit names joined by '*', '/' or spaces, e.g. kg, kWh, t*km, m**2"
    for exponent in _EXPONENTS.findall(_SCALE_PREFIX.sub("", normal)):
        if abs(int(exponent)) > MAX_EXPONENT:
            return f"the exponent {exponent} is out of range (at most {MAX_EXPONENT})"
    return None


def unit_names(text: str) -> list[str]:
    """The unit names in a unit of valid shape: '10^4 Nm3' -> ['Nm3'], 't*km' -> ['t', 'km']."""
    return _NAMES.findall(_SCALE_PREFIX.sub("", normalise_unit(text)))


def co2e_parts(text: str) -> tuple[str, str] | None:
    """'t CO2e/t' -> ('t', 't'); the mass defaults to kg; None when not of that form."""
    m = CO2E_PER.match(text) if isinstance(text, str) else None
    return (m["mass"] or "kg", m["per"]) if m else None


def not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {str(value).lower()}")
    return value


def unit(value: str) -> str:
    problem = unit_shape_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def co2e_unit(value: str) -> str:
    """'<mass> CO2e/<unit>', both parts of a unit's shape."""
    parts = co2e_parts(value)
    if parts is None:
        raise ValueError(f"'{value}' is not of the form '<mass> CO2e/<unit>', e.g. 'kg CO2e/kg'")
    for part in parts:
        unit(part)
    return value


Number = Annotated[float, BeforeValidator(not_bool)]
