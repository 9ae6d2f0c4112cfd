"""The real databases of ../shared/data/lci, imported as a user does (`openpcf db import`), once
per test session: USLCI as openLCA 1.5 JSON-LD and as ecospold2, TianGong as ILCD.

Every number asserted here comes from the raw release files, read in the test with json /
zipfile / numpy independently of the importer, or from the release's own LCIA method."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import xmltodict

from openpcf.domain.lci import LINKED_CHOSEN, LINKED_PINNED, NO_REFERENCE
from openpcf.factors.bundled import gwp_table
from openpcf.io.lci_package import StoredDatabase, read_version, versions
from openpcf.services.lci.databases import footprints

from .cli_runner import openpcf_exe

LCI = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lci"
USLCI = LCI / "uslci-olca1.5-jsonld.zip"
USLCI_ES2 = LCI / "uslci-fy18-ecospold2.zip"
TIANGONG = LCI / "tiangong-lca-data-ilcd.zip"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real LCI release not available: {path} is absent (../shared/data/lci)")
    return path


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lci-real")


@pytest.fixture(scope="session")
def run(home: Path):
    env = dict(os.environ, OPENPCF_HOME=str(home / "home"))

    def _run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([openpcf_exe(), *args], capture_output=True, text=True,
                              timeout=600, check=False, env=env)  # fmt: skip

    return _run


def _stored(home: Path, name: str) -> StoredDatabase:
    root = home / "home" / "databases"
    return read_version(root, name, versions(root, name)[-1])


@pytest.fixture(scope="session")
def uslci(home: Path, run) -> StoredDatabase:
    done = run("db", "import", str(_need(USLCI)), "--name", "uslci")
    assert done.returncode == 0, done.stderr
    return _stored(home, "uslci")


@pytest.fixture(scope="session")
def tiangong(home: Path, run) -> StoredDatabase:
    done = run("db", "import", str(_need(TIANGONG)), "--name", "tiangong")
    assert done.returncode == 0, done.stderr
    return _stored(home, "tiangong")


# ---- USLCI, openLCA 1.5 JSON-LD ---------------------------------------------------------------


def _raw_jsonld(path: Path) -> dict[str, dict[str, dict]]:
    """Every object of the export by folder and id, read with json alone."""
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".json") and "/" in name:
                obj = json.loads(z.read(name))
                out[name.split("/")[-2]][obj["@id"]] = obj
    return out


def test_uslci_jsonld_imports_every_process_and_accounts_for_every_exchange(
    uslci: StoredDatabase,
) -> None:
    raw = _raw_jsonld(USLCI)
    exchanges = sum(len(p["exchanges"]) for p in raw["processes"].values())
    r = uslci.report
    assert (r.files, r.processes, r.columns) == (766, 766, 766) == (len(raw["processes"]),) * 3
    assert r.exchanges == sum(r.counts.values()) == exchanges == 32526
    # the two inputs with two producers each are linked, not cut off, and listed with the rule
    assert r.counts[LINKED_CHOSEN] == 135
    choices = {c.what: c for c in r.choices}
    assert choices["Diesel, at refinery"].exchanges == 134
    assert "Crude oil, in refinery" in choices["Diesel, at refinery"].detail
    # left unmapped: only groups of gases no GWP can be given to
    assert sorted(e.what for e in r.unmapped_ghg) == [
        "CFCs and HCFCs, unspecified",
        "Chlorinated fluorocarbons and hydrochlorinated fluorocarbons, unspecified",
        "HFCs and HCFCs, unspecified",
        "PFC (perfluorocarbons)",
        "Perfluorocarbons, unspecified",
    ]
    # the names of the issue, trailing space and all, in every air compartment USLCI uses
    expected = {"Carbon dioxide, fossil": ("CO2", "fossil"), "Methane": ("CH4", "fossil"),
                "Dinitrogen monoxide": ("N2O", "fossil")}  # fmt: skip
    named = [f for f in uslci.flows if f.name.strip() in expected and "air" in f.category]
    assert "Carbon dioxide, fossil " in {f.name for f in named} and len(named) >= 15
    for f in named:
        assert (f.gas, f.origin) == expected[f.name.strip()], (f.name, f.category)


def _independent_uslci(raw: dict[str, dict[str, dict]], c_by_flow: dict[str, float]):
    """A and B·c built from the raw JSON with numpy: the reference computation.

    Amount in the flow's reference unit = amount × the unit's factor in its group ÷ the flow's
    factor for the exchange's flow property. A product input links to the process whose
    quantitative reference is that flow; with two such processes (both RNA here, neither a
    market), to the one with the smaller UUID, as openpcf's documented tie-break does."""
    units = {u["@id"]: u["conversionFactor"] for g in raw["unit_groups"].values()
             for u in g["units"]}  # fmt: skip
    factor = {(f["@id"], fp["flowProperty"]["@id"]): fp["conversionFactor"]
              for f in raw["flows"].values() for fp in f["flowProperties"]}  # fmt: skip
    procs = sorted(raw["processes"])
    col = {pid: j for j, pid in enumerate(procs)}
    producers: dict[str, list[str]] = defaultdict(list)
    for pid, p in raw["processes"].items():
        (ref,) = [e for e in p["exchanges"] if e.get("quantitativeReference")]
        producers[ref["flow"]["@id"]].append(pid)
    n = len(procs)
    a, bc = np.zeros((n, n)), np.zeros(n)
    multi = set()
    for pid, p in raw["processes"].items():
        j = col[pid]

        def amount(e: dict) -> float:
            return e["amount"] * units[e["unit"]["@id"]] / factor[(e["flow"]["@id"],
                                                                   e["flowProperty"]["@id"])]  # fmt: skip

        (ref,) = [e for e in p["exchanges"] if e.get("quantitativeReference")]
        ref_amount = amount(ref)
        for e in p["exchanges"]:
            kind, fid = e["flow"]["flowType"], e["flow"]["@id"]
            if kind == "ELEMENTARY_FLOW":
                bc[j] += (
                    (-1 if e["input"] else 1) * amount(e) * c_by_flow.get(fid, 0.0) / ref_amount
                )
            elif kind == "PRODUCT_FLOW" and e["input"] and producers.get(fid):
                k = col[min(producers[fid])]
                a[k, j] += amount(e) / ref_amount
            elif kind == "PRODUCT_FLOW" and not e["input"] and e is not ref and e["amount"]:
                multi.add(j)
    return procs, a, bc, multi


