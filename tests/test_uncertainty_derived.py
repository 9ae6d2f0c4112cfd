"""`calc --uncertainty` when no value carries a distribution: spreads derived from the inputs'
data-quality ratings by the pedigree approach, said so in the result; refused without ratings.

Hand calculation (factors/data/pedigree.json, ecoinvent v3 factors of Weidema et al. 2013): an
input rated reliability 1, completeness 1, temporal 1, geographical 1, technological 5 has
σ² = 0.0006 (basic) + 0 + 0 + 0 + 0 + 0.12 = 0.1206, σ = 0.347275, gsd = e^σ = 1.41521. Its
amount is lognormal with the stated value as median, so the footprint of a one-input model is
median = stated, 97.5th percentile = stated × e^(1.959964 σ) = stated × 1.97514, mean = stated ×
e^(σ²/2) = stated × 1.06216.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openpcf.cli import app
from openpcf.domain.errors import CalculationError
from openpcf.services.calculation.calculate import accounting_for
from openpcf.services.calculation.project import load_project
from openpcf.services.calculation.uncertainty import monte_carlo

from .cli_runner import openpcf

Write = Callable[[str, str], Path]
GB = accounting_for("gb-t-24067")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

MODEL = """
    openpcf: 1
    product: {name: Widget, declared_unit: {amount: 1, unit: kg}, year: 2023}
    factors:
      - {id: x/steel, name: Steel, unit: kg, co2e: 2.0, gwp: AR5, source: "a test factor, not a published value"}
    inputs:
      - name: Steel
        stage: raw-materials
        amount: 5
        unit: kg
        factor: x/steel
        {dq}
"""


def test_ratings_give_the_pedigree_lognormal_and_the_result_says_so(write: Write) -> None:
    rated = "dq: {reliability: 1, completeness: 1, temporal: 1, geographical: 1, technological: 5}"
    path = write("m.yaml", MODEL.replace("{dq}", rated))
    u = monte_carlo(load_project(path), GB, 40_000, seed=7)
    stated = 5 * 2.0
    sigma = math.sqrt(0.0006 + 0.12)
    assert sigma == pytest.approx(0.347275, rel=1e-6)
    assert u.deterministic == pytest.approx(stated, rel=1e-12)
    assert u.median == pytest.approx(stated, rel=0.01)
    assert u.percentile_97_5 == pytest.approx(stated * 1.97514, rel=0.02)
    assert u.mean == pytest.approx(stated * 1.06216, rel=0.01)
    assert u.derived is not None and "data-quality ratings" in u.derived
    assert "basic variance 0.0006" in u.derived and "Weidema et al. 2013" in u.derived
    (sampled,) = u.sampled
    assert "gsd 1.415" in sampled and "technological 5" in sampled


def test_a_stated_distribution_is_used_and_nothing_is_derived(write: Write) -> None:
    stated = "uncertainty: {distribution: lognormal, gsd: 1.2}\n        " + (
        "dq: {reliability: 1, completeness: 1, temporal: 1, geographical: 1, technological: 5}"
    )
    path = write("m.yaml", MODEL.replace("{dq}", stated))
    u = monte_carlo(load_project(path), GB, 200, seed=1)
    assert u.derived is None
    assert [s for s in u.sampled if "gsd 1.2" in s]


def test_no_distribution_and_no_ratings_is_refused_with_the_reason(write: Write) -> None:
    path = write("m.yaml", MODEL.replace("{dq}", ""))
    with pytest.raises(CalculationError, match="nothing to sample") as e:
        monte_carlo(load_project(path), GB, 100, seed=1)
    assert "data-quality ratings (dq:)" in str(e.value)
    run = openpcf("calc", str(path), "--uncertainty", "100")
    assert run.returncode == 1 and "interval of zero width" in run.stderr


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_gets_a_nonzero_interval_from_its_ratings(name: str) -> None:
    run = CliRunner().invoke(app, ["calc", str(EXAMPLES / name), "--uncertainty", "400",
                                   "--seed", "3", "--format", "json"])  # fmt: skip
    assert run.exit_code == 0, run.stderr
    u = json.loads(run.stdout)["uncertainty"]
    assert u["percentile_97_5"] > u["percentile_2_5"]
    assert u["derived"] and "pedigree variance" in u["derived"]
