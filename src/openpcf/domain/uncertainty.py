"""Uncertainty of an amount or a factor: a probability distribution around the stated value.

The stated (deterministic) value stays what the footprint is computed with; a distribution says
how far the true value may lie from it, for Monte Carlo (`openpcf calc --uncertainty N`):

- `lognormal` with `gsd` (geometric standard deviation, > 1): the stated value is the median
  (ecoinvent's and openLCA's convention); 95 % of values lie within value ÷ gsd² … value × gsd²
  (approximately). With `pedigree: true` instead of `gsd`, the gsd comes from the input's `dq`
  ratings by the ecoinvent pedigree approach (`factors/data/pedigree.json`).
- `normal` with `sd`, in the unit of the value: the stated value is the mean.
- `uniform` with `min` and `max`; `triangular` with `min`, `mode` and `max`, in the unit of the
  value, which must lie inside the range.

Every distribution is turned into one of a *multiplier* of the stated value (median or mean 1
where the value is the median or mean), since a sampled amount or factor scales everything it
multiplies: `relative()` gives the distribution code and multiplier parameters the engine samples.
Codes are those of stats_arrays (Brightway), so arrays can be exchanged with it.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Distribution = Literal["lognormal", "normal", "uniform", "triangular"]

#: Distribution codes of the engine's parameter arrays (stats_arrays numbering).
NO_UNCERTAINTY, LOGNORMAL, NORMAL, UNIFORM, TRIANGULAR = 1, 2, 3, 4, 5
CODES: dict[str, int] = {
    "lognormal": LOGNORMAL,
    "normal": NORMAL,
    "uniform": UNIFORM,
    "triangular": TRIANGULAR,
}

_FIELDS: dict[str, tuple[str, ...]] = {
    "lognormal": ("gsd", "pedigree", "basic_gsd"),
    "normal": ("sd",),
    "uniform": ("min", "max"),
    "triangular": ("min", "mode", "max"),
}
_ALL = ("gsd", "pedigree", "basic_gsd", "sd", "min", "mode", "max")


class Uncertainty(BaseModel):
    """A distribution of an input's amount or a factor's value, e.g. {distribution: lognormal,
    gsd: 1.2}, {distribution: lognormal, pedigree: true}, {distribution: normal, sd: 0.05},
    {distribution: uniform, min: 0.9, max: 1.1}, {distribution: triangular, min: 0.9,
    mode: 1.0, max: 1.2}."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    distribution: Distribution
    gsd: float | None = Field(
        default=None, description="lognormal: geometric standard deviation (> 1); the value is "
        "the median",
    )  # fmt: skip
    pedigree: bool | None = Field(
        default=None, description="lognormal: derive gsd from the input's dq ratings "
        "(ecoinvent pedigree matrix)",
    )  # fmt: skip
    basic_gsd: float | None = Field(
        default=None, description="lognormal with pedigree: the basic uncertainty as a gsd "
        "(default: factors/data/pedigree.json's, 1.0248 = variance 0.0006 of ln)",
    )  # fmt: skip
    sd: float | None = Field(
        default=None, description="normal: standard deviation; the value is the mean"
    )
    min: float | None = Field(default=None, description="uniform, triangular: lower bound")
    mode: float | None = Field(default=None, description="triangular: most likely value")
    max: float | None = Field(default=None, description="uniform, triangular: upper bound")

    @model_validator(mode="after")
    def _fields_of_the_distribution(self) -> Uncertainty:
        d = self.distribution
        allowed = _FIELDS[d]
        extra = [f for f in _ALL if f not in allowed and getattr(self, f) is not None]
        if extra:
            raise ValueError(f"{', '.join(extra)} does not apply to a {d} distribution "
                             f"(it takes {', '.join(allowed)})")  # fmt: skip
        for name in ("gsd", "basic_gsd", "sd", "min", "mode", "max"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number")
        if d == "lognormal":
            if (self.gsd is None) == (not self.pedigree):
                raise ValueError("a lognormal distribution takes either gsd (> 1) or "
                                 "pedigree: true (gsd from the dq ratings)")  # fmt: skip
            if self.gsd is not None and self.gsd <= 1:
                raise ValueError(f"gsd must be greater than 1 (a geometric standard deviation; "
                                 f"got {self.gsd:g})")  # fmt: skip
            if self.basic_gsd is not None and not self.pedigree:
                raise ValueError("basic_gsd applies only with pedigree: true")
            if self.basic_gsd is not None and self.basic_gsd < 1:
                raise ValueError(f"basic_gsd must be at least 1 (got {self.basic_gsd:g})")
        elif d == "normal":
            if self.sd is None or self.sd <= 0:
                raise ValueError("a normal distribution needs sd greater than 0")
        else:
            missing = [f for f in allowed if getattr(self, f) is None]
            if missing:
                raise ValueError(f"a {d} distribution needs {', '.join(missing)}")
            assert self.min is not None and self.max is not None
            if not self.min < self.max:
                raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")
            if self.mode is not None and not self.min <= self.mode <= self.max:
                raise ValueError(f"min ≤ mode ≤ max is not met ({self.min:g}, {self.mode:g}, "
                                 f"{self.max:g})")  # fmt: skip
        return self

    def check_value(self, value: float, what: str) -> None:
        """Raise ValueError unless this distribution fits the stated `value` of `what`."""
        if self.distribution == "lognormal":
            return  # a multiplier: fits any value (zero stays zero)
        if value == 0:
            raise ValueError(f"uncertainty: a {self.distribution} distribution needs a nonzero "
                             f"{what} to be relative to; give the {what} its nonzero value")  # fmt: skip
        if self.min is not None and self.max is not None and not self.min <= value <= self.max:
            raise ValueError(f"uncertainty: the {what} {value:g} lies outside min … max "
                             f"({self.min:g} … {self.max:g})")  # fmt: skip

    def relative(self, value: float, sigma: float | None = None) -> tuple[int, float, float, float]:
        """(code, p1, p2, p3) of the multiplier of `value` this distribution describes.

        lognormal: (σ = ln gsd,) with `sigma` given when it comes from the pedigree ratings;
        normal: (sd / |value|,); uniform: (low, high); triangular: (low, mode, high), each a
        ratio to `value` (ordered, so that a negative value keeps low < high).
        """
        nan = math.nan
        if self.distribution == "lognormal":
            if sigma is None:
                if self.gsd is None:
                    raise ValueError("pedigree uncertainty needs σ from the dq ratings")
                sigma = math.log(self.gsd)
            return LOGNORMAL, sigma, nan, nan
        if self.distribution == "normal":
            assert self.sd is not None
            return NORMAL, self.sd / abs(value), nan, nan
        assert self.min is not None and self.max is not None
        low, high = sorted((self.min / value, self.max / value))
        if self.distribution == "uniform":
            return UNIFORM, low, high, nan
        assert self.mode is not None
        return TRIANGULAR, low, self.mode / value, high


def source_uncertainty(
    distribution: Distribution,
    amount: float,
    *,
    gsd: float | None = None,
    sd: float | None = None,
    minimum: float | None = None,
    mode: float | None = None,
    maximum: float | None = None,
) -> tuple[tuple[int, float, float, float] | None, str | None]:
    """For importers: an exchange's distribution as a multiplier of `amount` (in the same unit),
    or None and why it cannot be used. A lognormal of gsd 1 is certain, not a problem."""
    if distribution == "lognormal" and gsd is not None and math.isclose(gsd, 1.0):
        return None, None
    try:
        u = Uncertainty(distribution=distribution, gsd=gsd, sd=sd, min=minimum, mode=mode,
                        max=maximum)  # fmt: skip
        u.check_value(amount, "amount")
    except ValueError as exc:  # pydantic's ValidationError is one
        errors = getattr(exc, "errors", None)
        message = errors()[0]["msg"] if callable(errors) else str(exc)
        message = str(message).removeprefix("Value error, ").removeprefix("uncertainty: ")
        return None, f"{distribution}: {message}"
    return u.relative(amount), None
