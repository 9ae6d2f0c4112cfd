"""Block triangular substitution, compiled: the solver of every system of `COMPILED_MIN` or more
processes.

Why: an LCA technosphere is mostly hierarchical. In supply order (suppliers before consumers)
I - A is block triangular: its strongly connected components are single processes or small
cycles, and a few large cyclic blocks (energy, materials, transport) at most. Everything
outside the large blocks is solved by substitution in that order, one pass over A's entries;
the large blocks are swept by Gauss-Seidel in transposed solves (all-process scores), and
otherwise get a solver of their own (an LU, or BiCGSTAB when an LU would fill:
`solve._block_solver`). The pass is a loop over processes, which Python cannot run fast and
sparse matrix products cannot express, so it is compiled (numba, cached on disk after the first
call); so are the search for the components (Tarjan's algorithm) and the sweeps. Measured on
USLCI tiled 100 times (76,600 processes): components 1.7 ms, substitution 1.7–2 ms, 16 sweeps
over its block of 3,200 0.6–0.9 ms, where the SuperLU runs of the earlier block triangular LU
took 250–400 ms (BENCHMARKS.md).

The kernels read A itself (CSC, as scipy keeps it), never I - A: M[i, j] = delta_ij - A[i, j].
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from numba import njit

from openpcf.engine.krylov import CTOL, NTOL, SingularSystem

#: A strongly connected block of at least this many processes is large: Gauss-Seidel sweeps or
#: a solver of its own; smaller cycles are solved inside the substitution with their inverse.
BIG_BLOCK = 64
#: Sweeps over a large block before its own solver takes over (a productive block with a
#: spectral radius of 0.5 needs about 40 to reach 1e-12).
MAX_SWEEPS = 100


@njit(cache=True)
def _components(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Strongly connected components of the graph j -> suppliers of j (Tarjan, iterative).

    Tarjan emits a component once every component it reaches is emitted: suppliers first,
    the order substitution of the transposed system needs. Returns the processes in that
    order, where each component starts in it (plus n), each process's position in it and
    its component."""
    index = np.full(n, -1, np.int64)
    low = np.zeros(n, np.int64)
    onstack = np.zeros(n, np.bool_)
    stack = np.empty(n, np.int64)
    order = np.empty(n, np.int64)
    starts = np.empty(n + 1, np.int64)
    call_node = np.empty(n, np.int64)
    call_edge = np.empty(n, np.int64)
    top = 0
    pos = 0
    ncomp = 0
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        call_node[0] = root
        call_edge[0] = indptr[root]
        depth = 1
        index[root] = counter
        low[root] = counter
        counter += 1
        stack[top] = root
        top += 1
        onstack[root] = True
        while depth > 0:
            v = call_node[depth - 1]
            e = call_edge[depth - 1]
            if e < indptr[v + 1]:
                call_edge[depth - 1] = e + 1
                if data[e] == 0.0:  # an explicit zero is no supply link
                    continue
                w = indices[e]
                if index[w] == -1:
                    index[w] = counter
                    low[w] = counter
                    counter += 1
                    stack[top] = w
                    top += 1
                    onstack[w] = True
                    call_node[depth] = w
                    call_edge[depth] = indptr[w]
                    depth += 1
                elif onstack[w] and index[w] < low[v]:
                    low[v] = index[w]
            else:
                depth -= 1
                if depth > 0:
                    u = call_node[depth - 1]
                    if low[v] < low[u]:
                        low[u] = low[v]
                if low[v] == index[v]:
                    starts[ncomp] = pos
                    ncomp += 1
                    while True:
                        top -= 1
                        w = stack[top]
                        onstack[w] = False
                        order[pos] = w
                        pos += 1
                        if w == v:
                            break
    starts[ncomp] = n
    position = np.empty(n, np.int64)
    comp_of = np.empty(n, np.int64)
    for c in range(ncomp):
        for q in range(starts[c], starts[c + 1]):
            position[order[q]] = q
            comp_of[order[q]] = c
    return order, starts[: ncomp + 1].copy(), position, comp_of


