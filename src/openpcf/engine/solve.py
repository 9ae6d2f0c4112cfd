"""Factorise the technosphere once, then answer any demand or all processes at once.

Notation (as in LCA texts): A[i, j] is how much of product i process j consumes per unit of
its reference output; B[g, j] is how much of flow g it emits per unit. With M = I - A:
- supply for a demand d solves M s = d, and its inventory is B s;
- every process's footprint per unit at once is X = M^-T B^T: one transposed solve with one
  right-hand side per flow, instead of one solve per process.

A `Factorisation` is an immutable value tied to the hash of the matrix it came from, cached
per hash, so recalculating with a new demand on the same system never factorises again.

How it factorises. LCA technospheres are mostly hierarchical: a product's inputs come from
products "upstream" of it, and only a core of processes (energy, materials, transport) feed
each other in cycles. General fill-reducing orderings (COLAMD, minimum degree) do not see that
and fill the LU with tens of millions of entries on a 20,000-process system, while in an order
where suppliers come before consumers the acyclic part is triangular and fills nothing. So, as
KLU does for circuits, `factorise` first permutes I - A to block triangular form (the strongly
connected components of the supply graph, in topological order), factorises each cyclic block
of `_BIG_BLOCK` or more processes on its own with a minimum-degree ordering of A + A^T, and the
triangular runs between them (singletons and small cycles) with the natural order; solves are
block substitutions through the untouched off-diagonal blocks. `benchmarks/engine.py` measures it.

Large cyclic blocks are not factorised. Most of ecoinvent is one strongly connected component,
where any LU fills with tens of millions of entries (minutes, gigabytes), while the block is
productive and BiCGSTAB with a Jacobi preconditioner converges in tens of iterations. A block of
`KRYLOV_MIN` or more processes whose fill a cheap bound cannot show to be small
(`fill_estimate`: the profile of the block in reverse Cuthill-McKee order, an upper bound on the
entries of an LU in that order) is solved iteratively (`engine.krylov.KrylovBlock`): every
answer is checked score by score by its residual, and whatever does not converge is solved by
an LU of the block made on first need. docs/engine.md gives the thresholds and how they were
measured.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
import xxhash
from scipy.sparse.csgraph import breadth_first_order, connected_components
from scipy.sparse.linalg import SuperLU, splu

from openpcf.engine.krylov import KrylovBlock, SingularSystem

# A strongly connected block of at least this many processes gets its own LU with a
# fill-reducing ordering; smaller cycles stay in the triangular runs around them.
_BIG_BLOCK = 64
#: A cyclic block of at least this many processes is solved by BiCGSTAB unless its LU is shown
#: to fill little: at most `FILL_LIMIT` times the block's entries by `fill_estimate`.
KRYLOV_MIN = 1000
FILL_LIMIT = 8.0


def _lu(m: sp.csc_matrix, permc_spec: str) -> SuperLU:
    try:
        return splu(m, permc_spec=permc_spec)
    except RuntimeError as exc:  # "Factor is exactly singular"
        raise SingularSystem(str(exc)) from None


def fill_estimate(block: sp.csc_matrix) -> int:
    """An upper bound on the entries of an LU of the block, linear in its entries.

    The block is ordered by breadth-first levels of its symmetrised pattern from a
    pseudo-peripheral process (two sweeps, as Cuthill-McKee starts): every entry then links a
    level to itself or to a neighbouring one, so a row of level l reaches back at most w_l +
    w_(l-1) positions, and an LU in that order fills no more than its envelope, 2 * sum of w_l
    (w_l + w_(l-1)) + n. Tight for chain-like blocks (regions trading with their neighbours),
    loose (of the order n^2) for hub-like or random ones, which is where LU fills anyway.
    """
    n = block.shape[0]
    csc = sp.csc_matrix(block)
    ones = np.ones(csc.indices.size, dtype=np.int8)
    pattern = sp.csr_matrix((ones, csc.indices, csc.indptr), shape=(n, n))  # of the transpose
    sym = sp.csr_matrix(pattern + pattern.T)
    start = int(np.argmin(np.diff(sym.indptr)))
    best = n * n
    for _ in range(2):
        order, pred = breadth_first_order(sym, start, directed=True)  # symmetric already
        if order.size < n:  # not connected (not a cyclic block): no useful bound
            return best
        w = _level_widths(order, pred)
        best = min(best, int(2 * np.sum(w * (w + np.r_[0, w[:-1]])) + n))
        start = int(order[-1])
    return best


def _level_widths(order: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Sizes of the breadth-first levels: in BFS order the parents' positions do not decrease,
    and level l + 1 starts at the first process whose parent lies in level l or later."""
    pos = np.empty(order.size, dtype=np.int64)
    pos[order] = np.arange(order.size)
    parent = np.r_[-1, pos[pred[order[1:]]]]
    bounds = [0, 1]
    while bounds[-1] < order.size:
        bounds.append(int(np.searchsorted(parent, bounds[-1], side="left")))
        if bounds[-1] <= bounds[-2]:  # cannot happen for a BFS order; do not loop forever
            bounds[-1] = order.size
    return np.diff(np.asarray(bounds, dtype=np.int64))


