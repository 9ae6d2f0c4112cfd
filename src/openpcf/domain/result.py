"""The result of a calculation: an immutable value every output format renders and none recomputes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Amount(_Frozen):
    value: float
    unit: str


class DeclaredUnit(_Frozen):
    amount: float
    unit: str


class Contribution(_Frozen):
    """One input line's (or direct emission's) share of the footprint per declared unit."""

    name: str
    stage: str
    kg_co2e: float
    kind: str = Field(description="factor | electricity | pcf | product | emission")
    source: str = Field(description="factor id, sub-product name, supplier PCF source or gas")
    line: int | None = Field(default=None, description="line of the model file, where known")
    flags: tuple[str, ...] = ()


class Note(_Frozen):  # rendered as "warnings" in results
    """Something the user must know about the result; it does not stop the calculation."""

    code: str
    message: str
    input: str | None = None


class FactorUse(_Frozen):
    """Provenance of one factor the result used."""

    id: str
    name: str
    source: str
    publisher: str | None
    year: int | None
    region: str | None
    version: str | None
    unit: str
    flags: tuple[str, ...]


class ProcurementCheck(_Frozen):
    """The footprint against the green-procurement threshold and grades a regulator set for
    its product rule and declared unit."""

    grade: str | None = Field(description="the regulator's grade class the footprint falls in")
    threshold_kg_co2e: float | None = Field(description="at most this per declared unit")
    meets_threshold: bool | None = Field(description="null where no threshold is set")
    source: str
    valid_from: str
    valid_until: str | None


class Violation(_Frozen):
    """A breach of a product rule or methodology profile, with where it is and how to fix it."""

    code: str
    rule: str = Field(description="the profile or product rule that is breached")
    message: str
    fix: str
    file: str | None = None
    line: int | None = None


class DataQualitySummary(_Frozen):
    """Contribution-weighted data-quality ratings (1 very good … 5 very poor)."""

    rating: float
    technological: float
    geographical: float
    temporal: float
    completeness: float
    reliability: float
    coverage: float = Field(description="share of the footprint (by magnitude) with ratings, 0-1")


class Provenance(_Frozen):
    software_version: str
    input_hash: str = Field(description="sha256 over the model files and user factor files")
    factor_sets: tuple[str, ...]
    files: tuple[str, ...]


class VarianceContribution(_Frozen):
    """How much of the footprint's variance one input line accounts for."""

    name: str
    stage: str
    kind: str = Field(description="factor | electricity | pcf | product | process | emission")
    line: int | None = Field(default=None, description="line of the model file, where known")
    rank_correlation: float = Field(
        description="Spearman rank correlation of the line's contribution with the total"
    )
    share: float = Field(description="share of the variance, 0-1; the shares add up to 1")


class UncertaintyResult(_Frozen):
    """Monte Carlo statistics of the footprint per declared unit (`calc --uncertainty N`)."""

    iterations: int
    seed: int = Field(description="the run is reproduced by the same seed, model and profile")
    unit: str = "kg CO2e"
    deterministic: float = Field(description="the footprint computed with the stated values")
    mean: float
    sd: float = Field(description="standard deviation of the sampled footprints")
    standard_error: float = Field(description="of the mean: sd / sqrt(iterations)")
    median: float
    percentile_2_5: float
    percentile_97_5: float
    method: str = Field(description="what was sampled and how the systems were solved")
    sensitivity: str = Field(description="how the contributions to variance were computed")
    sampled: tuple[str, ...] = Field(
        description="each uncertain input, factor and background database, with its distribution"
    )
    contributions: tuple[VarianceContribution, ...] = Field(
        description="per input line of the product, largest share first"
    )
    derived: str | None = Field(
        default=None,
        description="set when no input carried a distribution: how the spreads were derived "
        "from the inputs' data-quality ratings (pedigree approach) and which inputs were held",
    )
    histogram: tuple[int, ...] = Field(
        default=(),
        description="how many sampled footprints fall in each of equal-width bins from "
        "histogram_min to histogram_max (for a chart)",
    )
    histogram_min: float | None = None
    histogram_max: float | None = None


class Result(_Frozen):
    product: str
    product_id: str | None
    declared_unit: DeclaredUnit
    pcf: Amount
    stages: dict[str, float]
    gases: dict[str, float] = Field(description="kg CO2e per gas (all origins)")
    inventory: dict[str, float] = Field(description="kg of each flow (gas and origin)")
    origins: dict[str, float] = Field(description="kg CO2e by origin: fossil, biogenic, land-use")
    excluded: dict[str, float] = Field(
        default_factory=dict,
        description="kg CO2e the profile leaves out of the total: stages, biogenic CO2, dLUC, gases",
    )
    contributions: tuple[Contribution, ...]
    profile: str
    rule: str = Field(description="product rule id, or 'general' when the model names none")
    rule_version: str | None = Field(
        default=None,
        description="version of the product rule in force on the calculation's date, where the "
        "platform recorded it ('bundled@<openpcf version>' for the rule openpcf ships)",
    )
    profile_version: str | None = Field(
        default=None,
        description="version of the methodology profile in force on the calculation's date, "
        "where the platform recorded it ('bundled@<openpcf version>' for the shipped one)",
    )
    factor_set: str
    gwp: str
    allocation: str = Field(description="how the main product's share of the burden was set")
    grade: str | None = Field(
        default=None, description="benchmark class of the product rule the footprint falls in"
    )
    procurement: ProcurementCheck | None = Field(
        default=None,
        description="against the regulator's procurement threshold and grades, where set",
    )
    primary_data_share: float = Field(description="percent of the footprint from primary data")
    data_quality: DataQualitySummary | None
    factors: tuple[FactorUse, ...]
    warnings: tuple[Note, ...]
    violations: tuple[Violation, ...] = Field(
        default=(), description="rule and profile breaches, when computed with --allow-violations"
    )
    provenance: Provenance
    uncertainty: UncertaintyResult | None = Field(
        default=None, description="Monte Carlo statistics, when computed with --uncertainty N"
    )
