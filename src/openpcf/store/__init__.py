"""Persistence: SQLAlchemy 2 models, Alembic migrations and the audit log.
SQLite by default, PostgreSQL in production."""

from openpcf.store import audit as _audit  # noqa: F401  (registers the audit listeners)
