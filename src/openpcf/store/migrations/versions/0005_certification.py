"""Certification workflow, signed certificates, verifier keys and the ledger.

Tenants get a kind (enterprise, verifier, regulator). The database refuses changes to history
rows, to a certificate's signed document and identity, to public keys (except retiring one)
and to ledger entries (no update, no delete).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SIGNED = "certificate_id, submission_id, tenant_id, verifier_tenant_id, calculation_id, " \
    "product_urn, document, key_fingerprint, issued_at, valid_until"  # fmt: skip

# (table, trigger name, operation, columns of an UPDATE OF or None, message)
IMMUTABLE = [
    ("certification_events", "certification_events_update", "UPDATE", None,
     "the certification history is append-only"),
    ("certification_events", "certification_events_delete", "DELETE", None,
     "the certification history is append-only"),
    ("certification_certificates", "certification_certificates_update", "UPDATE", _SIGNED,
     "a signed certificate is immutable; revoke it and issue a new one"),
    ("certification_certificates", "certification_certificates_delete", "DELETE", None,
     "a certificate is never deleted; revoke it"),
    ("signing_keys", "signing_keys_update", "UPDATE", "fingerprint, tenant_id, owner, public_key",
     "a public key is immutable; retire it and create a new one"),
    ("signing_keys", "signing_keys_delete", "DELETE", None,
     "a public key is never deleted (old certificates are checked with it); retire it"),
    ("ledger_entries", "ledger_entries_update", "UPDATE", None, "the ledger is append-only"),
    ("ledger_entries", "ledger_entries_delete", "DELETE", None, "the ledger is append-only"),
]  # fmt: skip


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _tenant(name: str = "tenant_id") -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(20), server_default="enterprise", nullable=False)
        )
    op.create_table(
        "certification_submissions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        _tenant(),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("products.id"), nullable=False),
        sa.Column("calculation_id", sa.Integer(), sa.ForeignKey("calculations.id"), nullable=False),
        _tenant("verifier_tenant_id"),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("sector", sa.String(100), nullable=True),
        sa.Column("created_by", sa.String(400), nullable=False),
        _created_at(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )
    for column in ("tenant_id", "product_id", "verifier_tenant_id"):
        op.create_index(
            f"ix_certification_submissions_{column}", "certification_submissions", [column]
        )
    op.create_table(
        "certification_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "submission_id",
            sa.Integer(),
            sa.ForeignKey("certification_submissions.id"),
            nullable=False,
        ),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(400), nullable=False),
        sa.Column("actor_tenant", sa.String(63), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_certification_events_submission_id", "certification_events", ["submission_id"]
    )
    op.create_table(
        "certification_certificates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("certificate_id", sa.String(40), nullable=False, unique=True),
        sa.Column(
            "submission_id",
            sa.Integer(),
            sa.ForeignKey("certification_submissions.id"),
            nullable=False,
            unique=True,
        ),
        _tenant(),
        _tenant("verifier_tenant_id"),
        sa.Column("calculation_id", sa.Integer(), sa.ForeignKey("calculations.id"), nullable=False),
        sa.Column("product_urn", sa.String(300), nullable=False),
        sa.Column("product_name", sa.String(300), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("sector", sa.String(100), nullable=True),
        sa.Column("province", sa.String(20), nullable=True),
        sa.Column("declared_unit", sa.String(100), nullable=False),
        sa.Column("pcf", sa.Float(), nullable=False),
        sa.Column("key_fingerprint", sa.String(80), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(400), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
    )
    for column in ("tenant_id", "verifier_tenant_id"):
        op.create_index(
            f"ix_certification_certificates_{column}", "certification_certificates", [column]
        )
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fingerprint", sa.String(80), nullable=False, unique=True),
        _tenant(),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("public_key", sa.String(100), nullable=False),
        _created_at(),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_signing_keys_tenant_id", "signing_keys", ["tenant_id"])
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False, unique=True),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(400), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.UniqueConstraint("prev_hash"),
    )
    _refuse_changes()


def _refuse_changes() -> None:
    """Triggers that make the database itself refuse changes (openpcf_refuse_change is 0002's)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, name, operation, columns, message in IMMUTABLE:
        of = f" OF {columns}" if columns else ""
        if postgres:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation}{of} ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION openpcf_refuse_change('{message}')"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation}{of} ON {table} FOR EACH ROW "
                f"BEGIN SELECT RAISE(ABORT, 'openpcf: {message}'); END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, name, *_ in IMMUTABLE:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
    for table in ("ledger_entries", "signing_keys", "certification_certificates",
                  "certification_events", "certification_submissions"):  # fmt: skip
        op.drop_table(table)
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("kind")
