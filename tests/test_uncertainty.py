"""Uncertainty: distributions on amounts, factors and background exchanges, and Monte Carlo.

Conventions under test: a lognormal's stated value is its median (σ = ln gsd), a normal's its
mean; uniform and triangular bounds are in the unit of the value. The footprints below are
hand calculations under gb-t-24067 (AR5; CO2e factors stated as AR5 are used as given).
"""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import olca_schema as o
import pytest
import scipy.sparse as sp
from olca_schema import zipio

from openpcf.domain.errors import ModelError, OpenpcfError
from openpcf.domain.factor import Factor
from openpcf.domain.uncertainty import LOGNORMAL, NORMAL, TRIANGULAR, UNIFORM
from openpcf.engine import background as bg
from openpcf.engine import uncertainty as mc
from openpcf.engine.solve import factorise
from openpcf.services.calculation.calculate import accounting_for, calculate
from openpcf.services.calculation.project import load_project
from openpcf.services.calculation.uncertainty import monte_carlo
from openpcf.services.lci.databases import (
    factorisation,
    find_process,
    import_database,
    open_database,
)
from tests import lci_data as data

from .cli_runner import openpcf_exe

Write = Callable[[str, str], Path]
GB = accounting_for("gb-t-24067")


def model(inputs: str, factors: str = "") -> str:
    return f"""
        openpcf: 1
        product: {{name: Widget, declared_unit: {{amount: 1, unit: kg}}}}
        factors:
          - {{id: my/steel, name: Steel, unit: kg, co2e: 2.0, gwp: AR5, source: test}}
          - {{id: my/power, name: Power, unit: kWh, co2e: 0.6, gwp: AR5, source: test}}
{factors}
        inputs:
{inputs}
        """


def run_mc(path: Path, n: int, seed: int = 1):  # type: ignore[no-untyped-def]
    return monte_carlo(load_project(path), GB, n, seed)


# ---- foreground: amounts and factors ---------------------------------------------------------


def test_symmetric_distributions_keep_the_mean_at_the_deterministic_footprint(
    write: Write,
) -> None:
    write("sub.yaml", """
        openpcf: 1
        product: {name: Bolt, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: Wire, stage: raw-materials, amount: 1.1, unit: kg, factor: my/steel,
             uncertainty: {distribution: triangular, min: 1.0, mode: 1.1, max: 1.2}}
        factors:
          - {id: my/steel, name: Steel, unit: kg, co2e: 2.0, gwp: AR5, source: test,
             uncertainty: {distribution: uniform, min: 1.6, max: 2.4}}
    """)  # fmt: skip
    path = write("m.yaml", model("""
          - {name: Steel, stage: raw-materials, amount: 0.8, unit: kg, factor: my/steel,
             uncertainty: {distribution: normal, sd: 0.05}}
          - {name: Power, stage: production, amount: 3, unit: kWh, factor: my/power,
             uncertainty: {distribution: uniform, min: 2.7, max: 3.3}}
          - {name: Bolts, stage: raw-materials, amount: 0.5, unit: kg, product: sub.yaml,
             uncertainty: {distribution: normal, sd: 0.05}}
    """, """
          - {id: my/power-u, name: Power, unit: kWh, co2e: 0.6, gwp: AR5, source: test,
             uncertainty: {distribution: triangular, min: 0.5, mode: 0.6, max: 0.7}}
    """).replace("factor: my/power,", "factor: my/power-u,"))  # fmt: skip
    # 0.8 × 2.0 + 3 × 0.6 + 0.5 × 1.1 × 2.0 = 1.6 + 1.8 + 1.1 = 4.5; every multiplier has
    # mean 1 and they are independent, so the mean footprint is 4.5
    u = run_mc(path, 20_000)
    assert u.deterministic == pytest.approx(4.5)
    assert abs(u.mean - 4.5) <= 3 * u.standard_error
    assert u.sd > 0 and u.percentile_2_5 < 4.5 < u.percentile_97_5
    # the sub-assembly's amount is an uncertain entry of the models' technosphere
    assert "stacked dense solve" in u.method
    assert any("factor my/steel" in s for s in u.sampled)  # sampled once, used in the sub