def test_uslci_footprints_match_an_independent_numpy_solve(uslci: StoredDatabase) -> None:
    """Bundled GHG mapping, no --method; every process whose supply chain has no multi-output
    process agrees with the reference to 1e-6 relative."""
    raw = _raw_jsonld(USLCI)
    table = gwp_table()
    c_by_flow = {f.id: f.kg_per_unit * table.gwp(_flow(f), "AR6") for f in uslci.flows if f.gas}
    procs, a, bc, multi = _independent_uslci(raw, c_by_flow)
    x = np.linalg.solve((np.eye(len(procs)) - a).T, bc)
    reach = np.eye(len(procs), dtype=bool) | (a != 0)
    for _ in range(12):  # supply chains are shorter than 2^12 steps
        reach = reach | ((reach.astype(np.int32) @ reach.astype(np.int32)) > 0)
    clean = [j for j in range(len(procs)) if not reach[list(multi), j].any()]
    result = footprints(uslci, "AR6", allow_unmapped=True)
    ours = {p.process_id: float(v) for p, v in zip(uslci.processes, result.kg_co2e, strict=True)}
    assert len(clean) >= 90
    for j in clean:
        assert ours[procs[j]] == pytest.approx(x[j], rel=1e-6, abs=1e-12), procs[j]
    # the others too: both sides leave unallocated coproducts' burden on the reference product
    bad = [procs[j] for j in range(len(procs))
           if ours[procs[j]] != pytest.approx(x[j], rel=1e-6, abs=1e-12)]  # fmt: skip
    assert bad == []
    assert result.unmapped and result.touched is not None and result.touched.any()


def _flow(f):
    from openpcf.domain.gases import Flow

    return Flow(f.gas, f.origin)


