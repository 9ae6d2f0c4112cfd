"""Emission factors and factor sets: a factor is kg of each gas (or kg CO2e) per unit of activity."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from openpcf.domain.gases import GAS_ALIASES, Origin, canonical_gas
from openpcf.domain.uncertainty import Uncertainty
from openpcf.domain.values import Number, unit

Flag = Literal["VERIFY", "UNVERIFIED"]


class Factor(BaseModel):
    """One factor with its provenance. Values are kilograms per one `unit` of activity."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: str = Field(description="Identifier `source/key`, optionally `@version`")
    name: str
    unit: str = Field(description="The activity unit the values are per: kg, t, kWh, TJ, t*km, ...")
    gases: dict[str, Number] | None = Field(
        default=None, description="kg of each gas per unit, e.g. {CO2: 9.1, CH4: 0.02}"
    )
    co2e: Number | None = Field(default=None, description="kg CO2e per unit (instead of gases)")
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
    uncertainty: Uncertainty | None = Field(
        default=None,
        description="distribution of the value for Monte Carlo: of `co2e`, or of the only gas; "
        "a factor of several gases takes a lognormal (one multiplier for all its gases)",
    )

    _unit_ok = field_validator("unit")(lambda cls, v: unit(v))

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
        if self.uncertainty is not None:
            self._check_uncertainty(self.uncertainty)
        return self

    def _check_uncertainty(self, u: Uncertainty) -> None:
        if u.pedigree:
            raise ValueError("uncertainty: pedigree: true needs dq ratings, which a factor does "
                             "not have; give gsd (or put the pedigree on the inputs using it)")  # fmt: skip
        if self.co2e is None and len(self.gases or {}) > 1 and u.distribution != "lognormal":
            raise ValueError(f"uncertainty: a {u.distribution} distribution needs one value; "
                             "this factor has several gases: use a lognormal (gsd), which "
                             "scales all of them")  # fmt: skip
        u.check_value(self.value, "value")

    @property
    def value(self) -> float:
        """The one number a distribution refers to: co2e, or the only gas (else the first)."""
        if self.co2e is not None:
            return float(self.co2e)
        return float(next(iter((self.gases or {}).values()), 0.0))


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
