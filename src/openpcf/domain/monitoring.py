"""Plant monitoring: meters, their factor rules, reading validation, counter arithmetic and the
aggregation windows of live emissions. Pure: no I/O, no units registry (the services convert
units and resolve factors, then hand plain numbers in here).

A reading covers the interval that ends at its timestamp: a cumulative counter's delta since
the previous reading, or an interval meter's value. Its energy and emissions are counted in
the window that contains its timestamp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SLUG = r"^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$"


class Carrier(StrEnum):
    """What a meter measures."""

    electricity = "electricity"
    natural_gas = "natural-gas"
    coal = "coal"
    coke = "coke"
    steam = "steam"
    diesel = "diesel"
    fuel_oil = "fuel-oil"
    lpg = "lpg"
    gasoline = "gasoline"


#: The dimensions a meter's unit may have for each carrier (the service checks with pint).
#: A gas volume must be a normal volume (Nm3), never a plain m3 at unstated conditions.
CARRIER_DIMENSIONS: dict[Carrier, tuple[str, ...]] = {
    Carrier.electricity: ("energy",),
    Carrier.natural_gas: ("normal gas volume", "energy", "mass"),
    Carrier.coal: ("mass", "energy"),
    Carrier.coke: ("mass", "energy"),
    Carrier.steam: ("mass", "energy"),
    Carrier.diesel: ("mass", "energy", "volume"),
    Carrier.fuel_oil: ("mass", "energy", "volume"),
    Carrier.lpg: ("mass", "energy"),
    Carrier.gasoline: ("mass", "energy", "volume"),
}

#: Generation types whose electricity has no operational (stack) emissions.
ZERO_OPERATIONAL = frozenset({"wind", "solar-pv", "solar-thermal", "hydro", "nuclear"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GridRule(_Strict):
    """Purchased grid electricity: the grid factor of the site's province in the reading's year."""

    kind: Literal["grid"] = "grid"
    basis: Literal["grid-co2", "footprint"] = Field(
        default="grid-co2",
        description="grid-co2: MEE grid CO2 factor (operational, for corporate/ETS reporting); "
        "footprint: life-cycle electricity carbon-footprint factor (national only)",
    )


class FuelRule(_Strict):
    """Fuel burnt on site: a fuel factor of the catalogue (e.g. cn-ndrc-fuel/natural-gas)."""

    kind: Literal["fuel"] = "fuel"
    factor: str = Field(min_length=1, description="a factor id of the bundled set")


class SupplyRule(_Strict):
    """Electricity or heat of a direct-connection supply (绿电直连): the supply's own factor."""

    kind: Literal["supply"] = "supply"
    generation: str = Field(description="generation type, e.g. wind, solar-pv, gas")
    co2e: float | None = Field(
        default=None,
        ge=0,
        description="kg CO2e per kWh of the supply; omit for wind, PV, hydro, nuclear (0)",
    )


FactorRule = Annotated[GridRule | FuelRule | SupplyRule, Field(discriminator="kind")]


class ReadingKind(StrEnum):
    cumulative = "cumulative"  # a counter: energy since commissioning (or its last reset)
    interval = "interval"  # the amount used in the interval that ends at the timestamp


EtsSector = Literal["power", "steel", "cement", "aluminium"]


class SiteSpec(_Strict):
    id: str = Field(pattern=SLUG, examples=["wuxi-rolling"])
    name: str = Field(min_length=1, max_length=300)
    region: str = Field(description="ISO 3166-2 province, e.g. CN-JS", examples=["CN-JS"])
    timezone: str = Field(default="Asia/Shanghai", description="where days and hours begin")
    ets_sector: EtsSector | None = Field(
        default=None, description="sector of the national ETS the site is covered by, if any"
    )
    type: Literal["plant", "data-centre"] = Field(
        default="plant",
        description="data-centre: its renewable share is reported against its province's "
        "requirement",
    )
    alert_above: float | None = Field(
        default=None, gt=0, description="alert when the site emits more kg CO2e per hour"
    )