def test_uslci_footprints_stop_on_unmapped_ghg_flows(uslci: StoredDatabase, run) -> None:
    out = Path(uslci.folder).parent / "fp.csv"
    done = run("db", "footprints", "uslci", "--out", str(out))
    assert done.returncode == 1
    assert "PFC (perfluorocarbons)" in done.stderr and "--allow-unmapped" in done.stderr
    assert not out.exists()
    done = run("db", "footprints", "uslci", "--out", str(out), "--allow-unmapped")
    assert done.returncode == 0, done.stderr
    assert "5 GHG-looking flows have no gas" in " ".join(done.stderr.split())
    assert len(list(csv.reader(out.open()))) == 767


def test_uslci_diesel_inputs_are_linked_not_cut_off(uslci: StoredDatabase) -> None:
    """Cutting the 134 diesel inputs (the old behaviour) loses a large share of every diesel
    transport's footprint: about 43 % for the intercity bus of the issue."""
    fp = footprints(uslci, "AR6", allow_unmapped=True).kg_co2e
    a = uslci.technosphere.tolil()
    diesel = [p.index for p in uslci.processes if p.reference_product == "Diesel, at refinery"]
    (chosen,) = [k for k in diesel if a[k, :].nnz]
    a[chosen, :] = 0
    a[chosen, chosen] = uslci.technosphere[chosen, chosen]
    cut = StoredDatabase(uslci.name, "cut", uslci.folder, uslci.meta, uslci.processes, uslci.flows,
                         a.tocsc(), uslci.biosphere, uslci.report)  # fmt: skip
    fp_cut = footprints(cut, "AR6", allow_unmapped=True).kg_co2e
    bus = [
        p.index for p in uslci.processes if p.name.startswith("Transport, intercity bus, diesel")
    ]
    assert bus
    loss = 1 - fp_cut[bus] / fp[bus]
    assert np.all(loss > 0.3), loss


def test_uslci_linking_file_pins_the_other_producer(home: Path, run, uslci: StoredDatabase) -> None:
    pins = home / "pins.csv"
    crude = next(p for p in uslci.processes if p.name == "Crude oil, in refinery")
    (diesel,) = [c.id.split(" -> ")[0] for c in uslci.report.choices
                 if c.what == "Diesel, at refinery"]  # fmt: skip
    ambiguous = home / "ambiguous.csv"  # USLCI has two flows of this name (l and kg)
    ambiguous.write_text(f'input_flow,consumer,provider\n"Diesel, at refinery",*,{crude.key}\n')
    done = run("db", "import", str(USLCI), "--name", "uslci-pinned", "--linking", str(ambiguous))
    assert done.returncode == 1 and "names 2 product or waste flows" in done.stderr
    pins.write_text(f"input_flow,consumer,provider\n{diesel},*,{crude.process_id}\n")
    done = run("db", "import", str(USLCI), "--name", "uslci-pinned", "--linking", str(pins))
    assert done.returncode == 0, done.stderr
    pinned = _stored(home, "uslci-pinned")
    assert pinned.report.counts[LINKED_PINNED] == 134
    refinery = next(p for p in uslci.processes if p.name == "Petroleum refining, at refinery")
    consumers = uslci.technosphere[refinery.index, :].nnz  # 134 inputs, one process has two
    assert consumers == 133 and uslci.technosphere[crude.index, :].nnz == 0
    assert pinned.technosphere[crude.index, :].nnz == consumers
    assert pinned.technosphere[refinery.index, :].nnz == 0
    bad = home / "bad.csv"
    bad.write_text("input_flow,consumer,provider\nNo such flow,*,x\n")
    done = run("db", "import", str(USLCI), "--name", "uslci-bad", "--linking", str(bad))
    assert done.returncode == 1 and "bad.csv:2" in done.stderr and "No such flow" in done.stderr
    done = run("db", "import", str(USLCI), "--name", "uslci-strict", "--unlinked", "error")
    assert done.returncode == 1 and "have no producer" in done.stderr
    assert versions(home / "home" / "databases", "uslci-strict") == []


