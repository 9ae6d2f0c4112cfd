"""Monte Carlo of a stored calculation: its model version (with the sub-assemblies' latest
versions and its published factor sets) sampled under its profile and GWP set."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.platform import Principal
from openpcf.domain.result import UncertaintyResult
from openpcf.services.calculation.calculate import accounting_for
from openpcf.services.calculation.stored import stored_project
from openpcf.services.calculation.uncertainty import monte_carlo
from openpcf.services.errors import InvalidRequest, NotFound
from openpcf.services.platform.access import own, signed_in
from openpcf.store.models import Calculation

MAX_ITERATIONS = 20_000  # a web request's bound: about a second for a small model


def calculation_uncertainty(
    session: Session, who: Principal, calculation_id: str, iterations: int, seed: int | None
) -> UncertaintyResult:
    if not 2 <= iterations <= MAX_ITERATIONS:
        raise InvalidRequest(f"iterations must be from 2 to {MAX_ITERATIONS}, got {iterations}")
    signed_in(who)
    with session.begin():
        row = session.scalar(
            select(Calculation).where(
                Calculation.uuid == calculation_id, own(who, Calculation.tenant_id)
            )
        )
        if row is None:
            raise NotFound(f"no calculation {calculation_id}")
        sets = [s for s in row.factor_sets if s.startswith(f"{row.product.tenant.slug}:")]
        project, _ = stored_project(session, who, row.model_version, sets)
        acc = accounting_for(row.profile, row.gwp)
        return monte_carlo(project, acc, iterations, seed)
