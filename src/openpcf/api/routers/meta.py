"""Liveness and who-am-I."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from openpcf import __version__
from openpcf.api.deps import PrincipalDep
from openpcf.api.errors import responses
from openpcf.domain.platform import Principal

router = APIRouter(tags=["meta"])


class Health(BaseModel):
    status: str = "ok"
    version: str


@router.get("/health", response_model=Health, summary="Liveness (no authentication)")
def health() -> Health:
    return Health(version=__version__)


@router.get(
    "/me", response_model=Principal, summary="Who the request acts as", responses=responses(401)
)
def me(who: PrincipalDep) -> Principal:
    """The caller's identity, tenant and role; `anonymous` without credentials."""
    return who
