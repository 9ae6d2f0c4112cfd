"""Preconditioned BiCGSTAB for several right-hand sides at once, checked score by score.

Why: an LCA technosphere is productive (the spectral radius of A is well below 1), so I - A is
close to the identity in the sense that matters to Krylov methods, and BiCGSTAB converges in tens
of iterations with no factorisation at all. On a large cyclic block (ecoinvent's core holds most
of its 20,000 processes) a sparse LU fills with tens of millions of entries, while BiCGSTAB costs
a few sparse products; see docs/engine.md for the measurements.

The recurrences run vectorised over the columns of an (n × k) right-hand side: one sparse
product serves every column, and each column has its own scalars (alpha, omega, rho). A column
stops when its residual estimate is small; the answer is then checked by its *true* residual,
component by component, against |b| + |M| |x| (the componentwise backward error), and the
iteration restarts from the true residual (iterative refinement) until every component passes.
What does not converge is reported, and the caller falls back to a direct solve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

Apply = Callable[[np.ndarray], np.ndarray]


class SingularSystem(ValueError):
    """I - A cannot be inverted, or a cycle consumes at least as much as it produces."""


#: Componentwise backward error every answer must reach: |b - M x| <= CTOL (|b| + |M| |x|),
#: component by component. For a productive system the relative error of each score is then a
#: small multiple of it (1e-12 gave at most 4e-12 relative on the benchmarks' systems).
CTOL = 1e-12
#: ... and the true residual at most this share of the right-hand side, column by column.
NTOL = 1e-10
#: The fallback LU's answer must leave a residual below this share of the right-hand side.
DIRECT_TOL = 1e-8
#: Normwise target of one BiCGSTAB run before its answer is checked (and refined if need be).
RTOL = 1e-13
#: Iterations of one run, and runs (restarts from the true residual) before giving up.
MAXITER = 200
REFINEMENTS = 4


@dataclass(frozen=True)
class KrylovResult:
    x: np.ndarray  # (n × k)
    converged: np.ndarray  # (k,) bool: passed the componentwise check
    iterations: int  # BiCGSTAB iterations, summed over refinements (each: two products)


def _safe(den: np.ndarray) -> np.ndarray:
    return np.where(den != 0, den, 1.0)


def bicgstab(
    apply: Apply,
    precond: Apply,
    b: np.ndarray,
    x0: np.ndarray | None = None,
    rtol: float = RTOL,
    maxiter: int | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Right-preconditioned BiCGSTAB on the columns of b (n × k) at once.

    Returns x, a per-column flag of reaching |r| <= rtol |b| (by the recurrence's residual), and
    the iterations run. Columns leave the working set as they converge; a column that breaks
    down (rho or the step's denominator vanishing) or stops being finite leaves unconverged.
    """
    b = np.asarray(b, dtype=np.float64)
    n, k = b.shape
    maxiter = MAXITER if maxiter is None else maxiter
    x = np.zeros((n, k)) if x0 is None else np.array(x0, dtype=np.float64)
    r = b - apply(x) if x0 is not None else b.copy()
    target = rtol * np.linalg.norm(b, axis=0)
    done = np.linalg.norm(r, axis=0) <= target
    failed = np.zeros(k, dtype=bool)
    act = np.flatnonzero(~done)
    if not act.size:
        return x, done, 0
    r = r[:, act]
    rhat = r.copy()
    p = np.zeros_like(r)
    v = np.zeros_like(r)
    rho = alpha = omega = np.ones(act.size)
    xa = x[:, act]
    op, pre = (apply, precond) if act.size == k else (_columns(apply, act), _columns(precond, act))
    it = 0
    while it < maxiter and act.size:
        it += 1
        rho_new = np.einsum("ij,ij->j", rhat, r)
        beta = (rho_new / _safe(rho)) * (alpha / _safe(omega))
        p = r + beta * (p - omega * v)
        phat = pre(p)
        v = op(phat)
        den = np.einsum("ij,ij->j", rhat, v)
        alpha = rho_new / _safe(den)
        s = r - alpha * v
        shat = pre(s)
        t = op(shat)
        tt = np.einsum("ij,ij->j", t, t)
        omega = np.einsum("ij,ij->j", t, s) / _safe(tt)
        xa += alpha * phat + omega * shat
        r = s - omega * t
        rho = rho_new
        norm = np.linalg.norm(r, axis=0)
        ok = norm <= target[act]
        broken = (rho_new == 0) | (den == 0) | (omega == 0) | ~np.isfinite(norm)
        broken &= ~ok
        leave = ok | broken
        if leave.any():
            x[:, act] = xa
            done[act[ok]] = True
            failed[act[broken]] = True
            keep = ~leave
            act = act[keep]
            r, rhat, p, v, xa = r[:, keep], rhat[:, keep], p[:, keep], v[:, keep], xa[:, keep]
            rho, alpha, omega = rho[keep], alpha[keep], omega[keep]
            if act.size:  # the operators of the columns left (a batch's differ by column)
                op, pre = _columns(apply, act), _columns(precond, act)
    if act.size:
        x[:, act] = xa
    return x, done & ~failed, it


