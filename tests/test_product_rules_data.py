"""The bundled product rules (`openpcf/rules/products/*.yaml`): all present, units valid, choices
cited, and CBAM data consistent with the shared reference tables (shared/data/cbam_*.csv)."""

from __future__ import annotations

import csv
import re

import pytest

from openpcf.domain.gases import canonical_gas
from openpcf.rules.catalogue import product_rules
from openpcf.units import factor_between, quantity_of

from .shared import shared_path

REQUIRED = (
    "cement",
    "clinker",
    "electrolytic-aluminium",
    "crude-steel",
    "hot-rolled-steel",
    "lithium-battery-cell",
    "lithium-battery-pack",
    "pv-module",
    "flat-glass",
    "new-energy-vehicle",
    "electricity",
    "hydrogen",
    "ammonia",
    "methanol",
    "lime",
    "ethylene",
    "urea",
    "coal",
    "natural-gas",
    "fuel-oil",
)
CBAM_GOODS = (
    "cement",
    "clinker",
    "electrolytic-aluminium",
    "crude-steel",
    "hot-rolled-steel",
    "electricity",
    "hydrogen",
    "ammonia",
    "urea",
)


# Sector names in cbam_defaults.csv -> openpcf's Cbam.sector.
CSV_SECTOR = {
    "cement": "cement",
    "iron and steel": "iron-and-steel",
    "aluminium": "aluminium",
    "fertilisers": "fertilisers",
    "hydrogen": "hydrogen",
    "electricity": "electricity",
}
# CN codes in cbam_defaults.csv for goods openpcf has no product rule for (yet). Listing a code
# here is a decision: a product rule must not claim CN codes of goods it does not describe.
NO_RULE = {
    "7201": "pig iron",
    "7202 60 00": "ferro-nickel",
    "7306": "welded stainless tubes and pipes",
    "7605": "aluminium wire",
    "7608": "aluminium tubes and pipes",
    "3102 50": "sodium nitrate",
    "3105 20": "NPK fertilisers",
}
# Words naming each sector in the cbam_rules.csv "definitive period coverage" row.
SECTOR_WORDS = {
    "cement": "cement",
    "iron-and-steel": "steel",
    "aluminium": "aluminium",
    "fertilisers": "fertilisers",
    "hydrogen": "hydrogen",
    "electricity": "electricity",
}
# Gases CBAM counts per sector (cbam_rules.csv "gases" row; PFCs written as CF4 and C2F6).
SECTOR_GASES = {
    "cement": {"CO2"},
    "iron-and-steel": {"CO2"},
    "hydrogen": {"CO2"},
    "electricity": {"CO2"},
    "fertilisers": {"CO2", "N2O"},
    "aluminium": {"CO2", "CF4", "C2F6"},
}


def _shared_csv(name: str) -> list[dict[str, str]]:
    with shared_path("data", name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _cn(code: str) -> str:
    """'7306 (welded, stainless)' -> '7306'; spaces normalised."""
    return " ".join(re.sub(r"\(.*?\)", "", code).split())


def _topics(rule_id: str) -> set[str]:
    rule = product_rules()[rule_id]
    return {t.strip() for c in rule.sources for t in c.topic.split(",")}


def test_every_required_product_rule_loads() -> None:
    missing = set(REQUIRED) - set(product_rules())
    assert not missing, f"product rules missing: {sorted(missing)}"


@pytest.mark.parametrize("rule_id", REQUIRED)
def test_declared_unit_is_an_openpcf_unit(rule_id: str) -> None:
    unit = product_rules()[rule_id].declared_unit.unit
    quantity_of(unit)  # raises UnitError for a unit openpcf does not know


@pytest.mark.parametrize("rule_id", REQUIRED)
def test_declared_unit_and_boundary_are_cited(rule_id: str) -> None:
    topics = _topics(rule_id)
    assert "declared unit" in topics, f"{rule_id}: no citation with topic 'declared unit'"
    assert "boundary" in topics, f"{rule_id}: no citation with topic 'boundary'"


@pytest.mark.parametrize("rule_id", REQUIRED)
def test_mandatory_stages_fit_the_boundary(rule_id: str) -> None:
    rule = product_rules()[rule_id]
    if rule.boundary == "cradle-to-gate":
        assert set(rule.mandatory_stages) <= {"raw-materials", "production"}, rule_id
    for inp in rule.mandatory_inputs:
        assert inp.kind != "any" or inp.match, f"{rule_id}: '{inp.name}' matches nothing"


@pytest.mark.parametrize("rule_id", CBAM_GOODS)
def test_cbam_good_has_cbam_data(rule_id: str) -> None:
    rule = product_rules()[rule_id]
    assert rule.cbam is not None, f"{rule_id} is a CBAM good"
    assert "cbam" in _topics(rule_id), f"{rule_id}: no citation with topic 'cbam'"
    assert set(rule.cbam.gases) == SECTOR_GASES[rule.cbam.sector], rule_id
    assert all(canonical_gas(g) == g for g in rule.cbam.gases), rule.cbam.gases
    # CBAM reports per tonne of good, electricity per MWh: the declared unit must convert.
    metric = "MWh" if rule.cbam.sector == "electricity" else "t"
    factor_between(rule.declared_unit.unit, metric, f"{rule_id} declared unit")


@pytest.mark.parametrize("rule_id", sorted(set(REQUIRED) - set(CBAM_GOODS)))
def test_goods_outside_cbam_carry_no_cbam_data(rule_id: str) -> None:
    assert product_rules()[rule_id].cbam is None, rule_id


def test_cbam_default_value_codes_are_in_the_rules_of_their_sector() -> None:
    rows = _shared_csv("cbam_defaults.csv")
    by_sector: dict[str, set[str]] = {}
    for rule in product_rules().values():
        if rule.cbam is not None:
            by_sector.setdefault(rule.cbam.sector, set()).update(rule.cbam.cn_codes)
    for row in rows:
        sector = CSV_SECTOR[row["sector"].strip()]
        code = _cn(row["cn_code"])
        if code in NO_RULE:
            continue
        assert code in by_sector.get(sector, set()), (
            f"CN {code} ({row['description']}) of sector {sector} is in cbam_defaults.csv but "
            f"in no {sector} product rule; add it to the rule for that good, or to NO_RULE"
        )
    csv_codes = {_cn(row["cn_code"]) for row in rows}
    assert set(NO_RULE) <= csv_codes, "NO_RULE lists codes cbam_defaults.csv no longer has"


@pytest.mark.parametrize("rule_id", ["cement", "clinker"])
def test_clinker_code_is_shared_by_cement_and_clinker(rule_id: str) -> None:
    # Cement clinker (2523 10 00) is a CBAM good itself and the precursor of cement.
    rule = product_rules()[rule_id]
    assert rule.cbam is not None and "2523 10 00" in rule.cbam.cn_codes


def test_indirect_emissions_follow_cbam_rules_csv() -> None:
    rows = _shared_csv("cbam_rules.csv")
    text = next(r["rule"] for r in rows if r["topic"] == "definitive period coverage")
    both, _, direct = text.partition(";")
    assert "direct+indirect" in both and "direct only" in direct, text
    for rule_id, rule in product_rules().items():
        if rule.cbam is None:
            continue
        word = SECTOR_WORDS[rule.cbam.sector]
        assert (word in both) == rule.cbam.indirect_in_definitive, (rule_id, text)
        assert (word in both) != (word in direct), (rule_id, text)
