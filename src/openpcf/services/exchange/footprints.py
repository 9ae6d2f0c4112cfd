"""The footprints a PACT host serves, and the criteria they are listed by: shared by the
API (`host`) and the delivery of answers to requests (`delivery`); the events' type names.

A footprint's `id` is the calculation's UUID. A product's calculations under one profile form a
chain (PACT v3 index "Product Footprint Lifecycle"): the newest is `Active`, older ones
`Deprecated`; each names its predecessor in `precedingPfIds`, and v2's `version` is its place in
the chain (1, 2, ...). Calculations PACT cannot express (e.g. under the eu-cbam profile, or a
declared unit PACT has no name for, or one that needs the product's mass per declared unit
when the product has none) are not served, and the product's owner is told why
(`pact_notices`, shown with the owner's product and calculations); v2 also needs the
product's UN CPC code (`productCategoryCpc`) and has no declared unit piece or hour, so such
footprints are served in v3 only, and the notices say which versions do not serve them.
The validity period is stated explicitly: from the reference period's end for 3 years (the
spec's default).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.errors import OpenpcfError
from openpcf.domain.platform import CalculationIntegrity, PactNotice, Principal
from openpcf.domain.result import Result
from openpcf.io.pact import CpcMissing, MassUnknown, UnitUnnamed
from openpcf.io.pact.export import PactContext, product_footprint
from openpcf.io.pact.schema import PactVersion
from openpcf.services.calculation.integrity import integrity_of_rows
from openpcf.services.catalogue.products import CPC_URN, loaded_version
from openpcf.services.platform.access import readable_products, signed_in
from openpcf.services.platform.accounts import utc
from openpcf.store.models import Calculation, ModelVersion, Product, Tenant
from openpcf.units import same_dimension

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
    #: any further condition, e.g. a v2 `$filter` statement (odata_filter.parse_filter)
    where: Callable[[dict[str, Any]], bool] | None = None

    def match(self, doc: dict[str, Any]) -> bool:
        def any_of(wanted: Sequence[str], have: Sequence[str]) -> bool:
            # An empty value (`classification=`) names nothing and is ignored, as the official
            # conformance suite expects (TESTCASE#23 sends one for an unclassified footprint).
            wanted = [w for w in wanted if w.strip()]
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
            and (self.where is None or self.where(doc))
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
        checked = integrity_of_rows(session, [r[0] for r in rows])
        out = []
        for calc, product, tenant, mv in rows:
            doc = _flagged(_footprint(who, calc, product, tenant, mv, version, chains),
                           checked[calc.id])  # fmt: skip
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
            doc = _flagged(_footprint(who, calc, product, tenant, mv, version, chains),
                           integrity_of_rows(session, [calc])[calc.id])  # fmt: skip
            if doc is not None:
                return doc
    raise PactApiError(
        404, not_found_code(version), f"The specified footprint {pf_id} does not exist."
    )


def not_found_code(version: PactVersion) -> str:
    """The error code of an unknown footprint: v3's Error schema (openapi.yaml, `code` enum)
    names it NotFound; v2.3's error table (index.bs, Error Codes) NoSuchFootprint. The official
    conformance suite's TESTCASE#8 checks exactly these."""
    return "NotFound" if version == "3" else "NoSuchFootprint"


def _flagged(doc: dict[str, Any] | None, integrity: CalculationIntegrity) -> dict[str, Any] | None:
    """A footprint of a calculation altered after it was made says so first in its comment
    (PACT has no field for it; the comment is what a recipient reads)."""
    if doc is None or integrity.ok:
        return doc
    comment = doc.get("comment")
    return doc | {"comment": integrity.message + (f"\n{comment}" if comment else "")}


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
    preceding, number = _place(chain, calc)
    docs = _exported(calc, product, tenant, mv, version, preceding, number)
    if isinstance(docs, PactNotice):
        return None  # not served; its owner is told (pact_notices)
    status = "Active" if number == len(chain) else "Deprecated"
    return docs[0 if calc.tenant_id == who.tenant_id else 1] | {"status": status}


def _place(chain: list[Calculation], calc: Calculation) -> tuple[str | None, int]:
    """The calculation's predecessor in its chain (if any) and its number there (1, 2, ...)."""
    place = next(i for i, c in enumerate(chain) if c.id == calc.id)
    return (chain[place - 1].uuid if place > 0 else None), place + 1


_Docs = tuple[dict[str, Any], dict[str, Any]]  # for the owning tenant, for others
_CACHE: dict[tuple[Any, ...], _Docs | PactNotice] = {}


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
) -> _Docs | PactNotice:
    """The calculation as a ProductFootprint, or why PACT cannot state it (a calculation is
    immutable; the product's name, classifications, mass and tenant name are part of the key,
    so a change to them is seen)."""
    classes = product_classifications(product)
    mass = product.mass_per_declared_unit_kg
    key = (calc.uuid, version, product.name, tenant.name, product.cpc, classes, mass, preceding,
           number)  # fmt: skip
    if key in _CACHE:
        return _CACHE[key]
    try:
        result = Result.model_validate_json(calc.result)
        if same_dimension(result.declared_unit.unit, "kg"):
            mass = None  # a mass declared unit is its own mass
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
            product_mass_per_declared_unit=mass,
        )
        full = product_footprint(result, context, version).document
        stages = ", ".join(dict.fromkeys(c.stage for c in result.contributions))
        public = full | {"pcf": full["pcf"] | {"boundaryProcessesDescription": (
            f"Cradle-to-gate; stages: {stages}.")}}  # fmt: skip
        doc: _Docs | PactNotice = (full, public)
    except (OpenpcfError, ValueError) as exc:
        doc = _notice(exc, calc, version)  # not expressible in PACT: not served, the owner is told
    if len(_CACHE) > 4096:
        _CACHE.clear()
    _CACHE[key] = doc
    return doc


