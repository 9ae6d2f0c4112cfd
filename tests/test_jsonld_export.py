"""openLCA JSON-LD export: the zip reads back with olca-schema, and model -> JSON-LD -> model
keeps every input's amount and unit (and so the footprint)."""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import olca_schema as o
import olca_schema.zipio as zipio
import pytest
import yaml

from openpcf.domain.result import Result
from openpcf.io.olca_jsonld_export import write_jsonld
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project

from .cli_runner import openpcf_exe

Write = Callable[[str, str], Path]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _export(model: Path, out: Path, profile: str = "gb-t-24067") -> Result:
    project = load_project(model)
    result = calculate(project, profile=profile)
    keys = [m.model.product.id or m.path.name for m in project.models]
    write_jsonld(out, [m.model for m in project.models], project.links, result, keys)
    return result


def _models_from_jsonld(path: Path) -> dict[str, dict]:
    """The small reverse mapping: each process back to a product-model document (without the
    inline factor list, whose values JSON-LD does not carry)."""
    with zipio.ZipReader(path) as reader:
        processes = list(reader.read_each(o.Process))
        systems = list(reader.read_each(o.ProductSystem))
    file_of = {p.id: f"{p.id}.yaml" for p in processes}
    docs: dict[str, dict] = {}
    target = {s.ref_process.id: s for s in systems}
    for p in processes:
        ref = next(e for e in p.exchanges if e.is_quantitative_reference)
        product: dict = {"name": p.name, "reference": {"amount": ref.amount, "unit": ref.unit.name}}
        if p.id in target:
            s = target[p.id]
            product["declared_unit"] = {"amount": s.target_amount, "unit": s.target_unit.name}
        else:
            product["declared_unit"] = dict(product["reference"])
        inputs, emissions = [], []
        for e in p.exchanges:
            if e.is_input:
                name, _, note = e.description.partition("\nopenpcf: ")
                data = json.loads(note)
                if e.default_provider is not None:
                    data["product"] = file_of[e.default_provider.id]
                inputs.append({"name": name.rsplit(" (", 1)[0], **data, "amount": e.amount,
                               "unit": e.unit.name})  # fmt: skip
            elif not e.is_quantitative_reference and e.flow.ref_type == o.RefType.Flow:
                gas_name = e.flow.name
                emissions.append({"gas_flow": gas_name, "amount": e.amount, "unit": e.unit.name})
        docs[p.id] = {"openpcf": 1, "product": product, "inputs": inputs, "emissions": emissions}
    return docs


_GASES = {"Carbon dioxide": "CO2", "Methane": "CH4", "Dinitrogen monoxide": "N2O"}
_ORIGINS = {"fossil": "fossil", "non-fossil": "biogenic", "from soil or biomass stock": "land-use"}


def _emission(e: dict) -> dict:
    gas, origin = e["gas_flow"].split(", ", 1)
    return {"gas": _GASES[gas], "origin": _ORIGINS[origin], "amount": e["amount"],
            "unit": e["unit"], "stage": "production"}  # fmt: skip


