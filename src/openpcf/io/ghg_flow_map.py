"""Which elementary flows of an LCI database are greenhouse gases, as openpcf's `Flow`s.

The mapping is data (`data/ghg_flow_map.csv`, with the naming conventions it follows cited at
its top), so a reviewer can check it and a new convention is a row, not code. Flows that look
like greenhouse gases but match no row are reported by the importer, never silently ignored.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from openpcf.domain.gases import ALL_GASES, ORIGINS, Flow

#: Names that say "a greenhouse gas" (English, ecoinvent/FEDEFL/ILCD forms, Chinese).
_LOOKS_LIKE_GHG = re.compile(
    r"carbon dioxide|\bmethane\b|dinitrogen (mon)?oxide|nitrous oxide|hexafluoride|fluoro"
    r"|nitrogen (tri)?fluoride|chloromethane|bromomethane|chloroform|carbon tetrachloride"
    r"|\b(hfc|pfc|cfc|hcfc|halon)s?\b|\bsf6\b|\bnf3\b|\bcf4\b|\bc2f6\b"
    r"|二氧化碳|甲烷|氧化亚氮|一氧化二氮|六氟化硫|三氟化氮|氟"
)
#: ... unless they name something else: a non-methane VOC total, a resource, an organic acid.
_NOT_GHG = re.compile(
    r"non-?methane|other than methane|\bnmvoc|\btnmoc|methanesulfonic|methanearsonate|非甲烷"
    r"|\(in mj\)|pit methane|coalbed methane|\bspent\b"
)
_COMPARTMENT = re.compile(
    r"air|water|soil|ground|resource|biotic|land|sea|ocean|river|lake|水|土|空气"
)
_EMISSION_TO_AIR = re.compile(r"\bair\b|空气|大气")
_BRACKETED_SUFFIX = re.compile(r"\s*\[[^\]]*\]$")


@dataclass(frozen=True)
class GhgRow:
    line: int
    pattern: re.Pattern[str] | None
    cas: str
    category: re.Pattern[str]
    flow: Flow
    factor: float
    convention: str


def normal_name(name: str) -> str:
    """Lower case, whitespace collapsed and trimmed, a trailing ' [...]' (NETL) dropped."""
    return _BRACKETED_SUFFIX.sub("", " ".join(name.lower().split()))


def normal_cas(cas: str | None) -> str:
    """'000124-38-9' -> '124-38-9' (ecospold2 pads CAS numbers with zeros)."""
    return (cas or "").strip().lstrip("0")


_CHINESE = (("空气", " air "), ("大气", " air "), ("土壤", " soil "), ("水体", " water "),
            ("资源", " resource "))  # fmt: skip


def compartment(category: str) -> str:
    """The category to match rows against (Chinese compartments in English words added); one
    naming no compartment counts as air."""
    flow_cat = category.lower()
    for zh, en in _CHINESE:
        if zh in flow_cat:
            flow_cat += en
    return flow_cat if _COMPARTMENT.search(flow_cat) else f"{flow_cat} (air, unspecified)"


def looks_like_ghg(name: str, category: str = "") -> bool:
    """A name that says "greenhouse gas" on an emission to air (or to no stated compartment)."""
    flow_name = normal_name(name)
    cat = compartment(category)
    if "resource" in cat or not _EMISSION_TO_AIR.search(cat):
        return False
    return bool(_LOOKS_LIKE_GHG.search(flow_name)) and not _NOT_GHG.search(flow_name)


class GhgFlowMap:
    """A flow's UUID where the table knows it, else first-match rules from flow name, CAS
    number and category to a gas of an origin."""

    def __init__(
        self, rows: tuple[GhgRow, ...], digest: str, by_uuid: dict[str, GhgRow] | None = None
    ) -> None:
        self.rows = rows
        self.digest = digest
        self.by_uuid = by_uuid or {}

    def match(
        self, name: str, category: str, cas: str | None, flow_id: str | None = None
    ) -> GhgRow | None:
        known = self.by_uuid.get((flow_id or "").lower())
        if known is not None:
            return known
        flow_name, flow_cas, flow_cat = normal_name(name), normal_cas(cas), compartment(category)
        resource = "resource" in flow_cat
        for row in self.rows:
            if not row.category.search(flow_cat):
                continue
            if resource and "resource" not in row.category.pattern and row.category.pattern != ".*":
                continue  # "Resources from air" is no emission: only rows naming resources
            if row.pattern is None:
                if flow_cas and flow_cas == row.cas:
                    return row
                continue
            if row.pattern.fullmatch(flow_name) and not (
                row.cas and flow_cas and flow_cas != row.cas
            ):
                return row
        return None


def parse_uuids(text: str) -> dict[str, GhgRow]:
    """ghg_flow_uuids.csv: uuid -> the gas it is (its line as the row's line)."""
    body = [ln for ln in text.splitlines(True) if not ln.startswith("#")]
    out = {}
    for i, r in enumerate(csv.DictReader(io.StringIO("".join(body))), start=2):
        gas, origin = r["gas"].strip(), r["origin"].strip()
        if gas not in ALL_GASES or origin not in ORIGINS:
            raise ValueError(
                f"ghg_flow_uuids.csv row {i}: unknown gas {gas!r} or origin {origin!r}"
            )
        out[r["uuid"].strip().lower()] = GhgRow(
            line=i, pattern=None, cas="", category=re.compile(".*"),
            flow=Flow(gas, origin),  # type: ignore[arg-type]
            factor=float(r["factor"]), convention=f"UUID ({r['name']}, {r['category']})",
        )  # fmt: skip
    return out


def parse_map(text: str, uuids: str = "") -> GhgFlowMap:
    """Rows of the CSV; a row naming an unknown gas or origin is a programming error here."""
    body = [ln for ln in text.splitlines(True) if not ln.startswith("#")]
    rows = []
    for i, r in enumerate(csv.DictReader(io.StringIO("".join(body))), start=2):
        gas, origin = r["gas"].strip(), r["origin"].strip()
        if gas not in ALL_GASES or origin not in ORIGINS:
            raise ValueError(f"ghg_flow_map.csv row {i}: unknown gas {gas!r} or origin {origin!r}")
        pattern = r["pattern"].strip()
        rows.append(
            GhgRow(
                line=i,
                pattern=re.compile(pattern) if pattern else None,
                cas=normal_cas(r["cas"]),
                category=re.compile(r["category"].strip() or ".*"),
                flow=Flow(gas, origin),  # type: ignore[arg-type]
                factor=float(r["factor"] or 1.0),
                convention=r["convention"],
            )
        )
    digest = hashlib.sha256(text.encode() + b"\0" + uuids.encode()).hexdigest()
    return GhgFlowMap(tuple(rows), digest, parse_uuids(uuids) if uuids else {})


@lru_cache(maxsize=1)
def ghg_flow_map() -> GhgFlowMap:
    data = files("openpcf.io") / "data"
    return parse_map(data.joinpath("ghg_flow_map.csv").read_text("utf-8"),
                     data.joinpath("ghg_flow_uuids.csv").read_text("utf-8"))  # fmt: skip
