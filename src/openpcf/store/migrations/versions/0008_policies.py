"""Policy and standards tracker: immutable versions of documents written by regulators.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (table, trigger name, operation, message); the function openpcf_refuse_change is 0002's.
IMMUTABLE = [
    ("policy_versions", "policy_versions_update", "UPDATE",
     "policy versions are immutable; write a new version"),
    ("policy_versions", "policy_versions_delete", "DELETE", "policy versions are append-only"),
]  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("change_note", sa.Text(), server_default="", nullable=False),
        sa.Column("changed_by", sa.String(400), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("slug", "version"),
    )
    op.create_index("ix_policy_versions_slug", "policy_versions", ["slug"])
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
    op.drop_table("policy_versions")
