"""Meter readings into the store: validate, compute deltas and emissions, write a batch at once.

`Ingestor.ingest(messages)` takes MQTT messages (topic, payload) and, in one transaction:
- inserts the accepted readings (unique per meter and time, so a redelivered message counts
  once: a reading not newer than what the meter has stored is first looked up, and counted as
  a duplicate when stored with the same value, refused when stored with another);
- adds the new readings to the 1-minute, 15-minute, hourly and daily aggregates (summed in
  memory per batch, then one upsert that adds to each window's sums);
- stores every refused reading with its reason (never dropped; a redelivered refusal counts
  once by its key);
- writes one audit entry per tenant for the batch (actor `service:<name>`, entity
  `monitoring_readings`, with counts and the sha256 of the accepted readings) rather than one
  per reading: readings are measurements, not edits, and arrive by the ten thousand;
- appends the batch of direct-connection (supply) readings to the green-electricity ledger
  when that module is installed.

Fast path: a well-formed message (see `io.mqtt_payload.fast_readings`) whose readings are in
time order, newer than the meter's last, with counters that only go up, is checked and turned
into deltas and emissions with numpy, one message at a time; anything else goes reading by
reading through `domain.monitoring`, which gives each refusal its reason. Both give the same
rows. Readings are written with executemany (SQLite) or COPY (PostgreSQL).

A failed write raises and leaves the counters' state as it was, so the caller can retry the
same messages. One ingestion service writes a tenant's readings at a time (the counters'
state is kept in memory and read back from the store on start); should another writer store
one of the batch's readings meanwhile, the batch is rolled back and done again from the store.

The batch's in-memory pieces are in `batch.py`; the statements that write it, in `writing.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from itertools import chain, repeat
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, insert, select

from openpcf.domain.monitoring import (
    EARLIEST_MS,
    FUTURE_TOLERANCE_MS,
    RESOLUTIONS,
    CounterState,
    Delta,
    Duplicate,
    Late,
    Rejected,
    check_value,
    counter_delta,
    iso,
)
from openpcf.io.mqtt_payload import Reading, Refused, fast_readings, parse_payload, parse_topic
from openpcf.services.monitoring.batch import (
    Batch,
    BatchReport,
    Chunk,
    LateReading,
    Meter,
    StoredMeanwhile,
    readings_digest,
    split_chunks,
    unit_conversion,
)
from openpcf.services.monitoring.writing import (
    insert_ignoring,
    insert_readings,
    item_text,
    ledger_append,
    payload_text,
    refusal_row,
    stored_refusal,
    topic_names,
    upsert_adding,
)
from openpcf.store.db import engine_for
from openpcf.store.models import AuditEntry, Tenant
from openpcf.store.models_monitoring import (
    MonitoringMeter,
    MonitoringReading,
    MonitoringRejected,
    MonitoringSite,
)

READINGS = MonitoringReading.__table__
REJECTED = MonitoringRejected.__table__
WINDOWS = tuple(RESOLUTIONS.items())
MINUTE = RESOLUTIONS["1m"]
#: How often unknown meters make the registry reload (a meter registered while running).
RELOAD_AFTER_S = 2.0


class Ingestor:
    def __init__(
        self,
        url: str | None = None,
        name: str = "openpcf-monitor",
        tenant: str | None = None,
        clock: Callable[[], float] = time.time,
        ledger: bool = True,
    ) -> None:
        self.engine: Engine = engine_for(url)
        self.actor = f"service:{name}"
        self.tenant = tenant
        self.clock = clock
        self.meters: dict[tuple[str, str, str], Meter] = {}
        self._topics: dict[str, Meter] = {}
        #: meter id -> a counter's last accepted reading (None: no reading yet)
        self.states: dict[int, CounterState | None] = {}
        #: meter id -> the newest time stored before this batch (None: nothing stored)
        self.stored_max: dict[int, int | None] = {}
        self._loaded_at = 0.0
        self._ledger = ledger_append() if ledger else None
        self.reload()

    # --- registry --------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the registry (all tenants', or the one this service serves)."""
        from sqlalchemy.orm import Session

        from openpcf.services.monitoring.registry import meter_spec

        q = (
            select(MonitoringMeter, MonitoringSite, Tenant.slug)
            .join(MonitoringSite, MonitoringMeter.site_id == MonitoringSite.id)
            .join(Tenant, MonitoringMeter.tenant_id == Tenant.id)
        )
        if self.tenant is not None:
            q = q.where(Tenant.slug == self.tenant)
        meters = {}
        with self.engine.connect() as conn, Session(conn) as s:
            for m, site, tenant in s.execute(q):
                spec = meter_spec(m, site.slug)
                old = self.meters.get((tenant, site.slug, m.slug))
                meters[(tenant, site.slug, m.slug)] = Meter(
                    m.id,
                    m.tenant_id,
                    tenant,
                    site.slug,
                    m.slug,
                    spec,
                    site.region,
                    site.timezone,
                    m.reading == "cumulative",
                    spec.factor.kind == "supply",
                    old.factors if old is not None and old.spec == spec else {},
                )
        self.meters = meters
        self._topics = {}
        self._loaded_at = self.clock()

    def _meter(self, key: tuple[str, str, str]) -> Meter | None:
        meter = self.meters.get(key)
        if meter is None and self.clock() - self._loaded_at > RELOAD_AFTER_S:
            self.reload()
            meter = self.meters.get(key)
        return meter

    def _load(self, conn: Connection, meter_id: int) -> None:
        """The meter's newest stored reading: the counter's state and the floor below which
        a reading may be stored already."""
        row = conn.execute(
            select(READINGS.c.ts_ms, READINGS.c.value)
            .where(READINGS.c.meter_id == meter_id)
            .order_by(READINGS.c.ts_ms.desc())
            .limit(1)
        ).first()
        self.states[meter_id] = CounterState(row[0], row[1]) if row else None
        self.stored_max[meter_id] = row[0] if row else None

    # --- a batch ---------------------------------------------------------------------------

    def ingest(self, messages: Sequence[tuple[str, bytes]]) -> BatchReport:
        """Validate and store the readings of `messages` in one transaction."""
        for attempt in range(2):
            states, stored_max = dict(self.states), dict(self.stored_max)
            report = BatchReport(messages=len(messages))
            now_ms = int(self.clock() * 1000)
            received = datetime.now(UTC)
            try:
                with self.engine.connect() as conn, conn.begin():
                    newest = self._ingest(conn, messages, now_ms, received, report)
            except StoredMeanwhile:
                self.states, self.stored_max = {}, {}  # read them again from the store
                if attempt:
                    raise
                continue
            except BaseException:
                self.states, self.stored_max = states, stored_max
                raise
            for meter_id, ts in newest.items():
                if ts > (self.stored_max.get(meter_id) or 0):
                    self.stored_max[meter_id] = ts
            return report
        raise AssertionError("unreachable")

    def _ingest(
        self,
        conn: Connection,
        messages: Sequence[tuple[str, bytes]],
        now_ms: int,
        received: datetime,
        report: BatchReport,
    ) -> dict[int, int]:
        chunks: list[Chunk] = []
        refusals: list[dict[str, Any]] = []
        late: list[LateReading] = []
        batch = Batch()

        for topic, payload in messages:
            meter = self._topics.get(topic)
            if meter is None:
                found = self._meter_of(topic)
                if isinstance(found, str):
                    where = topic_names(topic)
                    refusals.append(refusal_row(topic, where, Refused(-1, found, payload_text(payload)), received))  # fmt: skip
                    continue
                meter = self._topics[topic] = found
            if meter.id not in self.states:
                self._load(conn, meter.id)
            readings = fast_readings(payload)
            fast = None if readings is None else self._fast(meter, readings, now_ms, batch)
            if fast is not None:
                chunks += fast
                continue
            key = (meter.tenant, meter.site, meter.slug)
            items, refused = parse_payload(payload)
            for r in refused:
                refusals.append(refusal_row(topic, key, r, received))
            ts_list: list[int] = []
            values: list[float] = []
            deltas: list[float] = []
            notes: list[str | None] = []
            for item in items:
                value = item.value
                problem = check_value(value, item.ts_ms, now_ms)
                if problem is None and item.unit is not None and item.unit != meter.spec.unit:
                    scale = unit_conversion(item.unit, meter.spec.unit)
                    if isinstance(scale, str):
                        problem = scale
                    else:
                        value = value * scale  # type: ignore[operator]
                if problem is not None:
                    refusals.append(refusal_row(topic, key, Refused(item.index, problem, item_text(item)), received))  # fmt: skip
                    continue
                value = float(value)  # type: ignore[arg-type]
                if meter.cumulative:
                    last = self.states[meter.id]
                    out = counter_delta(last, item.ts_ms, value, meter.spec.rollover, item.reset)
                    if type(out) is Delta:
                        ts_list.append(item.ts_ms)
                        values.append(value)
                        deltas.append(out.amount)
                        notes.append(out.note)
                        self.states[meter.id] = CounterState(item.ts_ms, value)
                    elif type(out) is Duplicate:
                        report.duplicates += 1
                    elif type(out) is Late:
                        late.append(LateReading(meter, item.ts_ms, value))
                    else:
                        assert isinstance(out, Rejected)
                        refusals.append(refusal_row(topic, key, Refused(item.index, out.reason, item_text(item)), received))  # fmt: skip
                else:
                    before = batch.seen(meter.id, chunks).get(item.ts_ms)
                    if before is None:
                        batch.add(meter.id, item.ts_ms, value)
                        ts_list.append(item.ts_ms)
                        values.append(value)
                        deltas.append(value)
                        notes.append(None)
                    elif before == value:
                        report.duplicates += 1
                    else:
                        reason = f"conflicting duplicate: {iso(item.ts_ms)} read as {before:g} and {value:g}"
                        refusals.append(refusal_row(topic, key, Refused(item.index, reason, item_text(item)), received))  # fmt: skip
            if ts_list:
                ts = np.array(ts_list, dtype=np.int64)
                batch.newest[meter.id] = max(batch.newest.get(meter.id, 0), int(ts.max()))
                chunks += split_chunks(meter, ts, np.array(values), np.array(deltas),
                                 notes if any(notes) else None)  # fmt: skip
        if late:
            self._settle_late(conn, late, report, refusals, received)
        new = self._write_readings(conn, chunks, report, refusals, received) if chunks else []
        if new:
            self._write_aggregates(conn, new)
        if refusals:
            conn.execute(insert_ignoring(conn, REJECTED, ["key"]), refusals)
        report.accepted = sum(len(c) for c in new)
        report.rejected = len(refusals)
        report.reasons = [r["reason"] for r in refusals[:5]]
        self._audit(conn, new, refusals, report)
        if self._ledger is not None:
            supply = [c for c in new if c.meter.supply]
            if supply:
                self._ledger(conn, self.actor, supply)
        last = report.last_ts
        for c in new:
            ts = int(c.ts.max())
            if ts > last.get(c.meter.id, 0):
                last[c.meter.id] = ts
        return dict(last)

    def _meter_of(self, topic: str) -> Meter | str:
        name = parse_topic(topic)
        if isinstance(name, str):
            return name
        meter = self._meter((name.tenant, name.site, name.meter))
        if meter is None:
            return f"no meter '{name.site}/{name.meter}' is registered for tenant '{name.tenant}'"
        return meter

    def _fast(
        self, meter: Meter, readings: list[Reading], now_ms: int, batch: Batch
    ) -> list[Chunk] | None:
        """The message's chunks when every reading is plainly fine, in time order and newer
        than the meter's last; None sends the message reading by reading through the
        domain's checks (which say what is wrong), changing nothing here."""
        n = len(readings)
        if n == 0:
            return []
        spec = meter.spec
        units = {r.unit for r in readings}
        scale = 1.0
        if units != {None} and units != {spec.unit}:
            if len(units) != 1:
                return None
            found = unit_conversion(units.pop(), spec.unit)  # type: ignore[arg-type]
            if isinstance(found, str):
                return None
            scale = found
        if any(r.reset for r in readings):
            return None
        try:
            seconds = np.array([r.ts for r in readings], dtype=np.float64)
        except ValueError:  # ISO 8601 strings
            return None
        ms = np.rint(seconds * 1000.0)  # as round(ts * 1000): half to even
        if not (ms.min() >= EARLIEST_MS and ms.max() <= now_ms + FUTURE_TOLERANCE_MS):
            return None
        ts = ms.astype(np.int64)
        value = np.array([r.value for r in readings], dtype=np.float64)
        if scale != 1.0:
            value = value * scale
        if not (np.isfinite(value).all() and value.min() >= 0):
            return None
        if n > 1 and not (np.diff(ts) > 0).all():
            return None
        notes: list[str | None] | None = None
        if meter.cumulative:
            if spec.rollover is not None and value.max() > spec.rollover:
                return None
            if n > 1 and not (np.diff(value) >= 0).all():
                return None
            last = self.states[meter.id]
            if last is None:
                delta = np.diff(value, prepend=value[0])  # the first reading is the baseline
                notes = ["baseline"] + [None] * (n - 1)
            elif ts[0] > last.ts_ms and value[0] >= last.value:
                delta = np.diff(value, prepend=last.value)
            else:
                return None
            self.states[meter.id] = CounterState(int(ts[-1]), float(value[-1]))
        else:
            if ts[0] <= batch.newest.get(meter.id, 0):
                return None  # may repeat a reading of this batch
            delta = value
            batch.extend(meter.id, ts, value)
        batch.newest[meter.id] = int(ts[-1])
        return split_chunks(meter, ts, value, delta, notes)

    def _settle_late(
        self,
        conn: Connection,
        late: list[LateReading],
        report: BatchReport,
        refusals: list[dict[str, Any]],
        received: datetime,
    ) -> None:
        """Counter readings older than the last: duplicates of stored ones, or refused."""
        stored = self._stored(conn, [(r.meter.id, r.ts_ms) for r in late])
        for r in late:
            before = stored.get((r.meter.id, r.ts_ms))
            if before is None:
                last = self.states.get(r.meter.id)
                reason = (
                    f"out of order: {iso(r.ts_ms)} is older than the counter's last reading "
                    f"at {iso(last.ts_ms) if last else '?'}; a counter's readings must arrive in order"
                )
            elif before == r.value:
                report.duplicates += 1
                continue
            else:
                reason = f"conflicting duplicate: {iso(r.ts_ms)} is stored as {before:g}, now {r.value:g}"
            refusals.append(stored_refusal(r.meter, r.ts_ms, r.value, reason, received))

    def refuse(self, topic: str, payload: bytes, reason: str) -> None:
        """Store a whole message as refused (one the batch write could not store)."""
        row = refusal_row(
            topic, topic_names(topic), Refused(-1, reason, payload_text(payload)), datetime.now(UTC)
        )
        with self.engine.begin() as conn:
            conn.execute(insert_ignoring(conn, REJECTED, ["key"]), [row])
            self._audit(conn, [], [row], BatchReport(messages=1))

    def _stored(self, conn: Connection, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], float]:  # fmt: skip
        """Stored values of (meter id, ts) keys: one range query per meter."""
        spans: dict[int, list[int]] = {}
        for meter_id, ts in keys:
            span = spans.setdefault(meter_id, [ts, ts])
            span[0], span[1] = min(span[0], ts), max(span[1], ts)
        found: dict[tuple[int, int], float] = {}
        for meter_id, (lo, hi) in spans.items():
            q = select(READINGS.c.ts_ms, READINGS.c.value).where(
                READINGS.c.meter_id == meter_id, READINGS.c.ts_ms.between(lo, hi)
            )
            for ts, value in conn.execute(q):
                found[(meter_id, ts)] = value
        return found

    def _write_readings(
        self,
        conn: Connection,
        chunks: list[Chunk],
        report: BatchReport,
        refusals: list[dict[str, Any]],
        received: datetime,
    ) -> list[Chunk]:
        """Insert the chunks' readings; returns those that were new. A reading no newer than
        what its meter had stored before the batch is looked up first: stored with the same
        value it is a duplicate (a redelivery), with another it is refused (an interval
        reading) or a duplicate (a counter's, whose delta follows from the stored one)."""
        suspect = []
        for c in chunks:
            floor = self.stored_max.get(c.meter.id)
            if floor is not None and c.ts.min() <= floor:
                suspect.append(c)
        if suspect:
            keys = chain.from_iterable(
                zip(repeat(c.meter.id), c.ts[c.ts <= self.stored_max[c.meter.id]].tolist())  # type: ignore[index]
                for c in suspect
            )
            stored = self._stored(conn, keys)
            new = []
            for c in chunks:
                if c not in suspect:
                    new.append(c)
                    continue
                keep = np.ones(len(c), dtype=bool)
                for i, (ts, value) in enumerate(zip(c.ts.tolist(), c.value.tolist(), strict=True)):
                    before = stored.get((c.meter.id, ts))
                    if before is None:
                        continue
                    keep[i] = False
                    if before == value or c.meter.cumulative:
                        report.duplicates += 1
                    else:
                        reason = f"conflicting duplicate: {iso(ts)} is stored as {before:g}, now {value:g}"
                        refusals.append(stored_refusal(c.meter, ts, value, reason, received))
                if keep.any():
                    new.append(c if keep.all() else c.subset(keep))
            chunks = new
        n = sum(len(c) for c in chunks)
        if n and insert_readings(conn, chunks) != n:
            raise StoredMeanwhile
        return chunks

    def _write_aggregates(self, conn: Connection, new: list[Chunk]) -> None:
        """Add the new rows to their windows: 1-minute sums first, rolled up from those."""
        minute: dict[tuple[int, int, int], list[float]] = {}
        for c in new:
            co2e, co2, ch4, n2o = c.kg()
            start = (c.ts + c.offset) // MINUTE * MINUTE - c.offset
            order = None
            if len(start) > 1 and not (np.diff(start) >= 0).all():
                order = np.argsort(start, kind="stable")
                start = start[order]
            cut = np.flatnonzero(np.diff(start)) + 1
            first = np.concatenate(([0], cut))
            columns = [c.delta, co2e, co2, ch4, n2o]
            ts = c.ts
            if order is not None:
                columns = [a[order] for a in columns]
                ts = ts[order]
            sums = [np.add.reduceat(a, first).tolist() for a in columns]
            counts = np.diff(np.concatenate((first, [len(start)]))).tolist()
            newest = np.maximum.reduceat(ts, first).tolist()
            for j, s0 in enumerate(start[first].tolist()):
                k = (c.meter.id, s0, c.offset)
                row = [sums[0][j], sums[1][j], sums[2][j], sums[3][j], sums[4][j], counts[j], newest[j]]  # fmt: skip
                s = minute.get(k)
                if s is None:
                    minute[k] = row
                else:
                    for i in range(6):
                        s[i] += row[i]
                    s[6] = max(s[6], row[6])
        sums_by: dict[tuple[int, str, int], list[float]] = {}
        for (meter_id, start_ms, offset), s in minute.items():
            sums_by[(meter_id, "1m", start_ms)] = s
            for res, width in WINDOWS[1:]:
                k = (meter_id, res, (start_ms + offset) // width * width - offset)
                t = sums_by.get(k)
                if t is None:
                    sums_by[k] = list(s)
                else:
                    for i in range(6):
                        t[i] += s[i]
                    if s[6] > t[6]:
                        t[6] = s[6]
        params = [
            {
                "meter_id": k[0],
                "resolution": k[1],
                "start_ms": k[2],
                "amount": s[0],
                "kg_co2e": s[1],
                "kg_co2": s[2],
                "kg_ch4": s[3],
                "kg_n2o": s[4],
                "readings": int(s[5]),
                "last_ts_ms": int(s[6]),
            }
            for k, s in sorted(sums_by.items())  # one order: concurrent writers never deadlock
        ]
        conn.execute(upsert_adding(conn), params)

    def _audit(
        self, conn: Connection, new: list[Chunk], refusals: list[dict], report: BatchReport
    ) -> None:
        """One entry per tenant of the batch; its sha256 covers the accepted readings as
        '<site>/<meter> <ts_ms> <value>' lines."""
        by_tenant: dict[str, list[Chunk]] = {}
        for c in new:
            by_tenant.setdefault(c.meter.tenant, []).append(c)
        rejected: dict[str, int] = {}
        for r in refusals:
            rejected[r["tenant"]] = rejected.get(r["tenant"], 0) + 1
        at = datetime.now(UTC)
        entries = []
        for tenant in sorted(set(by_tenant) | set(rejected)):
            rows = by_tenant.get(tenant, [])
            digest = readings_digest(rows)
            first = min((int(c.ts.min()) for c in rows), default=None)
            last = max((int(c.ts.max()) for c in rows), default=None)
            entries.append(
                {
                    "at": at,
                    "tenant": tenant or None,
                    "actor": self.actor,
                    "action": "create",
                    "entity": "monitoring_readings",
                    "entity_id": f"batch:{digest[:16]}",
                    "details": {
                        "accepted": sum(len(c) for c in rows),
                        "rejected": rejected.get(tenant, 0),
                        "duplicates": report.duplicates,
                        "first": iso(first) if first is not None else None,
                        "last": iso(last) if last is not None else None,
                        "sha256": digest,
                    },
                }
            )
        if entries:
            conn.execute(insert(AuditEntry), entries)
