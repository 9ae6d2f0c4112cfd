"""The bundled factor set: traceable to shared/data, electricity resolution, flags, search."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from openpcf.domain.errors import FactorError
from openpcf.factors.bundled import bundled_set, gwp_table
from openpcf.factors.catalogue import Catalogue
from openpcf.factors.electricity import resolve_electricity
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project

from .conftest import REPO
from .shared import shared_path

Write = Callable[[str, str], Path]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.of([bundled_set()])


def shared_rows(name: str) -> list[dict[str, str]]:
    with shared_path("data", name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_bundled_files_are_exactly_what_shared_data_builds() -> None:
    shared_rows("gwp.csv")  # skips without shared/
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("build", REPO / "scripts" / "build_factor_set.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    factor_set, gwp = build.build(shared_path("data"))
    data = REPO / "src" / "openpcf" / "factors" / "data"
    assert json.loads((data / "openpcf-bundled.json").read_text("utf-8")) == factor_set
    assert json.loads((data / "gwp.json").read_text("utf-8")) == gwp
    cbam = build.cbam_defaults(shared_path("data"))
    assert json.loads((data / "cbam-defaults.json").read_text("utf-8")) == cbam
    assert len(cbam["defaults"]) == len(shared_rows("cbam_defaults.csv"))


def test_every_factor_carries_its_provenance() -> None:
    fs = bundled_set()
    assert fs.label == "openpcf-bundled@2026.1"
    assert len(fs.factors) > 150
    for f in fs.factors:
        assert f.source and f.publisher and f.year and f.region and f.unit and f.version, f.id


def test_grid_values_match_the_shared_table(catalogue: Catalogue) -> None:
    rows = shared_rows("china_grid_factors.csv")
    jiangsu = {r["year"]: float(r["value"]) for r in rows if r["region"] == "江苏"}
    for year, value in jiangsu.items():
        assert catalogue.get(f"cn-mee-grid/CN-JS@{year}").gases == {"CO2": value}
    # 2023 Jiangsu: 0.5827 kgCO2/kWh (MEE/NBS announcement 2025 No. 47)
    assert catalogue.get("cn-mee-grid/CN-JS@2023").gases == {"CO2": 0.5827}


def test_gwp_table_is_the_spec_pages_values() -> None:
    t = gwp_table()
    assert t.values["AR5"]["CH4"] == 28 and t.values["AR5"]["N2O"] == 265
    assert t.values["AR6"]["CH4"] == 29.8 and t.ch4_non_fossil["AR6"] == 27.0
    assert t.values["AR6"]["N2O"] == 273


def test_footprint_basis_falls_back_to_national_and_says_so(catalogue: Catalogue) -> None:
    r = resolve_electricity(catalogue, "CN-JS", 2023, "footprint")
    assert r.factor.id == "cn-mee-efp/CN@2023"
    assert r.factor.co2e == 0.6205  # 2023 national electricity carbon footprint factor
    assert r.code == "NATIONAL_ELECTRICITY_FOOTPRINT" and "CN-JS" in (r.note or "")
    assert resolve_electricity(catalogue, "CN", 2024, "footprint").factor.co2e == 0.5777


def test_grid_basis_uses_the_province(catalogue: Catalogue) -> None:
    r = resolve_electricity(catalogue, "cn-gd", 2022, "grid-co2")
    assert r.factor.id == "cn-mee-grid/CN-GD@2022" and r.note is None
    assert r.factor.gases == {"CO2": 0.4403}


def test_grid_basis_without_provincial_value_warns_and_uses_national(catalogue: Catalogue) -> None:
    r = resolve_electricity(catalogue, "CN-XZ", 2023, "grid-co2")  # MEE publishes none for Tibet
    assert r.factor.id == "cn-mee-grid/CN@2023" and r.factor.gases == {"CO2": 0.5306}
    assert r.code == "GRID_NATIONAL_FALLBACK"


def test_year_without_value_lists_the_years_that_exist(catalogue: Catalogue) -> None:
    with pytest.raises(FactorError, match="for 2019; years that exist: 2023, 2024"):
        resolve_electricity(catalogue, "CN-JS", 2019, "footprint")
    with pytest.raises(FactorError, match="years that exist: 2021, 2022, 2023"):
        resolve_electricity(catalogue, "CN-JS", 2024, "grid-co2")


def test_unknown_region_is_an_error(catalogue: Catalogue) -> None:
    with pytest.raises(FactorError, match="not an ISO 3166-2 province code"):
        resolve_electricity(catalogue, "CN-XX", 2023, "grid-co2")
    with pytest.raises(FactorError, match="covers China only"):
        resolve_electricity(catalogue, "DE", 2023, "grid-co2")


def test_flagged_values_carry_their_flag(catalogue: Catalogue) -> None:
    # china_electricity_cf_factors.csv marks the 2023 coal-fired value "VERIFY"
    assert catalogue.get("cn-mee-efp/coal@2023").flags == ("VERIFY",)
    # china_fuel_defaults_unverified.csv is a single unverified transcription
    assert catalogue.get("ipcc2006-cn-ncv/bituminous-coal").flags == ("UNVERIFIED",)
    assert catalogue.get("cn-mee-efp/CN@2023").flags == ()


def test_fuel_factor_combines_ipcc_and_chinese_ncv(catalogue: Catalogue) -> None:
    f = catalogue.get("ipcc2006-cn-ncv/bituminous-coal")
    # IPCC other bituminous coal 94 600 kg CO2/TJ, 1 kg CH4/TJ, 1.5 kg N2O/TJ; NCV 23.204 GJ/t
    assert f.unit == "t"
    assert f.gases == pytest.approx({"CO2": 94600 * 0.023204, "CH4": 0.023204, "N2O": 0.034806})
    gas = catalogue.get("cn-ndrc-fuel/natural-gas")
    # 389.31 GJ/10^4 Nm3 × 0.01530 tC/GJ × 99% × 44/12, per Nm3 in kg
    assert gas.gases == pytest.approx({"CO2": 389.31e-4 * 15.30 * 0.99 * 44 / 12})


def test_flag_reaches_the_result(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, declared_unit: {amount: 1, unit: t}}
        inputs:
          - {name: Coal, stage: production, amount: 0.1, unit: t,
             factor: ipcc2006-cn-ncv/bituminous-coal}
        """,
    )
    r = calculate(load_project(path), gwp="AR5")
    assert r.contributions[0].flags == ("UNVERIFIED",)
    assert [w.code for w in r.warnings] == ["FLAGGED_FACTOR"]
    assert r.factors[0].flags == ("UNVERIFIED",)


