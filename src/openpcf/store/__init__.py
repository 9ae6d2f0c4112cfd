"""Persistence: SQLAlchemy 2 models, Alembic migrations and the audit log.
SQLite by default, PostgreSQL in production."""

from openpcf.store import audit as _audit  # noqa: F401  (registers the audit listeners)

# Each feature's tables live in a module of their own (importing `models`, never imported by it);
# importing them here puts them all in `Base.metadata` whichever store module is imported first,
# which the migrations and their agreement test compare against.
from openpcf.store import (
    models_certification,  # noqa: F401
    models_monitoring,  # noqa: F401
    models_pact,  # noqa: F401
    models_policy,  # noqa: F401
    models_recompute,  # noqa: F401
)
