"""Distributions on supplier footprints (`pcf:` values) and direct emissions' amounts.

Issue 8 item 1 asks for distributions "on input amounts and factors": a supplier PCF is the
factor of its input line, and a direct emission is an amount. Each is its own Monte Carlo
parameter (a multiplier of the stated number, `domain/uncertainty.py`), independent of the
input's amount. The statistics below are closed forms; footprints under gb-t-24067 (AR5), where
1 kg of fossil CO2 counts 1 kg CO2e.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from openpcf.domain.errors import ModelError
from openpcf.services.calculation.calculate import accounting_for, calculate
from openpcf.services.calculation.project import load_project
from openpcf.services.calculation.uncertainty import monte_carlo

Write = Callable[[str, str], Path]
GB = accounting_for("gb-t-24067")
Z975 = 1.959964  # standard normal 97.5 % quantile


def _model(body: str) -> str:
    return (
        """
        openpcf: 1
        product: {name: Widget, declared_unit: {amount: 1, unit: kg}}
    """
        + body
    )


def test_supplier_pcf_value_uniform_gives_the_closed_form_mean_spread_and_percentiles(
    write: Write,
) -> None:
    path = write("m.yaml", _model("""
        inputs:
          - {name: Cell, stage: raw-materials, amount: 2, unit: kg,
             pcf: {value: 3.0, unit: kg CO2e/kg, gwp: AR5,
                   uncertainty: {distribution: uniform, min: 2.0, max: 4.0}}}
    """))  # fmt: skip
    project = load_project(path)
    # deterministic: 2 kg × 3.0 = 6.0
    assert calculate(project).pcf.value == pytest.approx(6.0)
    u = monte_carlo(project, GB, 40_000, seed=3)
    # total = 2 × U(2, 4): mean 2 × (2 + 4) / 2 = 6; sd 2 × (4 - 2) / √12 = 1.1547;
    # 2.5 % and 97.5 % quantiles 2 × (2 + 0.025 × 2) = 4.1 and 2 × (2 + 0.975 × 2) = 7.9
    assert abs(u.mean - 6.0) <= 3 * u.standard_error
    assert u.sd == pytest.approx(2 * 2 / math.sqrt(12), rel=0.02)
    assert u.percentile_2_5 == pytest.approx(4.1, rel=0.01)
    assert u.percentile_97_5 == pytest.approx(7.9, rel=0.01)
    assert any(s.startswith("supplier PCF of input 'Cell' 3 kg CO2e/kg: uniform, 2 … 4")
               for s in u.sampled)  # fmt: skip
    assert [c.name for c in u.contributions] == ["Cell"]


def test_supplier_pcf_and_amount_distributions_are_independent_and_multiply(
    write: Write,
) -> None:
    path = write("m.yaml", _model("""
        inputs:
          - {name: Cell, stage: raw-materials, amount: 2, unit: kg,
             uncertainty: {distribution: normal, sd: 0.2},
             pcf: {value: 3.0, unit: kg CO2e/kg, gwp: AR5,
                   uncertainty: {distribution: normal, sd: 0.3}}}
    """))  # fmt: skip
    u = monte_carlo(load_project(path), GB, 40_000, seed=4)
    # X = a·v with independent a ~ N(2, 0.2), v ~ N(3, 0.3): E[X] = 6 and
    # Var X = (μa² + σa²)(μv² + σv²) − μa²μv² = 4.04 × 9.09 − 36 = 0.7236, sd 0.8506
    assert abs(u.mean - 6.0) <= 3 * u.standard_error
    assert u.sd == pytest.approx(math.sqrt(4.04 * 9.09 - 36), rel=0.02)


def test_direct_emission_lognormal_median_is_the_stated_amount(write: Write) -> None:
    path = write("m.yaml", _model("""
        inputs: []
        emissions:
          - {name: Kiln, gas: CO2, amount: 1.5, unit: kg,
             uncertainty: {distribution: lognormal, gsd: 1.3}}
    """))  # fmt: skip
    u = monte_carlo(load_project(path), GB, 40_000, seed=5)
    sigma = math.log(1.3)
    # lognormal with μ = ln 1.5, σ = ln 1.3: median e^μ = 1.5, mean e^(μ + σ²/2) = 1.5 × 1.0350,
    # 97.5 % quantile e^(μ + 1.96 σ) = 1.5 × 1.673
    assert u.deterministic == pytest.approx(1.5)
    assert u.median == pytest.approx(1.5, rel=5e-3)
    assert abs(u.mean - 1.5 * math.exp(sigma**2 / 2)) <= 3 * u.standard_error
    assert u.percentile_97_5 == pytest.approx(1.5 * math.exp(Z975 * sigma), rel=0.01)
    assert any(s.startswith("direct emission 'Kiln' 1.5 kg CO2: lognormal, gsd 1.3")
               for s in u.sampled)  # fmt: skip


def test_an_emission_distribution_in_a_sub_assembly_reaches_the_total(write: Write) -> None:
    write("sub.yaml", _model("""
        inputs: []
        emissions:
          - {gas: CO2, amount: 4, unit: kg,
             uncertainty: {distribution: triangular, min: 3, mode: 4, max: 5}}
    """).replace("Widget", "Clinker"))  # fmt: skip
    path = write("m.yaml", _model("""
        inputs:
          - {name: Clinker, stage: raw-materials, amount: 0.5, unit: kg, product: sub.yaml}
        emissions:
          - {gas: CO2, amount: 1, unit: kg}
    """))  # fmt: skip
    u = monte_carlo(load_project(path), GB, 40_000, seed=6)
    # 0.5 × T(3, 4, 5) + 1: mean 0.5 × 4 + 1 = 3; Var T = (9 + 16 + 25 − 12 − 15 − 20) / 18
    # = 1/6, so sd 0.5 × √(1/6) = 0.2041
    assert u.deterministic == pytest.approx(3.0)
    assert abs(u.mean - 3.0) <= 3 * u.standard_error
    assert u.sd == pytest.approx(0.5 * math.sqrt(1 / 6), rel=0.02)
    assert any(s.startswith("direct emission 'Clinker / direct CO2 emission' 4 kg CO2")
               for s in u.sampled)  # fmt: skip


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            """
        inputs:
          - {name: Cell, stage: raw-materials, amount: 2, unit: kg,
             pcf: {value: 3.0, unit: kg CO2e/kg,
                   uncertainty: {distribution: uniform, min: 3.5, max: 4.0}}}
        """,
            "value 3 lies outside min … max",
        ),
        (
            """
        inputs:
          - {name: Cell, stage: raw-materials, amount: 2, unit: kg,
             pcf: {value: 3.0, unit: kg CO2e/kg,
                   uncertainty: {distribution: lognormal, pedigree: true}}}
        """,
            "which a supplier PCF does not have",
        ),
        (
            """
        emissions:
          - {gas: CO2, amount: 1, unit: kg, uncertainty: {distribution: lognormal, pedigree: true}}
        """,
            "which a direct emission does not have",
        ),
        (
            """
        emissions:
          - {gas: CO2, amount: 1, unit: kg, uncertainty: {distribution: normal, sd: -1}}
        """,
            "sd greater than 0",
        ),
    ],
)
def test_pcf_and_emission_distributions_are_validated(
    write: Write, body: str, message: str
) -> None:
    path = write("m.yaml", _model(body))
    with pytest.raises(ModelError) as exc:
        load_project(path)
    assert message in str(exc.value) and "m.yaml" in str(exc.value)
