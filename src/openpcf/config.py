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


def token_ttl() -> int:
    """OPENPCF_TOKEN_TTL: seconds an access token from POST /auth/token lives. Default: 3600."""
    return int(os.environ.get("OPENPCF_TOKEN_TTL") or 3600)


def max_model_bytes() -> int:
    """OPENPCF_MAX_MODEL_BYTES: largest model document the API accepts. Default: 2 MiB."""
    return int(os.environ.get("OPENPCF_MAX_MODEL_BYTES") or 2 * 1024 * 1024)


def api_threads() -> int:
    """OPENPCF_API_THREADS: worker threads of an API process for blocking work. Default: 8."""
    return int(os.environ.get("OPENPCF_API_THREADS") or 8)
