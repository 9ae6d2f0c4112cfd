"""The factor set and GWP table shipped with openpcf (built by scripts/build_factor_set.py)."""

from __future__ import annotations

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
    data = json.loads(_DATA.joinpath("gwp.json").read_text("utf-8"))
    return GwpTable(data["values"], data["ch4_non_fossil"], data["sources"])


@lru_cache(maxsize=1)
def cbam_defaults() -> dict[str, CbamDefault]:
    """The EU CBAM default values by CN code as written there ("2523 10 00")."""
    data = json.loads(_DATA.joinpath("cbam-defaults.json").read_text("utf-8"))
    return {d["cn_code"]: CbamDefault.model_validate(d) for d in data["defaults"]}
