"""Product model inputs drawn from a background database: `process: DB/UUID` or `DB/name`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from openpcf.domain.errors import DatabaseError, ModelError, UnitError
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project
from openpcf.services.lci.databases import find_process, footprints, import_database, open_database
from tests import lci_data as data

Write = Callable[[str, str], Path]
STEEL = data.uid("process/steel production")


@pytest.fixture(autouse=True)
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    import_database(data.write_jsonld(tmp_path / "tiny.zip"), "tiny")


def model(inputs: str) -> str:
    return f"""
        openpcf: 1
        product: {{name: Bracket, declared_unit: {{amount: 1, unit: piece}}}}
        inputs:
{inputs}
        """


def test_amount_in_the_process_unit_times_its_cradle_to_gate_inventory(write: Write) -> None:
    path = write("m.yaml", model(f"""
          - {{name: Steel, stage: raw-materials, amount: 500, unit: g, process: "tiny/{STEEL}"}}
          - {{name: Haulage, stage: distribution, amount: 2, unit: tkm, process: "tiny/truck B"}}
    """))  # fmt: skip
    result = calculate(load_project(path))  # gb-t-24067: AR5
    db = open_database("tiny")
    ar5 = footprints(db, "AR5").kg_co2e
    steel = ar5[find_process(db, STEEL).index]
    assert result.pcf.value == pytest.approx(0.5 * steel + 2 * 0.2, rel=1e-12)
    by_name = {c.name: c for c in result.contributions}
    assert by_name["Haulage"].kg_co2e == pytest.approx(0.4)  # 2 t*km × 0.2 kg CO2
    assert by_name["Steel"].kind == "process"
    assert by_name["Steel"].source == f"tiny@1/{STEEL} (steel production)"
    assert "tiny@1" in result.provenance.factor_sets
    assert result.inventory["N2O"] == pytest.approx(0.5 * 0.1e-3)  # direct N2O of the steel


def test_pinned_version_and_biogenic_removals_under_a_profile(write: Write) -> None:
    refinery = f"{data.uid('process/refinery')}/{data.uid('flow/diesel')}"
    path = write("m.yaml", model(f"""
          - {{name: Diesel, stage: raw-materials, amount: 1, unit: kg, process: "tiny@1/{refinery}"}}
    """))  # fmt: skip
    result = calculate(load_project(path), profile="pact-v3")
    assert result.inventory["CO2 (biogenic)"] == pytest.approx(-0.1)
    assert result.excluded["biogenic CO2"] == pytest.approx(-0.1)  # PACT: not in the headline


@pytest.mark.parametrize(
    ("ref", "unit", "error", "says"),
    [
        (f"tiny/{STEEL}", "kWh", UnitError, "against process 'steel production' (per kg of steel)"),
        ("tiny/refinery", "kg", DatabaseError, "matches 2 processes in tiny@1"),
        ("tiny/stell production", "kg", DatabaseError, "close matches: 'steel production'"),
        ("nowhere/x", "kg", DatabaseError, "no background database 'nowhere'; databases: tiny"),
        ("tiny@7/x", "kg", DatabaseError, "has no version 7; versions: 1"),
        ("tiny", "kg", DatabaseError, "must be 'DATABASE/UUID'"),
    ],
)
def test_errors_name_the_input_line(
    write: Write, ref: str, unit: str, error: type, says: str
) -> None:
    path = write("m.yaml", model(f"""
          - {{name: Steel, stage: raw-materials, amount: 1, unit: {unit}, process: "{ref}"}}
    """))  # fmt: skip
    with pytest.raises(error) as caught:
        calculate(load_project(path))
    assert says in str(caught.value)
    assert f"{path}:5" in str(caught.value)


def test_exactly_one_source_still_holds(write: Write) -> None:
    path = write("m.yaml", model(f"""
          - {{name: S, stage: raw-materials, amount: 1, unit: kg, factor: x, process: "tiny/{STEEL}"}}
    """))  # fmt: skip
    with pytest.raises(ModelError, match=r"exactly one of .*process"):
        load_project(path)
