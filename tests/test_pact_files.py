"""PACT v3.0 / v2.3 footprints: export of a result, validation, import as a `pcf:` input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from openpcf.domain.model import DataQuality
from openpcf.domain.result import DeclaredUnit
from openpcf.io.pact import PactError, rating_of_v2_dqr, v2_dqr
from openpcf.io.pact.export import declared_unit_for
from openpcf.io.pact.schema import (
    PACT_VERSIONS,
    schema_errors,
)
from openpcf.io.pact.supplier import read_footprints, supplier_footprint
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project
from openpcf.services.exchange.files import export_pact, import_into, input_from_pact

from .cli_runner import openpcf as _openpcf

Write = Callable[[str, str], Path]
SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs" / "pact"
needs_specs = pytest.mark.skipif(
    not SPECS.is_dir(), reason=f"the PACT spec files are not at {SPECS} (shared/ is absent)"
)

# One tonne of a wood-plastic pellet, numbers chosen to be checked by hand (AR6 under pact-v3):
#   resin        600 kg × 2.0            = 1200 kg CO2e fossil   (primary, dq all 1)
#   wood flour   400 kg × 0.1 (land-use) =   40 kg CO2e land use (dq all 5)
#   fossil CO2   20 kg                   =   20
#   biogenic CH4 1 kg × 27.0 (AR6, non-fossil) = 27 biogenic non-CO2
#   biogenic CO2 -500 kg stored in the product: uptake, not in the headline
#   transport to the customer 100 t*km × 0.1 = 10: distribution, outside pact-v3's total
# headline = 1220 fossil + 40 + 27 = 1287; including uptake 1287 - 500 = 787.
PELLET = """
openpcf: 1
product:
  id: urn:openpcf:product:test:pellet
  name: Wood-plastic pellet
  declared_unit: {amount: 1, unit: t}
  region: CN-JS
  year: 2024
factors:
  - {id: my/resin, name: Resin, unit: kg, co2e: 2.0, gwp: AR6, source: test}
  - {id: my/truck, name: Truck, unit: t*km, co2e: 0.1, gwp: AR6, source: test}
inputs:
  - {name: Resin, stage: raw-materials, amount: 600, unit: kg, factor: my/resin, primary: true,
     dq: {technological: 1, geographical: 1, temporal: 1, completeness: 1, reliability: 1}}
  - {name: Wood flour, stage: raw-materials, amount: 400, unit: kg,
     pcf: {value: 0.1, unit: kg CO2e/kg, gwp: AR6, origin: land-use},
     dq: {technological: 5, geographical: 5, temporal: 5, completeness: 5, reliability: 5}}
  - {name: Transport to customer, stage: distribution, amount: 100, unit: t*km, factor: my/truck}
emissions:
  - {gas: CO2, amount: 20, unit: kg}
  - {gas: CH4, amount: 1, unit: kg, origin: biogenic}
  - {gas: CO2, amount: -500, unit: kg, origin: biogenic}
