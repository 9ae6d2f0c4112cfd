"""Tenants of every kind, users with passwords, products and footprints for the web tests,
made through the services (as `openpcf serve --demo` and the CLI would)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from openpcf.domain.certification import Action, SubmissionCreate, TransitionRequest
from openpcf.domain.platform import (
    CalculationRequest,
    Principal,
    ProductCreate,
    Role,
    TenantKind,
    Visibility,
    product_urn,
)
from openpcf.services.calculation import stored as calculations
from openpcf.services.catalogue import products
from openpcf.services.certification import workflow as certification
from openpcf.services.platform import accounts
from openpcf.services.platform.sign_in import principal_for_user
from openpcf.store.db import sessions
from tests.platform_world import demo_model

PASSWORD = "correct horse battery staple"
# tenant, kind, users (role); e-mails are <role>@<tenant>.example
TENANTS = [
    ("acme", TenantKind.enterprise, (Role.admin, Role.member, Role.verifier)),
    ("other", TenantKind.enterprise, (Role.admin, Role.member)),
    ("cnverify", TenantKind.verifier, (Role.admin, Role.verifier)),
    ("gov", TenantKind.regulator, (Role.admin,)),
]


@dataclass
class WebWorld:
    url: str
    calculations: dict[str, str] = field(default_factory=dict)  # "tenant/slug" -> calc id

    def principal(self, email: str) -> Principal:
        with sessions(self.url)() as session:
            found = principal_for_user(session, email)
        assert found is not None
        return found[0]


def make_web_world(url: str) -> WebWorld:
    factory = sessions(url)
    op = accounts.operator("tests")
    world = WebWorld(url)
    for slug, kind, roles in TENANTS:
        accounts.create_tenant(factory(), op, slug, f"{slug.title()} Ltd.", kind)
        for role in roles:
            email = f"{role.value}@{slug}.example"
            accounts.create_user(factory(), op, slug, email, role, password=PASSWORD)
    for tenant in ("acme", "other"):
        who = world.principal(f"member@{tenant}.example")
        for slug, name, visibility in (
            ("lfp-cathode", "lfp-cathode.yaml", Visibility.private),
            ("lfp-cell", "lfp-cell.yaml", Visibility.public),
        ):
            new = ProductCreate(slug=slug, name=f"{tenant} {slug}", visibility=visibility)
            products.create_product(factory(), who, new)
            text = demo_model(name, tenant).replace(
                f"urn:openpcf:product:{tenant}:lfp-cell-280ah", product_urn(tenant, slug)
            )
            urn = product_urn(tenant, slug)
            products.add_model_version(factory(), who, urn, text, "application/yaml")
            info = calculations.run_calculation(factory(), who, urn, CalculationRequest())
            world.calculations[f"{tenant}/{slug}"] = info.id
    return world


def published_certificate(world: WebWorld, tenant: str = "acme", slug: str = "lfp-cell") -> str:
    """The tenant's product taken from draft to published; its certificate id."""
    factory = sessions(world.url)
    member = world.principal(f"member@{tenant}.example")
    verifier = world.principal("verifier@cnverify.example")
    admin = world.principal(f"admin@{tenant}.example")
    new = SubmissionCreate(
        product=product_urn(tenant, slug),
        calculation_id=world.calculations[f"{tenant}/{slug}"],
        verifier="cnverify",
    )
    sub = certification.create_submission(factory(), member, new)
    for who, action in (
        (member, Action.submit),
        (verifier, Action.start_review),
        (verifier, Action.certify),
        (admin, Action.publish),
    ):
        info = certification.transition(factory(), who, sub.id, TransitionRequest(action=action))
    assert info.certificate_id is not None
    return info.certificate_id


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Sign the client in through the sign-in form (keeps the session cookie)."""
    token = csrf_of(client.get("/sign-in").text)
    r = client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": token, "next": "/app"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def sign_out(client: TestClient) -> None:
    client.cookies.clear()
