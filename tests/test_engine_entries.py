"""Matrices and weighted sums from entry arrays, against scipy's own conversion and numpy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from openpcf.engine.entries import csc_from_entries, weighted_column_sums


def _entries(seed: int, n: int = 400, m: int = 300, count: int = 5000) -> tuple:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, count)
    cols = rng.integers(0, m, count)
    rows[:50], cols[:50] = rows[50:100], cols[50:100]  # fifty duplicated positions at least
    return rows, cols, rng.normal(size=count), (n, m)


def test_csc_equals_scipys_coo_conversion() -> None:
    rows, cols, values, shape = _entries(1)
    ours = csc_from_entries(rows, cols, values, shape)
    ref = sp.coo_matrix((values, (rows, cols)), shape=shape).tocsc()
    ref.sum_duplicates()
    assert ours.shape == shape and ours.has_canonical_format
    assert ours.nnz == ref.nnz < rows.size  # duplicates summed into one entry
    np.testing.assert_array_equal(ours.indptr, ref.indptr)
    np.testing.assert_array_equal(ours.indices, ref.indices)
    np.testing.assert_allclose(ours.data, ref.data, rtol=1e-15, atol=1e-15)


def test_entries_outside_the_matrix_are_refused() -> None:
    with pytest.raises(ValueError, match="outside the 3 × 3 matrix"):
        csc_from_entries(np.array([0, 3]), np.array([0, 1]), np.ones(2), (3, 3))
    with pytest.raises(ValueError, match="2 rows, 1 columns and 2 values"):
        csc_from_entries(np.array([0, 1]), np.array([0]), np.ones(2), (3, 3))
    with pytest.raises(ValueError, match=r"entry 1 \(2, 0\) lies outside 2 flows × 3 processes"):
        weighted_column_sums(np.array([0, 2]), np.array([0, 0]), np.ones(2), np.ones(2), 3)


def test_weighted_column_sums_equal_b_transposed_w() -> None:
    rows, cols, values, (flows, processes) = _entries(2)
    weights = np.random.default_rng(3).random(flows)
    weights[::3] = 0.0  # flows that count for nothing
    b = sp.coo_matrix((values, (rows, cols)), shape=(flows, processes)).tocsc()
    np.testing.assert_allclose(weighted_column_sums(rows, cols, values, weights, processes),
                               b.T @ weights, rtol=1e-12, atol=1e-12)  # fmt: skip
