"""The ledger: the pure hash chain finds any altered, removed or reordered entry and says where;
the stored ledger does the same on SQLite and PostgreSQL, the database refuses changes, and
`openpcf ledger verify` exits 1 with the position. RFC 8785 canonical form checked against the
RFC's own number examples (Appendix B)."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from openpcf.domain.canonical import NotCanonicalizable, canonical_json, es_number, parse_strict
from openpcf.domain.ledger import GENESIS, Entry, entry_hash, first_problem, next_entry
from openpcf.services.calculation.project import load_project
from openpcf.services.certification import ledger
from openpcf.services.certification.green_certificates import record_claims
from openpcf.services.errors import InvalidRequest
from openpcf.store.audit import attribute
from openpcf.store.db import sessions
from tests.cli_runner import openpcf

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical JSON numbers
RFC8785_NUMBERS = {
    "0000000000000000": "0", "8000000000000000": "0", "0000000000000001": "5e-324",
    "8000000000000001": "-5e-324", "7fefffffffffffff": "1.7976931348623157e+308",
    "4340000000000000": "9007199254740992", "c340000000000000": "-9007199254740992",
    "4430000000000000": "295147905179352830000", "44b52d02c7e14af5": "9.999999999999997e+22",
    "44b52d02c7e14af6": "1e+23", "44b52d02c7e14af7": "1.0000000000000001e+23",
    "444b1ae4d6e2ef4e": "999999999999999700000", "444b1ae4d6e2ef4f": "999999999999999900000",
    "444b1ae4d6e2ef50": "1e+21", "3eb0c6f7a0b5ed8c": "9.999999999999997e-7",
    "3eb0c6f7a0b5ed8d": "0.000001", "41b3de4355555553": "333333333.3333332",
    "41b3de4355555554": "333333333.33333325", "41b3de4355555555": "333333333.3333333",
    "41b3de4355555556": "333333333.3333334", "41b3de4355555557": "333333333.33333343",
    "becbf647612f3696": "-0.0000033333333333333333", "43143ff3c1cb0959": "1424953923781206.2",
}  # fmt: skip


@pytest.mark.parametrize(("bits", "expected"), RFC8785_NUMBERS.items())
def test_numbers_are_written_as_rfc_8785_writes_them(bits: str, expected: str) -> None:
    assert es_number(struct.unpack(">d", bytes.fromhex(bits))[0]) == expected


def test_canonical_json_sorts_keys_escapes_as_javascript_and_refuses_nan() -> None:
    # RFC 8785 section 3.2.3: keys sorted by UTF-16 code units ("\u20ac" € before "\ud83d\ude00" 😀
    # in code points too, but "\ufb33" sorts after the surrogate pair in UTF-16)
    value = {"b": [1, 2.5, None, True], "a": "é\n\u001f", "\ufb33": 1, "\U0001f600": 2}
    assert canonical_json(value) == (
        '{"a":"é\\n\\u001f","b":[1,2.5,null,true],"\U0001f600":2,"\ufb33":1}'.encode()
    )
    with pytest.raises(NotCanonicalizable, match="not a JSON number"):
        canonical_json({"x": float("nan")})
    with pytest.raises(NotCanonicalizable, match="appears twice"):
        parse_strict('{"a": 1, "a": 2}')


def _chain(n: int) -> list[Entry]:
    out: list[Entry] = []
    for i in range(n):
        out.append(next_entry(out[-1] if out else None, "meter.reading", "operator:m",
                              {"kwh": 10.5 + i}, at=f"2026-01-0{i + 1}T00:00:00.000000Z"))  # fmt: skip
    return out


def test_an_entry_hash_is_sha256_of_the_canonical_fields() -> None:
    first = _chain(1)[0]
    body = (
        '{"actor":"operator:m","at":"2026-01-01T00:00:00.000000Z","kind":"meter.reading",'
        f'"payload":{{"kwh":10.5}},"prev":"{GENESIS}","seq":1}}'
    )
    assert first.hash == hashlib.sha256(body.encode()).hexdigest()


def test_an_intact_chain_has_no_problem() -> None:
    chain = _chain(5)
    assert first_problem(chain) is None
    assert first_problem(chain, anchor=(3, chain[2].hash)) is None


def test_an_altered_entry_is_found_at_its_position() -> None:
    chain = _chain(5)
    chain[2] = replace(chain[2], payload={"kwh": 99.0})
    found = first_problem(chain)
    assert found is not None and (found.position, found.problem) == (3, "altered")


def test_an_altered_and_rehashed_entry_is_found_by_the_next_link() -> None:
    chain = _chain(5)
    e = chain[2]
    chain[2] = replace(e, payload={"kwh": 99.0},
                       hash=entry_hash(e.seq, e.kind, e.at, e.actor, {"kwh": 99.0}, e.prev))  # fmt: skip
    found = first_problem(chain)
    assert found is not None and (found.position, found.problem) == (3, "altered")


def test_a_removed_entry_is_found_where_it_was() -> None:
    chain = _chain(5)
    del chain[2]
    found = first_problem(chain)
    assert found is not None and (found.position, found.problem) == (3, "removed")
    assert "entry 3 removed" in found.message


def test_reordered_entries_are_found() -> None:
    chain = _chain(5)
    chain[1], chain[2] = chain[2], chain[1]
    found = first_problem(chain)
    assert found is not None and (found.position, found.problem) == (2, "reordered")


def test_a_removed_tail_is_found_only_against_an_anchor() -> None:
    chain = _chain(5)
    anchor = (5, chain[4].hash)
    assert first_problem(chain[:4]) is None  # a shorter chain is intact in itself
    found = first_problem(chain[:4], anchor)
    assert found is not None and (found.position, found.problem) == (5, "removed")
    # a rewritten chain (every hash recomputed) no longer holds the anchored hash
    rewritten = [*_chain(3), next_entry(_chain(4)[2], "meter.reading", "operator:m", {"kwh": 0})]
    found = first_problem(rewritten, (4, chain[3].hash))
    assert found is not None and (found.position, found.problem) == (4, "anchor")


# --- the stored ledger -----------------------------------------------------------------------


def _append(url: str, n: int) -> list[ledger.LedgerEntryInfo]:
    out = []
    for i in range(n):
        with sessions(url)() as s, s.begin():
            attribute(s, "operator:tests", None)
            out.append(ledger.append(s, "operator:tests", "meter.reading",
                                     {"meter": "M-1", "kwh": 1.25 * i, "i": i}))  # fmt: skip
    return out


def _raw(url: str, *statements: str | tuple[str, dict]) -> None:
    """Change ledger rows behind the application's back (triggers disabled for it)."""
    engine = create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    names = ("ledger_entries_update", "ledger_entries_delete")
    try:
        with engine.begin() as conn:
            ddl = []
            for name in names:
                if postgres:
                    conn.execute(text(f"ALTER TABLE ledger_entries DISABLE TRIGGER {name}"))
                else:
                    ddl.append(conn.execute(text(
                        "SELECT sql FROM sqlite_master WHERE type='trigger' AND name=:n"
                    ), {"n": name}).scalar_one())  # fmt: skip
                    conn.execute(text(f"DROP TRIGGER {name}"))
            for statement in statements:
                sql, params = statement if isinstance(statement, tuple) else (statement, {})
                conn.execute(text(sql), params)
            for create in ddl:
                conn.execute(text(create))
            if postgres:
                for name in names:
                    conn.execute(text(f"ALTER TABLE ledger_entries ENABLE TRIGGER {name}"))
    finally:
        engine.dispose()


