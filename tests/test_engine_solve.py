"""The sparse engine against dense linear algebra, on systems with and without cycles."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from openpcf.engine import solve
from openpcf.engine.solve import (
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


@pytest.fixture(params=["superlu", "compiled"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both solvers on the same small systems: one SuperLU below `COMPILED_MIN`, the compiled
    block substitution (forced here by lowering the threshold) at or above it."""
    if request.param == "compiled":
        monkeypatch.setattr(solve, "COMPILED_MIN", 0)
    return str(request.param)


@pytest.mark.parametrize("core", [0, 10, 120])
def test_matches_dense_inverse(core: int, path: str) -> None:
    """core 10: a cycle solved densely inside the substitution, 120: one with its own LU
    (solve.BIG_BLOCK is 64); both with two-process loops outside the core."""
    from openpcf.engine.substitution import BlockSubstitution

    n = 300
    a = _system(n, core, seed=core)
    b = np.random.default_rng(1).random((5, n))
    m_inv = np.linalg.inv(np.eye(n) - a.toarray())
    fact = factorise(a)
    assert isinstance(fact.lu, BlockSubstitution) == (path == "compiled")
    if path == "compiled":
        assert len(fact.lu.big) == (core >= 64)
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


def test_singular_and_unproductive(path: str) -> None:
    with pytest.raises(SingularSystem):  # each consumes all the other makes
        factorise(sp.csc_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))).solve(np.ones(2))
    with pytest.raises(SingularSystem):  # a process that consumes all it makes
        factorise(sp.csc_matrix(np.array([[1.0, 0.5], [0.0, 0.0]]))).solve(np.ones(2), True)
    unproductive = factorise(sp.csc_matrix(np.array([[0.0, 2.0], [1.0, 0.0]])))
    with pytest.raises(SingularSystem):
        check_productive(unproductive)


# ---- large cyclic blocks: BiCGSTAB, checked against a direct solve -------------------------


def _cyclic_core(n: int, core: int, shape: str, seed: int, radius: float = 0.45) -> sp.csc_matrix:
    """An ecoinvent-like system in small: `core` processes in one strongly connected block (a
    ring through them, then about 8 random inputs each, drawn from popular "hub" suppliers or
    uniformly), the rest consuming the core and each other hierarchically; columns scaled to
    sums of 0.05 to `radius` (so the spectral radius of A is below `radius`); shuffled."""
    rng = np.random.default_rng(seed)
    cols = np.repeat(np.arange(n), rng.poisson(7, n) + 1)
    if shape == "hub":
        pop = 1.0 / np.arange(1, core + 1) ** 1.1
        src = rng.choice(core, size=cols.size, p=pop / pop.sum())
    else:
        src = rng.integers(0, core, cols.size)
    local = (cols >= core) & (rng.random(cols.size) < 0.4)
    src[local] = core + (rng.random(int(local.sum())) * (cols[local] - core)).astype(np.int64)
    rows = np.r_[src, (np.arange(core) + 1) % core]
    cols = np.r_[cols, np.arange(core)]
    keep = rows != cols
    perm = rng.permutation(n)
    a = sp.csc_matrix((rng.lognormal(0, 1, int(keep.sum())), (perm[rows[keep]], perm[cols[keep]])),
                      shape=(n, n))  # fmt: skip
    a.sum_duplicates()
    colsum = np.asarray(a.sum(axis=0)).ravel()
    want = rng.uniform(0.05, radius, n)
    return sp.csc_matrix(a @ sp.diags(np.divide(want, colsum, out=np.zeros(n), where=colsum > 0)))


def _direct(a: sp.csc_matrix) -> splu:
    """The reference: one plain SuperLU of all of I - A, no block structure, no Krylov."""
    return splu(sp.csc_matrix(sp.identity(a.shape[0]) - a), permc_spec="COLAMD")


def _agree(x: np.ndarray, ref: np.ndarray, rtol: float = 1e-10) -> None:
    """Every score within rtol of the direct one (relative, score by score)."""
    assert np.all(np.abs(x - ref) <= rtol * np.abs(ref)), float(
        np.max(np.abs(x - ref) / np.maximum(np.abs(ref), 1e-300))
    )


@pytest.mark.parametrize("shape", ["hub", "random"])
def test_krylov_block_agrees_with_a_direct_solve(shape: str) -> None:
    n, core = 1600, 1200
    a = _cyclic_core(n, core, shape, seed=7)
    fact = factorise(a)
    blocks = fact.krylov_blocks
    # the core would fill an LU: its solver is BiCGSTAB (solve._block_solver), the rest is
    # substitution around it
    assert [b.shape for b in blocks] == [(core, core)]
    lu = _direct(a)
    b = np.random.default_rng(8).random((6, n)) * np.logspace(-6, 3, 6)[:, None]
    # transposed solves: Gauss-Seidel sweeps over the core settle (radius below 0.45)
    _agree(footprints_of_all_processes(fact, b), lu.solve(b.T, trans="T"))
    assert fact.lu.sweeps > 0 and fact.lu.unsettled == 0
    d = np.zeros(n)
    d[[3, 900]] = [1.0, 2.5]
    _agree(supply_for(fact, d), lu.solve(d))
    for j in (0, 5, n - 1):
        _agree(inventory_for(fact, b, j), b @ lu.solve(np.eye(n)[:, j]))
    check_productive(fact)
    assert blocks[0].iterations > 0  # the forward solves
    assert blocks[0].fallbacks == 0  # productive: BiCGSTAB converged every time


