"""Throwaway databases for the store, API and tenancy tests: a SQLite file, or a PostgreSQL
schema made for the test and dropped after it (skipped with a clear message when PostgreSQL is
unreachable; a failure in CI, where OPENPCF_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from openpcf.store.db import dispose_engine

POSTGRES = os.environ.get(
    "OPENPCF_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
KINDS = ["sqlite", "postgresql"]


@contextmanager
def empty_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database of `kind`, removed afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / f'openpcf-{uuid.uuid4().hex[:8]}.db'}"
        try:
            yield url
        finally:
            dispose_engine(url)
        return
    schema = f"openpcf_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(
            f"PostgreSQL not reachable at {POSTGRES} (set OPENPCF_TEST_POSTGRES_URL): {exc.orig}"
        )
    separator = "&" if "?" in POSTGRES else "?"
    url = f"{POSTGRES}{separator}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        # A session a test left open holds its connection in a transaction until the garbage
        # collector finalises it; DROP SCHEMA would wait for it forever.
        gc.collect()
        dispose_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
