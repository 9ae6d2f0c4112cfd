"""What a recomputation reports: the changed factors, the products that moved most, the counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel


class FactorChange(BaseModel):
    """One factor of an older recorded version against the new version."""

    factor: str
    old_set: str
    kind: Literal["value", "removed", "unit"]
    unit: str
    old: dict[str, float]
    new: dict[str, float] | None = None


class ProductChange(BaseModel):
    product: str
    calculation: str
    previous: float
    new: float
    change: float
    percent: float | None


class RecomputeReport(BaseModel):
    run: str | None
    factor_set: str
    replaces: list[str]
    scope: str
    scheduler: str
    dry_run: bool
    examined: int = 0
    dependent: int = 0
    linear: int = 0
    full: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = []
    factors: list[FactorChange] = []
    percent_min: float | None = None
    percent_median: float | None = None
    percent_max: float | None = None
    top: list[ProductChange] = []
    seconds: dict[str, float] = {}

    @property
    def recomputed(self) -> int:
        return self.linear + self.full


Progress = Callable[[str, int, int | None], None]  # (phase, done, total)
