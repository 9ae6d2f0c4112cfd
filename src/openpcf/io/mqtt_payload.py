"""Meter readings as they arrive over MQTT: the topic names the meter, the payload the readings.

Topic: `openpcf/<tenant>/<site>/<meter>`.

Payload (UTF-8 JSON), one of:
- one reading:           {"ts": "2025-03-01T08:00:00Z", "value": 1523.4}
- several, as an array:  [{"ts": ..., "value": ...}, ...]
- several, in an object: {"readings": [{"ts": ..., "value": ...}, ...]}

A reading has `ts` (ISO 8601 with a UTC offset, or a number of seconds since 1970-01-01 UTC)
and `value` (a number: the counter's reading, or the amount of the interval ending at `ts`),
and optionally `unit` (defaults to the meter's; another unit of the same dimension is
converted) and `reset` (true when a counter was reset to 0 since the previous reading).
Anything else is refused, reading by reading, with the reason.

Two readers: `fast_readings` decodes a well-formed array (or `{readings}`) with msgspec's typed
decoder in C, in a fraction of the time; anything it refuses goes to `parse_payload`, which
says for each reading what is wrong.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime

import msgspec

from openpcf.io import limits

FIELDS = frozenset({"ts", "value", "unit", "reset"})
MAX_READINGS = 100_000  # per message


@dataclass(slots=True)
class TopicName:
    tenant: str
    site: str
    meter: str


@dataclass(slots=True)
class Item:
    """One reading of a payload, its timestamp parsed, its value not yet checked."""

    index: int
    ts_ms: int
    value: object
    unit: str | None
    reset: bool


@dataclass(slots=True)
class Refused:
    """A reading (index ≥ 0) or a whole payload (index -1) that cannot be read, and why."""

    index: int
    reason: str
    text: str  # the reading (or the payload) as received, for the rejected-readings table


class Reading(msgspec.Struct, forbid_unknown_fields=True):
    """A reading as `fast_readings` decodes it: its fields have the right JSON types."""

    ts: float | str
    value: float
    unit: str | None = None
    reset: bool = False


class _Wrapped(msgspec.Struct, forbid_unknown_fields=True):
    readings: list[Reading]


_FAST = msgspec.json.Decoder(list[Reading] | _Wrapped)


def fast_readings(data: bytes) -> list[Reading] | None:
    """The readings of an array or `{readings}` payload whose every reading has the right
    fields and types, or None: then `parse_payload` finds what is wrong (or reads a single
    reading object)."""
    try:
        doc = _FAST.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    readings = doc.readings if isinstance(doc, _Wrapped) else doc
    return readings if len(readings) <= MAX_READINGS else None


def parse_topic(topic: str) -> TopicName | str:
    """The meter a topic names, or why it names none."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != "openpcf" or not all(parts[1:]):
        return f"topic '{topic[:200]}' is not openpcf/<tenant>/<site>/<meter>"
    return TopicName(parts[1], parts[2], parts[3])


def parse_payload(data: bytes) -> tuple[list[Item], list[Refused]]:
    """The readings of a payload and the refusals, in payload order."""
    if len(data) > limits.DOCUMENT_BYTES.value:
        return [], [Refused(-1, f"payload of {len(data)} bytes is too large (limit "
                                f"{limits.DOCUMENT_BYTES.name} = {limits.DOCUMENT_BYTES.value})",
                            _text(data))]  # fmt: skip
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        return [], [Refused(-1, f"payload is not UTF-8 JSON: {exc}", _text(data))]
    except RecursionError:
        return [], [Refused(-1, "payload is nested too deeply", _text(data))]
    if isinstance(doc, dict) and "readings" in doc:
        extra = set(doc) - {"readings"}
        if extra:
            return [], [Refused(-1, _unknown(extra, {"readings"}), _text(data))]
        doc = doc["readings"]
        if not isinstance(doc, list):
            return [], [Refused(-1, "'readings' must be an array of readings", _text(data))]
    elif isinstance(doc, dict):
        doc = [doc]
    elif not isinstance(doc, list):
        what = type(doc).__name__
        reason = f"payload is a JSON {what}; expected a reading object, an array or {{readings}}"
        return [], [Refused(-1, reason, _text(data))]
    if len(doc) > MAX_READINGS:
        reason = f"{len(doc)} readings in one message; at most {MAX_READINGS}"
        return [], [Refused(-1, reason, _text(data))]
    items: list[Item] = []
    refused: list[Refused] = []
    for i, r in enumerate(doc):
        if not isinstance(r, dict):
            refused.append(Refused(i, "a reading must be a JSON object", json.dumps(r)))
            continue
        if len(r) > 2 and not FIELDS.issuperset(r):
            refused.append(Refused(i, _unknown(set(r) - FIELDS, FIELDS), json.dumps(r)))
            continue
        if "value" not in r or "ts" not in r:
            missing = " and ".join(k for k in ("ts", "value") if k not in r)
            refused.append(Refused(i, f"missing {missing}", json.dumps(r)))
            continue
        ts = _ts_ms(r["ts"])
        if isinstance(ts, str):
            refused.append(Refused(i, ts, json.dumps(r)))
            continue
        unit = r.get("unit")
        if unit is not None and not isinstance(unit, str):
            refused.append(Refused(i, "unit must be a string such as 'kWh'", json.dumps(r)))
            continue
        reset = r.get("reset", False)
        if not isinstance(reset, bool):
            refused.append(Refused(i, "reset must be true or false", json.dumps(r)))
            continue
        items.append(Item(i, ts, r["value"], unit, reset))
    return items, refused


def _ts_ms(ts: object) -> int | str:
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        if not math.isfinite(ts):
            return f"ts {ts!r} is not a finite number of seconds"
        return round(ts * 1000)
    if isinstance(ts, str):
        try:
            dt = datetime.fromisoformat(ts)
        except ValueError:
            return f"ts '{ts[:60]}' is not ISO 8601 (e.g. 2025-03-01T08:00:00Z)"
        if dt.tzinfo is None:
            return f"ts '{ts[:60]}' has no UTC offset; add Z or +08:00"
        return round(dt.timestamp() * 1000)
    return f"ts {ts!r} must be an ISO 8601 string or seconds since 1970 (a number)"


def _unknown(extra: set[str], known: frozenset[str] | set[str]) -> str:
    names = ", ".join(sorted(str(e) for e in extra))
    return f"unknown field(s) {names}; expected {', '.join(sorted(known))}"


def _text(data: bytes, limit: int = 4000) -> str:
    return data[:limit].decode("utf-8", "replace")
