"""The PACT data exchange as a host system: the caller's tenant's calculations and every public
product's calculations served as PACT ProductFootprints (v3.0 and v2.3), and PACT events.

A footprint's `id` is the calculation's UUID. Of a product's calculations under one profile the
newest is `Active` and older ones `Deprecated`. Calculations PACT cannot express (e.g. under the eu-cbam
profile, or a declared unit PACT has no name for) are not served. PACT v2 requires the product's
UN CPC code (`productCategoryCpc`), which the store does not hold yet: until it does, v2 serves
no footprints rather than an invented code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.errors import OpenpcfError
from openpcf.domain.platform import Principal, SupplierRequestCreate, SupplierRequestInfo
from openpcf.domain.result import Result
from openpcf.io.pact import PactContext, product_footprint
from openpcf.io.pact_schema import PactSpecMissing, PactVersion, schema_errors
from openpcf.services import supplier_requests
from openpcf.services.access import readable_products, signed_in
from openpcf.services.accounts import utc
from openpcf.services.products import loaded_version
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
    status: str | None = None

    def match(self, doc: dict[str, Any]) -> bool:
        def any_of(wanted: Sequence[str], have: Sequence[str]) -> bool:
            if not wanted:
                return True
            low = {h.lower() for h in have}
            return any(w.lower() in low for w in wanted)

        pcf = doc.get("pcf", {})
        places = [pcf.get(k) for k in ("geographyCountry", "geographyCountrySubdivision",
                                       "geographyRegionOrSubregion")]  # fmt: skip
        if not (
            any_of(self.product_id, doc.get("productIds", []))
            and any_of(self.company_id, doc.get("companyIds", []))
            and any_of(self.geography, [p for p in places if p])
            and any_of(self.classification, doc.get("productClassifications", []))
        ):
            return False
        if self.status is not None and doc["status"].lower() != self.status.lower():
            return False
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
        newest: dict[tuple[int, str], int] = {}
        for calc, _product, _tenant, _mv in rows:
            key = (calc.product_id, calc.profile)
            newest[key] = max(newest.get(key, 0), calc.id)
        out = []
        for calc, product, tenant, mv in rows:
            current = newest[(calc.product_id, calc.profile)] == calc.id
            status = "Active" if current else "Deprecated"
            doc = _footprint(who, calc, product, tenant, mv, version, status)
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
            newest = session.scalar(
                select(Calculation.id)
                .where(
                    Calculation.product_id == calc.product_id,
                    Calculation.profile == calc.profile,
                )
                .order_by(Calculation.id.desc())
                .limit(1)
            )
            status = "Active" if newest == calc.id else "Deprecated"
            doc = _footprint(who, calc, product, tenant, mv, version, status)
            if doc is not None:
                return doc
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
    status: str,
) -> dict[str, Any] | None:
    """The footprint; outside its tenant without the input lines (the bill of materials), as
    everywhere in the API: `boundaryProcessesDescription` then names the stages only."""
    docs = _exported(calc.uuid, version, calc, product, tenant, mv)
    if docs is None:
        return None
    return docs[0 if calc.tenant_id == who.tenant_id else 1] | {"status": status}


_Docs = tuple[dict[str, Any], dict[str, Any]]  # for the owning tenant, for others
_CACHE: dict[tuple[str, str, str, str], _Docs | None] = {}


def _exported(
    uuid: str,
    version: PactVersion,
    calc: Calculation,
    product: Product,
    tenant: Tenant,
    mv: ModelVersion,
) -> _Docs | None:
    """The calculation as a ProductFootprint (a calculation is immutable; the product's name
    and URN are part of the key, so a rename is seen)."""
    key = (uuid, version, product.name, tenant.name)
    if key in _CACHE:
        return _CACHE[key]
    try:
        result = Result.model_validate_json(calc.result)
        model = loaded_version(mv).model.product
        year = model.year or utc(calc.created_at).year  # type: ignore[union-attr]
        created = utc(calc.created_at)
        context = PactContext(
            id=calc.uuid,
            created=created,
            company_name=tenant.name,
            company_ids=(f"urn:openpcf:company:{tenant.slug}",),
            product_ids=(product.urn,),
            product_name=product.name,
            product_description=f"{product.name}; PCF per {result.declared_unit.amount:g} "
            f"{result.declared_unit.unit}",
            reference_period_start=datetime(year, 1, 1, tzinfo=UTC),
            reference_period_end=datetime(year + 1, 1, 1, tzinfo=UTC),
            geography=model.region,
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


# ------------------------------------------------------------------------------------ events


def handle_event(
    session: Session, who: Principal, version: PactVersion, event: Any
) -> SupplierRequestInfo | None:
    """Validate a CloudEvent and act on it: a request for footprints is recorded as a supplier
    request of the caller's tenant (status pending); the other events are accepted."""
    signed_in(who)
    if not isinstance(event, dict):
        raise bad_request("the body must be a CloudEvent (a JSON object)")
    for key in ("type", "specversion", "id", "source"):
        if not isinstance(event.get(key), str) or not event[key]:
            raise bad_request(f"the event has no '{key}'")
    types = EVENT_TYPES[version]
    if event["type"] not in types.values():
        raise bad_request(
            f"unsupported event type '{event['type']}'; expected one of "
            + ", ".join(types.values())
        )
    try:
        errors = schema_errors(event, version, "Event")
    except PactSpecMissing:
        errors = []
    if errors:
        raise bad_request("invalid event: " + "; ".join(errors[:5]))
    data = event.get("data")
    if not isinstance(data, dict):
        raise bad_request("the event has no 'data' object")
    if event["type"] != types["created"]:
        return None
    if version == "3":
        ids = data.get("productId") or []
        criteria = {k: v for k, v in data.items() if k != "comment"}
    else:
        pf = data.get("pf") if isinstance(data.get("pf"), dict) else {}
        ids = pf.get("productIds") or []
        criteria = pf
    if not ids or not all(isinstance(i, str) for i in ids):
        raise bad_request("the request names no productId; openpcf needs one to record it")
    comment = data.get("comment")
    message = f"PACT v{version} request event {event['id']} from {event['source']}: {criteria}"
    if isinstance(comment, str) and comment:
        message += f"; comment: {comment}"
    new = SupplierRequestCreate(
        supplier_host=event["source"][:300], product_id=ids[0][:300], message=message[:5000]
    )
    return supplier_requests.create_request(session, who, new)


def openid_configuration(base: str) -> dict[str, Any]:
    base = base.rstrip("/")
    return {
        "issuer": base,
        "token_endpoint": f"{base}/auth/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
    }
