"""Calculations on small models, each checked against a hand calculation in the test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from openpcf.domain.errors import CalculationError, FactorError, UnitError
from openpcf.domain.result import Result
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project

Write = Callable[[str, str], Path]


def calc(path: Path, gwp: str | None = None, factors: tuple[Path, ...] = ()) -> Result:
    return calculate(load_project(path, factors), gwp=gwp)


def by_name(result: Result, name: str) -> float:
    return next(c.kg_co2e for c in result.contributions if c.name == name)


def test_inline_factor_gases_and_direct_emissions(write: Write) -> None:
    path = write(
        "widget.yaml",
        """
        openpcf: 1
        product: {name: Widget, declared_unit: {amount: 1, unit: kg}}
        factors:
          - {id: my/steel, name: Steel, unit: kg, gases: {CO2: 2.0, CH4: 0.01, N2O: 0.001},
             source: test}
        inputs:
          - {name: Steel, stage: raw-materials, amount: 1.5, unit: kg, factor: my/steel}
        emissions:
          - {gas: CH4, amount: 2, unit: g, stage: production}
        """,
    )
    r = calc(path, gwp="AR5")
    # steel: 1.5 × (2.0 + 0.01×28 + 0.001×265) = 1.5 × 2.545 = 3.8175
    # CH4 direct: 0.002 kg × 28 = 0.056
    assert r.pcf.value == pytest.approx(3.8175 + 0.056, rel=1e-12)
    assert r.stages == pytest.approx({"raw-materials": 3.8175, "production": 0.056})
    assert r.gases["CH4"] == pytest.approx((1.5 * 0.01 + 0.002) * 28)
    assert r.inventory["N2O"] == pytest.approx(1.5 * 0.001)
    assert r.gwp == "AR5"
    assert r.profile == "gb-t-24067"


def test_ar6_uses_fossil_and_non_fossil_methane_values(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: Power, stage: production, amount: 1, unit: kWh, factor: my/p}
        factors:
          - {id: my/p, name: P, unit: kWh, gases: {N2O: 0.001}, source: test}
        emissions:
          - {gas: CH4, amount: 1, unit: kg}
          - {gas: CH4, amount: 1, unit: kg, origin: biogenic}
        """,
    )
    ar5 = calc(path, gwp="AR5").pcf.value
    ar6 = calc(path, gwp="AR6").pcf.value
    # AR5: 28 + 28 + 0.265 ; AR6: 29.8 (fossil) + 27.0 (non-fossil) + 0.273
    assert ar5 == pytest.approx(56.265, rel=1e-12)
    assert ar6 == pytest.approx(57.073, rel=1e-12)
    r6 = calc(path, gwp="AR6")
    assert r6.origins["biogenic"] == pytest.approx(27.0)
    assert r6.origins["fossil"] == pytest.approx(29.8 + 0.273)


def test_co2e_factor_is_used_as_given_and_flagged_when_basis_differs(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, declared_unit: {amount: 1, unit: kg}}
        factors:
          - {id: my/x, name: X, unit: kg, co2e: 9.8, gwp: AR5, source: test}
        inputs:
          - {name: X, stage: raw-materials, amount: 2, unit: kg, factor: my/x}
        """,
    )
    ar5, ar6 = calc(path, gwp="AR5"), calc(path, gwp="AR6")
    assert ar5.pcf.value == ar6.pcf.value == pytest.approx(19.6)
    assert not [w for w in ar5.warnings if w.code == "GWP_BASIS"]
    [w] = [w for w in ar6.warnings if w.code == "GWP_BASIS"]
    assert w.input == "X" and "under AR5" in w.message


def test_units_are_converted_to_the_factor_unit(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, declared_unit: {amount: 1, unit: t}}
        factors:
          - {id: my/truck, name: Truck, unit: t*km, co2e: 0.1, gwp: AR5, source: test}
          - {id: my/power, name: Power, unit: kWh, co2e: 0.5, gwp: AR5, source: test}
          - {id: my/gas, name: Gas, unit: GJ, gases: {CO2: 56.1}, source: test}
        inputs:
          - {name: Truck, stage: distribution, amount: 50000, unit: kg*km, factor: my/truck}
          - {name: Power, stage: production, amount: 2, unit: MWh, factor: my/power}
          - {name: Gas, stage: production, amount: 1, unit: tce, factor: my/gas}
        """,
    )
    r = calc(path, gwp="AR5")
    # truck 50 t*km × 0.1 = 5; power 2000 kWh × 0.5 = 1000; gas 29.307 GJ × 56.1 = 1644.1227
    assert by_name(r, "Truck") == pytest.approx(5.0)
    assert by_name(r, "Power") == pytest.approx(1000.0)
    assert by_name(r, "Gas") == pytest.approx(29.307 * 56.1)


