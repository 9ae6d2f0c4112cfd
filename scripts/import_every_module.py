"""Import every module of the installed openpcf package; exit 1 naming each one that fails.

Run by `.ci/bare-install` in a venv made by the README's first command (`pip install -e .`, no
extras), so that a module importing a package that is only in the `test` extra (as httpx once
was) fails CI instead of the user's first command.

    python scripts/import_every_module.py
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback

#: Modules that only run inside another program: Alembic's migration environment reads
#: `alembic.context`, which exists only while Alembic runs a migration (the CLI and the server
#: run it through `openpcf.store.db.upgrade`, which the bare-install check also exercises).
ONLY_INSIDE = {"openpcf.store.migrations.env"}


def main() -> int:
    import openpcf

    names = sorted(
        info.name
        for info in pkgutil.walk_packages(openpcf.__path__, prefix="openpcf.")
        if info.name not in ONLY_INSIDE
    )
    failed: list[tuple[str, str]] = []
    for name in ["openpcf", *names]:
        try:
            importlib.import_module(name)
        except Exception as exc:  # report every module, not only the first
            last = traceback.extract_tb(exc.__traceback__)[-1]
            failed.append((name, f"{type(exc).__name__}: {exc} ({last.filename}:{last.lineno})"))
    for name, why in failed:
        print(f"FAIL import {name}: {why}", file=sys.stderr)
    print(f"imported {len(names) + 1 - len(failed)} of {len(names) + 1} openpcf modules")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
