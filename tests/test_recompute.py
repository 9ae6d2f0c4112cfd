"""Batch recomputation after a factor-set change, against SQLite and PostgreSQL.

The recompute path (usage x factor change) must give what a full recalculation with the new set
gives; only footprints depending on a changed factor are recomputed; old rows never change; a
tenant's set touches its own calculations only, the bundled (regulator's) set everybody's; a
local Dask cluster gives what the local processes give.
"""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import sessionmaker

from openpcf.domain.factor import Factor, FactorSet
from openpcf.domain.platform import (
    CalculationRequest,
    FactorSetCreate,
    Principal,
    ProductCreate,
    Role,
)
from openpcf.engine.recompute import RECORD
from openpcf.factors.bundled import bundled_set
from openpcf.factors.catalogue import Catalogue
from openpcf.services.calculation import stored as calculations
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.stored import stored_project
from openpcf.services.catalogue import factor_sets, products
from openpcf.services.platform import accounts
from openpcf.services.recompute.read import changes_of, recomputed_calculation
from openpcf.services.recompute.run import recompute
from openpcf.store.db import sessions
from openpcf.store.models import AuditEntry, Calculation, ModelVersion
from openpcf.store.models_recompute import CalculationUsage, RecomputedFootprint, RecomputeRun
from tests.databases import KINDS, empty_database
from tests.platform_world import demo_model

OPERATOR = accounts.operator("regulator-desk")

# A product of 1 kg: a supplier PCF of 1.5 kg x 2.0 kg CO2e/kg = 3.0 kg CO2e, and 10 kWh of
# Jiangsu grid electricity in 2023 (MEE grid CO2 factor cn-mee-grid/CN-JS@2023 = 0.5827 kg/kWh).
SIMPLE = """
openpcf: 1
product: {name: Widget, declared_unit: {amount: 1, unit: kg}, region: CN-JS, year: 2023}
inputs:
  - {name: Steel part, stage: raw-materials, amount: 1.5, unit: kg,
     pcf: {value: 2.0, unit: kg CO2e/kg, source: supplier}}
  - {name: Power, stage: production, amount: 10, unit: kWh, electricity: {basis: grid-co2}}
"""
# Only a supplier PCF: depends on no factor of any set.
NO_FACTORS = """
openpcf: 1
product: {name: Bought-in, declared_unit: {amount: 1, unit: kg}, region: CN-JS, year: 2023}
inputs:
  - {name: Part, stage: raw-materials, amount: 1, unit: kg,
     pcf: {value: 5.0, unit: kg CO2e/kg, source: supplier}}
"""
# 100 Nm3 of natural gas (an IPCC factor of the bundled set, named by id).
GAS_FIRED = """
openpcf: 1
product: {name: Kiln, declared_unit: {amount: 1, unit: t}, region: CN-JS, year: 2023}
inputs:
  - {name: Gas, stage: production, amount: 100, unit: Nm3, factor: ipcc2006-cn-ncv/natural-gas}
"""
# A product using a tenant factor (kg CO2e per kg) from the tenant's set `survey`.
SURVEYED = """
openpcf: 1
product: {name: Frame, declared_unit: {amount: 1, unit: kg}, region: CN-JS, year: 2023}
inputs:
  - {name: Steel, stage: raw-materials, amount: 2, unit: kg, factor: "TENANT:survey/steel"}
"""


def _new_bundled(
    changes: dict[str, float | dict[str, float]], version: str = "2026.9"
) -> FactorSet:
    """The bundled set as a regulator's next version: some factors with new values."""
    factors = []
    for f in bundled_set().factors:
        new = changes.get(f.id)
        if new is None:
            factors.append(f)
        elif isinstance(new, dict):
            factors.append(f.model_copy(update={"gases": new}))
        else:
            factors.append(f.model_copy(update={"co2e": new}))
    return bundled_set().model_copy(update={"version": version, "factors": tuple(factors)})


