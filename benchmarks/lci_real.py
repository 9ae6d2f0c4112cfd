"""Timing of the real-database steps on ../shared/data/lci, as `openpcf db ...` runs them.

Run from the project root:

    python benchmarks/lci_real.py

Each step runs in a fresh OPENPCF_HOME (a temporary folder), in this process:
- import of USLCI (openLCA 1.5 JSON-LD), USLCI FY18 (ecospold2) and TianGong (ILCD): read, link
  (with the provider policy and the loop check), compare with the release's climate method when
  it has one, write the datapackage;
- every process's footprint (bundled map, AR6; factorise + solve, the engine's factorisation
  cache cleared first) of each;
- `db regionalise uslci --grid CN@2023` (find supplies, write a version, solve before and after);
- `db factors tiangong` (per-gas factors of every process, supply-chain tracing included).
It prints a Markdown table with the load average from /proc/loadavg; a report, not a test.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LCI = ROOT.parent / "shared" / "data" / "lci"


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> None:
    home = tempfile.mkdtemp(prefix="openpcf-bench-lci-")
    os.environ["OPENPCF_HOME"] = home
    from openpcf.engine import solve
    from openpcf.services.lci.databases import footprints, import_database, open_database
    from openpcf.services.lci.factor_sets import factor_set
    from openpcf.services.lci.regionalise import regionalise

    rows: list[tuple[str, str, float]] = []

    def timed(label: str, detail: str, fn):
        start = time.perf_counter()
        value = fn()
        rows.append((label, detail, time.perf_counter() - start))
        return value

    load_before = _load()
    for name, file in (("uslci", "uslci-olca1.5-jsonld.zip"), ("uslci-es2",
                       "uslci-fy18-ecospold2.zip"), ("tiangong", "tiangong-lca-data-ilcd.zip")):  # fmt: skip
        imported = timed(
            f"db import {file}", "", lambda f=file, n=name: import_database(LCI / f, n)
        )
        r = imported.report
        rows[-1] = (rows[-1][0], f"{r.processes:,} processes, {r.exchanges:,} exchanges",
                    rows[-1][2])  # fmt: skip
        db = open_database(name)
        solve._CACHE.clear()  # cold: the import's comparison factorised the same matrix
        timed(f"footprints of every process, {name} (factorise + solve, cold)",
              f"{len(db.processes):,} columns",
              lambda d=db: footprints(d, "AR6", allow_unmapped=True))  # fmt: skip
    result = timed("db regionalise uslci --grid CN@2023", "", lambda: regionalise(
        "uslci", "CN@2023", "footprint", "uslci-cn"))  # fmt: skip
    rows[-1] = (rows[-1][0], f"{len(result.supplies)} supplies replaced", rows[-1][2])
    fs = timed("db factors tiangong", "", lambda: factor_set(open_database("tiangong")))
    rows[-1] = (rows[-1][0], f"{len(fs.factors):,} factors", rows[-1][2])
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load_before} before, {_load()} after\n")  # fmt: skip
    print("| step | size | seconds |\n|---|---|---:|")
    for label, detail, seconds in rows:
        print(f"| {label} | {detail} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
