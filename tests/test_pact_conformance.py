"""The official PACT conformance suite (wbcsd/pact-conformance-service, ../shared/pact-conformance)
against `openpcf serve --demo --tls self-signed`, for PACT 3.0 and 2.x: every case, the optional
ones included (v3 18-19 OpenID Connect, v2 18-20 OpenID Connect and `$filter`), must pass.

This is the one place CI runs the suite (.ci/run runs pytest; a skip fails there), and once more
through the suite's negative control, to see the run fail when the host breaks a rule. The run is
scripts/pact_conformance.py, which also works by hand; it needs node and npm (the suite is built
once, from the npm registry) and ../shared. The summary is printed even when pytest is quiet.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.shared import shared_dir, shared_path
from tests.test_serve import openpcf_script


def run_conformance(*args: str) -> subprocess.CompletedProcess[str]:
    """scripts/pact_conformance.py with `args`; skips without the suite, node or openpcf."""
    shared_path("pact-conformance", "run-pact-conformance.sh")
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the official PACT conformance suite needs {' and '.join(missing)}")
    exe = openpcf_script()
    if exe is None:
        pytest.skip("the openpcf script is not installed (pip install -e .)")
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "pact_conformance.py"),
         "--shared", str(shared_dir()), "--openpcf", exe, *args],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip


def test_the_official_pact_conformance_suite_passes_every_case(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = run_conformance()
    with capsys.disabled():
        print("\n" + run.stdout.rstrip())
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    assert "PACT 3.0: " in run.stdout and "PACT 2.x: " in run.stdout
    assert "PACT conformance: all cases passed" in run.stdout


def test_the_run_fails_when_the_host_breaks_a_rule() -> None:
    """The suite's negative control answers 403 AccessDenied to an invalid token (PACT wants
    400 or 401): v3 cases 6, 7 and 16 fail, and so does the run, so the test above can fail."""
    run = run_conformance("--versions", "3.0", "--break", "forbidden")
    assert run.returncode == 1, f"{run.stdout}\n{run.stderr}"
    failed = {line.split()[1] for line in run.stdout.splitlines() if line.startswith("FAIL ")}
    assert failed == {"6", "7", "16"}, run.stdout
    assert "PACT 3.0: 38 passed, 3 failed" in run.stdout
    assert "PACT conformance: FAILED" in run.stdout
