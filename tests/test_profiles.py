"""Profiles change the numbers they should, and a reconciliation explains every gap.

Hand values: AR5 CH4 28, N2O 265; AR6 fossil CH4 29.8, non-fossil 27.0, N2O 273 (spec page);
electricity factors from shared/data (Jiangsu 2023 grid CO2 0.5827, national 2023 life-cycle
footprint 0.6205, 2023 solar PV life-cycle 0.0545, 2023 wind 0.0336 kg CO2e/kWh).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from openpcf.domain.errors import ModelError
from openpcf.domain.result import Result
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.compare import compare
from openpcf.services.calculation.project import load_project

Write = Callable[[str, str], Path]

MIXED = """
openpcf: 1
product:
  name: Mixed
  declared_unit: {amount: 1, unit: kg}
  region: CN-JS
  year: 2023
inputs:
  - {name: Power, stage: production, amount: 10, unit: kWh, electricity: {}}
  - {name: Truck, stage: distribution, amount: 1, unit: kg,
     pcf: {value: 0.5, unit: kg CO2e/kg, gwp: AR6}}
emissions:
  - {gas: CH4, amount: 0.1, unit: kg}
  - {name: wood boiler, gas: CO2, amount: 3, unit: kg, origin: biogenic}
"""


def calc(path: Path, profile: str) -> Result:
    return calculate(load_project(path), profile=profile)


def test_gb_t_24067_counts_everything(write: Write) -> None:
    r = calc(write("m.yaml", MIXED), "gb-t-24067")
    # 10 × 0.6205 + 0.5 + 0.1 × 28 + 3 (biogenic CO2 counts)
    assert r.pcf.value == pytest.approx(6.205 + 0.5 + 2.8 + 3.0)
    assert r.origins["biogenic"] == pytest.approx(3.0)
    assert r.excluded == {}


def test_pact_leaves_out_biogenic_co2_and_downstream(write: Write) -> None:
    r = calc(write("m.yaml", MIXED), "pact-v3")
    # AR6: 10 × 0.6205 + 0.1 × 29.8; no biogenic CO2 (pCfExcludingBiogenic), no distribution
    assert r.pcf.value == pytest.approx(6.205 + 2.98)
    assert r.excluded == {"stage distribution": pytest.approx(0.5),
                          "biogenic CO2": pytest.approx(3.0)}  # fmt: skip
    assert r.gwp == "AR6"


def test_cbam_counts_co2_with_grid_co2_factor(write: Write) -> None:
    r = calc(write("m.yaml", MIXED), "eu-cbam")
    # 10 kWh × Jiangsu 2023 grid CO2 0.5827; CH4 not a CBAM gas; biogenic and downstream out
    assert r.pcf.value == pytest.approx(5.827)
    assert r.excluded["CH4 (not counted by eu-cbam)"] == pytest.approx(2.8)


def test_reconciliation_steps_sum_to_the_gap(write: Write) -> None:
    c = compare(load_project(write("m.yaml", MIXED)), "gb-t-24067", ["eu-cbam", "pact-v3"])
    base = 6.205 + 0.5 + 2.8 + 3.0
    cbam, pact = c.reconciliations
    steps = {s.rule: s.kg_co2e for s in cbam.steps}
    assert steps["gases counted"] == pytest.approx(-2.8)  # CH4 dropped (AR5, 0.1 × 28)
    assert steps["electricity treatment"] == pytest.approx(10 * (0.5827 - 0.6205))
    assert steps["boundary"] == pytest.approx(-0.5)  # distribution stage left out
    assert steps["biogenic carbon"] == pytest.approx(-3.0)
    assert cbam.base_total == pytest.approx(base) and cbam.other_total == pytest.approx(5.827)
    assert sum(s.kg_co2e for s in cbam.steps) == pytest.approx(cbam.gap, abs=1e-12)
    psteps = {s.rule: s.kg_co2e for s in pact.steps}
    assert psteps["GWP set"] == pytest.approx(0.1 * (29.8 - 28))
    assert sum(psteps.values()) == pytest.approx(pact.gap, abs=1e-12)
    assert [r.profile for r in c.results] == ["gb-t-24067", "eu-cbam", "pact-v3"]


def electricity_model(write: Write, evidence: str, year: int = 2025) -> Path:
    return write(
        "e.yaml",
        f"""
        openpcf: 1
        product: {{name: E, declared_unit: {{amount: 1, unit: kg}}, region: CN-JS, year: 2023}}
        inputs:
          - name: Power
            stage: production
            amount: 100
            unit: kWh
            electricity:
              year: 2023
{evidence.replace("YEAR", str(year))}
        """,
    )


DIRECT = """
              direct_connection:
                generation: solar-pv
                project_generation: {amount: 1000, unit: MWh}
                on_site_use: {amount: ON, unit: MWh}
                consumption: {amount: 2000, unit: MWh}
                year: YEAR
