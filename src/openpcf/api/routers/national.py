"""The national layer's overview: the national list of products and its rule coverage."""

from __future__ import annotations

from fastapi import APIRouter

from openpcf.api.deps import SessionDep
from openpcf.api.errors import responses
from openpcf.services.catalogue.national_products import ProductCatalogue, product_catalogue

router = APIRouter(prefix="/national", tags=["methodology"])


@router.get(
    "/products",
    response_model=ProductCatalogue,
    summary="The products national lists name, each with its rule status (published, draft, "
    "missing), and progress toward 100 rules by 2027 and 200 by 2030",
    responses=responses(),
)
def products(db: SessionDep) -> ProductCatalogue:
    return product_catalogue(db)
