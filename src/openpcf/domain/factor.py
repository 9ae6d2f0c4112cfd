"""Emission factors and factor sets: a factor is kg of each gas (or kg CO2e) per unit of activity."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from openpcf.domain.gases import GAS_ALIASES, Origin, canonical_gas

Flag = Literal["VERIFY", "UNVERIFIED"]


class Factor(BaseModel):
    """One factor with its provenance. Values are kilograms per one `unit` of activity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Identifier `source/key`, optionally `@version`")
    name: str
    unit: str = Field(description="The activity unit the values are per: kg, t, kWh, TJ, t*km, ...")
    gases: dict[str, float] | None = Field(
        default=None, description="kg of each gas per unit, e.g. {CO2: 9.1, CH4: 0.02}"
    )
    co2e: float | None = Field(default=None, description="kg CO2e per unit (instead of gases)")
    gwp: Literal["AR5", "AR6"] | None = Field(
        default=None, description="GWP set `co2e` was computed with; absent means not stated"
    )
    origin: Origin = Field(default="fossil", description="origin of the carbon in these gases")
    source: str = Field(description="Title of the document the values come from")
    publisher: str | None = None
    source_url: str | None = None
    published: str | None = Field(default=None, description="publication date of the source")
    year: int | None = Field(default=None, description="reference year of the data")
    region: str | None = Field(default=None, description="ISO 3166 code, e.g. CN or CN-JS")
    version: str | None = None
    kind: str | None = Field(default=None, description="e.g. electricity-footprint, grid-co2")
    flags: tuple[Flag, ...] = Field(
        default=(), description="VERIFY/UNVERIFIED: not confirmed against the official text"
    )
    note: str | None = None
    override: bool = Field(
        default=False, description="true to replace a factor of the same id from another set"
    )

    @field_validator("gases")
    @classmethod
    def _known_gases(cls, gases: dict[str, float] | None) -> dict[str, float] | None:
        if gases is None:
            return None
        out: dict[str, float] = {}
        for name, value in gases.items():
            gas = canonical_gas(name)
            if gas is None:
                known = ", ".join(sorted(set(GAS_ALIASES.values())))
                raise ValueError(f"unknown gas '{name}'; expected one of {known}")
            out[gas] = out.get(gas, 0.0) + float(value)
        return out

    @model_validator(mode="after")
    def _one_value_kind(self) -> Factor:
        if (self.gases is None) == (self.co2e is None):
            raise ValueError("give exactly one of 'co2e' (kg CO2e per unit) or 'gases'")
        if self.gases is not None and self.gwp is not None:
            raise ValueError("'gwp' states the basis of 'co2e'; per-gas values take none")
        return self


class FactorSet(BaseModel):
    """A named, versioned, immutable collection of factors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    version: str
    title: str
    published: str | None = None
    sources: tuple[str, ...] = ()
    factors: tuple[Factor, ...]

    @property
    def label(self) -> str:
        return f"{self.id}@{self.version}"
