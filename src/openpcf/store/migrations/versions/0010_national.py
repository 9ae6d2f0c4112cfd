"""The national layer: a green certificate claimable once on the whole platform, issued
certificates imported from the registry, claims displaced by the new uniqueness, and product
rule versions regulators publish, procurement thresholds, and data-centre sites.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CLAIM_COLUMNS = "tenant, certificate_id, product, kwh, generation, claimed_at, claimed_by"


def upgrade() -> None:
    op.create_table(
        "green_certificate_issuances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.String(length=200), nullable=False),
        sa.Column("kwh", sa.Float(), nullable=False),
        sa.Column("generation", sa.String(length=50), nullable=False),
        sa.Column("project", sa.String(length=300), nullable=False),
        sa.Column("province", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("imported_by", sa.String(length=400), nullable=False),
        sa.Column(
            "imported_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("certificate_id"),
    )
    op.create_table(
        "certificate_claim_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=200), nullable=False),
        sa.Column("certificate_id", sa.String(length=200), nullable=False),
        sa.Column("product", sa.String(length=500), nullable=False),
        sa.Column("kwh", sa.Float(), nullable=False),
        sa.Column("generation", sa.String(length=50), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_certificate_claim_conflicts_certificate_id",
        "certificate_claim_conflicts",
        ["certificate_id"],
    )
    # Claims made twice under the old once-per-tenant rule: the earliest stays, the others move.
    later = (
        "FROM certificate_claims c WHERE c.id > (SELECT MIN(f.id) FROM certificate_claims f "
        "WHERE f.certificate_id = c.certificate_id)"
    )
    op.execute(
        f"INSERT INTO certificate_claim_conflicts ({CLAIM_COLUMNS}) SELECT {CLAIM_COLUMNS} {later}"
    )
    op.execute(
        "DELETE FROM certificate_claims WHERE id IN (SELECT id FROM (SELECT c.id "
        f"{later}) AS moved)"
    )
    op.create_table(
        "rule_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=True),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=400), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "rule_id", "version"),
    )
    op.create_index("ix_rule_versions_tenant_id", "rule_versions", ["tenant_id"])
    op.create_index("ix_rule_versions_rule_id", "rule_versions", ["rule_id"])
    op.create_table(
        "procurement_thresholds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=True),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("declared_unit", sa.String(length=100), nullable=False),
        sa.Column("threshold_kg_co2e", sa.Float(), nullable=True),
        sa.Column("grades", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=400), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_procurement_thresholds_tenant_id", "procurement_thresholds", ["tenant_id"])
    op.create_index("ix_procurement_thresholds_rule_id", "procurement_thresholds", ["rule_id"])
    op.add_column(
        "monitoring_sites",
        sa.Column("type", sa.String(length=20), server_default="plant", nullable=False),
    )
    op.create_index(
        "uq_certificate_claims_certificate_id",
        "certificate_claims",
        ["certificate_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_certificate_claims_certificate_id", table_name="certificate_claims")
    with op.batch_alter_table("monitoring_sites") as batch:
        batch.drop_column("type")
    op.drop_table("procurement_thresholds")
    op.drop_table("rule_versions")
    op.drop_table("certificate_claim_conflicts")
    op.drop_table("green_certificate_issuances")
