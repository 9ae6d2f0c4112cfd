"""The bundled GHG mapping against the climate-change method a release carries (ILCD: EF 3.1).

At import, when the source has an LCIA method named "Climate change", every process's GWP100 is
computed both ways and the import report says how far they agree and lists the largest
differences, so a user sees at once where the two characterisations part (EF 3.1 gives biogenic
CO2 a factor 0; openpcf's totals count it, and list it as its own gas).
"""

from __future__ import annotations

import numpy as np

from openpcf.domain.gases import Flow
from openpcf.domain.lci import ReportEntry
from openpcf.factors.bundled import gwp_table
from openpcf.io.lci_package import StoredDatabase

_SHOWN = 20


def climate_method(db: StoredDatabase) -> dict | None:
    """The release's total climate-change method: named exactly so, else the first naming it."""
    exact = [m for m in db.methods if m["name"].strip().lower() == "climate change"]
    loose = [m for m in db.methods if "climate change" in m["name"].lower()]
    return (exact or loose or [None])[0]


def _agreement(a: np.ndarray, b: np.ndarray) -> str:
    rel = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
    both_zero = (a == 0) & (b == 0)
    rel[both_zero] = 0.0
    return (f"{int(np.sum(rel <= 1e-6))} agree to 1e-6, {int(np.sum(rel <= 0.01))} within 1 %, "
            f"{int(np.sum(rel > 0.05))} differ by more than 5 %")  # fmt: skip


def compare(
    db: StoredDatabase,
    method: dict,
    ours: np.ndarray,
    theirs: np.ndarray,
    gases: tuple[Flow, ...],
    per_gas: np.ndarray,
) -> tuple[tuple[str, ...], tuple[ReportEntry, ...]]:
    """Notes summarising the agreement, and the processes that differ most.

    `ours`: bundled AR6 footprints; `theirs`: under `method`; `per_gas`: kg of each gas."""
    table = gwp_table()
    no_bio_co2 = np.array([0.0 if g == Flow("CO2", "biogenic") else table.gwp(g, "AR6")
                           for g in gases])  # fmt: skip
    ours_no_bio = per_gas @ no_bio_co2 if gases else np.zeros_like(ours)
    n = len(ours)
    notes = (
        f"GWP100 of all {n} processes, bundled GHG map (AR6) vs the release's method "
        f"'{method['name']}' ({method['id']}): {_agreement(ours, theirs)}",
        f"the same with biogenic CO2 counted as 0, as EF 3.x does: "
        f"{_agreement(ours_no_bio, theirs)}",
    )
    diff = np.abs(ours_no_bio - theirs) / np.maximum(
        np.maximum(np.abs(ours_no_bio), np.abs(theirs)), 1e-300
    )
    order = np.argsort(-diff, kind="stable")[:_SHOWN]
    entries = tuple(
        ReportEntry(
            what=db.processes[j].name,
            id=db.processes[j].key,
            exchanges=0,
            detail=f"kg CO2e per {db.processes[j].unit}: bundled {ours[j]:.6g} (without biogenic "
            f"CO2 {ours_no_bio[j]:.6g}), '{method['name']}' {theirs[j]:.6g}",
        )
        for j in order
        if diff[j] > 1e-9
    )
    return notes, entries