def test_uslci_ecospold2_release_imports(home: Path, run) -> None:
    done = run("db", "import", str(_need(USLCI_ES2)), "--name", "uslci-es2")
    assert done.returncode == 0, done.stderr
    db = _stored(home, "uslci-es2")
    with zipfile.ZipFile(USLCI_ES2) as z:
        spold = [n for n in z.namelist() if n.endswith(".spold")]
        texts = [z.read(n).decode() for n in spold]
    no_product = [t for t in texts if "<outputGroup>0</outputGroup>" not in t]
    r = db.report
    assert (r.files, r.processes) == (len(spold), len(spold)) == (767, 767)
    assert r.columns == 767 - len(no_product) == 746
    # every exchange in flowData (the master data at the end repeats names, not exchanges)
    flow_data = [t.split("<flowData>")[1].split("</flowData>")[0] for t in texts]
    exchanges = sum(len(re.findall(r"<(intermediate|elementary)Exchange ", f)) for f in flow_data)
    assert r.exchanges == sum(r.counts.values()) == exchanges
    assert r.counts[NO_REFERENCE] == sum(
        len(re.findall(r"<(intermediate|elementary)Exchange ", t.split("</flowData>")[0]))
        for t in no_product
    )


# ---- TianGong, ILCD -------------------------------------------------------------------------


def _tiangong_raw() -> tuple[int, int, set[str]]:
    """Process data sets, their exchanges, and the flow data sets in the release (regex alone)."""
    processes = exchanges = 0
    flows = set()
    with zipfile.ZipFile(TIANGONG) as z:
        for name in z.namelist():
            if "/processes/" in name and name.endswith(".xml"):
                processes += 1
                exchanges += len(re.findall(rb"<exchange[ >]", z.read(name)))
            elif "/flows/" in name and name.endswith(".xml"):
                flows.add(name.rsplit("/", 1)[1][:-4])
    return processes, exchanges, flows


def test_tiangong_imports_every_process_and_accounts_for_every_exchange(
    tiangong: StoredDatabase,
) -> None:
    processes, exchanges, _ = _tiangong_raw()
    r = tiangong.report
    assert r.format == "ILCD"
    assert r.files == r.processes == processes == 4133
    assert r.exchanges == sum(r.counts.values()) == exchanges
    # 27 data sets have no usable reference flow: no column, their exchanges listed as left out
    assert r.columns == 4133 - 27
    no_ref = [e for e in r.omitted if e.id.startswith("process ")]
    assert len(no_ref) == 27 and sum(e.exchanges for e in no_ref) == r.counts[NO_REFERENCE]
    # names in both languages, locations and classifications kept
    located = [p for p in tiangong.processes if p.location and p.location.endswith("CN")]
    assert len(located) > 3000
    bilingual = [p for p in tiangong.processes if {"en", "zh"} <= set(p.names)]
    assert len(bilingual) > 3000
    mix = next(p for p in tiangong.processes if p.name.startswith(
        "Electricity production ; Electricity mix ; China"))  # fmt: skip
    assert mix.names["zh"] == "电力生产 ; 混合电力 ; 中国"  # as the data set gives it
    assert mix.product_names == {"en": "Electricity"}  # its flow data set is English only
    assert len([p for p in tiangong.processes if {"en", "zh"} <= set(p.product_names)]) > 1000
    assert any(p.category.startswith("Reference Parameters/") for p in tiangong.processes)
    # location names from the release's ILCDLocations.xml, for the codes its processes use
    names = tiangong.meta["locations"]
    assert names["SZ-JS-CN"] == "Suzhou (苏州), Jiangsu (江苏), China (中国)"
    assert names["CN"] == "China" and len(names) < 632  # only the codes used, of 632


def test_tiangong_links_by_flow_and_reports_the_linked_share(tiangong: StoredDatabase) -> None:
    r = tiangong.report
    linked = sum(r.counts.get(c, 0) for c in (
        "input linked to the only process producing it",
        "input with several providers, linked by the provider policy"))  # fmt: skip
    unlinked = r.counts["input no process produces (cut off)"]
    assert linked > unlinked > 0
    assert r.inputs_linked == linked
    cut = sum(r.counts.get(c, 0) for c in (
        "input no process produces (cut off)",
        "input of its own product, at least what it makes (cut off)",
        "link inside a loop that takes more than it makes (cut off)"))  # fmt: skip
    assert r.inputs_to_link == linked + cut
    assert len(r.unlinked) > 500  # flows no process of the release makes, each listed
    electricity = [c for c in r.choices if c.what == "Electricity"]
    # a Shandong consumer takes the Shandong mix; one located "CN" (several CN producers) the
    # national mix, as a mix; a Guangzhou one (GZ-GD-CN?) the nearest enclosing province's
    details = [c.detail for c in electricity]
    assert any("Electricity mix ; China, CN) by rule: a market or mix" in d for d in details)
    assert any("Electricity mix ; Shandong, SD-CN) by rule: same location" in d for d in details)
    assert any("Electricity mix ; Guangdong, GD-CN) by rule: nearest location GD-CN" in d
               for d in details)  # fmt: skip
    # CEEIO's input-output block is not normalised: its loop is cut and listed, not solved
    (ceeio,) = [
        loop for loop in r.loops if "CEEIO" in loop.detail and "145 processes" in loop.detail
    ]
    assert ceeio.exchanges > 20000