"""


def test_direct_connection_credits_its_share(write: Write) -> None:
    path = electricity_model(write, DIRECT.replace("ON", "800"))
    r = calc(path, "gb-t-24067")
    # 800/1000 = 80% used on site (≥ 60%); 800/2000 = 40% of consumption (≥ 30% in 2025)
    # 100 kWh × (0.6 × 0.6205 + 0.4 × 0.0545)
    assert r.pcf.value == pytest.approx(100 * (0.6 * 0.6205 + 0.4 * 0.0545))
    assert not [n for n in r.warnings if n.code == "DIRECT_CONNECTION_REJECTED"]


def test_direct_connection_below_thresholds_is_rejected_and_said(write: Write) -> None:
    # 500/1000 = 50% used on site (< 60%); 500/2000 = 25% of consumption (< 30%)
    path = electricity_model(write, DIRECT.replace("ON", "500"))
    r = calc(path, "gb-t-24067")
    assert r.pcf.value == pytest.approx(100 * 0.6205)
    rejected = [n.message for n in r.warnings if n.code == "DIRECT_CONNECTION_REJECTED"]
    assert len(rejected) == 2
    assert "50.0% of the project's generation" in rejected[0]
    assert "covers 25.0% of the site's consumption; at least 30%" in rejected[1]


def test_direct_connection_threshold_rises_to_35_percent_in_2030(write: Write) -> None:
    # 640/1000 = 64% on site; 640/2000 = 32%: enough in 2029, not from 2030
    ok = calc(electricity_model(write, DIRECT.replace("ON", "640"), 2029), "gb-t-24067")
    assert ok.pcf.value == pytest.approx(100 * (0.68 * 0.6205 + 0.32 * 0.0545))
    late = calc(electricity_model(write, DIRECT.replace("ON", "640"), 2030), "gb-t-24067")
    assert late.pcf.value == pytest.approx(100 * 0.6205)
    assert any("at least 35% is required in 2030" in n.message for n in late.warnings)


CERTS = """
              certificates:
                consumption: {amount: 500, unit: MWh}
                claims:
                  - {id: GEC-0001, amount: 100, unit: MWh, generation: wind}
                  - {id: GEC-0002, amount: 50, unit: MWh, generation: wind}
"""


def test_certificates_cover_their_share_where_the_profile_accepts_them(write: Write) -> None:
    path = electricity_model(write, CERTS)
    r = calc(path, "gb-t-24067")
    # 150 MWh of 500 MWh = 30% wind (0.0336), 70% grid footprint
    assert r.pcf.value == pytest.approx(100 * (0.7 * 0.6205 + 0.3 * 0.0336))
    cbam = calc(path, "eu-cbam")
    # CBAM takes no certificates: all 100 kWh at the Jiangsu 2023 grid CO2 factor
    assert cbam.pcf.value == pytest.approx(100 * 0.5827)
    assert any(n.code == "EVIDENCE_NOT_ACCEPTED" for n in cbam.warnings)


def test_evidence_over_100_percent_is_an_error(write: Write) -> None:
    path = electricity_model(
        write, CERTS.replace("amount: 500, unit: MWh", "amount: 100, unit: MWh")
    )
    with pytest.raises(ModelError, match=r"covers 150\.0% of the consumption"):
        calc(path, "gb-t-24067")


ALLOC = """
openpcf: 1
product:
  name: Main
  declared_unit: {amount: 1, unit: t}
  price: PRICE
