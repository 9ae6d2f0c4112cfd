"""Run the official PACT conformance suite against `openpcf serve --demo --tls self-signed`.

Starts the demo server on a free port with a fresh OPENPCF_HOME, takes the demo tenant's API
client from what it prints, and runs ../shared/pact-conformance/run-pact-conformance.sh
(wbcsd/pact-conformance-service, built once with node and npm) for PACT 3.0 and 2.x, trusting
the server's self-signed certificate. Prints every case's PASS/FAIL line and a summary per
version; exits 0 only when every case passed, the optional ones included (the runner itself
fails only on mandatory cases). tests/test_pact_conformance.py runs this in CI.

    python scripts/pact_conformance.py [--versions 3.0,2.x] [--shared DIR] [--openpcf EXE]
                                       [--break forbidden|callback]

`--break RULE` puts the suite's negative control (negative-control.py, a TLS proxy that breaks
one rule) between the suite and the server, to see the run fail.

Exit status: 0 all passed; 1 a case failed; 2 the suite or the server could not be run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENT = re.compile(r"^\s+client\s+demo\s+client_id (\S+)\s+client_secret (\S+)$", re.M)
CASE = re.compile(r"^(PASS|FAIL) (\S+) (.*)$")
TOTAL = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


@dataclass
class Outcome:
    """One version's run: its case lines, counts and the runner's exit status."""

    version: str
    lines: list[str] = field(default_factory=list)
    passed: int = 0
    failed: int = 0
    returncode: int = 0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.failed == 0 and self.passed > 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    exe: str, home: Path, public: str | None = None
) -> tuple[subprocess.Popen[bytes], str, str, str, Path]:
    """The demo server over HTTPS; returns it, its base URL, client id, secret, certificate.
    `public`: the address clients reach it at (a proxy's), which its Link headers name."""
    port = free_port()
    log = home / "serve.log"
    # The suite runs on this machine: its event callbacks are on loopback, which only the
    # explicit test setting allows (SSRF protection, docs/security-operations.md).
    env = {**os.environ, "OPENPCF_HOME": str(home), "OPENPCF_PACT_POLL": "1",
           "OPENPCF_PACT_CALLBACK_LOOPBACK": "1"}  # fmt: skip
    env.pop("OPENPCF_DATABASE_URL", None)
    if public:
        env["OPENPCF_PUBLIC_URL"] = public
    with log.open("w") as out:
        proc = subprocess.Popen(
            [exe, "serve", "--demo", "--tls", "self-signed", "--port", str(port),
             "--no-access-log"],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    base = f"https://127.0.0.1:{port}"
    cert = home / "tls" / "cert.pem"
    deadline = time.monotonic() + 120
    while True:
        text = log.read_text()
        if proc.poll() is not None:
            raise RuntimeError(f"openpcf serve exited with {proc.returncode}:\n{text}")
        client = CLIENT.search(text)
        if client and "openpcf API on" in text and cert.is_file():
            try:
                context = ssl.create_default_context(cafile=str(cert))
                with urllib.request.urlopen(f"{base}/health", context=context, timeout=5):
                    return proc, base, client.group(1), client.group(2), cert
            except OSError:
                pass
        if time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError(f"openpcf serve did not answer within 120 s:\n{text}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_suite(runner: Path, version: str, base: str, client_id: str, secret: str,
              cert: Path) -> Outcome:  # fmt: skip
    done = subprocess.run(
        [str(runner), version, base, client_id, secret, "--cacert", str(cert)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    outcome = Outcome(version, returncode=done.returncode)
    outcome.lines = [line for line in done.stdout.splitlines() if CASE.match(line)]
    total = TOTAL.search(done.stdout)
    if total:
        outcome.passed, outcome.failed = int(total.group(1)), int(total.group(2))
    if not outcome.lines or not total:
        outcome.lines.append(f"FAIL SETUP the runner printed no cases: {done.stdout}{done.stderr}")
        outcome.failed = max(outcome.failed, 1)
    return outcome


def start_breaker(
    shared: Path, base: str, cert: Path, rule: str, port: int
) -> tuple[subprocess.Popen[bytes], str]:
    """The suite's negative control (a TLS proxy breaking one rule) in front of the server."""
    proc = subprocess.Popen(
        [sys.executable, str(shared / "pact-conformance" / "negative-control.py"),
         "--upstream", base, "--cert", str(cert), "--key", str(cert.with_name("key.pem")),
         "--port", str(port), "--break", rule],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"https://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop(proc)
                raise RuntimeError(f"the negative control did not listen on {port}") from None
            time.sleep(0.2)


def conformance(
    versions: list[str], shared: Path, exe: str, breaking: str | None = None
) -> list[Outcome]:
    runner = shared / "pact-conformance" / "run-pact-conformance.sh"
    if not runner.is_file():
        raise FileNotFoundError(f"the official PACT conformance suite is not at {runner}")
    with tempfile.TemporaryDirectory(prefix="openpcf-pact-conformance-") as tmp:
        proxy_port = free_port() if breaking else None
        public = f"https://127.0.0.1:{proxy_port}" if proxy_port else None
        proc, base, client_id, secret, cert = start_server(exe, Path(tmp), public)
        breaker = None
        try:
            if proxy_port:
                breaker, base = start_breaker(shared, base, cert, breaking, proxy_port)
            return [run_suite(runner, v, base, client_id, secret, cert) for v in versions]
        finally:
            if breaker is not None:
                stop(breaker)
            stop(proc)


def summary(outcomes: list[Outcome]) -> str:
    out = []
    for o in outcomes:
        out.append(f"== PACT {o.version} (wbcsd/pact-conformance-service) ==")
        out.extend(o.lines)
        out.append(f"PACT {o.version}: {o.passed} passed, {o.failed} failed")
    verdict = "all cases passed" if all(o.ok for o in outcomes) else "FAILED"
    out.append(f"PACT conformance: {verdict}")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", default="3.0,2.x")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    beside = Path(sys.executable).parent / "openpcf"
    parser.add_argument("--openpcf", default=str(beside) if beside.is_file() else "openpcf")
    parser.add_argument(
        "--break",
        dest="breaking",
        choices=["forbidden", "callback"],
        help="run through the suite's negative control, which breaks this rule (must fail)",
    )
    args = parser.parse_args()
    exe = shutil.which(args.openpcf)
    if exe is None:
        print(f"pact-conformance: no openpcf executable '{args.openpcf}'", file=sys.stderr)
        return 2
    try:
        outcomes = conformance(args.versions.split(","), args.shared, exe, args.breaking)
    except (OSError, RuntimeError) as exc:
        print(f"pact-conformance: {exc}", file=sys.stderr)
        return 2
    print(summary(outcomes))
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
