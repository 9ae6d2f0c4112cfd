"""Factorise the technosphere once, then answer any demand or all processes at once.

Notation (as in LCA texts): A[i, j] is how much of product i process j consumes per unit of
its reference output; B[g, j] is how much of flow g it emits per unit. With M = I - A:
- supply for a demand d solves M s = d, and its inventory is B s;
- every process's footprint per unit at once is X = M^-T B^T: one transposed solve with one
  right-hand side per flow, instead of one solve per process.

A `Factorisation` is an immutable value tied to the hash of the matrix it came from, cached
per hash, so recalculating with a new demand on the same system never factorises again.

How it factorises. LCA technospheres are mostly hierarchical: a product's inputs come from
products "upstream" of it, and only cores of processes (energy, materials, transport) feed each
other in cycles. General fill-reducing orderings (COLAMD, minimum degree) do not see that and
fill an LU with tens of millions of entries on a 20,000-process system, while in supply order
(suppliers before consumers) everything outside the cyclic blocks is triangular. So a system of
`COMPILED_MIN` or more processes is solved by compiled block substitution
(`engine.substitution`), which needs a solver only for its large cyclic blocks
(`_block_solver`): an LU, or BiCGSTAB (`engine.krylov.KrylovBlock`) for a block of
`KRYLOV_MIN` or more processes whose fill a cheap bound cannot show to be small
(`fill_estimate`); transposed solves try Gauss-Seidel sweeps on those blocks first. Every
iterative answer is checked score by score by its residual, and what does not converge goes to
the next solver, an LU last. A smaller system gets one SuperLU. docs/engine.md gives the
thresholds and how they were measured.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import xxhash
from scipy.sparse.csgraph import breadth_first_order
from scipy.sparse.linalg import SuperLU, splu

from openpcf.engine.krylov import KrylovBlock, SingularSystem

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


def stored_entries(solver: object) -> int:
    """Entries a block's solver keeps: L + U of an LU, the matrix of a Krylov block."""
    if isinstance(solver, KrylovBlock):
        return solver.nnz
    return int(solver.L.nnz + solver.U.nnz)  # type: ignore[attr-defined]


#: Systems of this many processes or more are solved by compiled block substitution
#: (`engine.substitution`); smaller ones by one SuperLU of all of I - A, which is instant at that
#: size and keeps numba (0.2 s to import) out of small calculations such as `openpcf calc`.
COMPILED_MIN = 1000


def _solver(a: sp.csc_matrix, direct: bool = False) -> object:
    """The solver of I - A: SuperLU for a small system; else block substitution, whose large
    cyclic blocks get an LU, or BiCGSTAB (`_block_solver`) unless `direct`."""
    n = a.shape[0]
    if n < COMPILED_MIN:
        m = (sp.identity(n, format="csc", dtype=np.float64) - a).tocsc()
        m.sum_duplicates()
        m.eliminate_zeros()  # an explicit zero is no supply link
        return _lu(m, "COLAMD")
    from openpcf.engine.substitution import BlockSubstitution

    if direct:
        return BlockSubstitution(a, lambda m: _lu(m, "MMD_AT_PLUS_A"), sweeps=False)
    return BlockSubstitution(a, lambda m: _block_solver(m, "MMD_AT_PLUS_A"))


@dataclass(frozen=True)
class Factorisation:
    key: str
    size: int
    lu: object  # BlockSubstitution or scipy SuperLU; immutable by convention: we only .solve

    @property
    def factor_nnz(self) -> int:
        """Entries stored by the factorisation (L + U; A and the large blocks' solvers)."""
        if hasattr(self.lu, "solvers"):  # a BlockSubstitution (imported only when used)
            return self.lu.nnz
        return stored_entries(self.lu)

    @property
    def krylov_blocks(self) -> tuple[KrylovBlock, ...]:
        """The diagonal blocks solved iteratively (none when everything is factorised)."""
        solvers = getattr(self.lu, "solvers", {})  # a BlockSubstitution's large blocks
        return tuple(b for b in solvers.values() if isinstance(b, KrylovBlock))

    def solve(self, rhs: np.ndarray, transposed: bool = False) -> np.ndarray:
        out = self.lu.solve(np.asarray(rhs, dtype=np.float64), trans="T" if transposed else "N")
        if not np.all(np.isfinite(out)):
            raise SingularSystem("the solution is not finite: the system is singular")
        return out


def matrix_key(a: sp.spmatrix) -> str:
    """A content hash of a sparse matrix, the version under which its factorisation is cached."""
    return _key_of(_canonical_csc(a))


def _canonical_csc(a: sp.spmatrix) -> sp.csc_matrix:
    # a CSC matrix as it is: a copy would forget that it is known to be canonical
    csc = a if isinstance(a, sp.csc_matrix) else sp.csc_matrix(a)
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
    fact = Factorisation(key, n, _solver(csc))
    _CACHE[key] = fact
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return fact


def factorise_direct(technosphere: sp.spmatrix) -> Factorisation:
    """A direct solver of I - A whatever its structure (SuperLU, or block substitution with an
    LU of every large block; never BiCGSTAB or Gauss-Seidel), not cached: the reference iterative answers are checked against, and the last resort of a
    sampled system that BiCGSTAB does not solve."""
    csc = _canonical_csc(technosphere)
    return Factorisation(_key_of(csc), csc.shape[0], _solver(csc, direct=True))


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
