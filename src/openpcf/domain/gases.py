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

#: Further gases with an IPCC GWP100 (halocarbons, other fluorinated gases) that LCI databases
#: report as elementary flows; their values are in factors/data/gwp_halocarbons.csv. Kept apart
#: from GASES, which is what a product model's own inventory may name.
OTHER_GASES: tuple[str, ...] = (
    "CFC-11", "CFC-12", "CFC-13", "CFC-113", "CFC-114", "CFC-115", "Halon-1301", "Halon-1211",
    "Halon-2402", "CCl4", "CH3Br", "CH3CCl3", "HCFC-21", "HCFC-22", "HCFC-123", "HCFC-124",
    "HCFC-141b", "HCFC-142b", "HCFC-225ca", "HCFC-225cb", "HFC-41", "HFC-125", "HFC-134",
    "HFC-143", "HFC-143a", "HFC-152a", "HFC-227ea", "HFC-236fa", "HFC-245fa", "HFC-365mfc",
    "HFC-43-10mee", "C3F8", "c-C4F8", "C4F10", "C5F12", "C6F14", "CHCl3", "CH2Cl2", "CH3Cl",
    "SO2F2",
)  # fmt: skip
ALL_GASES: tuple[str, ...] = GASES + OTHER_GASES

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


_OTHER_BY_KEY = {g.upper(): g for g in OTHER_GASES}


def canonical_gas(name: str) -> str | None:
    """The canonical name of a gas, or None when it is not one we know."""
    key = name.strip().upper().replace(" ", "")
    return GAS_ALIASES.get(key) or _OTHER_BY_KEY.get(key)


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
