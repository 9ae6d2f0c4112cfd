"""Everything the installed program imports is a declared dependency (not only a test extra).

The README's first command installs `pip install -e .` without extras; a package imported by
src/openpcf but listed only under `test` (httpx was) breaks every CLI command on that install.
This test reads every import statement of src/openpcf (also those inside functions) and maps it
to the distribution that provides it in this environment. `.ci/bare-install` checks the same
thing for real, in a venv made by the README's first command.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "openpcf"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]

    def names(reqs: list[str]) -> set[str]:
        return {_canonical(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in reqs}

    return names(project["dependencies"]), names(project["optional-dependencies"]["test"])


def imported_modules() -> dict[str, str]:
    """Top-level module -> first place it is imported, for every absolute import in src."""
    found: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                found.setdefault(top, f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def test_every_third_party_import_is_a_declared_dependency() -> None:
    declared, test_only = _declared()
    providers = packages_distributions()
    missing = []
    for module, where in sorted(imported_modules().items()):
        if module in sys.stdlib_module_names or module in ("openpcf", "__future__"):
            continue
        dists = {_canonical(d) for d in providers.get(module, [])}
        assert dists, f"{module} (imported at {where}) is not installed in this environment"
        if not dists & declared:
            extra = " (only in the test extra)" if dists & test_only else ""
            missing.append(f"{module} from {sorted(dists)} imported at {where}{extra}")
    assert not missing, "imported but not in [project] dependencies:\n" + "\n".join(missing)


def test_the_scan_sees_imports_inside_functions() -> None:
    # distributed is imported only inside a function (services/recompute/run.py), httpx at
    # module level: both must be seen, or the test above could pass by seeing nothing.
    modules = imported_modules()
    assert "distributed" in modules and "httpx" in modules
    assert len([m for m in modules if m not in sys.stdlib_module_names]) > 25