@njit(cache=True)
def _dense_block(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, order: np.ndarray,
                 position: np.ndarray, comp_of: np.ndarray, c: int, s: int, e: int,
                 transposed: bool) -> np.ndarray:  # fmt: skip
    """M restricted to the small cyclic component c (positions s..e of `order`), or its
    transpose."""
    m = e - s
    out = np.eye(m)
    for q in range(m):
        j = order[s + q]
        for p in range(indptr[j], indptr[j + 1]):
            i = indices[p]
            if comp_of[i] == c:
                if transposed:
                    out[q, position[i] - s] -= data[p]
                else:
                    out[position[i] - s, q] -= data[p]
    return out


@njit(cache=True)
def _small_inverses(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, order: np.ndarray,
                    starts: np.ndarray, position: np.ndarray, comp_of: np.ndarray,
                    big: int) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    """The inverse of M on every small cyclic component (2 to big - 1 processes), flat, and
    where each component's starts (-1: a single process or a large block); and the first
    single process whose diagonal of M is zero (-1: none), which makes M singular."""
    ncomp = starts.size - 1
    at = np.full(ncomp, -1, np.int64)
    total = 0
    singular = -1
    for c in range(ncomp):
        m = starts[c + 1] - starts[c]
        if 1 < m < big:
            at[c] = total
            total += m * m
        elif m == 1 and singular < 0:
            j = order[starts[c]]
            diag = 1.0
            for p in range(indptr[j], indptr[j + 1]):
                if indices[p] == j:
                    diag -= data[p]
            if diag == 0.0:
                singular = j
    flat = np.empty(total)
    for c in range(ncomp):
        if at[c] >= 0:
            s = starts[c]
            e = starts[c + 1]
            inv = np.linalg.inv(_dense_block(indptr, indices, data, order, position, comp_of,
                                             c, s, e, False))  # fmt: skip
            flat[at[c] : at[c] + (e - s) * (e - s)] = inv.ravel()
    return flat, at, singular


@njit(cache=True)
def _transposed(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, order: np.ndarray,
                starts: np.ndarray, comp_of: np.ndarray, inverse: np.ndarray,
                inv_at: np.ndarray, c0: int, c1: int, x: np.ndarray,
                rhs: np.ndarray) -> int:  # fmt: skip
    """M^T x = rhs for components c0..c1-1, suppliers first: x_j = (rhs_j + sum over the
    suppliers i of A_ij x_i) / (1 - A_jj), a small cycle's members together. Returns the first
    component whose diagonal is zero, or -1."""
    k = x.shape[1]
    acc = np.empty(k)
    for c in range(c0, c1):
        s = starts[c]
        e = starts[c + 1]
        if e - s == 1:
            j = order[s]
            diag = 1.0
            for kk in range(k):
                acc[kk] = rhs[j, kk]
            for p in range(indptr[j], indptr[j + 1]):
                i = indices[p]
                if i == j:
                    diag -= data[p]
                else:
                    a = data[p]
                    for kk in range(k):
                        acc[kk] += a * x[i, kk]
            if diag == 0.0:
                return c
            for kk in range(k):
                x[j, kk] = acc[kk] / diag
        else:  # y = M_CC^-T b: inverse[t, q] is at inv_at[c] + t m + q
            m = e - s
            b = _gather(indptr, indices, data, order, starts, comp_of, c, x, rhs)
            base = inv_at[c]
            for q in range(m):
                j = order[s + q]
                for kk in range(k):
                    acc[kk] = 0.0
                for t in range(m):
                    v = inverse[base + t * m + q]
                    for kk in range(k):
                        acc[kk] += v * b[t, kk]
                for kk in range(k):
                    x[j, kk] = acc[kk]
    return -1


