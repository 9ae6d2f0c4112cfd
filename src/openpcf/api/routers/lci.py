"""The installed background LCI databases (read-only): what each is, where it came from and
what its import found, so that a manufacturer or verifier can check the background data a
footprint drew on. Importing stays an operator's task (`openpcf db import`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from openpcf.api.deps import PrincipalDep
from openpcf.api.errors import responses
from openpcf.services.lci.installed import (
    MAX_LIMIT,
    LciDatabaseDetail,
    LciDatabaseInfo,
    installed,
    list_installed,
)

router = APIRouter(prefix="/lci/databases", tags=["background databases"])
Name = Annotated[
    str,
    Path(description="NAME (its latest version) or NAME@VERSION", examples=["uslci", "uslci@1"]),
]


@router.get(
    "",
    response_model=list[LciDatabaseInfo],
    summary="List the installed background databases and what their imports found",
    responses=responses(401),
)
def list_databases(who: PrincipalDep) -> list[LciDatabaseInfo]:
    return list_installed(who)


@router.get(
    "/{name}",
    response_model=LciDatabaseDetail,
    summary="One background database with its import report's notes and linking choices",
    responses=responses(401, 404),
)
def get_database(
    name: Name,
    who: PrincipalDep,
    offset: Annotated[int, Query(ge=0, description="first entry of each list")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="most entries of each list")] = 100,
) -> LciDatabaseDetail:
    return installed(who, name, offset, limit)