def test_lognormal_median_is_the_stated_value_and_gsd_squared_bounds_the_upper_tail(
    write: Write,
) -> None:
    path = write("m.yaml", model("""
          - {name: Steel, stage: raw-materials, amount: 2, unit: kg, factor: my/steel,
             uncertainty: {distribution: lognormal, gsd: 1.2}}
    """))  # fmt: skip
    u = run_mc(path, 40_000, seed=5)
    det = 2 * 2.0
    sigma = math.log(1.2)
    # the stated amount is the median: median = 4.0 × 1; the mean is 4.0 × exp(σ²/2)
    assert u.median == pytest.approx(det * 1.0, rel=5e-3)
    assert abs(u.mean - det * math.exp(sigma**2 / 2)) <= 3 * u.standard_error
    # 97.5 / 50 percentile = exp(1.96 σ) = 1.429, about gsd² = 1.44
    assert u.percentile_97_5 / u.median == pytest.approx(math.exp(1.959964 * sigma), rel=0.01)
    assert u.percentile_97_5 / u.median == pytest.approx(1.2**2, rel=0.02)
    assert u.median / u.percentile_2_5 == pytest.approx(1.2**2, rel=0.02)


def test_pedigree_gsd_is_the_ecoinvent_variance_sum(write: Write) -> None:
    path = write("m.yaml", model("""
          - {name: Steel, stage: raw-materials, amount: 2, unit: kg, factor: my/steel,
             dq: {technological: 3, geographical: 2, temporal: 2, completeness: 2, reliability: 2},
             uncertainty: {distribution: lognormal, pedigree: true}}
    """))  # fmt: skip
    # σ² = basic 0.0006 + technological(3) 0.008 + geographical(2) 0.000025 + temporal(2) 0.0002
    #      + completeness(2) 0.0001 + reliability(2) 0.0006 = 0.009525; gsd = e^σ = 1.1025
    sigma = math.sqrt(0.009525)
    u = run_mc(path, 20_000)
    assert any("lognormal, gsd 1.103 (pedigree)" in s for s in u.sampled)
    assert u.percentile_97_5 / u.median == pytest.approx(math.exp(1.959964 * sigma), rel=0.01)
    with_basic = write("b.yaml", path.read_text().replace("pedigree: true", "pedigree: true, "
                                                          "basic_gsd: 1.5"))  # fmt: skip
    # basic 1.5: σ² = ln(1.5)² + 0.008925
    u = run_mc(with_basic, 10)
    assert any(f"gsd {math.exp(math.sqrt(math.log(1.5) ** 2 + 0.008925)):.4g}" in s
               for s in u.sampled)  # fmt: skip


def test_uniform_and_triangular_moments_match_their_closed_forms(write: Write) -> None:
    # One input of 1 kg at 2.0 kg CO2e/kg. Uniform 0.8 … 1.6 kg: mean 1.2, variance 0.8²/12.
    path = write("u.yaml", model("""
          - {name: Steel, stage: raw-materials, amount: 1, unit: kg, factor: my/steel,
             uncertainty: {distribution: uniform, min: 0.8, max: 1.6}}
    """))  # fmt: skip
    u = run_mc(path, 40_000)
    assert abs(u.mean - 2.0 * 1.2) <= 3 * u.standard_error
    assert u.sd == pytest.approx(2.0 * math.sqrt(0.8**2 / 12), rel=0.02)
    assert u.percentile_2_5 == pytest.approx(2.0 * (0.8 + 0.025 * 0.8), rel=0.01)
    # Triangular 0.5 / 1 / 2 kg: mean (a+b+c)/3 = 7/6, variance (a²+b²+c²-ab-ac-bc)/18 = 1.75/18
    path = write("t.yaml", model("""
          - {name: Steel, stage: raw-materials, amount: 1, unit: kg, factor: my/steel,
             uncertainty: {distribution: triangular, min: 0.5, mode: 1, max: 2}}
    """))  # fmt: skip
    u = run_mc(path, 40_000)
    assert abs(u.mean - 2.0 * 7 / 6) <= 3 * u.standard_error
    assert u.sd == pytest.approx(2.0 * math.sqrt(1.75 / 18), rel=0.02)
    # the engine's multipliers alone, for the same distributions as ratios
    rng = np.random.default_rng(0)
    m = mc.sample_multipliers(np.array([UNIFORM, TRIANGULAR]), np.array([0.8, 0.5]),
                              np.array([1.6, 1.0]), np.array([np.nan, 2.0]), 200_000, rng)  # fmt: skip
    assert m.mean(axis=0) == pytest.approx([1.2, 7 / 6], rel=3e-3)
    assert m.var(axis=0, ddof=1) == pytest.approx([0.8**2 / 12, 1.75 / 18], rel=0.02)
    assert m[:, 0].min() >= 0.8 and m[:, 1].max() <= 2.0


