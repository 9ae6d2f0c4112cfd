"""Security: server-side web sessions, failed sign-ins (throttling), signed ledger checkpoints,
registered PACT callback URLs of API clients and tenants, meters' public keys.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# (table, trigger name, operation, message); the function openpcf_refuse_change is 0002's.
IMMUTABLE = [
    ("ledger_checkpoints", "ledger_checkpoints_update", "UPDATE",
     "ledger checkpoints are immutable"),
    ("ledger_checkpoints", "ledger_checkpoints_delete", "DELETE",
     "ledger checkpoints are append-only"),
]  # fmt: skip


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.add_column("api_clients", sa.Column("callback_url", sa.String(1000), nullable=True))
    op.add_column("tenants", sa.Column("pact_callback_url", sa.String(1000), nullable=True))
    op.add_column("monitoring_meters", sa.Column("public_key", sa.String(60), nullable=True))
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(300), nullable=True),
        _created_at(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(400), nullable=True),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    for column in ("email", "address", "at"):
        op.create_index(f"ix_sign_in_failures_{column}", "sign_in_failures", [column])
    op.create_table(
        "ledger_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("origin", sa.String(300), nullable=False),
        sa.Column("key_fingerprint", sa.String(100), nullable=False),
        sa.Column("public_key", sa.String(100), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
    )
    op.create_index("ix_ledger_checkpoints_size", "ledger_checkpoints", ["size"])
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, name, operation, message in IMMUTABLE:
        if postgres:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION openpcf_refuse_change('{message}')"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW "
                f"BEGIN SELECT RAISE(ABORT, 'openpcf: {message}'); END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, name, *_ in IMMUTABLE:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
    for table in ("ledger_checkpoints", "sign_in_failures", "web_sessions"):
        op.drop_table(table)
    op.drop_column("monitoring_meters", "public_key")
    op.drop_column("tenants", "pact_callback_url")
    op.drop_column("api_clients", "callback_url")
