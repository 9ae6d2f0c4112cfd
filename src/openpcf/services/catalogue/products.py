"""Products of a tenant and the immutable versions of their model documents."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openpcf import config
from openpcf.domain.platform import (
    ModelVersionDocument,
    ModelVersionInfo,
    PactNotice,
    Principal,
    ProductCreate,
    ProductInfo,
    ProductUpdate,
    product_urn,
)
from openpcf.io.model_file import LoadedModel, model_from_text
from openpcf.services.errors import Conflict, InvalidRequest, NotFound
from openpcf.services.platform.access import own, readable_products, signed_in, writer
from openpcf.services.platform.accounts import utc
from openpcf.store.models import ModelVersion, Product

JSON = "application/json"
YAML = "application/yaml"
MEDIA_TYPES = {
    "application/json": JSON,
    "application/yaml": YAML,
    "application/x-yaml": YAML,
    "text/yaml": YAML,
    "text/x-yaml": YAML,
    "text/plain": YAML,
}


def create_product(session: Session, who: Principal, new: ProductCreate) -> ProductInfo:
    with session.begin():
        writer(session, who)
        urn = product_urn(who.tenant or "", new.slug)
        if session.scalar(select(Product.id).where(Product.urn == urn)) is not None:
            raise Conflict(f"product {urn} already exists")
        product = Product(
            tenant_id=who.tenant_id,
            slug=new.slug,
            urn=urn,
            name=new.name,
            visibility=new.visibility.value,
            created_by=who.subject,
            cpc=new.cpc,
            classifications=classification_urns(new.classifications, new.cpc),
            mass_per_declared_unit_kg=new.mass_per_declared_unit_kg,
        )
        session.add(product)
        session.flush()
        return _info(product, who, None)


def list_products(session: Session, who: Principal) -> list[ProductInfo]:
    """The caller's tenant's products, then every other tenant's public ones."""
    with session.begin():
        latest = _latest_numbers(session, who)
        rows = session.scalars(
            select(Product).where(readable_products(who)).order_by(Product.urn)
        ).all()
        mine = [p for p in rows if p.tenant_id == who.tenant_id]
        others = [p for p in rows if p.tenant_id != who.tenant_id]
        notices = _notices(session, mine)
        return [_info(p, who, latest.get(p.id), notices) for p in mine + others]


def get_product(session: Session, who: Principal, urn: str) -> ProductInfo:
    with session.begin():
        product = readable_product(session, who, urn)
        latest = _latest_numbers(session, who, product.id).get(product.id)
        mine = [product] if product.tenant_id == who.tenant_id else []
        return _info(product, who, latest, _notices(session, mine))


def update_product(
    session: Session, who: Principal, urn: str, change: ProductUpdate
) -> ProductInfo:
    with session.begin():
        writer(session, who)
        product = own_product(session, who, urn)
        if change.name is not None:
            product.name = change.name
        if change.visibility is not None:
            product.visibility = change.visibility.value
        if change.cpc is not None:
            product.cpc = change.cpc or None
        if change.classifications is not None or change.cpc is not None:
            urns = change.classifications
            product.classifications = classification_urns(
                product.classifications or [] if urns is None else urns, product.cpc
            )
        if "mass_per_declared_unit_kg" in change.model_fields_set:  # null removes it
            product.mass_per_declared_unit_kg = change.mass_per_declared_unit_kg
        session.flush()
        latest = _latest_numbers(session, who, product.id).get(product.id)
        return _info(product, who, latest, _notices(session, [product]))


def add_model_version(
    session: Session, who: Principal, urn: str, text: str, media_type: str
) -> tuple[ModelVersionInfo, bool]:
    """Store a new version of the product's model; (info, created). A document identical to the
    latest version is not stored again: that version is returned with created False."""
    media = MEDIA_TYPES.get(media_type.split(";")[0].strip().lower())
    if media is None:
        raise InvalidRequest(
            f"unsupported media type '{media_type}'; send the model as application/yaml or "
            "application/json",
            details={"supported": sorted(MEDIA_TYPES)},
        )
    if len(text.encode("utf-8")) > config.max_model_bytes():
        raise InvalidRequest(f"the model is larger than {config.max_model_bytes()} bytes")
    with session.begin():
        writer(session, who)
        product = own_product(session, who, urn)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        latest = latest_version(session, product)
        if latest is not None and latest.sha256 == digest and latest.media_type == media:
            return _version_info(latest, _loaded(latest)), False
        number = (latest.number if latest else 0) + 1
        loaded = model_from_text(text, document_path(product, number, media))
        declared = loaded.model.product.id
        if declared is not None and declared != product.urn:
            raise InvalidRequest(
                f"the model's product.id is {declared}, but this is product {product.urn}; "
                "set product.id to the product's URN or leave it out"
            )
        version = ModelVersion(
            product_id=product.id,
            number=number,
            media_type=media,
            text=text,
            sha256=digest,
            created_by=who.subject,
        )
        version.product = product
        session.add(version)
        session.flush()
        return _version_info(version, loaded), True


def list_versions(session: Session, who: Principal, urn: str) -> list[ModelVersionInfo]:
    with session.begin():
        product = own_product(session, who, urn)
        rows = session.scalars(
            select(ModelVersion)
            .where(ModelVersion.product_id == product.id)
            .order_by(ModelVersion.number)
        )
        return [_version_info(v, _loaded(v)) for v in rows]


