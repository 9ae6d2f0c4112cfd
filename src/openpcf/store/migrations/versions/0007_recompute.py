"""Batch recomputation: factor dependencies of stored calculations, recompute runs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# 64-bit ids; SQLite's rowid alias must be declared INTEGER to autoincrement.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# (table, trigger name, operation, message); the function openpcf_refuse_change is 0002's.
IMMUTABLE = [
    ("recompute_factor_sets", "recompute_factor_sets_update", "UPDATE",
     "recorded factor sets are immutable"),
    ("recompute_factors", "recompute_factors_update", "UPDATE", "recorded factors are immutable"),
    ("calculation_usage", "calculation_usage_update", "UPDATE", "calculation usage is immutable"),
    ("recompute_runs", "recompute_runs_update", "UPDATE", "recompute runs are immutable"),
    ("recompute_runs", "recompute_runs_delete", "DELETE", "recompute runs are append-only"),
    ("recomputed_footprints", "recomputed_footprints_update", "UPDATE",
     "recomputed footprints are immutable; run a new recomputation"),
    ("recomputed_footprints", "recomputed_footprints_delete", "DELETE",
     "recomputed footprints are append-only"),
]  # fmt: skip


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _tenant_id(nullable: bool = False) -> sa.Column:
    return sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "recompute_factor_sets",
        sa.Column("id", sa.Integer(), primary_key=True),
        _tenant_id(nullable=True),
        sa.Column("set_name", sa.String(200), nullable=False),
        sa.Column("set_version", sa.String(50), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        _created_at(),
        sa.UniqueConstraint("set_name", "set_version", "sha256"),
    )
    op.create_index("ix_recompute_factor_sets_tenant_id", "recompute_factor_sets", ["tenant_id"])
    op.create_table(
        "recompute_factors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "set_id", sa.Integer(), sa.ForeignKey("recompute_factor_sets.id"), nullable=False
        ),
        sa.Column("factor_id", sa.String(300), nullable=False),
        sa.Column("factor", sa.JSON(), nullable=False),
        sa.UniqueConstraint("set_id", "factor_id"),
    )
    op.create_index("ix_recompute_factors_set_id", "recompute_factors", ["set_id"])
    op.create_table(
        "calculation_usage",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("calculation_id", sa.Integer(), sa.ForeignKey("calculations.id"), nullable=False),
        _tenant_id(),
        sa.Column(
            "set_id", sa.Integer(), sa.ForeignKey("recompute_factor_sets.id"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("usage", sa.LargeBinary(), nullable=False),
        sa.Column("electricity", sa.Boolean(), nullable=False),
        sa.Column("linear", sa.Boolean(), nullable=False),
        sa.Column("grade_divisor", sa.Float(), nullable=True),
        sa.Column("pcf", sa.Float(), nullable=False),
        sa.Column("profile", sa.String(50), nullable=False),
        sa.Column("gwp", sa.String(10), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.UniqueConstraint("calculation_id", "set_id"),
    )
    op.create_index("ix_calculation_usage_calculation_id", "calculation_usage", ["calculation_id"])
    op.create_index("ix_calculation_usage_set_id", "calculation_usage", ["set_id"])
    op.create_table(
        "recompute_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        _tenant_id(nullable=True),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("factor_set", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("recomputed", sa.Integer(), nullable=False),
        sa.Column("change_columns", sa.JSON(), nullable=False),
        sa.Column("scheduler", sa.String(300), nullable=False),
        sa.Column("created_by", sa.String(400), nullable=False),
        _created_at(),
    )
    op.create_index("ix_recompute_runs_tenant_id", "recompute_runs", ["tenant_id"])
    op.create_index("ix_recompute_runs_label", "recompute_runs", ["label"])
    op.create_table(
        "recomputed_footprints",
        # no foreign keys: see models_recompute.RecomputedFootprint
        sa.Column("run_id", sa.Integer(), primary_key=True),
        sa.Column("calculation_id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("pcf", sa.Float(), nullable=False),
        sa.Column("previous_pcf", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(50), nullable=True),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("changes", sa.LargeBinary(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sqlite_with_rowid=False,  # the key (run, calculation) is the table: appended in order
    )
    _refuse_changes()


def _refuse_changes() -> None:
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
    for table in ("recomputed_footprints", "recompute_runs", "calculation_usage",
                  "recompute_factors", "recompute_factor_sets"):  # fmt: skip
        op.drop_table(table)
