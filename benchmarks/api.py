"""Benchmark of footprint reads through the REST API: GET /calculations/{id}.

Run from the project root:

    python benchmarks/api.py [--rate 200] [--requests 3000] [--max-seconds 30]
                             [--databases sqlite,postgresql] [--postgres URL]

For each database it starts `openpcf serve --demo` (one uvicorn process, access log off) on a
free loopback port, pinned to at most 2 cores, and reads the demo footprints with the demo
enterprise admin's personal token, cycling over the six demo calculations (three of its own:
full result; three public ones of the supplier: footprint only). Two phases, each bounded in
request count and in time:

- open loop at the target rate: request i is sent at i / rate seconds whatever the earlier
  ones are doing (so a slow server cannot slow the load down and hide its own latency);
  latency is measured from the scheduled send time to the full response;
- closed loop: `--concurrency` clients back to back, for the throughput ceiling.

Traffic goes to 127.0.0.1 only. The load generator runs on the same machine (and cores) as the
server, so the figures are conservative. Target: 200 requests/s sustained with no errors; p50
and p99 are printed against it. The script is a report and exits 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx

TARGET_RATE = 200.0
POSTGRES = os.environ.get(
    "OPENPCF_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="open-loop requests/s")
    parser.add_argument("--requests", type=int, default=3000, help="requests per phase, at most")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="time per phase, at most")
    parser.add_argument("--connections", type=int, default=16, help="client connections")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=POSTGRES, help="PostgreSQL URL (a schema is made)")
    parser.add_argument("--workers", default="1,2", help="server processes to try, e.g. 1,2")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))[:2]
    print(
        f"openpcf API benchmark: GET /calculations/{{id}}, target {args.rate:g} requests/s, "
        f"server pinned to cores {cores} of {os.cpu_count()}, loopback only"
    )
    for kind in args.databases.split(","):
        with database(kind, args.postgres) as (env, label):
            if env is None:
                print(f"\n{kind}: skipped ({label})")
                continue
            for workers in map(int, args.workers.split(",")):
                with server(env, cores, workers) as (base, token, ids):
                    print(f"\n{label}, {workers} server process(es)")
                    run_phases(base, token, ids, args)


def run_phases(base: str, token: str, ids: list[str], args: argparse.Namespace) -> None:
    target = Target(base, token, ids)
    # warm-up on as many connections as measured, so every server process has served some
    asyncio.run(closed_loop(target, 600, args.connections, 15.0))
    n = min(args.requests, int(args.rate * args.max_seconds))
    lat, errors, elapsed = asyncio.run(
        open_loop(target, args.rate, n, args.connections, args.max_seconds)
    )
    report(f"open loop ({args.connections} connections)", lat, errors, elapsed, args.rate)
    lat, errors, elapsed = asyncio.run(
        closed_loop(target, args.requests, args.connections, args.max_seconds)
    )
    report(f"closed loop ({args.connections} clients)", lat, errors, elapsed, None)


class Target:
    """GET /calculations/{id} over keep-alive HTTP/1.1 connections. A few lines of asyncio
    instead of a full client library, so the load generator takes little of the CPU it shares
    with the server."""

    def __init__(self, base: str, token: str, ids: list[str]) -> None:
        url = httpx.URL(base)
        self.host, self.port = url.host, url.port
        self.requests = [
            (
                f"GET /calculations/{i} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
                f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
            ).encode()
            for i in ids
        ]

    async def connect(self) -> Connection:
        return Connection(*await asyncio.open_connection(self.host, self.port))


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, request: bytes) -> bool:
        """Send one request and read the whole response; True for 200 OK."""
        self.writer.write(request)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status == 200

    def close(self) -> None:
        self.writer.close()


async def open_loop(
    target: Target, rate: float, n: int, connections: int, max_seconds: float
) -> tuple[list[float], int, float]:
    """Request i is due at i / rate s; latency counts from then, waiting for a free
    connection included, so a server that falls behind shows it."""
    latencies: list[float] = []
    errors = 0
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await target.connect())
    start = time.perf_counter()

    async def one(i: int) -> None:
        nonlocal errors
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        conn = await pool.get()
        try:
            ok = await conn.send(target.requests[i % len(target.requests)])
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            ok, conn = False, await target.connect()
        pool.put_nowait(conn)
        if ok:
            latencies.append(time.perf_counter() - due)
        else:
            errors += 1

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    _, pending = await asyncio.wait(tasks, timeout=max_seconds + 10)
    for t in pending:
        t.cancel()
    errors += len(pending)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().close()
    return latencies, errors, elapsed


async def closed_loop(
    target: Target, n: int, clients: int, max_seconds: float
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(n))
    start = time.perf_counter()
    deadline = start + max_seconds

    async def worker() -> None:
        nonlocal errors
        conn = await target.connect()
        for i in counter:
            if time.perf_counter() > deadline:
                break
            t0 = time.perf_counter()
            try:
                ok = await conn.send(target.requests[i % len(target.requests)])
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                ok, conn = False, await target.connect()
            if ok:
                latencies.append(time.perf_counter() - t0)
            else:
                errors += 1
        conn.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - start


def report(phase: str, lat: list[float], errors: int, elapsed: float, rate: float | None) -> None:
    if not lat:
        print(f"  {phase}: no successful request ({errors} errors)")
        return
    q = statistics.quantiles(lat, n=100, method="inclusive")
    throughput = len(lat) / elapsed
    line = (
        f"  {phase:<26} {len(lat):>5} ok {errors:>3} errors in {elapsed:5.1f} s = "
        f"{throughput:6.1f} req/s   p50 {q[49] * 1e3:6.1f} ms   p90 {q[89] * 1e3:6.1f} ms   "
        f"p99 {q[98] * 1e3:6.1f} ms   max {max(lat) * 1e3:6.1f} ms"
    )
    if rate is not None:
        met = errors == 0 and throughput >= 0.97 * rate
        line += f"   target {rate:g} req/s: {'PASS' if met else 'MISS'}"
    print(line)


@contextmanager
def database(kind: str, postgres: str):
    home = Path(tempfile.mkdtemp(prefix="openpcf-bench-"))
    try:
        if kind == "sqlite":
            yield {"OPENPCF_HOME": str(home)}, f"SQLite in {home}"
            return
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import OperationalError

        schema = f"openpcf_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(postgres)
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except OperationalError as exc:
            yield None, f"PostgreSQL not reachable at {postgres}: {exc.orig}"
            return
        sep = "&" if "?" in postgres else "?"
        url = f"{postgres}{sep}options=-csearch_path%3D{schema}"
        try:
            yield (
                {"OPENPCF_HOME": str(home), "OPENPCF_DATABASE_URL": url},
                (f"PostgreSQL {postgres} (schema {schema})"),
            )
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def server(env: dict[str, str], cores: list[int], workers: int):
    beside = Path(sys.executable).parent / "openpcf"
    exe = str(beside) if beside.is_file() else shutil.which("openpcf")
    if exe is None:
        sys.exit("the openpcf script is not installed (pip install -e .)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = Path(env["OPENPCF_HOME"]) / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                exe,
                "serve",
                "--demo",
                "--port",
                str(port),
                "--no-access-log",
                "--workers",
                str(workers),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            preexec_fn=lambda: os.sched_setaffinity(0, cores),
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                sys.exit(f"openpcf serve exited:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"openpcf serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        text = log.read_text()
        token = re.search(r"admin@demo\.example\s+admin\s+(opcf_pat_\S+)", text)
        ids = re.findall(r"/calculations/(\S+)$", text, re.M)
        if token is None or len(ids) < 6:
            sys.exit(f"could not read the demo credentials:\n{text}")
        # the footprints the demo enterprise may read: its own, and the supplier's public ones
        auth = {"Authorization": f"Bearer {token.group(1)}"}
        ids = [i for i in ids if httpx.get(f"{base}/calculations/{i}", headers=auth).is_success]
        yield base, token.group(1), ids
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