def test_tiangong_gwp_bundled_vs_the_release_ef31_method(tiangong: StoredDatabase) -> None:
    """The release carries EF 3.1 climate change; with biogenic CO2 at 0 (as EF does) the
    bundled map agrees within 5 % for every process, and exactly for most."""
    names = sorted(m["name"] for m in tiangong.methods)
    assert names == ["Climate change", "Climate change-Biogenic", "Climate change-Fossil",
                     "Climate change-Land use and land use change"]  # fmt: skip
    notes = [n for n in tiangong.report.notes if n.startswith(("GWP100 of all", "the same with"))]
    assert len(notes) == 2
    (with_bio, without_bio) = notes
    counts = [int(x) for x in re.findall(r"(\d+) (?:agree|within|differ)", without_bio)]
    assert counts[2] == 0 and counts[0] > 4000  # none beyond 5 %
    ours = footprints(tiangong, "AR6", allow_unmapped=True).kg_co2e
    theirs = footprints(tiangong, method="Climate change").kg_co2e
    fossil = footprints(tiangong, method="climate change-fossil").kg_co2e
    assert np.isfinite(ours).all() and np.isfinite(theirs).all()
    assert np.count_nonzero(theirs) > 1000 and np.count_nonzero(fossil) > 1000
    rel = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)
    assert np.median(rel[theirs != 0]) < 1e-6
    assert "differ by more than 5 %" in with_bio


def test_tidas_json_reads_like_the_ilcd_xml(home: Path, run) -> None:
    """TIDAS is ILCD as JSON (xmltodict's mapping, ILCD namespaces unprefixed, the common one
    as 'common:'): the same data sets converted with the xmltodict library give the same
    matrices as their XML."""
    ilcd = "http://lca.jrc.it/ILCD/"
    namespaces = {ilcd + k: None for k in ("Process", "Flow", "FlowProperty", "UnitGroup",
                                          "LCIAMethod")}  # fmt: skip
    namespaces |= {ilcd + "Common": "common", "http://www.w3.org/XML/1998/namespace": "xml"}
    xml_dir, json_dir = home / "tg-xml", home / "tg-json"
    with zipfile.ZipFile(_need(TIANGONG)) as z:
        names = [n for n in z.namelist() if n.endswith(".xml")]
        processes = sorted(n for n in names if "/processes/" in n)[:60]
        chosen = processes + [n for n in names if re.search(
            r"/(flows|flowproperties|unitgroups|lciamethods)/", n)]  # fmt: skip
        for name in chosen:
            folder, file = name.split("/")[-2:]
            raw = z.read(name)
            (xml_dir / folder).mkdir(parents=True, exist_ok=True)
            (xml_dir / folder / file).write_bytes(raw)
            (json_dir / folder).mkdir(parents=True, exist_ok=True)
            data = xmltodict.parse(raw, process_namespaces=True, namespaces=namespaces)
            (json_dir / folder / (file[:-4] + ".json")).write_text(json.dumps(data))
    assert run("db", "import", str(xml_dir), "--name", "tg-xml").returncode == 0
    done = run("db", "import", str(json_dir), "--name", "tg-json")
    assert done.returncode == 0, done.stderr
    a, b = _stored(home, "tg-xml"), _stored(home, "tg-json")
    assert b.report.format == "TIDAS JSON" and a.report.format == "ILCD"
    assert b.report.counts == a.report.counts and b.report.processes == 60
    assert [p.key for p in a.processes] == [p.key for p in b.processes]
    assert (a.technosphere != b.technosphere).nnz == 0 and (a.biosphere != b.biosphere).nnz == 0
    assert [p.names for p in a.processes] == [p.names for p in b.processes]