def _notice(exc: Exception, calc: Calculation, version: PactVersion) -> PactNotice:
    """Why PACT `version` cannot state the calculation; `_unserved` names v2 in the message
    of a reason v2 has alone."""
    versions: list[PactVersion] = [version]
    if version == "2" and isinstance(exc, CpcMissing):
        return PactNotice(
            code="v2_no_cpc",
            versions=versions,
            declared_unit=calc.declared_unit,
            message="not shared over PACT v2: the product has no UN CPC code "
            "(productCategoryCpc); set it on the product (cpc)",
        )
    if version == "2" and isinstance(exc, UnitUnnamed):
        return PactNotice(
            code="v2_unit",
            versions=versions,
            declared_unit=calc.declared_unit,
            message=f"not shared over PACT v2: PACT v2.3 has no declared unit for {exc.unit}; "
            f"partners on v2 do not see it",
        )
    if isinstance(exc, MassUnknown):
        unit = f"{exc.amount:g} {exc.unit}"
        return PactNotice(
            code="mass_unknown",
            versions=versions,
            declared_unit=unit,
            message=f"not shared over PACT: its declared unit ({unit}) needs "
            f"productMassPerDeclaredUnit; set the product's mass per declared unit "
            f"(mass_per_declared_unit_kg, kg in {unit})",
        )
    return PactNotice(
        code="not_expressible",
        versions=versions,
        declared_unit=calc.declared_unit,
        message=f"not shared over PACT: {exc}",
    )


def pact_notices(session: Session, product_ids: Sequence[int]) -> dict[int, list[PactNotice]]:
    """Why each calculation of these products is not served over PACT v3 and v2 (those served
    over both have none), by calculation id, v3's notice first; from the same export as
    ListFootprints. For the products' owner only: the caller has checked that the products are
    the caller's tenant's."""
    out: dict[int, list[PactNotice]] = {}
    for calc, notice in _unserved(session, product_ids):
        out.setdefault(calc.id, []).append(notice)
    return out


def product_notices(session: Session, product_ids: Sequence[int]) -> dict[int, list[PactNotice]]:
    """`pact_notices` by product: each distinct reason once, naming its calculations."""
    merged: dict[int, dict[tuple[str, tuple[str, ...]], PactNotice]] = {}
    for calc, notice in _unserved(session, product_ids):
        seen = merged.setdefault(calc.product_id, {})
        key = (notice.message, tuple(notice.versions))
        known = seen.get(key)
        if known is not None:
            notice = known.model_copy(
                update={"calculations": known.calculations + notice.calculations}
            )
        seen[key] = notice
    return {pid: list(notices.values()) for pid, notices in merged.items()}


def _unserved(session: Session, product_ids: Sequence[int]) -> list[tuple[Calculation, PactNotice]]:
    """Each calculation's reasons not to be served: v3's, and v2's when it is another one (a
    reason both versions share is one notice naming both)."""
    if not product_ids:
        return []
    rows = session.execute(
        select(Calculation, Product, Tenant, ModelVersion)
        .join(Product, Product.id == Calculation.product_id)
        .join(Tenant, Tenant.id == Product.tenant_id)
        .join(ModelVersion, ModelVersion.id == Calculation.model_version_id)
        .where(Calculation.product_id.in_(product_ids))
        .order_by(Calculation.id)
    ).all()
    chains: dict[tuple[int, str], list[Calculation]] = {}
    for calc, *_ in rows:
        chains.setdefault((calc.product_id, calc.profile), []).append(calc)
    out = []
    for calc, product, tenant, mv in rows:
        preceding, number = _place(chains[(calc.product_id, calc.profile)], calc)
        v3 = _exported(calc, product, tenant, mv, "3", preceding, number)
        v2 = _exported(calc, product, tenant, mv, "2", preceding, number)
        out += [(calc, n) for n in _reasons(calc.uuid, v3, v2)]
    return out


def _reasons(uuid: str, v3: _Docs | PactNotice, v2: _Docs | PactNotice) -> list[PactNotice]:
    """The calculation's notices: one naming both versions when they fail alike, else v3's
    then v2's (whose message then names v2)."""
    n3 = v3 if isinstance(v3, PactNotice) else None
    n2 = v2 if isinstance(v2, PactNotice) else None
    named: dict[str, Any] = {"calculations": [uuid]}
    if n3 is not None and n2 is not None and (n2.code, n2.message) == (n3.code, n3.message):
        return [n3.model_copy(update=named | {"versions": ["2", "3"]})]
    out = [n3.model_copy(update=named)] if n3 is not None else []
    if n2 is not None:
        if not n2.code.startswith("v2_"):  # a reason both could have, here v2's alone
            named["message"] = n2.message.replace("over PACT:", "over PACT v2:", 1)
        out.append(n2.model_copy(update=named))
    return out


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