def test_the_same_seed_gives_the_same_result_and_another_seed_another(write: Write) -> None:
    path = write("m.yaml", model("""
          - {name: Steel, stage: raw-materials, amount: 2, unit: kg, factor: my/steel,
             uncertainty: {distribution: lognormal, gsd: 1.2}}
          - {name: Power, stage: production, amount: 3, unit: kWh, factor: my/power,
             uncertainty: {distribution: normal, sd: 0.3}}
    """))  # fmt: skip
    first, again = run_mc(path, 2000, seed=42), run_mc(path, 2000, seed=42)
    assert first == again and first.seed == 42
    assert run_mc(path, 2000, seed=43).mean != first.mean
    drawn = monte_carlo(load_project(path), GB, 100)  # no seed: one is drawn and reported
    assert monte_carlo(load_project(path), GB, 100, drawn.seed) == drawn


def test_variance_contributions_add_up_to_one_and_rank_the_dominant_input_first(
    write: Write,
) -> None:
    path = write("m.yaml", model("""
          - {name: Power, stage: production, amount: 3, unit: kWh, factor: my/power,
             uncertainty: {distribution: lognormal, gsd: 1.05}}
          - {name: Steel, stage: raw-materials, amount: 2, unit: kg, factor: my/steel,
             uncertainty: {distribution: lognormal, gsd: 1.5}}
          - {name: Paint, stage: production, amount: 1, unit: kg, factor: my/steel}
    """))  # fmt: skip
    u = run_mc(path, 5000)
    shares = {c.name: c.share for c in u.contributions}
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert u.contributions[0].name == "Steel" and shares["Steel"] > 0.9
    assert shares["Paint"] == 0.0  # certain: no rank correlation
    # Steel's share by variances of the log-linear parts: 4²·ln1.5² vs 1.8²·ln1.05² → ≈ 0.99
    assert shares["Power"] == pytest.approx(1 - shares["Steel"])


def test_a_factor_shared_by_two_inputs_is_drawn_once_per_iteration(write: Write) -> None:
    path = write("m.yaml", model("""
          - {name: Steel A, stage: raw-materials, amount: 1, unit: kg, factor: my/steel-u}
          - {name: Steel B, stage: raw-materials, amount: 1, unit: kg, factor: my/steel-u}
    """, """
          - {id: my/steel-u, name: Steel, unit: kg, co2e: 2.0, gwp: AR5, source: test,
             uncertainty: {distribution: lognormal, gsd: 1.3}}
    """))  # fmt: skip
    u = run_mc(path, 5000)
    # perfectly correlated: the total is 4 × one lognormal, 95 % ratio exp(1.96 ln 1.3)
    assert u.percentile_97_5 / u.median == pytest.approx(1.3**1.959964, rel=0.02)
    assert [c.rank_correlation for c in u.contributions] == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize(
    ("uncertainty", "message"),
    [
        ("{distribution: lognormal, gsd: 1.0}", "gsd must be greater than 1"),
        ("{distribution: lognormal, gsd: 0.8}", "gsd must be greater than 1"),
        ("{distribution: lognormal}", "either gsd"),
        ("{distribution: lognormal, gsd: 1.2, pedigree: true}", "either gsd"),
        ("{distribution: lognormal, pedigree: true}", "add dq"),
        ("{distribution: normal, sd: 0}", "sd greater than 0"),
        ("{distribution: normal, gsd: 1.2, sd: 1}", "gsd does not apply to a normal"),
        ("{distribution: uniform, min: 3, max: 1}", "min (3) must be below max (1)"),
        ("{distribution: uniform, min: 1}", "needs max"),
        ("{distribution: uniform, min: 2.5, max: 3}", "amount 2 lies outside min … max"),
        ("{distribution: triangular, min: 1, mode: 3.5, max: 3}", "min ≤ mode ≤ max"),
        ("{distribution: gamma, sd: 1}", "distribution"),
        ("{distribution: normal, sd: 1, spread: 2}", "unknown field 'spread'"),
    ],
)
def test_invalid_distributions_are_refused_naming_the_field(
    write: Write, uncertainty: str, message: str
) -> None:
    path = write("m.yaml", model(f"""
          - {{name: Steel, stage: raw-materials, amount: 2, unit: kg, factor: my/steel,
             uncertainty: {uncertainty}}}
    """))  # fmt: skip
    with pytest.raises(ModelError) as exc:
        load_project(path)
    text = str(exc.value)
    assert message in text
    assert "inputs[0]" in text and "m.yaml:" in text