inputs:
  - {name: X, stage: production, amount: 1, unit: kg, pcf: {value: 1000, unit: kg CO2e/kg, gwp: AR5}}
coproducts:
  - {name: slag, amount: 250, unit: kg, price: 10}
"""


def test_physical_allocation_by_mass(write: Write) -> None:
    r = calculate(load_project(write("a.yaml", ALLOC.replace("PRICE", "90"))))
    # 1000 kg CO2e shared by mass: main 1000 kg, slag 250 kg → 1000 × 1000/1250 = 800
    assert r.pcf.value == pytest.approx(800.0)
    assert r.allocation == "physical (mass)"


def test_economic_allocation_when_mass_is_not_known(write: Write) -> None:
    text = ALLOC.replace("PRICE", "90").replace("unit: kg, price: 10", "unit: piece, price: 10")
    r = calculate(load_project(write("a.yaml", text)))
    # slag counted in pieces, no mass: by price, main 90 of 100 → 900
    assert r.pcf.value == pytest.approx(900.0)
    assert r.allocation == "economic (price)"


def test_allocation_without_data_is_an_error(write: Write) -> None:
    text = ALLOC.replace("  price: PRICE\n", "").replace("unit: kg, price: 10", "unit: piece")
    with pytest.raises(ModelError, match="coproducts state no share"):
        calculate(load_project(write("a.yaml", text)))


def test_data_quality_and_primary_share_are_contribution_weighted(write: Write) -> None:
    path = write(
        "q.yaml",
        """
        openpcf: 1
        product: {name: Q, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: A, stage: production, amount: 3, unit: kg, primary: true,
             pcf: {value: 1, unit: kg CO2e/kg, gwp: AR5},
             dq: {technological: 1, geographical: 1, temporal: 1, completeness: 1, reliability: 1}}
          - {name: B, stage: production, amount: 1, unit: kg,
             pcf: {value: 1, unit: kg CO2e/kg, gwp: AR5},
             dq: {technological: 5, geographical: 3, temporal: 3, completeness: 3, reliability: 1}}
          - {name: C, stage: production, amount: 1, unit: kg, pcf: {value: 1, unit: kg CO2e/kg, gwp: AR5}}
        """,
    )
    r = calculate(load_project(path))
    # contributions 3, 1, 1; A primary → 3/5 = 60 %
    assert r.primary_data_share == pytest.approx(60.0)
    dq = r.data_quality
    assert dq is not None
    # rated weight 4 of 5 → coverage 0.8; technological (3×1 + 1×5)/4 = 2; rating (1×3 + 3×1)/4
    assert dq.coverage == pytest.approx(0.8)
    assert dq.technological == pytest.approx(2.0)
    assert dq.rating == pytest.approx((3 * 1 + 1 * 3) / 4)


@pytest.mark.parametrize(
    ("amount", "unit", "grade"),
    [
        (4.0, "kg", "清洁氢 clean hydrogen (T/CAB 0078-2020)"),  # 4.0 ≤ 4.9
        (10.0, "kg", "低碳氢 low-carbon hydrogen (T/CAB 0078-2020)"),  # 4.9 < 10 ≤ 14.51
        (20.0, "kg", None),  # above both thresholds
        (4.0, "g", None),  # 4 kg CO2e per 1 g = 4000 per kg
    ],
)
def test_benchmark_grade_of_the_product_rule(
    write: Write, amount: float, unit: str, grade: str | None
) -> None:
    path = write(
        "h.yaml",
        f"""
        openpcf: 1
        product: {{name: H2, rule: hydrogen, declared_unit: {{amount: 1, unit: {unit}}}}}
        inputs:
          - {{name: X, stage: production, amount: 1, unit: {unit},
             pcf: {{value: {amount}, unit: kg CO2e/{unit}, gwp: AR5}}}}
        """,
    )
    assert calculate(load_project(path)).grade == grade
