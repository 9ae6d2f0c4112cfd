"""Ingestion into the real store (SQLite and PostgreSQL): deltas and emissions under the factor
in force, aggregates, idempotency, refusals kept with reasons, audit, allowance, primary data.
No broker here: `Ingestor.ingest` takes the messages the MQTT service would hand it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, text

from openpcf.domain.model import ProductModel
from openpcf.domain.platform import Principal, Role
from openpcf.services.errors import NotFound
from openpcf.services.monitoring.activity import activity, fragment_yaml, parse_produced
from openpcf.services.monitoring.ingest import Ingestor
from openpcf.services.monitoring.live import allowance, emissions, live, rejected
from openpcf.services.monitoring.registry import apply_plant, plant_from, tenant_principal
from openpcf.services.platform import accounts
from openpcf.store.db import sessions
from openpcf.store.models import AuditEntry
from openpcf.store.models_monitoring import MonitoringReading, MonitoringRejected
from tests.databases import KINDS, empty_database
from tests.platform_world import make_world

PLANT = {
    "sites": [{"id": "s1", "name": "Mill", "region": "CN-JS", "ets_sector": "steel"}],
    "meters": [
        {"id": "grid", "site": "s1", "equipment": "mill", "carrier": "electricity",
         "unit": "kWh", "reading": "cumulative", "rollover": 10000, "factor": {"kind": "grid"},
         "alert_above": 1000},
        {"id": "gas", "site": "s1", "equipment": "furnace", "carrier": "natural-gas",
         "unit": "Nm3", "reading": "cumulative",
         "factor": {"kind": "fuel", "factor": "cn-ndrc-fuel/natural-gas"}},
        {"id": "coal", "site": "s1", "equipment": "boiler", "carrier": "coal", "unit": "t",
         "reading": "interval",
         "factor": {"kind": "fuel", "factor": "ipcc2006-cn-ncv/bituminous-coal"}},
        {"id": "wind", "site": "s1", "equipment": "mill", "carrier": "electricity",
         "unit": "kWh", "reading": "cumulative",
         "factor": {"kind": "supply", "generation": "wind"}},
    ],
    "allowances": [{"site": "s1", "year": 2025, "tonnes_co2": 100}],
}  # fmt: skip
# 2025-03-03T00:00:00Z; in Asia/Shanghai 08:00, so the local day began 2025-03-02T16:00Z.
T0 = int(datetime(2025, 3, 3, tzinfo=UTC).timestamp())
NOW = T0 + 3600
# Factors in force (2025 readings; MEE's latest published grid factor is 2023's):
JS_2023 = 0.5827  # kg CO2/kWh, cn-mee-grid/CN-JS@2023
GAS = 2.162188809  # kg CO2/Nm3, cn-ndrc-fuel/natural-gas
# ipcc2006-cn-ncv/bituminous-coal per t: CO2 2195.0984, CH4 0.023204, N2O 0.034806; AR5 GWP100
# CH4 28, N2O 265 -> 2195.0984 + 0.649712 + 9.22359 = 2204.971702 kg CO2e/t
COAL_CO2E = 2195.0984 + 0.023204 * 28 + 0.034806 * 265


def msg(meter: str, readings: list[dict] | dict, tenant: str = "acme") -> tuple[str, bytes]:
    return f"openpcf/{tenant}/s1/{meter}", json.dumps(readings).encode()


@contextmanager
def plant_database(kind: str, folder: Path) -> Iterator[tuple[str, Principal]]:
    """An empty database of `kind` with the tenants of `make_world` and acme's PLANT
    registered: its URL, and acme as the operator's service acts for it."""
    with empty_database(kind, folder) as url:
        make_world(url)
        factory = sessions(url)
        with factory() as s:
            who = tenant_principal(s, "acme", accounts.operator("tests"))
        apply_plant(factory(), who, plant_from(PLANT))
        yield url, who


@pytest.fixture(params=KINDS)
def plant(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Principal]]:
    with plant_database(request.param, tmp_path) as found:
        yield found


def ingestor(url: str, now: float = NOW) -> Ingestor:
    return Ingestor(url, name="test", clock=lambda: now)