def test_electricity_input_defaults_to_product_region_and_year(write: Write) -> None:
    path = write(
        "m.yaml",
        """
        openpcf: 1
        product: {name: M, declared_unit: {amount: 1, unit: kg}, region: CN-SC, year: 2022}
        inputs:
          - {name: Power, stage: production, amount: 100, unit: kWh,
             electricity: {basis: grid-co2}}
          - {name: Power LCA, stage: production, amount: 100, unit: MWh,
             electricity: {region: CN, year: 2024}}
        """,
    )
    r = calculate(load_project(path), gwp="AR5")
    # Sichuan 2022 grid 0.1404 kgCO2/kWh × 100; national 2024 footprint 0.5777 × 100 000 kWh
    assert r.pcf.value == pytest.approx(14.04 + 57770.0)
    assert r.inventory["CO2"] == pytest.approx(14.04)


def test_search_list_show(catalogue: Catalogue) -> None:
    found = catalogue.search("jiangsu 2023")
    assert [f.id for f in found] == ["cn-mee-grid/CN-JS@2023"]
    listed = catalogue.in_region("CN-JS")
    assert {f.id for f in listed} == {f"cn-mee-grid/CN-JS@{y}" for y in (2021, 2022, 2023)}
    assert catalogue.search("natural gas")
