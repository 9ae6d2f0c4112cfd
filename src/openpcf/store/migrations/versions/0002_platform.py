"""Platform: tenants, users, API clients, tokens, products, model versions, factor-set versions,
calculations, supplier requests and the audit log; the database refuses changes to what is
immutable (published factor-set versions, model versions, calculations, audit entries).

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (table, trigger name, operation, condition on OLD or None, message)
IMMUTABLE = [
    ("factor_set_versions", "factor_set_published_update", "UPDATE", "OLD.published_at IS NOT NULL",
     "published factor set versions are immutable; publish a new version"),
    ("factor_set_versions", "factor_set_published_delete", "DELETE", "OLD.published_at IS NOT NULL",
     "published factor set versions are immutable; publish a new version"),
    ("model_versions", "model_versions_update", "UPDATE", None,
     "model versions are immutable; upload a new version"),
    ("model_versions", "model_versions_delete", "DELETE", None,
     "model versions are immutable; upload a new version"),
    ("calculations", "calculations_update", "UPDATE", None, "calculations are immutable"),
    ("audit_log", "audit_log_update", "UPDATE", None, "the audit log is append-only"),
    ("audit_log", "audit_log_delete", "DELETE", None, "the audit log is append-only"),
]  # fmt: skip


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _tenant_id() -> sa.Column:
    return sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False)


def _index(table: str, *columns: str, name: str | None = None) -> None:
    op.create_index(name or f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(63), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        _created_at(),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        _tenant_id(),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=True),
        _created_at(),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    )
    _index("users", "tenant_id")
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), primary_key=True),
        _tenant_id(),
        sa.Column("client_id", sa.String(100), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(300), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        _created_at(),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    _index("api_clients", "tenant_id")
    op.create_table(
        "personal_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(20), nullable=False),
        _created_at(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    _index("personal_tokens", "user_id")
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("api_client_id", sa.Integer(), sa.ForeignKey("api_clients.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scope", sa.String(500), nullable=True),
        _created_at(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    _index("access_tokens", "api_client_id")
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), primary_key=True),
        _tenant_id(),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("urn", sa.String(300), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("visibility", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        _created_at(),
        sa.UniqueConstraint("tenant_id", "slug"),
    )
    _index("products", "tenant_id")
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("products.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        _created_at(),
        sa.UniqueConstraint("product_id", "number"),
    )
    _index("model_versions", "product_id")
    op.create_table(
        "factor_set_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _tenant_id(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        _created_at(),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(320), nullable=True),
        sa.UniqueConstraint("tenant_id", "name", "version"),
    )
    _index("factor_set_versions", "tenant_id")
    op.create_table(
        "calculations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        _tenant_id(),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("products.id"), nullable=False),
        sa.Column(
            "model_version_id", sa.Integer(), sa.ForeignKey("model_versions.id"), nullable=False
        ),
        sa.Column("profile", sa.String(50), nullable=False),
        sa.Column("gwp", sa.String(10), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("factor_sets", sa.JSON(), nullable=False),
        sa.Column("model_versions", sa.JSON(), nullable=False),
        sa.Column("pcf", sa.Float(), nullable=False),
        sa.Column("declared_unit", sa.String(100), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("software_version", sa.String(50), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        _created_at(),
    )
    _index("calculations", "tenant_id")
    _index("calculations", "model_version_id")
    _index("calculations", "product_id", "created_at", name="ix_calculations_product_created")
    op.create_table(
        "supplier_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        _tenant_id(),
        sa.Column("requested_by", sa.String(320), nullable=False),
        sa.Column("supplier_host", sa.String(300), nullable=False),
        sa.Column("product_id", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        _created_at(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )
    _index("supplier_requests", "tenant_id")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant", sa.String(63), nullable=True),
        sa.Column("actor", sa.String(400), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("entity_id", sa.String(100), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    _index("audit_log", "tenant", "at", name="ix_audit_log_tenant_at")
    _refuse_changes()


def _refuse_changes() -> None:
    """Triggers that make the database itself refuse changes to immutable rows."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION openpcf_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'openpcf: %', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation'; "
            "END $$"
        )
        for table, name, operation, condition, message in IMMUTABLE:
            when = f" WHEN ({condition})" if condition else ""
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW{when} "
                f"EXECUTE FUNCTION openpcf_refuse_change('{message}')"
            )
        return
    for table, name, operation, condition, message in IMMUTABLE:
        when = f" WHEN {condition}" if condition else ""
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW{when} "
            f"BEGIN SELECT RAISE(ABORT, 'openpcf: {message}'); END"
        )


def downgrade() -> None:
    for table, name, *_ in IMMUTABLE:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (
            f" ON {table}" if op.get_bind().dialect.name == "postgresql" else ""
        ))  # fmt: skip
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS openpcf_refuse_change()")
    for table in ("audit_log", "supplier_requests", "calculations", "factor_set_versions",
                  "model_versions", "products", "access_tokens", "personal_tokens",
                  "api_clients", "users", "tenants"):  # fmt: skip
        op.drop_table(table)