# ---- factor sets from a database ---------------------------------------------------------


def test_tiangong_factor_set_per_gas_with_provenance(home: Path, run, tiangong) -> None:
    out = home / "tiangong-factors.json"
    done = run("db", "factors", "tiangong", "--out", str(out))
    assert done.returncode == 0, done.stderr
    factors = {f["id"]: f for f in json.loads(out.read_text())["factors"]}
    # one factor per process and origin present, the fossil one always; processes whose
    # reference flow's data set is missing from the release have no unit and are left out, said
    from openpcf.domain.values import unit_shape_problem
    from openpcf.io.lci_units import pint_unit

    unknown = {p.key for p in tiangong.processes
               if unit_shape_problem(pint_unit(p.unit) or p.unit) is not None}  # fmt: skip
    assert {i.split("/")[1] for i in factors} == {p.key for p in tiangong.processes} - unknown
    assert not unknown or "left out, their reference unit unknown" in done.stderr
    from openpcf.services.lci.databases import gas_footprints

    gases, per_gas = gas_footprints(tiangong)
    mix = next(p for p in tiangong.processes if p.name.startswith(
        "Electricity production ; Electricity mix ; China"))  # fmt: skip
    f = factors[f"tiangong/{mix.key}"]
    expected = {g.gas: float(v) for g, v in zip(gases, per_gas[mix.index], strict=True)
                if v and g.origin == "fossil"}  # fmt: skip
    assert f["gases"] == pytest.approx(expected, rel=1e-12)
    assert f["region"] == "CN" and f["version"] == tiangong.version and f["unit"] == mix.unit
    assert mix.process_id in f["note"] and "inputs cut off" in f["note"]
    assert "tiangong@1" in f["source"]
    # the file loads as a user factor set
    from openpcf.io.factor_file import load_factor_file

    fs, _ = load_factor_file(out)
    assert len(fs.factors) == len(factors)
    chosen = home / "chosen.txt"
    first = next(p for p in tiangong.processes if p.key not in unknown)
    chosen.write_text(f"# two processes\n{mix.process_id}\n{first.key}\n")
    done = run("db", "factors", "tiangong", "--out", str(home / "two.json"), "--processes",
               str(chosen))  # fmt: skip
    assert done.returncode == 0, done.stderr
    two = json.loads((home / "two.json").read_text())["factors"]
    assert {f["id"].split("/")[1] for f in two} == {mix.key, first.key}


