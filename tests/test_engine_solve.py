"""The sparse engine against dense linear algebra, on systems with and without cycles."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from openpcf.engine import solve
from openpcf.engine.solve import (
    BlockTriangularLU,
    SingularSystem,
    check_productive,
    factorise,
    footprints_of_all_processes,
    inventory_for,
    matrix_key,
    supply_for,
)


def _system(n: int, core: int, seed: int) -> sp.csc_matrix:
    """Mostly hierarchical: a cyclic core, small loops, an acyclic rest; shuffled order."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for j in range(1, n):
        for i in rng.integers(0, j, size=min(j, 4)):
            rows.append(i)
            cols.append(j)
    for j in range(core - 1):  # back-edges that close cycles through the first `core`
        rows.append(j + 1 + rng.integers(0, core - j - 1))
        cols.append(j)
    for j in range(core, n - 3, 40):  # a few short loops outside the core
        rows.append(j + 2)
        cols.append(j)
    perm = rng.permutation(n)
    a = sp.csc_matrix((rng.random(len(rows)) + 0.1, (perm[rows], perm[cols])), shape=(n, n))
    a.sum_duplicates()
    colsum = np.asarray(a.sum(axis=0)).ravel()
    scale = np.divide(0.5, colsum, out=np.zeros(n), where=colsum > 0)
    return sp.csc_matrix(a @ sp.diags(scale))


@pytest.fixture(autouse=True)
def _cold_cache() -> None:
    solve._CACHE.clear()


@pytest.mark.parametrize("core", [0, 10, 120])
def test_matches_dense_inverse(core: int) -> None:
    n = 300
    a = _system(n, core, seed=core)
    b = np.random.default_rng(1).random((5, n))
    m_inv = np.linalg.inv(np.eye(n) - a.toarray())
    fact = factorise(a)
    assert isinstance(fact.lu, BlockTriangularLU)
    assert fact.factor_nnz > 0
    check_productive(fact)
    np.testing.assert_allclose(footprints_of_all_processes(fact, b), (b @ m_inv).T, rtol=1e-10)
    for j in (0, 17, n - 1):
        np.testing.assert_allclose(inventory_for(fact, b, j), b @ m_inv[:, j], rtol=1e-10)
        np.testing.assert_allclose(inventory_for(fact, sp.csr_matrix(b), j), b @ m_inv[:, j])
    d = np.random.default_rng(2).random(n)
    np.testing.assert_allclose(supply_for(fact, d), m_inv @ d, rtol=1e-10)


def test_single_flow() -> None:
    a = _system(80, 10, seed=3)
    b = np.random.default_rng(4).random((1, 80))
    out = footprints_of_all_processes(factorise(a), b)
    assert out.shape == (80, 1)


def test_cache_is_keyed_by_content() -> None:
    a = _system(100, 20, seed=5)
    first = factorise(a)
    assert factorise(a.copy()) is first
    assert factorise(a.tocsr()) is first
    changed = a.copy()
    changed.data[0] *= 1.5
    assert matrix_key(changed) != matrix_key(a)
    assert factorise(changed) is not first


def test_singular_and_unproductive() -> None:
    with pytest.raises(SingularSystem):
        factorise(sp.csc_matrix(np.array([[0.0, 1.0], [1.0, 0.0]])))
    unproductive = factorise(sp.csc_matrix(np.array([[0.0, 2.0], [1.0, 0.0]])))
    with pytest.raises(SingularSystem):
        check_productive(unproductive)