def _write_set(fs: FactorSet, folder: Path) -> str:
    path = folder / f"{fs.id}-{fs.version}.json"
    path.write_text(fs.model_dump_json(), "utf-8")
    return str(path)


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker]:
    with empty_database(request.param, tmp_path) as url:
        factory = sessions(url)
        for tenant in ("acme", "other"):
            accounts.create_tenant(factory(), OPERATOR, tenant, tenant.title())
            accounts.create_user(factory(), OPERATOR, tenant, f"admin@{tenant}.example", Role.admin)
        yield factory


def _admin(factory: sessionmaker, tenant: str) -> Principal:
    email = f"admin-{uuid.uuid4().hex[:8]}@{tenant}.example"
    user = accounts.create_user(factory(), OPERATOR, tenant, email, Role.admin)
    return accounts.principal_for_token(factory(), user.token.token)


def _product(factory: sessionmaker, who: Principal, slug: str, text_: str) -> str:
    urn = f"urn:openpcf:product:{who.tenant}:{slug}"
    products.create_product(factory(), who, ProductCreate(slug=slug, name=slug))
    products.add_model_version(factory(), who, urn, text_, "application/yaml")
    return urn


def _demo(factory: sessionmaker, who: Principal, slug: str, name: str) -> str:
    """A packaged demo model stored under the product URN it states."""
    text_ = demo_model(name, who.tenant or "").replace(
        "urn:openpcf:product:supplier:", f"urn:openpcf:product:{who.tenant}:"
    )
    return _product(factory, who, slug, text_)


def _calc(factory: sessionmaker, who: Principal, urn: str, **request: object) -> str:
    return calculations.run_calculation(factory(), who, urn, CalculationRequest(**request)).id


def _full(factory: sessionmaker, who: Principal, calc_id: str, new: FactorSet):
    """An independent full recalculation: the stored project with the set replaced."""
    with factory() as s, s.begin():
        calc = s.scalar(select(Calculation).where(Calculation.uuid == calc_id))
        version = s.get(ModelVersion, calc.model_version_id)
        labels = [x.split(":", 1)[1] for x in calc.factor_sets if x.startswith(f"{who.tenant}:")]
        project, _ = stored_project(s, who, version, labels)
        sets = [new if fs.id == new.id else fs for fs in project.catalogue.sets]
        project = dataclasses.replace(project, catalogue=Catalogue.of(sets))
        return calculate(project, gwp=calc.gwp, profile=calc.profile)


def _stored(factory: sessionmaker, run: str | None) -> dict[str, RecomputedFootprint]:
    with factory() as s:
        rows = s.execute(
            select(Calculation.uuid, RecomputedFootprint)
            .join(Calculation, Calculation.id == RecomputedFootprint.calculation_id)
            .join(RecomputeRun, RecomputeRun.id == RecomputedFootprint.run_id)
            .where(RecomputeRun.uuid == run)
        ).all()
        return {u: r for u, r in rows}


