"""Platform commands: tenants, users, API clients, the store's schema, and the API server.

These act on the configured database (OPENPCF_DATABASE_URL, default SQLite in OPENPCF_HOME)
as the operator running them; every write is in the audit log under `operator:<login>`.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from openpcf import config
from openpcf.cli.common import FormatOption, OutputFormat, err, fail, out, platform_sessions
from openpcf.domain.errors import OpenpcfError
from openpcf.domain.platform import Role, TenantKind
from openpcf.services.platform import accounts

if TYPE_CHECKING:
    from openpcf.services.platform.demo import DemoCredentials

tenants_app = typer.Typer(help="Tenants (organisations) of the platform.", no_args_is_help=True)
users_app = typer.Typer(help="Users of a tenant and their personal tokens.", no_args_is_help=True)
clients_app = typer.Typer(
    help="OAuth2 API clients of a tenant (client credentials).", no_args_is_help=True
)
store_app = typer.Typer(help="The platform database (schema migrations).", no_args_is_help=True)


class TlsMode(StrEnum):
    self_signed = "self-signed"


@tenants_app.command("create")
def tenants_create(
    name: Annotated[str, typer.Argument(help="Short name: lower-case letters, digits, '-'.")],
    display_name: Annotated[str | None, typer.Option(help="Full name of the organisation.")] = None,
    kind: Annotated[
        TenantKind,
        typer.Option(help="enterprise, verifier (a verification body) or regulator."),
    ] = TenantKind.enterprise,
    format: FormatOption = OutputFormat.table,
) -> None:
    """Create a tenant; its name becomes part of its product URNs."""
    try:
        t = accounts.create_tenant(
            platform_sessions()(), accounts.operator(), name, display_name, kind
        )
    except OpenpcfError as exc:
        fail(exc)
        return
    if format is OutputFormat.json:
        sys.stdout.write(t.model_dump_json(indent=2) + "\n")
    else:
        out.print(f"{t.kind} tenant [bold]{escape(t.slug)}[/] created ({escape(t.name)})")


@tenants_app.command("list")
def tenants_list(format: FormatOption = OutputFormat.table) -> None:
    """All tenants."""
    rows = accounts.list_tenants(platform_sessions()())
    if format is OutputFormat.json:
        sys.stdout.write(json.dumps([t.model_dump(mode="json") for t in rows], indent=2) + "\n")
        return
    table = Table()
    for col in ("tenant", "name", "kind", "created"):
        table.add_column(col)
    for t in rows:
        created = f"{t.created_at:%Y-%m-%d}" if t.created_at else ""
        table.add_row(t.slug, t.name, t.kind, created)
    out.print(table)


@users_app.command("create")
def users_create(
    tenant: Annotated[str, typer.Argument(help="The user's tenant.")],
    email: Annotated[str, typer.Argument(help="The user's e-mail address.")],
    role: Annotated[Role, typer.Option(help="admin, member or verifier.")] = Role.member,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a password (for web sign-in) from stdin.")
    ] = False,
    expires_days: Annotated[
        int, typer.Option(help="Days until the personal token expires; 0: never.")
    ] = 90,
    format: FormatOption = OutputFormat.table,
) -> None:
    """Create a user and print a personal token (shown once: only its hash is stored)."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        new = accounts.create_user(
            platform_sessions()(),
            accounts.operator(),
            tenant,
            email,
            role,
            password=password,
            token_days=expires_days or None,
        )
    except OpenpcfError as exc:
        fail(exc)
        return
    if format is OutputFormat.json:
        sys.stdout.write(new.model_dump_json(indent=2) + "\n")
        return
    expires = f"{new.token.expires_at:%Y-%m-%d}" if new.token.expires_at else "never"
    out.print(
        f"user [bold]{escape(new.user.email)}[/] ({new.user.role}) created in tenant "
        f"{escape(tenant)}"
    )
    out.print("personal token (shown once; expires " + expires + "):")
    print(new.token.token, flush=True)


@clients_app.command("create")
def clients_create(
    tenant: Annotated[str, typer.Argument(help="The client's tenant.")],
    name: Annotated[str, typer.Option(help="What the client is, e.g. 'ERP'.")] = "api client",
    role: Annotated[Role, typer.Option(help="Role the client acts with.")] = Role.member,
    format: FormatOption = OutputFormat.table,
) -> None:
    """Create OAuth2 client credentials; the secret is shown once. Exchange them for a token:
    POST /auth/token with HTTP Basic client_id:client_secret, grant_type=client_credentials."""
    try:
        creds = accounts.create_client(
            platform_sessions()(), accounts.operator(), tenant, name, role
        )
    except OpenpcfError as exc:
        fail(exc)
        return
    if format is OutputFormat.json:
        sys.stdout.write(creds.model_dump_json(indent=2) + "\n")
        return
    out.print(
        f"API client [bold]{escape(name)}[/] ({creds.role}) created in tenant "
        f"{escape(tenant)}; the secret is shown once"
    )
    print(f"client_id     {creds.client_id}\nclient_secret {creds.client_secret}", flush=True)


