"""Benchmark of meter ingestion: sustained rate and reading-to-dashboard latency.

Run from the project root (Mosquitto on 127.0.0.1:1883; PostgreSQL for --database-url):

    python benchmarks/monitor.py [--readings 300000] [--meters 50] [--per-message 1000]
                                 [--rate 50000] [--seconds 20] [--max-messages 10]
                                 [--database-url URL] [--broker 127.0.0.1:1883]

Three measurements in one run, on the same machine, broker and payloads:

1. peer: a bare paho subscriber (QoS 1, its own process) that only decodes the JSON (msgspec,
   as the service does) and counts readings: the ceiling one Python MQTT client sets;
2. throughput: `openpcf monitor run` (its own process) validates, computes deltas and
   emissions, and writes readings, aggregates and the audit entry per batch into a fresh
   database (SQLite by default), acknowledging each message after its batch commits, while
   this process publishes `--readings` as fast as QoS 1 allows; the rate is readings stored ÷
   time from the first publish to the last reading stored;
3. latency: the publisher then sends `--rate` readings/s for `--seconds`, spread evenly (each
   meter one message per `--per-message` ÷ (`--rate` ÷ `--meters`) seconds, its readings 1 ms
   apart ending at the publish time), while `openpcf serve` (its own process) streams the
   site's dashboard to this process over HTTP (server-sent events, `GET
   /monitoring/sites/bench/stream`, one snapshot every OPENPCF_MONITOR_SSE_INTERVAL = 0.5 s).
   A message's latency is the time from its publish to the first event showing its meter's
   last reading at least that recent.

Targets (issue 7): ≥ 50,000 readings/s sustained, p99 reading-to-dashboard ≤ 2 s on 2 cores.
The script is a report and exits 0 either way. Keep --readings ÷ --per-message under the
broker's max_queued_messages (Mosquitto: 1000) or the broker drops what the service has not
taken yet; keep --max-messages at most half the broker's max_inflight_messages (Mosquitto: 20)
so the broker sends the next messages while a batch is written.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).parent / "openpcf"


def plant(meters: int) -> dict:
    return {
        "sites": [{"id": "bench", "name": "Bench plant", "region": "CN-JS"}],
        "meters": [
            {"id": f"m{i:03d}", "site": "bench", "equipment": f"line {i // 10}",
             "carrier": "electricity", "unit": "kWh", "reading": "cumulative",
             "factor": {"kind": "grid"}}
            for i in range(meters)
        ],
    }  # fmt: skip


class Meters:
    """Counter readings of each meter: values that go up by 1 per reading, times that go up."""

    def __init__(self, tenant: str, meters: int) -> None:
        self.topics = [f"openpcf/{tenant}/bench/m{m:03d}" for m in range(meters)]
        self.value = [1000.0] * meters
        self.last_ts = [0.0] * meters

    def payload(self, m: int, n: int, now: float) -> tuple[bytes, float]:
        """n readings of meter m, 1 ms apart, the last at `now` (or just after the meter's
        previous one); returns the payload and the last reading's time."""
        end = round(max(now, self.last_ts[m] + 0.001 * n), 3)
        v = self.value[m]
        readings = [{"ts": round(end - 0.001 * (n - 1 - i), 3), "value": v + i} for i in range(n)]
        self.value[m] = v + n
        self.last_ts[m] = end
        return msgspec.json.encode(readings), end


