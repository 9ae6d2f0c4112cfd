"""The ingestion service: meter readings from an MQTT broker into the store, none lost, none
counted twice.

- Subscribes to `openpcf/<tenant or +>/+/+` with QoS 1 in a persistent session (a fixed client
  id, clean session off), so the broker keeps the subscription and queues readings while the
  service is down or reconnecting.
- Acknowledges a message (PUBACK, paho's manual ack) only after the batch holding it is
  committed. A crash before the commit leaves the message unacknowledged and the broker sends
  it again; a crash after the commit and before the ack makes the broker send a message whose
  readings are stored already, which the idempotent insert counts once.
- Writes a batch when `max_messages` messages or `max_readings` readings are pending, or
  `flush_s` after the first one arrived. Keep `max_messages` at most the broker's
  `max_inflight_messages` (Mosquitto: 20 by default): the broker sends no more unacknowledged
  messages than that.
- A failed write (database down) is retried with back-off holding the same messages.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from openpcf.services.monitoring.batch import BatchReport
from openpcf.services.monitoring.ingest import Ingestor

log = logging.getLogger("openpcf.monitor")


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "openpcf-monitor"
    tenant: str | None = None  # None: every tenant's meters
    max_messages: int = 20
    max_readings: int = 20_000
    flush_s: float = 0.1
    keepalive: int = 30


@dataclass
class Totals:
    batches: int = 0
    messages: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    write_failures: int = 0
    connected: bool = False
    last_ts: dict[int, int] = field(default_factory=dict)


def parse_broker(text: str) -> tuple[str, int]:
    """'host:port' or 'host' (port 1883)."""
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "1883")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise ValueError(f"broker '{text}': expected HOST:PORT, e.g. 127.0.0.1:1883") from None


class IngestionService:
    """Run with `run(stop)` in the calling thread; `stop.set()` drains and returns."""

    def __init__(
        self,
        ingestor: Ingestor,
        settings: Settings,
        on_batch: Callable[[BatchReport], None] | None = None,
    ) -> None:
        self.ingestor = ingestor
        self.settings = settings
        self.on_batch = on_batch
        self.totals = Totals()
        self._pending: list[tuple[str, bytes, int, int, int]] = []  # topic, payload, mid, qos, n
        self._first_at = 0.0
        self._cond = threading.Condition()
        #: set once the broker confirms the subscription (messages published before are not
        #: queued for a session the broker has never seen)
        self.subscribed = threading.Event()
        self.client = self._client()

    def _client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = lambda *_: self.subscribed.set()
        return client

    @property
    def topic(self) -> str:
        return f"openpcf/{self.settings.tenant or '+'}/+/+"

    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        if getattr(rc, "is_failure", False):
            log.warning("broker refused the connection: %s", rc)
            return
        self.totals.connected = True
        client.subscribe(self.topic, qos=1)
        log.info(
            "connected to %s:%s, subscribed to %s",
            self.settings.host,
            self.settings.port,
            self.topic,
        )

    def _on_disconnect(self, _c: object, _u: object, _f: object, rc: object, _p: object) -> None:
        self.totals.connected = False
        self.subscribed.clear()
        log.warning("disconnected from the broker (%s); reconnecting", rc)

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        # A rough count of readings (for the batch size) without parsing twice.
        n = msg.payload.count(b'"value"') or 1
        with self._cond:
            if not self._pending:
                self._first_at = time.monotonic()
            self._pending.append((msg.topic, msg.payload, msg.mid, msg.qos, n))
            self._cond.notify()

    def _due(self) -> bool:
        s = self.settings
        if not self._pending:
            return False
        if len(self._pending) >= s.max_messages:
            return True
        if sum(p[4] for p in self._pending) >= s.max_readings:
            return True
        return time.monotonic() - self._first_at >= s.flush_s

    def _ingest(self, batch: list[tuple[str, bytes, int, int, int]]) -> BatchReport:
        """The batch in one transaction; if the database refuses it for what a message holds
        (not for being down), each message alone, and one it still refuses is stored as
        refused with the database's reason, so one message never stalls the stream."""
        try:
            return self.ingestor.ingest([(t, p) for t, p, *_ in batch])
        except (OperationalError, InterfaceError):
            raise
        except DBAPIError as exc:
            log.warning("batch refused by the database (%s); writing message by message", exc.orig)
        report = BatchReport(messages=len(batch))
        for topic, payload, *_ in batch:
            try:
                one = self.ingestor.ingest([(topic, payload)])
            except (OperationalError, InterfaceError):
                raise
            except DBAPIError as exc:
                self.ingestor.refuse(topic, payload, f"the store refused it: {exc.orig}")
                report.rejected += 1
                continue
            report.accepted += one.accepted
            report.duplicates += one.duplicates
            report.rejected += one.rejected
            report.last_ts.update(one.last_ts)
            report.reasons += one.reasons
        return report

    def run(self, stop: threading.Event) -> Totals:
        s = self.settings
        self.client.connect_async(s.host, s.port, keepalive=s.keepalive)
        self.client.loop_start()
        try:
            while not stop.is_set():
                with self._cond:
                    if not self._due():
                        self._cond.wait(timeout=s.flush_s / 2)
                    if not self._due():
                        continue
                    batch, self._pending = self._pending, []
                self._write(batch, stop)
            with self._cond:  # drain what arrived before the stop
                batch, self._pending = self._pending, []
            if batch:
                self._write(batch, stop, retry=False)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
        return self.totals

    def _write(self, batch: list[tuple[str, bytes, int, int, int]], stop: threading.Event,
               retry: bool = True) -> None:  # fmt: skip
        delay = 0.5
        while True:
            try:
                report = self._ingest(batch)
                break
            except Exception as exc:  # the database is down: keep the messages, retry
                self.totals.write_failures += 1
                log.error(
                    "writing %d messages failed (%s); retrying in %.1fs", len(batch), exc, delay
                )
                if not retry or stop.wait(delay):
                    return  # unacknowledged: the broker sends them again
                delay = min(delay * 2, 10.0)
        for _t, _p, mid, qos, _n in batch:
            if qos > 0:
                self.client.ack(mid, qos)
        t = self.totals
        t.batches += 1
        t.messages += report.messages
        t.accepted += report.accepted
        t.duplicates += report.duplicates
        t.rejected += report.rejected
        t.last_ts.update(report.last_ts)
        for reason in report.reasons[:1]:
            log.info("rejected %d reading(s), e.g.: %s", report.rejected, reason)
        if self.on_batch is not None:
            self.on_batch(report)
