"""Shared fixtures. With OPENPCF_REQUIRE_SERVICES=1 (set by .ci/run) a skipped test fails:
tests skip on a user's machine that lacks a service or shared/, never in CI."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("OPENPCF_REQUIRE_SERVICES") == "1" and report.skipped:
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under OPENPCF_REQUIRE_SERVICES=1, which forbids skips: {reason}"


@pytest.fixture(autouse=True, scope="session")
def _private_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the embedded database of tests (and of the CLI they run) out of the user's home."""
    os.environ["OPENPCF_HOME"] = str(tmp_path_factory.mktemp("openpcf-home"))
    os.environ.pop("OPENPCF_DATABASE_URL", None)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a dedented file into the test's folder and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path):
    """An empty SQLite or PostgreSQL database (a throwaway schema) for the platform tests."""
    from tests.databases import empty_database

    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def world(database_url: str):
    """Two tenants (acme, other) with a user of every role and an API client each."""
    from tests.platform_world import make_world

    return make_world(database_url)


@pytest.fixture
def client(world):
    """The API application on the world's database, served in-process."""
    from fastapi.testclient import TestClient

    from openpcf.api.app import create_app

    with TestClient(create_app(world.url)) as c:
        yield c
