"""Processes of the imported background databases found by words, for the model editor's
picker: each with the reference an input names it by (`process: DB/KEY`)."""

from __future__ import annotations

from dataclasses import dataclass

from openpcf.services.lci.databases import list_databases, open_database


@dataclass(frozen=True)
class ProcessHit:
    ref: str  # 'DB/KEY', as an input's `process`
    database: str  # 'NAME@VERSION'
    name: str
    reference_product: str
    unit: str
    location: str | None


def search_processes(text: str, limit: int = 40) -> list[ProcessHit]:
    """Processes whose name, product, location or category contain every word of `text`."""
    words = text.lower().split()
    if not words:
        return []
    out: list[ProcessHit] = []
    for summary in list_databases():
        db = open_database(summary.name)
        for p in db.processes:
            hay = f"{p.name} {p.reference_product} {p.location or ''} {p.category}".lower()
            if all(w in hay for w in words):
                out.append(ProcessHit(
                    f"{db.name}/{p.key}", db.label, p.name, p.reference_product, p.unit,
                    p.location,
                ))  # fmt: skip
                if len(out) >= limit:
                    return out
    return out
