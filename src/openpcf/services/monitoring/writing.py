"""How a batch reaches the database: readings by executemany (SQLite) or binary COPY
(PostgreSQL), refusals as rows, aggregates by an adding upsert, supply readings to the ledger."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import repeat
from typing import Any

from sqlalchemy import Connection, case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from openpcf.domain.monitoring import iso
from openpcf.io.mqtt_payload import Refused, parse_topic
from openpcf.services.monitoring.batch import Chunk, Meter, readings_digest
from openpcf.store.models_monitoring import MonitoringAggregate

AGGREGATES = MonitoringAggregate.__table__
_COLUMNS = "tenant_id, meter_id, ts_ms, value, delta, kg_co2e, kg_co2, kg_ch4, kg_n2o, factor, note"
_INSERT_READING = {
    style: f"INSERT INTO monitoring_readings ({_COLUMNS}) VALUES ({', '.join([mark] * 11)}) "
    "ON CONFLICT (meter_id, ts_ms) DO NOTHING"
    for style, mark in (("qmark", "?"), ("format", "%s"), ("pyformat", "%s"), ("numeric", "?"))
}
_COPY_TYPES = ["int4", "int4", "int8", "float8", "float8", "float8", "float8", "float8", "float8",
               "text", "text"]  # fmt: skip


def _rows(chunks: list[Chunk]) -> Iterable[tuple[Any, ...]]:
    for c in chunks:
        m = c.meter
        co2e, co2, ch4, n2o = c.kg()
        yield from zip(
            repeat(m.tenant_id), repeat(m.id), c.ts.tolist(), c.value.tolist(),
            c.delta.tolist(), co2e.tolist(), co2.tolist(), ch4.tolist(), n2o.tolist(),
            repeat(c.factor.factor), repeat(None) if c.notes is None else c.notes,
        )  # fmt: skip


def insert_readings(conn: Connection, chunks: list[Chunk]) -> int:
    """Insert the rows (none of them stored, as far as this service knows); returns how many
    the database took. SQLite: one executemany; PostgreSQL: one COPY (binary), which refuses
    the whole batch should a row be stored meanwhile."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    if conn.dialect.name != "postgresql":
        cur = raw.cursor()
        try:
            cur.executemany(_INSERT_READING["qmark"], _rows(chunks))
            return cur.rowcount
        finally:
            cur.close()
    import psycopg

    n = 0
    try:
        with raw.cursor() as cur, cur.copy(
            f"COPY monitoring_readings ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
        ) as copy:  # fmt: skip
            copy.set_types(_COPY_TYPES)
            for row in _rows(chunks):
                copy.write_row(row)
                n += 1
    except psycopg.errors.UniqueViolation:
        return -1
    except psycopg.Error as exc:
        raise DBAPIError.instance(
            "COPY monitoring_readings", None, exc, psycopg.Error, dialect=conn.dialect
        ) from exc
    return n


def stored_refusal(m: Meter, ts: int, value: float, reason: str, received: datetime) -> dict:
    text = json.dumps({"ts": ts / 1000, "value": value})
    topic = f"openpcf/{m.tenant}/{m.site}/{m.slug}"
    return refusal_row(topic, (m.tenant, m.site, m.slug), Refused(-2, reason, text), received)


def topic_names(topic: str) -> tuple[str, str, str]:
    name = parse_topic(topic)
    return ("", "", "") if isinstance(name, str) else (name.tenant, name.site, name.meter)


def refusal_row(
    topic: str, where: tuple[str, str, str], r: Refused, received: datetime
) -> dict[str, Any]:
    key = hashlib.sha256(f"{topic}\n{r.index}\n{r.text}".encode()).hexdigest()
    ts_ms = None
    if r.index >= 0 or r.index == -2:
        try:
            ts = json.loads(r.text).get("ts")
            if isinstance(ts, int | float) and abs(ts) < 1e11:
                ts_ms = round(ts * 1000)
        except (ValueError, AttributeError):
            pass
    return {
        "key": key,
        "tenant": _clean(where[0][:200]),
        "site": _clean(where[1][:200]),
        "meter": _clean(where[2][:200]),
        "topic": _clean(topic[:1000]),
        "ts_ms": ts_ms,
        "payload": _clean(r.text),
        "reason": _clean(r.reason),
        "received_at": received,
    }


def _clean(text: str) -> str:
    """Text a database column holds: PostgreSQL refuses NUL characters, so they are escaped."""
    return text.replace("\x00", "\\u0000") if "\x00" in text else text


def payload_text(payload: bytes) -> str:
    return payload[:4000].decode("utf-8", "replace")


def item_text(item: Any) -> str:
    doc: dict[str, Any] = {"ts": item.ts_ms / 1000, "value": item.value}
    if item.unit is not None:
        doc["unit"] = item.unit
    if item.reset:
        doc["reset"] = True
    try:
        return json.dumps(doc)
    except ValueError:
        return repr(doc)


def _dialect_insert(conn: Connection, table: Any) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def insert_ignoring(conn: Connection, table: Any, keys: list[str]) -> Any:
    return _dialect_insert(conn, table).on_conflict_do_nothing(index_elements=keys)


def upsert_adding(conn: Connection) -> Any:
    stmt = _dialect_insert(conn, AGGREGATES)
    ex, t = stmt.excluded, AGGREGATES.c
    adding = {
        c: t[c] + ex[c] for c in ("amount", "kg_co2e", "kg_co2", "kg_ch4", "kg_n2o", "readings")
    }
    adding["last_ts_ms"] = case((ex.last_ts_ms > t.last_ts_ms, ex.last_ts_ms), else_=t.last_ts_ms)
    return stmt.on_conflict_do_update(
        index_elements=["meter_id", "resolution", "start_ms"], set_=adding
    )


def ledger_append() -> Callable[[Connection, str, list[Any]], None] | None:
    """Appends a batch of direct-connection readings to the green-electricity ledger (one
    entry per meter and batch: counts, the sum and the readings' sha256), when the ledger
    module is installed; None otherwise."""
    try:
        from openpcf.domain.ledger import METER_READING
        from openpcf.services.certification import ledger
    except ImportError:
        return None

    def append(conn: Connection, actor: str, rows: list[Any]) -> None:
        from sqlalchemy.orm import Session

        from openpcf.store.audit import attribute

        by_meter: dict[int, list[Chunk]] = {}
        for c in rows:
            by_meter.setdefault(c.meter.id, []).append(c)
        for batch in by_meter.values():
            m = batch[0].meter
            payload = {
                "tenant": m.tenant,
                "site": m.site,
                "meter": m.slug,
                "generation": getattr(m.spec.factor, "generation", None),
                "unit": m.spec.unit,
                "readings": sum(len(c) for c in batch),
                "amount": float(sum(c.delta.sum() for c in batch)),
                "first": iso(min(int(c.ts.min()) for c in batch)),
                "last": iso(max(int(c.ts.max()) for c in batch)),
                "sha256": readings_digest(batch),
            }
            with Session(bind=conn, join_transaction_mode="rollback_only") as s:
                attribute(s, actor, m.tenant)
                ledger.append(s, actor, METER_READING, payload)

    return append
