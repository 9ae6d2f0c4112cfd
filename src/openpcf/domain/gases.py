"""Greenhouse gases, their origins, and the inventory flows the engine counts.

A flow is one gas of one origin (fossil CH4 and biogenic CH4 are different flows, since AR6
gives them different GWP100). A value known only as CO2e is kept as a pseudo-flow that records
the GWP set it was computed under, so that mixing bases can be flagged rather than hidden.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Origin = Literal["fossil", "biogenic", "land-use"]
ORIGINS: tuple[Origin, ...] = ("fossil", "biogenic", "land-use")

GwpSet = Literal["AR5", "AR6"]
GWP_SETS: tuple[GwpSet, ...] = ("AR5", "AR6")

#: Canonical gas names, with the other spellings the IPCC tables and users use.
GAS_ALIASES: dict[str, str] = {
    "CO2": "CO2",
    "CH4": "CH4",
    "N2O": "N2O",
    "SF6": "SF6",
    "NF3": "NF3",
    "CF4": "CF4",
    "PFC-14": "CF4",
    "C2F6": "C2F6",
    "PFC-116": "C2F6",
    "HFC-134A": "HFC-134a",
    "CH2FCF3": "HFC-134a",
    "HFC-23": "HFC-23",
    "CHF3": "HFC-23",
    "HFC-32": "HFC-32",
    "CH2F2": "HFC-32",
}
GASES: tuple[str, ...] = tuple(dict.fromkeys(GAS_ALIASES.values()))

CO2E = "CO2e"


class Flow(NamedTuple):
    """One inventory flow: a gas of an origin, or CO2e computed under `basis`."""

    gas: str
    origin: Origin = "fossil"
    basis: str = ""  # only for CO2e: "AR5", "AR6" or "unspecified"

    def label(self) -> str:
        if self.gas == CO2E:
            return f"CO2e ({self.basis}, {self.origin})"
        return self.gas if self.origin == "fossil" else f"{self.gas} ({self.origin})"


def canonical_gas(name: str) -> str | None:
    """The canonical name of a gas, or None when it is not one we know."""
    return GAS_ALIASES.get(name.strip().upper().replace(" ", ""))


class GwpTable(NamedTuple):
    """GWP100 values by set: `values[set][gas]`, and the non-fossil CH4 value where one differs."""

    values: dict[str, dict[str, float]]
    ch4_non_fossil: dict[str, float]
    sources: dict[str, str]

    def gwp(self, flow: Flow, gwp_set: str) -> float:
        if flow.gas == CO2E:
            return 1.0
        if flow.gas == "CH4" and flow.origin != "fossil" and gwp_set in self.ch4_non_fossil:
            return self.ch4_non_fossil[gwp_set]
        return self.values[gwp_set][flow.gas]