def read(url: str, who: Principal):
    return sessions(url)()


def test_counter_deltas_become_emissions_under_the_factor_in_force(plant) -> None:
    url, who = plant
    ing = ingestor(url)
    r = ing.ingest([
        msg("grid", [{"ts": T0, "value": 1000}, {"ts": T0 + 30, "value": 1100},
                     {"ts": T0 + 70, "value": 1150.5}]),
        msg("gas", [{"ts": T0, "value": 50}, {"ts": T0 + 30, "value": 60}]),
        msg("coal", {"ts": T0 + 30, "value": 0.5}),
    ])  # fmt: skip
    assert (r.accepted, r.rejected, r.duplicates) == (6, 0, 0)
    with read(url, who) as s:
        minute = {w.key: w for w in emissions(s, who, "s1", "1m", _dt(T0), _dt(T0 + 60))}
        day = {w.key: w for w in emissions(s, who, "s1", "1d", _dt(T0 - 86400), _dt(T0 + 86400))}
        site = emissions(s, who, "s1", "1h", _dt(T0), _dt(T0 + 3600), group="site")
    # first minute: grid 1000 (baseline) -> 1100 = 100 kWh x 0.5827 = 58.27 kg CO2
    assert minute["grid"].amount == pytest.approx(100)
    assert minute["grid"].kg_co2e == pytest.approx(58.27)
    # gas 50 -> 60 = 10 Nm3 x 2.162188809 = 21.62188809 kg CO2
    assert minute["gas"].kg_co2 == pytest.approx(21.62188809)
    # coal 0.5 t: CO2e 0.5 x 2204.971702 = 1102.485851; CH4 0.011602 kg, N2O 0.017403 kg
    assert minute["coal"].kg_co2e == pytest.approx(0.5 * COAL_CO2E)
    assert minute["coal"].kg_ch4 == pytest.approx(0.011602)
    assert minute["coal"].kg_n2o == pytest.approx(0.017403)
    # the day (local, from 2025-03-02T16:00Z) holds the 2nd minute too: 150.5 kWh in all
    assert day["grid"].amount == pytest.approx(150.5) and day["grid"].readings == 3
    assert day["grid"].start == _dt(T0 - 8 * 3600)
    # the hour of the site: 150.5 x 0.5827 + 21.62188809 + 1102.485851
    assert site[0].kg_co2e == pytest.approx(150.5 * JS_2023 + 10 * GAS + 0.5 * COAL_CO2E)
    with read(url, who) as s:
        factors = set(s.scalars(select(MonitoringReading.factor)))
    assert "cn-mee-grid/CN-JS@2023" in factors


def test_a_redelivered_batch_counts_once(plant) -> None:
    url, who = plant
    batch = [
        msg("grid", [{"ts": T0, "value": 1000}, {"ts": T0 + 30, "value": 1100}]),
        msg("coal", [{"ts": T0 + 10, "value": 0.25}, {"ts": T0 + 20, "value": 0.25}]),
    ]
    ingestor(url).ingest(batch)
    again = ingestor(url).ingest(batch)  # a restarted service receives it again
    same = ingestor(url)
    same.ingest(batch[:1])
    assert (again.accepted, again.duplicates, again.rejected) == (0, 4, 0)
    with read(url, who) as s:
        hour = {w.key: w for w in emissions(s, who, "s1", "1h", _dt(T0), _dt(T0 + 3600))}
        assert s.scalar(select(func.count()).select_from(MonitoringReading)) == 4
    assert hour["grid"].amount == pytest.approx(100)
    assert hour["coal"].amount == pytest.approx(0.5)  # 0.25 + 0.25, not doubled


