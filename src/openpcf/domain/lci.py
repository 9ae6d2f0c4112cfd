"""Background life-cycle inventory databases: what a reader hands over, what storage keeps.

A reader (openLCA JSON-LD, ecospold2) turns its format into `SourceData`: processes whose
exchanges carry a *signed* amount in the flow's reference unit (outputs positive, inputs
negative, as produced), a role the format decides, and the provider the data names. Linking,
allocation and matrix building work on that alone, so every format is linked the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

FlowKind = Literal["product", "waste", "elementary"]

#: What an intermediate exchange is to its process, as the source format says:
#: "reference" (its quantitative reference), "function" (another product output or waste
#: input: a coproduct), "link" (an input to supply, a waste to treat, an avoided product),
#: "cut-off" (the data marks it as cut off, e.g. ecoinvent's recyclable by-products),
#: "omitted" (it cannot be used: `SourceExchange.omitted` says why, and the report counts it).
Role = Literal["reference", "function", "link", "cut-off", "elementary", "omitted"]


@dataclass(frozen=True)
class SourceFlow:
    id: str
    name: str
    kind: FlowKind
    unit: str  # name of the reference unit, as the source spells it
    category: str = ""
    cas: str | None = None
    names: dict[str, str] = field(default_factory=dict)  # per language, when the data gives more


@dataclass(frozen=True)
class SourceExchange:
    flow_id: str
    amount: float  # signed, in the flow's reference unit: produced (+) or consumed (-)
    role: Role
    label: str  # for messages: "exchange 3 'steel'"
    default_provider: str | None = None  # source process id the data links to
    internal_id: int | str | None = None  # for causal allocation factors
    #: distribution of the amount as a multiplier of it: (code, p1, p2, p3) as
    #: `domain.uncertainty.Uncertainty.relative` gives them; None when certain
    uncertainty: tuple[int, float, float, float] | None = None
    #: why the source's distribution could not be used (it is then taken as certain)
    uncertainty_problem: str | None = None
    #: for role "omitted": the report category it is counted under (MISSING_FLOW, ...)
    omitted: str | None = None


@dataclass(frozen=True)
class SourceProcess:
    id: str
    name: str
    file: str  # where it was read from, for messages
    exchanges: tuple[SourceExchange, ...]
    location: str | None = None
    category: str = ""
    #: "physical", "economic", "causal" or None (no allocation stated)
    allocation_method: str | None = None
    #: product flow id -> share (physical/economic), or (product flow id, internal id) -> share
    allocation: dict[str | tuple[str, int | str], float] = field(default_factory=dict)
    #: the name in every language the data gives it ({"en": ..., "zh": ...})
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceMethod:
    """An LCIA method data set of the source: characterisation factors by flow id.

    `factors` maps a flow id to the factor for the *signed* amounts openpcf keeps (the data's
    factor for an output; its negative for an input, as inputs are stored negative).
    """

    id: str
    name: str
    factors: dict[str, float]
    names: dict[str, str] = field(default_factory=dict)
    reference: str = ""  # the indicator's reference quantity, e.g. "kg CO2 eq"


@dataclass(frozen=True)
class SourceData:
    format: str  # "openLCA JSON-LD" or "ecospold2"
    processes: tuple[SourceProcess, ...]
    flows: dict[str, SourceFlow]
    files: int  # data sets read
    methods: tuple[SourceMethod, ...] = ()
    notes: tuple[str, ...] = ()  # what the reader found worth telling (goes in the report)
    locations: dict[str, str] = field(default_factory=dict)  # code -> name (ILCDLocations.xml)


@dataclass(frozen=True, eq=False)
class UncertainEntries:
    """Matrix entries with a distribution: one per exchange (not summed), as multipliers.

    Entry e adds `value[e] × m` to the matrix at (`row[e]`, `col[e]`), m drawn from the
    distribution `kind[e]` (stats_arrays code) with parameters `p1..p3[e]` (see
    `domain.uncertainty`); the stored matrix holds `value[e]` itself there.
    """

    row: np.ndarray  # int64
    col: np.ndarray  # int64
    value: np.ndarray  # float64
    kind: np.ndarray  # int64
    p1: np.ndarray  # float64
    p2: np.ndarray
    p3: np.ndarray

    @property
    def size(self) -> int:
        return int(self.row.size)

    @staticmethod
    def empty() -> UncertainEntries:
        i, f = np.zeros(0, np.int64), np.zeros(0, np.float64)
        return UncertainEntries(i, i, f, i, f, f, f)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProcessInfo(_Frozen):
    """One column of the technosphere: a process, or one product of a multi-output process."""

    index: int
    key: str = Field(description="unique in the database: the process UUID, or UUID/product UUID")
    process_id: str = Field(description="the process's own UUID in the source data")
    product_id: str
    name: str
    reference_product: str
    unit: str = Field(description="reference unit; footprints are per one of it")
    location: str | None = None
    category: str = ""
    allocation: str = Field(description="how this column's share of a multi-output process was set")
    treatment: bool = Field(default=False, description="the reference is a waste treated")
    names: dict[str, str] = Field(default_factory=dict, description="name in each language given")
    product_names: dict[str, str] = Field(
        default_factory=dict, description="the reference product's name in each language given"
    )
    cut_off_inputs: int = Field(default=0, description="its own inputs linked to no producer")


class ElementaryFlowInfo(_Frozen):
    """One row of the biosphere: an elementary flow, and the gas it is, when it is one."""

    index: int
    id: str
    name: str
    category: str
    cas: str | None = None
    unit: str
    gas: str | None = None
    origin: str | None = None
    kg_per_unit: float | None = Field(default=None, description="kg of the gas per unit")
    names: dict[str, str] = Field(default_factory=dict, description="name in each language given")


class ReportEntry(_Frozen):
    """A flow or process the report lists, with how many exchanges it stands for."""

    what: str
    id: str
    exchanges: int = 1
    detail: str = ""
    processes: tuple[str, ...] = Field(default=(), description="up to 5 examples")


class ImportReport(_Frozen):
    """Every exchange of the source, accounted for under exactly one category."""

    format: str
    files: int
    processes: int
    columns: int
    elementary_flows: int
    exchanges: int
    counts: dict[str, int] = Field(description="exchanges per category; they add up to exchanges")
    inputs_linked: int = Field(default=0, description="inputs and wastes linked to a provider")
    inputs_to_link: int = Field(default=0, description="... of all inputs and wastes to link")
    ambiguous: tuple[ReportEntry, ...] = ()
    unlinked: tuple[ReportEntry, ...] = ()
    cut_off: tuple[ReportEntry, ...] = ()
    unmapped_ghg: tuple[ReportEntry, ...] = ()
    unallocated: tuple[ReportEntry, ...] = ()
    omitted: tuple[ReportEntry, ...] = ()
    #: inputs with several producers: the one chosen, the rule that chose it, the others
    choices: tuple[ReportEntry, ...] = ()
    #: supply loops whose links were cut because they take more than they make
    loops: tuple[ReportEntry, ...] = ()
    #: the processes whose bundled GWP100 differs most from the release's climate method
    method_comparison: tuple[ReportEntry, ...] = ()
    notes: tuple[str, ...] = ()


# Categories of the report, in the order it shows them.
REFERENCE = "reference product"
REFERENCE_TREATMENT = "reference waste treated"
COPRODUCT_ALLOCATED = "coproduct, allocated"
COPRODUCT_UNALLOCATED = "coproduct, not allocated (burden on the reference)"
COPRODUCT_ZERO = "coproduct, zero amount (allocated away in the data)"
LINKED_DEFAULT = "input linked to its default provider"
LINKED_UNIQUE = "input linked to the only process producing it"
LINKED_PINNED = "input linked to the provider the linking file names"
LINKED_CHOSEN = "input with several providers, linked by the provider policy"
AMBIGUOUS = "input with several providers (cut off)"
UNLINKED = "input no process produces (cut off)"
SELF_INPUT = "input of its own product, at least what it makes (cut off)"
LOOP_CUT = "link inside a loop that takes more than it makes (cut off)"
CUT_OFF = "cut off in the data"
MISSING_FLOW = "flow data set not in the release (left out)"
NO_AMOUNT = "no amount in the data (left out)"
NO_REFERENCE = "of a process without a quantitative reference (left out)"
GHG = "elementary, greenhouse gas"
GHG_UNMAPPED = "elementary, GHG-looking but unmapped"
OTHER_ELEMENTARY = "elementary, other"
CATEGORIES = (
    REFERENCE, REFERENCE_TREATMENT, COPRODUCT_ALLOCATED, COPRODUCT_UNALLOCATED, COPRODUCT_ZERO,
    LINKED_DEFAULT, LINKED_UNIQUE, LINKED_PINNED, LINKED_CHOSEN, AMBIGUOUS, UNLINKED, SELF_INPUT, LOOP_CUT, CUT_OFF,
    MISSING_FLOW, NO_AMOUNT, NO_REFERENCE, GHG, GHG_UNMAPPED, OTHER_ELEMENTARY,
)  # fmt: skip
OMITTED = (MISSING_FLOW, NO_AMOUNT, NO_REFERENCE)
