"""Calculations of stored models: the same `calculate` as the command line, on model versions
from the store, with sub-assemblies resolved by product URN among the tenant's own products.

A calculation is stored with everything needed to reproduce it: the model versions (of the
product and of each sub-assembly, with their sha256), the profile, GWP set, factor-set
versions, software version, input hash, who ran it and when. The owning tenant reads the full
result; others read the footprint of a public product only, never its input lines.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Row, bindparam, or_, select
from sqlalchemy.orm import Session

from openpcf import __version__
from openpcf.domain.platform import (
    PRIVATE_SUB_ASSEMBLY,
    CalculationInfo,
    CalculationIntegrity,
    CalculationRequest,
    CalculationSummary,
    Footprint,
    PactNotice,
    Principal,
    UsedModelVersion,
    Visibility,
)
from openpcf.domain.result import Amount, DeclaredUnit, Result
from openpcf.factors.bundled import bundled_set
from openpcf.factors.catalogue import Catalogue
from openpcf.io import limits
from openpcf.io.model_file import LoadedModel
from openpcf.rules.catalogue import profile as load_profile
from openpcf.rules.catalogue import rules_in_force
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.check import check as check_rules
from openpcf.services.calculation.integrity import check, integrity_of_rows
from openpcf.services.calculation.project import Project
from openpcf.services.catalogue.factor_sets import published_sets
from openpcf.services.catalogue.procurement import assess
from openpcf.services.catalogue.products import (
    latest_version,
    loaded_version,
    own_product,
    readable_product,
)
from openpcf.services.catalogue.rule_versions import in_force
from openpcf.services.certification.green_certificates import (
    CertificateRefused,
    claim_certificates,
    record_refusal,
)
from openpcf.services.errors import NotFound, RuleViolation, UnresolvedReference
from openpcf.services.exchange.footprints import pact_notices
from openpcf.services.monitoring.direct_connection import names_meters, resolve_metered
from openpcf.services.platform.access import own, signed_in, writer
from openpcf.services.platform.accounts import utc
from openpcf.services.recompute.usage import record_usage
from openpcf.store.models import Calculation, ModelVersion, Product


def run_calculation(
    session: Session, who: Principal, urn: str, request: CalculationRequest
) -> CalculationInfo:
    try:
        return _run_calculation(session, who, urn, request)
    except CertificateRefused as exc:  # rolled back; the refusal itself is recorded
        record_refusal(session, who.actor, who.tenant or "", exc)
        raise


def _run_calculation(
    session: Session, who: Principal, urn: str, request: CalculationRequest
) -> CalculationInfo:
    with session.begin():
        writer(session, who)
        product = own_product(session, who, urn)
        version = _version(session, product, request.version)
        project, used = stored_project(session, who, version, request.factor_sets)
        if names_meters(project):
            project = resolve_metered(session, who.tenant_id or 0, who.tenant or "", project)
        now = in_force(session, date.today())  # the rules and profiles in force today
        with rules_in_force(now.rules, now.profiles):
            result = calculate(project, gwp=request.gwp, profile=request.profile)
            violations = check_rules(project, request.profile, result)
            accepts = load_profile(request.profile).electricity.accepts
        result = result.model_copy(update={
            "rule_version": now.rule_versions.get(result.rule),
            "profile_version": now.profile_versions.get(result.profile),
        })  # fmt: skip
        du = result.declared_unit
        bought = assess(session, result.rule, f"{du.amount:g} {du.unit}", result.pcf.value,
                        date.today())  # fmt: skip
        if bought is not None:  # the regulator's grades and procurement threshold
            result = result.model_copy(
                update={"procurement": bought, "grade": result.grade or bought.grade}
            )
        breaches = [v for v in violations if v.rule != request.profile]
        if breaches and not request.allow_violations:
            raise RuleViolation(
                f"the model breaks its product rule ({len(breaches)} violation(s)); fix it, or "
                "send allow_violations: true to compute a result marked as such",
                details=[v.model_dump() for v in breaches],
            )
        result = result.model_copy(update={"violations": tuple(violations)})
        if "certificates" in accepts:
            claim_certificates(session, who.tenant or "", project, who.actor)
        du = result.declared_unit
        row = Calculation(
            uuid=str(uuid.uuid4()),
            tenant_id=who.tenant_id,
            product_id=product.id,
            model_version_id=version.id,
            profile=result.profile,
            gwp=result.gwp,
            rule=result.rule,
            factor_sets=list(result.provenance.factor_sets),
            model_versions=[u.model_dump() for u in used],
            pcf=result.pcf.value,
            declared_unit=f"{du.amount:g} {du.unit}",
            result=result.model_dump_json(),
            software_version=__version__,
            input_hash=result.provenance.input_hash,
            created_by=who.subject,
        )
        row.product = product
        row.model_version = version
        session.add(row)
        session.flush()
        record_usage(session, row, project, result)  # for recomputation when factors change
        return _info(
            row, product.urn, result, owner=True, integrity=check(row.result, row.pcf, None)
        )


def get_calculation(session: Session, who: Principal, calculation_id: str) -> CalculationInfo:
    """A calculation of the caller's tenant (full result) or of a public product (footprint).

    The most frequent read of the API: one prepared query of plain columns (no ORM objects),
    then the certificates signing its hash (integrity, checked on every read)."""
    with session.begin():
        row = session.execute(
            _CALCULATION, {"id": calculation_id, "tenant_id": who.tenant_id}
        ).first()
        if row is None:
            raise NotFound(f"no calculation {calculation_id}")
        integrity = integrity_of_rows(session, [row])[row.id]
        owner = row.tenant_id == who.tenant_id
        public = (
            set() if owner else public_urns(session, [m["product"] for m in row.model_versions])
        )
    return _info(row, row.urn, Result.model_validate_json(row.result), owner, integrity, public)


# Readable: the caller's tenant's, or of a public product (as `access.readable_products`; an
# anonymous caller's tenant_id is NULL, which equals nothing).
_CALCULATION = (
    select(
        Calculation.id,
        Calculation.uuid,
        Calculation.tenant_id,
        Calculation.profile,
        Calculation.gwp,
        Calculation.rule,
        Calculation.factor_sets,
        Calculation.model_versions,
        Calculation.pcf,
        Calculation.declared_unit,
        Calculation.result,
        Calculation.software_version,
        Calculation.input_hash,
        Calculation.created_by,
        Calculation.created_at,
        Product.urn,
    )
    .join(Product, Product.id == Calculation.product_id)
    .where(
        Calculation.uuid == bindparam("id"),
        or_(
            Product.visibility == Visibility.public.value,
            Product.tenant_id == bindparam("tenant_id"),
        ),
    )
)


def list_calculations(session: Session, who: Principal, urn: str) -> list[CalculationSummary]:
    with session.begin():
        product = readable_product(session, who, urn)
        rows = session.execute(
            select(Calculation, ModelVersion.number)
            .join(ModelVersion, ModelVersion.id == Calculation.model_version_id)
            .where(Calculation.product_id == product.id)
            .order_by(Calculation.created_at.desc(), Calculation.id.desc())
        ).all()
        checked = integrity_of_rows(session, [c for c, _ in rows])
        mine = product.tenant_id == who.tenant_id
        notices = pact_notices(session, [product.id]) if mine else {}
        return [
            _summary(c, product.urn, number, checked[c.id], notices.get(c.id, []))
            for c, number in rows
        ]


def public_urns(session: Session, urns: list[str]) -> set[str]:
    """Which of these product URNs are public products."""
    if not urns:
        return set()
    return set(
        session.scalars(
            select(Product.urn).where(
                Product.urn.in_(urns), Product.visibility == Visibility.public.value
            )
        )
    )


def find_calculation(
    session: Session, who: Principal, version: ModelVersion, profile: str
) -> str | None:
    """The id of a calculation of this model version under `profile` by this software, if any."""
    return session.scalar(
        select(Calculation.uuid)
        .where(
            own(who, Calculation.tenant_id),
            Calculation.model_version_id == version.id,
            Calculation.profile == profile,
            Calculation.software_version == __version__,
        )
        .limit(1)
    )


def stored_project(
    session: Session, who: Principal, version: ModelVersion, factor_sets: list[str]
) -> tuple[Project, list[UsedModelVersion]]:
    """A project of stored model versions: the target and, by URN, every sub-assembly (the
    latest version of the tenant's product of that URN)."""
    models: list[LoadedModel] = [loaded_version(version)]
    used = [
        UsedModelVersion(product=version.product.urn, number=version.number, sha256=version.sha256)
    ]
    index_of = {version.product.urn: 0}
    links: dict[tuple[int, int], int] = {}
    i = 0
    while i < len(models):
        limits.check_time()  # the request's deadline (io/limits.py), between sub-assemblies
        for k, line in enumerate(models[i].model.inputs):
            ref = line.product
            if ref is None:
                continue
            if ref not in index_of:
                sub = _sub_assembly(session, who, ref, models[i], k)
                index_of[ref] = len(models)
                models.append(loaded_version(sub))
                used.append(UsedModelVersion(product=ref, number=sub.number, sha256=sub.sha256))
            links[(i, k)] = index_of[ref]
        i += 1
    sets = published_sets(session, who, factor_sets)
    catalogue = Catalogue.of([bundled_set(), *sets])
    digest = hashlib.sha256()
    for m in models:
        digest.update(m.path.name.encode() + b"\0" + m.doc.text.encode("utf-8") + b"\0")
    for fs in sets:
        digest.update(fs.label.encode() + b"\0" + fs.model_dump_json().encode() + b"\0")
    project = Project(
        models=tuple(models),
        links=links,
        catalogue=catalogue,
        factor_files=(),
        input_hash=digest.hexdigest(),
    )
    return project, used


def _sub_assembly(
    session: Session, who: Principal, ref: str, parent: LoadedModel, k: int
) -> ModelVersion:
    product = session.scalar(select(Product).where(Product.urn == ref, own(who, Product.tenant_id)))
    version = latest_version(session, product) if product is not None else None
    if version is None:
        what = "has no model version yet" if product is not None else "is not a product of"
        raise UnresolvedReference(
            f"sub-assembly '{ref}' (input '{parent.model.inputs[k].name}') {what} tenant "
            f"{who.tenant}; on the server a sub-assembly is referenced by the URN of one of the "
            f"tenant's products (urn:openpcf:product:{who.tenant}:<slug>) with a model version",
            ref,
            parent.where("inputs", k, "product"),
        )
    return version


def _version(session: Session, product: Product, number: int | None) -> ModelVersion:
    if number is None:
        version = latest_version(session, product)
    else:
        version = session.scalar(
            select(ModelVersion).where(
                ModelVersion.product_id == product.id, ModelVersion.number == number
            )
        )
    if version is None:
        which = f"version {number}" if number is not None else "model version yet"
        raise NotFound(f"product {product.urn} has no {which}")
    return version


def _summary(
    row: Calculation | Row,
    urn: str,
    number: int,
    integrity: CalculationIntegrity | None = None,
    notices: Sequence[PactNotice] = (),
) -> CalculationSummary:
    amount, _, unit = row.declared_unit.partition(" ")
    return CalculationSummary(
        id=row.uuid,
        product=urn,
        model_version=number,
        profile=row.profile,
        gwp=row.gwp,
        pcf=Amount(value=row.pcf, unit="kg CO2e"),
        declared_unit=DeclaredUnit(amount=float(amount), unit=unit),
        created_at=utc(row.created_at),
        integrity=integrity,
        pact_notice=next((n for n in notices if "3" in n.versions), None),
        pact_notices=list(notices),
    )


def _info(
    row: Calculation | Row,
    urn: str,
    result: Result,
    owner: bool,
    integrity: CalculationIntegrity | None = None,
    public: set[str] | None = None,
) -> CalculationInfo:
    """The calculation as served; outside its tenant, sub-assemblies of products that are not
    public are named only as "a private sub-assembly" (no URN, no hash)."""
    used = [UsedModelVersion.model_validate(m) for m in row.model_versions]
    if not owner:
        used = [used[0]] + [
            m if m.product in (public or set())
            else UsedModelVersion(product=PRIVATE_SUB_ASSEMBLY)
            for m in used[1:]
        ]  # fmt: skip
    return CalculationInfo(
        **_summary(row, urn, row.model_versions[0]["number"], integrity).model_dump(),
        rule=row.rule,
        factor_sets=list(row.factor_sets),
        model_versions=used,
        software_version=row.software_version,
        input_hash=row.input_hash,
        created_by=row.created_by if owner else None,
        footprint=Footprint.of(result),
        result=result if owner else None,
    )


def calculation_project(
    session: Session, who: Principal, calculation_id: str
) -> tuple[Project, str, str | None]:
    """The project a calculation of the caller's tenant was computed from, with its profile
    and GWP set, to compute it again in another way. Runs inside the caller's transaction."""
    signed_in(who)
    row = session.scalar(
        select(Calculation).where(
            Calculation.uuid == calculation_id, own(who, Calculation.tenant_id)
        )
    )
    if row is None:
        raise NotFound(f"no calculation {calculation_id}")
    # the tenant's published sets are labelled '<tenant>:name@version'; the bundled set and
    # the model's inline factors come with the project itself
    tenant_sets = [s for s in row.factor_sets if s.startswith(f"{who.tenant}:")]
    project, _ = stored_project(session, who, row.model_version, tenant_sets)
    return project, row.profile, row.gwp
