"""The sparse engine on small systems solved by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from openpcf.engine import solve
from openpcf.engine.solve import (
    SingularSystem,
    check_productive,
    factorise,
    footprints_of_all_processes,
    inventory_for,
    matrix_key,
)


def test_chain_all_processes_from_one_transposed_solve() -> None:
    # Process 0 (cell) uses 2 units of process 1 (cathode), which uses 0.5 of process 2 (power).
    a = sp.csc_matrix(np.array([[0, 0, 0], [2.0, 0, 0], [0, 0.5, 0]]))
    # One flow (kg CO2): direct emissions 1, 3, 10 per unit.
    b = np.array([[1.0, 3.0, 10.0]])
    x = footprints_of_all_processes(factorise(a), b)
    # power: 10; cathode: 3 + 0.5*10 = 8; cell: 1 + 2*8 = 17
    assert x[:, 0] == pytest.approx([17.0, 8.0, 10.0])


def test_cycle_between_steel_and_power_is_solved_as_linear_system() -> None:
    # steel (0) needs 0.5 kWh of power per kg; power (1) needs 0.1 kg steel per kWh.
    # steel s = 2 + 0.5 p, power p = 0.8 + 0.1 s  ->  s = 2 + 0.4 + 0.05 s -> s = 2.4/0.95
    a = sp.csc_matrix(np.array([[0, 0.1], [0.5, 0]]))
    b = np.array([[2.0, 0.8]])
    x = footprints_of_all_processes(factorise(a), b)
    steel = 2.4 / 0.95
    assert x[0, 0] == pytest.approx(steel, rel=1e-12)
    assert x[1, 0] == pytest.approx(0.8 + 0.1 * steel, rel=1e-12)


def test_single_inventory_equals_row_of_all_processes() -> None:
    rng = np.random.default_rng(7)
    n = 60
    a = sp.random(n, n, density=0.05, random_state=rng, format="csc") * 0.2
    b = rng.random((3, n))
    fact = factorise(a)
    x = footprints_of_all_processes(fact, b)
    for j in (0, 17, 59):
        assert inventory_for(fact, b, j) == pytest.approx(x[j], rel=1e-10)


def test_factorisation_is_cached_by_matrix_content() -> None:
    a = sp.csc_matrix(np.array([[0, 0.2], [0.3, 0]]))
    first = factorise(a)
    again = factorise(sp.csc_matrix(a.toarray()))  # equal content, new object
    assert again is first
    changed = a.copy()
    changed[0, 1] = 0.25
    assert matrix_key(changed) != matrix_key(a)
    assert factorise(changed) is not first
    solve._CACHE.clear()
    assert factorise(a) is not first


def test_self_sufficient_cycle_is_singular() -> None:
    # each needs exactly one of the other: I - A is singular
    a = sp.csc_matrix(np.array([[0, 1.0], [1.0, 0]]))
    with pytest.raises(SingularSystem):
        check_productive(factorise(a))


def test_cycle_that_needs_more_than_it_makes_is_not_productive() -> None:
    # 0 needs 2 of 1, 1 needs 1 of 0: loop gain 2 > 1; I - A is invertible but meaningless
    a = sp.csc_matrix(np.array([[0, 1.0], [2.0, 0]]))
    with pytest.raises(SingularSystem, match="consumes at least as much"):
        check_productive(factorise(a))
