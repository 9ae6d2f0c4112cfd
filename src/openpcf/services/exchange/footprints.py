"""The footprints a PACT host serves, and the criteria they are listed by: shared by the
API (`host`) and the delivery of answers to requests (`delivery`); the events' type names.

A footprint's `id` is the calculation's UUID. A product's calculations under one profile form a
chain (PACT v3 index "Product Footprint Lifecycle"): the newest is `Active`, older ones
`Deprecated`; each names its predecessor in `precedingPfIds`, and v2's `version` is its place in
the chain (1, 2, ...). Calculations PACT cannot express (e.g. under the eu-cbam profile, or a
declared unit PACT has no name for) are not served; v2 also needs the product's UN CPC code
(`productCategoryCpc`), so a product without one is served in v3 only. The validity period is
stated explicitly: from the reference period's end for 3 years (the spec's default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.errors import OpenpcfError
from openpcf.domain.platform import Principal
from openpcf.domain.result import Result
from openpcf.io.pact.export import PactContext, product_footprint
from openpcf.io.pact.schema import PactVersion
from openpcf.services.catalogue.products import CPC_URN, loaded_version
from openpcf.services.platform.access import readable_products, signed_in
from openpcf.services.platform.accounts import utc
from openpcf.store.models import Calculation, ModelVersion, Product, Tenant

EVENT_TYPES: dict[PactVersion, dict[str, str]] = {
    "3": {
        "published": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
        "created": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "fulfilled": "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
        "rejected": "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
    },
    "2": {
        "published": "org.wbcsd.pathfinder.ProductFootprint.Published.v1",
        "created": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
        "fulfilled": "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1",
        "rejected": "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1",
    },
}


class PactApiError(Exception):
    """An error response of the PACT API: {code, message} with the spec's status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad_request(message: str) -> PactApiError:
    return PactApiError(400, "BadRequest", message)


@dataclass(frozen=True)
class Filters:
    """ListFootprints criteria (v3): OR within one criterion, AND between them."""

    product_id: Sequence[str] = ()
    company_id: Sequence[str] = ()
    geography: Sequence[str] = ()
    classification: Sequence[str] = ()
    valid_on: datetime | None = None
    valid_after: datetime | None = None
    valid_before: datetime | None = None
    status: Sequence[str] = ()

    def match(self, doc: dict[str, Any]) -> bool:
        def any_of(wanted: Sequence[str], have: Sequence[str]) -> bool:
            if not wanted:
                return True
            low = {h.lower() for h in have}
            return any(w.lower() in low for w in wanted)

        pcf = doc.get("pcf", {})
        places = [pcf.get(k) for k in ("geographyCountry", "geographyCountrySubdivision",
                                       "geographyRegionOrSubregion")]  # fmt: skip
        # a value matches the footprint's own geography field, not a containing one: the
        # official conformance tests (TESTCASE#22) expect pcf.geographyCountry to equal it
        return (
            any_of(self.product_id, doc.get("productIds", []))
            and any_of(self.company_id, doc.get("companyIds", []))
            and any_of(self.geography, [p for p in places if p])
            and any_of(self.classification, doc.get("productClassifications", []))
            and any_of(self.status, [doc["status"]])
            and self._valid(doc)
        )

    def _valid(self, doc: dict[str, Any]) -> bool:
        start, end = validity(doc)
        if self.valid_on is not None and not start <= self.valid_on <= end:
            return False
        if self.valid_after is not None and not start > self.valid_after:
            return False
        return self.valid_before is None or end < self.valid_before


def validity(doc: dict[str, Any]) -> tuple[datetime, datetime]:
    """The validity period: as stated, else from the reference period's end for 3 years."""
    pcf = doc.get("pcf", {})
    start = _dt(doc.get("validityPeriodStart") or pcf["referencePeriodEnd"])
    end = _dt(doc["validityPeriodEnd"]) if doc.get("validityPeriodEnd") else None
    if end is None:
        day = min(start.day, 28) if (start.month, start.day) == (2, 29) else start.day
        end = start.replace(year=start.year + 3, day=day)
    return start, end