def get_version(session: Session, who: Principal, urn: str, number: int) -> ModelVersionDocument:
    """A model version with its document: the owning tenant only (it is a bill of materials)."""
    with session.begin():
        product = own_product(session, who, urn)
        v = session.scalar(
            select(ModelVersion).where(
                ModelVersion.product_id == product.id, ModelVersion.number == number
            )
        )
        if v is None:
            raise NotFound(f"product {urn} has no model version {number}")
        loaded = _loaded(v)
        info = _version_info(v, loaded)
        return ModelVersionDocument(**info.model_dump(), text=v.text, model=loaded.model)


# --- shared with calculations --------------------------------------------------------------


def own_product(session: Session, who: Principal, urn: str) -> Product:
    """A product of the caller's tenant; NotFound for anything else, whatever its visibility."""
    signed_in(who)
    product = session.scalar(select(Product).where(Product.urn == urn, own(who, Product.tenant_id)))
    if product is None:
        raise NotFound(f"no product {urn}")
    return product


def readable_product(session: Session, who: Principal, urn: str) -> Product:
    product = session.scalar(select(Product).where(Product.urn == urn, readable_products(who)))
    if product is None:
        raise NotFound(f"no product {urn}")
    return product


def latest_version(session: Session, product: Product) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion)
        .where(ModelVersion.product_id == product.id)
        .order_by(ModelVersion.number.desc())
        .limit(1)
    )


def document_path(product: Product, number: int, media_type: str) -> Path:
    """The name a stored model goes by in errors and provenance: <tenant>/<slug>@<n>.yaml."""
    suffix = ".json" if media_type == JSON else ".yaml"
    return Path(product.tenant.slug) / f"{product.slug}@{number}{suffix}"


def loaded_version(version: ModelVersion) -> LoadedModel:
    """The stored model, validated, with the product's URN as its id when it states none."""
    loaded = _loaded(version)
    if loaded.model.product.id is not None:
        return loaded
    product = loaded.model.product.model_copy(update={"id": version.product.urn})
    return LoadedModel(
        loaded.model.model_copy(update={"product": product}), loaded.doc, loaded.digest
    )


def _loaded(version: ModelVersion) -> LoadedModel:
    path = document_path(version.product, version.number, version.media_type)
    return model_from_text(version.text, path)


def _latest_numbers(
    session: Session, who: Principal, product_id: int | None = None
) -> dict[int, int]:
    """Latest model version number of the caller's own products."""
    query = (
        select(ModelVersion.product_id, func.max(ModelVersion.number))
        .join(Product, Product.id == ModelVersion.product_id)
        .where(own(who, Product.tenant_id))
        .group_by(ModelVersion.product_id)
    )
    if product_id is not None:
        query = query.where(ModelVersion.product_id == product_id)
    return {pid: n for pid, n in session.execute(query)}


def _notices(session: Session, own: list[Product]) -> dict[int, list[PactNotice]]:
    """Why footprints of the caller's own products are not served over PACT."""
    from openpcf.services.exchange.footprints import product_notices  # exchange reads products

    return product_notices(session, [p.id for p in own])


def _info(
    p: Product,
    who: Principal,
    latest: int | None,
    notices: dict[int, list[PactNotice]] | None = None,
) -> ProductInfo:
    mine = p.tenant_id == who.tenant_id
    return ProductInfo(
        urn=p.urn,
        tenant=p.tenant.slug,
        slug=p.slug,
        name=p.name,
        visibility=p.visibility,
        latest_version=latest if mine else None,
        created_at=utc(p.created_at),
        cpc=p.cpc,
        classifications=list(p.classifications or []),
        mass_per_declared_unit_kg=p.mass_per_declared_unit_kg,
        pact_notices=(notices or {}).get(p.id, []) if mine else [],
    )


#: A URN (RFC 8141): `urn:`, a namespace id, `:`, a namespace-specific string without spaces.
_URN = re.compile(r"^urn:[a-z0-9][a-z0-9-]{0,31}:\S+$", re.IGNORECASE)
CPC_URN = "urn:pact:productclassification:un-cpc:"


def classification_urns(urns: list[str], cpc: str | None) -> list[str]:
    """Validated classification URNs, duplicates dropped; a UN CPC URN naming another code
    than `cpc` contradicts it (the PACT v3 spec's examples use urn:pact:productclassification:
    un-cpc:<code>, which openpcf derives from `cpc`)."""
    out: list[str] = []
    for i, urn in enumerate(urns):
        if not isinstance(urn, str) or not _URN.match(urn) or len(urn) > 300:
            raise InvalidRequest(
                f"classifications[{i}]: '{urn}' is not a URN (urn:<namespace>:<code>, e.g. "
                "urn:pact:productclassification:hs:252329)"
            )
        low = urn.lower()
        if low.startswith(CPC_URN) and cpc is not None and low != CPC_URN + cpc:
            raise InvalidRequest(
                f"classifications[{i}]: '{urn}' names another UN CPC code than cpc '{cpc}'"
            )
        if low not in (u.lower() for u in out):
            out.append(urn)
    return out


def _version_info(v: ModelVersion, loaded: LoadedModel) -> ModelVersionInfo:
    refs = [i.product for i in loaded.model.inputs if i.product]
    return ModelVersionInfo(
        product=v.product.urn,
        number=v.number,
        media_type=v.media_type,
        sha256=v.sha256,
        size=len(v.text.encode("utf-8")),
        references=refs,
        created_by=v.created_by,
        created_at=utc(v.created_at),
    )
