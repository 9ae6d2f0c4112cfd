"""Demo tenants for `openpcf serve --demo`: an enterprise, a supplier and a verifier, their
products (the models in `openpcf/demo/`), computed footprints and credentials.

Loading is idempotent: what exists is kept, so a second run adds no tenant, user, product,
model version or calculation. Tokens are only stored hashed, so each run replaces the demo
tokens and client secrets with new ones and returns them to be printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import yaml
from sqlalchemy import Select, select
from sqlalchemy.orm import sessionmaker

from openpcf import __version__
from openpcf.domain.platform import (
    CalculationInfo,
    CalculationRequest,
    ClientCredentials,
    Principal,
    ProductCreate,
    ProductUpdate,
    Role,
    SupplierRequestCreate,
    TenantKind,
    Visibility,
    product_urn,
)
from openpcf.services.calculation import stored as calculations
from openpcf.services.catalogue import products
from openpcf.services.exchange import supplier_requests
from openpcf.services.platform import accounts
from openpcf.services.platform.accounts import operator
from openpcf.store.models import (
    ApiClient,
    Calculation,
    ModelVersion,
    Product,
    SupplierRequest,
    Tenant,
    User,
)

TENANTS = [
    ("demo", "Demo Battery Co. (LFP cells)"),
    ("supplier", "Jiangsu Materials Co. (steel, clinker, cement)"),
    ("cnverify", "CN Verify Certification Centre (verification body)"),
    ("regulator", "Provincial Ecology and Environment Department (regulator)"),
]
KINDS = {"cnverify": TenantKind.verifier, "regulator": TenantKind.regulator}
USERS = [
    ("demo", "admin@demo.example", Role.admin),
    ("demo", "member@demo.example", Role.member),
    ("demo", "verifier@demo.example", Role.verifier),  # a third-party verifier's account
    ("supplier", "admin@supplier.example", Role.admin),
    ("cnverify", "verifier@cnverify.example", Role.verifier),  # reviews and signs
    ("cnverify", "admin@cnverify.example", Role.admin),
    ("regulator", "admin@regulator.example", Role.admin),
]
# the footprint taken through certification to the public registry: (product, profile)
CERTIFIED = ("lfp-cell-280ah", "gb-t-24067")
CLIENTS = [("demo", "demo-erp"), ("supplier", "supplier-pact")]
# tenant, slug, model file, visibility, profiles computed; sub-assemblies first
PRODUCTS = [
    ("demo", "lfp-cathode", "lfp-cathode.yaml", Visibility.private, ["gb-t-24067"]),
    ("demo", "lfp-cell-280ah", "lfp-cell.yaml", Visibility.public, ["gb-t-24067", "pact-v3"]),
    ("supplier", "clinker", "clinker.yaml", Visibility.private, ["gb-t-24067"]),
    ("supplier", "cement-po-42-5", "cement.yaml", Visibility.public, ["gb-t-24067"]),
    ("supplier", "hot-rolled-coil", "hot-rolled-steel.yaml", Visibility.public, ["gb-t-24067"]),
]
TOKEN_NAME = "demo"
# UN CPC Ver.2.1 classes (UN Statistics Division, Central Product Classification Version 2.1,
# 2015, https://unstats.un.org/unsd/classifications/Econ/cpc): 3744 Portland cement, aluminous
# cement, slag cement and similar hydraulic cements, except in the form of clinkers; 3743
# cement clinkers; 4121 flat-rolled products of iron or non-alloy steel, not further worked
# than hot-rolled; 4642 electric accumulators; 3424 phosphinates, phosphonates, phosphates and
# polyphosphates (group 342, basic inorganic chemicals n.e.c.), for the lithium iron phosphate
# (LiFePO4) cathode powder, a phosphate. PACT v2 serves only products with a CPC code, and
# every demo footprint has one, so the official conformance suite's classification filter
# (v3 TESTCASE#23) is exercised on a real value.
DEMO_CPC = {"lfp-cathode": "3424", "lfp-cell-280ah": "4642", "clinker": "3743",
            "cement-po-42-5": "3744", "hot-rolled-coil": "4121"}  # fmt: skip
# Every demo user signs in to the web UI with this password (a demo, never a real deployment).
DEMO_PASSWORD = "openpcf-demo"


@dataclass
class DemoCredentials:
    # (tenant, email, role, token)
    tokens: list[tuple[str, str, Role, str]] = field(default_factory=list)
    clients: list[ClientCredentials] = field(default_factory=list)
    certificates: list[str] = field(default_factory=list)  # published certificate ids
    # (product URN, profile, calculation id, pcf, declared unit)
    calculations: list[tuple[str, str, str, float, str]] = field(default_factory=list)


def load_demo(sessions: sessionmaker) -> DemoCredentials:
    op = operator("demo-loader")
    out = DemoCredentials()
    for slug, name in TENANTS:
        if _scalar(sessions, select(Tenant.id).where(Tenant.slug == slug)) is None:
            kind = KINDS.get(slug, TenantKind.enterprise)
            accounts.create_tenant(sessions(), op, slug, name, kind)
    for tenant, email, role in USERS:
        if _scalar(sessions, select(User.id).where(User.email == email)) is None:
            new = accounts.create_user(
                sessions(),
                op,
                tenant,
                email,
                role,
                password=DEMO_PASSWORD,
                token_days=None,
                token_name=TOKEN_NAME,
            )
            issued = new.token
        else:
            issued = accounts.issue_personal_token(
                sessions(), op, email, TOKEN_NAME, days=None, replace=True
            )
        out.tokens.append((tenant, email, role, issued.token))
    for tenant, name in CLIENTS:
        client_id = _scalar(
            sessions,
            select(ApiClient.client_id)
            .join(Tenant)
            .where(Tenant.slug == tenant, ApiClient.name == name),
        )
        if client_id is None:
            out.clients.append(accounts.create_client(sessions(), op, tenant, name, Role.member))
        else:
            out.clients.append(accounts.rotate_client_secret(sessions(), op, str(client_id)))
    data = files("openpcf.demo")
    for tenant, slug, filename, visibility, profiles in PRODUCTS:
        who = _acting(sessions, tenant)
        urn = product_urn(tenant, slug)
        text = data.joinpath(filename).read_text("utf-8")
        if _scalar(sessions, select(Product.id).where(Product.urn == urn)) is None:
            new = ProductCreate(
                slug=slug, name=_model_name(text), visibility=visibility, cpc=DEMO_CPC.get(slug)
            )
            products.create_product(sessions(), who, new)
        elif (
            slug in DEMO_CPC
            and _scalar(sessions, select(Product.cpc).where(Product.urn == urn)) is None
        ):
            products.update_product(sessions(), who, urn, ProductUpdate(cpc=DEMO_CPC[slug]))
        version, _ = products.add_model_version(sessions(), who, urn, text, "application/yaml")
        for profile in profiles:
            info = _calculation(sessions, who, urn, version.number, profile)
            du = info.declared_unit
            out.calculations.append(
                (urn, profile, info.id, info.pcf.value, f"{du.amount:g} {du.unit}")
            )
    demo = _acting(sessions, "demo")
    if (
        _scalar(
            sessions, select(SupplierRequest.id).where(SupplierRequest.tenant_id == demo.tenant_id)
        )
        is None
    ):
        supplier_requests.create_request(
            sessions(),
            demo,
            SupplierRequestCreate(
                supplier_host="127.0.0.1:8000",
                product_id=product_urn("supplier", "hot-rolled-coil"),
                message="Steel casing: please share the PACT footprint of your hot-rolled coil.",
            ),
        )
    out.certificates.append(_certified(sessions, out))
    return out


def _calculation(
    sessions: sessionmaker, who: Principal, urn: str, number: int, profile: str
) -> CalculationInfo:
    """The calculation of this model version under `profile`, computed when missing."""
    with sessions() as s:
        calc_id = s.scalar(
            select(Calculation.uuid)
            .join(ModelVersion, ModelVersion.id == Calculation.model_version_id)
            .join(Product, Product.id == ModelVersion.product_id)
            .where(
                Product.urn == urn,
                ModelVersion.number == number,
                Calculation.profile == profile,
                Calculation.software_version == __version__,
            )
            .limit(1)
        )
    if calc_id is not None:
        return calculations.get_calculation(sessions(), who, calc_id)
    request = CalculationRequest(version=number, profile=profile)
    return calculations.run_calculation(sessions(), who, urn, request)


def _acting(sessions: sessionmaker, tenant: str) -> Principal:
    """The loader acting as an admin of the tenant."""
    tenant_id = _scalar(sessions, select(Tenant.id).where(Tenant.slug == tenant))
    return Principal(
        kind="operator",
        subject="demo-loader",
        tenant=tenant,
        tenant_id=int(tenant_id),
        role=Role.admin,
    )  # type: ignore[arg-type]


def _model_name(text: str) -> str:
    return str(yaml.safe_load(text)["product"]["name"])


def _scalar(sessions: sessionmaker, query: Select) -> Any:
    with sessions() as s:
        return s.scalar(query)


def _certified(sessions: sessionmaker, out: DemoCredentials) -> str:
    """The demo's LFP cell footprint, submitted to cnverify, certified and published (once)."""
    from openpcf.domain.certification import Action, SubmissionCreate, TransitionRequest
    from openpcf.services.certification import workflow as certification
    from openpcf.store.models_certification import IssuedCertificate

    slug, profile = CERTIFIED
    urn = product_urn("demo", slug)
    with sessions() as s:
        done = s.scalar(select(IssuedCertificate.certificate_id).where(
            IssuedCertificate.product_urn == urn, IssuedCertificate.published_at.is_not(None)
        ))  # fmt: skip
    if done is not None:
        return str(done)
    calc_id = next(c for u, p, c, _, _ in out.calculations if u == urn and p == profile)
    enterprise = _acting(sessions, "demo")
    verifier = _acting(sessions, "cnverify").model_copy(
        update={"kind": "user", "subject": "verifier@cnverify.example", "role": Role.verifier}
    )
    new = SubmissionCreate(product=urn, calculation_id=calc_id, verifier="cnverify",
                           comment="GB/T 24067 footprint of the 280 Ah cell for verification")  # fmt: skip
    sub = certification.create_submission(sessions(), enterprise, new).id
    for who, action, comment in (
        (enterprise, Action.submit, "Please verify."),
        (verifier, Action.start_review, "Reviewing the bill of materials and grid factors."),
        (verifier, Action.certify, "Primary data checked against meter records."),
        (enterprise, Action.publish, "Published for the label."),
    ):
        info = certification.transition(
            sessions(), who, sub, TransitionRequest(action=action, comment=comment)
        )
    return str(info.certificate_id)
