"""EU CBAM embedded emissions: the bundled default values and the declaration a model yields.

Specific embedded emissions (SEE) of a good g, per Regulation (EU) 2023/956 Annex IV points 2
and 3 and Implementing Regulation (EU) 2023/1773 Annex III, computed separately for direct and
for indirect emissions:

    SEE_g = (AttrEm_g + EE_InpMat) / AL_g,    EE_InpMat = Σ_i M_i × SEE_i

AttrEm_g: the attributed (direct or indirect) emissions of the production process, AL_g: its
activity level in tonnes of g, M_i: the mass of relevant precursor i consumed, SEE_i: the
precursor's own specific (direct or indirect) embedded emissions, determined the same way
first (recursively) or taken from the Commission's default values. All values here are in
t CO2e per t of good unless a field says otherwise.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from openpcf.domain.factor import Flag
from openpcf.domain.result import Note, Provenance


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CbamDefault(_Frozen):
    """One default value published by the Commission for a CN code (t CO2e per t of good)."""

    cn_code: str
    description: str
    sector: str = Field(description="CBAM sector: cement, iron-and-steel, aluminium, ...")
    direct: float | None = Field(description="specific direct embedded emissions")
    indirect: float | None = Field(description="specific indirect embedded emissions")
    total: float | None = Field(description="direct + indirect, where the source states it")
    region: str = Field(description="country the value applies to, or the world average")
    period: str = Field(description="the CBAM period the value is published for")
    source: str
    publisher: str
    source_url: str
    published: str
    verification: str = Field(description="how the transcription was checked")
    note: str | None = None
    flags: tuple[Flag, ...] = Field(
        default=(), description="VERIFY: a single secondary transcription or marked so"
    )


class CbamEmission(_Frozen):
    """One line of the good's own production process: a direct or an indirect emission."""

    name: str
    stage: str
    kind: str = Field(description="emission | factor (fuel combustion) | electricity")
    source: str = Field(description="gas, factor id, or grid factor id")
    line: int | None = Field(default=None, description="line of the model file, where known")
    t_co2e: float = Field(description="t CO2e per t of good that CBAM counts (AR5 GWP100)")
    not_counted: dict[str, float] = Field(
        default_factory=dict,
        description="t CO2e per t of good of gases (or biogenic CO2) CBAM does not count here",
    )
    electricity_mwh: float | None = Field(
        default=None, description="electricity consumed, MWh per t of good (indirect lines)"
    )
    flags: tuple[str, ...] = ()


class CbamPrecursor(_Frozen):
    """A relevant precursor consumed: its mass per t of good and its own SEE."""

    name: str
    data: Literal["actual", "default"] = Field(
        description="actual: computed from its product model; default: the Commission's value"
    )
    cn_code: str | None
    line: int | None = None
    mass_t: float = Field(description="t of precursor per t of good (after allocation)")
    see_direct: float = Field(description="t CO2e per t of precursor")
    see_indirect: float = Field(description="t CO2e per t of precursor")
    direct: float = Field(description="mass_t × see_direct, t CO2e per t of good")
    indirect: float = Field(description="mass_t × see_indirect, t CO2e per t of good")
    source: str = Field(description="the precursor's model file, or the default value's source")
    flags: tuple[str, ...] = ()


class CbamExcluded(_Frozen):
    """Something outside CBAM's boundary, with its size in the normal footprint."""

    name: str
    stage: str
    kind: str
    reason: str
    kg_co2e: float = Field(
        description="kg CO2e per t of good in the normal PCF (profile `pcf_profile`)"
    )
    line: int | None = None


class CbamDeclaration(_Frozen):
    """Specific embedded emissions of one CBAM good, direct and indirect kept apart."""

    product: str
    product_id: str | None
    rule: str
    sector: str
    cn_codes: tuple[str, ...] = Field(description="CN codes the product rule covers")
    unit: str = "t CO2e per t of good"
    activity_level_t: float = Field(description="tonnes of good the model's inputs produce")
    allocation_share: float = Field(description="share of the burden the good carries")
    allocation: str
    gwp: str
    gases: tuple[str, ...] = Field(description="gases CBAM counts for the sector")
    direct: tuple[CbamEmission, ...]
    indirect: tuple[CbamEmission, ...]
    precursors: tuple[CbamPrecursor, ...]
    excluded: tuple[CbamExcluded, ...]
    attributed_direct: float = Field(description="AttrEm direct / AL")
    attributed_indirect: float = Field(description="AttrEm indirect / AL")
    precursors_direct: float = Field(description="EE_InpMat direct / AL")
    precursors_indirect: float = Field(description="EE_InpMat indirect / AL")
    see_direct: float
    see_indirect: float
    see_total: float
    indirect_in_definitive: bool = Field(
        description="indirect emissions count in the definitive period (from 2026)"
    )
    see_definitive: float = Field(description="what counts in the definitive period")
    default_share: float = Field(description="share of see_total from default values, 0-1")
    pcf_profile: str = Field(description="profile of the normal PCF the excluded values are from")
    notes: tuple[Note, ...]
    provenance: Provenance