def _dt(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_footprints(
    session: Session, who: Principal, version: PactVersion, filters: Filters
) -> list[dict[str, Any]]:
    """Every footprint the caller may read that matches, oldest calculation first."""
    signed_in(who)
    with session.begin():
        rows = session.execute(_query(who)).all()
        chains: dict[tuple[int, str], list[Calculation]] = {}
        for calc, _product, _tenant, _mv in rows:
            chains.setdefault((calc.product_id, calc.profile), []).append(calc)
        out = []
        for calc, product, tenant, mv in rows:
            doc = _footprint(who, calc, product, tenant, mv, version, chains)
            if doc is not None and filters.match(doc):
                out.append(doc)
        return out


def get_footprint(
    session: Session, who: Principal, version: PactVersion, pf_id: str
) -> dict[str, Any]:
    signed_in(who)
    with session.begin():
        rows = session.execute(_query(who).where(Calculation.uuid == pf_id.lower())).all()
        if rows:
            calc, product, tenant, mv = rows[0]
            chain = session.scalars(
                select(Calculation)
                .where(
                    Calculation.product_id == calc.product_id,
                    Calculation.profile == calc.profile,
                )
                .order_by(Calculation.id)
            ).all()
            chains = {(calc.product_id, calc.profile): list(chain)}
            doc = _footprint(who, calc, product, tenant, mv, version, chains)
            if doc is not None:
                return doc
    # "NoSuchFootprint" (404): the v3 rest-api error table and the official conformance tests
    # (TESTCASE#8, v2 and v3) use this code; v3's openapi Error enum calls it NotFound.
    raise PactApiError(404, "NoSuchFootprint", f"The specified footprint {pf_id} does not exist.")


def _query(who: Principal):
    return (
        select(Calculation, Product, Tenant, ModelVersion)
        .join(Product, Product.id == Calculation.product_id)
        .join(Tenant, Tenant.id == Product.tenant_id)
        .join(ModelVersion, ModelVersion.id == Calculation.model_version_id)
        .where(readable_products(who))
        .order_by(Calculation.id)
    )


def _footprint(
    who: Principal,
    calc: Calculation,
    product: Product,
    tenant: Tenant,
    mv: ModelVersion,
    version: PactVersion,
    chains: dict[tuple[int, str], list[Calculation]],
) -> dict[str, Any] | None:
    """The footprint; outside its tenant without the input lines (the bill of materials), as
    everywhere in the API: `boundaryProcessesDescription` then names the stages only.

    Lifecycle (v3 index, "Updating PCFs"): a recalculation is a new footprint with a new id
    naming the previous one in `precedingPfIds`; the previous one is `Deprecated`."""
    chain = chains[(calc.product_id, calc.profile)]
    place = next(i for i, c in enumerate(chain) if c.id == calc.id)
    preceding = chain[place - 1].uuid if place > 0 else None
    docs = _exported(calc, product, tenant, mv, version, preceding, place + 1)
    if docs is None:
        return None
    status = "Active" if place == len(chain) - 1 else "Deprecated"
    return docs[0 if calc.tenant_id == who.tenant_id else 1] | {"status": status}


_Docs = tuple[dict[str, Any], dict[str, Any]]  # for the owning tenant, for others
_CACHE: dict[tuple[Any, ...], _Docs | None] = {}


def product_classifications(product: Product) -> tuple[str, ...]:
    """The product's classification URNs for PACT, its UN CPC code first."""
    urns = [f"{CPC_URN}{product.cpc}"] if product.cpc else []
    low = {u.lower() for u in urns}
    return (*urns, *(u for u in product.classifications or [] if u.lower() not in low))


def _exported(
    calc: Calculation,
    product: Product,
    tenant: Tenant,
    mv: ModelVersion,
    version: PactVersion,
    preceding: str | None,
    number: int,
) -> _Docs | None:
    """The calculation as a ProductFootprint (a calculation is immutable; the product's name,
    classifications and tenant name are part of the key, so a change to them is seen)."""
    classes = product_classifications(product)
    key = (calc.uuid, version, product.name, tenant.name, product.cpc, classes, preceding, number)
    if key in _CACHE:
        return _CACHE[key]
    try:
        result = Result.model_validate_json(calc.result)
        model = loaded_version(mv).model.product
        year = model.year or utc(calc.created_at).year  # type: ignore[union-attr]
        created = utc(calc.created_at)
        period_end = datetime(year + 1, 1, 1, tzinfo=UTC)
        context = PactContext(
            id=calc.uuid,
            created=created,
            company_name=tenant.name,
            company_ids=(f"urn:openpcf:company:{tenant.slug}",),
            product_ids=(product.urn,),
            product_name=product.name,
            product_description=f"{product.name}; PCF per {result.declared_unit.amount:g} "
            f"{result.declared_unit.unit}",
            product_classifications=classes,
            product_category_cpc=product.cpc,
            reference_period_start=datetime(year, 1, 1, tzinfo=UTC),
            reference_period_end=period_end,
            # v3 index "Validity Period": at most referencePeriodEnd + 3 years; stated
            # explicitly so that recipients (and the validOn/validAfter/validBefore
            # filters) need not derive it
            validity_period_start=period_end,
            validity_period_end=period_end.replace(year=period_end.year + 3),
            geography=model.region,
            preceding_pf_ids=(preceding,) if preceding else (),
            version=number,
        )
        full = product_footprint(result, context, version).document
        stages = ", ".join(dict.fromkeys(c.stage for c in result.contributions))
        public = full | {"pcf": full["pcf"] | {"boundaryProcessesDescription": (
            f"Cradle-to-gate; stages: {stages}.")}}  # fmt: skip
        doc: _Docs | None = (full, public)
    except (OpenpcfError, ValueError):
        doc = None  # not expressible in PACT: not served
    if len(_CACHE) > 4096:
        _CACHE.clear()
    _CACHE[key] = doc
    return doc


#: Criteria of a request and of ListFootprints (v3 openapi, parameters; "This MUST be the
#: same set of criteria").
_LISTS = ("productId", "companyId", "geography", "classification")
_MOMENTS = ("validOn", "validAfter", "validBefore")


def request_criteria(version: PactVersion, data: dict[str, Any]) -> dict[str, Any]:
    """The criteria of a request event's data, checked, in v3 form.

    v2 requests carry a ProductFootprintFragment (`data.pf`): its productIds, companyIds,
    productCategoryCpc and pcf.geography* become the v3 criteria. A v3 request in that v2 form
    (as the official conformance tests send it, TESTCASE#12) is read the same way."""
    pf = data.get("pf")
    if pf is not None and not isinstance(pf, dict):
        raise bad_request("data.pf must be a ProductFootprint fragment (an object)")
    criteria: dict[str, Any] = {}
    if pf:
        for src, dst in (("productIds", "productId"), ("companyIds", "companyId")):
            if src in pf:
                criteria[dst] = pf[src]
        if isinstance(pf.get("productCategoryCpc"), str):
            criteria["classification"] = [CPC_URN + pf["productCategoryCpc"]]
        cf = pf.get("pcf") if isinstance(pf.get("pcf"), dict) else {}
        places = [cf[k] for k in ("geographyCountry", "geographyCountrySubdivision",
                                  "geographyRegionOrSubregion") if k in cf]  # fmt: skip
        if places:
            criteria["geography"] = places
    if version == "3":
        criteria |= {k: data[k] for k in (*_LISTS, *_MOMENTS, "status") if k in data}
    for key in _LISTS:
        values = criteria.get(key)
        if values is None:
            continue
        if isinstance(values, str):
            values = criteria[key] = [values]
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise bad_request(f"{key} must be a non-empty list of strings")
    for key in _MOMENTS:
        if key in criteria and (
            not isinstance(criteria[key], str) or parse_datetime(criteria[key]) is None
        ):
            raise bad_request(f"{key}: '{criteria[key]}' is not an RFC 3339 date-time")
    status = criteria.get("status")
    if status is not None and not isinstance(status, str | list):
        raise bad_request("status must be 'Active' or 'Deprecated'")
    if not criteria:
        raise bad_request(
            "the request names no criteria; give at least one of "
            + ", ".join((*_LISTS, *_MOMENTS, "status"))
            + (" (in data.pf for v2: productIds, ...)" if version == "2" else "")
        )
    return criteria


def filters_from(criteria: dict[str, Any]) -> Filters:
    """The ListFootprints filters of stored request criteria."""
    status = criteria.get("status")
    return Filters(
        product_id=criteria.get("productId") or (),
        company_id=criteria.get("companyId") or (),
        geography=criteria.get("geography") or (),
        classification=criteria.get("classification") or (),
        valid_on=parse_datetime(criteria.get("validOn")),
        valid_after=parse_datetime(criteria.get("validAfter")),
        valid_before=parse_datetime(criteria.get("validBefore")),
        status=[status] if isinstance(status, str) else status or (),
    )


def parse_datetime(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return _dt(text.upper())
    except ValueError:
        return None
