"""The pedigree approach: a lognormal's σ from data-quality ratings (`data/pedigree.json`).

σ² = basic² + the variance of each of the five indicators at its score (ecoinvent v3,
Weidema et al. 2013); gsd = exp(σ). The file cites the factors and the basic default.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib.resources import files
from typing import Any

from openpcf.domain.model import DataQuality

INDICATORS = ("reliability", "completeness", "temporal", "geographical", "technological")


@lru_cache(maxsize=1)
def pedigree_table() -> dict[str, Any]:
    text = (files("openpcf.factors") / "data" / "pedigree.json").read_text("utf-8")
    return json.loads(text)


def pedigree_sigma(dq: DataQuality, basic_gsd: float | None = None) -> float:
    """σ (of ln) of a lognormal whose data quality is `dq`, with the basic uncertainty added."""
    table = pedigree_table()
    basic = (
        math.log(basic_gsd) ** 2
        if basic_gsd is not None
        else float(table["basic_uncertainty"]["variance"])
    )
    added = sum(table["variance"][name][getattr(dq, name) - 1] for name in INDICATORS)
    return math.sqrt(basic + added)


def pedigree_gsd(dq: DataQuality, basic_gsd: float | None = None) -> float:
    return math.exp(pedigree_sigma(dq, basic_gsd))