def test_lfp_cell_zip_reads_back_with_processes_linked_to_the_sub_assembly(
    tmp_path: Path,
) -> None:
    out = tmp_path / "cell.zip"
    result = _export(EXAMPLES / "lfp-cell.yaml", out)
    with zipio.ZipReader(out) as reader:
        processes = {p.name: p for p in reader.read_each(o.Process)}
        [system] = list(reader.read_each(o.ProductSystem))
        [res] = list(reader.read_each(o.Result))
        groups = {g.name: g for g in reader.read_each(o.UnitGroup)}
        flows = {f.id: f for f in reader.read_each(o.Flow)}
        properties = {p.id: p for p in reader.read_each(o.FlowProperty)}
    cell = processes["LFP prismatic cell 280 Ah"]
    cathode = processes["LFP cathode active material (LiFePO4/C)"]
    # the cell: 1 piece out, 8 inputs, 2 direct CH4 emissions
    ref = next(e for e in cell.exchanges if e.is_quantitative_reference)
    assert (ref.amount, ref.unit.name, ref.is_input) == (1, "piece", False)
    inputs = [e for e in cell.exchanges if e.is_input]
    assert len(inputs) == 8
    linked = next(e for e in inputs if e.default_provider is not None)
    assert linked.default_provider.id == cathode.id
    assert (linked.amount, linked.unit.name) == (2.05, "kg")
    assert [(lk.provider.id, lk.process.id, lk.exchange.internal_id)
            for lk in system.process_links] == [(cathode.id, cell.id, linked.internal_id)]  # fmt: skip
    assert (system.target_amount, system.target_unit.name) == (1, "kWh")
    # the cell's product flow: per piece, and 0.896 kWh = 3.2256 MJ of energy per piece
    product = flows[ref.flow.id]
    energy = next(f for f in product.flow_properties if not f.is_ref_flow_property)
    assert properties[energy.flow_property.id].name == "Energy"
    assert energy.conversion_factor == pytest.approx(0.896 * 3.6)
    # units: kWh in the energy group at 3.6 MJ; t in mass at 1000 kg
    energy_units = {u.name: u.conversion_factor for u in groups["Units of energy"].units}
    assert energy_units["MJ"] == 1 and energy_units["kWh"] == pytest.approx(3.6)
    # the result: total and inventory, and the full openpcf result alongside
    assert res.impact_results[0].amount == pytest.approx(result.pcf.value)
    assert res.product_system.id == system.id
    kg = {fr.description: fr.amount for fr in res.flow_results if fr.description}
    assert kg == pytest.approx(result.inventory)
    with zipfile.ZipFile(out) as z:
        assert Result.model_validate_json(z.read("openpcf/result.json")) == result


def test_round_trip_model_jsonld_model_keeps_amounts_units_and_the_footprint(
    tmp_path: Path,
) -> None:
    out = tmp_path / "cell.zip"
    before = _export(EXAMPLES / "lfp-cell.yaml", out)
    originals = {
        m.model.product.name: m.model for m in load_project(EXAMPLES / "lfp-cell.yaml").models
    }
    docs = _models_from_jsonld(out)
    folder = tmp_path / "back"
    folder.mkdir()
    target_file = None
    for pid, doc in docs.items():
        original = originals[doc["product"]["name"]]
        got = [(i["name"], i["stage"], i["amount"], i["unit"]) for i in doc["inputs"]]
        want = [(i.name, i.stage, i.amount, i.unit) for i in original.inputs]
        assert got == want
        emissions = [_emission(e) for e in doc["emissions"]]
        assert [(e["gas"], e["origin"], e["amount"], e["unit"]) for e in emissions] == [
            (e.gas, e.origin, e.amount, e.unit) for e in original.emissions
        ]
        p = original.product
        doc["product"] |= {"region": p.region, "year": p.year, "rule": p.rule, "id": p.id}
        if p.conversion is not None:
            doc["product"]["conversion"] = {"from": p.conversion.from_, "to": p.conversion.to}
        doc["emissions"] = emissions
        # JSON-LD carries factor ids, not the inline factors' values: put those back.
        doc["factors"] = [f.model_dump(exclude_none=True, mode="json") for f in original.factors]
        (folder / f"{pid}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
        if "conversion" in doc["product"]:
            target_file = folder / f"{pid}.yaml"
    assert target_file is not None
    after = calculate(load_project(target_file))
    assert after.pcf.value == pytest.approx(before.pcf.value, rel=1e-12)
    assert after.stages == pytest.approx(before.stages)


def test_a_reexport_gives_the_same_ids_and_replaces_the_zip(tmp_path: Path) -> None:
    out = tmp_path / "cell.zip"
    _export(EXAMPLES / "lfp-cathode.yaml", out)
    first = sorted(zipfile.ZipFile(out).namelist())
    _export(EXAMPLES / "lfp-cathode.yaml", out)
    assert sorted(zipfile.ZipFile(out).namelist()) == first  # not appended twice


def test_cli_writes_the_zip(tmp_path: Path) -> None:
    exe = openpcf_exe()
    out = tmp_path / "steel.zip"
    run = subprocess.run(
        [exe, "export", "jsonld", str(EXAMPLES / "hot-rolled-steel.yaml"), "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    with zipio.ZipReader(out) as reader:
        assert reader.ids_of(o.Process) and reader.ids_of(o.Result)
