"""A stored calculation's model under other methodology profiles, with the reconciliation that
explains each gap (services/calculation/compare.py), for the result page of the web UI.

The comparison is recomputed from the same stored model versions and factor sets as the
calculation; nothing is stored. Only the calculation's own tenant may ask (the model is its
bill of materials). The calculation's own GWP set applies to it alone: every other profile
computes with its own settings, as `openpcf calc --compare` does.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from openpcf.domain.platform import Principal
from openpcf.services.calculation.compare import Comparison, compare
from openpcf.services.calculation.methodology import list_profiles
from openpcf.services.calculation.stored import calculation_project
from openpcf.services.errors import InvalidRequest

MAX_PROFILES = 6


def compare_calculation(
    session: Session, who: Principal, calculation_id: str, others: list[str]
) -> Comparison:
    """The calculation's profile first, then each of `others` with its reconciliation."""
    known = {p.id for p in list_profiles()}
    unknown = [p for p in others if p not in known]
    if unknown:
        raise InvalidRequest(
            f"unknown profile(s) {', '.join(unknown)}; choose among {', '.join(sorted(known))}"
        )
    if len(others) > MAX_PROFILES:
        raise InvalidRequest(f"compare at most {MAX_PROFILES} profiles at once")
    with session.begin():
        project, profile, gwp = calculation_project(session, who, calculation_id)
        # the stored GWP set is the calculation's; every other profile computes with its own
    return compare(project, profile, others, base_gwp=gwp)
