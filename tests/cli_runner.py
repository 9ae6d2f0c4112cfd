"""Run the installed `openpcf` script as a user would, in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def openpcf_exe() -> str:
    """The script of this interpreter's environment (CI runs `.venv/bin/python -m pytest`
    without the venv on PATH), else the one on PATH."""
    beside = Path(sys.executable).parent / "openpcf"
    if beside.is_file():
        return str(beside)
    found = shutil.which("openpcf")
    if found is None:
        pytest.skip("the openpcf script is not installed (pip install -e .)")
    return found


def openpcf(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [openpcf_exe(), *args], capture_output=True, text=True, timeout=120, check=False, env=env
    )