class MeterSpec(_Strict):
    id: str = Field(pattern=SLUG, examples=["mill-main"])
    site: str = Field(pattern=SLUG)
    equipment: str = Field(min_length=1, max_length=200, examples=["rolling mill"])
    carrier: Carrier
    unit: str = Field(min_length=1, examples=["kWh"])
    reading: ReadingKind
    factor: FactorRule
    rollover: float | None = Field(
        default=None, gt=0, description="a counter's capacity: it wraps to 0 on reaching it"
    )
    alert_above: float | None = Field(
        default=None, gt=0, description="alert when the meter emits more kg CO2e per hour"
    )
    public_key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9+/]{43}=$",
        description="the meter's Ed25519 public key (base64 of its 32 bytes): its readings "
        "must then be signed, and an unsigned or badly signed one is refused",
    )

    @property
    def scope(self) -> Literal[1, 2]:
        """GHG Protocol scope: fuel burnt on site is direct (1), bought energy indirect (2)."""
        return 1 if self.factor.kind == "fuel" else 2


class AllowanceSpec(_Strict):
    site: str = Field(pattern=SLUG)
    year: int = Field(ge=2021, le=2100)
    tonnes_co2: float = Field(gt=0, description="allowance allocated for the year, t CO2")
    source: str | None = Field(default=None, description="the allocation notice")


class SimulatedMeter(_Strict):
    """How `openpcf monitor simulate` drives a meter of the demo plant."""

    per_hour: float = Field(gt=0, description="mean use per hour, in the meter's unit")
    shifts: bool = Field(default=True, description="lower use at night and on Sundays")


class PlantSpec(_Strict):
    """A plant registry file: sites, meters, allowances, and (for the simulator) meter loads."""

    sites: list[SiteSpec] = Field(min_length=1)
    meters: list[MeterSpec] = Field(default_factory=list)
    allowances: list[AllowanceSpec] = Field(default_factory=list)
    simulation: dict[str, SimulatedMeter] = Field(
        default_factory=dict, description="'<site>/<meter>' -> load, for `monitor simulate`"
    )


# --- counters ----------------------------------------------------------------------------------

#: A counter that falls below this share of its previous value is taken as reset to zero
#: (power loss, meter replacement); a smaller fall is an error, not a reset.
RESET_SHARE = 0.05
#: How far ahead of the receiving clock a timestamp may be (meter clocks drift).
FUTURE_TOLERANCE_MS = 5 * 60_000
#: Readings before this are taken as an unset meter clock (1970 epoch, 2000 default dates).
EARLIEST_MS = 946_684_800_000  # 2000-01-01T00:00:00Z


@dataclass(slots=True)
class CounterState:
    """The last accepted reading of a meter."""

    ts_ms: int
    value: float


@dataclass(frozen=True, slots=True)
class Delta:
    amount: float  # in the meter's unit
    note: str | None = None  # baseline, reset or rollover


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The same reading again (a redelivered message): counted once."""


@dataclass(frozen=True, slots=True)
class Late:
    """Older than the last accepted reading: a duplicate of a stored one, or out of order."""


DUPLICATE = Duplicate()
LATE = Late()


def check_value(value: object, ts_ms: int, now_ms: int) -> str | None:
    """Why a reading is impossible whatever came before it, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"value {value!r} is not a number"
    if not math.isfinite(value):
        return f"value {value!r} is not a finite number"
    if value < 0:
        return f"value {value!r} is negative; meters count up from 0"
    if ts_ms > now_ms + FUTURE_TOLERANCE_MS:
        return (
            f"timestamp {iso(ts_ms)} is in the future (received at {iso(now_ms)}; "
            f"tolerance {FUTURE_TOLERANCE_MS // 60_000} min)"
        )
    if ts_ms < EARLIEST_MS:
        return f"timestamp {iso(ts_ms)} is before 2000: the meter's clock is not set"
    return None