def test_dimension_mismatch_names_input_and_line(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, declared_unit: {amount: 1, unit: kg}}
        factors:
          - {id: my/steel, name: Steel, unit: kg, co2e: 2, gwp: AR5, source: test}
        inputs:
          - {name: Steel, stage: raw-materials, amount: 1, unit: kg, factor: my/steel}
          - {name: Grid power, stage: production, amount: 45, unit: kWh, factor: my/steel}
        """,
    )
    with pytest.raises(UnitError) as err:
        calc(path)
    msg = str(err.value)
    assert f"{path}:7" in msg
    assert "input 'Grid power'" in msg and "'kWh' (energy) cannot be converted to 'kg'" in msg


def test_declared_unit_differs_from_reference_by_conversion(write: Write) -> None:
    path = write(
        "cell.yaml",
        """
        openpcf: 1
        product:
          name: Cell
          declared_unit: {amount: 1, unit: kWh}
          reference: {amount: 10, unit: piece}
          conversion: {from: 1 piece, to: 0.896 kWh}
        factors:
          - {id: my/x, name: X, unit: kg, co2e: 10, gwp: AR5, source: test}
        inputs:
          - {name: X, stage: raw-materials, amount: 5, unit: kg, factor: my/x}
        """,
    )
    # 5 kg × 10 = 50 kg CO2e per 10 pieces = 5 per piece = 5 / 0.896 per kWh
    assert calc(path, gwp="AR5").pcf.value == pytest.approx(5 / 0.896, rel=1e-12)


def test_declared_unit_of_same_dimension_scales(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product:
          name: Cement
          declared_unit: {amount: 1, unit: t}
          reference: {amount: 500, unit: kg}
        factors:
          - {id: my/x, name: X, unit: kg, co2e: 0.4, gwp: AR5, source: test}
        inputs:
          - {name: X, stage: production, amount: 500, unit: kg, factor: my/x}
        """,
    )
    # 500 × 0.4 = 200 per 500 kg -> 400 per t
    assert calc(path, gwp="AR5").pcf.value == pytest.approx(400.0)


def test_missing_conversion_between_dimensions_is_an_error(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product:
          name: Cell
          declared_unit: {amount: 1, unit: kWh}
          reference: {amount: 1, unit: piece}
        inputs:
          - {name: X, stage: raw-materials, amount: 5, unit: kg, pcf: {value: 1, unit: kg CO2e/kg}}
        """,
    )
    with pytest.raises(UnitError, match=r"add product\.conversion"):
        calc(path)


def test_coproduct_share_allocation(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: Steel, declared_unit: {amount: 1, unit: t}}
        factors:
          - {id: my/coke, name: Coke, unit: kg, co2e: 3, gwp: AR5, source: test}
        inputs:
          - {name: Coke, stage: production, amount: 400, unit: kg, factor: my/coke}
        coproducts:
          - {name: slag, amount: 300, unit: kg, share: 0.05}
          - {name: gas, amount: 10, unit: kg, share: 0.03}
        """,
    )
    # 400 × 3 = 1200; main product carries 1 − 0.05 − 0.03 = 0.92 → 1104
    assert calc(path, gwp="AR5").pcf.value == pytest.approx(1104.0)