def test_factor_uncertainty_is_validated_against_its_value() -> None:
    base = {"id": "x/y", "name": "y", "unit": "kg", "source": "test"}
    with pytest.raises(ValueError, match="pedigree: true needs dq ratings"):
        Factor.model_validate(base | {"co2e": 2.0, "uncertainty": {
            "distribution": "lognormal", "pedigree": True}})  # fmt: skip
    with pytest.raises(ValueError, match="this factor has several gases"):
        Factor.model_validate(base | {"gases": {"CO2": 1.0, "CH4": 0.01}, "uncertainty": {
            "distribution": "normal", "sd": 0.1}})  # fmt: skip
    with pytest.raises(ValueError, match="value 2 lies outside"):
        Factor.model_validate(base | {"co2e": 2.0, "uncertainty": {
            "distribution": "uniform", "min": 0.5, "max": 1.5}})  # fmt: skip
    ok = Factor.model_validate(base | {"gases": {"CO2": 1.0, "CH4": 0.01}, "uncertainty": {
        "distribution": "lognormal", "gsd": 1.1}})  # fmt: skip
    assert ok.uncertainty is not None and ok.uncertainty.gsd == 1.1


def test_factor_files_take_uncertainty_in_yaml_and_csv(tmp_path: Path, write: Write) -> None:
    from openpcf.io.factor_file import load_factor_file

    csv_file = tmp_path / "f.csv"
    csv_file.write_text('id,name,unit,source,co2e,gwp,uncertainty\n'
                        'u/a,A,kg,test,2.0,AR5,"{distribution: normal, sd: 0.2}"\n', "utf-8")  # fmt: skip
    fs, _ = load_factor_file(csv_file)
    assert fs.factors[0].uncertainty is not None and fs.factors[0].uncertainty.sd == 0.2
    yaml_file = write("f.yaml", """
        - {id: u/b, name: B, unit: kg, co2e: 2.0, gwp: AR5, source: test,
           uncertainty: {distribution: lognormal, gsd: 1.4}}
    """)  # fmt: skip
    fs, _ = load_factor_file(yaml_file)
    assert fs.factors[0].uncertainty is not None and fs.factors[0].uncertainty.gsd == 1.4


def test_excel_bom_columns_carry_uncertainty(tmp_path: Path) -> None:
    import openpyxl

    from openpcf.io.excel_template import write_template
    from tests.test_excel_bom import add_rows, set_product

    path = tmp_path / "bom.xlsx"
    write_template(path)
    wb = openpyxl.load_workbook(path)
    set_product(wb["Product"], {"name": "Widget", "declared_unit.amount": 1,
                                "declared_unit.unit": "kg"})  # fmt: skip
    add_rows(wb["Factors"], [{"id": "my/steel", "name": "Steel", "unit": "kg", "co2e": 2.0,
                              "gwp": "AR5", "source": "test", "uncertainty.distribution": "normal",
                              "uncertainty.sd": 0.2}])  # fmt: skip
    add_rows(wb["Inputs"], [{"name": "Steel", "stage": "raw-materials", "amount": 2, "unit": "kg",
                             "factor": "my/steel", "uncertainty.distribution": "lognormal",
                             "uncertainty.gsd": 1.2}])  # fmt: skip
    wb.save(path)
    u = monte_carlo(load_project(path), GB, 200, seed=1)
    assert u.deterministic == pytest.approx(4.0)
    sampled = sorted(u.sampled)
    assert sampled[0] == "factor my/steel: normal, sd 0.2"
    assert sampled[1].startswith("input 'Steel' amount 2 kg") and "lognormal, gsd 1.2" in sampled[1]


def test_calc_command_reports_the_statistics_in_json_and_table(write: Write) -> None:
    exe = openpcf_exe()
    path = write("m.yaml", model("""
          - {name: Steel, stage: raw-materials, amount: 2, unit: kg, factor: my/steel,
             uncertainty: {distribution: lognormal, gsd: 1.2}}
    """))  # fmt: skip

    def calc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, "calc", str(path), *args], capture_output=True, text=True,
                              timeout=120, check=False)  # fmt: skip

    run = calc("--uncertainty", "500", "--seed", "7", "--format", "json")
    assert run.returncode == 0, run.stderr
    u = json.loads(run.stdout)["uncertainty"]
    assert (u["iterations"], u["seed"], u["deterministic"]) == (500, 7, pytest.approx(4.0))
    assert set(u) >= {"mean", "median", "percentile_2_5", "percentile_97_5", "sd",
                      "standard_error", "method", "sensitivity", "contributions"}  # fmt: skip
    assert u["contributions"][0]["name"] == "Steel" and u["contributions"][0]["share"] == 1.0
    assert calc("--uncertainty", "500", "--seed", "7", "--format", "json").stdout == run.stdout
    table = calc("--uncertainty", "200", "--seed", "7")
    assert table.returncode == 0, table.stderr
    assert "Uncertainty (Monte Carlo, 200 iterations, seed 7)" in table.stdout
    assert "Contribution to variance" in table.stdout
    plain = calc("--format", "json")
    assert json.loads(plain.stdout)["uncertainty"] is None
    refused = calc("--uncertainty", "10", "--compare", "iso-14067")
    assert refused.returncode == 1 and "does not combine" in refused.stderr


