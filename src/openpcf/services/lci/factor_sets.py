"""Factor sets from a background database: every (or the chosen) process's cradle-to-gate
inventory per gas, as factors a model uses by `factor:` id, each with its provenance.

A factor carries one origin, so a process gives one factor per origin present: `NAME/KEY` for
the fossil gases, `NAME/KEY/biogenic` and `NAME/KEY/land-use` for the others (the first one's
note names its companions). Provenance: the database and version as the source and version,
the process UUID and its location (region), the unit as openpcf's units name it ("metric
ton*km" -> "t*km"; a unit of its own, such as person*km, as the data spells it), the providers chosen for its own inputs where
several could supply them, and how many of the inputs in its supply chain were cut off.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import breadth_first_order

from openpcf import __version__
from openpcf.domain.errors import DatabaseError, Location
from openpcf.domain.factor import Factor, FactorSet
from openpcf.domain.values import unit_shape_problem
from openpcf.io.lci_package import StoredDatabase
from openpcf.io.lci_units import pint_unit
from openpcf.services.lci.databases import (
    find_process,
    gas_footprints,
    unmapped_ghg,
    unmapped_upstream,
)


@dataclass(frozen=True)
class Upstream:
    """Per column: inputs linked and inputs cut off, over its whole supply chain."""

    linked: np.ndarray
    cut_off: np.ndarray

    def share(self, j: int) -> float:
        total = self.linked[j] + self.cut_off[j]
        return float(self.cut_off[j] / total) if total else 0.0


@dataclass(frozen=True, eq=False)
class _Graph:
    supplies: object  # csr: edge j -> k when j takes from k
    own_links: np.ndarray  # inputs each column takes from providers
    own_cut: np.ndarray  # inputs of each column cut off at import


@lru_cache(maxsize=8)
def _graph(db: StoredDatabase) -> _Graph:
    a = db.technosphere.tocsc()
    own_cut = np.array([p.cut_off_inputs for p in db.processes], dtype=np.int64)
    return _Graph(a.T.tocsr(), np.diff(a.indptr).astype(np.int64), own_cut)


def upstream(db: StoredDatabase, columns: list[int] | None = None) -> Upstream:
    """Sums over the processes each column's supply chain reaches (itself included); columns
    not asked for are left at 0. One breadth-first walk per column asked for."""
    g = _graph(db)
    linked = np.zeros(len(db.processes), dtype=np.int64)
    cut = np.zeros(len(db.processes), dtype=np.int64)
    for j in range(len(db.processes)) if columns is None else columns:
        reach = breadth_first_order(g.supplies, j, directed=True, return_predecessors=False)
        linked[j] = g.own_links[reach].sum()
        cut[j] = g.own_cut[reach].sum()
    return Upstream(linked, cut)


def read_process_list(path: Path, db: StoredDatabase) -> list[int]:
    """Columns named one a line (key, UUID or exact name); '#' starts a comment."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatabaseError(f"cannot read the process list: {exc}", Location(path)) from None
    out = []
    for n, line in enumerate(lines, start=1):
        ref = line.split("#", 1)[0].strip()
        if ref:
            out.append(find_process(db, ref, Location(path, n)).index)
    return out


def _own_choices(db: StoredDatabase, j: int, producers: dict[str, int]) -> list[str]:
    """The providers of column j's inputs that were one of several making the flow."""
    column = db.technosphere[:, j].tocoo()
    return [f"{db.processes[k].reference_product} <- {db.processes[k].key}"
            for k in column.row if producers[db.processes[k].product_id] > 1]  # fmt: skip


def factor_set(db: StoredDatabase, columns: list[int] | None = None) -> FactorSet:
    gases, per_gas = gas_footprints(db)
    chain = upstream(db, columns)
    _, unmapped = unmapped_ghg(db)
    touched = unmapped_upstream(db) if unmapped else None
    producers: dict[str, int] = defaultdict(int)
    for p in db.processes:
        producers[p.product_id] += 1
    source = db.meta.get("source", {})
    title = (
        f"background database {db.label} ({source.get('format', 'LCI')}, imported from "
        f"{Path(source.get('path', '?')).name}, sha256 {str(source.get('sha256', ''))[:12]})"
    )
    factors: list[Factor] = []
    left_out: list[str] = []
    for j in columns if columns is not None else range(len(db.processes)):
        p = db.processes[j]
        unit = pint_unit(p.unit) or p.unit
        if unit_shape_problem(unit) is not None:  # e.g. a flow data set missing from the release
            left_out.append(f"{p.name} ({p.process_id}): unit '{p.unit}'")
            continue
        by_origin: dict[str, dict[str, float]] = defaultdict(dict)
        for g, v in zip(gases, per_gas[j], strict=True):
            if v:
                by_origin[g.origin][g.gas] = float(v)
        by_origin.setdefault("fossil", {})
        ids = {o: f"{db.name}/{p.key}" + ("" if o == "fossil" else f"/{o}") for o in by_origin}
        choices = _own_choices(db, j, producers)
        note = (f"cradle-to-gate per {p.unit} of '{p.reference_product}' from process "
                f"'{p.name}' ({p.process_id}); linking: openpcf {__version__} provider policy"
                + (f", chosen among several: {'; '.join(choices)}" if choices else "")
                + f"; supply chain: {chain.cut_off[j]} of {chain.linked[j] + chain.cut_off[j]} "
                f"inputs cut off ({chain.share(j):.1%})")  # fmt: skip
        if touched is not None and touched[j].any():
            gap = [lab for lab, hit in zip(unmapped, touched[j], strict=True) if hit]
            note += (f"; left out, no gas known: greenhouse-gas flows its supply chain emits "
                     f"({'; '.join(gap[:10])})")  # fmt: skip
        for origin, values in sorted(by_origin.items(), key=lambda t: t[0] != "fossil"):
            companions = [ids[o] for o in ids if o != origin]
            factors.append(Factor(
                id=ids[origin], name=f"{p.name} [{p.location or '-'}] ({origin})",
                unit=unit, gases=values or {"CO2": 0.0}, origin=origin,  # type: ignore[arg-type]
                source=title, publisher=db.name, version=db.version, region=p.location,
                kind="lci-cradle-to-gate",
                note=note + (f"; the other origins: {', '.join(companions)}" if companions else ""),
            ))  # fmt: skip
    if left_out:  # said in the set's title, which the command prints
        title += (f"; {len(left_out)} process(es) left out, their reference unit unknown: "
                  f"{'; '.join(left_out[:5])}{' …' if len(left_out) > 5 else ''}")  # fmt: skip
    return FactorSet(id=f"lci:{db.name}", version=db.version, title=title, factors=tuple(factors))
