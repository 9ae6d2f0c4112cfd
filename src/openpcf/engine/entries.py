"""Matrices and characterised sums from entry arrays (row, column, value), compiled.

Why: an LCI database arrives as lists of exchanges, one entry each (importers, Brightway
datapackages, the benchmarks' shared arrays). scipy builds a CSC matrix from them through a
COO matrix, a conversion and a sort (4.7 ms for USLCI tiled 100 times, 436,100 entries), and
B^T w over its 2.4 million biosphere entries takes 9.5 ms with numpy's bincount; one counting
sort and one pass each, compiled, take 1.3 and 2.1 ms (BENCHMARKS.md). Both release the GIL,
so `scores_from_entries` sums B^T w on a second core while the first factorises I - A.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from numba import njit


@njit(cache=True, nogil=True)
def _csc_arrays(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n_cols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counting sort by column, then each column's rows sorted and duplicates summed."""
    # int32 indices, as scipy keeps them (it would copy int64 ones down on construction)
    indptr = np.zeros(n_cols + 1, np.int32)
    for e in range(cols.size):
        indptr[cols[e] + 1] += 1
    for j in range(n_cols):
        indptr[j + 1] += indptr[j]
    nxt = indptr[:-1].copy()
    indices = np.empty(cols.size, np.int32)
    data = np.empty(cols.size, np.float64)
    for e in range(cols.size):
        p = nxt[cols[e]]
        indices[p] = rows[e]
        data[p] = values[e]
        nxt[cols[e]] = p + 1
    out = 0  # write position after merging duplicates
    start = 0
    for j in range(n_cols):
        stop = indptr[j + 1]
        # insertion sort: LCI columns hold a handful of entries
        for p in range(start + 1, stop):
            i, v = indices[p], data[p]
            q = p - 1
            while q >= start and indices[q] > i:
                indices[q + 1] = indices[q]
                data[q + 1] = data[q]
                q -= 1
            indices[q + 1] = i
            data[q + 1] = v
        first = out
        for p in range(start, stop):
            if out > first and indices[out - 1] == indices[p]:
                data[out - 1] += data[p]
            else:
                indices[out] = indices[p]
                data[out] = data[p]
                out += 1
        start = stop
        indptr[j + 1] = out
    return indptr, indices[:out].copy(), data[:out].copy()


def csc_from_entries(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]
) -> sp.csc_matrix:
    """The CSC matrix of the entries, duplicates summed (as scipy's COO conversion does)."""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if not rows.size == cols.size == values.size:
        raise ValueError(f"{rows.size} rows, {cols.size} columns and {values.size} values")
    if rows.size and (rows.min() < 0 or rows.max() >= shape[0] or cols.min() < 0
                      or cols.max() >= shape[1]):  # fmt: skip
        raise ValueError(f"an entry lies outside the {shape[0]} × {shape[1]} matrix")
    if rows.size >= 2**31 or max(shape) >= 2**31:
        raise ValueError(f"{rows.size} entries of a {shape[0]} × {shape[1]} matrix: too many")
    indptr, indices, data = _csc_arrays(rows, cols, values, int(shape[1]))
    m = sp.csc_matrix((data, indices, indptr), shape=shape)
    m.has_canonical_format = True  # sorted, no duplicates: made so above
    return m


@njit(cache=True, nogil=True)
def _weighted(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, weights: np.ndarray, n_cols: int
) -> tuple[np.ndarray, int]:
    """The sums, and the first entry outside the matrix (-1: none)."""
    out = np.zeros(n_cols)
    n_rows = weights.size
    for e in range(rows.size):
        i, j = rows[e], cols[e]
        if i < 0 or i >= n_rows or j < 0 or j >= n_cols:
            return out, e
        w = weights[i]
        if w != 0.0:
            out[j] += values[e] * w
    return out, -1


def weighted_column_sums(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, weights: np.ndarray, n_cols: int
) -> np.ndarray:
    """B^T w from B's entries: per column, the sum of its values times their row's weight
    (per process, kg CO2e from each elementary flow's amount and its GWP)."""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    weights, values = np.asarray(weights, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if not rows.size == cols.size == values.size:
        raise ValueError(f"{rows.size} rows, {cols.size} columns and {values.size} values")
    out, bad = _weighted(rows, cols, values, weights, n_cols)
    if bad >= 0:
        raise ValueError(f"entry {bad} ({rows[bad]}, {cols[bad]}) lies outside "
                         f"{weights.size} flows × {n_cols} processes")  # fmt: skip
    return out


def scores_from_entries(
    a_entries: tuple[np.ndarray, np.ndarray, np.ndarray],
    b_entries: tuple[np.ndarray, np.ndarray, np.ndarray],
    weights: np.ndarray,
    processes: int,
) -> np.ndarray:
    """Every process's score per unit of its output, (I - A)^-T B^T w, from the (row, column,
    value) entries of A and B: B^T w is summed on a second thread while A is built and
    factorised (`solve.factorise`, cached like any other)."""
    from openpcf.engine.solve import factorise

    with ThreadPoolExecutor(max_workers=1) as pool:
        rhs = pool.submit(weighted_column_sums, *b_entries, weights, processes)
        fact = factorise(csc_from_entries(*a_entries, (processes, processes)))
        return fact.solve(rhs.result(), transposed=True)
