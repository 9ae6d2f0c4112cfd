"""Configuration from `OPENPCF_*` environment variables, each with a documented default."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """OPENPCF_HOME: where the embedded database lives. Default: ~/.openpcf."""
    return Path(os.environ.get("OPENPCF_HOME") or Path.home() / ".openpcf")


def database_url() -> str:
    """OPENPCF_DATABASE_URL: a SQLAlchemy URL (postgresql+psycopg://...). Default: SQLite in home."""
    url = os.environ.get("OPENPCF_DATABASE_URL")
    if url:
        return url
    path = home() / "openpcf.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def tenant() -> str:
    """OPENPCF_TENANT: the tenant the command line acts for. Default: local."""
    return os.environ.get("OPENPCF_TENANT") or "local"
