"""Tenants, users and clients for the API tests, made through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files

from openpcf.domain.platform import Role, TenantKind
from openpcf.services.platform import accounts
from openpcf.store.db import sessions

DEMO = files("openpcf.demo")


@dataclass
class World:
    url: str
    tokens: dict[str, str] = field(default_factory=dict)  # "tenant/role" -> personal token
    clients: dict[str, tuple[str, str]] = field(default_factory=dict)  # tenant -> (id, secret)

    def auth(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[key]}"}


def make_world(url: str, tenants: tuple[str, ...] = ("acme", "other")) -> World:
    factory = sessions(url)
    op = accounts.operator("tests")
    world = World(url)
    for tenant in tenants:
        accounts.create_tenant(factory(), op, tenant, tenant.title())
        for role in Role:
            new = accounts.create_user(
                factory(), op, tenant, f"{role.value}@{tenant}.example", role
            )
            world.tokens[f"{tenant}/{role.value}"] = new.token.token
        creds = accounts.create_client(factory(), op, tenant, "erp")
        world.clients[tenant] = (creds.client_id, creds.client_secret)
    return world


def demo_model(name: str, tenant: str = "demo") -> str:
    """A packaged demo model, its URNs moved to `tenant`."""
    return (
        DEMO.joinpath(name)
        .read_text("utf-8")
        .replace("urn:openpcf:product:demo:", f"urn:openpcf:product:{tenant}:")
    )


def add_tenant(
    world: World, slug: str, kind: TenantKind, roles: tuple[Role, ...], password: str | None = None
) -> None:
    """Another tenant of `kind` with a user per role (<role>@<slug>.example), tokens in `world`."""
    factory = sessions(world.url)
    op = accounts.operator("tests")
    accounts.create_tenant(factory(), op, slug, slug.title(), kind=kind)
    for role in roles:
        new = accounts.create_user(
            factory(), op, slug, f"{role.value}@{slug}.example", role, password=password
        )
        world.tokens[f"{slug}/{role.value}"] = new.token.token


def acknowledgements(client, sub: str, headers: dict[str, str]) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """Every open finding the evidence of submission `sub` lists, acknowledged with a comment
    (certifying requires one per finding)."""
    evidence = client.get(f"/certification/submissions/{sub}/evidence", headers=headers)
    assert evidence.status_code == 200, evidence.text
    return [{"finding": f["id"], "comment": "seen in review"} for f in evidence.json()["findings"]]