def test_a_model_uses_a_uslci_factor(home: Path, run, uslci: StoredDatabase) -> None:
    out = home / "uslci-factors.json"
    assert run("db", "factors", "uslci", "--out", str(out)).returncode == 0
    truck = next(p for p in uslci.processes
                 if p.name.startswith("Transport, combination truck, diesel powered"))  # fmt: skip
    model = home / "freight.yaml"
    model.write_text(
        "openpcf: 1\nproduct:\n  id: urn:test:freight\n  name: Freight\n"
        "  declared_unit: {amount: 1, unit: t*km}\n  region: US\n  year: 2020\n"
        "  boundary: cradle-to-gate\ninputs:\n  - name: Freight\n    stage: distribution\n"
        f"    amount: 10\n    unit: t*km\n    factor: uslci/{truck.key}\n"
    )
    done = run("calc", str(model), "--factors", str(out), "--gwp", "AR6", "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    fossil = footprints(uslci, "AR6", allow_unmapped=True)
    # the truck's supply chain is all fossil here, so the factor carries its whole footprint
    assert result["pcf"]["value"] == pytest.approx(10 * fossil.kg_co2e[truck.index], rel=1e-9)


# ---- a China-regionalised background ------------------------------------------------------


def test_uslci_regionalised_with_the_chinese_2023_footprint_factor(
    home: Path, run, uslci: StoredDatabase
) -> None:
    smelting = next(p for p in uslci.processes
                    if p.name == "Electricity, aluminum smelting and ingot casting regions")  # fmt: skip
    kept = next(p for p in uslci.processes if p.name == "Electricity, at eGrid, NYUP, 2010")
    mapping = home / "grid-mapping.csv"
    mapping.write_text(f'process,action\n"{smelting.name}",replace\n{kept.process_id},keep\n')
    done = run("db", "regionalise", "uslci", "--grid", "CN@2023", "--name", "uslci-cn",
               "--mapping", str(mapping))  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "uslci-cn@1 from uslci@1" in text and "cn-mee-efp/CN@2023" in text
    # 78 eGrid/Grid supplies found by name and unit, one added and one kept by the mapping
    assert "78 electricity supplies" in text
    cn = _stored(home, "uslci-cn")
    replaced = set(cn.meta["regionalised"]["replaced"])
    assert smelting.key in replaced and kept.key not in replaced and len(replaced) == 78
    after = footprints(cn, "AR6", allow_unmapped=True).kg_co2e
    before = footprints(uslci, "AR6", allow_unmapped=True).kg_co2e
    # MEE 2023 national electricity footprint 0.6205 kg CO2e/kWh = 0.6205 / 3.6 per MJ
    for p in cn.processes:
        if p.key in replaced:
            assert after[p.index] == pytest.approx(0.6205 / 3.6, rel=1e-12), p.name
    # the kept supply keeps its own inputs (its upstream grid supplies are replaced, though)
    assert (cn.technosphere[:, kept.index] != uslci.technosphere[:, kept.index]).nnz == 0
    assert after[kept.index] != pytest.approx(0.6205 / 3.6, rel=1e-3)
    # the printed table runs from the biggest relative change down
    rows = [line for line in done.stdout.splitlines() if line.count("│") == 6 and "%" in line]
    changes = [abs(float(r.split("│")[5].strip().rstrip("%"))) for r in rows]
    assert len(rows) > 100 and changes == sorted(changes, reverse=True)
    # the source version is untouched
    assert footprints(_stored(home, "uslci"), "AR6", allow_unmapped=True).kg_co2e == (
        pytest.approx(before, rel=0)
    )


def test_a_model_on_a_uslci_process_carries_the_unmapped_gap(
    home: Path, run, uslci: StoredDatabase
) -> None:
    result = footprints(uslci, "AR6", allow_unmapped=True)
    assert result.touched is not None
    hit = next(p for p in uslci.processes if result.touched[p.index] and p.unit == "kg")
    clean = next(p for p in uslci.processes if not result.touched[p.index] and p.unit == "kg"
                 and result.kg_co2e[p.index] > 0)  # fmt: skip
    for process, expect in ((hit, True), (clean, False)):
        model = home / f"bg-{expect}.yaml"
        model.write_text(
            "openpcf: 1\nproduct:\n  id: urn:test:bg\n  name: Background\n"
            "  declared_unit: {amount: 1, unit: kg}\n  region: US\n  year: 2020\n"
            "  boundary: cradle-to-gate\ninputs:\n  - name: Material\n    stage: raw-materials\n"
            f"    amount: 2\n    unit: kg\n    process: uslci/{process.key}\n"
        )
        done = run("calc", str(model), "--gwp", "AR6", "--format", "json")
        assert done.returncode == 0, done.stderr
        data = json.loads(done.stdout)
        codes = {w["code"] for w in data.get("warnings", [])}
        assert ("UNMAPPED_GHG_UPSTREAM" in codes) is expect, process.name
        assert data["pcf"]["value"] == pytest.approx(2 * result.kg_co2e[process.index], rel=1e-9)


def test_tiangong_gases_whose_flow_data_set_is_missing_are_no_silent_zero(
    tiangong: StoredDatabase, run, home: Path
) -> None:
    """Outputs named "methane", "carbon dioxide", "HFC-116" whose flow data sets the release
    lacks stay in B as unmapped GHG flows: footprints stop on them, factor notes name them."""
    unmapped = {e.what: e for e in tiangong.report.unmapped_ghg}
    assert unmapped["methane"].id == "08a91e70-3ddc-11dd-960e-0050c2490048"
    assert unmapped["methane"].exchanges == 21 and "not a mass" in unmapped["methane"].detail
    assert {"carbon dioxide", "Ethane, hexafluoro-, HFC-116"} <= set(unmapped)
    done = run("db", "footprints", "tiangong", "--out", str(home / "tg.csv"))
    assert done.returncode == 1 and "methane" in done.stderr
    done = run("db", "footprints", "tiangong", "--out", str(home / "tg.csv"), "--method",
               "Climate change")  # fmt: skip
    assert done.returncode == 0, done.stderr