# ---- background databases ----------------------------------------------------------------


def _exchange(f: o.Flow, amount: float, *, out: bool = False, ref: bool = False,
              uncertainty: o.Uncertainty | None = None) -> o.Exchange:  # fmt: skip
    return o.Exchange(flow=o.Ref(id=f.id, name=f.name, ref_type=o.RefType.Flow), amount=amount,
                      unit=data.unit_ref("kg"), is_input=not out, is_quantitative_reference=ref,
                      uncertainty=uncertainty)  # fmt: skip


def _distribution(kind: int, amount: float) -> o.Uncertainty:
    t = o.UncertaintyType
    if kind == 0:
        return o.Uncertainty(distribution_type=t.LOG_NORMAL_DISTRIBUTION, geom_sd=1.25,
                             geom_mean=amount)  # fmt: skip
    if kind == 1:
        return o.Uncertainty(distribution_type=t.NORMAL_DISTRIBUTION, mean=amount,
                             sd=0.1 * amount)  # fmt: skip
    if kind == 2:
        return o.Uncertainty(distribution_type=t.UNIFORM_DISTRIBUTION, minimum=0.8 * amount,
                             maximum=1.2 * amount)  # fmt: skip
    return o.Uncertainty(distribution_type=t.TRIANGLE_DISTRIBUTION, minimum=0.7 * amount,
                         mode=amount, maximum=1.4 * amount)  # fmt: skip


def write_uncertain_jsonld(path: Path, n: int = 40, seed: int = 3) -> Path:
    """n processes, each taking 3 others (cycles included) and emitting 3 greenhouse gases;
    every exchange has one of the four distributions, in turn."""
    rng = np.random.default_rng(seed)
    products = [data.flow(f"product {j}", data.P) for j in range(n)]
    gases = [data.FLOWS[name] for name in ("Carbon dioxide, fossil", "Methane, fossil",
                                           "Dinitrogen monoxide")]  # fmt: skip
    processes, turn = [], 0
    for j in range(n):
        ex = [_exchange(products[j], 1.0, out=True, ref=True)]
        others = [i for i in range(n) if i != j]
        for i in rng.choice(others, size=3, replace=False):
            amount = float(rng.uniform(0.02, 0.15))
            ex.append(_exchange(products[i], amount, uncertainty=_distribution(turn % 4, amount)))
            turn += 1
        for g, scale in zip(gases, (1.0, 0.01, 0.001), strict=True):
            amount = float(scale * rng.uniform(0.5, 2.0))
            ex.append(_exchange(g, amount, out=True,
                                uncertainty=_distribution(turn % 4, amount)))  # fmt: skip
            turn += 1
        for k, e in enumerate(ex, start=1):
            e.internal_id = k
        processes.append(o.Process(id=data.uid(f"process/p{j}"), name=f"process {j}",
                                   process_type=o.ProcessType.UNIT_PROCESS, exchanges=ex))  # fmt: skip
    with zipio.ZipWriter(path) as w:
        for group, units in data.UNIT_GROUPS.items():
            w.write(o.UnitGroup(id=data.uid(group), name=group, units=units))
        for prop, group in data.PROPERTY_GROUP.items():
            w.write(o.FlowProperty(id=data.uid(prop), name=prop, unit_group=o.Ref(
                id=data.uid(group), name=group, ref_type=o.RefType.UnitGroup)))  # fmt: skip
        for f in [*products, *gases]:
            w.write(f)
        for p in processes:
            w.write(p)
    return path


@pytest.fixture
def uncertain_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    import_database(write_uncertain_jsonld(tmp_path / "u.zip"), "u")
    return "u"


def _weights(db) -> np.ndarray:  # type: ignore[no-untyped-def]
    from openpcf.services.calculation.uncertainty import _flow_weights

    return _flow_weights(db, GB)


