"""The built-in GHG flow map on the names the nomenclatures use (each case from the release or
naming convention cited next to it), and the GHG look-alike test that stops footprints."""

from __future__ import annotations

import pytest

from openpcf.domain.gases import Flow
from openpcf.factors.bundled import gwp_table
from openpcf.io.ghg_flow_map import ghg_flow_map, looks_like_ghg


@pytest.mark.parametrize(
    ("name", "category", "cas", "expected"),
    [
        # US LCI 1.5 (trailing space as in the release) and FEDEFL
        ("Carbon dioxide, fossil ", "air/unspecified", None, ("CO2", "fossil", 1.0)),
        ("Methane", "air/low population density", None, ("CH4", "fossil", 1.0)),
        ("Methane, biogenic", "Elementary Flows", None, ("CH4", "biogenic", 1.0)),
        # NETL names in USLCI: a bracketed suffix
        ("Carbon dioxide [Inorganic emissions to air]", "NETL/Emission to air", None,
         ("CO2", "fossil", 1.0)),
        ("Nitrous oxide (laughing gas) [Inorganic emissions to air]", "NETL/Emission to air",
         None, ("N2O", "fossil", 1.0)),
        # ecoinvent 3 / ecospold2 (CAS padded with zeros)
        ("Carbon dioxide, from soil or biomass stock", "air/non-urban air or from high stacks",
         "000124-38-9", ("CO2", "land-use", 1.0)),
        ("Carbon dioxide, to soil or biomass stock", "soil/unspecified", None,
         ("CO2", "land-use", -1.0)),
        ("Carbon dioxide, in air", "natural resource/in air", None, ("CO2", "biogenic", 1.0)),
        ("Methane, chlorodifluoro-, HCFC-22", "air/unspecified", None, ("HCFC-22", "fossil", 1.0)),
        ("Ethane, 1,1,1,2-tetrafluoro-, HFC-134a", "air", None, ("HFC-134a", "fossil", 1.0)),
        # the US LCI misspelling and the code-only ending
        ("Methane, difluromonochloro-, HCFC-22", "air/unspecified", None,
         ("HCFC-22", "fossil", 1.0)),
        ("Ethane, trifluoro-, HFC-143", "air/unspecified", None, ("HFC-143", "fossil", 1.0)),
        # ILCD / EF 3.x, TianGong categories
        ("carbon dioxide (fossil)", "Emissions/Emissions to air/Emissions to air, unspecified",
         "124-38-9", ("CO2", "fossil", 1.0)),
        ("methane (biogenic)", "Emissions/Emissions to air/Emissions to air, indoor", "74-82-8",
         ("CH4", "biogenic", 1.0)),
        ("dichloromethane", "Emissions/Emissions to air/Emissions to non-urban air or from "
         "high stacks", "75-09-2", ("CH2Cl2", "fossil", 1.0)),
        # Chinese names
        ("二氧化碳（化石）", "排放/空气", None, ("CO2", "fossil", 1.0)),
        ("甲烷(生物源)", "排放/空气", None, ("CH4", "biogenic", 1.0)),
        ("氧化亚氮", "排放/空气", None, ("N2O", "fossil", 1.0)),
        # a CAS number alone, for a gas without origins
        ("Sulphur hexafluoride, SF6", "air/unspecified", "2551-62-4", ("SF6", "fossil", 1.0)),
    ],
)  # fmt: skip
def test_names_of_each_nomenclature_map_to_their_gas(name, category, cas, expected) -> None:
    row = ghg_flow_map().match(name, category, cas)
    assert row is not None, name
    assert (row.flow.gas, row.flow.origin, row.factor) == expected
    assert gwp_table().gwp(Flow(row.flow.gas, row.flow.origin), "AR6") > 0


@pytest.mark.parametrize(
    ("name", "category"),
    [
        # ILCD "carbon dioxide (fossil)" taken from air is no emission (EF 3.1 factor 0)
        ("carbon dioxide (fossil)", "Resources/Resources from air/Renewable material resources"),
        ("methane", "Emissions/Emissions to water/Emissions to water, unspecified"),
        ("dinitrogen", "Emissions/Emissions to air/Emissions to air, unspecified"),
    ],
)
def test_what_is_no_greenhouse_gas_emission(name: str, category: str) -> None:
    assert ghg_flow_map().match(name, category, None) is None
    assert not looks_like_ghg(name, category)


@pytest.mark.parametrize(
    ("name", "category", "looks"),
    [
        ("PFC (perfluorocarbons)", "air/unspecified", True),
        ("HFCs and HCFCs, unspecified", "air/unspecified", True),
        ("Methane, dibromo-", "", True),  # no compartment: taken as air
        ("NMVOC, non-methane volatile organic compounds", "air/unspecified", False),
        ("Hydrocarbons (other than methane)", "air/unspecified", False),
        ("Pit Methane (in MJ)", "", False),
        ("Methanesulfonic acid", "air/unspecified", False),
        ("非甲烷总烃", "排放/空气", False),
        ("六氟化硫", "排放/空气", True),
    ],
)  # fmt: skip
def test_ghg_look_alikes(name: str, category: str, looks: bool) -> None:
    assert looks_like_ghg(name, category) is looks


def test_ef_reference_flows_map_by_uuid_whatever_their_name() -> None:
    """EF 3.1's 'carbon dioxide (fossil)' to air, unspecified (UUID in the EF 3.1 climate
    method shipped with TianGong) keeps its gas under another name, in any language."""
    row = ghg_flow_map().match("二氧化碳", "", None, "08a91e70-3ddc-11dd-923d-0050c2490048")
    assert row is not None and (row.flow.gas, row.flow.origin) == ("CO2", "fossil")
    assert row.convention.startswith("UUID")
    assert len(ghg_flow_map().by_uuid) > 200
