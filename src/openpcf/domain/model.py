"""Product model format 1, as fixed by the product-model spec page.

These pydantic models are the one schema behind the YAML/JSON files, the JSON Schema that
`openpcf schema product-model` prints, and (later) the API. Unknown fields are rejected.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from openpcf.domain.factor import Factor
from openpcf.domain.gases import GAS_ALIASES, Origin, canonical_gas
from openpcf.domain.uncertainty import Uncertainty
from openpcf.domain.values import Number, co2e_unit, unit

Stage = Literal["raw-materials", "production", "distribution", "use", "end-of-life"]
STAGES: tuple[Stage, ...] = ("raw-materials", "production", "distribution", "use", "end-of-life")
Boundary = Literal["cradle-to-gate", "cradle-to-grave", "gate-to-gate"]


class _Strict(BaseModel):
    # allow_inf_nan=False: NaN and infinity (YAML .nan/.inf) are refused at the door.
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class Quantity(_Strict):
    """An amount with its unit, e.g. {amount: 1, unit: kWh}."""

    amount: Number = Field(gt=0)
    unit: str = Field(min_length=1)

    _check = field_validator("amount")(lambda cls, v: _finite(v))
    _unit_ok = field_validator("unit")(lambda cls, v: unit(v))


class Conversion(_Strict):
    """How much of the declared unit one reference amount is: {from: 1 piece, to: 0.896 kWh}."""

    from_: str = Field(alias="from", description="a quantity in the reference unit, '1 piece'")
    to: str = Field(description="the same thing in the declared unit, '0.896 kWh'")

    _units_ok = field_validator("from_", "to")(lambda cls, v: unit(v))


class Product(_Strict):
    id: str | None = Field(default=None, description="URN urn:openpcf:product:<tenant>:<slug>")
    name: str = Field(min_length=1)
    rule: str | None = Field(default=None, description="product rule id; default general rule")
    declared_unit: Quantity = Field(description="what the PCF is expressed per")
    reference: Quantity | None = Field(
        default=None, description="what the inputs produce; default the declared unit"
    )
    conversion: Conversion | None = Field(
        default=None, description="needed when reference and declared unit differ in dimension"
    )
    region: str | None = Field(default=None, description="ISO 3166-2 province or 3166-1 country")
    year: int | None = Field(default=None, ge=1990, le=2100)
    boundary: Boundary = "cradle-to-gate"
    price: Number | None = Field(
        default=None, ge=0, description="value of the reference amount, for economic allocation"
    )

    @property
    def reference_quantity(self) -> Quantity:
        return self.reference or self.declared_unit


Generation = Literal[
    "coal", "gas", "hydro", "nuclear", "wind", "solar-pv", "solar-thermal", "biomass"
]


class DirectConnectionMeters(_Strict):
    """Monitoring meters whose stored readings measure a direct connection over a period."""

    site: str = Field(min_length=1, description="the monitoring site (openpcf monitor sites)")
    generation: str = Field(min_length=1, description="meter of the project's generation")
    on_site_use: str = Field(min_length=1, description="meter of generation used by this site")
    consumption: str = Field(min_length=1, description="meter of the site's total consumption")
    start: date = Field(description="first day of the period (the site's time zone)")
    end: date = Field(description="last day of the period, inclusive")

    @model_validator(mode="after")
    def _ordered(self) -> DirectConnectionMeters:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class MeteredEvidence(_Strict):
    """What the stored readings gave (set by openpcf when it reads them; never in a file)."""

    readings: int = Field(description="readings summed over the three meters")
    ledger_entries: tuple[int, ...] = Field(description="ledger seq of the chained readings")
    kwh: dict[str, float] = Field(description="kWh by field: generation, on-site use, consumption")


class DirectConnection(_Strict):
    """A green-power direct connection (绿电直连) over one period: metered by naming monitoring
    meters (`meters`), or declared by typing the three quantities (marked "declared, not
    metered" in the result). With `meters`, typed quantities are ignored."""

    generation: Generation = Field(description="generation type of the connected project")
    project_generation: Quantity | None = Field(
        default=None, description="the project's total generation (declared)"
    )
    on_site_use: Quantity | None = Field(
        default=None, description="project generation used by this site (declared)"
    )
    consumption: Quantity | None = Field(
        default=None, description="this site's total electricity consumption (declared)"
    )
    meters: DirectConnectionMeters | None = Field(
        default=None, description="the monitoring meters and period the quantities come from"
    )
    year: int | None = Field(default=None, description="metering year; default the input's")
    metered: MeteredEvidence | None = Field(
        default=None, description="set by openpcf from the stored readings; refused in a file"
    )

    @model_validator(mode="before")
    @classmethod
    def _not_typed_as_metered(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("metered") is not None:
            raise ValueError("'metered' is set by openpcf from stored readings; name 'meters'")
        return data

    @model_validator(mode="after")
    def _quantities_or_meters(self) -> DirectConnection:
        typed = (self.project_generation, self.on_site_use, self.consumption)
        if self.meters is None and any(q is None for q in typed):
            raise ValueError(
                "give project_generation, on_site_use and consumption (declared), or meters "
                "(metered)"
            )
        return self


class Certificate(_Strict):
    """One green electricity certificate (绿证) claimed for this electricity use."""

    id: str = Field(min_length=1)
    amount: Number = Field(gt=0)
    unit: str = Field(description="an energy unit, e.g. MWh")
    generation: Generation

    _unit_ok = field_validator("unit")(lambda cls, v: unit(v))


class Certificates(_Strict):
    """Certificates covering part of the electricity this input stands for."""

    consumption: Quantity = Field(
        description="electricity consumed in the period the certificates cover"
    )
    claims: list[Certificate] = Field(min_length=1)


class Electricity(_Strict):
    """Resolve a grid electricity factor from the bundled set, with optional green evidence."""

    region: str | None = Field(default=None, description="default: the product's region")
    year: int | None = Field(default=None, description="default: the product's year")
    basis: Literal["footprint", "grid-co2"] | None = Field(
        default=None,
        description="footprint: life-cycle electricity carbon-footprint factor (CO2e); "
        "grid-co2: MEE grid CO2 emission factor (operational CO2 only); default: as the "
        "methodology profile asks (footprint under gb-t-24067)",
    )
    direct_connection: DirectConnection | None = None
    certificates: Certificates | None = None


class DataQuality(_Strict):
    """Data-quality ratings, 1 (very good) to 5 (very poor), as in the pedigree matrix."""

    technological: int = Field(ge=1, le=5)
    geographical: int = Field(ge=1, le=5)
    temporal: int = Field(ge=1, le=5)
    completeness: int = Field(ge=1, le=5)
    reliability: int = Field(ge=1, le=5)

    @property
    def rating(self) -> float:
        return (
            self.technological
            + self.geographical
            + self.temporal
            + self.completeness
            + self.reliability
        ) / 5


def _check_own_uncertainty(u: Uncertainty | None, value: float, what: str, owner: str) -> None:
    """A distribution of a number that carries no dq ratings of its own: no pedigree."""
    if u is None:
        return
    if u.pedigree:
        raise ValueError(f"uncertainty: pedigree: true needs dq ratings, which {owner} does not "
                         "have; give gsd (or put the pedigree on an input's amount)")  # fmt: skip
    u.check_value(value, what)


class Pcf(_Strict):
    """A supplier-specific product carbon footprint used as this input's factor."""

    value: Number = Field(description="kg CO2e per unit, in the unit stated by `unit`")
    unit: str = Field(description="e.g. 'kg CO2e/kg', 't CO2e/t', 'kg CO2e/piece'")
    source: str | None = None
    gwp: Literal["AR5", "AR6"] | None = Field(default=None, description="GWP set of the value")
    origin: Origin = "fossil"
    # Provenance of a footprint received through PACT (`openpcf import pact`).
    pact_id: str | None = Field(default=None, description="id (UUID) of the PACT footprint")
    company: str | None = Field(default=None, description="the supplier (PACT companyName)")
    spec_version: str | None = Field(default=None, description="PACT specVersion, e.g. 3.0.0")
    version: int | None = Field(default=None, ge=0, description="PACT v2 footprint version")
    valid_until: date | None = Field(
        default=None, description="end of the footprint's validity period"
    )
    uncertainty: Uncertainty | None = Field(
        default=None,
        description="distribution of `value` for Monte Carlo (`calc --uncertainty N`), in its "
        "unit, e.g. {distribution: normal, sd: 0.3}; independent of the amount's",
    )

    _check = field_validator("value")(lambda cls, v: _finite(v))
    _unit_ok = field_validator("unit")(lambda cls, v: co2e_unit(v))

    @model_validator(mode="after")
    def _uncertainty_fits(self) -> Pcf:
        _check_own_uncertainty(self.uncertainty, self.value, "value", "a supplier PCF")
        return self


_SOURCES = ("factor", "pcf", "product", "electricity", "process")


class Input(_Strict):
    """One line of activity data. Exactly one of factor, pcf, product, electricity, process."""

    name: str = Field(min_length=1)
    stage: Stage
    amount: Number = Field(ge=0)
    unit: str = Field(min_length=1)
    factor: str | None = Field(default=None, description="a factor id")
    pcf: Pcf | None = None
    product: str | None = Field(default=None, description="a sub-assembly model: path or id")
    electricity: Electricity | None = None
    process: str | None = Field(
        default=None,
        description="a process of an imported background database (`openpcf db import`): "
        "'DB/UUID' or 'DB/exact process name', optionally pinned as 'DB@VERSION/...'",
    )
    primary: bool = Field(
        default=False, description="site- or supplier-specific data (PACT primary data)"
    )
    dq: DataQuality | None = Field(default=None, description="data-quality ratings")
    uncertainty: Uncertainty | None = Field(
        default=None,
        description="distribution of the amount for Monte Carlo (`calc --uncertainty N`), e.g. "
        "{distribution: lognormal, gsd: 1.2} or {distribution: lognormal, pedigree: true}",
    )
    cn_code: str | None = Field(
        default=None,
        description="CN code of a purchased CBAM good used as a precursor, e.g. '2523 10 00' "
        "(cement clinker); `openpcf cbam` then takes its EU default embedded emissions unless "
        "the input is a sub-assembly whose model names a CBAM product rule (actual data)",
    )

    _check = field_validator("amount")(lambda cls, v: _finite(v))
    _unit_ok = field_validator("unit")(lambda cls, v: unit(v))

    @model_validator(mode="after")
    def _one_source(self) -> Input:
        given = [k for k in _SOURCES if getattr(self, k)]
        if len(given) != 1:
            what = "none" if not given else ", ".join(given)
            raise ValueError(f"give exactly one of {', '.join(_SOURCES)} (found {what})")
        if self.uncertainty is not None:
            self.uncertainty.check_value(self.amount, "amount")
            if self.uncertainty.pedigree and self.dq is None:
                raise ValueError("uncertainty: pedigree: true derives the gsd from the input's "
                                 "dq ratings; add dq (technological, geographical, temporal, "
                                 "completeness, reliability) or give gsd")  # fmt: skip
        return self

    @property
    def source_kind(self) -> str:
        return next(k for k in _SOURCES if getattr(self, k))


class Emission(_Strict):
    """A direct emission at this site, per the reference amount."""

    name: str | None = Field(
        default=None, description="what emits it, e.g. 'limestone calcination'"
    )
    gas: str
    amount: Number
    unit: str = Field(min_length=1, description="a mass unit: kg, g, t")
    stage: Stage = "production"
    origin: Origin = "fossil"
    uncertainty: Uncertainty | None = Field(
        default=None,
        description="distribution of the amount for Monte Carlo (`calc --uncertainty N`), in "
        "its unit, e.g. {distribution: lognormal, gsd: 1.1}",
    )

    _check = field_validator("amount")(lambda cls, v: _finite(v))
    _unit_ok = field_validator("unit")(lambda cls, v: unit(v))

    @field_validator("gas")
    @classmethod
    def _known(cls, gas: str) -> str:
        canonical = canonical_gas(gas)
        if canonical is None:
            known = ", ".join(sorted(set(GAS_ALIASES.values())))
            raise ValueError(f"unknown gas '{gas}'; expected one of {known}")
        return canonical

    @model_validator(mode="after")
    def _removals_are_biogenic(self) -> Emission:
        if self.amount < 0 and not (self.gas == "CO2" and self.origin != "fossil"):
            raise ValueError(
                "a negative amount (a removal) is allowed only for CO2 of biogenic or "
                "land-use origin"
            )
        _check_own_uncertainty(self.uncertainty, self.amount, "amount", "a direct emission")
        return self


class Coproduct(_Strict):
    """Another output sharing the burden.

    Either every coproduct states `share` (the fraction of the burden it carries), or none
    does and the allocation method of the product rule or profile sets the shares from `mass`
    (or the amount, when it is a mass) or `price`.
    """

    name: str = Field(min_length=1)
    amount: Number = Field(gt=0)
    unit: str = Field(min_length=1)
    share: Number | None = Field(default=None, ge=0, lt=1)
    mass: Quantity | None = Field(default=None, description="for physical allocation")
    price: Number | None = Field(
        default=None, ge=0, description="value of the stated amount, same currency as product.price"
    )

    _unit_ok = field_validator("unit")(lambda cls, v: unit(v))


class Exclusion(_Strict):
    """Something left out of the model under a cut-off, with its estimated size."""

    name: str = Field(min_length=1)
    stage: Stage
    kg_co2e: Number = Field(ge=0, description="estimated kg CO2e per reference amount")
    reason: str | None = None


class ProductModel(_Strict):
    openpcf: Literal[1] = Field(description="format version")
    product: Product
    factors: list[Factor] = Field(default_factory=list, description="the user's own factors")
    inputs: list[Input] = Field(default_factory=list)
    emissions: list[Emission] = Field(default_factory=list)
    coproducts: list[Coproduct] = Field(default_factory=list)
    excluded: list[Exclusion] = Field(
        default_factory=list, description="what the model leaves out under a cut-off"
    )

    @model_validator(mode="after")
    def _shares_leave_a_main_product(self) -> ProductModel:
        stated = [c.share for c in self.coproducts if c.share is not None]
        if stated and len(stated) != len(self.coproducts):
            raise ValueError("either every coproduct states 'share' or none does")
        if sum(stated) >= 1:
            raise ValueError(f"coproduct shares add up to {sum(stated):g}; they must stay below 1")
        if not self.inputs and not self.emissions:
            raise ValueError("a model needs at least one input or emission")
        return self

    @property
    def stated_shares(self) -> bool:
        return all(c.share is not None for c in self.coproducts)
