"""The systems of the scale benchmark (`benchmarks/scale.py`): real USLCI tiled, and
ecoinvent-like synthetic systems. Each is a `brightway.BenchDatabase`: the arrays both engines
are given.

- `tiled_uslci(k)`: the U.S. LCI database (openLCA JSON-LD release in `../shared/data/lci`,
  imported with `openpcf db import`'s service, 766 processes) as k coupled copies: copy c is a
  region whose processes buy a quarter of their inputs (a random quarter of the technosphere
  entries) half from their own region and half from region c + 1 (mod k). The copies are
  identical, so every copy's scores equal USLCI's own: the check needs no other engine. The ring
  of trade makes the regions' cyclic cores one strongly connected block of k times their size.
  Distributions are USLCI's own (95 technosphere and 14 biosphere entries per copy carry one);
  the rest are certain. GWP weights: AR6 GWP100 through openpcf's GHG flow map.
- `ecoinvent_like(shape)`: 20,000 processes, 15,000 of them in one cyclic block, about 10 inputs
  per process, column sums of A between 0.05 and 0.45 (spectral radius below 0.5); in the block
  inputs come from suppliers drawn with a Zipf popularity ("hub": electricity, transport,
  steel feed very many processes) or uniformly ("random"); the other 5,000 draw on the block
  and on each other hierarchically. 300 elementary flows, six greenhouse gases, as
  `brightway.generate`. Every technosphere and biosphere entry carries a distribution
  (symmetric, as `brightway.generate`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from brightway import GHG, BenchDatabase, _distributions
from openpcf.domain.lci import UncertainEntries
from openpcf.domain.uncertainty import NO_UNCERTAINTY

USLCI = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "lci"
USLCI_FILE = "uslci-olca1.5-jsonld.zip"


CACHE = Path(tempfile.gettempdir()) / "openpcf-bench"
_FIELDS = ("row", "col", "value", "kind", "p1", "p2", "p3")


def _uslci() -> tuple[sp.csc_matrix, sp.csc_matrix, np.ndarray, UncertainEntries,
                      UncertainEntries]:  # fmt: skip
    """USLCI's A, B, AR6 GWP weights per flow and its uncertain entries, by openpcf's importer
    (kept in a temporary folder, keyed by the release file's size and time, for the workers)."""
    path = USLCI / USLCI_FILE
    if not path.is_file():
        raise SystemExit(f"{path} is missing: the real USLCI release is needed (../shared)")
    st = path.stat()
    cached = CACHE / f"uslci-{st.st_size}-{int(st.st_mtime)}.npz"
    if not cached.is_file():
        CACHE.mkdir(exist_ok=True)
        arrays = _import_uslci(path)
        np.savez(cached.with_suffix(".tmp.npz"), **arrays)
        cached.with_suffix(".tmp.npz").rename(cached)
    z = np.load(cached)
    a = sp.csc_matrix((z["a_data"], z["a_indices"], z["a_indptr"]), shape=tuple(z["a_shape"]))
    b = sp.csc_matrix((z["b_data"], z["b_indices"], z["b_indptr"]), shape=tuple(z["b_shape"]))
    au = UncertainEntries(*(z[f"au_{f}"] for f in _FIELDS))
    bu = UncertainEntries(*(z[f"bu_{f}"] for f in _FIELDS))
    return a, b, z["w"], au, bu


def _import_uslci(path: Path) -> dict[str, np.ndarray]:
    from openpcf.domain.gases import Flow
    from openpcf.factors.bundled import gwp_table
    from openpcf.services.lci.databases import import_database, open_database

    with tempfile.TemporaryDirectory() as home:
        old = os.environ.get("OPENPCF_HOME")
        os.environ["OPENPCF_HOME"] = home
        try:
            import_database(path, "uslci")
            db = open_database("uslci")
        finally:
            if old is None:
                del os.environ["OPENPCF_HOME"]
            else:
                os.environ["OPENPCF_HOME"] = old
    table = gwp_table()
    w = np.zeros(len(db.flows))
    for f in db.flows:
        if f.gas:
            w[f.index] = (f.kg_per_unit or 0.0) * table.gwp(Flow(f.gas, f.origin), "AR6")
    assert db.technosphere_uncertainty is not None and db.biosphere_uncertainty is not None
    a, b = sp.csc_matrix(db.technosphere), sp.csc_matrix(db.biosphere)
    out = {"w": w}
    for key, m in (("a", a), ("b", b)):
        out |= {f"{key}_data": m.data, f"{key}_indices": m.indices, f"{key}_indptr": m.indptr,
                f"{key}_shape": np.array(m.shape)}  # fmt: skip
    for key, u in (("au", db.technosphere_uncertainty), ("bu", db.biosphere_uncertainty)):
        out |= {f"{key}_{f}": getattr(u, f) for f in _FIELDS}
    return out


def _every_entry(m: sp.csc_matrix, uncertain: UncertainEntries) -> UncertainEntries:
    """Every entry of m, with the distribution of the uncertain ones (kind 0 for the rest):
    Brightway's datapackage is built from this list."""
    coo = m.tocoo()
    n = coo.nnz
    kind = np.full(n, NO_UNCERTAINTY, dtype=np.int64)
    p1, p2, p3 = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    # an uncertain entry's value is the whole entry (one exchange per entry, as imported);
    # where several exchanges add up to one entry, the entry is left certain
    key = coo.row.astype(np.int64) * m.shape[1] + coo.col
    ukey = uncertain.row.astype(np.int64) * m.shape[1] + uncertain.col
    uniq, counts = np.unique(ukey, return_counts=True)
    single = np.isin(ukey, uniq[counts == 1])
    pos = np.searchsorted(key, ukey[single]) if np.all(np.diff(key) > 0) else None
    if pos is None:
        order = np.argsort(key)
        pos = order[np.searchsorted(key[order], ukey[single])]
    ok = key[pos] == ukey[single]
    at = pos[ok]
    sel = np.flatnonzero(single)[ok]
    same = np.isclose(coo.data[at], uncertain.value[sel], rtol=1e-12)
    at, sel = at[same], sel[same]
    kind[at], p1[at], p2[at], p3[at] = (uncertain.kind[sel], uncertain.p1[sel],
                                        uncertain.p2[sel], uncertain.p3[sel])  # fmt: skip
    return UncertainEntries(coo.row.astype(np.int64), coo.col.astype(np.int64),
                            coo.data.astype(np.float64), kind, p1, p2, p3)  # fmt: skip


def tiled_uslci(k: int, seed: int = 1) -> tuple[BenchDatabase, int]:
    """USLCI as k coupled regions (see the module doc), and USLCI's own process count."""
    a1, b1, w, au, bu = _uslci()
    n = a1.shape[0]
    a_all, b_all = _every_entry(a1, au), _every_entry(b1, bu)
    rng = np.random.default_rng(seed)
    coupled = rng.random(a_all.size) < 0.25  # the same entries are traded in every region
    rows, cols, vals, par = [], [], [], []
    for c in range(k):
        off, nxt = c * n, ((c + 1) % k) * n
        own = np.where(coupled, 0.5, 1.0) * a_all.value
        rows += [a_all.row + off, a_all.row[coupled] + nxt]
        cols += [a_all.col + off, a_all.col[coupled] + off]
        vals += [own, 0.5 * a_all.value[coupled]]
        par += [np.arange(a_all.size), np.flatnonzero(coupled)]
    idx = np.concatenate(par)
    a_ent = UncertainEntries(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                             a_all.kind[idx], a_all.p1[idx], a_all.p2[idx], a_all.p3[idx])  # fmt: skip
    b_ent = UncertainEntries(
        np.tile(b_all.row, k), np.concatenate([b_all.col + c * n for c in range(k)]),
        np.tile(b_all.value, k), np.tile(b_all.kind, k), np.tile(b_all.p1, k),
        np.tile(b_all.p2, k), np.tile(b_all.p3, k),
    )  # fmt: skip
    a = sp.csc_matrix((a_ent.value, (a_ent.row, a_ent.col)), shape=(k * n, k * n))
    b = sp.csc_matrix((b_ent.value, (b_ent.row, b_ent.col)), shape=(b1.shape[0], k * n))
    names = tuple(f"flow {i}" for i in range(b1.shape[0]))
    return BenchDatabase(a, b, w, names, a_ent, b_ent), n


def uslci_scores() -> np.ndarray:
    """USLCI's own scores (kg CO2e per unit of each process), by a plain SuperLU: the reference
    every region of the tiled system must reproduce."""
    from scipy.sparse.linalg import splu

    a1, b1, w, _, _ = _uslci()
    m = sp.csc_matrix(sp.identity(a1.shape[0]) - a1)
    return splu(m).solve(np.asarray(b1.T @ w).ravel(), trans="T")


def ecoinvent_like(shape: str, n: int = 20_000, core: int = 15_000, inputs: float = 10.0,
                   flows: int = 300, seed: int = 1) -> BenchDatabase:  # fmt: skip
    """The synthetic ecoinvent-like system (see the module doc)."""
    rng = np.random.default_rng(seed)
    cols = np.repeat(np.arange(n), rng.poisson(inputs - 1, n) + 1)
    if shape == "hub":
        pop = 1.0 / np.arange(1, core + 1) ** 1.1
        src = rng.choice(core, size=cols.size, p=pop / pop.sum())
    elif shape == "random":
        src = rng.integers(0, core, cols.size)
    else:
        raise ValueError(f"shape is 'hub' or 'random', not {shape!r}")
    local = (cols >= core) & (rng.random(cols.size) < 0.4)  # outside the block: hierarchical
    src[local] = core + (rng.random(int(local.sum())) * (cols[local] - core)).astype(np.int64)
    rows = np.r_[src, (np.arange(core) + 1) % core]  # a ring: the block is strongly connected
    cols = np.r_[cols, np.arange(core)]
    keep = rows != cols
    perm = rng.permutation(n)  # a database lists its processes in no supply order
    a = sp.csc_matrix((rng.lognormal(0.0, 1.0, int(keep.sum())),
                       (perm[rows[keep]], perm[cols[keep]])), shape=(n, n))  # fmt: skip
    a.sum_duplicates()
    colsum = np.asarray(a.sum(axis=0)).ravel()
    want = rng.uniform(0.05, 0.45, n)
    a = sp.csc_matrix(a @ sp.diags(np.divide(want, colsum, out=np.zeros(n), where=colsum > 0)))
    a.sort_indices()
    # biosphere: the six greenhouse gases and uncharacterised flows, as brightway.generate
    b_rows, b_cols, b_vals = [], [], []
    for g, (_, _, share, median) in enumerate(GHG):
        emits = np.flatnonzero(rng.random(n) < share)
        b_rows.append(np.full(emits.size, g))
        b_cols.append(emits)
        b_vals.append(median * rng.lognormal(0.0, 1.0, emits.size))
    others = flows - len(GHG)
    counts = rng.poisson(15, n)
    o_cols = np.repeat(np.arange(n), counts)
    b_rows.append(len(GHG) + rng.integers(0, others, o_cols.size))
    b_cols.append(o_cols)
    b_vals.append(1e-3 * rng.lognormal(0.0, 2.0, o_cols.size))
    b = sp.csc_matrix((np.concatenate(b_vals), (np.concatenate(b_rows), np.concatenate(b_cols))),
                      shape=(flows, n))  # fmt: skip
    b.sum_duplicates()
    b.sort_indices()
    weights = np.zeros(flows)
    weights[: len(GHG)] = [w for _, w, _, _ in GHG]
    names = tuple(name for name, *_ in GHG) + tuple(f"flow {i}" for i in range(others))
    return BenchDatabase(a, b, weights, names, _entries(a, 0, False), _entries(b, a.nnz, True))


def _entries(m: sp.csc_matrix, start: int, biosphere: bool) -> UncertainEntries:
    coo = m.tocoo()
    code, p1, p2, p3 = _distributions(coo.nnz, start, "symmetric", biosphere)
    return UncertainEntries(coo.row.astype(np.int64), coo.col.astype(np.int64),
                            coo.data.astype(np.float64), code, p1, p2, p3)  # fmt: skip