def _changes(factory: sessionmaker, row: RecomputedFootprint) -> dict[str, dict[str, float]]:
    """A stored footprint's changes by stage and gas, named by its run's columns."""
    with factory() as s:
        columns = s.scalar(select(RecomputeRun.change_columns).where(RecomputeRun.id == row.run_id))
    return changes_of(columns, row.changes)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_a_grid_factor_change_moves_the_footprint_by_kwh_times_the_change(
    store: sessionmaker, tmp_path: Path
) -> None:
    acme = _admin(store, "acme")
    urn = _product(store, acme, "widget", SIMPLE)
    calc_id = _calc(store, acme, urn)
    # before: 3.0 + 10 kWh x 0.5827 = 8.827 kg CO2e
    info = calculations.get_calculation(store(), acme, calc_id)
    assert info.pcf.value == pytest.approx(8.827, rel=1e-12)
    # the regulator's new version raises Jiangsu 2023 to 0.6827: + 10 kWh x 0.1 = + 1.0 kg CO2e
    new = _new_bundled({"cn-mee-grid/CN-JS@2023": {"CO2": 0.6827}})
    report = recompute(store, OPERATOR, _write_set(new, tmp_path))
    assert (report.examined, report.dependent, report.linear, report.full) == (1, 1, 1, 0)
    assert report.factors[0].factor == "cn-mee-grid/CN-JS@2023"
    assert report.replaces == [bundled_set().label]
    row = _stored(store, report.run)[calc_id]
    assert row.method == "linear"
    assert row.previous_pcf == pytest.approx(8.827, rel=1e-12)
    assert row.pcf == pytest.approx(9.827, rel=1e-12)
    changes = _changes(store, row)
    assert changes["stages"] == pytest.approx({"production": 1.0})
    assert changes["gases"] == pytest.approx({"CO2": 1.0})
    assert report.percent_median == pytest.approx(100 * 1.0 / 8.827)
    assert report.top[0].product == urn and report.top[0].change == pytest.approx(1.0)
    # the old calculation is untouched; the new footprint is served in full with its provenance
    assert calculations.get_calculation(store(), acme, calc_id).pcf.value == info.pcf.value
    served = recomputed_calculation(store(), acme, calc_id, report.run)
    assert served.pcf.value == pytest.approx(9.827, rel=1e-12)
    assert served.result is not None
    assert new.label in served.result.provenance.factor_sets
    assert any(n.code == "RECOMPUTED" and report.run in n.message for n in served.result.warnings)
    # another tenant cannot read it
    with pytest.raises(Exception, match="no recomputation"):
        recomputed_calculation(store(), _admin(store, "other"), calc_id, report.run)


def test_recompute_equals_a_full_recalculation_on_the_examples(
    store: sessionmaker, tmp_path: Path
) -> None:
    acme = _admin(store, "acme")
    _demo(store, acme, "clinker", "clinker.yaml")
    cement = _demo(store, acme, "cement-po-42-5", "cement.yaml")
    steel = _demo(store, acme, "hot-rolled-coil", "hot-rolled-steel.yaml")
    _demo(store, acme, "lfp-cathode", "lfp-cathode.yaml")
    cell = _demo(store, acme, "lfp-cell-280ah", "lfp-cell.yaml")
    ids = [
        _calc(store, acme, cement),
        _calc(store, acme, cement, profile="iso-14067", gwp="AR6"),
        _calc(store, acme, steel, allow_violations=True),
        _calc(store, acme, cell, allow_violations=True),
    ]
    new = _new_bundled(
        {
            "cn-mee-efp/CN@2023": 0.7,  # life-cycle electricity (cement, clinker, cathode)
            "cn-mee-grid/CN-HE@2023": {"CO2": 0.7},  # steel's grid
            "cn-mee-grid/CN-JS@2023": {"CO2": 0.4},  # the cell's grid
            "ipcc2006-cn-ncv/bituminous-coal": {"CO2": 2300.0, "CH4": 0.03, "N2O": 0.04},
            "ipcc2006-cn-ncv/natural-gas": {"CO2": 2.0, "CH4": 5e-05},
            "ipcc2006-cn-ncv/diesel": {"CO2": 3100.0, "CH4": 0.2, "N2O": 0.03},
        }
    )
    report = recompute(store, OPERATOR, _write_set(new, tmp_path), chunk_size=2)
    assert report.linear == len(ids) and report.full == 0 and report.failed == 0
    stored = _stored(store, report.run)
    for calc_id in ids:
        full = _full(store, acme, calc_id, new)
        old = calculations.get_calculation(store(), acme, calc_id).result
        row = stored[calc_id]
        assert _close(row.pcf, full.pcf.value), (calc_id, row.pcf, full.pcf.value)
        assert row.pcf != row.previous_pcf
        assert row.grade == full.grade
        changes = _changes(store, row)
        for stage, value in full.stages.items():
            assert _close(old.stages[stage] + changes["stages"].get(stage, 0.0), value), stage
        for gas, value in full.gases.items():
            assert _close(old.gases[gas] + changes["gases"].get(gas, 0.0), value), gas
        served = recomputed_calculation(store(), acme, calc_id, report.run).result
        assert _close(served.pcf.value, full.pcf.value)
        assert served.stages == pytest.approx(full.stages, rel=1e-9)


