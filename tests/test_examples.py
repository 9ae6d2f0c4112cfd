"""The example product models in examples/, each checked against a hand calculation.

Every expected number is derived here from the model's amounts and the factor values, which are
rebuilt from their source rows in shared/data/ (the bundled set holds the same products):

- ipcc_fuel_factors.csv: IPCC 2006 kg per TJ (NCV) of CO2, CH4, N2O (energy industries);
- china_fuel_defaults_unverified.csv: the Chinese default net calorific values (NCV);
- china_electricity_cf_factors.csv and china_grid_factors.csv: the electricity factors;
- gwp.csv: GWP100 (AR5 Table 8.A.1; AR6 Table 7.SM.7, and Table 7.15 for fossil and
  non-fossil CH4).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openpcf.domain.result import Result
from openpcf.factors.bundled import bundled_set
from openpcf.io.model_file import load_model
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project

from .cli_runner import openpcf

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# GWP100 (gwp.csv). AR5 has one CH4 value for both origins.
AR5 = {"CO2": 1.0, "CH4": 28.0, "CH4 non-fossil": 28.0, "N2O": 265.0, "NF3": 16100.0}
AR6 = {"CO2": 1.0, "CH4": 29.8, "CH4 non-fossil": 27.0, "N2O": 273.0, "NF3": 17400.0}
GWP = {"AR5": AR5, "AR6": AR6}

# Fuel factors, kg of gas per unit of fuel = kg/TJ × NCV in TJ per unit.
# ipcc2006-cn-ncv/bituminous-coal: "Other bituminous coal" 94600 / 1 / 1.5 kg/TJ × 烟煤 NCV
# 23.204 GJ/t = 0.023204 TJ/t.
COAL_PER_T = {"CO2": 94600 * 0.023204, "CH4": 1 * 0.023204, "N2O": 1.5 * 0.023204}
# ipcc2006-cn-ncv/diesel: "Gas/diesel oil" 74100 / 3 / 0.6 kg/TJ × 柴油 NCV 43.33 GJ/t.
DIESEL_PER_T = {"CO2": 74100 * 0.04333, "CH4": 3 * 0.04333, "N2O": 0.6 * 0.04333}
# ipcc2006-cn-ncv/coke: "Coke oven coke and lignite coke" 107000 / 1 / 1.5 kg/TJ × 焦炭 NCV
# 28.446 GJ/t.
COKE_PER_T = {"CO2": 107000 * 0.028446, "CH4": 1 * 0.028446, "N2O": 1.5 * 0.028446}
# ipcc2006-cn-ncv/natural-gas: "Natural gas" 56100 / 1 kg/TJ (N2O left blank in the row) ×
# 天然气 NCV 389.31 GJ/10^4 Nm3 = 3.8931e-5 TJ/Nm3.
GAS_PER_NM3 = {"CO2": 56100 * 389.31e-7, "CH4": 1 * 389.31e-7}

# Electricity, kg per kWh.
EFP_CN_2023 = 0.6205  # cn-mee-efp/CN@2023, 全国电力平均碳足迹因子 2023 (CO2e, no GWP set stated)
EFP_CN_2024 = 0.5777  # cn-mee-efp/CN@2024, 全国电力平均碳足迹因子 2024
GRID_HE_2023 = 0.6516  # cn-mee-grid/CN-HE@2023, 河北 2023 (CO2 only)


def co2e(gases: dict[str, float], gwp: dict[str, float]) -> float:
    """kg CO2e of fossil gases given in kg."""
    return sum(kg * gwp[gas] for gas, kg in gases.items())


def calc(name: str, gwp: str) -> Result:
    return calculate(load_project(EXAMPLES / name), gwp=gwp)


def line(result: Result, name: str) -> float:
    (kg,) = [c.kg_co2e for c in result.contributions if c.name == name]
    return kg


def codes(result: Result) -> set[str]:
    return {w.code for w in result.warnings}


def assert_contributions_add_up(result: Result) -> None:
    assert sum(c.kg_co2e for c in result.contributions) == pytest.approx(
        result.pcf.value, rel=1e-12
    )
    assert sum(result.stages.values()) == pytest.approx(result.pcf.value, rel=1e-12)
    assert sum(result.gases.values()) == pytest.approx(result.pcf.value, rel=1e-12)


def test_the_factor_rows_rebuild_the_bundled_fuel_factors() -> None:
    """The constants above are the bundled factors, so the hand calculations use their values."""
    by_id = {f.id: f for f in bundled_set().factors}
    for factor_id, gases in {
        "ipcc2006-cn-ncv/bituminous-coal": COAL_PER_T,
        "ipcc2006-cn-ncv/diesel": DIESEL_PER_T,
        "ipcc2006-cn-ncv/coke": COKE_PER_T,
        "ipcc2006-cn-ncv/natural-gas": GAS_PER_NM3,
    }.items():
        assert by_id[factor_id].gases == pytest.approx(gases, rel=1e-9), factor_id
    assert by_id["cn-mee-efp/CN@2023"].co2e == EFP_CN_2023
    assert by_id["cn-mee-efp/CN@2024"].co2e == EFP_CN_2024
    assert by_id["cn-mee-grid/CN-HE@2023"].gases == {"CO2": GRID_HE_2023}


@pytest.mark.parametrize("gwp", ["AR5", "AR6"])
def test_cement_with_its_own_clinker(gwp: str) -> None:
    g = GWP[gwp]
    # clinker.yaml, per t clinker
    coal = 0.135 * co2e(COAL_PER_T, g)  # 0.135 t bituminous coal
    diesel = 0.5 / 1000 * co2e(DIESEL_PER_T, g)  # 0.5 kg diesel against a per-t factor
    clinker_power = 52 * EFP_CN_2023  # 52 kWh, footprint basis, national value for CN-AH
    calcination = 531.9  # kg CO2 direct emission
    clinker = coal + diesel + clinker_power + calcination
    r = calc("clinker.yaml", gwp)
    assert r.pcf.value == pytest.approx(clinker, rel=1e-9)
    assert r.stages == pytest.approx(
        {"raw-materials": diesel, "production": coal + clinker_power + calcination}, rel=1e-9
    )

    # cement.yaml, per t cement
    clinker_line = 0.800 * clinker  # 800 kg = 0.8 t of the per-t clinker model
    gypsum = 0.050 * 4.0  # 50 kg × example/natural-gypsum 4.0 kg CO2e/t
    slag = 0.150 * 2.0  # 150 kg × example/gbfs-as-residue 2.0 kg CO2e/t
    freight = 15 * 0.078  # 15 t*km × example/road-freight-heavy-truck 0.078 kg CO2e/t*km
    grinding = 38 * EFP_CN_2023  # 38 kWh
    total = clinker_line + gypsum + slag + freight + grinding
    r = calc("cement.yaml", gwp)
    assert r.pcf.value == pytest.approx(total, rel=1e-9)
    assert line(r, "Clinker") == pytest.approx(clinker_line, rel=1e-9)
    assert line(r, "Grid electricity, cement grinding") == pytest.approx(grinding, rel=1e-9)
    assert line(r, "Road freight of gypsum and slag") == pytest.approx(freight, rel=1e-9)
    assert r.stages == pytest.approx(
        {"raw-materials": gypsum + slag + freight, "production": clinker_line + grinding},
        rel=1e-9,
    )
    fuels = {  # kg of each gas from the clinker's coal and diesel, per t cement
        gas: 0.8 * (0.135 * COAL_PER_T[gas] + 0.5e-3 * DIESEL_PER_T[gas])
        for gas in ("CO2", "CH4", "N2O")
    }
    assert r.gases == pytest.approx(
        {
            "CO2": fuels["CO2"] + 0.8 * calcination,
            "CH4": fuels["CH4"] * g["CH4"],
            "N2O": fuels["N2O"] * g["N2O"],
            # values known only as CO2e: electricity and the inline factors
            "CO2e": 0.8 * clinker_power + grinding + gypsum + slag + freight,
        },
        rel=1e-9,
    )
    assert_contributions_add_up(r)
    assert r.declared_unit.unit == "t"
    assert {"NATIONAL_ELECTRICITY_FOOTPRINT", "GWP_BASIS", "FLAGGED_FACTOR"} <= codes(r)


@pytest.mark.parametrize("gwp", ["AR5", "AR6"])
def test_hot_rolled_coil_carries_the_burden_less_the_slag_share(gwp: str) -> None:
    g = GWP[gwp]
    ore = 1.58 * 45.0  # t × example/iron-ore-imported 45 kg CO2e/t
    coke = 0.340 * co2e(COKE_PER_T, g)
    pci = 0.138 * co2e(COAL_PER_T, g)
    gas = 30 * co2e(GAS_PER_NM3, g)  # 30 Nm3
    power = 420 * GRID_HE_2023  # 420 kWh, grid-co2 basis, Hebei
    flux = 53.9  # kg CO2 direct
    sinter = 0.091 * g["CH4"]  # kg CH4 direct, fossil
    share = 1 - 0.0097  # the coil's share after the slag coproduct's 0.0097
    r = calc("hot-rolled-steel.yaml", gwp)
    assert r.pcf.value == pytest.approx(
        share * (ore + coke + pci + gas + power + flux + sinter), rel=1e-9
    )
    assert line(r, "Coke, blast furnace") == pytest.approx(share * coke, rel=1e-9)
    assert line(r, "direct CH4 emission") == pytest.approx(share * sinter, rel=1e-9)
    assert r.stages == pytest.approx(
        {
            "raw-materials": share * ore,
            "production": share * (coke + pci + gas + power + flux + sinter),
        },
        rel=1e-9,
    )
    ch4_kg = 0.340 * COKE_PER_T["CH4"] + 0.138 * COAL_PER_T["CH4"] + 30 * GAS_PER_NM3["CH4"]
    ch4_kg += 0.091
    assert r.inventory["CH4"] == pytest.approx(share * ch4_kg, rel=1e-9)
    assert r.gases["CH4"] == pytest.approx(share * ch4_kg * g["CH4"], rel=1e-9)
    assert_contributions_add_up(r)
    # the provincial grid factor exists, so no national fallback is noted
    assert "GRID_NATIONAL_FALLBACK" not in codes(r)
    assert "cn-mee-grid/CN-HE@2023" in {f.id for f in r.factors}


@pytest.mark.parametrize("gwp", ["AR5", "AR6"])
def test_lfp_cell_per_kwh_with_its_cathode(gwp: str) -> None:
    g = GWP[gwp]
    # lfp-cathode.yaml, per kg cathode active material
    iron_phosphate = 0.97 * 2.1  # kg × example/iron-phosphate 2.1 kg CO2e/kg
    li2co3 = 0.245 * 11.2  # kg × supplier PCF 11.2 t CO2e/t = 11.2 kg CO2e/kg
    glucose = 0.08 * 1.1  # kg × example/glucose
    cathode_power = 8.5 * EFP_CN_2023  # kWh, national value for CN-SC
    drier_gas = 0.35 * co2e(GAS_PER_NM3, g)  # Nm3
    carbonate_co2 = 0.146  # kg CO2 direct
    cathode = iron_phosphate + li2co3 + glucose + cathode_power + drier_gas + carbonate_co2
    assert calc("lfp-cathode.yaml", gwp).pcf.value == pytest.approx(cathode, rel=1e-9)

    # lfp-cell.yaml, per cell (piece), then per kWh: one cell is 0.896 kWh
    cathode_line = 2.05 * cathode
    graphite = 0.95 * 6.0
    copper = 0.30 * 8.0
    al_foil = 0.16 * 13.2  # supplier PCF, kg CO2e/kg
    electrolyte = 0.80 * 4.5
    can = 1 * 7.8  # supplier PCF, kg CO2e/piece
    cell_power = 11.5 * EFP_CN_2023
    boiler_gas = 0.6 * co2e(GAS_PER_NM3, g)
    ch4_fossil = 0.00043 * g["CH4"]
    ch4_biogenic = 0.0016 * g["CH4 non-fossil"]
    raw = cathode_line + graphite + copper + al_foil + electrolyte + can
    production = cell_power + boiler_gas + ch4_fossil + ch4_biogenic
    r = calc("lfp-cell.yaml", gwp)
    assert r.declared_unit.unit == "kWh"
    assert r.pcf.value == pytest.approx((raw + production) / 0.896, rel=1e-9)
    assert line(r, "LFP cathode active material") == pytest.approx(cathode_line / 0.896, rel=1e-9)
    assert line(r, "Aluminium can and top cover") == pytest.approx(can / 0.896, rel=1e-9)
    assert line(r, "direct CH4 (biogenic) emission") == pytest.approx(
        ch4_biogenic / 0.896, rel=1e-9
    )
    assert r.stages == pytest.approx(
        {"raw-materials": raw / 0.896, "production": production / 0.896}, rel=1e-9
    )
    assert r.inventory["CH4 (biogenic)"] == pytest.approx(0.0016 / 0.896, rel=1e-9)
    fossil_ch4 = 0.00043 + (0.6 + 2.05 * 0.35) * GAS_PER_NM3["CH4"]  # direct + both gas lines
    assert r.inventory["CH4"] == pytest.approx(fossil_ch4 / 0.896, rel=1e-9)
    assert r.origins["biogenic"] == pytest.approx(ch4_biogenic / 0.896, rel=1e-9)
    assert_contributions_add_up(r)
    assert {"NATIONAL_ELECTRICITY_FOOTPRINT", "GWP_BASIS", "FLAGGED_FACTOR"} <= codes(r)


def test_lfp_cell_ar6_differs_from_ar5_by_its_methane_only() -> None:
    ar5, ar6 = calc("lfp-cell.yaml", "AR5"), calc("lfp-cell.yaml", "AR6")
    # Only the per-gas flows change; every CO2e value (inline factors, supplier PCFs,
    # electricity) is used as given. Fossil CH4 per cell: 0.00043 direct + natural gas in the
    # cell (0.6 Nm3) and in its 2.05 kg of cathode (0.35 Nm3/kg), 3.8931e-5 kg CH4/Nm3.
    fossil = 0.00043 + (0.6 + 2.05 * 0.35) * 389.31e-7
    biogenic = 0.0016
    delta = (fossil * (29.8 - 28) + biogenic * (27.0 - 28)) / 0.896
    assert ar6.pcf.value - ar5.pcf.value == pytest.approx(delta, rel=1e-9)
    assert ar6.gases["CO2"] == pytest.approx(ar5.gases["CO2"], rel=1e-12)
    assert ar6.gases["CO2e"] == pytest.approx(ar5.gases["CO2e"], rel=1e-12)


@pytest.mark.parametrize("gwp", ["AR5", "AR6"])
def test_pv_module_per_square_metre(gwp: str) -> None:
    g = GWP[gwp]
    # per module (piece), then per m2: one module is 2.583 m2
    cell = {"CO2": 2.2, "CH4": 0.0055, "N2O": 0.00004, "NF3": 0.00001}  # example/mono-perc-cell-m10
    cells = 72 * co2e(cell, g)
    glass = 20.7 * 1.2
    frame = 2.6 * 19.0
    eva = 1.2 * 2.8
    backsheet = 0.85 * 5.0
    junction_box = 2.9  # supplier PCF per piece, stated under AR6, used as given
    power = 20 * EFP_CN_2024  # 20 kWh, product year 2024
    raw = cells + glass + frame + eva + backsheet + junction_box
    r = calc("pv-module.yaml", gwp)
    assert r.declared_unit.unit == "m2"
    assert r.pcf.value == pytest.approx((raw + power) / 2.583, rel=1e-9)
    assert line(r, "Solar cells") == pytest.approx(cells / 2.583, rel=1e-9)
    assert r.stages == pytest.approx(
        {"raw-materials": raw / 2.583, "production": power / 2.583}, rel=1e-9
    )
    assert r.gases == pytest.approx(
        {
            "CO2": 72 * 2.2 / 2.583,
            "CH4": 72 * 0.0055 * g["CH4"] / 2.583,
            "N2O": 72 * 0.00004 * g["N2O"] / 2.583,
            "NF3": 72 * 0.00001 * g["NF3"] / 2.583,
            "CO2e": (glass + frame + eva + backsheet + junction_box + power) / 2.583,
        },
        rel=1e-9,
    )
    assert_contributions_add_up(r)
    # the junction box PCF is AR6-based: noted in the AR5 result only (the electricity
    # footprint states no GWP set and is noted in both)
    box_notes = [w for w in r.warnings if w.input == "Junction box with cables and connectors"]
    assert len(box_notes) == (1 if gwp == "AR5" else 0)


def test_pv_module_ar6_minus_ar5_is_the_cells_gases() -> None:
    ar5, ar6 = calc("pv-module.yaml", "AR5"), calc("pv-module.yaml", "AR6")
    # 72 cells × (CH4 0.0055 × 1.8 + N2O 0.00004 × 8 + NF3 0.00001 × 1300) ÷ 2.583 m2
    delta = 72 * (0.0055 * (29.8 - 28) + 0.00004 * (273 - 265) + 0.00001 * (17400 - 16100))
    assert ar6.pcf.value - ar5.pcf.value == pytest.approx(delta / 2.583, rel=1e-9)


def test_every_example_computes_and_sources_its_inline_factors() -> None:
    """A new example is at least computed; an inline factor without a real source is refused."""
    models = sorted(EXAMPLES.glob("*.yaml"))
    assert {p.name for p in models} >= {
        "cement.yaml",
        "clinker.yaml",
        "hot-rolled-steel.yaml",
        "lfp-cathode.yaml",
        "lfp-cell.yaml",
        "pv-module.yaml",
    }
    for path in models:
        assert calc(path.name, "AR5").pcf.value > 0, path.name
        for factor in load_model(path).model.factors:
            assert len(factor.source) > 20, f"{path.name}: {factor.id} needs a source"


@pytest.mark.parametrize(
    "name", ["cement.yaml", "hot-rolled-steel.yaml", "lfp-cell.yaml", "pv-module.yaml"]
)
@pytest.mark.parametrize("gwp", ["AR5", "AR6"])
def test_cli_json_of_each_example(name: str, gwp: str) -> None:
    run = openpcf("calc", str(EXAMPLES / name), "--format", "json", "--gwp", gwp)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    expected = calc(name, gwp)  # checked against the hand calculations above
    assert out["pcf"] == {"value": pytest.approx(expected.pcf.value, rel=1e-12), "unit": "kg CO2e"}
    assert out["stages"] == pytest.approx(expected.stages, rel=1e-12)
    assert out["gwp"] == gwp
    assert out["product"] == expected.product


def test_cli_table_of_the_readme_example() -> None:
    run = openpcf("calc", str(EXAMPLES / "lfp-cell.yaml"))
    assert run.returncode == 0, run.stderr
    assert "LFP prismatic cell 280 Ah" in run.stdout
    assert "per 1 kWh" in run.stdout
