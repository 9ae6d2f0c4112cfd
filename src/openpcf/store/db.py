"""Engine and sessions for the configured database, whose schema Alembic keeps at head.

The first use of a database in a process upgrades it (`upgrade`), so the embedded SQLite
database needs no set-up; `openpcf store upgrade` does the same on demand.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.orm import sessionmaker

from openpcf import config
from openpcf.config import database_url
from openpcf.store.audit import READ_ONLY

MIGRATIONS = Path(__file__).parent / "migrations"
# The first revision: the certificate_claims table that create_all made before migrations.
FIRST_REVISION = "0001"


def new_engine(url: str) -> Engine:
    """An engine without touching the schema (see `upgrade`)."""
    # A pooled connection for every API worker thread: opening one per request costs more
    # than the query (and SQLite's PRAGMAs run on each new connection). No pre-ping: it is a
    # round trip per checkout; a connection the server dropped fails one request and the pool
    # is renewed.
    size = config.api_threads() + 2
    if url.startswith("sqlite"):
        _private_sqlite_file(make_url(url).database)
    engine = create_engine(url, pool_size=size, max_overflow=size, pool_recycle=3600)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def engine_for(url: str | None = None) -> Engine:
    """The engine of `url` (default: the configured database), upgraded to the latest schema
    the first time it is asked for in this process."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = new_engine(url)
            upgrade(engine)
            _engines[url] = engine
        return engine


def dispose_engine(url: str) -> None:
    """Close the pooled connections of `url` and forget its engine (tests, shutdown)."""
    with _lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def sessions(url: str | None = None) -> sessionmaker:
    return sessionmaker(engine_for(url), expire_on_commit=False)


def read_sessions(url: str | None = None) -> sessionmaker:
    """Sessions for reading only: each statement runs in DBAPI autocommit, sparing BEGIN and
    COMMIT round trips; a write through one is refused (see `store.audit`)."""
    engine = engine_for(url).execution_options(isolation_level="AUTOCOMMIT")
    return sessionmaker(engine, expire_on_commit=False, info={READ_ONLY: True})


def upgrade(engine: Engine, revision: str = "head") -> list[str]:
    """Apply the migrations up to `revision`; returns the revisions applied (empty when current)."""
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # one migrator at a time (several workers start)
            conn.execute(text("SELECT pg_advisory_xact_lock(7203448120)"))
        before = current_revision(conn)
        cfg = _config(conn)
        if before is None and inspect(conn).has_table("certificate_claims"):
            command.stamp(cfg, FIRST_REVISION)  # made by create_all before migrations existed
            before = FIRST_REVISION
        command.upgrade(cfg, revision)
        return _revisions_between(cfg, before, current_revision(conn))


def current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config(None)).get_current_head()
    assert head is not None
    return head


def _config(conn: Connection | None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def _revisions_between(cfg: Any, before: str | None, after: str | None) -> list[str]:
    from alembic.script import ScriptDirectory

    if after is None or before == after:
        return []
    script = ScriptDirectory.from_config(cfg)
    revs = [r.revision for r in script.iterate_revisions(after, before or "base")]
    return list(reversed(revs))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _private_sqlite_file(database: str | None) -> None:
    """Create the SQLite file 0600 (owner only) before SQLite does (it would use the umask,
    often 0644: every local user could read every tenant's data), and narrow an existing one.
    SQLite gives the -wal and -shm files the main file's permissions."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if name.stat().st_mode & 0o077:
                name.chmod(0o600)
        except OSError:  # absent, or not ours (then the owner's mode stays)
            continue