def test_only_dependent_footprints_are_recomputed_and_old_rows_never_change(
    store: sessionmaker, tmp_path: Path
) -> None:
    acme = _admin(store, "acme")
    widget = _calc(store, acme, _product(store, acme, "widget", SIMPLE))
    bought = _calc(store, acme, _product(store, acme, "bought", NO_FACTORS))
    with store() as s:
        before = s.execute(text("SELECT id, pcf, result FROM calculations ORDER BY id")).all()
    # a factor neither uses changes: nothing depends on it
    unrelated = _new_bundled({"cn-mee-grid/CN-GD@2023": {"CO2": 0.1}}, "2026.8")
    report = recompute(store, OPERATOR, _write_set(unrelated, tmp_path))
    assert (report.examined, report.dependent, report.run) == (2, 0, None)
    # the grid factor changes: the widget depends on it, the bought-in part does not
    new = _new_bundled({"cn-mee-grid/CN-JS@2023": {"CO2": 0.6}})
    path = _write_set(new, tmp_path)
    dry = recompute(store, OPERATOR, path, dry_run=True)
    assert (dry.dependent, dry.linear, dry.run) == (1, 1, None)
    assert _stored(store, None) == {}
    report = recompute(store, OPERATOR, path)
    assert set(_stored(store, report.run)) == {widget}
    assert bought not in _stored(store, report.run)
    with store() as s:
        assert (
            s.execute(text("SELECT id, pcf, result FROM calculations ORDER BY id")).all() == before
        )
        # the run is attributed in the audit log, per tenant
        entry = s.scalar(select(AuditEntry).where(AuditEntry.entity == "recomputed_footprints"))
        assert entry is not None and entry.actor == "operator:regulator-desk"
        assert entry.tenant == "acme" and entry.details["count"] == 1
    # the database refuses to change a recomputed footprint
    with store() as s, pytest.raises(Exception, match="immutable"):
        s.execute(text("UPDATE recomputed_footprints SET pcf = 0"))
    # running again for the same version recomputes nothing twice
    again = recompute(store, OPERATOR, path)
    assert (again.skipped, again.dependent, again.run) == (1, 0, None)


def test_a_tenant_set_touches_its_own_tenant_and_the_bundled_set_everybody(
    store: sessionmaker, tmp_path: Path
) -> None:
    calcs = {}
    for tenant in ("acme", "other"):
        who = _admin(store, tenant)
        steel = Factor(
            id=f"{tenant}:survey/steel", name="Steel", unit="kg", co2e=2.0, gwp="AR6",
            source="survey",
        )  # fmt: skip
        factor_sets.create_factor_set(
            store(), who, FactorSetCreate(name="survey", version="1", title="S", factors=[steel])
        )
        factor_sets.publish_factor_set(store(), who, "survey", "1")
        urn = _product(store, who, "frame", SURVEYED.replace("TENANT", tenant))
        calcs[tenant] = _calc(store, who, urn, factor_sets=["survey@1"])
        calcs[tenant + "-grid"] = _calc(store, who, _product(store, who, "widget", SIMPLE))
    acme = _admin(store, "acme")
    steel2 = Factor(
        id="acme:survey/steel", name="Steel", unit="kg", co2e=2.5, gwp="AR6", source="survey 2"
    )
    factor_sets.create_factor_set(
        store(), acme, FactorSetCreate(name="survey", version="2", title="S2", factors=[steel2])
    )
    factor_sets.publish_factor_set(store(), acme, "survey", "2")
    # acme's own set: 2 kg x (2.5 - 2.0) = + 1.0 kg CO2e, acme's frame only
    report = recompute(store, acme, "survey@2")
    assert report.scope == "tenant acme" and report.replaces == ["acme:survey@1"]
    stored = _stored(store, report.run)
    assert set(stored) == {calcs["acme"]}
    assert stored[calcs["acme"]].pcf - stored[calcs["acme"]].previous_pcf == pytest.approx(1.0)
    # the same name in another tenant is another set: `other` cannot recompute with acme's
    with pytest.raises(Exception, match="not a published factor set of tenant other"):
        recompute(store, _admin(store, "other"), "survey@2")
    # a regulator's (bundled) version reaches every tenant that used the changed factor
    new = _new_bundled({"cn-mee-grid/CN-JS@2023": {"CO2": 0.6}})
    report = recompute(store, OPERATOR, _write_set(new, tmp_path))
    assert set(_stored(store, report.run)) == {calcs["acme-grid"], calcs["other-grid"]}