def _block_solver(block: sp.csc_matrix, permc_spec: str) -> object:
    """SuperLU of a diagonal block, or a `KrylovBlock` for a large one that would fill."""
    n = block.shape[0]
    if n >= KRYLOV_MIN and fill_estimate(block) > FILL_LIMIT * block.nnz:
        return KrylovBlock(block, lambda m: _lu(m, permc_spec))
    return _lu(block, permc_spec)


def _stored(solver: object) -> int:
    if isinstance(solver, KrylovBlock):
        return solver.nnz
    return int(solver.L.nnz + solver.U.nnz)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Segment:
    start: int
    stop: int
    lu: SuperLU | KrylovBlock  # solves the diagonal block [start:stop, start:stop]
    above: sp.csc_matrix | None  # the block [0:start, start:stop]; below it is all zero


class BlockTriangularLU:
    """LU of a sparse matrix permuted to block upper triangular form, solved by substitution.

    `order` lists the processes suppliers-first, so that m[order][:, order] has no entry below
    its diagonal blocks; each segment of consecutive positions is factorised on its own. Has the
    `solve(rhs, trans)` of scipy's SuperLU, so it can stand in for one.
    """

    def __init__(self, m: sp.csc_matrix, order: np.ndarray, bounds: list[tuple[int, int, str]]):
        self.shape = m.shape
        self.order = order
        p = m[order][:, order].tocsc()
        segments = []
        for start, stop, permc_spec in bounds:
            cols = p[:, start:stop]
            block = cols[start:stop].tocsc()
            lu = (
                _block_solver(block, permc_spec)
                if permc_spec != "NATURAL"
                else _lu(block, permc_spec)
            )
            above = cols[:start].tocsc() if start else None
            if above is not None:
                above.eliminate_zeros()
                if above.nnz == 0:
                    above = None
            segments.append(_Segment(start, stop, lu, above))
        self.segments: tuple[_Segment, ...] = tuple(segments)

    @cached_property
    def nnz(self) -> int:
        """Stored entries: L + U of every diagonal block factorised (the matrix of one solved
        iteratively) plus the off-diagonal blocks."""
        total = 0
        for seg in self.segments:
            total += _stored(seg.lu)
            total += seg.above.nnz if seg.above is not None else 0
        return int(total)

    def solve(self, rhs: np.ndarray, trans: str = "N") -> np.ndarray:
        y = np.array(rhs, dtype=np.float64)[self.order]  # a permuted copy
        if trans == "N":  # block upper triangular: last block first
            for seg in reversed(self.segments):
                if not y[seg.start : seg.stop].any():
                    continue  # nothing demanded here or downstream of it: its supply is zero
                x = seg.lu.solve(y[seg.start : seg.stop])
                y[seg.start : seg.stop] = x
                if seg.above is not None:
                    y[: seg.start] -= seg.above @ x
        else:  # the transpose is block lower triangular: first block first
            for seg in self.segments:
                r = y[seg.start : seg.stop]
                if seg.above is not None:
                    r = r - seg.above.T @ y[: seg.start]
                y[seg.start : seg.stop] = seg.lu.solve(r, trans="T") if r.any() else 0.0
        out = np.empty_like(y)
        out[self.order] = y
        return out


