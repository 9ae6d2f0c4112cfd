"""Monte Carlo of a background database: every iteration samples the uncertain entries of A
and B and solves the transposed system, giving the score of every wanted process.

What is sampled: only entries that carry a distribution (a "no uncertainty" code is certain),
of processes upstream of those asked for (`upstream_of`: nothing else can move their scores),
and of B only the flows that the weights count.

How each batch of iterations is solved, by the kind of the mean system's `Factorisation`:
- an LU (no large cyclic block solved by BiCGSTAB): GMRES preconditioned by it, vectorised over the batch
  (`uncertainty.krylov_transposed_solves`);
- BiCGSTAB, for a system with a large cyclic core (`solve._block_solver`): BiCGSTAB on the
  batch's sampled systems as one operator, preconditioned by I + mean(A)^T (Jacobi when a
  process consumes its own product), started from the mean system's solution (a sample moves
  scores by a few per cent, so few iterations are left), each answer checked score by score
  (`krylov.solve_checked`); an iteration that does not converge gets its own factorisation.

Batch b draws from SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, b)): a result depends
only on the seed, the inputs and the batch size (a function of the system and its solver),
never on where a batch ran. So batches can go to a Dask cluster (`submit`) and give the same
numbers as a local run.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from openpcf.domain.lci import UncertainEntries
from openpcf.domain.uncertainty import NO_UNCERTAINTY
from openpcf.engine import krylov
from openpcf.engine.solve import Factorisation, SingularSystem, factorise
from openpcf.engine.uncertainty import (
    RTOL,
    Progress,
    batch_size,
    direct_transposed_solves,
    krylov_transposed_solves,
    sample_multipliers,
)

#: (function, *args) -> a future with `.result()`: a Dask client's `submit`, or a pool's.
Submit = Callable[..., Any]

# BiCGSTAB keeps about ten vectors per iteration of a batch; this much memory sets its size.
_ITERATIVE_BYTES = 128 * 2**20
_ITERATIVE_MAX_BATCH = 64
#: Componentwise backward error of each sampled solve (krylov.CTOL is for deterministic ones).
MC_CTOL = 1e-10


@dataclass(frozen=True)
class BackgroundRun:
    scores: np.ndarray  # (iterations × wanted processes)
    batches: int
    batch: int  # iterations per batch
    steps: int  # GMRES steps or BiCGSTAB iterations, summed over batches
    retried: int
    direct: int
    solved: int  # processes in the solved system: the wanted ones' upstream
    processes: int  # in the database
    sampled: int = 0  # uncertain entries sampled in each iteration (A and B)
    method: str = "gmres"  # "gmres" (mean LU), "bicgstab" (mean solution), "direct", "b only"


def upstream_of(technosphere: sp.spmatrix, wanted: np.ndarray) -> np.ndarray:
    """The processes the `wanted` ones draw on, directly or not, themselves included (sorted).

    A process's score depends on these alone: every supplier of one of them is one of them,
    so (I - A) restricted to them is closed, and its solution is the full system's there.
    """
    graph = sp.csr_matrix(sp.csc_matrix(technosphere).T)  # row j: what column j consumes
    graph.data = np.ones_like(graph.data)
    seen = np.zeros(graph.shape[0], dtype=bool)
    frontier = np.unique(np.asarray(wanted, dtype=np.int64))
    seen[frontier] = True
    while frontier.size:
        reached = graph[frontier].indices
        frontier = np.unique(reached[~seen[reached]])
        seen[frontier] = True
    return np.flatnonzero(seen)


@dataclass(frozen=True)
class _Batches:
    """Everything a batch needs, as plain arrays: it can travel to another process."""

    a_mean: sp.csc_matrix  # A of the solved system (its factorisation is cached per process)
    a_certain: sp.csc_matrix  # A less the uncertain entries' deterministic values
    a_rows: np.ndarray  # uncertain entries of A, sorted by column
    a_cols: np.ndarray
    a_base: np.ndarray
    a_par: tuple[np.ndarray, ...]  # kind, p1, p2, p3
    b_vals: np.ndarray  # uncertain entries of B, weighted, of counted flows
    b_par: tuple[np.ndarray, ...]
    rhs_certain: np.ndarray  # the weighted certain part of B, per process
    rhs_sum: sp.csr_matrix  # (processes × B entries): sums the entries into their process
    wanted: np.ndarray
    entropy: Any
    spawn_key: tuple[int, ...]
    step: int
    iterations: int
    method: str
    rtol: float
    x_mean: np.ndarray | None  # the mean system's solution: BiCGSTAB's start

    def draw(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch b's A entries and right-hand sides, from its own seed."""
        k = min(self.step, self.iterations - b * self.step)
        seq = np.random.SeedSequence(self.entropy, spawn_key=(*self.spawn_key, b))
        rng = np.random.Generator(np.random.PCG64(seq))
        a_values = sample_multipliers(*self.a_par, k, rng)
        a_values *= self.a_base
        b_mult = sample_multipliers(*self.b_par, k, rng)
        rhs = self.rhs_certain[None, :] + (self.rhs_sum @ (self.b_vals[:, None] * b_mult.T)).T
        return a_values, rhs

    def solve(self, a_values: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, int, int, int]:
        """Scores of the wanted processes for a drawn batch; steps, retried, direct."""
        if self.method == "b only":
            x = np.ascontiguousarray(factorise(self.a_mean).solve(rhs.T, transposed=True).T)
            return x[:, self.wanted], 0, 0, 0
        if self.method == "direct":
            x = direct_transposed_solves(self.a_certain, self.a_rows, self.a_cols, a_values, rhs)
            return x[:, self.wanted], 0, 0, 0
        if self.method == "bicgstab":
            assert self.x_mean is not None
            x, steps, direct = iterative_transposed_solves(
                self.a_certain, self.a_rows, self.a_cols, a_values, rhs, self.x_mean, self.a_mean
            )
            return x[:, self.wanted], steps, 0, direct
        sol = krylov_transposed_solves(factorise(self.a_mean), self.a_certain, self.a_rows,
                                       self.a_cols, a_values, rhs, self.rtol)  # fmt: skip
        return sol.x[:, self.wanted], sol.steps, sol.retried, sol.direct

    def run(self, b: int) -> tuple[np.ndarray, int, int, int]:
        return self.solve(*self.draw(b))


