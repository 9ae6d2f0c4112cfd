"""The factor set and GWP table shipped with openpcf (built by scripts/build_factor_set.py)."""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from importlib.resources import files

from openpcf.domain.cbam import CbamDefault
from openpcf.domain.factor import FactorSet
from openpcf.domain.gases import GwpTable

_DATA = files("openpcf.factors") / "data"


@lru_cache(maxsize=1)
def bundled_set() -> FactorSet:
    return FactorSet.model_validate_json(_DATA.joinpath("openpcf-bundled.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def gwp_table() -> GwpTable:
    """gwp.json, with the halocarbons of gwp_halocarbons.csv (LCI elementary flows) added."""
    data = json.loads(_DATA.joinpath("gwp.json").read_text("utf-8"))
    values = {k: dict(v) for k, v in data["values"].items()}
    text = _DATA.joinpath("gwp_halocarbons.csv").read_text("utf-8")
    for row in csv.DictReader(ln for ln in text.splitlines() if not ln.startswith("#")):
        for gwp_set in ("AR5", "AR6"):
            values[gwp_set].setdefault(row["gas"], float(row[gwp_set]))
    return GwpTable(values, data["ch4_non_fossil"], data["sources"])


@lru_cache(maxsize=1)
def cbam_defaults() -> dict[str, CbamDefault]:
    """The EU CBAM default values by CN code as written there ("2523 10 00")."""
    data = json.loads(_DATA.joinpath("cbam-defaults.json").read_text("utf-8"))
    return {d["cn_code"]: CbamDefault.model_validate(d) for d in data["defaults"]}
