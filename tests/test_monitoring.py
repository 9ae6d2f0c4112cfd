"""Plant monitoring, the pure parts: counters, payloads, windows, allowance forecast, periods."""

from __future__ import annotations

import json

import pytest

from openpcf.domain.monitoring import (
    DUPLICATE,
    LATE,
    CounterState,
    Delta,
    Rejected,
    allowance_status,
    check_value,
    completeness_score,
    counter_delta,
    parse_period,
    window_start,
)
from openpcf.io.mqtt_payload import fast_readings, parse_payload, parse_topic

T = 1_740_000_000_000  # 2025-02-19T21:20:00Z in ms


def test_first_reading_of_a_counter_is_its_baseline() -> None:
    assert counter_delta(None, T, 1234.5) == Delta(0.0, "baseline")


def test_counter_delta_is_the_difference() -> None:
    assert counter_delta(CounterState(T, 1000.0), T + 1000, 1100.5) == Delta(100.5)


def test_same_reading_again_is_a_duplicate_and_another_value_at_that_time_is_refused() -> None:
    last = CounterState(T, 1000.0)
    assert counter_delta(last, T, 1000.0) is DUPLICATE
    out = counter_delta(last, T, 1001.0)
    assert isinstance(out, Rejected) and "conflicting duplicate" in out.reason


def test_older_reading_is_late() -> None:
    assert counter_delta(CounterState(T, 1000.0), T - 1, 999.0) is LATE


def test_rollover_wraps_at_capacity() -> None:
    # capacity 10 000: 9 990 -> 15 is 10 to the wrap plus 15 = 25
    assert counter_delta(CounterState(T, 9990.0), T + 1, 15.0, rollover=10_000) == Delta(
        25.0, "rollover"
    )


def test_a_fall_that_wrapping_does_not_explain_is_no_rollover() -> None:
    # 4 000 -> 300 with capacity 10 000 would be 6 300 by wrapping (≥ half a capacity), and
    # 300 is not below 5% of 4 000 (200), so no reset either: refused
    out = counter_delta(CounterState(T, 4000.0), T + 1, 300.0, rollover=10_000)
    assert isinstance(out, Rejected) and "backwards" in out.reason


def test_reset_flag_or_a_fall_near_zero_is_a_reset() -> None:
    assert counter_delta(CounterState(T, 5000.0), T + 1, 3000.0, reset=True) == Delta(
        3000.0, "reset"
    )
    # 12 < 5% of 5 000 = 250: the meter restarted from 0; the 12 since count
    assert counter_delta(CounterState(T, 5000.0), T + 1, 12.0) == Delta(12.0, "reset")


def test_counter_going_backwards_is_refused_with_the_numbers() -> None:
    out = counter_delta(CounterState(T, 5000.0), T + 1, 4900.0)
    assert isinstance(out, Rejected)
    assert "5000" in out.reason and "4900" in out.reason and "reset" in out.reason


def test_value_above_capacity_is_refused() -> None:
    out = counter_delta(CounterState(T, 5.0), T + 1, 10_001.0, rollover=10_000)
    assert isinstance(out, Rejected) and "capacity" in out.reason


@pytest.mark.parametrize(
    ("value", "ts", "words"),
    [
        ("12", T, "not a number"),
        (True, T, "not a number"),
        (float("nan"), T, "finite"),
        (-1.0, T, "negative"),
        (1.0, T + 10 * 60_000, "future"),
        (1.0, 0, "before 2000"),
    ],
)
def test_impossible_values_are_refused_with_the_reason(value: object, ts: int, words: str) -> None:
    reason = check_value(value, ts, now_ms=T)
    assert reason is not None and words in reason


def test_a_reading_within_the_clock_tolerance_is_accepted() -> None:
    assert check_value(1.0, T + 4 * 60_000, now_ms=T) is None


def test_topic_names_tenant_site_and_meter() -> None:
    name = parse_topic("openpcf/acme/wuxi/mill")
    assert not isinstance(name, str)
    assert (name.tenant, name.site, name.meter) == ("acme", "wuxi", "mill")
    for bad in ("openpcf/acme/wuxi", "other/acme/wuxi/mill", "openpcf/acme//mill"):
        assert isinstance(parse_topic(bad), str)


