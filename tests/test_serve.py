"""`openpcf serve --demo` as a user runs it: a real server in a subprocess on a free loopback
port, called over HTTP and over HTTPS with the self-signed certificate, then stopped."""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.databases import empty_database

TOKEN = re.compile(r"^\s+token\s+(\S+)\s+(\S+)\s+(\S+)\s+(opcf_pat_\S+)$", re.M)
CLIENT = re.compile(r"^\s+client\s+(\S+)\s+client_id (\S+)\s+client_secret (\S+)$", re.M)
FOOTPRINT = re.compile(r"^\s+(urn:openpcf:product:\S+)\s+(\S+)\s+.*/calculations/(\S+)$", re.M)


@dataclass
class Server:
    base: str
    output: str
    verify: ssl.SSLContext | bool

    def token(self, email: str) -> str:
        return next(m[3] for m in TOKEN.findall(self.output) if m[1] == email)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, verify=self.verify, timeout=30)


def openpcf_script() -> str | None:
    """The installed script of this interpreter's environment (a venv need not be on PATH)."""
    beside = Path(sys.executable).parent / "openpcf"
    return str(beside) if beside.is_file() else shutil.which("openpcf")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(home: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    exe = openpcf_script()
    if exe is None:
        pytest.skip("the openpcf script is not installed (pip install -e .)")
    port = free_port()
    log = home / f"serve-{port}.log"
    environment = {**os.environ, "OPENPCF_HOME": str(home), **(env or {})}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [exe, "serve", "--demo", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    try:
        scheme = "https" if "--tls" in args else "http"
        base = f"{scheme}://127.0.0.1:{port}"
        verify: ssl.SSLContext | bool = False
        deadline = time.monotonic() + 90
        while True:
            text = log.read_text()
            if proc.poll() is not None:
                pytest.fail(f"openpcf serve exited with {proc.returncode}:\n{text}")
            cert = re.search(r"self-signed certificate (\S+)", text)
            if scheme == "https" and cert:
                verify = ssl.create_default_context(cafile=cert.group(1))
            if "openpcf API on" in text and (scheme == "http" or cert):
                try:
                    if httpx.get(f"{base}/health", verify=verify, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
            if time.monotonic() > deadline:
                pytest.fail(f"openpcf serve did not answer within 90 s:\n{text}")
            time.sleep(0.2)
        yield Server(base, log.read_text(), verify)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def exercise(server: Server) -> dict[str, int]:
    """What a user tries first; returns counts to compare between runs."""
    with server.client() as http:
        admin = {"Authorization": f"Bearer {server.token('admin@demo.example')}"}
        mine = http.get("/products", headers=admin)
        assert mine.status_code == 200
        urns = [p["urn"] for p in mine.json()]
        assert "urn:openpcf:product:demo:lfp-cathode" in urns  # private, visible to its tenant
        public = http.get("/products").json()
        assert "urn:openpcf:product:demo:lfp-cathode" not in [p["urn"] for p in public]
        footprints = FOOTPRINT.findall(server.output)
        cell = next(
            f for f in footprints if f[0].endswith("lfp-cell-280ah") and f[1] == "gb-t-24067"
        )
        full = http.get(f"/calculations/{cell[2]}", headers=admin).json()
        assert full["result"]["pcf"]["value"] == pytest.approx(58.9022846025)
        anon = http.get(f"/calculations/{cell[2]}").json()
        assert anon["result"] is None and anon["footprint"]["pcf"] == full["result"]["pcf"]
        supplier = {"Authorization": f"Bearer {server.token('admin@supplier.example')}"}
        assert (
            http.get(
                "/products/urn:openpcf:product:demo:lfp-cathode/versions/1", headers=supplier
            ).status_code
            == 404
        )
        tenant, client_id, secret = CLIENT.findall(server.output)[0]
        token = http.post(
            "/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert http.get("/me", headers=bearer).json()["tenant"] == tenant
        assert http.get("/openapi.json").json()["info"]["title"] == "openpcf"
        assert http.get("/docs").status_code == 200
        calcs = http.get(f"/products/{cell[0]}/calculations").json()
        return {"products": len(urns), "calculations": len(calcs), "footprints": len(footprints)}


def test_serve_demo_over_http_then_https_with_a_self_signed_certificate(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        first = exercise(server)
        old_token = server.token("admin@demo.example")
        with httpx.Client(base_url=server.base) as plain:
            r = plain.get("/health", follow_redirects=False)
            assert r.status_code == 200  # plain HTTP is served, never redirected
    assert first == {"products": 4, "calculations": 2, "footprints": 6}  # 2 own, 2 public

    with serving(tmp_path, "--tls", "self-signed") as server:
        assert server.base.startswith("https://")
        assert (tmp_path / "tls" / "cert.pem").is_file()
        assert (tmp_path / "tls" / "key.pem").stat().st_mode & 0o077 == 0
        assert exercise(server) == first  # the demo loaded again adds nothing
        with server.client() as http:  # tokens printed by the earlier run no longer work
            r = http.get("/me", headers={"Authorization": f"Bearer {old_token}"})
            assert r.status_code == 401
        with pytest.raises(httpx.ConnectError):  # an untrusted certificate is refused
            httpx.get(f"{server.base}/health", verify=True, timeout=5)


def test_serve_demo_on_postgresql(tmp_path: Path) -> None:
    with (
        empty_database("postgresql", tmp_path) as url,
        serving(tmp_path, env={"OPENPCF_DATABASE_URL": url}) as server,
    ):
        assert exercise(server)["products"] == 4
        assert "database: postgresql+psycopg://" in server.output
