"""Supply loops that consume more than they make, found so they can be cut and reported.

I - A has an inverse with a meaningful (non-negative) solution only when every loop of the
supply graph makes more than it consumes: the spectral radius of A on each strongly connected
block below 1. Real releases break this: TianGong's CEEIO input-output processes are not
normalised (a block of 145 sectors with radius ~1e8), and linking by flow joins process steps
that each make what the other takes (plexiglass cutting <-> tempering, radius 1.01). The linker
cuts the links inside such a block and lists it, rather than failing the whole database or
computing negative footprints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import ArpackNoConvergence, eigs

_DENSE = 800  # blocks up to this size: dense eigenvalues; larger ones: ARPACK


@dataclass(frozen=True)
class Loop:
    columns: np.ndarray  # the block's column indices
    radius: float  # spectral radius of A on the block (>= 1)


def _radius(block: sp.csc_matrix) -> float:
    if block.shape[0] <= _DENSE:
        return float(np.max(np.abs(np.linalg.eigvals(block.toarray()))))
    try:
        values = eigs(block.astype(np.float64), k=1, which="LM", return_eigenvectors=False)
    except ArpackNoConvergence:
        return float("inf")
    return float(np.abs(values).max())


def unproductive_loops(a: sp.csc_matrix) -> tuple[list[Loop], np.ndarray]:
    """The strongly connected blocks of A whose spectral radius is >= 1, and every column's
    block label (to tell whether an entry of A lies inside a block)."""
    n_blocks, label = connected_components(a != 0, directed=True, connection="strong")
    sizes = np.bincount(label, minlength=n_blocks)
    loops = []
    diag = a.diagonal()
    for b in np.flatnonzero(sizes > 1):
        cols = np.flatnonzero(label == b)
        radius = _radius(a[cols][:, cols].tocsc())
        if radius >= 1.0 - 1e-12:
            loops.append(Loop(cols, radius))
    for j in np.flatnonzero((sizes[label] == 1) & (np.abs(diag) >= 1.0 - 1e-12)):
        loops.append(Loop(np.array([j]), float(abs(diag[j]))))
    return loops, label
