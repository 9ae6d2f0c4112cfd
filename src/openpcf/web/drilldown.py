"""From a result to its sub-assemblies' results: each input of the calculated model version
that is a sub-assembly, linked to the calculation of exactly the sub-assembly the parent was
computed from (services/calculation/sub_results.py), not to a later one: what a result page
shows, signs or labels is bound to the result it describes. A newer calculation of the
sub-assembly is named beside the link, to recalculate the parent with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request

from openpcf.domain.platform import CalculationInfo
from openpcf.services.calculation.sub_results import sub_results
from openpcf.services.catalogue import products
from openpcf.web.auth import WebUser
from openpcf.web.common import call


@dataclass(frozen=True)
class SubAssembly:
    slug: str
    name: str
    calculation_id: str | None  # the one the parent used; else the newest (see `exact`)
    exact: bool = True  # False: the newest, not necessarily the one the parent used
    newer_at: datetime | None = None  # when a newer calculation than the one used was made


def sub_assemblies(
    request: Request, user: WebUser, info: CalculationInfo
) -> dict[str, SubAssembly]:
    """Input name -> its sub-assembly, for the inputs of the calculated model version."""
    doc = call(request, products.get_version, user.principal, info.product, info.model_version)
    found = call(request, sub_results, user.principal, info.id)
    out: dict[str, SubAssembly] = {}
    for inp in doc.model.inputs:
        if inp.product is None or not inp.product.startswith(f"urn:openpcf:product:{user.tenant}:"):
            continue
        product = call(request, products.get_product, user.principal, inp.product)
        sub = found.get(inp.product)
        if sub is not None and sub.used is not None:
            newer = sub.newer.created_at if sub.newer else None
            out[inp.name] = SubAssembly(product.slug, product.name, sub.used.id, True, newer)
        else:  # not calculated on its own from what the parent used
            newest = sub.newest.id if sub is not None and sub.newest else None
            out[inp.name] = SubAssembly(product.slug, product.name, newest, newest is None)
    return out