def test_payload_forms_single_array_and_readings_object() -> None:
    one = json.dumps({"ts": "2025-02-19T21:20:00Z", "value": 1}).encode()
    many = json.dumps([{"ts": 1740000000, "value": 1}, {"ts": 1740000001.5, "value": 2}]).encode()
    obj = json.dumps({"readings": [{"ts": "2025-02-20T05:20:00+08:00", "value": 3}]}).encode()
    assert [i.ts_ms for i in parse_payload(one)[0]] == [T]
    assert [i.ts_ms for i in parse_payload(many)[0]] == [T, T + 1500]
    assert [i.ts_ms for i in parse_payload(obj)[0]] == [T]  # +08:00 is 8 h earlier in UTC


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"{not json", "not UTF-8 JSON"),
        (b"42", "JSON int"),
        (b'{"readings": 5}', "must be an array"),
        (b'{"readings": [], "x": 1}', "unknown field"),
        (b"[1]", "must be a JSON object"),
        (b'{"value": 1}', "missing ts"),
        (b'{"ts": 1740000000}', "missing value"),
        (b'{"ts": "yesterday", "value": 1}', "not ISO 8601"),
        (b'{"ts": "2025-02-19T21:20:00", "value": 1}', "no UTC offset"),
        (b'{"ts": [], "value": 1}', "must be an ISO 8601 string"),
        (b'{"ts": 1740000000, "value": 1, "unit": 5}', "unit must be a string"),
        (b'{"ts": 1740000000, "value": 1, "reset": "yes"}', "reset must be"),
        (b'{"ts": 1740000000, "value": 1, "kwh": 1}', "unknown field(s) kwh"),
    ],
)
def test_malformed_payloads_are_refused_with_a_reason(payload: bytes, words: str) -> None:
    items, refused = parse_payload(payload)
    assert items == [] and len(refused) == 1
    assert words in refused[0].reason


def test_fast_reader_takes_well_formed_arrays_and_leaves_the_rest_to_the_checks() -> None:
    many = b'[{"ts": 1740000000, "value": 1}, {"ts": "2025-02-19T21:20:01Z", "value": 2.5}]'
    obj = b'{"readings": [{"ts": 1740000000, "value": 1, "unit": "MWh", "reset": true}]}'
    assert [(r.ts, r.value) for r in fast_readings(many) or []] == [
        (1740000000.0, 1.0),
        ("2025-02-19T21:20:01Z", 2.5),
    ]
    (r,) = fast_readings(obj) or []
    assert (r.unit, r.reset) == ("MWh", True)
    # whatever needs a reason goes to parse_payload: a single object too (it reads it)
    for payload in (b'{"ts": 1740000000, "value": 1}', b'[{"ts": 1740000000, "value": true}]',
                    b'[{"ts": 1740000000, "value": "1"}]', b'[{"ts": 1740000000, "value": NaN}]',
                    b'[{"ts": 1740000000, "value": 1e999}]', b'[{"ts": 1740000000}]',
                    b'[{"ts": 1740000000, "value": 1, "kwh": 1}]', b"[1]", b"\xff", b"{"):  # fmt: skip
        assert fast_readings(payload) is None, payload


def test_one_bad_reading_does_not_refuse_its_neighbours() -> None:
    items, refused = parse_payload(b'[{"ts": 1740000000, "value": 1}, {"ts": "x", "value": 2}]')
    assert [i.index for i in items] == [0] and [r.index for r in refused] == [1]


def test_windows_align_to_local_time() -> None:
    # Asia/Shanghai is UTC+8: a local day starts at 16:00 UTC the day before.
    # T = 2025-02-19T21:20Z = 2025-02-20T05:20 local -> the day began 2025-02-19T16:00Z.
    day_start = 1_739_980_800_000  # 2025-02-19T16:00:00Z
    assert window_start(T, 86_400_000, 8 * 3_600_000) == day_start
    assert window_start(T + 59_999, 60_000) == T
    assert window_start(T, 900_000) == T - 5 * 60_000  # 21:15


def test_allowance_forecast_continues_the_run_rate() -> None:
    # 30 000 t in the first 73 days of a 365-day year: 410.96 t/day, so 30 000 + 292 × 410.96
    # = 150 000 t at year end, against 140 000 t: over by 10 000 t.
    s = allowance_status(2025, 140_000, 30_000, 73, 365)
    assert s.forecast_t == pytest.approx(150_000)
    assert s.over and s.remaining_t == pytest.approx(110_000)


def test_completeness_from_coverage() -> None:
    assert [completeness_score(c) for c in (1.0, 0.9, 0.7, 0.5, 0.1)] == [1, 2, 3, 4, 5]


def test_periods() -> None:
    assert parse_period("2025-Q1") == ((2025, 1, 1), (2025, 4, 1))
    assert parse_period("2025-Q4") == ((2025, 10, 1), (2026, 1, 1))
    assert parse_period("2025-02") == ((2025, 2, 1), (2025, 3, 1))
    assert parse_period("2025") == ((2025, 1, 1), (2026, 1, 1))
    with pytest.raises(ValueError, match="YYYY-Qn"):
        parse_period("Q1 2025")
