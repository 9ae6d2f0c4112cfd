"""Products, their model versions and their calculations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from openpcf import config
from openpcf.api.deps import PrincipalDep, SessionDep, text_body
from openpcf.api.errors import responses
from openpcf.domain.platform import (
    CalculationInfo,
    CalculationRequest,
    CalculationSummary,
    ModelVersionDocument,
    ModelVersionInfo,
    ProductCreate,
    ProductInfo,
    ProductUpdate,
)
from openpcf.services.calculation import stored as calculations
from openpcf.services.catalogue import products
from openpcf.services.catalogue.products import MEDIA_TYPES

router = APIRouter(prefix="/products", tags=["products"])

Urn = Annotated[
    str,
    Path(
        description="product URN, urn:openpcf:product:<tenant>:<slug>",
        examples=["urn:openpcf:product:demo:lfp-cell-280ah"],
    ),
]
Number = Annotated[int, Path(ge=1, description="model version number", examples=[1])]

EXAMPLE_YAML = """openpcf: 1
product:
  name: Widget
  declared_unit: {amount: 1, unit: kg}
  region: CN-JS
  year: 2023
inputs:
  - {name: Steel, stage: raw-materials, amount: 1.5, unit: kg,
     pcf: {value: 2.0, unit: kg CO2e/kg, source: supplier}}
  - {name: Power, stage: production, amount: 10, unit: kWh, electricity: {}}
"""


async def model_document(request: Request) -> tuple[str, str]:
    """The raw request body (a model as YAML or JSON) and its media type."""
    return await text_body(request, tuple(MEDIA_TYPES), config.max_model_bytes(), "the model")


@router.get("", response_model=list[ProductInfo], summary="List products", responses=responses(401))
def list_products(db: SessionDep, who: PrincipalDep) -> list[ProductInfo]:
    """The caller's tenant's products, then all public products of other tenants
    (anonymous callers: public products only)."""
    return products.list_products(db, who)


@router.post(
    "",
    response_model=ProductInfo,
    status_code=status.HTTP_201_CREATED,
    summary="Create a product",
    responses=responses(401, 403, 409, 422),
)
def create_product(new: ProductCreate, db: SessionDep, who: PrincipalDep) -> ProductInfo:
    """A product of the caller's tenant; its URN is urn:openpcf:product:<tenant>:<slug>."""
    return products.create_product(db, who, new)


@router.get(
    "/{product_urn}",
    response_model=ProductInfo,
    summary="Get a product",
    responses=responses(401, 404),
)
def get_product(product_urn: Urn, db: SessionDep, who: PrincipalDep) -> ProductInfo:
    return products.get_product(db, who, product_urn)


@router.patch(
    "/{product_urn}",
    response_model=ProductInfo,
    summary="Change a product: name, visibility, classifications, mass per declared unit",
    responses=responses(401, 403, 404, 422),
)
def update_product(
    product_urn: Urn, change: ProductUpdate, db: SessionDep, who: PrincipalDep
) -> ProductInfo:
    return products.update_product(db, who, product_urn, change)


@router.post(
    "/{product_urn}/versions",
    response_model=ModelVersionInfo,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a model version (YAML or JSON)",
    responses={
        200: {
            "model": ModelVersionInfo,
            "description": "Identical to the latest version, which is returned",
        },
        **responses(401, 403, 404, 413, 415, 422),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A product model, format 1 (`openpcf schema product-model`), as "
            "YAML or JSON. Sub-assemblies are referenced by the URN of a product of the tenant.",
            "content": {
                "application/yaml": {
                    "schema": {"type": "string"},
                    "examples": {"widget": {"value": EXAMPLE_YAML}},
                },
                "application/json": {"schema": {"$ref": "#/components/schemas/ProductModel"}},
            },
        }
    },
)
def add_version(
    product_urn: Urn,
    document: Annotated[tuple[str, str], Depends(model_document)],
    response: Response,
    db: SessionDep,
    who: PrincipalDep,
) -> ModelVersionInfo:
    """Store the document as the product's next immutable version (after validating it)."""
    text, media = document
    info, created = products.add_model_version(db, who, product_urn, text, media)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/products/{product_urn}/versions/{info.number}"
    return info


@router.get(
    "/{product_urn}/versions",
    response_model=list[ModelVersionInfo],
    summary="List a product's model versions (owning tenant only)",
    responses=responses(401, 404),
)
def list_versions(product_urn: Urn, db: SessionDep, who: PrincipalDep) -> list[ModelVersionInfo]:
    return products.list_versions(db, who, product_urn)


@router.get(
    "/{product_urn}/versions/{number}",
    response_model=ModelVersionDocument,
    summary="Get a model version with its document (owning tenant only)",
    responses=responses(401, 404),
)
def get_version(
    product_urn: Urn, number: Number, db: SessionDep, who: PrincipalDep
) -> ModelVersionDocument:
    """The bill of materials: readable by the owning tenant only, whatever the visibility."""
    return products.get_version(db, who, product_urn, number)


@router.post(
    "/{product_urn}/calculations",
    response_model=CalculationInfo,
    status_code=status.HTTP_201_CREATED,
    summary="Calculate the product's footprint",
    responses=responses(401, 403, 404, 409, 422),
)
def run_calculation(
    product_urn: Urn, db: SessionDep, who: PrincipalDep, request: CalculationRequest | None = None
) -> CalculationInfo:
    """Runs the same calculation as `openpcf calc` on a stored model version (default: the
    latest) under a profile; sub-assemblies are the latest versions of the tenant's products
    whose URNs the model references. A model breaking its product rule gives 422
    (`rule_violation`) unless `allow_violations`."""
    return calculations.run_calculation(db, who, product_urn, request or CalculationRequest())


@router.get(
    "/{product_urn}/calculations",
    response_model=list[CalculationSummary],
    summary="List a product's calculations, newest first",
    responses=responses(401, 404),
)
def list_calculations(
    product_urn: Urn, db: SessionDep, who: PrincipalDep
) -> list[CalculationSummary]:
    return calculations.list_calculations(db, who, product_urn)
