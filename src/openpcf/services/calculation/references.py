"""Every reference of a model checked at once, before it is stored: factors that exist (in the
bundled set, the tenant's published sets or the model's own), input units that convert to the
factor's or supplier PCF's unit, sub-assemblies that are the tenant's products with a model.

The engine stops at the first unresolved reference; an editor wants all of them, each with the
field it concerns, so the person can fix them in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.errors import Location, ModelError, OpenpcfError
from openpcf.domain.factor import Factor, FactorSet
from openpcf.domain.model import Input
from openpcf.domain.platform import Principal
from openpcf.factors.bundled import bundled_set
from openpcf.factors.catalogue import Catalogue
from openpcf.services.catalogue.factor_sets import as_factor_set
from openpcf.services.platform.access import own
from openpcf.store.models import FactorSetVersion, ModelVersion, Product
from openpcf.units import co2e_per_unit, factor_between, quantity_of


def reference_problems(
    session: Session,
    who: Principal,
    inputs: Sequence[tuple[int, Input]],
    own_factors: Sequence[Factor] = (),
) -> list[OpenpcfError]:
    """Unresolved references and unit mismatches of the inputs (each with its index in the
    model), each located by field. The inputs may be the valid part of a model that has other
    problems, so that one pass finds them all."""
    with session.begin():
        rows = session.scalars(
            select(FactorSetVersion).where(
                own(who, FactorSetVersion.tenant_id), FactorSetVersion.published_at.is_not(None)
            )
        )
        sets = [bundled_set(), *(as_factor_set(r) for r in rows)]
        products = {
            p.urn
            for p in session.scalars(
                select(Product)
                .join(ModelVersion, ModelVersion.product_id == Product.id)
                .where(own(who, Product.tenant_id))
            )
        }
    if own_factors:
        sets.append(FactorSet(id="inline", version="0", title="own", factors=tuple(own_factors)))
    try:
        catalogue = Catalogue.of(sets)
    except OpenpcfError as e:  # the model's own factors clash
        return [e]
    out: list[OpenpcfError] = []
    for k, inp in inputs:
        where = Location(field=f"inputs[{k}]")
        try:
            quantity_of(inp.unit, Location(field=f"inputs[{k}].unit"))
            if inp.factor is not None:
                at = Location(field=f"inputs[{k}].factor")
                factor = catalogue.get(inp.factor, at, f"input '{inp.name}': ")
                factor_between(
                    inp.unit, factor.unit,
                    f"unit of input '{inp.name}' against factor '{factor.id}' (per "
                    f"{factor.unit})", Location(field=f"inputs[{k}].unit"),
                )  # fmt: skip
            elif inp.pcf is not None:
                _, per = co2e_per_unit(inp.pcf.unit, Location(field=f"inputs[{k}].pcf.unit"))
                factor_between(
                    inp.unit, per, f"unit of input '{inp.name}' against its PCF's unit",
                    Location(field=f"inputs[{k}].unit"),
                )  # fmt: skip
            elif inp.electricity is not None:
                factor_between(inp.unit, "kWh", f"electricity input '{inp.name}'", where)
            elif inp.product is not None and inp.product not in products:
                out.append(ModelError(
                    f"sub-assembly '{inp.product}' is not one of your products with a model; "
                    "pick one in the sub-assembly list", Location(field=f"inputs[{k}].product"),
                ))  # fmt: skip
        except OpenpcfError as e:
            if not e.location.field:
                e.location = where
            out.append(e)
    return out