@njit(cache=True)
def _forward(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, order: np.ndarray,
             starts: np.ndarray, comp_of: np.ndarray, inverse: np.ndarray, inv_at: np.ndarray,
             c0: int, c1: int, x: np.ndarray, r: np.ndarray) -> int:  # fmt: skip
    """M x = r for components c1-1 down to c0, consumers first: x_j = r_j / (1 - A_jj), then
    every supplier i of j needs A_ij x_j more (r is updated in place). Components with nothing
    demanded are skipped. Returns the first component whose diagonal is zero, or -1."""
    k = x.shape[1]
    for c in range(c1 - 1, c0 - 1, -1):
        s = starts[c]
        e = starts[c + 1]
        demanded = False
        for q in range(s, e):
            for kk in range(k):
                if r[order[q], kk] != 0.0:
                    demanded = True
        if not demanded:
            continue
        if e - s == 1:
            j = order[s]
            diag = 1.0
            for p in range(indptr[j], indptr[j + 1]):
                if indices[p] == j:
                    diag -= data[p]
            if diag == 0.0:
                return c
            for kk in range(k):
                x[j, kk] = r[j, kk] / diag
        else:  # x_C = M_CC^-1 r_C
            m = e - s
            base = inv_at[c]
            for q in range(m):
                j = order[s + q]
                for kk in range(k):
                    x[j, kk] = 0.0
                for t in range(m):
                    v = inverse[base + q * m + t]
                    i = order[s + t]
                    for kk in range(k):
                        x[j, kk] += v * r[i, kk]
        _scatter(indptr, indices, data, order, starts, comp_of, c, x, r)
    return -1


@njit(cache=True)
def _gather(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, order: np.ndarray,
            starts: np.ndarray, comp_of: np.ndarray, c: int, x: np.ndarray,
            rhs: np.ndarray) -> np.ndarray:  # fmt: skip
    """The right-hand side of large component c in a transposed solve: rhs_j plus what its
    suppliers outside c contribute, A_ij x_i."""
    s = starts[c]
    e = starts[c + 1]
    k = x.shape[1]
    out = np.empty((e - s, k))
    for q in range(e - s):
        j = order[s + q]
        for kk in range(k):
            out[q, kk] = rhs[j, kk]
        for p in range(indptr[j], indptr[j + 1]):
            i = indices[p]
            if comp_of[i] != c:
                a = data[p]
                for kk in range(k):
                    out[q, kk] += a * x[i, kk]
    return out


@njit(cache=True)
def _scatter(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, order: np.ndarray,
             starts: np.ndarray, comp_of: np.ndarray, c: int, x: np.ndarray,
             r: np.ndarray) -> None:  # fmt: skip
    """After component c is solved in a forward solve: its suppliers outside it must also
    supply A_ij x_j."""
    k = x.shape[1]
    for q in range(starts[c], starts[c + 1]):
        j = order[q]
        for p in range(indptr[j], indptr[j + 1]):
            i = indices[p]
            if comp_of[i] != c:
                a = data[p]
                for kk in range(k):
                    r[i, kk] += a * x[j, kk]


