"""Factorise the technosphere once, then answer any demand or all processes at once.

Notation (as in LCA texts): A[i, j] is how much of product i process j consumes per unit of
its reference output; B[g, j] is how much of flow g it emits per unit. With M = I - A:
- supply for a demand d solves M s = d, and its inventory is B s;
- every process's footprint per unit at once is X = M^-T B^T: one transposed solve with one
  right-hand side per flow, instead of one solve per process.

A `Factorisation` is an immutable value tied to the hash of the matrix it came from, cached
per hash, so recalculating with a new demand on the same system never factorises again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu


class SingularSystem(ValueError):
    """I - A cannot be inverted, or a cycle consumes at least as much as it produces."""


@dataclass(frozen=True)
class Factorisation:
    key: str
    size: int
    lu: object  # scipy SuperLU; immutable by convention: we only call .solve on it

    def solve(self, rhs: np.ndarray, transposed: bool = False) -> np.ndarray:
        out = self.lu.solve(np.asarray(rhs, dtype=np.float64), trans="T" if transposed else "N")
        if not np.all(np.isfinite(out)):
            raise SingularSystem("the solution is not finite: the system is singular")
        return out


def matrix_key(a: sp.spmatrix) -> str:
    """A content hash of a sparse matrix, the version under which its factorisation is cached."""
    csc = sp.csc_matrix(a)
    csc.sum_duplicates()
    csc.sort_indices()
    h = hashlib.blake2b(digest_size=16)
    h.update(np.asarray(csc.shape, dtype=np.int64).tobytes())
    for arr in (csc.indptr, csc.indices, csc.data):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


_CACHE: OrderedDict[str, Factorisation] = OrderedDict()
_CACHE_SIZE = 8


def factorise(technosphere: sp.spmatrix) -> Factorisation:
    """LU of I - A, from the cache when this exact matrix was factorised before."""
    key = matrix_key(technosphere)
    cached = _CACHE.get(key)
    if cached is not None:
        _CACHE.move_to_end(key)
        return cached
    n = technosphere.shape[0]
    if technosphere.shape != (n, n):
        raise ValueError(f"the technosphere matrix must be square, got {technosphere.shape}")
    m = (sp.identity(n, format="csc", dtype=np.float64) - sp.csc_matrix(technosphere)).tocsc()
    try:
        lu = splu(m, permc_spec="COLAMD")
    except RuntimeError as exc:  # "Factor is exactly singular"
        raise SingularSystem(str(exc)) from None
    fact = Factorisation(key, n, lu)
    _CACHE[key] = fact
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return fact


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
