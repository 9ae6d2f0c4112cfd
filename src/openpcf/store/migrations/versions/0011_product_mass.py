"""A product's mass per declared unit (PACT productMassPerDeclaredUnit), for products declared
in a unit that is not a mass: without it their footprints are not served over PACT.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("products", sa.Column("mass_per_declared_unit_kg", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("mass_per_declared_unit_kg")