def test_after_a_restart_a_redelivery_and_new_readings_share_a_batch(plant) -> None:
    """After a crash the broker redelivers what was stored but not acknowledged, in the same
    batch as new readings of the same meters: each reading counts once. (An interval meter's
    redelivered and new messages are separate chunks of one meter in one batch.)"""
    url, who = plant
    stored = [
        msg("grid", [{"ts": T0, "value": 1000}, {"ts": T0 + 30, "value": 1100}]),
        msg("coal", [{"ts": T0 + 10, "value": 0.25}, {"ts": T0 + 20, "value": 0.25}]),
    ]
    ingestor(url).ingest(stored)
    report = ingestor(url).ingest([
        *stored,  # redelivered to the restarted service
        msg("grid", [{"ts": T0 + 60, "value": 1250}, {"ts": T0 + 90, "value": 1300}]),
        msg("coal", [{"ts": T0 + 40, "value": 0.5}, {"ts": T0 + 50, "value": 0.5}]),
    ])  # fmt: skip
    assert (report.accepted, report.duplicates, report.rejected) == (4, 4, 0)
    with read(url, who) as s:
        assert s.scalar(select(func.count()).select_from(MonitoringReading)) == 8


def test_malformed_and_impossible_readings_are_kept_with_reasons(plant) -> None:
    url, who = plant
    bad = [
        ("openpcf/acme/s1", b"{}"),
        ("openpcf/acme/s1/nope", b'{"ts": 1740000000, "value": 1}'),
        msg("grid", [{"ts": T0, "value": 1000}]),
        ("openpcf/acme/s1/grid", b"{not json"),
        msg("grid", {"ts": T0 + 10, "value": "12"}),
        msg("grid", {"ts": NOW + 3600, "value": 2000}),  # an hour ahead of the clock
        msg("grid", {"ts": T0 + 20, "value": 1, "unit": "Nm3"}),
        msg("grid", {"ts": T0 + 30, "value": 900}),  # backwards, not a reset
        msg("grid", {"ts": T0 + 40, "value": 1.2, "unit": "MWh"}),  # 1200 kWh: fine
        msg("grid", {"ts": T0 + 5, "value": 1100}),  # older than the last: out of order
        msg("coal", [{"ts": T0, "value": 1}, {"ts": T0, "value": 2}]),  # conflicting duplicate
    ]
    r = ingestor(url).ingest(bad)
    assert r.accepted == 3  # grid baseline, grid 1.2 MWh, coal 1 t
    with read(url, who) as s:
        reasons = [
            x.reason for x in s.scalars(select(MonitoringRejected).order_by(MonitoringRejected.id))
        ]
    expected = ["not openpcf/<tenant>/<site>/<meter>", "no meter 's1/nope'", "not UTF-8 JSON",
                "not a number", "in the future", "does not fit the meter's unit",
                "backwards", "conflicting duplicate", "out of order"]  # fmt: skip
    assert len(reasons) == len(expected)
    for words in expected:
        assert any(words in reason for reason in reasons), words
    with read(url, who) as s:
        hour = {w.key: w for w in emissions(s, who, "s1", "1h", _dt(T0), _dt(T0 + 3600))}
        listed = rejected(s, who, "s1")
    assert hour["grid"].amount == pytest.approx(200)  # 1000 -> 1200 kWh
    assert len(listed) == len(expected) - 1  # the topic without a meter names no site
    # a redelivered refusal is stored once
    ingestor(url).ingest(bad[3:4])
    with read(url, who) as s:
        assert s.scalar(select(func.count()).select_from(MonitoringRejected)) == len(expected)


def test_rollover_and_reset_keep_counting(plant) -> None:
    url, who = plant
    ingestor(url).ingest([
        msg("grid", [{"ts": T0, "value": 9990}, {"ts": T0 + 10, "value": 15},  # wrap: +25
                     {"ts": T0 + 20, "value": 40},  # +25
                     {"ts": T0 + 30, "value": 30, "reset": True}]),  # reset: +30
    ])  # fmt: skip
    with read(url, who) as s:
        (w,) = emissions(s, who, "s1", "1m", _dt(T0), _dt(T0 + 60))
        notes = sorted(n for n in s.scalars(select(MonitoringReading.note)) if n)
    assert w.amount == pytest.approx(80)
    assert notes == ["baseline", "reset", "rollover"]


def test_counter_state_survives_a_restart(plant) -> None:
    url, who = plant
    ingestor(url).ingest([msg("grid", [{"ts": T0, "value": 100}, {"ts": T0 + 10, "value": 150}])])
    ingestor(url).ingest([msg("grid", {"ts": T0 + 20, "value": 175})])  # a new service
    with read(url, who) as s:
        (w,) = emissions(s, who, "s1", "1m", _dt(T0), _dt(T0 + 60))
    assert w.amount == pytest.approx(75)


