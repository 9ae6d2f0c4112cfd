"""Monte Carlo of a stored calculation: its model version (with the sub-assemblies' latest
versions and its published factor sets) sampled under its profile and GWP set."""

from __future__ import annotations

from sqlalchemy.orm import Session

from openpcf.domain.platform import Principal
from openpcf.domain.result import UncertaintyResult
from openpcf.services.calculation.calculate import accounting_for
from openpcf.services.calculation.stored import calculation_project
from openpcf.services.calculation.uncertainty import monte_carlo
from openpcf.services.errors import InvalidRequest

MAX_ITERATIONS = 20_000  # a web request's bound: about a second for a small model


def calculation_uncertainty(
    session: Session, who: Principal, calculation_id: str, iterations: int, seed: int | None
) -> UncertaintyResult:
    if not 2 <= iterations <= MAX_ITERATIONS:
        raise InvalidRequest(f"iterations must be from 2 to {MAX_ITERATIONS}, got {iterations}")
    with session.begin():
        project, profile, gwp = calculation_project(session, who, calculation_id)
        return monte_carlo(project, accounting_for(profile, gwp), iterations, seed)