def test_calculations_without_recorded_usage_are_recalculated_in_full(
    store: sessionmaker, tmp_path: Path
) -> None:
    acme = _admin(store, "acme")
    _demo(store, acme, "clinker", "clinker.yaml")
    cement = _demo(store, acme, "cement-po-42-5", "cement.yaml")
    recorded = _calc(store, acme, cement)
    legacy = _calc(store, acme, cement)
    with store() as s, s.begin():  # as stored before usage was recorded
        calc_id = s.scalar(select(Calculation.id).where(Calculation.uuid == legacy))
        s.execute(text(f"DELETE FROM calculation_usage WHERE calculation_id = {calc_id}"))
    new = _new_bundled({"cn-mee-efp/CN@2023": 0.7, "ipcc2006-cn-ncv/diesel": {"CO2": 3000.0,
                        "CH4": 0.1, "N2O": 0.02}})  # fmt: skip
    report = recompute(store, OPERATOR, _write_set(new, tmp_path))
    assert (report.linear, report.full) == (1, 1)
    stored = _stored(store, report.run)
    assert stored[legacy].method == "full" and stored[recorded].method == "linear"
    assert _close(stored[legacy].pcf, stored[recorded].pcf)
    assert _changes(store, stored[legacy])["gases"] == pytest.approx(
        _changes(store, stored[recorded])["gases"], rel=1e-9
    )


def test_removed_factors_are_recalculated_in_full_and_failures_reported(
    store: sessionmaker, tmp_path: Path
) -> None:
    acme = _admin(store, "acme")
    widget = _calc(store, acme, _product(store, acme, "widget", SIMPLE))
    gas = _calc(store, acme, _product(store, acme, "kiln", GAS_FIRED))
    dropped = {"cn-mee-grid/CN-JS@2023", "ipcc2006-cn-ncv/natural-gas"}
    gone = bundled_set().model_copy(
        update={
            "version": "2027.1",
            "factors": tuple(f for f in bundled_set().factors if f.id not in dropped),
        }
    )
    report = recompute(store, OPERATOR, _write_set(gone, tmp_path))
    assert {f.kind for f in report.factors} == {"removed"}
    assert (report.dependent, report.linear, report.full, report.failed) == (2, 0, 1, 1)
    # the widget's electricity now resolves to the national value, as a full recalculation
    # says: 3.0 + 10 kWh x 0.5306 (cn-mee-grid/CN@2023) = 8.306 kg CO2e
    stored = _stored(store, report.run)
    assert set(stored) == {widget} and stored[widget].method == "full"
    assert stored[widget].pcf == pytest.approx(8.306, rel=1e-12)
    result = json.loads(stored[widget].result)
    assert any(w["code"] == "GRID_NATIONAL_FALLBACK" for w in result["warnings"])
    # the kiln names a factor that is gone: reported, nothing stored
    assert gas not in stored and "natural-gas" in report.failures[0]