@njit(cache=True)
def _local_block(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, order: np.ndarray,
                 starts: np.ndarray, position: np.ndarray, comp_of: np.ndarray,
                 c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Large component c's own entries of A off the diagonal, as a CSC matrix over its
    positions 0..m-1 (compact: sweeps touch nothing else), and its diagonal of M."""
    s = starts[c]
    e = starts[c + 1]
    m = e - s
    ptr = np.zeros(m + 1, np.int64)
    diag = np.ones(m)
    count = 0
    for q in range(m):
        j = order[s + q]
        for p in range(indptr[j], indptr[j + 1]):
            i = indices[p]
            if i == j:
                diag[q] -= data[p]
            elif comp_of[i] == c and data[p] != 0.0:
                count += 1
        ptr[q + 1] = count
    idx = np.empty(count, np.int64)
    val = np.empty(count)
    at = 0
    for q in range(m):
        j = order[s + q]
        for p in range(indptr[j], indptr[j + 1]):
            i = indices[p]
            if i != j and comp_of[i] == c and data[p] != 0.0:
                idx[at] = position[i] - s
                val[at] = data[p]
                at += 1
    return ptr, idx, val, diag


@njit(cache=True)
def _sweeps(ptr: np.ndarray, idx: np.ndarray, val: np.ndarray, diag: np.ndarray, x: np.ndarray,
            g: np.ndarray, max_sweeps: int, ctol: float, ntol: float) -> int:  # fmt: skip
    """M_CC^T x = g by Gauss-Seidel sweeps over a large component (`_local_block`), from x = 0.

    The sweeps stop when no process's residual before its update exceeds ctol times its
    terms; a last pass then checks the true residual of the answer component by component,
    |r| <= ctol (|g| + |M^T| |x|), and per column ||r|| <= ntol ||g|| (as
    `krylov.componentwise_ok`). Returns the sweeps run, or -1 when max_sweeps were not enough
    or a diagonal entry is zero. The two passes repeat their row sum on purpose: the sweeps
    skip the magnitudes, and sharing one helper made them 0.4 ms slower on USLCI x100."""
    m = diag.size
    k = x.shape[1]
    for q in range(m):
        if diag[q] == 0.0:
            return -1
    for sweep in range(1, max_sweeps + 1):
        settled = True
        for q in range(m):
            for kk in range(k):
                v = g[q, kk]
                for p in range(ptr[q], ptr[q + 1]):
                    v += val[p] * x[idx[p], kk]
                dx = diag[q] * x[q, kk]
                if abs(v - dx) > ctol * (abs(v) + abs(dx)):
                    settled = False
                x[q, kk] = v / diag[q]
        if not settled:
            continue
        passed = True
        for kk in range(k):
            rr = 0.0
            gg = 0.0
            for q in range(m):
                v = g[q, kk]
                bound = abs(g[q, kk])
                for p in range(ptr[q], ptr[q + 1]):
                    v += val[p] * x[idx[p], kk]
                    bound += abs(val[p] * x[idx[p], kk])
                dx = diag[q] * x[q, kk]
                res = v - dx
                rr += res * res
                gg += g[q, kk] * g[q, kk]
                if abs(res) > ctol * (bound + abs(dx)):
                    passed = False
            if rr > ntol * ntol * gg:
                passed = False
        if passed:
            return sweep
    return -1


#: Makes the solver of a large diagonal block of M (SuperLU or `krylov.KrylovBlock`).
BlockSolver = Callable[[sp.csc_matrix], object]


class BlockSubstitution:
    """I - A in supply order: substitution outside the large cyclic blocks, and for each of
    those Gauss-Seidel sweeps (transposed solves, unless `sweeps` is False) or its own solver
    (`block_solver`, given M's block, made on first need: forward solves, and transposed ones
    the sweeps do not settle). Has the `solve(rhs, trans)` of scipy's SuperLU."""

    def __init__(self, a: sp.csc_matrix, block_solver: BlockSolver, sweeps: bool = True) -> None:
        n = a.shape[0]
        self.shape = (n, n)
        if a.dtype != np.float64:
            a = sp.csc_matrix(a, dtype=np.float64)
        self._a = a
        self._block_solver = block_solver
        self._try_sweeps = sweeps  # False: every large block by its solver (direct answers)
        # scipy keeps int32 indices; the kernels take them as they are (an explicit zero in
        # the data is skipped: it is no supply link)
        self._indptr, self._indices, self._data = a.indptr, a.indices, a.data
        self.order, self.starts, self.position, self.comp_of = _components(
            a.indptr, a.indices, a.data, n
        )
        sizes = np.diff(self.starts)
        try:
            self._inverse, self._inv_at, singular = _small_inverses(
                self._indptr, self._indices, self._data, self.order, self.starts,
                self.position, self.comp_of, BIG_BLOCK,
            )  # fmt: skip
        except np.linalg.LinAlgError:
            raise SingularSystem(_SINGULAR_CYCLE) from None
        if singular >= 0:
            raise SingularSystem(f"process {singular} consumes all it produces: I - A is singular")
        if not np.all(np.isfinite(self._inverse)):
            raise SingularSystem(_SINGULAR_CYCLE)
        self.big: tuple[int, ...] = tuple(int(c) for c in np.flatnonzero(sizes >= BIG_BLOCK))
        self._solvers: dict[int, object] = {}
        self._local: dict[int, tuple[np.ndarray, ...]] = {}  # `_local_block`, on first need
        #: Gauss-Seidel sweeps run, and block solves they left to the block's solver
        self.sweeps = 0
        self.unsettled = 0

    def solver(self, c: int) -> object:
        """The solver of large block c, made on first need."""
        if c not in self._solvers:
            members = self._members(c)
            block = sp.csc_matrix(self._a[:, members][members])
            m = sp.csc_matrix(sp.identity(members.size, format="csc") - block)
            m.sum_duplicates()
            m.eliminate_zeros()
            self._solvers[c] = self._block_solver(m)
        return self._solvers[c]

    @property
    def solvers(self) -> dict[int, object]:
        """Every large block's solver (all made by asking)."""
        return {c: self.solver(c) for c in self.big}

    @cached_property
    def nnz(self) -> int:
        """Stored entries: A, the small cycles' inverses, and each large block's solver's."""
        from openpcf.engine.solve import stored_entries

        stored = sum(stored_entries(s) for s in self.solvers.values())
        return int(self._a.nnz + self._inverse.size + stored)

    def _members(self, c: int) -> np.ndarray:
        return self.order[self.starts[c] : self.starts[c + 1]]

    def solve(self, rhs: np.ndarray, trans: str = "N") -> np.ndarray:
        rhs = np.asarray(rhs, dtype=np.float64)
        b = np.ascontiguousarray(rhs.reshape(rhs.shape[0], -1))
        x = np.zeros_like(b)
        g = (self._indptr, self._indices, self._data, self.order, self.starts, self.comp_of)
        small = (self._inverse, self._inv_at)
        ncomp = self.starts.size - 1
        if trans == "T":
            c0 = 0
            for c in (*self.big, ncomp):
                self._check(_transposed(*g, *small, c0, c, x, b))
                if c < ncomp:
                    self._large_transposed(c, x, _gather(*g, c, x, b))
                c0 = c + 1
        else:
            r = b.copy()
            c1 = ncomp
            for c in (*reversed(self.big), -1):
                self._check(_forward(*g, *small, c + 1, c1, x, r))
                if c >= 0:
                    rb = r[self._members(c)]
                    if rb.any():
                        x[self._members(c)] = self._block(c, rb, "N")
                        _scatter(*g, c, x, r)
                c1 = c
        return x.reshape(rhs.shape)

    def _large_transposed(self, c: int, x: np.ndarray, rb: np.ndarray) -> None:
        """Block c of a transposed solve: sweeps, else the block's solver."""
        if not self._try_sweeps:
            x[self._members(c)] = self._block(c, rb, "T")
            return
        if c not in self._local:
            self._local[c] = _local_block(self._indptr, self._indices, self._data, self.order,
                                          self.starts, self.position, self.comp_of, c)  # fmt: skip
        xb = np.zeros_like(rb)
        done = _sweeps(*self._local[c], xb, rb, MAX_SWEEPS, CTOL, NTOL)
        if done >= 0:
            self.sweeps += done
            x[self._members(c)] = xb
            return
        self.unsettled += 1
        x[self._members(c)] = self._block(c, rb, "T")

    def _block(self, c: int, r: np.ndarray, trans: str) -> np.ndarray:
        out = self.solver(c).solve(r, trans=trans)  # type: ignore[attr-defined]
        return np.asarray(out).reshape(r.shape)

    def _check(self, failed: int) -> None:
        if failed >= 0:
            j = int(self.order[self.starts[failed]])
            raise SingularSystem(f"process {j} consumes all it produces: I - A is singular")


_SINGULAR_CYCLE = "a cycle of processes is singular: I - A cannot be inverted"
