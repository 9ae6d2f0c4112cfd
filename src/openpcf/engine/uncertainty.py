"""Monte Carlo for LCA systems: sampling, batched solves and statistics. Arrays in, arrays out.

Every uncertain number is a *multiplier* of its deterministic value, drawn from a distribution
coded as in stats_arrays (`domain.uncertainty`: 2 lognormal with σ of ln; 3 normal with a
relative sd; 4 uniform and 5 triangular with bounds as ratios). Sampling is vectorised: all
iterations of a parameter set at once from a numpy `Generator`, reproducible from its seed.

Solves, always of the transposed system (I - A_k)^T x_k = b_k (one solve per iteration gives
the footprint of every process: x_k[j] is process j's score per unit):

- small systems (a product model and its sub-assemblies): one stacked dense `np.linalg.solve`
  for all iterations, or, when only b varies, one multi-right-hand-side solve with the cached
  factorisation;
- large systems (a background database with uncertain exchanges): the mean system's
  factorisation is not redone per iteration; it preconditions a Krylov method (GMRES, right
  preconditioned) on each iteration's matrix. Iterations are solved in batches: the batch's
  matrices act as one block-diagonal sparse matrix, the mean LU solves all the batch's
  right-hand sides in one call, and the GMRES recurrences run vectorised over the batch.
  An iteration that does not converge is retried alone with scipy's `gmres` (same
  preconditioner as a `LinearOperator`), then by a direct factorisation; both are counted.

A background database's Monte Carlo (batches, seeds, the BiCGSTAB path for systems with a
large cyclic core, Dask) is `engine.background`, which uses the solvers here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, gmres

from openpcf.domain.uncertainty import LOGNORMAL, NO_UNCERTAINTY, NORMAL, TRIANGULAR, UNIFORM
from openpcf.engine.solve import Factorisation, SingularSystem, factorise, factorise_direct

#: Called with (iterations done, iterations in all).
Progress = Callable[[int, int], None]

# Up to this many processes, the stacked dense solve beats anything sparse.
DENSE_LIMIT = 64
# GMRES: relative residual to reach (normwise over all processes; 1e-10 left single small
# scores off by up to 2e-9 relative in benchmarks/uncertainty.py, 1e-11 by 1e-11),
# Krylov vectors kept before a restart, restarts before an iteration is retried alone.
RTOL = 1e-11
RESTART = 20
MAX_RESTARTS = 4
# Memory for a batch's Krylov basis, which sets the batch size for a system of n processes.
_BASIS_BYTES = 64 * 2**20
_MAX_BATCH = 256


def sample_multipliers(
    kind: np.ndarray,
    p1: np.ndarray,
    p2: np.ndarray,
    p3: np.ndarray,
    iterations: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """(iterations × parameters) multipliers, all iterations at once, one kind after another."""
    kind = np.asarray(kind)
    known = (NO_UNCERTAINTY, LOGNORMAL, NORMAL, UNIFORM, TRIANGULAR)
    unknown = np.setdiff1d(kind, known)
    if unknown.size:
        raise ValueError(f"unknown distribution code(s) {unknown.tolist()}")
    out = np.empty((iterations, kind.size))
    out[:, kind == NO_UNCERTAINTY] = 1.0
    for code in (LOGNORMAL, NORMAL, UNIFORM, TRIANGULAR):
        at = np.flatnonzero(kind == code)
        m = at.size
        if not m:
            continue
        # a contiguous run (entries sorted by kind) is written as a block, not scattered
        idx: slice | np.ndarray = slice(at[0], at[-1] + 1) if at[-1] - at[0] + 1 == m else at
        shape = (iterations, m)
        if code in (LOGNORMAL, NORMAL):
            z = rng.standard_normal(shape)
            z *= p1[idx]
            if code == LOGNORMAL:
                np.exp(z, out=z)
            else:
                z += 1.0
        elif code == UNIFORM:
            z = rng.uniform(p1[idx], p2[idx], shape)
        else:
            z = rng.triangular(p1[idx], p2[idx], p3[idx], shape)
        out[:, idx] = z
    return out


# ---- small systems ---------------------------------------------------------------------------


def stacked_transposed_solves(
    size: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """x_k with (I - A_k)^T x_k = rhs_k for every k at once; A_k[rows, cols] = values[k]
    (duplicates add up). values: (N × entries), rhs: (N × size). Dense: for small systems."""
    n_iter = rhs.shape[0]
    mt = np.zeros((n_iter, size, size))
    mt[:, np.arange(size), np.arange(size)] = 1.0
    if len(rows):
        np.add.at(mt, (slice(None), cols, rows), -values)  # (I - A)^T[c, r] = -A[r, c]
    try:
        x = np.linalg.solve(mt, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError as exc:
        raise SingularSystem(f"a sampled system is singular: {exc}") from None
    if not np.all(np.isfinite(x)):
        raise SingularSystem("a sampled system has no finite solution")
    return x


def transposed_solves(
    size: int,
    rows: np.ndarray,
    cols: np.ndarray,
    values: np.ndarray,
    multipliers: np.ndarray | None,
    rhs: np.ndarray,
) -> np.ndarray:
    """Solutions (N × size) of (I - A_k)^T x_k = rhs_k, A_k[rows, cols] = values × multipliers[k].

    Only b varies (multipliers None): one factorisation, one multi-right-hand-side solve.
    Otherwise a stacked dense solve up to `DENSE_LIMIT` processes, else Krylov with the
    factorisation of the deterministic A as preconditioner.
    """
    a = sp.csc_matrix((values, (rows, cols)), shape=(size, size))
    if multipliers is None:
        fact = factorise(a)
        return np.ascontiguousarray(fact.solve(rhs.T, transposed=True).T)
    sampled = values[None, :] * multipliers
    if size <= DENSE_LIMIT:  # in chunks of about 32 MB of stacked matrices
        step = max(1, 2**22 // (size * size))
        return np.concatenate([
            stacked_transposed_solves(size, rows, cols, sampled[i : i + step], rhs[i : i + step])
            for i in range(0, rhs.shape[0], step)
        ])  # fmt: skip
    fact = factorise(a)
    empty = sp.csc_matrix((size, size))
    out = np.empty_like(rhs)
    step = batch_size(size)
    for start in range(0, rhs.shape[0], step):
        part = slice(start, start + step)
        out[part] = krylov_transposed_solves(fact, empty, rows, cols, sampled[part], rhs[part]).x
    return out


# ---- large systems: Krylov with the mean factorisation ---------------------------------------


def batch_size(size: int) -> int:
    """Iterations solved together for a system of `size` processes (fixed by the size alone)."""
    return int(max(1, min(_MAX_BATCH, _BASIS_BYTES // (8 * size * (RESTART + 1)))))


class _BlockPattern:
    """The sparsity of blockdiag((A_1 - base)^T, ..., (A_k - base)^T) for up to `batch` blocks.

    A batch's uncertain entries act as one block-diagonal sparse matrix, so one sparse product
    serves the whole batch; entries must come sorted by column (the rows of A^T). The first k
    blocks of the pattern serve a batch of k.
    """

    def __init__(self, size: int, rows: np.ndarray, cols: np.ndarray, batch: int) -> None:
        if np.any(np.diff(cols) < 0):
            raise ValueError("entries must be sorted by column")
        e = rows.size
        counts = np.bincount(cols, minlength=size)
        starts = np.r_[0, np.cumsum(counts)][:-1]
        self.size, self.entries = size, e
        self.indptr = np.r_[(starts[None, :] + e * np.arange(batch)[:, None]).ravel(), batch * e]
        self.indices = (rows[None, :] + size * np.arange(batch)[:, None]).ravel()

    def operator(
        self, values: np.ndarray, base_t: sp.csr_matrix | None
    ) -> Callable[[np.ndarray], np.ndarray]:
        """x_k -> (I - A_k)^T x_k for the rows x_k of x, A_k = base + entries with values[k]."""
        k, n, e = values.shape[0], self.size, self.entries
        blocks = sp.csr_matrix(
            (np.ascontiguousarray(values).reshape(-1), self.indices[: k * e],
             self.indptr[: k * n + 1]), shape=(k * n, k * n), copy=False,
        )  # fmt: skip

        def apply(x: np.ndarray) -> np.ndarray:
            y = x - (blocks @ x.reshape(-1)).reshape(x.shape)
            if base_t is not None:
                y -= (base_t @ x.T).T
            return y

        return apply


@dataclass(frozen=True)
class KrylovSolution:
    x: np.ndarray  # (batch × size)
    steps: int  # GMRES steps of the batch (each: one preconditioner solve, one product)
    retried: int  # iterations solved alone by scipy's gmres
    direct: int  # iterations that needed their own factorisation


def krylov_transposed_solves(
    fact: Factorisation,
    base: sp.spmatrix,
    rows: np.ndarray,
    cols: np.ndarray,
    values: np.ndarray,
    rhs: np.ndarray,
    rtol: float = RTOL,
) -> KrylovSolution:
    """(I - A_k)^T x_k = rhs_k for a batch, A_k = base + the entries (rows, cols, values[k]).

    GMRES(`RESTART`) preconditioned on the right by the mean system's factorisation `fact`,
    vectorised over the batch and started from the mean system's solution; converged when
    |rhs_k - (I - A_k)^T x_k| <= rtol |rhs_k|.
    """
    size = fact.size
    base_t = sp.csr_matrix(base.T) if base.nnz else None
    order = np.argsort(cols, kind="stable")
    if np.any(order != np.arange(order.size)):
        rows, cols, values = rows[order], cols[order], values[:, order]
    pattern = _BlockPattern(size, rows, cols, rhs.shape[0])

    def prec(r: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(fact.solve(r.T, transposed=True).T)

    x = prec(rhs)
    todo = np.arange(rhs.shape[0])
    steps = 0
    target = rtol * np.linalg.norm(rhs, axis=1)
    op = pattern.operator(values, base_t)
    for cycle in range(MAX_RESTARTS + 2):
        r = rhs[todo] - op(x[todo])
        left = np.linalg.norm(r, axis=1) > target[todo]
        if not left.all():
            todo, r = todo[left], r[left]
            if todo.size:
                op = pattern.operator(values[todo], base_t)
        if not todo.size or cycle == MAX_RESTARTS + 1:
            break
        dx, k = _gmres_cycle(op, prec, r, target[todo])
        x[todo] += dx
        steps += k
    retried = direct = 0
    for i in todo:  # did not converge in the batch: alone, then directly
        a_i = base + sp.csc_matrix((values[i], (rows, cols)), shape=(size, size))
        m_t = sp.csr_matrix((sp.identity(size) - a_i).T)
        xi, ok = _scipy_gmres(m_t, rhs[i], x[i], fact, rtol)
        retried += 1
        if not ok:
            xi = direct_transposed_solves(base, rows, cols, values[i : i + 1], rhs[i : i + 1])[0]
            direct += 1
        x[i] = xi
    if not np.all(np.isfinite(x)):
        raise SingularSystem("a sampled system has no finite solution")
    return KrylovSolution(x, steps, retried, direct)


def _gmres_cycle(
    op: Callable[[np.ndarray], np.ndarray],
    prec: Callable[[np.ndarray], np.ndarray],
    r: np.ndarray,
    target: np.ndarray,
) -> tuple[np.ndarray, int]:
    """One GMRES cycle from residuals r (batch × n): the correction, and the steps taken; it
    stops when every row's residual estimate is within its `target`.

    Right preconditioning (the minimised residual is the true one); Arnoldi by classical
    Gram-Schmidt applied twice, Givens rotations, all vectorised over the batch's rows.
    """
    k_batch = r.shape[0]
    beta = np.linalg.norm(r, axis=1)
    safe = np.where(beta > 0, beta, 1.0)
    v = np.empty((RESTART + 1, *r.shape))
    v[0] = r / safe[:, None]
    h = np.zeros((RESTART + 1, RESTART, k_batch))
    cs = np.zeros((RESTART, k_batch))
    sn = np.zeros((RESTART, k_batch))
    g = np.zeros((RESTART + 1, k_batch))
    g[0] = beta
    j = 0
    for j in range(RESTART):
        w = op(prec(v[j]))
        hj = np.zeros((j + 1, k_batch))
        for _ in range(2):  # CGS2: re-orthogonalise once
            c = np.einsum("ikn,kn->ik", v[: j + 1], w)
            w -= np.einsum("ik,ikn->kn", c, v[: j + 1])
            hj += c
        h[: j + 1, j] = hj
        h[j + 1, j] = np.linalg.norm(w, axis=1)
        v[j + 1] = w / np.where(h[j + 1, j] > 0, h[j + 1, j], 1.0)[:, None]
        for i in range(j):  # earlier rotations on the new column
            t = cs[i] * h[i, j] + sn[i] * h[i + 1, j]
            h[i + 1, j] = -sn[i] * h[i, j] + cs[i] * h[i + 1, j]
            h[i, j] = t
        d = np.hypot(h[j, j], h[j + 1, j])
        ok = d > 0
        cs[j] = np.where(ok, h[j, j] / np.where(ok, d, 1.0), 1.0)
        sn[j] = np.where(ok, h[j + 1, j] / np.where(ok, d, 1.0), 0.0)
        h[j, j] = d
        h[j + 1, j] = 0.0
        g[j + 1] = -sn[j] * g[j]
        g[j] = cs[j] * g[j]
        if np.all(np.abs(g[j + 1]) <= target):
            break
    steps = j + 1
    y = np.zeros((steps, k_batch))
    for i in range(steps - 1, -1, -1):
        acc = g[i] - np.einsum("jk,jk->k", h[i, i + 1 : steps], y[i + 1 : steps])
        diag = h[i, i]
        y[i] = np.where(diag != 0, acc / np.where(diag != 0, diag, 1.0), 0.0)
    return prec(np.einsum("jk,jkn->kn", y, v[:steps])), steps


_RTOL = "rtol" if "rtol" in inspect.signature(gmres).parameters else "tol"


def _scipy_gmres(
    m_t: sp.csr_matrix, b: np.ndarray, x0: np.ndarray, fact: Factorisation, rtol: float
) -> tuple[np.ndarray, bool]:
    n = fact.size
    precond = LinearOperator((n, n), matvec=lambda r: fact.solve(r, transposed=True))
    x, info = gmres(m_t, b, x0=x0, M=precond, restart=50, maxiter=20, atol=0.0,
                    **{_RTOL: rtol})  # fmt: skip
    ok = info == 0 and np.linalg.norm(b - m_t @ x) <= rtol * np.linalg.norm(b) * 10
    return x, bool(ok and np.all(np.isfinite(x)))


def direct_transposed_solves(
    base: sp.spmatrix, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """The same solves by a fresh LU of each iteration's matrix (`solve.factorise_direct`,
    never iterative): the reference the Krylov paths are checked against, and
    their last resort."""
    size = base.shape[0]
    out = np.empty_like(rhs, dtype=np.float64)
    for k in range(rhs.shape[0]):
        a_k = base + sp.csc_matrix((values[k], (rows, cols)), shape=(size, size))
        out[k] = factorise_direct(a_k).solve(rhs[k], transposed=True)
    return out


# ---- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    mean: float
    sd: float
    standard_error: float
    median: float
    p2_5: float
    p97_5: float


def summary(values: np.ndarray) -> Summary:
    v = np.asarray(values, dtype=np.float64)
    sd = float(v.std(ddof=1)) if v.size > 1 else 0.0
    p2_5, median, p97_5 = np.percentile(v, [2.5, 50.0, 97.5])
    return Summary(float(v.mean()), sd, sd / np.sqrt(v.size), float(median), float(p2_5),
                   float(p97_5))  # fmt: skip


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..N of a 1-D array, ties sharing their average rank (as scipy's rankdata)."""
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(v, kind="mergesort")
    ordered = v[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], v.size]
    out = np.empty(v.size)
    out[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return out


def rank_correlations(parts: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Spearman's rank correlation of each row of `parts` (L × N) with `total` (N); a constant
    row (no uncertainty reaches it) or a constant total gives 0."""
    parts = np.atleast_2d(np.asarray(parts, dtype=np.float64))
    rt = ranks(total)
    rt -= rt.mean()
    out = np.zeros(len(parts))
    for i, row in enumerate(parts):
        r = ranks(row)
        r -= r.mean()
        denom = np.linalg.norm(r) * np.linalg.norm(rt)
        out[i] = float(r @ rt) / denom if denom > 0 else 0.0
    return out


def variance_shares(correlations: np.ndarray) -> np.ndarray:
    """Contribution to variance: squared rank correlations normalised to add up to 1."""
    sq = np.asarray(correlations, dtype=np.float64) ** 2
    total = sq.sum()
    return sq / total if total > 0 else sq
