"""The ledger's hash chain, pure: how an entry is hashed and how a chain is checked.

An entry is (seq, kind, at, actor, payload, prev, hash). `hash` is the sha256 (hex) of the
canonical JSON (RFC 8785, see `domain.canonical`) of the object
`{"seq", "kind", "at", "actor", "payload", "prev"}`; `prev` is the previous entry's hash, or
64 zeros for the first entry; `at` is an ISO 8601 UTC time string (kept as text, so no
database round trip can change the hashed bytes). Changing, removing or reordering any entry
breaks a hash or a link, and `first_problem` says which position and how. Removing the last
entries (or rewriting a tail and re-hashing it) leaves a valid shorter chain: an anchored head
(an earlier `seq` with its hash, published elsewhere) catches that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from openpcf.domain.canonical import canonical_json

GENESIS = "0" * 64

# What the platform writes; other kinds are accepted (a kind is a dotted lower-case name).
CERTIFICATE_ISSUED = "certificate.issued"
CERTIFICATE_PUBLISHED = "certificate.published"
CERTIFICATE_REVOKED = "certificate.revoked"
GREEN_CERTIFICATE_CLAIMED = "green-certificate.claimed"
GREEN_CERTIFICATE_REFUSED = "green-certificate.refused"
GREEN_CERTIFICATES_ISSUED = "green-certificate.issuance-imported"
METER_READING = "meter.reading"
KIND = r"^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$"


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    at: str
    actor: str
    payload: Mapping[str, Any]
    prev: str
    hash: str


Problem = Literal["altered", "removed", "reordered", "anchor"]


@dataclass(frozen=True)
class Finding:
    """The first thing wrong with a chain: at which position (seq) and what."""

    position: int
    problem: Problem
    message: str


def timestamp(at: datetime | None = None) -> str:
    """UTC, microseconds, 'Z': 2026-03-01T08:00:00.000000Z."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    seq: int, kind: str, at: str, actor: str, payload: Mapping[str, Any], prev: str
) -> str:
    body = {"seq": seq, "kind": kind, "at": at, "actor": actor, "payload": dict(payload),
            "prev": prev}  # fmt: skip
    return hashlib.sha256(canonical_json(body)).hexdigest()


def next_entry(
    last: Entry | None, kind: str, actor: str, payload: Mapping[str, Any], at: str | None = None
) -> Entry:
    """The entry that follows `last` (None: the first entry of the chain)."""
    seq = 1 if last is None else last.seq + 1
    prev = GENESIS if last is None else last.hash
    at = at or timestamp()
    return Entry(
        seq, kind, at, actor, payload, prev, entry_hash(seq, kind, at, actor, payload, prev)
    )


def first_problem(
    entries: Sequence[Entry], anchor: tuple[int, str] | None = None
) -> Finding | None:
    """None when `entries` (in stored order) form an intact chain from seq 1; else the first
    position that is wrong. `anchor` (seq, hash): a head exported earlier that must still be
    there unchanged."""
    for i, e in enumerate(entries):
        expected = i + 1
        if entry_hash(e.seq, e.kind, e.at, e.actor, e.payload, e.prev) != e.hash:
            return Finding(
                e.seq, "altered",
                f"entry {e.seq} was altered: its content does not match its hash",
            )  # fmt: skip
        link = entries[i - 1].hash if i else GENESIS
        if e.seq == expected and e.prev == link:
            continue
        later = entries[i + 1 :]
        if e.seq < expected or any(x.hash == e.prev or x.seq == expected for x in later):
            return Finding(
                expected, "reordered",
                f"entry {e.seq} stands at position {expected}: the entries are out of order",
            )  # fmt: skip
        if e.seq > expected:
            missing = f"{expected}" if e.seq == expected + 1 else f"{expected} to {e.seq - 1}"
            return Finding(
                expected, "removed",
                f"entry {missing} removed: entry {e.seq} follows entry {expected - 1}",
            )  # fmt: skip
        return Finding(
            expected - 1, "altered",
            f"entry {expected - 1} was altered or replaced: entry {e.seq} links to a different "
            "hash",
        )  # fmt: skip
    if anchor is not None:
        seq, digest = anchor
        if seq > len(entries):
            return Finding(
                len(entries) + 1, "removed",
                f"the anchored head is entry {seq}, but the chain ends at entry {len(entries)}: "
                "entries were removed from its end",
            )  # fmt: skip
        if seq >= 1 and entries[seq - 1].hash != digest:
            return Finding(
                seq, "anchor",
                f"entry {seq} does not have the anchored hash {digest[:16]}...: the chain was "
                "rewritten up to there",
            )  # fmt: skip
    return None