def test_ingestion_is_audited_per_batch_and_registry_writes_per_row(plant) -> None:
    url, who = plant
    ingestor(url).ingest([msg("grid", [{"ts": T0, "value": 1}, {"ts": T0 + 1, "value": 2}]),
                          ("openpcf/acme/s1/grid", b"[")])  # fmt: skip
    with read(url, who) as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.tenant == "acme")))
    batch = [e for e in entries if e.entity == "monitoring_readings"]
    assert len(batch) == 1 and batch[0].actor == "service:test"
    assert batch[0].details["accepted"] == 2 and batch[0].details["rejected"] == 1
    registry = {e.entity for e in entries if e.actor == "operator:tests"}
    assert {"monitoring_sites", "monitoring_meters", "monitoring_allowances"} <= registry


def test_direct_connection_readings_are_appended_to_the_ledger(plant) -> None:
    url, who = plant
    ingestor(url).ingest([msg("wind", [{"ts": T0, "value": 10}, {"ts": T0 + 60, "value": 70}])])
    with read(url, who) as s:
        (payload,) = s.execute(text("SELECT payload FROM ledger_entries")).scalars()
    entry = json.loads(payload)
    assert entry["meter"] == "wind" and entry["amount"] == 60 and entry["readings"] == 2


def test_allowance_tracks_direct_co2_and_forecasts_the_year(plant) -> None:
    url, who = plant
    # 1 000 Nm3 of gas on 2025-03-03: 2 162.188809 kg CO2 = 2.162188809 t; grid power is not
    # counted (indirect). On 2025-03-03T01:00Z, 61.375 days of 365 have passed in Shanghai
    # (2025-01-01T00:00+08:00 = 2024-12-31T16:00Z; to 2025-03-03T01:00Z is 61 d 9 h).
    ingestor(url).ingest([
        msg("gas", [{"ts": T0, "value": 0}, {"ts": T0 + 60, "value": 1000}]),
        msg("grid", [{"ts": T0, "value": 0}, {"ts": T0 + 60, "value": 5000}]),
    ])  # fmt: skip
    with read(url, who) as s:
        a = allowance(s, who, "s1", 2025, now=NOW)
    assert a is not None
    elapsed = 61 + 9 / 24
    assert a.emitted_t_co2 == pytest.approx(2.162188809)
    assert a.forecast_t_co2 == pytest.approx(2.162188809 / elapsed * 365)
    assert not a.over and a.remaining_t_co2 == pytest.approx(100 - 2.162188809)


def test_live_snapshot_rates_and_alerts(plant) -> None:
    url, who = plant
    # the minute before NOW: 2 000 kWh in it -> 2 000 x 0.5827 x 60 = 69 924 kg CO2e/h > 1 000
    ingestor(url).ingest(
        [msg("grid", [{"ts": NOW - 120, "value": 0}, {"ts": NOW - 30, "value": 2000}])]
    )
    with read(url, who) as s:
        snap = live(s, who, "s1", now=NOW)
    grid = next(m for m in snap.meters if m.meter == "grid")
    assert grid.rate_kg_co2e_per_h == pytest.approx(2000 * JS_2023 * 60)
    assert grid.alert and any("grid" in a for a in snap.alerts)
    assert grid.last_reading == _dt(NOW - 30)


