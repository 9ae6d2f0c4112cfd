"""Unit names of LCI exports (ecospold2, openLCA) in openpcf's pint registry.

ecospold2 states a unit name on every exchange; openLCA links units to unit groups. To convert
between two names, or to check a model's input against a process's reference unit, each name
is mapped through `data/lci_unit_names.csv` (else tried as a pint expression); names mapped to
nothing are units of their own that convert only to themselves.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib.resources import files

from openpcf.domain.errors import Location, UnitError
from openpcf.units import factor_between, quantity_of

_OWN = ""  # a unit of its own


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    text = (files("openpcf.io") / "data" / "lci_unit_names.csv").read_text("utf-8")
    rows = csv.DictReader(io.StringIO("".join(ln for ln in text.splitlines(True) if ln[0] != "#")))
    return {r["name"]: (r["pint"] or _OWN).strip() for r in rows}


@lru_cache(maxsize=4096)
def pint_unit(name: str) -> str | None:
    """The pint expression of a unit name, "" for a unit of its own, None when unknown."""
    table = _table()
    if name in table:
        return table[name]
    if name.strip() in table:
        return table[name.strip()]
    try:
        quantity_of(name)
    except UnitError:
        return None
    return name


def check_unit(name: str, what: str, where: Location | None = None) -> None:
    """Raise UnitError naming `what` when `name` is a unit openpcf cannot place."""
    if pint_unit(name) is None:
        raise UnitError(
            f"{what}: unit '{name}' is not one openpcf knows; add it to "
            "openpcf/io/data/lci_unit_names.csv or use kg, kWh, MJ, m3, t*km, unit, ...",
            where,
        )


def conversion(from_name: str, to_name: str, what: str, where: Location | None = None) -> float:
    """How many `to_name` one `from_name` is; UnitError naming `what` when they do not convert."""
    if from_name == to_name:
        return 1.0
    check_unit(from_name, what, where)
    check_unit(to_name, what, where)
    a, b = pint_unit(from_name), pint_unit(to_name)
    if not a or not b:
        raise UnitError(f"{what}: '{from_name}' cannot be converted to '{to_name}'", where)
    return factor_between(a, b, what, where)


def is_mass(name: str) -> bool:
    unit = pint_unit(name)
    if not unit:
        return False
    return quantity_of(unit).dimensionality == quantity_of("kg").dimensionality