def test_a_local_dask_cluster_gives_what_local_processes_give(
    store: sessionmaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("distributed")
    acme = _admin(store, "acme")
    _demo(store, acme, "clinker", "clinker.yaml")
    cement = _demo(store, acme, "cement-po-42-5", "cement.yaml")
    for profile in ("gb-t-24067", "iso-14067", "pact-v3"):
        _calc(store, acme, cement, profile=profile)
    _calc(store, acme, _product(store, acme, "widget", SIMPLE))
    new = _new_bundled({"cn-mee-efp/CN@2023": 0.7, "cn-mee-grid/CN-JS@2023": {"CO2": 0.4},
                        "ipcc2006-cn-ncv/diesel": {"CO2": 3000.0, "CH4": 0.1, "N2O": 0.02}})  # fmt: skip
    path = _write_set(new, tmp_path)
    local = recompute(store, OPERATOR, path, dry_run=True, top=100, chunk_size=2)
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        monkeypatch.setenv("OPENPCF_DASK_SCHEDULER", cluster.scheduler_address)
        on_dask = recompute(store, OPERATOR, path, top=100, chunk_size=2)
    assert on_dask.scheduler == cluster.scheduler_address
    assert on_dask.linear == local.linear == 4
    assert [t.model_dump() for t in on_dask.top] == [t.model_dump() for t in local.top]
    assert len(_stored(store, on_dask.run)) == 4


def test_usage_is_recorded_with_each_calculation(store: sessionmaker) -> None:
    acme = _admin(store, "acme")
    _calc(store, acme, _product(store, acme, "widget", SIMPLE))
    with store() as s:
        usage = s.scalars(select(CalculationUsage)).all()
    # one row for the bundled set: 10 kWh of cn-mee-grid/CN-JS@2023 in stage production (1)
    assert len(usage) == 1
    records = np.frombuffer(usage[0].usage, dtype=RECORD)
    assert records["code"].tolist() == [1] and records["amount"].tolist() == pytest.approx([10.0])
    assert usage[0].electricity and usage[0].linear


def test_the_command_reports_and_stores_as_the_operator(
    store: sessionmaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from openpcf.cli import app

    monkeypatch.setenv("OPENPCF_DATABASE_URL", str(store.kw["bind"].url.render_as_string(False)))
    acme = _admin(store, "acme")
    calc_id = _calc(store, acme, _product(store, acme, "widget", SIMPLE))
    path = _write_set(_new_bundled({"cn-mee-grid/CN-JS@2023": {"CO2": 0.6827}}), tmp_path)
    runner = CliRunner()
    dry = runner.invoke(app, ["recompute", "--factor-set", path, "--dry-run", "--format", "json"])
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.output)
    assert (report["dry_run"], report["run"], report["linear"]) == (True, None, 1)
    assert report["top"][0]["change"] == pytest.approx(1.0)  # 10 kWh x 0.1 kg/kWh
    shown = runner.invoke(app, ["recompute", "--factor-set", path])
    assert shown.exit_code == 0, shown.output
    assert (
        "cn-mee-grid/CN-JS@2023" in shown.output
        and "urn:openpcf:product:acme:widget" in shown.output
    )
    assert "+11.329" in shown.output  # 1.0 / 8.827 = +11.329 %
    with store() as s:
        run = s.execute(text("SELECT uuid, created_by, recomputed FROM recompute_runs")).one()
    assert run[1].startswith("operator:") and run[2] == 1
    assert set(_stored(store, run[0])) == {calc_id}
    bad = runner.invoke(app, ["recompute", "--factor-set", "nope@1"])
    assert bad.exit_code == 1 and "not the bundled factor set" in bad.output


def test_bulk_writes_store_every_value_exactly(store: sessionmaker) -> None:
    """250 footprints through the bulk writers (SQLite: INSERTs of 100 rows and a remainder;
    PostgreSQL: binary COPY built with numpy, one layout per grade) read back bit for bit."""
    from openpcf.services.recompute.changes import Target
    from openpcf.services.recompute.report import RecomputeReport
    from openpcf.services.recompute.write import Rows, write_run

    with store() as s:
        tenants = s.execute(text("SELECT id FROM tenants ORDER BY id")).scalars().all()
    n = 250
    rng = np.random.default_rng(7)
    grade = [None, "A", "一级", ""]  # no grade, ASCII, UTF-8 of 6 bytes, empty text
    result = '{"note": "a full result, ünïcode"}'
    rows = Rows(
        calc=np.arange(1000, 1000 + n, dtype=np.int64),
        tenant=np.array([tenants[i % 2] for i in range(n)], dtype=np.int64),
        previous=rng.lognormal(size=n),
        pcf=rng.lognormal(size=n),
        grade=[grade[i % 4] for i in range(n)],
        method=["full" if i % 50 == 0 else "linear" for i in range(n)],
        changes=rng.normal(size=(n, 7)),
        columns=(
            "stage:raw-materials",
            "stage:production",
            "stage:distribution",
            "stage:use",
            "stage:end-of-life",
            "gas:CH4",
            "gas:CO2",
        ),
        result=[result if i % 50 == 0 else None for i in range(n)],
    )
    report = RecomputeReport(run=None, factor_set="x@1", replaces=[], scope="all tenants",
                             scheduler="local", dry_run=False)  # fmt: skip
    run = write_run(store, OPERATOR, Target(bundled_set(), None, "all tenants"), rows, report,
                 lambda *_: None)  # fmt: skip
    with store() as s:
        back = s.execute(
            select(RecomputedFootprint)
            .join(RecomputeRun, RecomputeRun.id == RecomputedFootprint.run_id)
            .where(RecomputeRun.uuid == run)
            .order_by(RecomputedFootprint.calculation_id)
        ).scalars().all()  # fmt: skip
        audit = s.scalars(
            select(AuditEntry).where(AuditEntry.entity_id == f"run:{run}").order_by(AuditEntry.id)
        ).all()
    assert [r.calculation_id for r in back] == rows.calc.tolist()
    assert [r.tenant_id for r in back] == rows.tenant.tolist()
    assert [r.pcf for r in back] == rows.pcf.tolist()  # exact, not approximately
    assert [r.previous_pcf for r in back] == rows.previous.tolist()
    assert [r.grade for r in back] == rows.grade
    assert [r.method for r in back] == rows.method
    assert [r.result for r in back] == rows.result
    assert np.array_equal(np.array([np.frombuffer(r.changes, "<f8") for r in back]), rows.changes)
    assert changes_of(rows.columns, back[1].changes)["gases"] == {
        "CH4": rows.changes[1, 5], "CO2": rows.changes[1, 6]
    }  # fmt: skip
    # one audit entry per tenant: 125 rows each
    assert [e.details["count"] for e in audit] == [125, 125]
    # the footprints are append-only
    with store() as s, pytest.raises(Exception, match="append-only"):
        s.execute(text("DELETE FROM recomputed_footprints"))


def test_a_calculation_with_two_recorded_versions_of_the_set_is_recalculated_once_in_full(
    store: sessionmaker, tmp_path: Path
) -> None:
    from openpcf.services.recompute.usage import recorded_set
    from openpcf.store.audit import attribute

    acme = _admin(store, "acme")
    calc_id = _calc(store, acme, _product(store, acme, "widget", SIMPLE))
    # as if it had also drawn on an older version of the bundled set: a second usage row
    older = _new_bundled({"cn-mee-grid/CN-JS@2023": {"CO2": 0.5}}, "2020.1")
    with store() as s, s.begin():
        attribute(s, OPERATOR.actor, "acme")
        usage = s.scalar(select(CalculationUsage))
        set_row = recorded_set(s, older, usage.tenant_id)
        columns = {c: getattr(usage, c) for c in CalculationUsage.__table__.columns.keys()}  # noqa: SIM118
        s.add(CalculationUsage(**{**columns, "id": None, "set_id": set_row.id}))
    # 3.0 + 10 kWh x 0.6 = 9.0 kg CO2e, by a full recalculation, stored once
    new = _new_bundled({"cn-mee-grid/CN-JS@2023": {"CO2": 0.6}})
    report = recompute(store, OPERATOR, _write_set(new, tmp_path))
    assert (report.dependent, report.linear, report.full, report.failed) == (1, 0, 1, 0)
    stored = _stored(store, report.run)
    assert list(stored) == [calc_id] and stored[calc_id].method == "full"
    assert stored[calc_id].pcf == pytest.approx(9.0, rel=1e-12)
    assert _changes(store, stored[calc_id]) == {
        "stages": pytest.approx({"production": 9.0 - 8.827}),
        "gases": pytest.approx({"CO2": 9.0 - 8.827}),
    }
