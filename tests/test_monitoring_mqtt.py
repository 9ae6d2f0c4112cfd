"""The ingestion service against a real Mosquitto broker and the real store: readings published
over MQTT end up stored exactly once, through a broker restart and an ingestion-service crash.

The restart tests run their own broker (a temporary config with persistence on, on a free
port) so they can stop and start it without disturbing the system broker on 1883. They skip
when the `mosquitto` binary is absent, which fails under OPENPCF_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select

from openpcf.services.monitoring.ingest import Ingestor
from openpcf.services.monitoring.live import emissions
from openpcf.services.monitoring.mqtt import IngestionService, Settings
from openpcf.services.monitoring.registry import tenant_principal
from openpcf.services.monitoring.simulate import Publisher
from openpcf.services.platform import accounts
from openpcf.store.db import sessions
from openpcf.store.models_monitoring import MonitoringReading, MonitoringRejected
from tests.cli_runner import openpcf_exe
from tests.databases import KINDS
from tests.test_monitoring_ingest import _dt, plant_database

T0 = 1_740_000_000  # 2025-02-19T21:20:00Z


class Broker:
    """A Mosquitto of the test's own, with persistence, restartable on the same port."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
        )
        if binary is None:
            pytest.skip("the mosquitto binary is not installed (apt-get install mosquitto)")
        self.binary = binary
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        (folder / "data").mkdir()
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {folder / 'data'}/\nautosave_interval 1\n"
            "max_queued_messages 0\nmax_inflight_messages 100\n"
            # started as root, Mosquitto would switch to user 'mosquitto', which cannot write
            # the test's folder: its persistence would fail and a restart lose the queue
            f"user {getpass.getuser()}\n"
        )
        self.log = folder / "broker.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([self.binary, "-c", str(self.config)],
                                            stdout=log, stderr=log)  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start: {self.log.read_text()[-500:]}")

    def stop(self) -> None:
        """SIGTERM: Mosquitto saves its persistent sessions and queues, then exits."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path)
    b.start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with plant_database(request.param, tmp_path) as (url, _):
        yield url


def stream(start: int, count: int, per_message: int = 10) -> Iterator[tuple[str, bytes]]:
    """A gas counter going up by i (Nm3) each second and coal interval readings of 0.01 t."""
    for first in range(start, start + count, per_message):
        idx = range(first, min(first + per_message, start + count))
        gas = [{"ts": T0 + i, "value": 1000 + i * (i + 1) / 2} for i in idx]
        coal = [{"ts": T0 + i, "value": 0.01} for i in idx]
        yield "openpcf/acme/s1/gas", json.dumps(gas).encode()
        yield "openpcf/acme/s1/coal", json.dumps(coal).encode()


class Running:
    """The ingestion service in a thread of the test."""

    def __init__(self, url: str, port: int, client_id: str = "svc-test") -> None:
        ingestor = Ingestor(url, name=client_id, clock=lambda: T0 + 86400)
        self.service = IngestionService(ingestor, Settings(port=port, client_id=client_id,
                                                           tenant="acme", flush_s=0.05))  # fmt: skip
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.service.run, args=(self.stop,), daemon=True)
        self.thread.start()
        assert self.service.subscribed.wait(30), "the service never subscribed"

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def stored(url: str) -> int:
    with sessions(url)() as s:
        return s.scalar(select(func.count()).select_from(MonitoringReading)) or 0


def wait_for(url: str, n: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    count = stored(url)
    while count < n and time.monotonic() < deadline:
        time.sleep(0.2)
        count = stored(url)
    time.sleep(0.5)  # anything beyond n would be a double count: give it time to show
    return stored(url)


def refusals(url: str) -> list[str]:
    with sessions(url)() as s:
        return list(s.scalars(select(MonitoringRejected.reason).limit(5)))


def totals(url: str) -> tuple[float, float]:
    """(gas Nm3, coal t) over the whole stream."""
    who = _acme(url)
    with sessions(url)() as s:
        rows = {w.key: w for w in emissions(s, who, "s1", "1d", _dt(T0 - 86400), _dt(T0 + 86400))}
    return rows["gas"].amount or 0.0, rows["coal"].amount or 0.0


def _acme(url: str):
    with sessions(url)() as s:
        return tenant_principal(s, "acme", accounts.operator("tests"))


def expected(n: int) -> tuple[float, float]:
    # gas counter 1000 + i(i+1)/2 for i = 0..n-1: the baseline at i = 0 adds nothing, so the
    # stream adds (n-1)n/2 Nm3; coal: n readings of 0.01 t
    return (n - 1) * n / 2, n * 0.01


def test_broker_restart_mid_stream_loses_and_doubles_nothing(store: str, broker: Broker) -> None:
    n = 600
    running = Running(store, broker.port)
    pub = Publisher("127.0.0.1", broker.port, "pub-test")
    assert pub.connected.wait(10)
    messages = list(stream(0, n))
    try:
        for topic, payload in messages[: len(messages) // 2]:
            pub.publish(topic, payload)
        time.sleep(0.3)
        broker.stop()  # mid-stream: some messages queued, some in flight
        for topic, payload in messages[len(messages) // 2 :]:
            pub.publish(topic, payload)  # queued by the publisher's client until reconnected
        time.sleep(1.0)
        broker.start()
        pub.close()
        assert wait_for(store, 2 * n) == 2 * n, refusals(store)
    finally:
        running.close()
    gas, coal = totals(store)
    want_gas, want_coal = expected(n)
    assert gas == pytest.approx(want_gas) and coal == pytest.approx(want_coal)


def test_ingestion_service_crash_mid_stream_loses_and_doubles_nothing(
    store: str, broker: Broker, tmp_path: Path
) -> None:
    n = 600
    env = os.environ | {"OPENPCF_DATABASE_URL": store}
    args = [openpcf_exe(), "monitor", "run", "--broker", f"127.0.0.1:{broker.port}",
            "--tenant", "acme", "--client-id", "svc-crash", "--quiet"]  # fmt: skip
    log = (tmp_path / "svc.log").open("wb")
    service = subprocess.Popen(args, env=env, stdout=log, stderr=log)
    pub = Publisher("127.0.0.1", broker.port, "pub-crash")
    try:
        assert pub.connected.wait(10)
        _wait_subscribed(broker.port, "svc-crash", store)
        messages = list(stream(0, n))
        for topic, payload in messages[: len(messages) // 2]:
            pub.publish(topic, payload)
        deadline = time.monotonic() + 30
        while stored(store) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        service.kill()  # SIGKILL mid-stream: no drain, no clean disconnect
        service.wait(timeout=10)
        for topic, payload in messages[len(messages) // 2 :]:
            pub.publish(topic, payload)  # the broker queues them for the persistent session
        pub.close()
        service = subprocess.Popen(args, env=env, stdout=log, stderr=log)
        assert wait_for(store, 2 * n) == 2 * n, (tmp_path / "svc.log").read_text()[-2000:]
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=20)
        log.close()
    gas, coal = totals(store)
    want_gas, want_coal = expected(n)
    assert gas == pytest.approx(want_gas) and coal == pytest.approx(want_coal)


def _wait_subscribed(port: int, client_id: str, url: str) -> None:
    """Until the service's subscription exists: a probe message for an unknown meter is
    refused and stored, which only a subscribed service can do."""
    probe = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="probe")
    probe.connect("127.0.0.1", port)
    probe.loop_start()
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            probe.publish("openpcf/acme/s1/probe", b"{}", qos=1).wait_for_publish(5)
            time.sleep(0.3)
            with sessions(url)() as s:
                if s.scalar(select(func.count()).select_from(MonitoringRejected)):
                    return
        raise AssertionError(f"{client_id} never subscribed")
    finally:
        probe.disconnect()
        probe.loop_stop()


def test_malformed_messages_never_stop_ingestion(store: str, broker: Broker) -> None:
    running = Running(store, broker.port)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bad-pub")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    bad = [b"", b"\x00\xff", b"[", b"null", b'{"readings": {}}', b'[{"ts": "x", "value": 1}]',
           b'{"ts": 1740000000, "value": -5}', b'{"ts": 9e99, "value": 1}', b"x" * 100_000]  # fmt: skip
    try:
        for payload in bad:
            client.publish("openpcf/acme/s1/grid", payload, qos=1).wait_for_publish(5)
        client.publish("openpcf/acme/s1/coal", json.dumps({"ts": T0, "value": 0.5}), qos=1)
        client.publish("openpcf/acme/s1/nope/extra", b"{}", qos=1).wait_for_publish(5)
        assert wait_for(store, 1, timeout=30) == 1
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with sessions(store)() as s:
                reasons = list(s.scalars(select(MonitoringRejected.reason)))
            if len(reasons) >= len(bad):
                break
            time.sleep(0.2)
    finally:
        client.disconnect()
        client.loop_stop()
        running.close()
    # every bad message has a refusal with a reason (the topic with 5 levels is not ours to
    # receive: the service subscribes to openpcf/acme/+/+ only)
    assert len(reasons) == len(bad) and all(reasons)


def test_system_broker_delivers_to_the_service(store: str) -> None:
    """The broker on 127.0.0.1:1883 that `openpcf monitor run` uses by default."""
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
    except OSError:
        pytest.skip("no MQTT broker on 127.0.0.1:1883 (start mosquitto)")
    client_id = f"svc-{os.getpid()}-{time.monotonic_ns()}"
    running = Running(store, 1883, client_id)
    try:
        time.sleep(0.5)
        pub = Publisher("127.0.0.1", 1883, f"pub-{client_id}")
        for topic, payload in stream(0, 100):
            pub.publish(topic, payload)
        pub.close()
        assert wait_for(store, 200) == 200
    finally:
        running.close()
        # forget the persistent session on the shared broker
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        c.connect("127.0.0.1", 1883)
        c.disconnect()
