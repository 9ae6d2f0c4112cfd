"""CBAM embedded emissions, each case checked against a hand calculation in the test.

SEE_g = (AttrEm_g + Σ M_i × SEE_i) / AL_g, direct and indirect apart (Regulation (EU) 2023/956
Annex IV points 2-3; Implementing Regulation (EU) 2023/1773 Annex III). Cited values:
- cn-mee-grid/CN-JS@2023: 0.5827 kg CO2/kWh (MEE/NBS announcement 2025 No. 47);
- cn-mee-grid/CN-AH@2023: 0.6553 kg CO2/kWh (same announcement);
- ipcc2006-cn-ncv/bituminous-coal: 94 600 kg CO2/TJ × 23.204 GJ/t = 2195.0984 kg CO2/t;
- ipcc2006-cn-ncv/diesel: 74 100 kg CO2/TJ × 43.33 GJ/t = 3210.753 kg CO2/t;
- ipcc2006-cn-ncv/natural-gas: 56 100 kg CO2/TJ × 389.31 GJ/10^4 Nm3 = 2.1840291 kg CO2/Nm3,
  CH4 1 kg/TJ → 3.8931e-05 kg/Nm3;
- CBAM default 2523 10 00 (cement clinkers): 0.83 direct + 0.04 indirect t CO2e/t; 7202 60 00
  (ferro-nickel): total only, 6.26 t CO2e/t (TAXUD transitional default values, 2023-12-22;
  shared/data/cbam_defaults.csv).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from openpcf.domain.cbam import CbamDeclaration
from openpcf.domain.errors import ModelError, UnitError
from openpcf.factors.bundled import cbam_defaults
from openpcf.services.calculation.cbam import embedded_emissions
from openpcf.services.calculation.project import load_project

from .cli_runner import openpcf as _openpcf

Write = Callable[[str, str], Path]
REPO = Path(__file__).resolve().parents[1]

CLINKER = """
openpcf: 1
product:
  name: Clinker
  rule: clinker
  declared_unit: {amount: 1, unit: t}
  region: CN-JS
  year: 2023
factors:
  - {id: test/limestone, name: Limestone, unit: t, co2e: 3.0, gwp: AR5, source: test}
inputs:
  - {name: Kiln coal, stage: production, amount: 0.12, unit: t,
     factor: ipcc2006-cn-ncv/bituminous-coal}
  - {name: Limestone, stage: raw-materials, amount: 1.3, unit: t, factor: test/limestone}
  - {name: Kiln electricity, stage: production, amount: 50, unit: kWh, electricity: {}}
emissions:
  - {name: calcination, gas: CO2, amount: 520, unit: kg}
"""

CEMENT = """
openpcf: 1
product:
  name: Cement
  rule: cement
  declared_unit: {amount: 1, unit: t}
  region: CN-JS
  year: 2023
factors:
  - {id: test/gypsum, name: Gypsum, unit: t, co2e: 4.0, gwp: AR5, source: test}
inputs:
  - CLINKER_LINE
  - {name: Gypsum, stage: raw-materials, amount: 50, unit: kg, factor: test/gypsum}
  - {name: Mill electricity, stage: production, amount: 40, unit: kWh, electricity: {}}
