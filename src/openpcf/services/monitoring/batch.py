"""A batch of meter readings in memory: the registered meters, the accepted readings in chunks
of one factor and UTC offset, and what the batch has accepted so far."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from openpcf.domain.errors import OpenpcfError
from openpcf.domain.monitoring import MeterSpec
from openpcf.services.monitoring.factors import MeterFactor, meter_factor
from openpcf.units import factor_between

HOUR = 3_600_000


@dataclass
class Meter:
    """A registered meter, as the ingestion loop needs it."""

    id: int
    tenant_id: int
    tenant: str
    site: str
    slug: str
    spec: MeterSpec
    region: str
    timezone: str
    cumulative: bool
    supply: bool
    factors: dict[int, MeterFactor] = field(default_factory=dict)

    def factor(self, year: int) -> MeterFactor:
        f = self.factors.get(year)
        if f is None:
            f = self.factors[year] = meter_factor(self.spec, self.region, year)
        return f


@dataclass
class BatchReport:
    messages: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    last_ts: dict[int, int] = field(default_factory=dict)  # meter id -> newest accepted ts
    reasons: list[str] = field(default_factory=list)  # the first few, for logs


@dataclass(slots=True, eq=False)  # identity: field-wise == on numpy arrays is ambiguous
class Chunk:
    """Accepted readings of one meter under one factor and UTC offset: the rows to store."""

    meter: Meter
    ts: np.ndarray  # int64, ms since 1970 UTC
    value: np.ndarray  # float64, in the meter's unit
    delta: np.ndarray  # what each reading adds, in the meter's unit
    notes: list[str | None] | None  # baseline, reset or rollover per reading; None: none
    factor: MeterFactor
    offset: int  # the site's UTC offset at these readings, ms

    def __len__(self) -> int:
        return len(self.ts)

    def kg(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """kg CO2e, CO2, CH4, N2O of each reading."""
        f, d = self.factor, self.delta
        return d * f.co2e, d * f.co2, d * f.ch4, d * f.n2o

    def subset(self, keep: np.ndarray) -> Chunk:
        notes = (
            None if self.notes is None else [n for n, k in zip(self.notes, keep, strict=True) if k]
        )
        return Chunk(self.meter, self.ts[keep], self.value[keep], self.delta[keep], notes,
                      self.factor, self.offset)  # fmt: skip


@dataclass(slots=True)
class LateReading:
    meter: Meter
    ts_ms: int
    value: float


class StoredMeanwhile(Exception):
    """Another writer stored one of the batch's readings: the batch is done again."""


@lru_cache(maxsize=65536)
def _local(tz: str, hour: int) -> tuple[int, int]:
    """(UTC offset ms, local year) at the start of the UTC hour `hour` in zone `tz`."""
    dt = datetime.fromtimestamp(hour * 3600, ZoneInfo(tz))
    offset = dt.utcoffset()
    return (int(offset.total_seconds() * 1000) if offset else 0), dt.year


@lru_cache(maxsize=1024)
def unit_conversion(unit: str, meter_unit: str) -> float | str:
    try:
        return factor_between(unit, meter_unit, "reading unit")
    except OpenpcfError as exc:
        return f"unit '{unit}' does not fit the meter's unit '{meter_unit}': {exc.message}"


@dataclass
class Batch:
    """What a batch has accepted so far, to find repeats within it."""

    newest: dict[int, int] = field(default_factory=dict)  # meter id -> newest accepted ts
    _seen: dict[int, dict[int, float]] = field(default_factory=dict)  # interval meters

    def seen(self, meter_id: int, chunks: list[Chunk]) -> dict[int, float]:
        """ts -> value of the interval meter's readings accepted in this batch."""
        seen = self._seen.get(meter_id)
        if seen is None:
            seen = self._seen[meter_id] = {}
            for c in chunks:
                if c.meter.id == meter_id:
                    seen.update(zip(c.ts.tolist(), c.value.tolist(), strict=True))
        return seen

    def add(self, meter_id: int, ts: int, value: float) -> None:
        self._seen[meter_id][ts] = value

    def extend(self, meter_id: int, ts: np.ndarray, value: np.ndarray) -> None:
        """Readings the fast path accepted, once `seen` has been asked for the meter."""
        seen = self._seen.get(meter_id)
        if seen is not None:
            seen.update(zip(ts.tolist(), value.tolist(), strict=True))


def split_chunks(
    meter: Meter,
    ts: np.ndarray,
    value: np.ndarray,
    delta: np.ndarray,
    notes: list[str | None] | None,
) -> list[Chunk]:
    """Chunks of one factor and UTC offset each: a message spans a new year or a daylight
    saving change rarely, so usually one."""
    hours = ts // HOUR
    tz = meter.timezone
    lo, hi = int(hours.min()), int(hours.max())
    first = _local(tz, lo)
    if hi - lo <= 48 and all(_local(tz, h) == first for h in range(lo + 1, hi + 1)):
        offset, year = first
        return [Chunk(meter, ts, value, delta, notes, meter.factor(year), offset)]
    keys = [_local(meter.timezone, h) for h in hours.tolist()]
    out = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            offset, year = keys[start]
            part = slice(start, i)
            out.append(
                Chunk(meter, ts[part], value[part], delta[part],
                       None if notes is None else notes[part], meter.factor(year), offset)
            )  # fmt: skip
            start = i
    return out


def readings_digest(chunks: Sequence[Chunk]) -> str:
    h = hashlib.sha256()
    for c in chunks:
        prefix = f"{c.meter.site}/{c.meter.slug} "
        h.update(
            "".join(
                [
                    f"{prefix}{t} {v!r}\n"
                    for t, v in zip(c.ts.tolist(), c.value.tolist(), strict=True)
                ]
            ).encode()
        )
    return h.hexdigest()