"""
CONTEXT = """
company_name: Acme Pellets Ltd
company_ids: [urn:uuid:3f1c2a9e-2b1f-4c55-9a7e-3c1d2e4f5a6b]
product_classifications: [urn:pact:productclassification:un-cpc:3694]
validity_period_end: 2027-12-31T00:00:00Z
fossil_carbon_content: 510
biogenic_carbon_content: 136.4
packaging_emissions_included: false
created: 2025-06-01T08:00:00Z
"""


# ------------------------------------------------------------------ schemas and spec examples


def _target(doc: dict) -> str:
    if "specversion" in doc:
        return "Event"
    if "code" in doc and "message" in doc:
        return "Error"
    if "data" in doc:
        return "ListFootprintsResponse" if isinstance(doc["data"], list) else "GetFootprintResponse"
    return "ProductFootprint"


#: Every example of the spec is valid, except v2's invalid-response-all-properties.json, whose
#: `updated` ('2023-1-08T14:47:32Z') is not an RFC 3339 date-time. (v3's file of that name
#: carries the same date in `updated`, which v3 no longer defines, so its schema lets it pass.)
EXPECTED_ERRORS = {
    ("2", "invalid-response-all-properties.json"): [
        "data[0].updated: '2023-1-08T14:47:32Z' is not a 'date-time'"
    ],
}


@needs_specs
@pytest.mark.parametrize("version", PACT_VERSIONS)
def test_the_spec_examples_validate_as_documented(version: str) -> None:
    examples = sorted((SPECS / f"v{version}" / "examples").glob("*.json"))
    assert examples
    for path in examples:
        doc = json.loads(path.read_text("utf-8"))
        errors = schema_errors(doc, version, _target(doc))
        assert errors == EXPECTED_ERRORS.get((version, path.name), []), path.name


def test_schema_catches_a_broken_footprint() -> None:
    errors = schema_errors({"id": "not-a-uuid", "specVersion": "3"}, "3")
    assert "id: 'not-a-uuid' is not a 'uuid'" in errors
    assert any("'companyName' is a required property" in e for e in errors)
    assert any(e.startswith("specVersion: ") for e in errors)


# ----------------------------------------------------------------------------- export


@pytest.fixture
def pellet(write: Write) -> tuple[Path, Path]:
    return write("pellet.yaml", PELLET), write("context.yaml", CONTEXT)


def test_v3_export_maps_every_part_of_the_result(pellet: tuple[Path, Path]) -> None:
    model, context = pellet
    pf = export_pact(model, context_file=context).document
    assert schema_errors(pf, "3") == []
    assert pf["specVersion"] == "3.0.3" and pf["status"] == "Active"
    assert pf["companyName"] == "Acme Pellets Ltd"
    assert pf["productIds"] == ["urn:openpcf:product:test:pellet"]
    assert pf["productNameCompany"] == "Wood-plastic pellet"
    assert pf["created"] == "2025-06-01T08:00:00Z"
    assert pf["validityPeriodEnd"] == "2027-12-31T00:00:00Z"
    cf = pf["pcf"]
    # 1 t declared unit = 1000 kilogram; v3 values are per the whole declared unit.
    assert cf["declaredUnitOfMeasurement"] == "kilogram"
    assert cf["declaredUnitAmount"] == "1000"
    assert cf["productMassPerDeclaredUnit"] == "1000"
    assert cf["pcfExcludingBiogenicUptake"] == "1287"  # 1220 + 40 + 27
    assert cf["pcfIncludingBiogenicUptake"] == "787"  # 1287 - 500
    assert cf["fossilGhgEmissions"] == "1220"  # 1200 + 20
    assert cf["landUseChangeGhgEmissions"] == "40"
    assert cf["biogenicNonCO2Emissions"] == "27"  # 1 kg CH4 × 27.0
    assert cf["biogenicCO2Uptake"] == "-500"
    assert cf["outboundLogisticsGhgEmissions"] == "10"  # 100 t*km × 0.1
    assert cf["fossilCarbonContent"] == "510" and cf["biogenicCarbonContent"] == "136.4"
    assert cf["packagingEmissionsIncluded"] is False
    assert cf["ipccCharacterizationFactors"] == ["AR6"]
    assert cf["crossSectoralStandards"] == ["PACT-3.0"]
    assert cf["geographyCountrySubdivision"] == "CN-JS"
    assert cf["referencePeriodStart"] == "2024-01-01T00:00:00Z"
    assert cf["referencePeriodEnd"] == "2025-01-01T00:00:00Z"
    # primary: resin 1200 + direct emissions 20 + 27 of 1287
    assert float(cf["primaryDataShare"]) == pytest.approx(100 * 1247 / 1287, abs=1e-4)
    # weighted by contribution: (1200 × 1 + 40 × 5) / 1240 = 1.129…; v3 keeps the 1-5 scale
    assert cf["dqi"] == {"technologicalDQR": "1.13", "geographicalDQR": "1.13",
                         "temporalDQR": "1.13"}  # fmt: skip
    assert "distribution" in cf["boundaryProcessesDescription"]
    assert cf["exemptedEmissionsPercent"] == "0"


def test_v2_export_is_per_one_declared_unit_with_dqrs_on_its_1_to_3_scale(
    pellet: tuple[Path, Path],
) -> None:
    model, context = pellet
    pf = export_pact(model, version="2", context_file=context).document
    assert schema_errors(pf, "2") == []
    assert pf["specVersion"] == "2.3.3" and pf["version"] == 0
    assert pf["productCategoryCpc"] == "3694"  # from the un-cpc classification
    cf = pf["pcf"]
    assert cf["declaredUnit"] == "kilogram" and cf["unitaryProductAmount"] == "1000"
    assert cf["pCfExcludingBiogenic"] == "1.287"  # 1287 / 1000 kg
    assert cf["pCfIncludingBiogenic"] == "0.787"
    assert cf["fossilGhgEmissions"] == "1.22"
    assert cf["dLucGhgEmissions"] == "0.04"
    assert cf["otherBiogenicGhgEmissions"] == "0.027"
    assert cf["biogenicCarbonWithdrawal"] == "-0.5"
    assert cf["productMassPerDeclaredUnit"] == "1"
    assert cf["characterizationFactors"] == "AR6"
    assert cf["crossSectoralStandardsUsed"] == ["GHG Protocol Product standard",
                                                "ISO Standard 14067"]  # fmt: skip
    # 1 + (1.129 - 1) / 2 = 1.065 -> 1.06; coverage 1240 / 1287 = 96.35 %
    assert cf["dqi"]["technologicalDQR"] == 1.06
    assert cf["dqi"]["coveragePercent"] == 96.35
    assert cf["exemptedEmissionsPercent"] == 0.0


def test_v2_dqr_conversion_keeps_the_ends_of_the_scales() -> None:
    assert [v2_dqr(r) for r in (1, 2, 3, 4, 5)] == [1.0, 1.5, 2.0, 2.5, 3.0]
    assert [rating_of_v2_dqr(d) for d in (1.0, 1.6, 2.0, 2.6, 3.0)] == [1, 2, 3, 4, 5]


def test_export_refuses_a_result_that_counts_stages_beyond_the_gate(
    pellet: tuple[Path, Path],
) -> None:
    model, context = pellet
    with pytest.raises(PactError, match=r"cradle-to-gate.*distribution"):
        export_pact(model, profile="gb-t-24067", context_file=context)


def test_export_under_a_profile_counting_biogenic_co2_keeps_the_pact_headline(
    write: Write,
) -> None:
    model = write("m.yaml", PELLET.replace(
        "  - {name: Transport to customer, stage: distribution, amount: 100, unit: t*km, "
        "factor: my/truck}\n", ""))  # fmt: skip
    exported = export_pact(model, profile="iso-14067")
    cf = exported.document["pcf"]
    # iso-14067 (AR6) counts the -500 kg biogenic CO2 in its total (787); PACT's headline not.
    assert cf["pcfExcludingBiogenicUptake"] == "1287"
    assert cf["crossSectoralStandards"] == ["ISO14067"]
    assert any("differs from the result's total" in n for n in exported.notes)


def test_v2_needs_a_cpc_code(pellet: tuple[Path, Path]) -> None:
    model, _ = pellet
    with pytest.raises(PactError, match="productCategoryCpc"):
        export_pact(model, version="2")


def test_declared_units_map_to_pact_units() -> None:
    def du(unit: str, amount: float = 1, version: str = "3") -> tuple[str, float]:
        return declared_unit_for(DeclaredUnit(amount=amount, unit=unit), version)  # type: ignore[arg-type]

    assert du("t") == ("kilogram", 1000)
    assert du("kg", 1000) == ("kilogram", 1000)
    assert du("MWh") == ("kilowatt hour", 1000)
    assert du("GJ") == ("megajoule", pytest.approx(1000))
    assert du("m3") == ("cubic meter", 1)
    assert du("ml") == ("liter", pytest.approx(0.001))
    assert du("tkm") == ("ton kilometer", 1)
    assert du("m2") == ("square meter", 1)
    assert du("piece") == ("piece", 1)
    with pytest.raises(PactError, match="cannot express the declared unit 'piece'"):
        du("piece", version="2")
    with pytest.raises(PactError, match="'Nm3'"):
        du("Nm3")


# ----------------------------------------------------------------------------- import


@needs_specs
def test_v3_example_becomes_a_pcf_with_its_provenance() -> None:
    [(version, pf)] = read_footprints(SPECS / "v3" / "examples" / "example-1.json")
    sf = supplier_footprint(version, pf)
    assert sf.pcf.value == pytest.approx(0.384)  # pcfExcludingBiogenicUptake / 1 kilogram
    assert sf.pcf.unit == "kg CO2e/kg" and sf.unit == "kg"
    assert sf.pcf.gwp == "AR6" and sf.pcf.origin == "fossil"  # fossil 0.35 is the largest part
    assert sf.pcf.pact_id == "12345678-9abc-def0-1234-567812345678"
    assert sf.pcf.company == "Company 1" and sf.pcf.spec_version == "3.0.0"
    assert str(sf.pcf.valid_until) == "2027-12-31"
    assert sf.dq is None and any("three DQRs" in n for n in sf.notes)


@needs_specs
def test_v2_response_body_becomes_a_pcf_per_one_declared_unit() -> None:
    [(version, pf)] = read_footprints(SPECS / "v2" / "examples" / "get-footprint-response.json")
    assert version == "2"
    sf = supplier_footprint(version, pf)
    assert sf.pcf.value == pytest.approx(1.63) and sf.pcf.unit == "kg CO2e/l"
    assert sf.pcf.version == 1 and str(sf.pcf.valid_until) == "2024-12-31"
    # DQRs 1.6, 2.6, 1.8, 1.7, 2.1 on 1-3 -> round(1 + 2 (d - 1)) on 1-5
    assert sf.dq == DataQuality(technological=2, temporal=4, geographical=3, completeness=2,
                                reliability=3)  # fmt: skip


@needs_specs
def test_an_invalid_footprint_is_refused_with_the_schema_error() -> None:
    path = SPECS / "v2" / "examples" / "invalid-response-all-properties.json"
    with pytest.raises(PactError, match="updated: '2023-1-08T14:47:32Z' is not a 'date-time'"):
        read_footprints(path)


@pytest.mark.parametrize("version", PACT_VERSIONS)
def test_round_trip_model_result_pact_pcf_input_gives_the_same_kg_co2e(
    pellet: tuple[Path, Path], write: Write, tmp_path: Path, version: str
) -> None:
    model, context = pellet
    pf = export_pact(model, version=version, context_file=context).document
    file = tmp_path / f"pellet-v{version}.json"
    file.write_text(json.dumps({"data": [pf]}), encoding="utf-8")
    buyer = write(
        "buyer.yaml",
        """
        openpcf: 1
        product: {name: Decking board, declared_unit: {amount: 1, unit: t}, year: 2025}
        inputs:
          - {name: Glue, stage: production, amount: 1, unit: kg, pcf: {value: 3, unit: kg CO2e/kg}}
    """,
    )
    imported = input_from_pact(file, amount=2, unit="t", name="Pellets")
    assert imported.entry["pcf"]["pact_id"] == pf["id"]
    import_into(buyer, imported)
    result = calculate(load_project(buyer), profile="pact-v3")
    # 2 t of pellets at 1287 kg CO2e/t, plus 3 kg CO2e of glue
    assert result.pcf.value == pytest.approx(2 * 1287 + 3, rel=1e-9)
    pellets = next(c for c in result.contributions if c.name == "Pellets")
    assert pellets.kg_co2e == pytest.approx(2574, rel=1e-9)
    assert result.primary_data_share == pytest.approx(100 * 2574 / 2577)


def test_import_into_a_model_keeps_its_comments_and_layout(
    pellet: tuple[Path, Path], write: Write, tmp_path: Path
) -> None:
    model, context = pellet
    file = tmp_path / "pf.json"
    file.write_text(json.dumps(export_pact(model, context_file=context).document), "utf-8")
    text = """
        # Decking board, per tonne
        openpcf: 1
        product: {name: Decking board, declared_unit: {amount: 1, unit: t}}
        inputs:
          # the glue is bought in drums
          - name: Glue
            stage: production
            amount: 1
            unit: kg
            pcf: {value: 3, unit: kg CO2e/kg}  # supplier sheet 2024

        # fugitive losses
        emissions:
          - {gas: CH4, amount: 0.01, unit: kg}
    """
    target = write("deck.yaml", text)
    before = target.read_text("utf-8")
    import_into(target, input_from_pact(file, amount=950, unit="kg", stage="raw-materials"))
    after = target.read_text("utf-8")
    head, _, tail = before.partition("\n\n# fugitive losses")
    assert after.startswith(head + "\n") and after.endswith("\n# fugitive losses" + tail)
    added = after[len(head) + 1 : -len("\n# fugitive losses" + tail)]
    assert added.splitlines()[0].startswith("  # from PACT 3.0.3 footprint")
    entry = yaml.safe_load(added)[0]
    assert entry["amount"] == 950 and entry["unit"] == "kg" and entry["stage"] == "raw-materials"
    assert entry["pcf"]["value"] == pytest.approx(1.287)
    assert entry["pcf"]["company"] == "Acme Pellets Ltd"
    assert entry["pcf"]["valid_until"] == "2027-12-31"
    assert calculate(load_project(target)).pcf.value == pytest.approx(950 * 1.287 + 3 + 0.01 * 28)


def test_a_file_of_several_footprints_needs_an_id(
    pellet: tuple[Path, Path], tmp_path: Path
) -> None:
    model, context = pellet
    a = export_pact(model, context_file=context).document
    b = {**a, "id": "0b8f9c5e-1f2a-4b3c-8d4e-5f6a7b8c9d0e", "productNameCompany": "Other"}
    file = tmp_path / "two.json"
    file.write_text(json.dumps({"data": [a, b]}), "utf-8")
    with pytest.raises(PactError, match="holds 2 footprints; pick one with --id"):
        input_from_pact(file)
    assert input_from_pact(file, pf_id=b["id"]).entry["name"] == "Other"


def test_unit_of_a_different_dimension_is_refused(
    pellet: tuple[Path, Path], tmp_path: Path
) -> None:
    model, context = pellet
    file = tmp_path / "pf.json"
    file.write_text(json.dumps(export_pact(model, context_file=context).document), "utf-8")
    with pytest.raises(Exception, match="cannot be converted"):
        input_from_pact(file, amount=1, unit="kWh")


# -------------------------------------------------------------------------------- CLI


def test_cli_exports_and_imports_pact(pellet: tuple[Path, Path], tmp_path: Path) -> None:
    model, context = pellet
    out = tmp_path / "pellet.json"
    run = _openpcf("export", "pact", str(model), "--context", str(context), "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert schema_errors(json.loads(out.read_text("utf-8")), "3") == []
    run = _openpcf("export", "pact", str(model), "--version", "2", "--context", str(context))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["pcf"]["pCfExcludingBiogenic"] == "1.287"
    run = _openpcf("export", "pact", str(model), "--profile", "gb-t-24067")
    assert run.returncode == 1 and "cradle-to-gate" in run.stderr
    run = _openpcf("import", "pact", str(out), "--amount", "0.5", "--unit", "t")
    assert run.returncode == 0, run.stderr
    printed = yaml.safe_load(run.stdout)
    assert printed["inputs"][0]["pcf"]["unit"] == "kg CO2e/kg"
    assert printed["inputs"][0]["amount"] == 0.5 and printed["inputs"][0]["unit"] == "t"
