"""Methodology profiles and product rules, as loaded from the data files under `openpcf/rules`.

A profile (GB/T 24067, ISO 14067, PACT v3, EU CBAM, ...) fixes how any product is accounted;
a product rule (cement, LFP cell, ...) fixes what a model of one product must contain. Both are
data with their sources cited per rule, so a reviewer can check each choice against its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from openpcf.domain.model import Boundary, Quantity, Stage

ElectricityEvidence = Literal[
    "grid-average", "direct-connection", "certificates", "supplier-specific"
]
AllocationMethod = Literal["subdivision", "system-expansion", "physical", "economic"]
ResultField = Literal[
    "pcf",
    "stages",
    "gases",
    "biogenic",
    "dluc",
    "primary_data_share",
    "data_quality",
    "direct_indirect",
    "electricity",
]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Data):
    """Where a rule comes from: the document, the clause where known, and how sure we are."""

    topic: str = Field(description="which setting this supports, e.g. gwp, cutoff, biogenic")
    source: str = Field(description="document title (and clause)")
    url: str | None = None
    published: str | None = None
    flags: tuple[Literal["VERIFY", "UNVERIFIED"], ...] = ()
    note: str | None = None


class BiogenicTreatment(_Data):
    in_total: bool = Field(description="biogenic CO2 emissions and removals count in the total")
    report_separately: bool = True


class LandUseTreatment(_Data):
    dluc_in_total: bool = Field(description="direct land-use change emissions count in the total")
    report_separately: bool = True


class ElectricityTreatment(_Data):
    grid_basis: Literal["footprint", "grid-co2"] = Field(
        description="grid average: life-cycle footprint factor (CO2e) or grid CO2 factor"
    )
    accepts: tuple[ElectricityEvidence, ...] = Field(
        description="evidence that may replace the grid average for the electricity it covers"
    )


class Profile(_Data):
    """How a footprint is accounted under one standard or scheme."""

    id: str
    name: str
    version: str = Field(description="version of the standard or scheme this profile encodes")
    gwp: Literal["AR5", "AR6"]
    gases: Literal["all"] | tuple[str, ...] = Field(
        default="all", description="gases counted; 'all' or a list such as [CO2]"
    )
    boundaries: tuple[Boundary, ...] = Field(description="system boundaries the profile allows")
    excluded_stages: tuple[Stage, ...] = Field(
        default=(), description="life-cycle stages outside the profile's declared footprint"
    )
    cutoff: float | None = Field(
        default=None, ge=0, le=1, description="largest share of the total that may be left out"
    )
    allocation: tuple[AllocationMethod, ...] = Field(description="allocation hierarchy, in order")
    biogenic: BiogenicTreatment
    land_use_change: LandUseTreatment
    electricity: ElectricityTreatment
    reports: tuple[ResultField, ...] = Field(description="result fields the profile requires")
    sources: tuple[Citation, ...] = Field(min_length=1)


class BenchmarkClass(_Data):
    grade: str
    max_kg_co2e: float = Field(description="upper bound per declared unit, inclusive")


class MandatoryInput(_Data):
    """An input the rule requires; a model line matches by kind or by a word in its name."""

    name: str
    kind: Literal["electricity", "fuel", "material", "transport", "any"] = "any"
    match: tuple[str, ...] = Field(
        default=(), description="words (any language) one of which the input's name contains"
    )


class Cbam(_Data):
    sector: Literal[
        "cement", "iron-and-steel", "aluminium", "fertilisers", "hydrogen", "electricity"
    ]
    cn_codes: tuple[str, ...]
    gases: tuple[str, ...] = Field(description="gases CBAM counts for this sector")
    indirect_in_definitive: bool = Field(
        description="indirect emissions count in the definitive period (from 2026)"
    )


class ProductRule(_Data):
    """What a model of one product must contain."""

    id: str
    name: str
    name_zh: str | None = None
    declared_unit: Quantity
    boundary: Boundary
    mandatory_stages: tuple[Stage, ...] = ()
    mandatory_inputs: tuple[MandatoryInput, ...] = ()
    cutoff: float | None = Field(default=None, ge=0, le=1)
    allocation: AllocationMethod | None = None
    data_quality_floor: float | None = Field(
        default=None, ge=1, le=5, description="worst weighted data-quality rating accepted (1 best)"
    )
    benchmark_classes: tuple[BenchmarkClass, ...] = ()
    cbam: Cbam | None = None
    sources: tuple[Citation, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Accounting:
    """The settings of a profile that change numbers; what a calculation runs under.

    Kept apart from `Profile` so a reconciliation can switch one setting at a time.
    """

    profile: str
    gwp: str
    gases: tuple[str, ...] | None  # None: all gases count
    grid_basis: str
    accepts: frozenset[str]
    excluded_stages: tuple[str, ...]
    allocation: tuple[str, ...]
    biogenic_in_total: bool
    dluc_in_total: bool

    @classmethod
    def of(cls, profile: Profile, gwp: str | None = None) -> Accounting:
        return cls(
            profile=profile.id,
            gwp=gwp or profile.gwp,
            gases=None if profile.gases == "all" else tuple(profile.gases),
            grid_basis=profile.electricity.grid_basis,
            accepts=frozenset(profile.electricity.accepts),
            excluded_stages=tuple(profile.excluded_stages),
            allocation=tuple(profile.allocation),
            biogenic_in_total=profile.biogenic.in_total,
            dluc_in_total=profile.land_use_change.dluc_in_total,
        )

    def counts(self, gas: str) -> bool:
        return self.gases is None or gas in self.gases


#: The order in which a reconciliation switches settings from one profile to another, each step
#: named for the rule that causes its difference.
RECONCILIATION_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("GWP set", ("gwp",)),
    ("gases counted", ("gases",)),
    ("electricity treatment", ("grid_basis", "accepts")),
    ("boundary", ("excluded_stages",)),
    ("allocation", ("allocation",)),
    ("biogenic carbon", ("biogenic_in_total",)),
    ("land-use change", ("dluc_in_total",)),
)
