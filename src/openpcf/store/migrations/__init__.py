"""Alembic migrations of the openpcf store, run by `openpcf.store.db.upgrade`."""
