"""The bundled methodology profiles: each loads, cites a source for every setting, and holds the
facts its sources state (each assertion names the source it checks against)."""

from __future__ import annotations

import pytest

from openpcf.rules.catalogue import profiles

NEW_PROFILES = ("iso-14067", "ghg-protocol-product", "pact-v3", "eu-cbam", "eu-battery")
SETTING_TOPICS = (
    "gwp",
    "boundaries",
    "cutoff",
    "allocation",
    "biogenic",
    "land_use_change",
    "electricity",
    "reports",
)


def _topics(profile_id: str) -> set[str]:
    """Topic words of a profile's citations; one citation may name several ("biogenic, gwp")."""
    return {word.strip() for c in profiles()[profile_id].sources for word in c.topic.split(",")}


def test_all_six_profiles_load():
    assert {"gb-t-24067", *NEW_PROFILES} <= set(profiles())


@pytest.mark.parametrize("profile_id", NEW_PROFILES)
@pytest.mark.parametrize("topic", SETTING_TOPICS)
def test_every_setting_of_a_profile_cites_a_source(profile_id: str, topic: str):
    assert topic in _topics(profile_id)


@pytest.mark.parametrize("profile_id", NEW_PROFILES)
def test_a_citation_marked_verify_says_why_or_says_its_clause_was_not_inspected(profile_id: str):
    for c in profiles()[profile_id].sources:
        if "VERIFY" in c.flags:
            assert c.note or "not inspected" in c.source, (profile_id, c.topic)


def test_pact_v3_headline_excludes_biogenic_uptake_and_includes_land_use_change():
    p = profiles()["pact-v3"]
    # PACT Tech Specs v3.0.3 openapi.yaml: pcfExcludingBiogenicUptake (the value primaryDataShare
    # refers to) leaves out biogenicCO2Uptake and sums in landUseChangeGhgEmissions.
    assert p.biogenic.in_total is False
    assert p.biogenic.report_separately is True
    assert p.land_use_change.dluc_in_total is True


def test_pact_v3_uses_ar6_and_cradle_to_gate_with_a_five_percent_exemption_cap():
    p = profiles()["pact-v3"]
    # openapi.yaml ipccCharacterizationFactors: "the latest available ... i.e. ["AR6"]".
    assert p.gwp == "AR6"
    # PACT Methodology v3.0 title: "... Cradle-to-Gate Product Carbon Footprints".
    assert p.boundaries == ("cradle-to-gate",)
    # ADR-30 (data-exchange-protocol): methodological limit on exempted emissions stays at 5%.
    assert p.cutoff == 0.05
    # openapi.yaml: primaryDataShare is SHALL.
    assert "primary_data_share" in p.reports


def test_eu_cbam_counts_grid_co2_and_accepts_no_certificates():
    e = profiles()["eu-cbam"].electricity
    # EC CBAM Q&A (shared/data/cbam_rules.csv): default grid factor unless a direct technical
    # connection justifies an actual one; guarantees of origin are not evidence.
    assert "certificates" not in e.accepts
    assert set(e.accepts) == {"grid-average", "direct-connection"}
    # Implementing Regulation 2023/1773 Annex III (cbam_rules.csv): IEA grid CO2 emission factor.
    assert e.grid_basis == "grid-co2"


def test_eu_cbam_gases_are_the_union_of_the_sectors_and_downstream_stages_are_out():
    p = profiles()["eu-cbam"]
    # EC CBAM Q&A (cbam_rules.csv 'gases'): CO2 everywhere, N2O for fertilisers, PFCs for aluminium.
    assert set(p.gases) == {"CO2", "N2O", "CF4", "C2F6"}
    # Embedded emissions cover production and precursors only (2023/1773 precursor concept).
    assert set(p.excluded_stages) == {"distribution", "use", "end-of-life"}
    # EC CBAM Q&A: direct and indirect embedded emissions are reported separately.
    assert "direct_indirect" in p.reports


def test_eu_battery_leaves_out_the_use_stage_and_reports_stages_without_certificates():
    p = profiles()["eu-battery"]
    # Regulation (EU) 2023/1542 Annex II (eu_battery_cf.csv): use stage excluded; the others
    # reported separately.
    assert p.excluded_stages == ("use",)
    assert "stages" in p.reports
    # Draft delegated act (Agora Verkehrswende 2025; CLEPA letter): national mix only, no PPAs/GOs.
    assert "certificates" not in p.electricity.accepts
    assert "supplier-specific" not in p.electricity.accepts


def test_iso_14067_counts_biogenic_and_dluc_and_allows_partial_footprints():
    p = profiles()["iso-14067"]
    # ISO/DIS 14067 clause 6.3.9.2 (2012 draft): fossil and biogenic emissions and removals are
    # included in the CFP and documented separately.
    assert p.biogenic.in_total is True
    assert p.biogenic.report_separately is True
    # ISO 14067:2018: a partial CFP may be cradle-to-gate or gate-to-gate.
    assert set(p.boundaries) == {"cradle-to-grave", "cradle-to-gate", "gate-to-gate"}
    # Most recent IPCC GWP100: AR6, where openpcf's gb-t-24067 keeps AR5.
    assert p.gwp == "AR6"
    assert profiles()["gb-t-24067"].gwp == "AR5"


def test_ghg_protocol_product_boundaries_and_allocation_hierarchy():
    p = profiles()["ghg-protocol-product"]
    # GHG Protocol Product Standard: cradle-to-grave for final products, cradle-to-gate for
    # intermediate products of unknown function; no gate-to-gate inventory.
    assert set(p.boundaries) == {"cradle-to-grave", "cradle-to-gate"}
    # Avoid allocation first (subdivision, system expansion), then physical, then economic.
    order = p.allocation
    assert order[0] == "subdivision"
    assert order.index("physical") < order.index("economic")
    # Biogenic emissions and removals are in the inventory total and reported separately.
    assert p.biogenic.in_total is True
    assert p.biogenic.report_separately is True
