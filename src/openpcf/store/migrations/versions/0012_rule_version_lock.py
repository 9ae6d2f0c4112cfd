"""A published rule version never changes, whoever writes: database triggers refuse an UPDATE of
its content and any DELETE. Calculations and certificates cite the version they ran under, so
the text behind the citation must stay. The one change the application makes to a published
version, setting its withdrawal date (once), stays allowed; drafts stay editable.

Published factor-set versions (0002), ledger entries (0005) and policy versions (0008) were
already protected by triggers and are left as they are.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLE = "rule_versions"
# Every column but `withdrawn_on`: a published version's content, status and provenance.
CONTENT = ("id", "kind", "tenant_id", "rule_id", "version", "document", "sha256", "valid_from",
           "created_by", "created_at", "published_at", "published_by")  # fmt: skip
UPDATE_MESSAGE = (
    "a published rule version never changes (only its withdrawal date may be set, once); "
    "upload a new version"
)
DELETE_MESSAGE = "a published rule version is never deleted; withdraw it"
# (trigger, operation, message)
TRIGGERS = [
    ("rule_versions_published_update", "UPDATE", UPDATE_MESSAGE),
    ("rule_versions_published_delete", "DELETE", DELETE_MESSAGE),
]
FUNCTION = "openpcf_refuse_row_change"


def _changed(postgres: bool) -> str:
    """SQL true when the update changes a content column, or a withdrawal date already set."""
    if postgres:  # `json` has no equality operator: compare the document as text
        distinct = [
            f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text"
            if c == "document"
            else f"NEW.{c} IS DISTINCT FROM OLD.{c}"
            for c in CONTENT
        ]
        withdrawn = "NEW.withdrawn_on IS DISTINCT FROM OLD.withdrawn_on"
    else:
        distinct = [f"NEW.{c} IS NOT OLD.{c}" for c in CONTENT]
        withdrawn = "NEW.withdrawn_on IS NOT OLD.withdrawn_on"
    return " OR ".join([*distinct, f"(OLD.withdrawn_on IS NOT NULL AND {withdrawn})"])


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    conditions = {
        "UPDATE": f"OLD.published_at IS NOT NULL AND ({_changed(postgres)})",
        "DELETE": "OLD.published_at IS NOT NULL",
    }
    if postgres:
        # 0002's openpcf_refuse_change names no row; this one names the table and the id
        op.execute(
            f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'openpcf: % row id %: %', TG_TABLE_NAME, OLD.id, TG_ARGV[0] "
            "USING ERRCODE = 'integrity_constraint_violation'; END $$"
        )
    for name, operation, message in TRIGGERS:
        if postgres:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {TABLE} FOR EACH ROW "
                f"WHEN ({conditions[operation]}) EXECUTE FUNCTION {FUNCTION}('{message}')"
            )
        else:  # SQLite's RAISE takes a literal only (before 3.48): the table, not the id
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {TABLE} FOR EACH ROW "
                f"WHEN {conditions[operation]} "
                f"BEGIN SELECT RAISE(ABORT, 'openpcf: {TABLE}: {message}'); END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {TABLE}" if postgres else ""))
    if postgres:
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
