"""Factor search over the bundled set and the caller's published factor sets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.platform import FactorInSet
from openpcf.services.catalogue import factor_sets

router = APIRouter(prefix="/factors", tags=["factors"])


@router.get(
    "", response_model=list[FactorInSet], summary="Search factors", responses=responses(401, 422)
)
def search(
    db: SessionDep,
    who: PrincipalDep,
    q: Annotated[
        str,
        Query(
            description="words that must all appear (id, name, region, kind, note)",
            examples=["grid CN-JS 2023"],
        ),
    ] = "",
    region: Annotated[str | None, Query(description="ISO 3166 code", examples=["CN-JS"])] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[FactorInSet]:
    return factor_sets.search_factors(db, who, q, region, limit)


@router.get(
    "/{factor_id:path}",
    response_model=FactorInSet,
    summary="Get a factor",
    responses=responses(401, 404),
)
def get(
    factor_id: Annotated[str, Path(examples=["cn-mee-grid/CN-JS@2023"])],
    db: SessionDep,
    who: PrincipalDep,
) -> FactorInSet:
    return factor_sets.get_factor(db, who, factor_id)