def publisher(host: str, port: int, name: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{name}-{os.getpid()}")
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    client.connect(host, port)
    client.loop_start()
    return client


def flood(host: str, port: int, source: Meters, readings: int, per_message: int) -> float:
    """Publish `readings` as fast as QoS 1 allows, meters in turn; returns the first publish's
    time."""
    client = publisher(host, port, "bench-pub")
    first = time.time()
    info = None
    for _ in range(readings // (len(source.topics) * per_message)):
        for m, topic in enumerate(source.topics):
            payload, _ = source.payload(m, per_message, time.time())
            info = client.publish(topic, payload, qos=1)
    if info is not None:
        info.wait_for_publish(300)
    client.disconnect()
    client.loop_stop()
    return first


def steady(host: str, port: int, source: Meters, per_message: int, rate: float,
           seconds: float) -> tuple[dict[tuple[str, float], float], float]:  # fmt: skip
    """Publish `rate` readings/s for `seconds`; returns {(meter, last ts): publish time} and
    how far behind schedule the publisher fell at worst (s)."""
    client = publisher(host, port, "bench-steady")
    every = per_message / rate  # between two messages
    sent: dict[tuple[str, float], float] = {}
    start = time.time()
    behind = 0.0
    k = 0
    while (due := start + k * every) < start + seconds:
        now = time.time()
        if due > now:
            time.sleep(due - now)
        m = k % len(source.topics)
        now = time.time()
        behind = max(behind, now - due)
        payload, last = source.payload(m, per_message, now)
        client.publish(source.topics[m], payload, qos=1)
        sent[(source.topics[m].rsplit("/", 1)[1], last)] = now
        k += 1
    client.disconnect()
    client.loop_stop()
    return sent, behind


PEER = """
import sys, time, threading, msgspec, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
host, port, topic, total = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
got, last, done = [0], [0.0], threading.Event()
decode = msgspec.json.decode
def on_message(_c, _u, msg):
    got[0] += len(decode(msg.payload))
    if got[0] >= total:
        last[0] = time.time(); done.set()
sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-peer-{time.time_ns()}")
sub.on_message = on_message
sub.on_subscribe = lambda *a: print("ready", flush=True)
sub.connect(host, port)
sub.subscribe(topic, qos=1)
sub.loop_start()
done.wait(300)
print(got[0], last[0], flush=True)
"""


def peer(host: str, port: int, args: argparse.Namespace) -> float:
    """Readings/s a subscriber in its own process that only decodes and counts receives."""
    total = args.readings // (args.meters * args.per_message) * args.meters * args.per_message
    proc = subprocess.Popen([sys.executable, "-c", PEER, host, str(port), "openpcf/peer/+/+",
                             str(total)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    t0 = flood(host, port, Meters("peer", args.meters), args.readings, args.per_message)
    got, last = proc.stdout.readline().split()
    proc.wait(30)
    return int(got) / (float(last) - t0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, ready, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not start in {timeout:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readings", type=int, default=300_000, help="for the throughput run")
    ap.add_argument("--meters", type=int, default=50)
    ap.add_argument("--per-message", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=50_000, help="readings/s of the latency run")
    ap.add_argument("--seconds", type=float, default=20, help="length of the latency run")
    ap.add_argument("--max-messages", type=int, default=10, help="the service's batch size")
    ap.add_argument("--database-url")
    ap.add_argument("--broker", default="127.0.0.1:1883")
    args = ap.parse_args()
    host, _, port_text = args.broker.rpartition(":")
    port = int(port_text)

    home = Path(tempfile.mkdtemp(prefix="openpcf-bench-monitor-"))
    os.environ["OPENPCF_HOME"] = str(home)
    url = args.database_url or f"sqlite:///{home / 'openpcf.db'}"
    schema = None
    if url.startswith("postgresql"):  # a schema of its own, dropped at the end
        schema = f"openpcf_bench_{os.getpid()}"
        _postgres(url, f'CREATE SCHEMA "{schema}"')
        url += f"{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    os.environ["OPENPCF_DATABASE_URL"] = url
    try:
        run(args, home, url, host, port)
    finally:
        if schema is not None:
            from openpcf.store.db import dispose_engine

            dispose_engine(url)
            _postgres(args.database_url, f'DROP SCHEMA "{schema}" CASCADE')


def _postgres(url: str, sql: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(sql))
    admin.dispose()


def run(args: argparse.Namespace, home: Path, url: str, host: str, port: int) -> None:

    from openpcf.domain.platform import Role
    from openpcf.services.monitoring.registry import apply_plant, plant_from, tenant_principal
    from openpcf.services.platform import accounts
    from openpcf.store.db import sessions
    from openpcf.store.models_monitoring import MonitoringAggregate, MonitoringReading

    tenant = f"bench-t{os.getpid()}"
    factory = sessions(url)
    op = accounts.operator("bench")
    accounts.create_tenant(factory(), op, tenant, "Bench")
    token = accounts.create_user(factory(), op, tenant, f"bench@{tenant}.example",
                                 Role.member).token.token  # fmt: skip
    with factory() as s:
        who = tenant_principal(s, tenant, op)
    apply_plant(factory(), who, plant_from(plant(args.meters)))
    per_round = args.meters * args.per_message
    total = args.readings // per_round * per_round
    print(f"{total:,} readings of {args.meters} meters, {args.per_message} per message; "
          f"database {url.split('?')[0].split('@')[-1]}; cores {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f} (shared machine)")  # fmt: skip

    peer_rate = peer(host, port, args)
    print(f"peer (subscriber that decodes and counts): {peer_rate:,.0f} readings/s")

    def stored() -> int:
        a = MonitoringAggregate
        with factory() as s:
            return s.scalar(select(func.coalesce(func.sum(a.readings), 0))
                            .where(a.resolution == "1d")) or 0  # fmt: skip

    client_id = f"bench-svc-{os.getpid()}"
    service = subprocess.Popen(
        [str(EXE), "monitor", "run", "--broker", args.broker, "--tenant", tenant,
         "--client-id", client_id, "--max-messages", str(args.max_messages), "--quiet"],
        stderr=(home / "service.log").open("wb"),
    )  # fmt: skip
    http = _free_port()
    server = subprocess.Popen(
        [str(EXE), "serve", "--port", str(http), "--no-access-log"],
        stdout=(home / "serve.log").open("wb"), stderr=subprocess.STDOUT,
        env=os.environ | {"OPENPCF_PUBLIC_URL": f"http://127.0.0.1:{http}"},  # required
    )  # fmt: skip
    try:
        _wait_subscribed(host, port, tenant)
        _wait("openpcf serve", lambda: _listening(http))

        source = Meters(tenant, args.meters)
        t0 = flood(host, port, source, total, args.per_message)
        deadline = time.time() + 300
        while (n := stored()) < total and time.time() < deadline:
            time.sleep(0.05)
        rate = n / (time.time() - t0)
        print(f"throughput (`openpcf monitor run --max-messages {args.max_messages}`): "
              f"{n:,} of {total:,} readings stored, {rate:,.0f} readings/s sustained = "
              f"{rate / peer_rate:.2f} × the peer (target ≥ 50,000/s)")  # fmt: skip

        events: list[tuple[float, dict[str, float]]] = []  # (received at, meter -> last ts)
        stop = threading.Event()
        watcher = threading.Thread(target=_watch, args=(http, token, events, stop), daemon=True)
        watcher.start()
        _wait("the dashboard stream", lambda: bool(events), 30)
        before = stored()
        sent, behind = steady(host, port, source, args.per_message, args.rate, args.seconds)
        want = before + len(sent) * args.per_message
        deadline = time.time() + 60
        while stored() < want and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)
        stop.set()
        watcher.join(5)
    finally:
        for proc in (service, server):
            proc.terminate()
            proc.wait(30)
    latencies = []
    by_time = []  # (publish time, latency): does the queue grow during the run?
    missing = 0
    for (meter, ts), at in sent.items():
        shown = next((t for t, last in events if last.get(meter, 0.0) >= ts - 1e-6), None)
        if shown is None:
            missing += 1
        else:
            latencies.append(shown - at)
            by_time.append((at, shown - at))
    got = stored() - before
    print(f"latency run: {args.rate:,.0f} readings/s for {args.seconds:g} s "
          f"({len(sent)} messages; publisher at worst {behind:.2f} s behind schedule), "
          f"{got:,} of {len(sent) * args.per_message:,} stored")  # fmt: skip
    if latencies:
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(f"reading-to-dashboard latency over HTTP SSE, {len(latencies)} messages"
              f"{f' ({missing} never shown)' if missing else ''}: p50 {p50:.2f} s, "
              f"p99 {p99:.2f} s, max {latencies[-1]:.2f} s (target p99 ≤ 2 s; an event every "
              f"{_sse_every()} s)")  # fmt: skip
        by_time.sort()
        quarters = [by_time[i * len(by_time) // 4 : (i + 1) * len(by_time) // 4] for i in range(4)]
        print("  p99 by quarter of the run: " + ", ".join(
            f"{sorted(x for _, x in q)[int(0.99 * (len(q) - 1))]:.2f} s" for q in quarters if q))  # fmt: skip
    with factory() as s:
        rows = s.scalar(select(func.count()).select_from(MonitoringReading))
    print(f"check: {rows:,} rows in monitoring_readings = {total + got:,} published and stored")


def _sse_every() -> float:
    from openpcf.services.monitoring.live import sse_interval

    return sse_interval()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def _watch(port: int, token: str, events: list, stop: threading.Event) -> None:
    """Read the dashboard's event stream over HTTP; note when each snapshot arrived."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    url = f"http://127.0.0.1:{port}/monitoring/sites/bench/stream"
    with httpx.stream("GET", url, headers=headers, timeout=30) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("data: "):
                at = time.time()
                snap = json.loads(line[6:])
                last = {
                    m["meter"]: _epoch(m["last_reading"])
                    for m in snap["meters"]
                    if m["last_reading"] is not None
                }
                events.append((at, last))
            if stop.is_set():
                return


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _wait_subscribed(host: str, port: int, tenant: str) -> None:
    """Until the service is subscribed: a probe for an unknown meter gets stored as refused."""
    from openpcf.store.db import sessions
    from openpcf.store.models_monitoring import MonitoringRejected

    factory = sessions()
    probe = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-probe-{os.getpid()}")
    probe.connect(host, port)
    probe.loop_start()

    def subscribed() -> bool:
        probe.publish(f"openpcf/{tenant}/bench/probe", b"{}", qos=1).wait_for_publish(5)
        time.sleep(0.3)
        with factory() as s:
            return bool(s.scalar(select(func.count()).select_from(MonitoringRejected)))

    try:
        _wait("openpcf monitor run", subscribed)
    finally:
        probe.disconnect()
        probe.loop_stop()


if __name__ == "__main__":
    main()
