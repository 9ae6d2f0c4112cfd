"""Engine and sessions for the configured database."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker

from openpcf.config import database_url
from openpcf.store.models import Base


@lru_cache(maxsize=8)
def engine_for(url: str | None = None) -> Engine:
    url = url or database_url()
    engine = create_engine(url)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    # Until migrations arrive with the platform store, the schema is created when missing.
    Base.metadata.create_all(engine)
    return engine


def sessions(url: str | None = None) -> sessionmaker:
    return sessionmaker(engine_for(url), expire_on_commit=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