def test_supplier_pcf_input_converts_its_units(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, declared_unit: {amount: 1, unit: piece}}
        inputs:
          - name: Aluminium foil
            stage: raw-materials
            amount: 300
            unit: g
            pcf: {value: 12.5, unit: t CO2e/t, source: "supplier PCF urn:x", gwp: AR6}
        """,
    )
    r = calc(path, gwp="AR6")
    # 0.3 kg = 0.0003 t × 12.5 t CO2e/t = 0.00375 t = 3.75 kg
    assert r.pcf.value == pytest.approx(3.75)
    assert r.contributions[0].source == "supplier PCF urn:x"
    assert not r.warnings


def test_sub_assemblies_by_path_and_by_id(write: Write) -> None:
    write(
        "casing.yaml",
        """
        openpcf: 1
        product: {id: "urn:openpcf:product:acme:casing", name: Casing,
                  declared_unit: {amount: 1, unit: piece}}
        factors:
          - {id: acme/al, name: Aluminium, unit: kg, co2e: 16, gwp: AR5, source: test}
        inputs:
          - {name: Aluminium, stage: raw-materials, amount: 0.25, unit: kg, factor: acme/al}
        """,
    )
    write(
        "lid.yaml",
        """
        openpcf: 1
        product: {name: Lid, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: Plastic, stage: raw-materials, amount: 1, unit: kg,
             pcf: {value: 3, unit: kg CO2e/kg, gwp: AR5}}
        """,
    )
    path = write(
        "pack.yaml",
        """
        openpcf: 1
        product: {name: Pack, declared_unit: {amount: 1, unit: piece}}
        inputs:
          - {name: Casings, stage: raw-materials, amount: 4, unit: piece,
             product: "urn:openpcf:product:acme:casing"}
          - {name: Lid, stage: raw-materials, amount: 200, unit: g, product: lid.yaml}
        """,
    )
    r = calc(path, gwp="AR5")
    # casing: 0.25 × 16 = 4 per piece → 4 pieces = 16; lid: 3 per kg × 0.2 kg = 0.6
    assert by_name(r, "Casings") == pytest.approx(16.0)
    assert by_name(r, "Lid") == pytest.approx(0.6)
    assert r.pcf.value == pytest.approx(16.6)
    assert len(r.provenance.files) == 3


def test_sub_assembly_in_declared_units_via_its_conversion(write: Write) -> None:
    write(
        "cell.yaml",
        """
        openpcf: 1
        product:
          name: Cell
          declared_unit: {amount: 1, unit: kWh}
          reference: {amount: 1, unit: piece}
          conversion: {from: 1 piece, to: 0.5 kWh}
        inputs:
          - {name: X, stage: raw-materials, amount: 1, unit: kg,
             pcf: {value: 10, unit: kg CO2e/kg, gwp: AR5}}
        """,
    )
    path = write(
        "pack.yaml",
        """
        openpcf: 1
        product: {name: Pack, declared_unit: {amount: 1, unit: piece}}
        inputs:
          - {name: Cells, stage: raw-materials, amount: 2, unit: kWh, product: cell.yaml}
        """,
    )
    # 2 kWh of cells = 4 pieces × 10 = 40
    assert calc(path, gwp="AR5").pcf.value == pytest.approx(40.0)


def test_cycle_between_models_is_solved_as_linear_system(write: Write) -> None:
    write(
        "power.yaml",
        """
        openpcf: 1
        product: {name: Power, declared_unit: {amount: 1, unit: kWh}}
        inputs:
          - {name: Coal, stage: production, amount: 1, unit: kg,
             pcf: {value: 0.8, unit: kg CO2e/kg, gwp: AR5}}
          - {name: Steel for plant, stage: production, amount: 0.1, unit: kg, product: steel.yaml}
        """,
    )
    path = write(
        "steel.yaml",
        """
        openpcf: 1
        product: {name: Steel, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: Ore, stage: raw-materials, amount: 1, unit: kg,
             pcf: {value: 2, unit: kg CO2e/kg, gwp: AR5}}
          - {name: Power, stage: production, amount: 0.5, unit: kWh, product: power.yaml}
        """,
    )
    r = calc(path, gwp="AR5")
    # s = 2 + 0.5 p ; p = 0.8 + 0.1 s  →  s = 2.4 + 0.05 s  →  s = 2.4 / 0.95
    s = 2.4 / 0.95
    assert r.pcf.value == pytest.approx(s, rel=1e-12)
    assert by_name(r, "Power") == pytest.approx(0.5 * (0.8 + 0.1 * s), rel=1e-12)


def test_unproductive_cycle_is_an_error(write: Write) -> None:
    a = write(
        "a.yaml",
        """
        openpcf: 1
        product: {name: A, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: B, stage: production, amount: 2, unit: kg, product: b.yaml}
        """,
    )
    write(
        "b.yaml",
        """
        openpcf: 1
        product: {name: B, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: A, stage: production, amount: 1, unit: kg, product: a.yaml}
          - {name: X, stage: production, amount: 1, unit: kg,
             pcf: {value: 1, unit: kg CO2e/kg, gwp: AR5}}
        """,
    )
    with pytest.raises(CalculationError, match="consumes at least as much"):
        calc(a)


def test_factor_file_csv_and_yaml(write: Write) -> None:
    csv_file = write(
        "f.csv",
        """
        id,name,unit,co2e,gwp,CO2,CH4,source,year,region
        acme/glass,Flat glass,kg,1.2,AR5,,,Acme EPD 2024,2024,CN-JS
        acme/gas,Gas burner,GJ,,,56.1,0.001,IPCC 2006,2006,GLO
        """,
    )
    yaml_file = write(
        "f.yaml",
        """
        factors:
          - {id: acme/frame, name: Al frame, unit: kg, co2e: 20, gwp: AR5, source: test}
        """,
    )
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, declared_unit: {amount: 1, unit: piece}}
        inputs:
          - {name: Glass, stage: raw-materials, amount: 10, unit: kg, factor: acme/glass}
          - {name: Gas, stage: production, amount: 2, unit: GJ, factor: acme/gas}
          - {name: Frame, stage: raw-materials, amount: 1, unit: kg, factor: acme/frame}
        """,
    )
    r = calc(path, gwp="AR5", factors=(csv_file, yaml_file))
    # 10 × 1.2 = 12 ; 2 × (56.1 + 0.001 × 28) = 112.256 ; 20
    assert r.pcf.value == pytest.approx(12 + 112.256 + 20)
    assert any(s.startswith("file:f.csv@") for s in r.provenance.factor_sets)