def test_jsonld_distributions_are_kept_as_multipliers_of_the_matrix_entries(
    uncertain_db: str,
) -> None:
    db = open_database(uncertain_db)
    a, b = db.technosphere_uncertainty, db.biosphere_uncertainty
    assert a is not None and b is not None
    assert (a.size, b.size) == (120, 120)  # every exchange but the references
    assert set(a.kind) | set(b.kind) == {LOGNORMAL, NORMAL, UNIFORM, TRIANGULAR}
    # each entry's value is its exchange's part of the stored matrix
    assert sp.csc_matrix((a.value, (a.row, a.col)), shape=db.technosphere.shape).toarray() == (
        pytest.approx(db.technosphere.toarray())
    )
    # lognormal: σ = ln(geomSd); normal: sd / amount; uniform / triangular: ratios
    assert set(np.round(a.p1[a.kind == LOGNORMAL], 12)) == {round(math.log(1.25), 12)}
    assert set(np.round(a.p1[a.kind == NORMAL], 12)) == {0.1}
    assert np.allclose(a.p1[a.kind == UNIFORM], 0.8) and np.allclose(a.p2[a.kind == UNIFORM], 1.2)
    tri = a.kind == TRIANGULAR
    assert np.allclose(np.c_[a.p1[tri], a.p2[tri], a.p3[tri]], [0.7, 1.0, 1.4])
    meta = json.loads((db.folder / "datapackage.json").read_text())
    assert meta["uncertainty"] == {"technosphere": 120, "biosphere": 120}
    assert any("kept on 120 technosphere and 120 biosphere" in n for n in db.report.notes)


def test_krylov_with_the_mean_lu_matches_direct_factorisation_for_the_same_samples(
    uncertain_db: str,
) -> None:
    db = open_database(uncertain_db)
    weights = _weights(db)
    fact = factorisation(db)  # the mean (deterministic) system's LU
    n = len(db.processes)
    for wanted in (np.arange(n), np.array([find_process(db, "process 7").index])):
        args = (fact, db.technosphere, db.technosphere_uncertainty, db.biosphere,
                db.biosphere_uncertainty, weights, wanted, 300)  # fmt: skip
        krylov = bg.background_scores(*args, np.random.SeedSequence(11), rtol=1e-12)
        direct = bg.background_scores(*args, np.random.SeedSequence(11), solver="direct")
        assert krylov.direct == 0 and krylov.steps > 0
        assert np.max(np.abs(krylov.scores - direct.scores) / np.abs(direct.scores)) < 1e-9
    # the default tolerance (mc.RTOL, a relative residual) is well inside 1e-9 too
    default = bg.background_scores(*args, np.random.SeedSequence(11))
    assert np.max(np.abs(default.scores - direct.scores) / np.abs(direct.scores)) < 1e-9