def test_activity_writes_primary_inputs_allocated_by_production(plant) -> None:
    url, who = plant
    ingestor(url).ingest([
        msg("grid", [{"ts": T0, "value": 0}, {"ts": T0 + 60, "value": 3000}]),
        msg("gas", [{"ts": T0, "value": 0}, {"ts": T0 + 60, "value": 600}]),
    ])  # fmt: skip
    produced = [parse_produced("urn:openpcf:product:acme:coil=200 t"),
                parse_produced("urn:openpcf:product:acme:plate=100000 kg")]  # fmt: skip
    with read(url, who) as s:
        result = activity(s, who, "s1", "2025-Q1", produced)
    coil, plate = result
    # 300 t made in all: 3 000 kWh / 300 t = 10 kWh/t, 600 Nm3 / 300 t = 2 Nm3/t for each
    assert coil.share == pytest.approx(2 / 3) and plate.share == pytest.approx(1 / 3)
    by_unit = {i.unit: i for i in coil.inputs}
    assert by_unit["kWh"].amount == pytest.approx(10) and by_unit["Nm3"].amount == pytest.approx(2)
    assert by_unit["kWh"].electricity is not None and by_unit["kWh"].electricity.region == "CN-JS"
    assert by_unit["Nm3"].factor == "cn-ndrc-fuel/natural-gas"
    # one minute of readings in a quarter: completeness 5; measured, unverified: reliability 2
    assert all(i.primary and i.dq is not None for i in coil.inputs)
    assert by_unit["kWh"].dq.completeness == 5 and by_unit["kWh"].dq.reliability == 2
    doc = yaml.safe_load(fragment_yaml("s1", "2025-Q1", coil))
    model = ProductModel.model_validate({
        "openpcf": 1,
        "product": {"name": "coil", "declared_unit": {"amount": 1, "unit": "t"},
                    "region": "CN-JS", "year": 2025},
        "inputs": doc["inputs"],
    })  # fmt: skip
    assert all(i.primary for i in model.inputs)


def test_another_tenant_sees_nothing(plant) -> None:
    url, _ = plant
    factory = sessions(url)
    with factory() as s:
        from openpcf.store.models import Tenant

        other_id = s.scalar(select(Tenant.id).where(Tenant.slug == "other"))
    other = Principal(kind="user", subject="admin@other.example", tenant="other",
                      tenant_id=other_id, role=Role.admin)  # fmt: skip
    with factory() as s:
        for call in (lambda: live(s, other, "s1", now=NOW),
                     lambda: emissions(s, other, "s1", "1h", _dt(T0), _dt(NOW)),
                     lambda: rejected(s, other, "s1"),
                     lambda: allowance(s, other, "s1", 2025)):  # fmt: skip
            with pytest.raises(NotFound):
                call()
    # readings published under tenant other's topic for acme's site are refused
    r = ingestor(url).ingest([msg("grid", {"ts": T0, "value": 1}, tenant="other")])
    assert r.accepted == 0 and r.rejected == 1


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _stored_rows(url: str) -> tuple[list[tuple], list[tuple]]:
    with sessions(url)() as s:
        rows = s.execute(text(
            "SELECT ts_ms, value, delta, kg_co2e, kg_co2, kg_ch4, kg_n2o, factor, note "
            "FROM monitoring_readings ORDER BY meter_id, ts_ms")).all()  # fmt: skip
        windows = s.execute(text(
            "SELECT resolution, start_ms, amount, kg_co2e, kg_co2, readings, last_ts_ms "
            "FROM monitoring_aggregates ORDER BY meter_id, resolution, start_ms")).all()  # fmt: skip
    return [tuple(r) for r in rows], [tuple(w) for w in windows]