def componentwise_ok(
    apply: Apply, abs_apply: Apply, b: np.ndarray, x: np.ndarray, ctol: float = CTOL
) -> tuple[np.ndarray, np.ndarray]:
    """The true residual b - M x, and per column whether every component passes
    |r| <= ctol (|b| + |M| |x|) and the whole column |r| <= NTOL |b|: a componentwise backward
    error alone would accept a huge x from a (nearly) singular M. `apply` is y -> M y,
    `abs_apply` y -> |M| y (or a bound on it); when it says `nonnegative` (M = I - A with
    A >= 0) and x >= 0, the bound (I + A) x = 2x - M x comes without a second product."""
    mx = apply(x)
    r = b - mx
    if getattr(abs_apply, "nonnegative", False) and np.all(x >= 0):
        abs_mx = 2.0 * x - mx
    else:
        abs_mx = abs_apply(np.abs(x))
    bound = ctol * (np.abs(b) + abs_mx)
    ok = np.all(np.abs(r) <= bound, axis=0) & np.all(np.isfinite(x), axis=0)
    ok &= np.linalg.norm(r, axis=0) <= NTOL * np.linalg.norm(b, axis=0)
    return r, ok


def solve_checked(
    apply: Apply,
    abs_apply: Apply,
    precond: Apply,
    b: np.ndarray,
    x0: np.ndarray | None = None,
    ctol: float = CTOL,
    rtol: float = RTOL,
) -> KrylovResult:
    """M x = b for the columns of b (n × k), by BiCGSTAB from x0 (to `rtol`) with refinement
    from the true residual, each column checked componentwise (to `ctol`); unconverged columns
    are flagged, not fixed."""
    b = np.asarray(b, dtype=np.float64)
    x = np.zeros_like(b) if x0 is None else np.array(x0, dtype=np.float64)
    total = 0
    if x0 is None:  # x = 0: the residual is b, and only columns of zeros are answered
        r, ok = b.copy(), ~np.any(b, axis=0)
    else:
        r, ok = componentwise_ok(apply, abs_apply, b, x, ctol)
    for _ in range(REFINEMENTS):
        todo = np.flatnonzero(~ok)
        if not todo.size:
            break
        if todo.size == ok.size:
            dx, _, its = bicgstab(apply, precond, r, rtol=rtol)
            x += dx
            r, ok = componentwise_ok(apply, abs_apply, b, x, ctol)
        else:  # only some columns: the operator must take any subset of them
            dx, _, its = bicgstab(_columns(apply, todo), _columns(precond, todo), r[:, todo],
                                  rtol=rtol)  # fmt: skip
            x[:, todo] += dx
            r_t, ok_t = componentwise_ok(_columns(apply, todo), _columns(abs_apply, todo),
                                         b[:, todo], x[:, todo], ctol)  # fmt: skip
            r[:, todo], ok[todo] = r_t, ok_t
        total += its
    return KrylovResult(x, ok, total)


def _columns(fn: Apply, cols: np.ndarray) -> Apply:
    """fn for a subset of the columns: a plain matrix product takes any columns; an operator
    that depends on the column (a batch of sampled systems) takes `.columns(cols)` itself."""
    sub = getattr(fn, "columns", None)
    return sub(cols) if sub is not None else fn


