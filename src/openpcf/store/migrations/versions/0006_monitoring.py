"""Plant monitoring: meters, readings, rejected readings, aggregates.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# 64-bit ids; SQLite's rowid alias must be declared INTEGER to autoincrement.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _tenant_id() -> sa.Column:
    return sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False)


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _kg() -> list[sa.Column]:
    return [
        sa.Column(c, sa.Float(), nullable=False) for c in ("kg_co2e", "kg_co2", "kg_ch4", "kg_n2o")
    ]


def upgrade() -> None:
    op.create_table(
        "monitoring_sites",
        sa.Column("id", sa.Integer(), primary_key=True),
        _tenant_id(),
        sa.Column("slug", sa.String(63), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("region", sa.String(10), nullable=False),
        sa.Column("timezone", sa.String(60), nullable=False),
        sa.Column("ets_sector", sa.String(20), nullable=True),
        sa.Column("alert_above", sa.Float(), nullable=True),
        _created_at(),
        sa.UniqueConstraint("tenant_id", "slug"),
    )
    op.create_index("ix_monitoring_sites_tenant_id", "monitoring_sites", ["tenant_id"])
    op.create_table(
        "monitoring_meters",
        sa.Column("id", sa.Integer(), primary_key=True),
        _tenant_id(),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("monitoring_sites.id"), nullable=False),
        sa.Column("slug", sa.String(63), nullable=False),
        sa.Column("equipment", sa.String(200), nullable=False),
        sa.Column("carrier", sa.String(30), nullable=False),
        sa.Column("unit", sa.String(30), nullable=False),
        sa.Column("reading", sa.String(20), nullable=False),
        sa.Column("factor", sa.JSON(), nullable=False),
        sa.Column("rollover", sa.Float(), nullable=True),
        sa.Column("alert_above", sa.Float(), nullable=True),
        _created_at(),
        sa.UniqueConstraint("site_id", "slug"),
    )
    op.create_index("ix_monitoring_meters_tenant_id", "monitoring_meters", ["tenant_id"])
    op.create_index("ix_monitoring_meters_site_id", "monitoring_meters", ["site_id"])
    op.create_table(
        "monitoring_allowances",
        sa.Column("id", sa.Integer(), primary_key=True),
        _tenant_id(),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("monitoring_sites.id"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("tonnes_co2", sa.Float(), nullable=False),
        sa.Column("source", sa.String(500), nullable=True),
        _created_at(),
        sa.UniqueConstraint("site_id", "year"),
    )
    op.create_index("ix_monitoring_allowances_tenant_id", "monitoring_allowances", ["tenant_id"])
    op.create_table(
        "monitoring_readings",
        # Keyed by (meter, time), no surrogate id: one index less per reading. tenant_id is
        # the meter's, copied for tenant-scoped queries, and has no foreign key of its own: a
        # per-row check costs PostgreSQL more than the insert (see models_monitoring.py).
        sa.Column(
            "meter_id", sa.Integer(), sa.ForeignKey("monitoring_meters.id"), primary_key=True
        ),
        sa.Column("ts_ms", sa.BigInteger(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        *_kg(),
        sa.Column("factor", sa.String(200), nullable=False),
        sa.Column("note", sa.String(20), nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "monitoring_rejected",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("meter", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(1000), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_monitoring_rejected_tenant_site", "monitoring_rejected", ["tenant", "site"])
    op.create_table(
        "monitoring_aggregates",
        sa.Column("meter_id", sa.Integer(), sa.ForeignKey("monitoring_meters.id"), nullable=False),
        sa.Column("resolution", sa.String(4), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        *_kg(),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("last_ts_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("meter_id", "resolution", "start_ms"),
    )


def downgrade() -> None:
    for table in (
        "monitoring_aggregates",
        "monitoring_rejected",
        "monitoring_readings",
        "monitoring_allowances",
        "monitoring_meters",
        "monitoring_sites",
    ):
        op.drop_table(table)