def _block_triangular(
    m: sp.csc_matrix, labels: np.ndarray | None = None
) -> BlockTriangularLU | None:
    """Block triangular LU of m, or None when the component order cannot be established;
    `labels`: the strongly connected components of m when already known."""
    n = m.shape[0]
    if labels is None:
        _, labels = connected_components(m, directed=True, connection="strong")
    rows = m.indices
    cols = np.repeat(np.arange(n), np.diff(m.indptr))
    # scipy numbers the components in (reverse) topological order; check rather than trust it.
    for rank in (-labels, labels):
        if np.all(rank[rows] <= rank[cols]):  # every supplier's block comes before its consumer's
            break
    else:
        return None
    order = np.argsort(rank, kind="stable")
    ranked = rank[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    sizes = np.diff(np.r_[starts, n])
    bounds: list[tuple[int, int, str]] = []
    run = 0  # start of the current run of small blocks
    for start, size in zip(starts[sizes >= _BIG_BLOCK], sizes[sizes >= _BIG_BLOCK], strict=True):
        if start > run:
            bounds.append((run, int(start), "NATURAL"))
        bounds.append((int(start), int(start + size), "MMD_AT_PLUS_A"))
        run = int(start + size)
    if run < n:
        bounds.append((run, n, "NATURAL"))
    return BlockTriangularLU(m, order, bounds)


def _direct(m: sp.csc_matrix) -> BlockTriangularLU | SuperLU:
    return _block_triangular(m) or _lu(m, "COLAMD")


def _solver(m: sp.csc_matrix) -> BlockTriangularLU | SuperLU | KrylovBlock:
    """The whole system by BiCGSTAB when it holds a cyclic block that would take the Krylov
    path (`_block_solver`), else the block triangular LU.

    Why the whole system and not that block alone: with the block out of the way, what is left
    is triangular runs whose SuperLU and the permutations around them cost more than the
    Krylov solve of everything (tiled USLCI x100: 250 ms against 45 ms; docs/engine.md). The
    block triangular LU stays as the fallback, made only when BiCGSTAB fails.
    """
    n = m.shape[0]
    labels = None
    if n >= KRYLOV_MIN:
        _, labels = connected_components(m, directed=True, connection="strong")
        sizes = np.bincount(labels)
        for label in np.flatnonzero(sizes >= KRYLOV_MIN):
            inside = np.flatnonzero(labels == label)
            block = sp.csc_matrix(m[:, inside][inside])
            if fill_estimate(block) > FILL_LIMIT * block.nnz:
                return KrylovBlock(m, _direct)
    return _block_triangular(m, labels) or _lu(m, "COLAMD")


@dataclass(frozen=True)
class Factorisation:
    key: str
    size: int
    lu: object  # BlockTriangularLU or scipy SuperLU; immutable by convention: we only .solve

    @property
    def factor_nnz(self) -> int:
        """Entries stored by the factorisation (L + U, and any off-diagonal blocks kept)."""
        if isinstance(self.lu, BlockTriangularLU):
            return self.lu.nnz
        return _stored(self.lu)

    @property
    def krylov_blocks(self) -> tuple[KrylovBlock, ...]:
        """The diagonal blocks solved iteratively (none when everything is factorised)."""
        if isinstance(self.lu, KrylovBlock):
            return (self.lu,)
        if isinstance(self.lu, BlockTriangularLU):
            return tuple(s.lu for s in self.lu.segments if isinstance(s.lu, KrylovBlock))
        return ()

    def solve(self, rhs: np.ndarray, transposed: bool = False) -> np.ndarray:
        out = self.lu.solve(np.asarray(rhs, dtype=np.float64), trans="T" if transposed else "N")
        if not np.all(np.isfinite(out)):
            raise SingularSystem("the solution is not finite: the system is singular")
        return out


def matrix_key(a: sp.spmatrix) -> str:
    """A content hash of a sparse matrix, the version under which its factorisation is cached."""
    return _key_of(_canonical_csc(a))


def _canonical_csc(a: sp.spmatrix) -> sp.csc_matrix:
    csc = sp.csc_matrix(a)
    csc.sum_duplicates()
    csc.sort_indices()
    return csc


def _key_of(csc: sp.csc_matrix) -> str:
    # A cache key, not a security boundary: 128-bit XXH3 is ~50x faster than blake2b here
    # (0.09 ms against 4.3 ms for a 280,000-entry matrix), which is most of a warm recalculation.
    h = xxhash.xxh3_128()
    h.update(np.asarray(csc.shape, dtype=np.int64).tobytes())
    for arr in (csc.indptr, csc.indices, csc.data):
        h.update(np.ascontiguousarray(arr))  # hashed through the buffer protocol, no copy
    return h.hexdigest()


_CACHE: OrderedDict[str, Factorisation] = OrderedDict()
_CACHE_SIZE = 8


def factorise(technosphere: sp.spmatrix) -> Factorisation:
    """LU of I - A, from the cache when this exact matrix was factorised before."""
    csc = _canonical_csc(technosphere)
    key = _key_of(csc)
    cached = _CACHE.get(key)
    if cached is not None:
        _CACHE.move_to_end(key)
        return cached
    n = technosphere.shape[0]
    if technosphere.shape != (n, n):
        raise ValueError(f"the technosphere matrix must be square, got {technosphere.shape}")
    m = (sp.identity(n, format="csc", dtype=np.float64) - csc).tocsc()
    m.sum_duplicates()
    m.eliminate_zeros()  # an explicit zero is no supply link
    m.sort_indices()
    fact = Factorisation(key, n, _solver(m))
    _CACHE[key] = fact
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return fact


def factorise_direct(technosphere: sp.spmatrix) -> Factorisation:
    """An LU of I - A whatever its structure (block triangular, else COLAMD; never BiCGSTAB),
    not cached: the reference iterative answers are checked against, and the last resort of a
    sampled system that BiCGSTAB does not solve."""
    csc = _canonical_csc(technosphere)
    n = csc.shape[0]
    m = (sp.identity(n, format="csc", dtype=np.float64) - csc).tocsc()
    m.sum_duplicates()
    m.eliminate_zeros()
    m.sort_indices()
    return Factorisation(_key_of(csc), n, _direct(m))


def check_productive(fact: Factorisation) -> None:
    """For A >= 0 the system is productive iff (I - A)^-T 1 >= 1 everywhere.

    A cycle in which a product needs one unit or more of itself (through other products) makes
    the system unproductive; its 'footprint' would be negative or infinite.
    """
    total = fact.solve(np.ones(fact.size), transposed=True)
    bad = np.flatnonzero(total < 1.0 - 1e-9)
    if bad.size:
        raise SingularSystem(
            "a cycle consumes at least as much of a product as it produces",
        )


def footprints_of_all_processes(fact: Factorisation, biosphere: np.ndarray) -> np.ndarray:
    """Per-flow inventory per unit of each process's output, (n processes × g flows)."""
    b = np.asarray(biosphere, dtype=np.float64)
    if b.shape[1] != fact.size:
        raise ValueError(f"biosphere has {b.shape[1]} columns for {fact.size} processes")
    return np.atleast_2d(fact.solve(b.T, transposed=True).reshape(fact.size, -1))


def supply_for(fact: Factorisation, demand: np.ndarray) -> np.ndarray:
    """Scaling vector s with (I - A) s = demand."""
    return fact.solve(demand)


def inventory_for(
    fact: Factorisation, biosphere: np.ndarray | sp.spmatrix, process: int
) -> np.ndarray:
    """Per-flow inventory of one unit of `process`: one forward solve, then B s."""
    demand = np.zeros(fact.size)
    demand[process] = 1.0
    return np.asarray(biosphere @ supply_for(fact, demand)).ravel()
