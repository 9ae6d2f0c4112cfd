"""Monte Carlo of a background database whose cyclic core is solved by BiCGSTAB, against a
direct factorisation of every sampled system; the same run on a Dask cluster and here."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from openpcf.domain.lci import UncertainEntries
from openpcf.domain.uncertainty import NO_UNCERTAINTY, NORMAL, TRIANGULAR, UNIFORM
from openpcf.engine import background as bg
from openpcf.engine import solve
from tests.test_engine_solve import _cyclic_core


def _database(n: int, core: int, seed: int) -> tuple[sp.csc_matrix, sp.csc_matrix, np.ndarray,
                                                     UncertainEntries, UncertainEntries]:  # fmt: skip
    """A (n × n) with a cyclic core of `core`, B (4 flows × n), weights, and distributions on
    two thirds of A's entries (normal 10 %, uniform ± 15 %, triangular ± 20 % in turn; the
    rest marked as certain) and on every B entry of the counted flows."""
    a = _cyclic_core(n, core, "random", seed)
    rng = np.random.default_rng(seed + 1)
    b = sp.csc_matrix(sp.random(4, n, density=0.5, random_state=seed, data_rvs=rng.random))
    weights = np.array([1.0, 29.8, 0.0, 273.0])

    def entries(m: sp.csc_matrix, every: bool) -> UncertainEntries:
        coo = m.tocoo()
        turn = np.arange(coo.nnz) % 3
        kind = np.choose(turn, [NORMAL, UNIFORM, TRIANGULAR]).astype(np.int64)
        if not every:
            kind[np.arange(coo.nnz) % 3 == 2] = NO_UNCERTAINTY
        p1 = np.choose(turn, [0.10, 0.85, 0.80]).astype(np.float64)
        p2 = np.choose(turn, [np.nan, 1.15, 1.0])
        p3 = np.choose(turn, [np.nan, np.nan, 1.20])
        return UncertainEntries(coo.row.astype(np.int64), coo.col.astype(np.int64),
                                coo.data.copy(), kind, p1, p2, p3)  # fmt: skip

    return a, b, weights, entries(a, every=False), entries(b, every=True)


@pytest.fixture(scope="module")
def database() -> tuple:  # type: ignore[type-arg]
    return _database(1400, 1100, seed=21)


def test_a_large_cyclic_core_takes_bicgstab_and_agrees_with_direct_solves(database) -> None:  # type: ignore[no-untyped-def]
    a, b, w, au, bu = database
    fact = solve.factorise(a)
    assert fact.krylov_blocks and fact.krylov_blocks[0].shape == (1100, 1100)  # the core
    wanted = np.arange(a.shape[0])
    args = (fact, a, au, b, bu, w, wanted, 24, np.random.SeedSequence(5))
    run = bg.background_scores(*args)
    direct = bg.background_scores(*args, solver="direct")
    assert run.method == "bicgstab" and direct.method == "direct"
    assert run.batch == direct.batch  # the same samples
    assert run.direct == 0 and run.steps > 0
    rel = np.abs(run.scores - direct.scores) / np.abs(direct.scores)
    assert rel.max() < 1e-9
    # only entries with a distribution are sampled: the third of A's marked certain is not,
    # and of B only the counted flows (weight 0 for flow 2)
    counted_b = int(np.count_nonzero(w[bu.row]))
    assert run.sampled == int(np.count_nonzero(au.kind != NO_UNCERTAINTY)) + counted_b
    # the samples move the scores (the uncertainty is not lost on the way)
    assert np.all(run.scores.std(axis=0)[run.scores.mean(axis=0) > 0] > 0)


def test_certain_entries_passed_as_uncertain_change_nothing(database) -> None:  # type: ignore[no-untyped-def]
    a, b, w, au, bu = database
    fact = solve.factorise(a)
    keep = au.kind != NO_UNCERTAINTY
    only = UncertainEntries(*(getattr(au, f)[keep] for f in ("row", "col", "value", "kind",
                                                             "p1", "p2", "p3")))  # fmt: skip
    wanted = np.array([0, 7, 300])
    one = bg.background_scores(fact, a, au, b, bu, w, wanted, 10, np.random.SeedSequence(3))
    two = bg.background_scores(fact, a, only, b, bu, w, wanted, 10, np.random.SeedSequence(3))
    assert np.array_equal(one.scores, two.scores)


@pytest.mark.parametrize("kind", ["bicgstab", "gmres"])
def test_dask_runs_the_batches_to_the_same_numbers(database, kind: str) -> None:  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("distributed")
    a, b, w, au, bu = database
    if kind == "gmres":  # a system with no BiCGSTAB block: GMRES with its LU
        a, b, w, au, bu = _database(300, 200, seed=22)
    fact = solve.factorise(a)
    wanted = np.arange(a.shape[0])
    iterations = 70 if kind == "bicgstab" else 600  # two batches or more either way
    args = (fact, a, au, b, bu, w, wanted, iterations, np.random.SeedSequence(9))
    local = bg.background_scores(*args)
    assert local.method == kind and local.batches >= 2
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster,  \
            distributed.Client(cluster) as client:  # fmt: skip
        remote = bg.background_scores(*args, submit=client.submit)
    assert np.array_equal(remote.scores, local.scores)
    assert (remote.steps, remote.direct) == (local.steps, local.direct)


def test_the_check_bound_without_a_product_is_the_absolute_operator() -> None:
    """For A_c >= 0 and x >= 0, (I + A_c)^T x = 2x - (I - A_c)^T x: the componentwise check of
    a batch takes its bound from the residual's product (krylov.componentwise_ok)."""
    rng = np.random.default_rng(4)
    n, e, k = 50, 200, 3
    rows, cols = rng.integers(0, n, e), rng.integers(0, n, e)
    values = rng.uniform(0.0, 0.1, (k, e))
    base = sp.csc_matrix(sp.random(n, n, density=0.05, random_state=5)) * 0.1
    x = rng.random((n, k))
    a = [base + sp.csc_matrix((values[c], (rows, cols)), shape=(n, n)) for c in range(k)]
    exact = np.column_stack([(sp.identity(n) + a[c]).T @ x[:, c] for c in range(k)])
    scatter = sp.csr_matrix((np.ones(e), (cols, np.arange(e))), shape=(n, e))
    gather = sp.csr_matrix((np.ones(e), (np.arange(e), rows)), shape=(e, n))
    base_t = sp.csr_matrix(base.T)
    op = bg._BatchOperator(gather, scatter, np.ascontiguousarray(values.T), base_t)
    absolute = bg._BatchOperator(gather, scatter, np.ascontiguousarray(values.T), base_t, True)
    assert absolute.nonnegative
    np.testing.assert_allclose(absolute(x), exact, rtol=1e-13)
    np.testing.assert_allclose(2 * x - op(x), exact, rtol=1e-13)
