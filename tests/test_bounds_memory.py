"""The two hostile documents of issue 14, read in a fresh interpreter: each refused in under a
second, the process's peak memory (ru_maxrss) growing by under 200 MB. Before the bounds, the
7-level alias model took 146 s and the XFD1048576 workbook 58 s at 5.3 GB."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile import alias_bomb, far_cell_workbook

PROBE = """
import json, resource, sys, time
from pathlib import Path
from openpcf.domain.errors import OpenpcfError
from openpcf.io.model_file import load_model
import openpyxl, lxml.etree  # imported before the baseline: their import is not the document's
path = Path(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    load_model(path)
    message = None
except OpenpcfError as exc:
    message = str(exc)
seconds = time.perf_counter() - started
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024  # KiB -> MiB
print(json.dumps({"message": message, "seconds": seconds, "mib": grown}))
"""


@pytest.mark.parametrize("kind", ["alias-model", "far-cell-workbook"])
def test_issue_14_documents_are_refused_fast_in_little_memory(tmp_path: Path, kind: str) -> None:
    if kind == "alias-model":
        path = tmp_path / "bomb.yaml"
        path.write_text(alias_bomb(7), "utf-8")
        expected = "limit nodes"
    else:
        path = far_cell_workbook(tmp_path / "far.xlsx")
        expected = "XFD1048576"
    run = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True,
                         text=True, timeout=120, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["message"] is not None and expected in got["message"], got
    assert got["seconds"] < 1.0, got
    assert got["mib"] < 200, got
