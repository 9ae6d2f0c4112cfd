"""Realistic readings for a demo plant, published to the broker as its meters would.

Each simulated meter uses `per_hour` on average at full load, less at night (22:00–06:00 local,
60%) and on Sundays (50%), with ±5% noise below full load. Counters are a deterministic
function of time (the full-load use since 2020-01-01, wrapped at the counter's rollover), so a
restarted simulator continues a counter upwards instead of resetting it; interval meters
report the use of each interval.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from openpcf.domain.monitoring import MeterSpec, PlantSpec, ReadingKind, SimulatedMeter

EPOCH_S = datetime(2020, 1, 1, tzinfo=UTC).timestamp()


@dataclass
class SimMeter:
    topic: str
    spec: MeterSpec
    load: SimulatedMeter
    zone: ZoneInfo
    value: float | None = None  # a counter's last value


def sim_meters(plant: PlantSpec, tenant: str) -> list[SimMeter]:
    zones = {s.id: ZoneInfo(s.timezone) for s in plant.sites}
    out = []
    for m in plant.meters:
        load = plant.simulation.get(f"{m.site}/{m.id}")
        if load is not None:
            out.append(SimMeter(f"openpcf/{tenant}/{m.site}/{m.id}", m, load, zones[m.site]))
    return out


def shape(load: SimulatedMeter, zone: ZoneInfo, ts: float) -> float:
    if not load.shifts:
        return 1.0
    local = datetime.fromtimestamp(ts, zone)
    factor = 0.6 if local.hour >= 22 or local.hour < 6 else 1.0
    return factor * (0.5 if local.weekday() == 6 else 1.0)


def readings(meters: list[SimMeter], start: float, interval: float, seed: int = 1) -> Iterator[
    tuple[SimMeter, float, float]
]:  # fmt: skip
    """(meter, ts, value) for each meter every `interval` seconds from `start`, forever."""
    rng = random.Random(seed)
    ts = start
    while True:
        for m in meters:
            use = m.load.per_hour * interval / 3600 * shape(m.load, m.zone, ts)
            use *= 0.95 + 0.05 * rng.random()
            if m.spec.reading is ReadingKind.interval:
                yield m, ts, round(use, 6)
                continue
            if m.value is None:
                m.value = m.load.per_hour * (ts - EPOCH_S) / 3600
            else:
                m.value += use
            value = m.value % m.spec.rollover if m.spec.rollover else m.value
            yield m, ts, round(value, 3)
        ts += interval


class Publisher:
    """A QoS 1 publisher in a persistent session: messages survive a broker restart."""

    def __init__(self, host: str, port: int, client_id: str) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)
        self.connected = threading.Event()
        self.client.on_connect = lambda *a: self.connected.set()
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.connect_async(host, port, keepalive=30)
        self.client.loop_start()
        self.last: mqtt.MQTTMessageInfo | None = None

    def publish(self, topic: str, payload: bytes) -> None:
        self.last = self.client.publish(topic, payload, qos=1)

    def close(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.client._out_messages and time.monotonic() < deadline:
            time.sleep(0.05)
        self.client.disconnect()
        self.client.loop_stop()


def payload_of(batch: list[tuple[float, float]]) -> bytes:
    if len(batch) == 1:
        ts, value = batch[0]
        return json.dumps({"ts": ts, "value": value}).encode()
    return json.dumps([{"ts": ts, "value": v} for ts, v in batch]).encode()


def simulate(
    plant: PlantSpec,
    tenant: str,
    host: str,
    port: int,
    interval: float = 1.0,
    per_message: int = 1,
    start: float | None = None,
    count: int | None = None,
    stop: threading.Event | None = None,
    client_id: str | None = None,
) -> int:
    """Publish readings; returns how many. Live (timestamps of now, one round per `interval`
    seconds) unless `start` is given: then as fast as possible from `start` (a backfill).
    `per_message` readings of a meter go in one message (a JSON array)."""
    meters = sim_meters(plant, tenant)
    if not meters:
        raise ValueError("the plant file simulates no meter (add a 'simulation' section)")
    stop = stop or threading.Event()
    live = start is None
    pub = Publisher(host, port, client_id or f"openpcf-sim-{tenant}")
    pending: dict[str, list[tuple[float, float]]] = {}
    sent = 0
    begin = time.time() if live else start
    assert begin is not None
    try:
        for i, (m, ts, value) in enumerate(readings(meters, begin, interval)):
            if stop.is_set() or (count is not None and sent >= count):
                break
            if live and i % len(meters) == 0:
                wait = ts - time.time()
                if wait > 0 and stop.wait(wait):
                    break
            batch = pending.setdefault(m.topic, [])
            batch.append((ts, value))
            sent += 1
            if len(batch) >= per_message:
                pub.publish(m.topic, payload_of(batch))
                pending[m.topic] = []
        for topic, batch in pending.items():
            if batch:
                pub.publish(topic, payload_of(batch))
    finally:
        pub.close()
    return sent
