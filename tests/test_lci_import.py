"""Background databases: import (JSON-LD, ecospold2), linking, allocation, units, GHG mapping,
the import report, footprints of every process, and atomic storage."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from openpcf.domain.errors import FactorError, ImportFailure, OpenpcfError, UnitError
from openpcf.domain.lci import (
    COPRODUCT_ALLOCATED,
    COPRODUCT_ZERO,
    CUT_OFF,
    GHG,
    LINKED_CHOSEN,
    LINKED_DEFAULT,
    LINKED_UNIQUE,
    OTHER_ELEMENTARY,
    REFERENCE,
    REFERENCE_TREATMENT,
    UNLINKED,
)
from openpcf.services.lci.databases import (
    find_process,
    footprints,
    gas_footprints,
    import_database,
    open_database,
)
from tests import lci_data as data

# AR6 GWP100: CH4 fossil 29.8, CH4 non-fossil 27.0, N2O 273 (IPCC AR6 WG1 Table 7.SM.7).
CH4_FOSSIL, CH4_NON_FOSSIL, N2O = 29.8, 27.0, 273.0


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def tiny(tmp_path: Path, home: Path) -> str:
    import_database(data.write_jsonld(tmp_path / "tiny.zip"), "tiny")
    return "tiny"


def by_product(db_name: str, gwp: str = "AR6") -> dict[tuple[str, str], float]:
    db = open_database(db_name)
    values = footprints(db, gwp).kg_co2e
    return {
        (p.name, p.reference_product): float(v) for p, v in zip(db.processes, values, strict=True)
    }


def test_cycle_between_electricity_and_coal_is_solved_as_linear_system(tiny: str) -> None:
    fp = by_product(tiny)
    # Per MJ of electricity: 9 MJ coal / 25 MJ/kg / 3.6 MJ = 0.1 kg coal, 0.9/3.6 = 0.25 kg CO2,
    # 0.001/3.6 kg CH4 non-fossil. Per kg coal: 50 × 3.6 / 1000 = 0.18 MJ electricity,
    # 0.005 kg CH4 fossil, 0.002 kg CO2 from land use.
    #   e = 0.1 c + 0.25 + 27.0 × 0.001/3.6 ;  c = 0.18 e + 29.8 × 0.005 + 0.002
    c_direct = CH4_FOSSIL * 0.005 + 0.002
    e = (0.1 * c_direct + 0.25 + CH4_NON_FOSSIL * 0.001 / 3.6) / (1 - 0.1 * 0.18)
    c = 0.18 * e + c_direct
    assert fp[("electricity production", "electricity")] == pytest.approx(e, rel=1e-12)
    assert fp[("coal mining", "hard coal")] == pytest.approx(c, rel=1e-12)
    assert fp[("slag treatment", "slag")] == pytest.approx(0.05, rel=1e-12)
    assert fp[("truck B", "transport, freight")] == pytest.approx(0.2, rel=1e-12)
    # Physical allocation 0.6/0.4 of 0.6 kg diesel and 0.4 kg naphtha: both 1 MJ, 0.5 kg CO2
    # and -0.1 kg CO2 taken from air per kg.
    assert fp[("refinery", "diesel")] == pytest.approx(e + 0.5 - 0.1, rel=1e-12)
    assert fp[("refinery", "naphtha")] == pytest.approx(e + 0.5 - 0.1, rel=1e-12)


def test_footprints_match_an_independent_dense_solve(tiny: str) -> None:
    """Assemble I - A and B by hand from the data description and solve with numpy."""
    order = ["elec", "coal", "steel", "truckA", "truckB", "diesel", "naphtha", "slag", "widget"]
    i = {k: n for n, k in enumerate(order)}
    a = np.zeros((9, 9))
    a[i["coal"], i["elec"]] = 9 / 25 / 3.6
    a[i["elec"], i["coal"]] = 50 * 3.6 / 1000
    a[i["coal"], i["steel"]] = 0.5
    a[i["elec"], i["steel"]] = 2.0
    a[i["slag"], i["steel"]] = 0.1  # waste out, to its treatment
    a[i["diesel"], i["truckA"]] = 0.03
    a[i["elec"], i["diesel"]] = a[i["elec"], i["naphtha"]] = 1.0 * 0.6 / 0.6
    a[i["steel"], i["widget"]] = 2.0
    a[i["truckB"], i["widget"]] = 1.0
    a[i["naphtha"], i["widget"]] = -0.1  # avoided product
    # steel's 0.2 t*km: two trucks, none named, no locations, no market: the provider policy's
    # tie-break takes the smaller key, truck B (uuid5 4960486d-... < truck A's ca4bd615-...)
    a[i["truckB"], i["steel"]] = 0.2
    gases = ["CO2 fossil", "CO2 land-use", "CO2 biogenic", "CH4 fossil", "CH4 non-fossil", "N2O",
             "HCFC-22"]  # fmt: skip
    g = {k: n for n, k in enumerate(gases)}
    b = np.zeros((len(gases), 9))
    b[g["CO2 fossil"], [i["elec"], i["steel"], i["truckA"], i["truckB"], i["slag"]]] = [
        0.9 / 3.6, 1.5, 0.1, 0.2, 0.05]  # fmt: skip
    b[g["CO2 fossil"], [i["diesel"], i["naphtha"]]] = 0.5
    b[g["CO2 biogenic"], [i["diesel"], i["naphtha"]]] = -0.1
    b[g["CH4 non-fossil"], i["elec"]] = 0.001 / 3.6
    b[g["CH4 fossil"], i["coal"]] = 5 / 1000
    b[g["CO2 land-use"], i["coal"]] = 2 / 1000
    b[g["N2O"], i["steel"]] = 0.1e-3
    b[g["HCFC-22"], i["steel"]] = 0.01e-3
    gwp = np.array([1, 1, 1, CH4_FOSSIL, CH4_NON_FOSSIL, N2O, 1960])  # HCFC-22: AR6 7.SM.7
    expected = np.linalg.solve((np.eye(9) - a).T, b.T @ gwp)

    names = {"elec": ("electricity production", "electricity"),
             "coal": ("coal mining", "hard coal"), "steel": ("steel production", "steel"),
             "truckA": ("truck A", "transport, freight"),
             "truckB": ("truck B", "transport, freight"), "diesel": ("refinery", "diesel"),
             "naphtha": ("refinery", "naphtha"), "slag": ("slag treatment", "slag"),
             "widget": ("widget assembly", "widget")}  # fmt: skip
    fp = by_product(tiny)
    assert len(fp) == 9
    for key, value in zip(order, expected, strict=True):
        assert fp[names[key]] == pytest.approx(value, rel=1e-12, abs=1e-15), key


def test_report_puts_every_exchange_in_one_category(tiny: str) -> None:
    report = open_database(tiny).report
    assert report.counts == {
        REFERENCE: 7,
        REFERENCE_TREATMENT: 1,  # slag treatment's reference is the waste it takes
        COPRODUCT_ALLOCATED: 1,  # naphtha
        LINKED_DEFAULT: 2,  # steel's coal, widget's transport from truck B
        LINKED_UNIQUE: 8,
        LINKED_CHOSEN: 1,  # steel's transport: two trucks, none named
        UNLINKED: 1,  # tap water
        GHG: 12,  # with HCFC-22
        OTHER_ELEMENTARY: 1,  # water from the river
    }
    assert report.exchanges == sum(report.counts.values()) == 34
    assert (report.processes, report.columns, report.files) == (8, 9, 8)
    (choice,) = report.choices
    assert choice.what == "transport, freight" and choice.processes == ("steel production",)
    assert choice.detail.startswith(f"chose {data.uid('process/truck B')} (truck B, -) by rule: "
                                    "smallest key among equals (tie-break); alternatives: "
                                    f"{data.uid('process/truck A')} (truck A, -)")  # fmt: skip
    assert report.ambiguous == ()
    assert [u.what for u in report.unlinked] == ["tap water"]
    assert report.unmapped_ghg == ()


def test_allocation_uses_the_default_method_and_units_convert_through_flow_properties(
    tiny: str,
) -> None:
    db = open_database(tiny)
    diesel = find_process(db, f"{data.uid('process/refinery')}/{data.uid('flow/diesel')}")
    assert diesel.allocation == "physical, factor 0.6"
    elec = find_process(db, "electricity production")
    coal = find_process(db, "coal mining")
    steel = find_process(db, "steel production")
    widget = find_process(db, "widget assembly")
    a = db.technosphere.toarray()
    assert a[coal.index, elec.index] == pytest.approx(0.1)  # 9 MJ ÷ 25 MJ/kg per 3.6 MJ
    assert a[elec.index, coal.index] == pytest.approx(0.18)  # 50 kWh per t
    assert a[steel.index, widget.index] == pytest.approx(2.0)  # 2000 g
    assert (elec.unit, coal.unit, widget.unit) == ("MJ", "kg", "Item(s)")
    assert db.technosphere.dtype == np.float64 and db.biosphere.dtype == np.float64


def test_greenhouse_gas_flows_are_mapped_with_their_origins(tiny: str) -> None:
    db = open_database(tiny)
    gases = {f.name: (f.gas, f.origin, f.kg_per_unit) for f in db.flows}
    assert gases["Carbon dioxide, fossil"] == ("CO2", "fossil", 1.0)
    assert gases["Carbon dioxide, in air"] == ("CO2", "biogenic", 1.0)
    assert gases["Carbon dioxide, from soil or biomass stock"] == ("CO2", "land-use", 1.0)
    assert gases["Methane, non-fossil"] == ("CH4", "biogenic", 1.0)
    assert gases["Methane, fossil"] == ("CH4", "fossil", 1.0)
    assert gases["Dinitrogen monoxide"] == ("N2O", "fossil", 1.0)
    assert gases["Methane, chlorodifluoro-, HCFC-22"] == ("HCFC-22", "fossil", 1.0)
    flows, per_gas = gas_footprints(db)
    refinery = find_process(db, f"{data.uid('process/refinery')}/{data.uid('flow/diesel')}")
    row = dict(zip([f.label() for f in flows], per_gas[refinery.index], strict=True))
    assert row["CO2 (biogenic)"] == pytest.approx(-0.1)  # the removal, per kg diesel


def test_ar5_and_ar6_differ_by_the_methane_values(tiny: str) -> None:
    ar5, ar6 = by_product(tiny, "AR5"), by_product(tiny, "AR6")
    assert ar5[("truck B", "transport, freight")] == ar6[("truck B", "transport, freight")]
    assert ar5[("coal mining", "hard coal")] != ar6[("coal mining", "hard coal")]


def test_economic_allocation_when_it_is_the_default_method(tmp_path: Path, home: Path) -> None:
    procs = data.tiny_processes()
    refinery = next(p for p in procs if p.name == "refinery")
    refinery.default_allocation_method = data.o.AllocationType.ECONOMIC_ALLOCATION
    import_database(data.write_jsonld(tmp_path / "eco.zip", procs), "econ")
    fp = by_product("econ")
    e = fp[("electricity production", "electricity")]
    # diesel carries 0.8 of 1 MJ, 0.5 kg CO2 and -0.1 kg CO2 per 0.6 kg; naphtha 0.2 per 0.4 kg
    assert fp[("refinery", "diesel")] == pytest.approx(0.8 * (e + 0.4) / 0.6, rel=1e-12)
    assert fp[("refinery", "naphtha")] == pytest.approx(0.2 * (e + 0.4) / 0.4, rel=1e-12)


def test_causal_allocation_shares_each_exchange_by_its_own_factors(
    tmp_path: Path, home: Path
) -> None:
    procs = data.tiny_processes()
    refinery = next(p for p in procs if p.name == "refinery")
    refinery.default_allocation_method = data.o.AllocationType.CAUSAL_ALLOCATION
    diesel, naphtha = (data.o.Ref(id=data.FLOWS[n].id) for n in ("diesel", "naphtha"))
    # exchanges 3 electricity, 4 CO2 fossil, 5 CO2 from air
    shares = {3: (0.9, 0.1), 4: (0.5, 0.5), 5: (1.0, 0.0)}
    refinery.allocation_factors = [
        data.o.AllocationFactor(allocation_type=data.o.AllocationType.CAUSAL_ALLOCATION,
                                product=product, value=pair[k],
                                exchange=data.o.ExchangeRef(internal_id=iid))
        for iid, pair in shares.items() for k, product in enumerate((diesel, naphtha))
    ]  # fmt: skip
    import_database(data.write_jsonld(tmp_path / "causal.zip", procs), "causal")
    fp = by_product("causal")
    e = fp[("electricity production", "electricity")]
    assert fp[("refinery", "diesel")] == pytest.approx((0.9 * e + 0.25 - 0.1) / 0.6, rel=1e-12)
    assert fp[("refinery", "naphtha")] == pytest.approx((0.1 * e + 0.25) / 0.4, rel=1e-12)
    assert open_database("causal").report.notes == ()


def test_coproducts_without_factors_are_reported_not_allocated(tmp_path: Path, home: Path) -> None:
    procs = data.tiny_processes()
    refinery = next(p for p in procs if p.name == "refinery")
    refinery.default_allocation_method = None
    refinery.allocation_factors = None
    import_database(data.write_jsonld(tmp_path / "na.zip", procs), "unalloc")
    db = open_database("unalloc")
    (entry,) = db.report.unallocated
    assert entry.what == "refinery" and "naphtha" in entry.detail
    e = by_product("unalloc")[("electricity production", "electricity")]
    # the whole burden on 0.6 kg diesel
    assert by_product("unalloc")[("refinery", "diesel")] == pytest.approx((e + 0.4) / 0.6)
    # naphtha has no provider now: the widget's avoided naphtha is unlinked
    assert {u.what for u in db.report.unlinked} == {"tap water", "naphtha"}


def test_folder_export_is_read_like_the_zip(tmp_path: Path, home: Path) -> None:
    folder = data.write_jsonld_folder(tmp_path / "tiny-folder")
    imported = import_database(folder)
    assert imported.name == "tiny-folder"
    assert open_database("tiny-folder").report.counts[REFERENCE] == 7


def test_reimport_of_the_same_bytes_keeps_the_version(tmp_path: Path, home: Path) -> None:
    path = data.write_jsonld(tmp_path / "tiny.zip")
    first = import_database(path, "same")
    again = import_database(path, "same")
    assert (first.version, again.version, again.reused) == ("1", "1", True)
    procs = data.tiny_processes()[:-1]  # without the widget
    changed = import_database(data.write_jsonld(tmp_path / "other.zip", procs), "same")
    assert changed.version == "2" and not changed.reused
    assert open_database("same").version == "2"
    assert open_database("same@1").report.columns == 9


def test_datapackage_layout(tiny: str, home: Path) -> None:
    folder = home / "databases" / "tiny" / "1"
    assert sorted(p.name for p in folder.iterdir()) == [
        "biosphere.npz", "biosphere_uncertainty.npz", "datapackage.json", "flows.json",
        "processes.json", "report.json", "technosphere.npz", "technosphere_uncertainty.npz",
    ]  # fmt: skip
    meta = json.loads((folder / "datapackage.json").read_text())
    assert meta["name"] == "tiny" and meta["version"] == "1"
    assert meta["source"]["format"] == "openLCA JSON-LD" and len(meta["source"]["sha256"]) == 64
    with np.load(folder / "technosphere.npz") as z:
        assert z["data"].dtype == np.float64 and tuple(z["shape"]) == (9, 9)
    processes = json.loads((folder / "processes.json").read_text())
    assert {p["process_id"] for p in processes} >= {data.uid("process/steel production")}
    assert not list((home / "databases").glob(".incoming-*"))


# ---- ecospold2 --------------------------------------------------------------------------------


def test_ecospold2_waste_convention_units_and_cut_off(tmp_path: Path, home: Path) -> None:
    import_database(data.write_ecospold(tmp_path / "ei.zip"), "ei")
    db = open_database("ei")
    fp = dict(zip([p.name for p in db.processes], footprints(db).kg_co2e, strict=True))
    # per kg coal: 0.18 MJ = 0.05 kWh electricity (the product's unit) and 5 g CH4 fossil;
    # per kWh: 0.4 kg coal, 0.01 kg waste oil to incineration (3 kg CO2 per kg), 0.9 kg CO2,
    # 1 g CH4 non-fossil.  e = 0.4 c + 0.01 × 3 + 0.9 + 0.001 × 27 ; c = 0.05 e + 0.005 × 29.8
    e = (0.4 * 0.005 * CH4_FOSSIL + 0.03 + 0.9 + 0.001 * CH4_NON_FOSSIL) / (1 - 0.4 * 0.05)
    assert fp["electricity production, hard coal"] == pytest.approx(e, rel=1e-12)
    assert fp["hard coal mine operation"] == pytest.approx(0.05 * e + 0.005 * CH4_FOSSIL)
    treatment = fp["treatment of waste mineral oil, hazardous waste incineration"]
    assert treatment == pytest.approx(3.0)
    assert db.report.counts == {
        REFERENCE: 2, REFERENCE_TREATMENT: 1, COPRODUCT_ZERO: 1, LINKED_DEFAULT: 3,
        CUT_OFF: 1, GHG: 4, OTHER_ELEMENTARY: 1,
    }  # fmt: skip
    assert [c.what for c in db.report.cut_off] == ["iron scrap"]
    elec = find_process(db, data.ELEC)
    assert (elec.unit, elec.location, elec.key) == ("kWh", "CN", data.ELEC)


def test_ecospold2_folder(tmp_path: Path, home: Path) -> None:
    folder = tmp_path / "spold"
    folder.mkdir()
    import_database(data.write_ecospold(folder), "eifolder")
    assert open_database("eifolder").report.columns == 3


# ---- failures change nothing ------------------------------------------------------------------


def _tree(home: Path) -> list[str]:
    root = home / "databases"
    return sorted(str(p.relative_to(home)) for p in root.rglob("*")) if root.exists() else []


def _rewrite(path: Path, member_suffix: str, edit) -> None:
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(path, "w") as z:
        for name, raw in members.items():
            z.writestr(name, edit(raw) if name.endswith(member_suffix) else raw)


def _broken_jsonld(tmp_path: Path, kind: str) -> tuple[Path, str]:
    path = data.write_jsonld(tmp_path / f"{kind}.zip")
    steel = f"processes/{data.uid('process/steel production')}.json"
    if kind == "json":
        _rewrite(path, steel, lambda raw: raw[:-20])
    elif kind == "reference":  # the tap water flow is missing from the export
        gone = f"flows/{data.uid('flow/tap water')}.json"
        with zipfile.ZipFile(path) as z:
            members = {n: z.read(n) for n in z.namelist() if n != gone}
        with zipfile.ZipFile(path, "w") as z:
            for n, raw in members.items():
                z.writestr(n, raw)
    elif kind == "unit":
        _rewrite(path, steel, lambda raw: raw.replace(data.uid("unit/g").encode(),
                                                      data.uid("unit/kWh").encode()))  # fmt: skip
    return path, steel


@pytest.mark.parametrize(
    ("kind", "error", "says"),
    [
        ("json", ImportFailure, "invalid JSON"),
        ("reference", ImportFailure, "flow 'tap water'"),
        ("unit", UnitError, "unit 'g'"),
    ],
)
def test_a_broken_jsonld_export_changes_nothing_and_names_file_and_object(
    tmp_path: Path, home: Path, tiny: str, kind: str, error: type, says: str
) -> None:
    before = _tree(home)
    path, member = _broken_jsonld(tmp_path, kind)
    with pytest.raises(error) as caught:
        import_database(path, "tiny")
    message = str(caught.value)
    assert says in message and f"{path}:{member}" in message
    if kind != "json":
        assert "process 'steel production'" in message
    assert _tree(home) == before


@pytest.mark.parametrize(
    ("unit", "says"),
    [("bananas", "unit 'bananas' is not one openpcf knows"),
     ("furlong", "'furlong' (length) cannot be converted to 'kg' (mass)")],
)  # fmt: skip
def test_unknown_or_wrong_ecospold2_unit_names_the_exchange_and_changes_nothing(
    tmp_path: Path, home: Path, unit: str, says: str
) -> None:
    files = data.ecospold_files(unit_override=unit)
    with pytest.raises(UnitError) as caught:
        import_database(data.write_ecospold(tmp_path / "bad.zip", files), "ei")
    assert says in str(caught.value)
    assert "intermediateExchange 'hard coal'" in str(caught.value)
    assert ".spold:" in str(caught.value)  # file and line
    assert _tree(home) == []


def test_bad_xml_and_missing_reference_product(tmp_path: Path, home: Path) -> None:
    files = data.ecospold_files()
    name = next(iter(files))
    broken = dict(files, **{name: files[name].replace("</flowData>", "")})
    with pytest.raises(ImportFailure, match="invalid XML") as caught:
        import_database(data.write_ecospold(tmp_path / "x.zip", broken), "ei")
    assert name in str(caught.value)
    no_ref = dict(files, **{name: files[name].replace("<outputGroup>0</outputGroup>",
                                                      "<outputGroup>2</outputGroup>")})  # fmt: skip
    with pytest.raises(ImportFailure, match="no reference product"):
        import_database(data.write_ecospold(tmp_path / "y.zip", no_ref), "ei")
    assert _tree(home) == []


def test_not_an_export(tmp_path: Path, home: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportFailure, match="neither an openLCA JSON-LD export"):
        import_database(tmp_path / "empty", "x")
    with pytest.raises(ImportFailure, match="not a valid database name"):
        import_database(tmp_path / "empty", "a/b")


# ---- method files and lookups ----------------------------------------------------------------


def test_method_file_replaces_the_builtin_mapping(tmp_path: Path, tiny: str) -> None:
    by_id = tmp_path / "by_id.csv"
    by_id.write_text(f"flow_id,kg_co2e_per_unit\n{data.uid('flow/Carbon dioxide, fossil')},1\n"
                     f"{data.uid('flow/Methane, chlorodifluoro-, HCFC-22')},1960\n")  # fmt: skip
    db = open_database(tiny)
    result = footprints(db, method=by_id)
    steel = find_process(db, "steel production")
    fossil_only = dict(zip([p.key for p in db.processes], result.kg_co2e, strict=True))
    e = (0.1 * 0 + 0.25) / (1 - 0.1 * 0.18)  # electricity with fossil CO2 only
    slag = 0.1 * 0.05
    hcfc = 0.01e-3 * 1960
    coal_e = 0.5 * 0.18 * e + 2.0 * e  # 0.5 kg coal takes 0.09 MJ
    truck = 0.2 * 0.2  # 0.2 t*km from truck B (the provider policy's choice)
    assert fossil_only[steel.key] == pytest.approx(1.5 + hcfc + slag + coal_e + truck, rel=1e-12)
    by_name = tmp_path / "by_name.csv"
    by_name.write_text('flow_name,category,kg_co2e_per_unit\n"carbon dioxide, fossil",,1\n'
                       "Nothing like it,air,5\n")  # fmt: skip
    co2_only = tmp_path / "co2.csv"
    co2_only.write_text(f"flow_id,kg_co2e_per_unit\n{data.uid('flow/Carbon dioxide, fossil')},1\n")
    named = footprints(db, method=by_name)
    assert np.allclose(named.kg_co2e, footprints(db, method=co2_only).kg_co2e, rtol=1e-13)
    assert [r.flow_name for r in named.unmatched] == ["Nothing like it"]
    assert named.characterised == 1


def test_method_file_errors(tmp_path: Path, tiny: str) -> None:
    db = open_database(tiny)
    bad = tmp_path / "bad.csv"
    bad.write_text("flow,value\nx,1\n")
    with pytest.raises(FactorError, match="expected columns"):
        footprints(db, method=bad)
    bad.write_text("flow_id,kg_co2e_per_unit\nx,abc\n")
    with pytest.raises(FactorError, match=r"bad.csv:2"):
        footprints(db, method=bad)


def test_process_lookup_by_key_id_and_name_with_helpful_errors(tiny: str) -> None:
    db = open_database(tiny)
    assert find_process(db, data.uid("process/truck A")).name == "truck A"
    with pytest.raises(OpenpcfError, match="matches 2 processes") as caught:
        find_process(db, "refinery")
    assert f"tiny/{data.uid('process/refinery')}/{data.uid('flow/diesel')}" in str(caught.value)
    with pytest.raises(OpenpcfError, match="close matches: 'truck B'; 'truck A'"):
        find_process(db, "truck C")