@store_app.command("upgrade")
def store_upgrade() -> None:
    """Bring the database schema to the latest migration (also done on first use)."""
    from openpcf.store.db import head_revision, new_engine, upgrade

    url = config.database_url()
    engine = new_engine(url)
    try:
        applied = upgrade(engine)
    finally:
        engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    if applied:
        out.print(
            f"{escape(where)}: applied {', '.join(applied)}; now at {head_revision()}",
            soft_wrap=True,
        )
    else:
        out.print(
            f"{escape(where)}: already at the latest revision {head_revision()}", soft_wrap=True
        )


def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Load demo tenants, users, products and footprints.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    certfile: Annotated[Path | None, typer.Option(help="TLS certificate (PEM).")] = None,
    keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    tls: Annotated[
        TlsMode | None,
        typer.Option(help="'self-signed': make a local certificate in OPENPCF_HOME/tls/."),
    ] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes (one per core serves the most).")
    ] = 1,
) -> None:
    """Run the REST API (docs at /docs, OpenAPI at /openapi.json) on the configured database.

    HTTPS with --certfile/--keyfile or --tls self-signed; plain HTTP otherwise (never redirected).
    """
    import uvicorn

    from openpcf.api.app import create_app
    from openpcf.services.platform.demo import load_demo
    from openpcf.services.platform.tls import self_signed_certificate

    if (certfile is None) != (keyfile is None):
        err.print("[bold red]error:[/] give both --certfile and --keyfile")
        raise typer.Exit(1)
    if tls is not None and certfile is not None:
        err.print("[bold red]error:[/] --tls self-signed and --certfile exclude each other")
        raise typer.Exit(1)
    if tls is TlsMode.self_signed:
        local = self_signed_certificate(config.home() / "tls", host)
        certfile, keyfile = local.certfile, local.keyfile
        made = "created" if local.created else "reused"
        print(
            f"TLS: self-signed certificate {certfile} ({made}); trust it with "
            f"`curl --cacert {certfile}`",
            flush=True,
        )
    scheme = "https" if certfile else "http"
    shown = f"[{host}]" if ":" in host else host
    base = f"{scheme}://{shown}:{port}"
    url = config.database_url()
    try:
        factory = platform_sessions()
        if demo:
            _print_demo(load_demo(factory), base)
    except OpenpcfError as exc:
        fail(exc)
        return
    print(f"database: {_redacted(url)}", flush=True)
    print(f"openpcf API on {base}  (docs {base}/docs, OpenAPI {base}/openapi.json)", flush=True)
    options = {
        "host": host,
        "port": port,
        "ssl_certfile": str(certfile) if certfile else None,
        "ssl_keyfile": str(keyfile) if keyfile else None,
        "access_log": access_log,
        "log_level": "info",
    }
    if workers == 1:
        uvicorn.run(create_app(url), **options)
    else:  # each worker process builds the app on the same database
        os.environ["OPENPCF_DATABASE_URL"] = url
        uvicorn.run("openpcf.api.app:create_app", factory=True, workers=workers, **options)


def _print_demo(creds: DemoCredentials, base: str) -> None:
    from openpcf.services.platform.demo import DEMO_PASSWORD

    lines = ["Demo data loaded. Credentials (new on every start; earlier ones stop working):"]
    for tenant, email, role, token in creds.tokens:
        lines.append(f"  token   {tenant:<9} {email:<24} {role.value:<9} {token}")
    for c in creds.clients:
        lines.append(
            f"  client  {c.tenant:<9} client_id {c.client_id}  client_secret {c.client_secret}"
        )
    lines.append("Footprints:")
    for urn, profile, calc_id, pcf, unit in creds.calculations:
        lines.append(
            f"  {urn:<46} {profile:<11} {pcf:>12,.4f} kg CO2e / {unit:<6} /calculations/{calc_id}"
        )
    for cert_id in creds.certificates:
        lines.append(
            f"Certified and published: {base}/p/{cert_id}  (API /registry/certificates/{cert_id})"
        )
    lines.append(f"Web UI: {base}/sign-in  (any user above, password {DEMO_PASSWORD})")
    cacert = " --cacert <cert.pem>" if base.startswith("https") else ""
    lines.append(f"Try: curl{cacert} -H 'Authorization: Bearer <token>' {base}/products")
    print("\n".join(lines), flush=True)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
