"""The pure recompute kernel: usage records x factor change, by hand.

A chunk is one buffer of usage records with a count per calculation; what comes back is the
change of each total and, for the linear calculations only, the change by stage and by gas.
"""

from __future__ import annotations

import numpy as np
import pytest

from openpcf.engine.recompute import (
    EXCLUDED,
    RECORD,
    Change,
    concatenated,
    pack,
    recompute_chunk,
)

STAGES = ("raw-materials", "production", "distribution", "use", "end-of-life")


def _change() -> Change:
    """Factor keys 0..3: key 1 changes (column 0), key 2 changes (column 1), key 3 is removed.

    Group 0 counts everything (GWP CO2 1, CH4 30); group 1 counts CO2 only.
    Column 0: +0.1 kg CO2 per unit -> group 0: 0.1, group 1: 0.1 kg CO2e.
    Column 1: +0.01 kg CH4 per unit -> group 0: 0.01 x 30 = 0.3, group 1: 0 kg CO2e."""
    column = np.array([-1, 0, 1, -1])
    full = np.array([False, False, False, True])
    total = np.array([[0.1, 0.3], [0.1, 0.0]])
    gases = np.zeros((2, 2, 2))  # (group, column, gas): gases ("CH4", "CO2")
    gases[0, 0, 1] = gases[1, 0, 1] = 0.1
    gases[0, 1, 0] = 0.3
    return Change(column, full, total, gases, ("CH4", "CO2"), STAGES)


def test_a_chunk_gives_each_total_and_the_linear_rows_stage_and_gas_changes() -> None:
    blobs = [
        # calc 0 (group 0): 10 units of key 1 in production, 2 of key 2 in raw materials, 5 of
        # key 1 in the use stage (excluded from the total): 10 x 0.1 + 2 x 0.3 = 1.6 kg CO2e
        pack([1, 0, EXCLUDED + 3], [1, 2, 1], [10.0, 2.0, 5.0]),
        # calc 1 (group 1): the same usage counts CO2 only: 10 x 0.1 + 2 x 0 = 1.0
        pack([1, 0], [1, 2], [10.0, 2.0]),
        # calc 2: only key 0, which did not change: not dependent
        pack([0], [0], [7.0]),
        # calc 3: key 3 was removed: recalculated in full
        pack([0, 1], [3, 1], [1.0, 1.0]),
        # calc 4: no usage at all, but forced (e.g. usage not recorded exactly)
        b"",
    ]
    buffer, counts = concatenated(blobs)
    assert counts.tolist() == [3, 2, 1, 2, 0]
    res = recompute_chunk(
        buffer, counts, np.array([0, 1, 0, 0, 0]), np.array([0, 0, 0, 0, 1], bool), _change()
    )
    assert res.dependent.tolist() == [True, True, False, True, True]
    assert res.full.tolist() == [False, False, False, True, True]
    assert res.delta[:3] == pytest.approx([1.6, 1.0, 0.0])
    assert np.isnan(res.delta[3:]).all()
    # rows for calcs 0, 1 and 2 (dependent & not full: 0 and 1), columns stages then gases
    assert _change().layout == (*(f"stage:{s}" for s in STAGES), "gas:CH4", "gas:CO2")
    assert res.changes.shape == (2, 7)
    # calc 0: production 10 x 0.1 = 1.0, raw materials 2 x 0.3 = 0.6; CH4 0.6, CO2 1.0
    assert res.changes[0] == pytest.approx([0.6, 1.0, 0, 0, 0, 0.6, 1.0])
    # calc 1: production 1.0, raw materials 0; CO2 1.0
    assert res.changes[1] == pytest.approx([0.0, 1.0, 0, 0, 0, 0.0, 1.0])


def test_a_chunk_refuses_a_buffer_that_does_not_match_its_counts() -> None:
    buffer, _ = concatenated([pack([0], [1], [1.0])])
    with pytest.raises(ValueError, match="1 usage records for counts summing to 2"):
        recompute_chunk(buffer, np.array([2]), np.array([0]), np.array([False]), _change())
    with pytest.raises(ValueError, match="a usage record is 16 bytes"):
        concatenated([b"\x00" * (RECORD.itemsize + 1)])