def test_krylov_falls_back_to_the_block_lu_when_it_does_not_converge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from openpcf.engine import krylov, substitution

    a = _cyclic_core(1300, 1100, "random", seed=9)
    fact = factorise(a)
    (core,) = fact.krylov_blocks
    # far too few: neither Gauss-Seidel nor BiCGSTAB (Jacobi, then ILU) gets there
    monkeypatch.setattr(substitution, "MAX_SWEEPS", 2)
    monkeypatch.setattr(krylov, "MAXITER", 2)
    monkeypatch.setattr(krylov, "REFINEMENTS", 1)
    b = np.random.default_rng(10).random((3, 1300))
    _agree(footprints_of_all_processes(fact, b), _direct(a).solve(b.T, trans="T"))
    # every column fell back to the core's own LU, made on first need
    assert fact.lu.unsettled == 1 and fact.lu.sweeps == 0
    assert core.shape == (1100, 1100) and core.fallbacks == 3
    assert hasattr(core.lu(), "L")


def test_unproductive_core_is_still_solved_exactly_and_reported() -> None:
    """A core whose products need more than a unit of themselves (every column of A sums to
    1.5, and the core's columns draw on the core alone: spectral radius 1.5): whatever path
    solves it, the answer is the direct one, and `check_productive` refuses it."""
    a = _cyclic_core(1300, 1100, "random", seed=11)
    a = sp.csc_matrix(a @ sp.diags(1.5 / np.asarray(a.sum(axis=0)).ravel()))
    fact = factorise(a)
    assert fact.krylov_blocks
    b = np.random.default_rng(12).random((2, 1300))
    _agree(footprints_of_all_processes(fact, b), _direct(a).solve(b.T, trans="T"), rtol=1e-8)
    with pytest.raises(SingularSystem):
        check_productive(fact)


def test_singular_core_raises_on_solve() -> None:
    """Columns of the core summing to exactly 1 (every product consumed in full within the
    core): I - A is singular; BiCGSTAB cannot converge and the fallback LU says so."""
    n = 1200
    rng = np.random.default_rng(13)
    a = sp.random(n, n, density=8 / n, random_state=14, format="csc", data_rvs=rng.random)
    a = sp.csc_matrix(a + sp.diags(np.ones(n - 1), 1) + sp.diags([1.0], -(n - 1)))
    a.setdiag(0)
    a.eliminate_zeros()
    a = sp.csc_matrix(a @ sp.diags(1.0 / np.asarray(a.sum(axis=0)).ravel()))
    fact = factorise(a)
    assert fact.krylov_blocks
    with pytest.raises(SingularSystem):
        fact.solve(np.ones(n), transposed=True)


def test_fill_estimate_tells_a_chain_from_a_random_block() -> None:
    n = 2000
    chain = sp.csc_matrix(sp.identity(n) - sp.diags([0.3 * np.ones(n - 1), 0.2 * np.ones(n - 1)],
                                                     [1, -1]))  # fmt: skip
    # tridiagonal: its LU has no fill, 3n - 2 entries. The bound: breadth-first levels of one
    # process each from an end of the chain, 2 * (1 + 2 (n - 1)) + n = 5n - 2
    assert solve.fill_estimate(chain) == 5 * n - 2
    random = sp.csc_matrix(sp.identity(n) - _cyclic_core(n, n, "random", seed=15))
    assert solve.fill_estimate(random) > 50 * random.nnz
    # a chain-like block of KRYLOV_MIN or more processes is still factorised: it fills little
    assert not factorise(sp.identity(n) - chain).krylov_blocks


def test_factorise_direct_never_iterates() -> None:
    """The reference iterative answers are checked against: every large block by its LU, no
    Gauss-Seidel sweeps, no BiCGSTAB, and the same scores as a plain SuperLU."""
    a = _cyclic_core(1300, 1100, "hub", seed=16)
    fact = solve.factorise_direct(a)
    b = np.random.default_rng(17).random((2, 1300))
    _agree(footprints_of_all_processes(fact, b), _direct(a).solve(b.T, trans="T"))
    assert fact.lu.sweeps == 0 and not fact.krylov_blocks
    assert all(hasattr(s, "L") for s in fact.lu.solvers.values())


def test_an_explicit_zero_is_no_supply_link(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stored zero that would close a cycle (process 2 "supplying" process 0) leaves the
    system acyclic: the compiled path finds single processes only, the caller's matrix keeps
    its zero, and the answer is the dense one."""
    from openpcf.engine.substitution import BlockSubstitution

    monkeypatch.setattr(solve, "COMPILED_MIN", 0)
    a = sp.csc_matrix((np.array([0.5, 0.25, 0.0]), (np.array([0, 1, 2]), np.array([1, 2, 0]))),
                      shape=(3, 3))  # fmt: skip
    fact = factorise(a)
    assert isinstance(fact.lu, BlockSubstitution)
    assert fact.lu.starts.size - 1 == 3  # three components of one process each
    assert a.nnz == 3  # the zero is still stored
    b = np.array([1.0, 2.0, 3.0])
    m_inv = np.linalg.inv(np.eye(3) - a.toarray())
    # by hand: x0 = 1; x1 = 2 + 0.5 x0 = 2.5; x2 = 3 + 0.25 x1 = 3.625
    np.testing.assert_allclose(fact.solve(b, transposed=True), [1.0, 2.5, 3.625], rtol=1e-15)
    np.testing.assert_allclose(fact.solve(b), m_inv @ b, rtol=1e-15)
