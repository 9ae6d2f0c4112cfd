"""PACT exchange: product classifications (UN CPC) and outgoing event deliveries.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("cpc", sa.String(10), nullable=True))
        batch.add_column(sa.Column("classifications", sa.JSON(), nullable=True))
    op.create_table(
        "pact_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("version", sa.String(1), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target_url", sa.String(1000), nullable=False),
        sa.Column("requested_by", sa.String(400), nullable=False),
        sa.Column("requester_role", sa.String(20), nullable=False),
        sa.Column("request_event_id", sa.String(300), nullable=True),
        sa.Column("criteria", sa.JSON(), nullable=True),
        sa.Column("event", sa.JSON(), nullable=True),
        sa.Column("pf_ids", sa.JSON(), nullable=True),
        sa.Column("product_ids", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_pact_deliveries_tenant_id", "pact_deliveries", ["tenant_id"])
    op.create_index(
        "ix_pact_deliveries_status_next", "pact_deliveries", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_table("pact_deliveries")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("classifications")
        batch.drop_column("cpc")
