"""From a result to its sub-assemblies' results: each input of the calculated model version
that is a sub-assembly, with the newest calculation of that product under the same profile
(or none yet, to be calculated from its page)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from openpcf.domain.platform import CalculationInfo
from openpcf.services.calculation import stored as calculations
from openpcf.services.catalogue import products
from openpcf.web.auth import WebUser
from openpcf.web.common import call


@dataclass(frozen=True)
class SubAssembly:
    slug: str
    name: str
    calculation_id: str | None  # newest under the result's profile


def sub_assemblies(
    request: Request, user: WebUser, info: CalculationInfo
) -> dict[str, SubAssembly]:
    """Input name -> its sub-assembly, for the inputs of the calculated model version."""
    doc = call(request, products.get_version, user.principal, info.product, info.model_version)
    out: dict[str, SubAssembly] = {}
    for inp in doc.model.inputs:
        if inp.product is None or not inp.product.startswith(f"urn:openpcf:product:{user.tenant}:"):
            continue
        product = call(request, products.get_product, user.principal, inp.product)
        calcs = [
            c
            for c in call(request, calculations.list_calculations, user.principal, inp.product)
            if c.profile == info.profile
        ]
        newest = max(calcs, key=lambda c: c.created_at, default=None)
        out[inp.name] = SubAssembly(product.slug, product.name, newest.id if newest else None)
    return out