def _verdict(url: str) -> ledger.LedgerVerdict:
    with sessions(url)() as s:
        return ledger.verify(s)


def test_the_stored_chain_verifies_and_its_head_is_the_last_entry(database_url: str) -> None:
    entries = _append(database_url, 4)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == GENESIS and entries[1].prev_hash == entries[0].hash
    verdict = _verdict(database_url)
    assert verdict.ok and verdict.entries == 4
    assert (verdict.head.seq, verdict.head.hash) == (4, entries[3].hash)
    with sessions(database_url)() as s:
        assert ledger.verify(s, anchor=(2, entries[1].hash)).ok
        assert not ledger.verify(s, anchor=(2, entries[2].hash)).ok


def test_the_database_refuses_to_change_or_delete_an_entry(database_url: str) -> None:
    _append(database_url, 2)
    engine = create_engine(database_url)
    try:
        for sql in ("UPDATE ledger_entries SET payload = '{}' WHERE seq = 1",
                    "DELETE FROM ledger_entries WHERE seq = 2"):  # fmt: skip
            with pytest.raises(Exception, match="the ledger is append-only"), engine.begin() as c:
                c.execute(text(sql))
    finally:
        engine.dispose()


def test_an_altered_stored_entry_is_found_and_the_command_exits_1(database_url: str) -> None:
    _append(database_url, 5)
    _raw(database_url, "UPDATE ledger_entries SET payload = replace(payload, '\"meter\"', "
         "'\"meter \"') WHERE seq = 3")  # fmt: skip
    verdict = _verdict(database_url)
    assert (verdict.ok, verdict.position, verdict.problem) == (False, 3, "altered")
    r = openpcf("ledger", "verify", env=os.environ | {"OPENPCF_DATABASE_URL": database_url})
    assert r.returncode == 1 and "ledger broken at position 3" in r.stdout, r.stdout + r.stderr
    r = openpcf("ledger", "head", "--format", "json",
                env=os.environ | {"OPENPCF_DATABASE_URL": database_url})  # fmt: skip
    assert r.returncode == 0 and json.loads(r.stdout)["seq"] == 5


