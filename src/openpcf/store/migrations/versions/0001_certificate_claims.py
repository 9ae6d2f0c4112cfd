"""Certificate claims, as create_all made them before migrations.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=200), nullable=False),
        sa.Column("certificate_id", sa.String(length=200), nullable=False),
        sa.Column("product", sa.String(length=500), nullable=False),
        sa.Column("kwh", sa.Float(), nullable=False),
        sa.Column("generation", sa.String(length=50), nullable=False),
        sa.Column(
            "claimed_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("claimed_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant", "certificate_id"),
    )


def downgrade() -> None:
    op.drop_table("certificate_claims")