"""


def cement(write: Write, clinker_line: str) -> CbamDeclaration:
    write("clinker.yaml", CLINKER)
    path = write("cement.yaml", CEMENT.replace("CLINKER_LINE", clinker_line))
    return embedded_emissions(load_project(path))


def test_cement_with_own_clinker_carries_its_actual_direct_and_indirect(write: Write) -> None:
    d = cement(
        write, "{name: Clinker, stage: production, amount: 750, unit: kg, product: clinker.yaml}"
    )
    # Clinker, per t: direct = coal 0.12 t × 2195.0984 kg/t = 263.411808 kg + calcination
    # 520 kg = 783.411808 kg = 0.783411808 t (CH4, N2O of the coal: CBAM counts CO2 only for
    # cement); indirect = 50 kWh × 0.5827 kg/kWh = 29.135 kg = 0.029135 t.
    clinker_d, clinker_i = 0.783411808, 0.029135
    # Cement, per t: 0.75 t clinker; mill electricity 40 kWh × 0.5827 = 23.308 kg.
    assert d.rule == "cement" and d.sector == "cement" and d.gases == ("CO2",)
    assert d.attributed_direct == pytest.approx(0.0, abs=1e-15)
    assert d.attributed_indirect == pytest.approx(0.023308, rel=1e-12)
    (pre,) = d.precursors
    assert pre.data == "actual" and pre.name == "Clinker"
    assert pre.mass_t == pytest.approx(0.75, rel=1e-12)
    assert pre.see_direct == pytest.approx(clinker_d, rel=1e-12)
    assert pre.see_indirect == pytest.approx(clinker_i, rel=1e-12)
    # SEE direct = 0.75 × 0.783411808 = 0.587558856
    # SEE indirect = 0.023308 + 0.75 × 0.029135 = 0.023308 + 0.02185125 = 0.04515925
    assert d.see_direct == pytest.approx(0.587558856, rel=1e-12)
    assert d.see_indirect == pytest.approx(0.04515925, rel=1e-12)
    assert d.see_total == pytest.approx(0.632718106, rel=1e-12)
    # cement: indirect counts in the definitive period
    assert d.indirect_in_definitive and d.see_definitive == pytest.approx(d.see_total)
    assert d.default_share == 0.0
    (mill,) = d.indirect
    assert mill.source == "cn-mee-grid/CN-JS@2023"
    assert mill.electricity_mwh == pytest.approx(0.04)
    # Outside the boundary, kg CO2e per t of cement in the normal PCF: gypsum 0.05 t × 4.0 = 0.2;
    # the clinker's limestone 1.3 t × 3.0 = 3.9 kg per t clinker × 0.75 t = 2.925.
    excluded = {x.name: x.kg_co2e for x in d.excluded}
    assert excluded == pytest.approx({"Gypsum": 0.2, "Clinker / Limestone": 2.925})


def test_purchased_clinker_by_cn_code_takes_the_default_value(write: Write) -> None:
    d = cement(
        write,
        "{name: Purchased clinker, stage: raw-materials, amount: 0.75, unit: t, "
        "pcf: {value: 700, unit: kg CO2e/t, source: supplier}, cn_code: '2523 10 00'}",
    )
    # the supplier's PCF is not CBAM data; the default 0.83 + 0.04 t CO2e/t is used:
    # direct = 0.75 × 0.83 = 0.6225; indirect = 0.023308 + 0.75 × 0.04 = 0.053308
    (pre,) = d.precursors
    assert pre.data == "default" and pre.cn_code == "2523 10 00"
    assert (pre.see_direct, pre.see_indirect) == (0.83, 0.04)
    assert "Default values for the transitional period" in pre.source
    assert d.see_direct == pytest.approx(0.6225, rel=1e-12)
    assert d.see_indirect == pytest.approx(0.053308, rel=1e-12)
    assert d.see_total == pytest.approx(0.675808, rel=1e-12)
    # default share = (0.6225 + 0.03) / 0.675808
    assert d.default_share == pytest.approx(0.6525 / 0.675808, rel=1e-12)
    codes = {n.code for n in d.notes}
    assert "CBAM_DEFAULT_VALUES" in codes
    assert any("must mark" in n.message for n in d.notes)


def test_cn_code_without_spaces_and_on_a_factor_input(write: Write) -> None:
    d = cement(
        write,
        "{name: Clinker, stage: raw-materials, amount: 750, unit: kg, factor: test/gypsum, "
        "cn_code: '25231000'}",
    )
    (pre,) = d.precursors
    assert pre.cn_code == "2523 10 00" and pre.direct == pytest.approx(0.6225)


def test_steel_counts_co2_only_and_direct_only_in_the_definitive_period(write: Write) -> None:
    path = write(
        "steel.yaml",
        """
        openpcf: 1
        product:
          name: Crude steel
          rule: crude-steel
          declared_unit: {amount: 1, unit: t}
          reference: {amount: 500, unit: kg}
          region: CN-JS
          year: 2023
        inputs:
          - {name: Natural gas, stage: production, amount: 100, unit: Nm3,
             factor: ipcc2006-cn-ncv/natural-gas}
          - {name: Power, stage: production, amount: 300, unit: kWh, electricity: {}}
          - {name: Ferro-nickel, stage: raw-materials, amount: 10, unit: kg,
             pcf: {value: 5000, unit: kg CO2e/t}, cn_code: 7202 60 00}
        emissions:
          - {name: decarburisation, gas: CO2, amount: 800, unit: kg}
          - {name: process N2O, gas: N2O, amount: 0.5, unit: kg}
        coproducts:
          - {name: slag, amount: 100, unit: kg, share: 0.1}
        """,
    )
    d = embedded_emissions(load_project(path))
    # per t of steel: share 0.9 / 0.5 t reference = 1.8
    # direct: (gas 100 Nm3 × 2.1840291 = 218.40291 kg + 800 kg) × 1.8 / 1000 = 1.833125238
    # the N2O (0.5 kg × 265 × 1.8 / 1000 = 0.2385 t) and the gas's CH4 are not counted
    assert d.activity_level_t == 0.5 and d.allocation_share == pytest.approx(0.9)
    assert d.attributed_direct == pytest.approx(1.833125238, rel=1e-12)
    n2o = next(e for e in d.direct if e.name == "process N2O")
    assert n2o.t_co2e == 0.0 and n2o.not_counted == {"N2O": pytest.approx(0.2385, rel=1e-12)}
    gas = next(e for e in d.direct if e.name == "Natural gas")
    # CH4 100 × 3.8931e-05 kg × 28 × 1.8 / 1000
    assert gas.not_counted == {"CH4": pytest.approx(100 * 3.8931e-05 * 28 * 1.8 / 1000)}
    # indirect: 300 kWh × 0.5827 × 1.8 / 1000 = 0.314658
    assert d.attributed_indirect == pytest.approx(0.314658, rel=1e-12)
    # ferro-nickel: total-only default 6.26 used as direct: 0.01 t × 1.8 × 6.26 = 0.11268
    (fe_ni,) = d.precursors
    assert fe_ni.data == "default" and fe_ni.mass_t == pytest.approx(0.018)
    assert (fe_ni.see_direct, fe_ni.see_indirect) == (6.26, 0.0)
    assert "CBAM_DEFAULT_TOTAL_ONLY" in {n.code for n in d.notes}
    assert d.see_direct == pytest.approx(1.833125238 + 0.11268, rel=1e-12)
    assert d.see_indirect == pytest.approx(0.314658, rel=1e-12)
    # iron and steel: indirect emissions do not count in the definitive period
    assert not d.indirect_in_definitive
    assert d.see_definitive == pytest.approx(1.833125238 + 0.11268, rel=1e-12)


def test_example_cement_with_rules_named(tmp_path: Path) -> None:
    """examples/cement.yaml and clinker.yaml as shipped, with rule: cement / rule: clinker."""
    for name, rule in (("cement.yaml", "cement"), ("clinker.yaml", "clinker")):
        text = (REPO / "examples" / name).read_text("utf-8")
        text = text.replace("  declared_unit:", f"  rule: {rule}\n  declared_unit:", 1)
        (tmp_path / name).write_text(text, "utf-8")
    d = embedded_emissions(load_project(tmp_path / "cement.yaml"))
    # clinker direct: coal 0.135 × 2195.0984 = 296.338284 + diesel 0.0005 × 3210.753 = 1.6053765
    # + calcination 531.9 = 829.8436605 kg/t; indirect 52 kWh × 0.6553 (Anhui grid CO2, not the
    # footprint basis the model states) = 34.0756 kg/t
    (clinker,) = d.precursors
    assert clinker.see_direct == pytest.approx(0.8298436605, rel=1e-12)
    assert clinker.see_indirect == pytest.approx(0.0340756, rel=1e-12)
    # cement: 0.8 t clinker; mill 38 kWh × 0.6553 = 24.9014 kg
    assert d.see_direct == pytest.approx(0.8 * 0.8298436605, rel=1e-12)
    assert d.see_indirect == pytest.approx(0.0249014 + 0.8 * 0.0340756, rel=1e-12)
    assert "CBAM_GRID_CO2" in {n.code for n in d.notes}
    # gypsum 0.05 × 4.0, slag 0.15 × 2.0, freight 15 t*km × 0.078 (kg CO2e per t of cement)
    assert {x.name: x.kg_co2e for x in d.excluded} == pytest.approx(
        {"Natural gypsum (set retarder)": 0.2, "Granulated blast-furnace slag": 0.3,
         "Road freight of gypsum and slag": 1.17}
    )  # fmt: skip


def test_a_model_without_a_cbam_rule_is_refused(write: Write) -> None:
    path = write("widget.yaml", CLINKER.replace("  rule: clinker\n", ""))
    with pytest.raises(ModelError) as e:
        embedded_emissions(load_project(path))
    assert "product.rule" in str(e.value) or "product rule" in str(e.value)
    assert "cement" in str(e.value) and "clinker" in str(e.value)
    path = write("pv.yaml", CLINKER.replace("rule: clinker", "rule: pv-module"))
    with pytest.raises(ModelError, match="'pv-module', which is not a CBAM good"):
        embedded_emissions(load_project(path))


def test_unknown_cn_code_lists_the_known_ones(write: Write) -> None:
    with pytest.raises(ModelError) as e:
        cement(write, "{name: X, stage: raw-materials, amount: 1, unit: t, factor: test/gypsum, "
                      "cn_code: '9999 99 99'}")  # fmt: skip
    assert "'9999 99 99'" in str(e.value) and "2523 10 00 (Cement clinkers)" in str(e.value)
    assert "cn_code" in str(e.value)  # the location names the field


def test_non_mass_reference_and_non_mass_precursor_are_errors(write: Write) -> None:
    path = write(
        "bag.yaml",
        CLINKER.replace(
            "declared_unit: {amount: 1, unit: t}", "declared_unit: {amount: 1, unit: piece}"
        ),
    )
    with pytest.raises(UnitError, match="per tonne of good"):
        embedded_emissions(load_project(path))
    with pytest.raises(UnitError, match="Purchased clinker"):
        cement(write, "{name: Purchased clinker, stage: raw-materials, amount: 2, unit: piece, "
                      "pcf: {value: 1, unit: kg CO2e/piece}, cn_code: '2523 10 00'}")  # fmt: skip


def test_cn_code_on_electricity_is_an_error(write: Write) -> None:
    with pytest.raises(ModelError, match="not a precursor"):
        cement(write, "{name: Power, stage: production, amount: 1, unit: kWh, electricity: {}, "
                      "cn_code: '2716 00 00'}")  # fmt: skip


def test_cbam_defaults_are_the_shared_table() -> None:
    d = cbam_defaults()
    clinker = d["2523 10 00"]
    assert (clinker.direct, clinker.indirect, clinker.total) == (0.83, 0.04, 0.87)
    assert clinker.sector == "cement" and clinker.published == "2023-12-22"
    assert clinker.flags == ()
    assert d["2523 21 00"].flags == ("VERIFY",)  # single secondary source
    assert d["7202 60 00"].direct is None and d["7202 60 00"].total == 6.26


def test_cli_json_and_table(write: Write) -> None:
    write("clinker.yaml", CLINKER)
    path = write("cement.yaml", CEMENT.replace(
        "CLINKER_LINE",
        "{name: Clinker, stage: production, amount: 750, unit: kg, product: clinker.yaml}",
    ))  # fmt: skip
    run = _openpcf("cbam", str(path), "--format", "json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["see_total"] == pytest.approx(0.632718106, rel=1e-12)
    assert out["precursors"][0]["data"] == "actual"
    run = _openpcf("cbam", str(path))
    assert run.returncode == 0, run.stderr
    assert "precursor" in run.stdout and "actual" in run.stdout and "Definitive" in run.stdout
    bad = write("bad.yaml", CLINKER.replace("  rule: clinker\n", ""))
    run = _openpcf("cbam", str(bad))
    assert run.returncode == 1 and "CBAM rules" in run.stderr


def test_precursor_cycles_are_solved_and_non_cbam_sub_assemblies_are_listed(write: Write) -> None:
    write(
        "clinker.yaml",
        """
        openpcf: 1
        product: {name: Clinker, rule: clinker, declared_unit: {amount: 1, unit: t}}
        inputs:
          - {name: Returned cement, stage: production, amount: 10, unit: kg, product: cement.yaml}
          - {name: Grinding aid, stage: production, amount: 1, unit: kg, product: aid.yaml}
        emissions:
          - {gas: CO2, amount: 500, unit: kg}
        """,
    )
    write(
        "aid.yaml",
        """
        openpcf: 1
        product: {name: Aid, declared_unit: {amount: 1, unit: kg}}
        factors:
          - {id: t/x, name: X, unit: kg, co2e: 2, gwp: AR5, source: test}
        inputs:
          - {name: X, stage: raw-materials, amount: 1, unit: kg, factor: t/x}
        """,
    )
    path = write(
        "cement.yaml",
        """
        openpcf: 1
        product: {name: Cement, rule: cement, declared_unit: {amount: 1, unit: t}}
        inputs:
          - {name: Clinker, stage: production, amount: 0.8, unit: t, product: clinker.yaml}
        """,
    )
    d = embedded_emissions(load_project(path))
    # clinker k = 0.5 + 0.01 c and cement c = 0.8 k  =>  k = 0.5 / (1 - 0.008), c = 0.8 k
    k = 0.5 / 0.992
    assert d.precursors[0].see_direct == pytest.approx(k, rel=1e-12)
    assert d.see_direct == pytest.approx(0.8 * k, rel=1e-12)
    # the aid (no CBAM rule) is outside: 2 kg CO2e per t clinker × 0.8 / 0.992 t clinker per t
    (aid,) = d.excluded
    assert aid.name == "Clinker / Grinding aid" and "no CBAM product rule" in aid.reason
    assert aid.kg_co2e == pytest.approx(2 * 0.8 / 0.992, rel=1e-12)


def test_defaults_inside_an_actual_precursor_count_in_the_default_share(write: Write) -> None:
    clay = (
        "  - {name: Calcined clay, stage: raw-materials, amount: 100, unit: kg,\n"
        "     factor: test/limestone, cn_code: '2507 00 80'}\n"
    )
    write("clinker.yaml", CLINKER.replace("emissions:\n", clay + "emissions:\n"))
    path = write(
        "cement.yaml",
        CEMENT.replace(
            "CLINKER_LINE",
            "{name: Clinker, stage: production, amount: 750, unit: kg, product: clinker.yaml}",
        ),
    )
    d = embedded_emissions(load_project(path))
    # clinker: + 0.1 t calcined clay × default (0.23 direct, 0.08 indirect; VERIFY in the table)
    # direct 0.783411808 + 0.023 = 0.806411808; indirect 0.029135 + 0.008 = 0.037135
    # cement: direct 0.75 × 0.806411808 = 0.604808856;
    #         indirect 0.023308 + 0.75 × 0.037135 = 0.05115925
    assert d.see_direct == pytest.approx(0.604808856, rel=1e-12)
    assert d.see_indirect == pytest.approx(0.05115925, rel=1e-12)
    # default part: 0.75 × 0.1 × (0.23 + 0.08) = 0.02325 t CO2e per t of cement
    assert d.default_share == pytest.approx(0.02325 / (0.604808856 + 0.05115925), rel=1e-12)
    flagged = [n for n in d.notes if n.code == "FLAGGED_DEFAULT"]
    assert [n.input for n in flagged] == ["Clinker / Calcined clay"]