def test_iterations_the_batch_cannot_solve_fall_back_to_scipy_gmres_then_lu(
    uncertain_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = open_database(uncertain_db)
    args = (factorisation(db), db.technosphere, db.technosphere_uncertainty, db.biosphere,
            db.biosphere_uncertainty, _weights(db), np.arange(len(db.processes)), 20)  # fmt: skip
    direct = bg.background_scores(*args, np.random.SeedSequence(2), solver="direct")
    monkeypatch.setattr(mc, "RESTART", 1)
    monkeypatch.setattr(mc, "MAX_RESTARTS", 0)  # one GMRES step: not enough for 1e-12
    run = bg.background_scores(*args, np.random.SeedSequence(2), rtol=1e-12)
    assert run.retried == 20
    assert np.max(np.abs(run.scores - direct.scores) / np.abs(direct.scores)) < 1e-9


def test_background_uncertainty_reaches_a_product_model_through_process_inputs(
    uncertain_db: str, write: Write
) -> None:
    path = write("m.yaml", """
        openpcf: 1
        product: {name: Frame, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: Part, stage: raw-materials, amount: 2, unit: kg, process: "u/process 7"}
          - {name: Other part, stage: raw-materials, amount: 1, unit: kg,
             process: "u/process 8"}
    """)  # fmt: skip
    project = load_project(path)
    det = calculate(project).pcf.value
    u = monte_carlo(project, GB, 400, seed=9)
    assert u.deterministic == pytest.approx(det, rel=1e-12)
    assert u.sd > 0 and u.percentile_2_5 < u.median < u.percentile_97_5
    assert any(s.startswith("database u@1: 120 technosphere and 120 biosphere") for s in u.sampled)
    assert "GMRES preconditioned with the mean system's LU" in u.method
    assert sum(c.share for c in u.contributions) == pytest.approx(1.0)
    assert monte_carlo(project, GB, 400, seed=9) == u


def test_a_dask_scheduler_in_the_environment_gives_the_same_monte_carlo(
    uncertain_db: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OPENPCF_DASK_SCHEDULER (as for recompute) sends the batches of a large background run
    to the cluster; the result is the local one, number for number."""
    distributed = pytest.importorskip("distributed")
    from openpcf.services.calculation import uncertainty as service

    path = write("m.yaml", """
        openpcf: 1
        product: {name: Frame, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: Part, stage: raw-materials, amount: 2, unit: kg, process: "u/process 7"}
    """)  # fmt: skip
    project = load_project(path)
    local = monte_carlo(project, GB, 600, seed=4)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster,  \
            distributed.Client(cluster) as watcher,  \
            distributed.get_task_stream(watcher) as stream:  # fmt: skip
        monkeypatch.setenv("OPENPCF_DASK_SCHEDULER", cluster.scheduler_address)
        monkeypatch.setattr(service, "DASK_MIN_WORK", 0)  # this small run goes too
        remote = monte_carlo(project, GB, 600, seed=4)
    ran = [t for t in stream.data if t["key"].startswith("_run_batch")]
    assert len(ran) == 3  # 600 iterations in batches of 256, each a task on the cluster
    assert remote == local


def test_biosphere_only_uncertainty_is_unbiased_for_symmetric_distributions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: Write
) -> None:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    import_database(write_uncertain_jsonld(tmp_path / "u.zip"), "u")
    db = open_database("u")
    b = db.biosphere_uncertainty
    assert b is not None
    # normal and uniform ±20 % have mean multiplier 1; the triangular 0.7 / 1 / 1.4 (mean
    # 3.1 / 3) and the lognormal (mean e^(σ²/2)) do not, and are left out
    symmetric = np.isin(b.kind, [NORMAL, UNIFORM])
    keep = type(b)(*(getattr(b, k)[symmetric] for k in ("row", "col", "value", "kind", "p1",
                                                        "p2", "p3")))  # fmt: skip
    weights = _weights(db)
    wanted = np.array([3])
    run = bg.background_scores(factorisation(db), db.technosphere,
                               type(b).empty(), db.biosphere, keep, weights, wanted, 20_000,
                               np.random.SeedSequence(4))  # fmt: skip
    det = factorisation(db).solve(np.asarray(db.biosphere.T @ weights).ravel(), transposed=True)
    stats = mc.summary(run.scores[:, 0])
    assert abs(stats.mean - det[3]) <= 3 * stats.standard_error
    assert run.steps == 0  # A certain: one multi-right-hand-side solve per batch


def test_ecospold2_uncertainty_elements_are_read(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    files = data.ecospold_files()
    name = next(k for k in files if data.ELEC in k)
    # lognormal: variance of ln, with pedigree preferred; normal: variance of the value
    files[name] = files[name].replace(
        '<unitName xml:lang="en">kg</unitName><inputGroup>5</inputGroup>',
        '<unitName xml:lang="en">kg</unitName><uncertainty><lognormal meanValue="0.4" '
        'mu="-0.92" variance="0.0006" varianceWithPedigreeUncertainty="0.04"/>'
        '<pedigreeMatrix reliability="2" completeness="2" temporalCorrelation="2" '
        'geographicalCorrelation="2" furtherTechnologyCorrelation="4"/></uncertainty>'
        "<inputGroup>5</inputGroup>", 1,
    ).replace(
        '<unitName xml:lang="en">kg</unitName><compartment subcompartmentId="'
        + data.uid("urban air close to ground") + '">',
        '<unitName xml:lang="en">kg</unitName><uncertainty><normal meanValue="0.9" '
        'variance="0.0081"/></uncertainty><compartment subcompartmentId="'
        + data.uid("urban air close to ground") + '">', 1,
    )  # fmt: skip
    coal = next(k for k in files if data.COAL in k)
    files[coal] = files[coal].replace(
        '<unitName xml:lang="en">MJ</unitName><inputGroup>5</inputGroup>',
        '<unitName xml:lang="en">MJ</unitName><uncertainty><triangular minValue="0.1" '
        'mostLikelyValue="0.18" maxValue="0.3"/></uncertainty><inputGroup>5</inputGroup>', 1,
    ).replace(
        '<unitName xml:lang="en">g</unitName><compartment',
        '<unitName xml:lang="en">g</unitName><uncertainty><uniform minValue="6" maxValue="4"/>'
        "</uncertainty><compartment", 1,
    )  # fmt: skip
    import_database(data.write_ecospold(tmp_path / "ei.zip", files), "ei")
    db = open_database("ei")
    a, b = db.technosphere_uncertainty, db.biosphere_uncertainty
    assert a is not None and b is not None
    assert sorted(zip(a.kind.tolist(), np.round(a.p1, 12).tolist(), strict=True)) == [
        (LOGNORMAL, 0.2), (TRIANGULAR, round(0.1 / 0.18, 12))]  # fmt: skip
    assert np.allclose(a.p3[a.kind == TRIANGULAR], 0.3 / 0.18)
    assert b.kind.tolist() == [NORMAL] and b.p1 == pytest.approx([0.09 / 0.9])
    # the uniform with min above max is reported and taken as certain
    assert any("cannot be used" in n and "min (6) must be below max (4)" in n
               for n in db.report.notes)  # fmt: skip


def test_packages_stored_before_uncertainty_still_load_as_certain(
    uncertain_db: str, write: Write
) -> None:
    db = open_database(uncertain_db)
    for name in ("technosphere_uncertainty.npz", "biosphere_uncertainty.npz"):
        (db.folder / name).unlink()
    meta = json.loads((db.folder / "datapackage.json").read_text())
    del meta["uncertainty"]
    (db.folder / "datapackage.json").write_text(json.dumps(meta))
    old = open_database(uncertain_db)
    assert old.technosphere_uncertainty is None and old.biosphere_uncertainty is None
    path = write("m.yaml", """
        openpcf: 1
        product: {name: Frame, declared_unit: {amount: 1, unit: kg}}
        inputs:
          - {name: Part, stage: raw-materials, amount: 2, unit: kg, process: "u/process 7"}
    """)  # fmt: skip
    u = monte_carlo(load_project(path), GB, 50, seed=1)
    # fifty equal draws: their mean can differ from each by a rounding (pairwise summation),
    # so the sd is zero to rounding, not always exactly
    assert u.sd <= 1e-14 * u.mean and u.mean == pytest.approx(u.deterministic)
    assert "predates uncertainty" in u.method


# ---- engine ----------------------------------------------------------------------------------


def test_foreground_solves_agree_across_dense_krylov_and_one_factorisation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(0)
    size, entries, n = 80, 240, 50
    rows, cols = rng.integers(0, size, entries), rng.integers(0, size, entries)
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    values = rng.uniform(0.01, 0.1, rows.size)
    mult = np.exp(0.2 * rng.standard_normal((n, rows.size)))
    rhs = rng.uniform(0.5, 2.0, (n, size))
    dense = mc.stacked_transposed_solves(size, rows, cols, values * mult, rhs)
    krylov = mc.transposed_solves(size, rows, cols, values, mult, rhs)  # 80 > DENSE_LIMIT
    assert np.max(np.abs(krylov - dense) / np.abs(dense)) < 1e-8
    monkeypatch.setattr(mc, "DENSE_LIMIT", 100)
    assert np.allclose(mc.transposed_solves(size, rows, cols, values, mult, rhs), dense,
                       rtol=1e-12)  # fmt: skip
    fixed = mc.transposed_solves(size, rows, cols, values, None, rhs)
    a = sp.csc_matrix((values, (rows, cols)), shape=(size, size))
    assert np.allclose(fixed[3], factorise(a).solve(rhs[3], transposed=True), rtol=1e-12)


def test_upstream_is_closed_under_supply() -> None:
    # 0 <- 1 <- 2, 3 <- 2, 4 alone: the upstream of 1 is {0, 1}; of 3 is {0, 1, 2, 3}
    a = sp.csc_matrix(([0.1, 0.2, 0.3], ([0, 1, 2], [1, 2, 3])), shape=(5, 5))
    assert bg.upstream_of(a, np.array([1])).tolist() == [0, 1]
    assert bg.upstream_of(a, np.array([3])).tolist() == [0, 1, 2, 3]
    assert bg.upstream_of(a, np.array([4])).tolist() == [4]


def test_rank_statistics() -> None:
    assert mc.ranks(np.array([3.0, 1.0, 2.0, 2.0])).tolist() == [4.0, 1.0, 2.5, 2.5]
    total = np.arange(10.0)
    rho = mc.rank_correlations(np.vstack([total, -total, np.ones(10)]), total)
    assert rho.tolist() == pytest.approx([1.0, -1.0, 0.0])
    assert mc.variance_shares(rho).tolist() == pytest.approx([0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="unknown distribution"):
        mc.sample_multipliers(np.array([9]), *np.zeros((3, 1)), 2, np.random.default_rng(0))


def test_errors_are_openpcf_errors(write: Write) -> None:
    path = write("m.yaml", model("""
          - {name: Steel, stage: raw-materials, amount: 2, unit: kg, factor: my/steel}
    """))  # fmt: skip
    with pytest.raises(OpenpcfError, match="at least 2 iterations"):
        monte_carlo(load_project(path), GB, 1)