def test_a_removed_stored_entry_is_found(database_url: str) -> None:
    _append(database_url, 5)
    _raw(database_url, "DELETE FROM ledger_entries WHERE seq = 2")
    verdict = _verdict(database_url)
    assert (verdict.position, verdict.problem) == (2, "removed")


def test_reordered_stored_entries_are_found(database_url: str) -> None:
    _append(database_url, 5)
    # swap the contents of the rows holding entries 2 and 3 (the rows' ids, the stored
    # order, stay): through a temporary seq, as seq, hash and prev_hash are unique
    with sessions(database_url)() as s:
        rows = {e.seq: e for e in ledger.entries(s, after=0, limit=10)}

    def put(entry: ledger.LedgerEntryInfo, where: int) -> tuple[str, dict]:
        sql = ("UPDATE ledger_entries SET seq = :seq, kind = :kind, at = :at, actor = :actor, "
               "payload = :payload, prev_hash = :prev, hash = :hash WHERE seq = :where")  # fmt: skip
        return sql, {"seq": entry.seq, "kind": entry.kind, "at": entry.at, "actor": entry.actor,
                     "payload": canonical_json(entry.payload).decode(), "prev": entry.prev_hash,
                     "hash": entry.hash, "where": where}  # fmt: skip

    parking = ("UPDATE ledger_entries SET seq = -1, hash = 'h', prev_hash = 'p' WHERE seq = 2", {})
    _raw(database_url, parking, put(rows[2], 3), put(rows[3], -1))
    verdict = _verdict(database_url)
    assert (verdict.position, verdict.problem) == (2, "reordered")


def test_green_certificate_claims_go_into_the_ledger(write: Callable, database_url: str) -> None:
    path = write("a.yaml", """
        openpcf: 1
        product: {id: "urn:openpcf:product:t1:a", name: A, declared_unit: {amount: 1, unit: kg},
                  region: CN-JS, year: 2023}
        inputs:
          - name: Power
            stage: production
            amount: 10
            unit: kWh
            electricity:
              certificates:
                consumption: {amount: 100, unit: MWh}
                claims: [{id: GEC-7, amount: 2, unit: MWh, generation: wind}]
        """)  # fmt: skip
    record_claims(sessions(database_url), "t1", load_project(path))
    record_claims(sessions(database_url), "t1", load_project(path))  # again: no new claim
    with sessions(database_url)() as s:
        rows = ledger.entries(s, kind="green-certificate.claimed")
    assert [(r.payload["certificate_id"], r.payload["kwh"]) for r in rows] == [("GEC-7", 2000.0)]


def test_a_bad_kind_or_payload_is_refused(database_url: str) -> None:
    with sessions(database_url)() as s, s.begin():
        with pytest.raises(InvalidRequest, match="dotted lower-case"):
            ledger.append(s, "operator:t", "Meter Reading", {})
        with pytest.raises(InvalidRequest, match="not a JSON number"):
            ledger.append(s, "operator:t", "meter.reading", {"kwh": float("inf")})


def test_an_anchor_must_be_seq_and_hash(tmp_path: Path) -> None:
    assert ledger.parse_anchor("3:" + "a" * 64) == (3, "a" * 64)
    with pytest.raises(InvalidRequest, match="SEQ:HASH"):
        ledger.parse_anchor("3:xyz")
