"""The project's reference data beside the checkout (`../shared`: specs, data, the official PACT
conformance suite), found in one place for every test that needs it.

A test that needs a file of it calls `shared_path(...)`, which skips with a message naming the
missing path when it is absent (a user's machine without ../shared); in CI
(OPENPCF_REQUIRE_SERVICES=1, tests/conftest.py) that skip is a failure. OPENPCF_SHARED_DIR points
the lookup elsewhere, e.g. at an empty folder to check that those tests skip instead of failing:

    OPENPCF_SHARED_DIR=/nonexistent python -m pytest -q tests/test_pact_files.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_ENV = "OPENPCF_SHARED_DIR"


def shared_dir() -> Path:
    """OPENPCF_SHARED_DIR, else `shared` beside the checkout (../shared)."""
    named = os.environ.get(SHARED_ENV)
    return Path(named) if named else REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path inside ../shared; skips the calling test when it does not exist."""
    path = shared_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is absent: this test needs the project's reference data (../shared, or "
            f"the folder named by {SHARED_ENV})"
        )
    return path


def pact_spec_dir() -> Path:
    """The PACT specification's copy (v2/ and v3/ with openapi.yaml and examples)."""
    return shared_path("specs", "pact")