def _run_batch(batches: _Batches, b: int) -> tuple[np.ndarray, int, int, int]:
    """One batch, start to end: what a Dask worker is sent (a module-level function)."""
    return batches.run(b)


def background_scores(
    fact: Factorisation,
    technosphere: sp.spmatrix,
    a_uncertain: UncertainEntries,
    biosphere: sp.spmatrix,
    b_uncertain: UncertainEntries,
    weights: np.ndarray,
    wanted: np.ndarray,
    iterations: int,
    seed: np.random.SeedSequence,
    solver: str = "krylov",
    rtol: float = RTOL,
    progress: Progress | None = None,
    submit: Submit | None = None,
) -> BackgroundRun:
    """Monte Carlo scores of the `wanted` processes of a database: per unit of each, the
    weighted sum (`weights` per elementary flow, e.g. kg CO2e per kg) of its cradle-to-gate
    inventory, with the uncertain entries of A and B sampled in every iteration.

    `technosphere` and `biosphere` are the deterministic matrices (A, B); the entries hold each
    uncertain exchange's part of them. `fact` is the factorisation of I - A. Only the wanted
    processes' upstream is sampled and solved; when it is not the whole system, its own matrix
    is factorised (`solve.factorise`, cached) and used instead of `fact`. solver: "krylov"
    (GMRES or BiCGSTAB, by the factorisation's kind; see the module doc) or "direct" (a
    factorisation per iteration, for checks). `submit`: run the batches there (e.g. a Dask
    client's `submit`), with the same result as here.
    """
    a_uncertain, b_uncertain = _uncertain_only(a_uncertain), _uncertain_only(b_uncertain)
    up = upstream_of(technosphere, wanted)
    full = technosphere.shape[0]
    a_mean = sp.csc_matrix(technosphere)
    if up.size < full:  # renumber the upstream processes 0..len(up)-1
        at = np.full(full, -1, dtype=np.int64)
        at[up] = np.arange(up.size)
        a_mean = a_mean[up][:, up]
        fact = factorise(a_mean)
        biosphere = sp.csc_matrix(biosphere)[:, up]
        a_uncertain = _renumbered(a_uncertain, at, rows_too=True)
        b_uncertain = _renumbered(b_uncertain, at, rows_too=False)
        wanted = at[wanted]
    size = a_mean.shape[0]
    weights = np.asarray(weights, dtype=np.float64)
    b_certain = _certain_part(biosphere, b_uncertain)
    # only entries of flows that are counted can move a score
    bw = b_uncertain.value * weights[b_uncertain.row]
    keep = bw != 0
    b_cols, b_vals = b_uncertain.col[keep], bw[keep]
    iterative = bool(fact.krylov_blocks)
    # GMRES's batch operator wants the entries by column; BiCGSTAB's takes any order, and by
    # distribution each kind is drawn into a contiguous run of columns (no scattered writes)
    if iterative:
        by_col = np.lexsort((a_uncertain.col, a_uncertain.kind))
        keep = np.flatnonzero(keep)[np.argsort(b_uncertain.kind[keep], kind="stable")]
        b_cols, b_vals = b_uncertain.col[keep], bw[keep]
    else:
        by_col = np.argsort(a_uncertain.col, kind="stable")
    if a_uncertain.size == 0:
        method = "b only"
    elif solver == "direct":
        method = "direct"
    else:
        method = "bicgstab" if iterative else "gmres"
    x_mean = None
    if method == "bicgstab":
        x_mean = fact.solve(np.asarray(biosphere.T @ weights).ravel(), transposed=True)
    # by the system, not the method: a direct run for checks draws the same samples
    step = _iterative_batch(size, a_uncertain.size) if iterative else batch_size(size)
    batches = _Batches(
        a_mean=a_mean, a_certain=_certain_part(a_mean, a_uncertain),
        a_rows=a_uncertain.row[by_col], a_cols=a_uncertain.col[by_col],
        a_base=a_uncertain.value[by_col],
        a_par=tuple(getattr(a_uncertain, k)[by_col] for k in ("kind", "p1", "p2", "p3")),
        b_vals=b_vals, b_par=tuple(getattr(b_uncertain, k)[keep] for k in ("kind", "p1", "p2",
                                                                             "p3")),
        rhs_certain=np.asarray(b_certain.T @ weights).ravel(),
        rhs_sum=sp.csr_matrix((np.ones(b_cols.size), (b_cols, np.arange(b_cols.size))),
                              shape=(size, b_cols.size)),
        wanted=np.asarray(wanted), entropy=seed.entropy, spawn_key=tuple(seed.spawn_key),
        step=step, iterations=iterations, method=method, rtol=rtol, x_mean=x_mean,
    )  # fmt: skip
    n_batches = -(-iterations // step) if iterations else 0
    scores = np.empty((iterations, len(wanted)))
    totals = np.zeros(3, dtype=np.int64)

    def take(b: int, out: tuple[np.ndarray, int, int, int]) -> None:
        x, *counts = out
        scores[b * step : b * step + len(x)] = x
        totals[:] += counts
        if progress is not None:
            progress(min(iterations, int(np.count_nonzero(done)) * step), iterations)

    done = np.zeros(n_batches, dtype=bool)
    if submit is not None:
        futures = [submit(_run_batch, batches, b) for b in range(n_batches)]
        for b, future in enumerate(futures):
            out = future.result()
            done[b] = True
            take(b, out)
    else:
        # numpy's generators and ufuncs release the GIL: the next batch is drawn while this
        # one is solved, which hides most of the sampling time on a second core.
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead: Future | None = pool.submit(batches.draw, 0) if n_batches else None
            for b in range(n_batches):
                assert ahead is not None
                drawn = ahead.result()
                ahead = pool.submit(batches.draw, b + 1) if b + 1 < n_batches else None
                out = batches.solve(*drawn)
                done[b] = True
                take(b, out)
    return BackgroundRun(scores, n_batches, step, int(totals[0]), int(totals[1]),
                         int(totals[2]), size, full, int(a_uncertain.size + b_cols.size),
                         method)  # fmt: skip


def _iterative_batch(size: int, entries: int) -> int:
    """Iterations per BiCGSTAB batch: about twelve vectors of the system and two of the
    sampled entries per iteration within `_ITERATIVE_BYTES` (fixed by the system alone)."""
    per_iteration = 8 * (12 * size + 2 * entries)
    return int(max(1, min(_ITERATIVE_MAX_BATCH, _ITERATIVE_BYTES // per_iteration)))


# ---- BiCGSTAB on a batch of sampled systems --------------------------------------------------


class _BatchOperator:
    """y (n × k) -> (I - A_c)^T y_c for each column c of y, A_c = base + the sampled entries
    of iteration c; `absolute` gives |I| + |A_c|^T instead (a bound on |M_c^T|, for the
    componentwise check). `columns(cols)` is the same for a subset of the iterations.

    The sampled entries share one pattern, so a product gathers y at the entries' rows for all
    iterations at once, multiplies by the (entries × k) values, and adds them into their
    columns with one sparse product with k right-hand sides (`scatter`, n × entries)."""

    def __init__(self, rows: sp.csr_matrix, scatter: sp.csr_matrix, vt: np.ndarray,
                 base_t: sp.csr_matrix | None, absolute: bool = False) -> None:  # fmt: skip
        self.rows, self.scatter, self.base_t, self.absolute = rows, scatter, base_t, absolute
        self.vt = vt  # (entries × k), the sampled values (their magnitudes when absolute)
        # every A_c >= 0: the componentwise check needs no product of its own (krylov)
        self.nonnegative = (
            absolute
            and bool(np.all(vt >= 0))
            and (base_t is None or bool(np.all(base_t.data >= 0)))
        )

    def __call__(self, y: np.ndarray) -> np.ndarray:
        gathered = self.rows @ y  # a sparse product gathers rows faster than indexing
        gathered *= self.vt
        part = self.scatter @ gathered
        if self.base_t is not None:
            part += self.base_t @ y
        return y + part if self.absolute else y - part

    def columns(self, cols: np.ndarray) -> _BatchOperator:
        return _BatchOperator(self.rows, self.scatter, np.ascontiguousarray(self.vt[:, cols]),
                              self.base_t, self.absolute)  # fmt: skip


class _BatchJacobi:
    """y -> D_c^-1 y_c, D_c the diagonal of iteration c's I - A_c."""

    def __init__(self, inverse: np.ndarray) -> None:
        self.inverse = inverse  # (n × k)

    def __call__(self, y: np.ndarray) -> np.ndarray:
        return self.inverse * y

    def columns(self, cols: np.ndarray) -> _BatchJacobi:
        return _BatchJacobi(self.inverse[:, cols])


def iterative_transposed_solves(
    base: sp.spmatrix,
    rows: np.ndarray,
    cols: np.ndarray,
    values: np.ndarray,
    rhs: np.ndarray,
    x0: np.ndarray,
    mean: sp.spmatrix | None = None,
) -> tuple[np.ndarray, int, int]:
    """(I - A_k)^T x_k = rhs_k for a batch (rows of rhs), A_k = base + the entries (rows, cols,
    values[k]) sorted by column; BiCGSTAB from x0 on every iteration at once. Returns the
    solutions (batch × n), the BiCGSTAB iterations and how many iterations needed a direct
    solve."""
    size, k = base.shape[0], rhs.shape[0]
    base_t = sp.csr_matrix(sp.csc_matrix(base).T) if base.nnz else None
    entries = np.arange(cols.size)
    scatter = sp.csr_matrix((np.ones(cols.size), (cols, entries)), shape=(size, cols.size))
    gather = sp.csr_matrix((np.ones(cols.size), (entries, rows)), shape=(cols.size, size))
    vt = np.ascontiguousarray(values.T)
    op = _BatchOperator(gather, scatter, vt, base_t)
    nonnegative = bool(np.all(vt >= 0)) and (base_t is None or bool(np.all(base_t.data >= 0)))
    abs_op = _BatchOperator(gather, scatter, vt if nonnegative else np.abs(vt),
                            abs(base_t) if base_t is not None else None, True)  # fmt: skip
    diag = np.repeat(1.0 - sp.csc_matrix(base).diagonal()[:, None], k, axis=1)
    on_diag = rows == cols
    if on_diag.any():
        np.subtract.at(diag, rows[on_diag], values[:, on_diag].T)
    inverse = np.where(diag != 0, 1.0 / np.where(diag != 0, diag, 1.0), 1.0)
    precond: krylov.Apply = _BatchJacobi(inverse)
    if mean is not None and not on_diag.any() and not sp.csc_matrix(base).diagonal().any():
        # no process consumes its own product: (I - A)^-T ≈ I + mean(A)^T, the Neumann series
        # to first order, halves BiCGSTAB's steps (7.75 to 4.0 per batch on the hub system)
        # for one product with mean(A) per step, a fifth of a sampled step's cost
        mean_csc = sp.csc_matrix(mean)
        mean_t = sp.csr_matrix((mean_csc.data, mean_csc.indices, mean_csc.indptr),
                               shape=mean_csc.shape[::-1])  # fmt: skip

        def precond(y: np.ndarray) -> np.ndarray:
            return y + mean_t @ y

    start = np.repeat(np.asarray(x0, dtype=np.float64)[:, None], k, axis=1)
    # a sample is a draw: scores to 1e-10 of their exact values are plenty (the sampling error
    # is ~1e-2), and two BiCGSTAB iterations fewer than the deterministic solves' 1e-12
    res = krylov.solve_checked(op, abs_op, precond, np.ascontiguousarray(rhs.T),
                               start, ctol=MC_CTOL, rtol=MC_CTOL / 10)  # fmt: skip
    x = np.ascontiguousarray(res.x.T)
    failed = np.flatnonzero(~res.converged)
    for i in failed:
        x[i] = direct_transposed_solves(base, rows, cols, values[i : i + 1], rhs[i : i + 1])[0]
    if not np.all(np.isfinite(x)):
        raise SingularSystem("a sampled system has no finite solution")
    return x, res.iterations, int(failed.size)


def _uncertain_only(u: UncertainEntries) -> UncertainEntries:
    """The entries that carry a distribution (the others are part of the certain matrix)."""
    keep = u.kind != NO_UNCERTAINTY
    if keep.all():
        return u
    return UncertainEntries(*(getattr(u, f)[keep] for f in ("row", "col", "value", "kind", "p1",
                                                            "p2", "p3")))  # fmt: skip


def _renumbered(u: UncertainEntries, at: np.ndarray, rows_too: bool) -> UncertainEntries:
    """The entries in kept columns, with columns (and rows) renumbered by `at` (-1: dropped)."""
    keep = at[u.col] >= 0
    rows = at[u.row[keep]] if rows_too else u.row[keep]
    return UncertainEntries(rows, at[u.col[keep]], u.value[keep], u.kind[keep], u.p1[keep],
                            u.p2[keep], u.p3[keep])  # fmt: skip


def _certain_part(m: sp.spmatrix, uncertain: UncertainEntries) -> sp.csc_matrix:
    """The matrix less its uncertain entries' deterministic values."""
    csc = sp.csc_matrix(m, dtype=np.float64, copy=True)
    if uncertain.size:
        u = sp.csc_matrix((uncertain.value, (uncertain.row, uncertain.col)), shape=m.shape)
        csc = sp.csc_matrix(csc - u)
    csc.sum_duplicates()
    csc.eliminate_zeros()
    return csc