def counter_delta(
    last: CounterState | None,
    ts_ms: int,
    value: float,
    rollover: float | None = None,
    reset: bool = False,
) -> Delta | Rejected | Duplicate | Late:
    """What a cumulative counter's reading adds since `last`.

    - first reading: the baseline, adds 0;
    - same timestamp and value: a duplicate; same timestamp, other value: rejected;
    - older timestamp: late (the caller tells a stored duplicate from an out-of-order one);
    - higher value: the difference;
    - lower value: a rollover when the counter has a capacity and wrapping explains the fall
      with less than half a capacity; a reset when the payload says so or the value fell below
      RESET_SHARE of the last one (the energy since the reset is the new value); else rejected.
    """
    if value > (rollover or math.inf):
        return Rejected(f"value {value:g} exceeds the counter's capacity {rollover:g}")
    if last is None:
        return Delta(0.0, "baseline")
    if ts_ms == last.ts_ms:
        if value == last.value:
            return DUPLICATE
        return Rejected(
            f"conflicting duplicate: {iso(ts_ms)} was already read as {last.value:g}, now {value:g}"
        )
    if ts_ms < last.ts_ms:
        return LATE
    if reset:
        return Delta(value, "reset")
    if value >= last.value:
        return Delta(value - last.value)
    if rollover is not None:
        wrapped = rollover - last.value + value
        if wrapped < rollover / 2:
            return Delta(wrapped, "rollover")
    if value < last.value * RESET_SHARE:
        return Delta(value, "reset")
    return Rejected(
        f"counter went backwards from {last.value:g} at {iso(last.ts_ms)} to {value:g}: "
        f'neither a rollover nor a reset (send "reset": true if the meter was reset)'
    )


# --- aggregation windows -----------------------------------------------------------------------

#: Resolutions of live emissions, in milliseconds.
RESOLUTIONS: dict[str, int] = {"1m": 60_000, "15m": 900_000, "1h": 3_600_000, "1d": 86_400_000}


def window_start(ts_ms: int, size_ms: int, utc_offset_ms: int = 0) -> int:
    """Start (UTC ms) of the window of `size_ms` containing `ts_ms`, windows aligned to local
    time (a day starts at local midnight)."""
    return (ts_ms + utc_offset_ms) // size_ms * size_ms - utc_offset_ms


def iso(ts_ms: int) -> str:
    """ISO 8601 UTC of epoch milliseconds, for messages."""
    from datetime import UTC, datetime

    try:
        return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{ts_ms} ms"


# --- allowance ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllowanceStatus:
    year: int
    allowance_t: float
    emitted_t: float  # year to date, direct CO2 of the site's metered fuels
    elapsed_days: float
    forecast_t: float  # at year end, at the run rate so far
    remaining_t: float  # allowance minus emitted

    @property
    def forecast_share(self) -> float:
        return self.forecast_t / self.allowance_t

    @property
    def over(self) -> bool:
        return self.forecast_t > self.allowance_t


def allowance_status(
    year: int, allowance_t: float, emitted_t: float, elapsed_days: float, days_in_year: int
) -> AllowanceStatus:
    """Linear forecast: the year-to-date run rate continued to the year's end."""
    rate = emitted_t / elapsed_days if elapsed_days > 0 else 0.0
    forecast = emitted_t + rate * max(days_in_year - elapsed_days, 0.0)
    return AllowanceStatus(
        year, allowance_t, emitted_t, elapsed_days, forecast, allowance_t - emitted_t
    )


# --- primary data ------------------------------------------------------------------------------


def completeness_score(coverage: float) -> int:
    """Pedigree completeness (1 best … 5) of metered data from the share of the period the
    meters' accepted readings cover."""
    for score, floor in ((1, 0.95), (2, 0.80), (3, 0.60), (4, 0.40)):
        if coverage >= floor:
            return score
    return 5


def parse_period(text: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """'2025-Q1', '2025-03' or '2025' as ((y, m, d) first day, (y, m, d) day after the end)."""
    import re

    m = re.fullmatch(r"(\d{4})(?:-(?:Q([1-4])|(\d{2})))?", text.strip())
    if not m:
        raise ValueError(f"period '{text}': expected YYYY, YYYY-MM or YYYY-Qn (e.g. 2025-Q1)")
    year = int(m[1])
    if m[2]:
        first = (int(m[2]) - 1) * 3 + 1
        months = 3
    elif m[3]:
        first = int(m[3])
        if not 1 <= first <= 12:
            raise ValueError(f"period '{text}': month {first} does not exist")
        months = 1
    else:
        first, months = 1, 12
    end_month = first + months
    end = (year + 1, 1, 1) if end_month > 12 else (year, end_month, 1)
    return (year, first, 1), end