def jacobi(diagonal: np.ndarray) -> Apply:
    """y -> D^-1 y for the rows of an (n × k) array; zero diagonal entries are left alone."""
    inv = np.where(diagonal != 0, 1.0 / np.where(diagonal != 0, diagonal, 1.0), 1.0)[:, None]

    def apply(y: np.ndarray) -> np.ndarray:
        return inv * y

    return apply


class KrylovBlock:
    """A diagonal block of I - A solved by BiCGSTAB (Jacobi-preconditioned, then with an
    incomplete LU if that fails), with an LU of the block as the last resort.

    Has the `solve(rhs, trans)` of scipy's SuperLU, so a `BlockSubstitution` can hold it in
    place of one. The fallback LU is made on first need and kept; `fallbacks` counts the
    columns it answered, `iterations` the BiCGSTAB iterations of every solve (both for reports
    and tests: a value, not a guarantee, under concurrent use).
    """

    def __init__(self, m: sp.csc_matrix, direct: Callable[[sp.csc_matrix], object]) -> None:
        self.shape = m.shape
        self._csc = sp.csc_matrix(m)
        self.precond = jacobi(self._csc.diagonal())
        self._direct = direct
        self._lu: object | None = None
        self._ilu: dict[str, Apply] = {}
        self.fallbacks = 0
        self.iterations = 0

    @property
    def nnz(self) -> int:
        return int(self._csc.nnz)

    # Made on first use: a transposed solve (all-process footprints) needs only M^T.
    @cached_property
    def m(self) -> sp.csr_matrix:
        return sp.csr_matrix(self._csc)

    @cached_property
    def mt(self) -> sp.csr_matrix:  # the transpose of a CSC matrix is CSR without a copy
        return sp.csr_matrix((self._csc.data, self._csc.indices, self._csc.indptr),
                             shape=self.shape[::-1])  # fmt: skip

    @cached_property
    def abs_m(self) -> sp.csr_matrix:
        return abs(self.m)

    @cached_property
    def abs_mt(self) -> sp.csr_matrix:
        return abs(self.mt)

    def lu(self) -> object:
        if self._lu is None:
            self._lu = self._direct(self._csc)
        return self._lu

    def _incomplete(self, trans: str) -> Apply | None:
        if trans not in self._ilu:
            from scipy.sparse.linalg import spilu

            op = self.mt if trans == "T" else self.m
            try:
                ilu = spilu(sp.csc_matrix(op), drop_tol=1e-4, fill_factor=4.0)
            except RuntimeError:  # exactly singular: leave it to the LU
                return None
            self._ilu[trans] = lambda y: np.asarray(ilu.solve(y))
        return self._ilu[trans]

    def solve(self, rhs: np.ndarray, trans: str = "N") -> np.ndarray:
        rhs = np.asarray(rhs, dtype=np.float64)
        b = rhs.reshape(rhs.shape[0], -1)
        op, abs_op = (self.mt, self.abs_mt) if trans == "T" else (self.m, self.abs_m)
        res = solve_checked(op.__matmul__, abs_op.__matmul__, self.precond, b)
        x, its = res.x, res.iterations
        left = np.flatnonzero(~res.converged)
        if left.size:
            ilu = self._incomplete(trans)
            if ilu is not None:
                again = solve_checked(op.__matmul__, abs_op.__matmul__, ilu, b[:, left])
                its += again.iterations
                x[:, left] = again.x
                left = left[~again.converged]
        if left.size:
            self.fallbacks += int(left.size)
            lu = self.lu()
            xl = np.asarray(lu.solve(b[:, left], trans=trans)).reshape(b.shape[0], -1)  # type: ignore[attr-defined]
            # SuperLU answers a numerically singular block without complaint: check it too
            r = np.linalg.norm(b[:, left] - op @ xl, axis=0)
            if not np.all(r <= DIRECT_TOL * np.linalg.norm(b[:, left], axis=0)):
                raise SingularSystem("I - A is singular or nearly so: neither BiCGSTAB nor an "
                                     "LU of its cyclic block gives a solution")  # fmt: skip
            x[:, left] = xl
        self.iterations += its
        return x.reshape(rhs.shape)