def test_fast_path_and_reading_by_reading_store_the_same_rows(
    plant, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The same counter and interval readings, once as numbers (the numpy fast path) and once
    with ISO 8601 times (reading by reading through the domain's checks), into two stores."""
    url, _ = plant
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    # across a minute, an hour and the local day's start (2025-03-02T16:00Z); kWh values with
    # fractions so a different subtraction order would show
    times = [T0 - 8 * 3600 - 30, T0 - 8 * 3600 + 15, T0 - 59, T0 + 1, T0 + 3599.5, T0 + 3600.25]
    grid = [{"ts": t, "value": 1000.1 + 17.3 * i} for i, t in enumerate(times)]
    coal = [{"ts": t, "value": 0.1 * (i + 1)} for i, t in enumerate(times)]

    def iso(readings: list[dict]) -> list[dict]:
        return [dict(r, ts=_dt(r["ts"]).isoformat()) for r in readings]

    clock = T0 + 7200
    fast = Ingestor(url, name="test", clock=lambda: clock).ingest(
        [msg("grid", grid[:3]), msg("grid", grid[3:]), msg("coal", coal)]
    )
    with plant_database(kind, tmp_path) as (other, _):
        slow = Ingestor(other, name="test", clock=lambda: clock).ingest(
            [msg("grid", iso(grid[:3])), msg("grid", iso(grid[3:])), msg("coal", iso(coal))]
        )
        assert _stored_rows(other) == _stored_rows(url)
        with sessions(other)() as s:
            slow_digest = s.scalars(select(AuditEntry.details).where(
                AuditEntry.entity == "monitoring_readings")).one()["sha256"]  # fmt: skip
    assert (fast.accepted, fast.rejected, slow.accepted, slow.rejected) == (12, 0, 12, 0)
    rows, windows = _stored_rows(url)
    # grid deltas: baseline 0, then 17.3 kWh each (as float subtraction of the values)
    values = [r["value"] for r in grid]
    assert [r[2] for r in rows[:6]] == [0.0] + [b - a for a, b in pairwise(values)]
    assert rows[0][8] == "baseline"
    with sessions(url)() as s:
        fast_digest = s.scalars(select(AuditEntry.details).where(
            AuditEntry.entity == "monitoring_readings")).one()["sha256"]  # fmt: skip
    assert fast_digest == slow_digest
    # the daily windows in local time: before 16:00Z the grid's baseline alone (0 kWh), the
    # five later readings add 5 x 17.3 = 86.5 kWh in the day starting 2025-03-02T16:00Z
    days = [w for w in windows if w[0] == "1d"]
    assert [w[5] for w in days[:2]] == [1, 5] and days[1][2] == pytest.approx(86.5)


def test_repeats_within_a_batch_are_found_across_both_paths(plant) -> None:
    url, who = plant
    r = ingestor(url).ingest([
        msg("coal", [{"ts": T0 + 10, "value": 0.25}, {"ts": T0 + 20, "value": 0.25}]),  # fast
        msg("coal", [{"ts": _dt(T0 + 10).isoformat(), "value": 0.25},  # repeat
                     {"ts": _dt(T0 + 20).isoformat(), "value": 0.5}]),  # conflict
        msg("coal", [{"ts": T0 + 15, "value": 0.125}]),  # older than the batch's newest: checked
        msg("coal", [{"ts": T0 + 30, "value": 0.5}]),  # fast again, after a checked one
        msg("coal", [{"ts": _dt(T0 + 30).isoformat(), "value": 0.5}]),  # repeats it
    ])  # fmt: skip
    assert (r.accepted, r.duplicates, r.rejected) == (4, 2, 1)
    with read(url, who) as s:
        (w,) = emissions(s, who, "s1", "1h", _dt(T0), _dt(T0 + 3600))
    assert w.amount == pytest.approx(1.125)  # 0.25 + 0.25 + 0.125 + 0.5


def test_a_reading_another_writer_stored_meanwhile_counts_once(plant) -> None:
    """Two services on one tenant (which the README says not to run): the second believes a
    reading is new, the store says otherwise; the batch is redone from the store."""
    url, who = plant
    first, second = ingestor(url), ingestor(url)
    second.ingest([msg("coal", {"ts": T0 + 5, "value": 0.5}),
                   msg("gas", [{"ts": T0 + 5, "value": 100}])])  # fmt: skip
    first.ingest([msg("coal", [{"ts": T0 + 10, "value": 0.25}]),
                  msg("gas", [{"ts": T0 + 10, "value": 110}])])  # fmt: skip
    r = second.ingest([
        msg("coal", [{"ts": T0 + 10, "value": 0.25}, {"ts": T0 + 20, "value": 0.25}]),
        msg("gas", [{"ts": T0 + 10, "value": 110}, {"ts": T0 + 20, "value": 130}]),
    ])  # fmt: skip
    assert (r.accepted, r.duplicates, r.rejected) == (2, 2, 0)
    with read(url, who) as s:
        hour = {w.key: w for w in emissions(s, who, "s1", "1h", _dt(T0), _dt(T0 + 3600))}
        assert s.scalar(select(func.count()).select_from(MonitoringReading)) == 6
    assert hour["coal"].amount == pytest.approx(1.0)  # 0.5 + 0.25 + 0.25, not 1.25
    assert hour["gas"].amount == pytest.approx(30)  # 100 -> 110 -> 130