def test_duplicate_factor_id_is_an_error_unless_overridden(write: Write) -> None:
    dup = write(
        "dup.csv",
        """
        id,name,unit,co2e,gwp,source
        cn-mee-efp/CN@2023,My electricity,kWh,0.5,AR5,my meter
        """,
    )
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: Power, stage: production, amount: 10, unit: kWh, factor: cn-mee-efp/CN@2023}
        """,
    )
    with pytest.raises(FactorError) as err:
        calc(path, factors=(dup,))
    assert f"{dup}:2" in str(err.value) and "override: true" in str(err.value)

    over = write(
        "over.csv",
        """
        id,name,unit,co2e,gwp,source,override
        cn-mee-efp/CN@2023,My electricity,kWh,0.5,AR5,my meter,true
        """,
    )
    assert calc(path, gwp="AR5", factors=(over,)).pcf.value == pytest.approx(5.0)


def test_inline_factor_duplicating_bundled_id_is_an_error(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, declared_unit: {amount: 1, unit: kg}}
        factors:
          - {id: cn-mee-grid/CN-JS@2023, name: X, unit: kWh, co2e: 1, source: test}
        inputs:
          - {name: Power, stage: production, amount: 10, unit: kWh, factor: cn-mee-grid/CN-JS@2023}
        """,
    )
    with pytest.raises(FactorError) as err:
        calc(path)
    assert f"{path}:4" in str(err.value)
    assert "already defined in openpcf-bundled" in str(err.value)


def test_unknown_factor_suggests_close_ids(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: Power, stage: production, amount: 10, unit: kWh, factor: cn-mee-grid/CN-JS@2032}
        """,
    )
    with pytest.raises(FactorError) as err:
        calc(path)
    msg = str(err.value)
    assert f"{path}:4" in msg and "inputs[0].factor" in msg
    assert "unknown factor 'cn-mee-grid/CN-JS@2032'" in msg and "cn-mee-grid/CN-JS@2023" in msg


def test_conversion_is_used_even_within_one_dimension(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product:
          name: Dry sludge
          declared_unit: {amount: 1, unit: t}
          reference: {amount: 1, unit: t}
          conversion: {from: 1 t, to: 0.4 t}  # 1 t as produced is 0.4 t dry
        inputs:
          - {name: X, stage: production, amount: 1, unit: kg,
             pcf: {value: 100, unit: kg CO2e/kg, gwp: AR5}}
        """,
    )
    # 100 kg CO2e per t wet; 1 t dry = 2.5 t wet → 250
    assert calc(path, gwp="AR5").pcf.value == pytest.approx(250.0)


def test_named_emissions_and_notes_said_once(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, rule: cement, declared_unit: {amount: 1, unit: t}}
        inputs:
          - {name: Power A, stage: production, amount: 1, unit: kWh, electricity: {region: CN-JS, year: 2023}}
          - {name: Power B, stage: production, amount: 1, unit: kWh, electricity: {region: CN-JS, year: 2023}}
        emissions:
          - {name: limestone calcination, gas: CO2, amount: 500, unit: kg}
          - {name: kiln fuel, gas: CO2, amount: 300, unit: kg}
        coproducts:
          - {name: dust, amount: 1, unit: kg, share: 0.01, mass: {amount: 1, unit: kg}}
        """,
    )
    r = calc(path, gwp="AR5")
    # (2 × 0.6205 + 800) × 0.99
    assert r.pcf.value == pytest.approx((2 * 0.6205 + 800) * 0.99)
    assert by_name(r, "limestone calcination") == pytest.approx(495.0)
    codes = [n.code for n in r.warnings]
    assert sorted(codes) == ["GWP_BASIS", "NATIONAL_ELECTRICITY_FOOTPRINT"]
    assert r.allocation == "stated shares" and r.rule == "cement"
    [basis] = [n for n in r.warnings if n.code == "GWP_BASIS"]
    assert basis.input == "Power A; Power B"
