"""Recompute stored footprints after factor changes: a sparse product, no matrix solve.

Once the technosphere is fixed (same model versions, allocation and profile), a footprint is
linear in its factors' values. So a calculation records, per factor it drew on, how much of that
factor's activity (in the factor's unit) one declared unit uses, by life-cycle stage: its usage
vector u (sub-assemblies are folded in through the same solve the footprint came from). When
factor k changes from F_k to F'_k (kg of each flow per unit), every total moves by

    delta = sum over k of u_k * (F'_k - F_k) . w

where w weights each flow by its GWP and by whether the profile counts it. Stage and gas totals
move the same way, restricted to that stage or gas. Stored as records (stage code, factor key,
amount); codes >= EXCLUDED mark stages the profile leaves out (they change no total).

Arrays in, arrays out: the service reads and writes the store, a chunk is pure numpy work that
any process (or Dask worker) can do. A chunk is one buffer of many calculations' records and
their record counts, so it crosses to a worker as two objects, not one per calculation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RECORD = np.dtype([("code", "<i4"), ("key", "<i4"), ("amount", "<f8")])
#: Stage code offset of stages outside the profile's footprint (e.g. use, end-of-life).
EXCLUDED = 100


def pack(codes: Sequence[int], keys: Sequence[int], amounts: Sequence[float]) -> bytes:
    """Usage records as stored: little-endian (int32 code, int32 key, float64 amount)."""
    out = np.empty(len(codes), dtype=RECORD)
    out["code"], out["key"], out["amount"] = codes, keys, amounts
    return out.tobytes()


def concatenated(blobs: Sequence[bytes]) -> tuple[bytes, np.ndarray]:
    """Many calculations' stored usage as one buffer and the record count of each."""
    sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    if np.any(sizes % RECORD.itemsize):
        raise ValueError(f"a usage record is {RECORD.itemsize} bytes; a stored blob is not")
    return b"".join(blobs), sizes // RECORD.itemsize


@dataclass(frozen=True)
class Change:
    """What a new factor-set version changes, indexed by stored factor key.

    `column[key]` is the factor's column in the coefficient tables, or -1 when it did not change;
    `full[key]` marks factors a calculation cannot follow linearly (removed, or a unit of another
    dimension): such calculations are recalculated in full. `total[g, c]` is kg CO2e counted per
    unit of activity of changed factor c under accounting group g (profile and GWP set), and
    `gases[g, c, j]` the same for gas `gas_names[j]` only.
    """

    column: np.ndarray
    full: np.ndarray
    total: np.ndarray
    gases: np.ndarray
    gas_names: tuple[str, ...]
    stage_names: tuple[str, ...]

    @property
    def layout(self) -> tuple[str, ...]:
        """Names of the columns of `ChunkResult.changes`: each stage, then each gas."""
        return (*(f"stage:{s}" for s in self.stage_names), *(f"gas:{g}" for g in self.gas_names))


@dataclass(frozen=True)
class ChunkResult:
    """Per calculation of a chunk: whether it depends on a change, whether it needs a full
    recalculation, the change of its total; and for the linear ones (`np.flatnonzero(dependent
    & ~full)`, in that order) the changes by stage and gas, columns as `Change.layout`."""

    dependent: np.ndarray
    full: np.ndarray
    delta: np.ndarray
    changes: np.ndarray


def recompute_chunk(
    buffer: bytes, counts: np.ndarray, groups: np.ndarray, forced_full: np.ndarray, change: Change
) -> ChunkResult:
    """The changes of a chunk of calculations: calculation i owns `counts[i]` records of
    `buffer` (after those of 0..i-1); `groups[i]` is its accounting group, `forced_full[i]` says
    it must be recalculated in full whatever its usage says."""
    n = len(counts)
    rec = np.frombuffer(buffer, dtype=RECORD)
    if len(rec) != int(np.sum(counts)):
        raise ValueError(f"{len(rec)} usage records for counts summing to {int(np.sum(counts))}")
    row = np.repeat(np.arange(n), counts)
    keys = rec["key"]
    known = (keys >= 0) & (keys < len(change.column))
    kk = np.where(known, keys, 0)
    col = np.where(known, change.column[kk], -1)
    fullkey = known & change.full[kk]
    touched = col >= 0

    full = np.asarray(forced_full, dtype=bool) | (np.bincount(row[fullkey], minlength=n) > 0)
    dependent = full | (np.bincount(row[touched], minlength=n) > 0)

    lin = touched & (rec["code"] < EXCLUDED)
    r, c = row[lin], col[lin]
    g = np.asarray(groups)[r]
    amount = rec["amount"][lin]
    value = amount * change.total[g, c]
    # (np.bincount of nothing gives integers, whatever the weights)
    delta = np.bincount(r, weights=value, minlength=n).astype(np.float64)
    linear = np.flatnonzero(dependent & ~full)
    n_stages, n_gases = len(change.stage_names), len(change.gas_names)
    # only the linear rows' changes travel back: renumber them 0..len(linear)-1
    slot = np.full(n, -1, dtype=np.int64)
    slot[linear] = np.arange(len(linear))
    keep = slot[r] >= 0
    s = slot[r[keep]]
    changes = np.zeros((len(linear), n_stages + n_gases))
    stages = np.bincount(
        s * n_stages + rec["code"][lin][keep], weights=value[keep], minlength=len(linear) * n_stages
    )
    changes[:, :n_stages] = stages.reshape(len(linear), n_stages)
    for j in range(n_gases):
        changes[:, n_stages + j] = np.bincount(
            s, weights=amount[keep] * change.gases[g[keep], c[keep], j], minlength=len(linear)
        )
    delta[full] = np.nan  # known only after the full recalculation
    return ChunkResult(dependent, full, delta, changes)


def grades(
    pcf: np.ndarray, divisor: np.ndarray, rule_amount: float, thresholds: np.ndarray
) -> np.ndarray:
    """Index of the best benchmark class each footprint meets (len(thresholds): none).

    As `grade_of`: per rule unit = pcf / divisor * rule amount, then the first class (sorted by
    its maximum) whose maximum it does not exceed."""
    per_unit = pcf / divisor * rule_amount
    return np.searchsorted(thresholds, per_unit, side="left")
