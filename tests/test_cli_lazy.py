"""The command line starts without importing what a command does not need.

`openpcf/cli/__init__.py` lists every command with its module and one line of help, and imports
a module only to run its command. These tests run the installed script in a fresh interpreter,
since a test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from openpcf.cli import COMMANDS, load
from tests.cli_runner import openpcf

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "scipy", "sqlalchemy", "alembic", "fastapi", "weasyprint", "dask",
         "olca_schema", "openpyxl", "pint", "lxml", "numba")  # fmt: skip


def _modules_after(*argv: str) -> set[str]:
    """The top-level modules imported by running `openpcf ARGV` in a fresh interpreter."""
    code = (
        "import json, sys\n"
        "from openpcf.cli import app\n"
        "try:\n"
        f"    app({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=True)  # fmt: skip
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_version_imports_nothing_heavy() -> None:
    loaded = _modules_after("--version")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert not any(m.startswith("openpcf.") and m != "openpcf.cli" for m in loaded)
    done = openpcf("--version")
    assert done.returncode == 0 and done.stdout.startswith("openpcf ")


def test_root_help_lists_every_command_without_importing_them() -> None:
    loaded = _modules_after("--help")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    done = openpcf("--help")
    assert done.returncode == 0
    for name in COMMANDS:
        assert f" {name} " in done.stdout, name


def test_calc_of_a_model_needs_no_store_server_or_report_libraries() -> None:
    loaded = _modules_after("calc", "examples/lfp-cell.yaml")
    needed = {"numpy", "pint"}  # the calculation's own
    assert needed <= loaded
    # numba: only systems of solve.COMPILED_MIN processes or more are compiled
    unneeded = {"sqlalchemy", "alembic", "fastapi", "weasyprint", "openpyxl", "olca_schema",
                "numba"}  # fmt: skip
    assert not loaded & unneeded, sorted(loaded & unneeded)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_entry_loads_its_command_with_the_help_the_root_lists(name: str) -> None:
    command = load(name)
    assert command.name == name
    assert command.get_short_help_str(limit=300) == COMMANDS[name][3]


def test_calc_default_profile_is_the_calculations() -> None:
    from openpcf.cli.calc import DEFAULT_PROFILE
    from openpcf.services.calculation.calculate import DEFAULT_PROFILE as SERVICE_DEFAULT

    assert DEFAULT_PROFILE == SERVICE_DEFAULT


def test_every_command_module_is_listed() -> None:
    """A command module added to openpcf/cli/ must be listed in COMMANDS, or its commands would
    silently be missing from `openpcf`."""
    modules = {p.stem for p in (ROOT / "src" / "openpcf" / "cli").glob("*.py")}
    assert modules - {"__init__", "common"} == {module for module, *_ in COMMANDS.values()}
