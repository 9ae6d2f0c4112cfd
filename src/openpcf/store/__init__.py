"""Persistence: SQLAlchemy 2 models and repositories. SQLite by default, PostgreSQL in production."""
