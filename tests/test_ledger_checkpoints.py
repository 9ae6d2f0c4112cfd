"""Issue 14: "the ledger verifies after a rewrite-and-rehash or a cut tail unless the verifier
happened to keep an anchor". Now the platform signs checkpoints (size, Merkle root, time) and a
saved checkpoint catches both, through `openpcf ledger verify --checkpoint FILE`; a buyer checks
one entry's inclusion proof offline (`ledger prove` / `ledger check-proof`). SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.domain import merkle
from openpcf.domain.canonical import canonical_json
from openpcf.domain.ledger import Entry, next_entry
from openpcf.services.certification import checkpoints, ledger
from openpcf.services.errors import InvalidRequest
from openpcf.store.db import sessions
from tests.cli_runner import openpcf
from tests.test_ledger import _append, _raw


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    keys = tmp_path / "keys"
    monkeypatch.setenv("OPENPCF_KEYS_DIR", str(keys))
    monkeypatch.setenv("OPENPCF_PUBLIC_URL", "https://pcf.example.cn")
    return os.environ | {"OPENPCF_DATABASE_URL": database_url, "OPENPCF_KEYS_DIR": str(keys),
                         "OPENPCF_HOME": str(tmp_path)}  # fmt: skip


def _checkpoint(url: str, path: Path) -> checkpoints.Checkpoint:
    cp = checkpoints.make_checkpoint(sessions(url)(), "operator:tests")
    path.write_text(cp.model_dump_json())
    return cp


def _verify(env: dict[str, str], path: Path):
    return openpcf("ledger", "verify", "--checkpoint", str(path), env=env)


def test_a_checkpoint_is_signed_with_the_platforms_key(database_url: str, env, tmp_path) -> None:
    entries = _append(database_url, 5)
    cp = _checkpoint(database_url, tmp_path / "cp.json")
    leaves = [merkle.leaf_hash(bytes.fromhex(e.hash)) for e in entries]
    assert (cp.size, cp.root, cp.origin) == (5, merkle.root(leaves).hex(), "https://pcf.example.cn")
    checkpoints.check_signature(cp)
    key_file = Path(env["OPENPCF_KEYS_DIR"]) / "platform-ledger.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # a forged size (or any signed field) breaks the signature
    with pytest.raises(InvalidRequest, match="signature does not verify"):
        checkpoints.check_signature(cp.model_copy(update={"size": 4}))
    with pytest.raises(InvalidRequest, match="not the trusted"):
        checkpoints.check_signature(cp, trusted_key="sha256:" + "0" * 64)
    # unchanged ledger: the same checkpoint; published at /ledger/checkpoint and the registry
    assert checkpoints.make_checkpoint(sessions(database_url)(), "operator:tests") == cp
    with TestClient(create_app(database_url)) as client:
        assert client.get("/ledger/checkpoint").json() == cp.model_dump()
        assert client.get("/registry/ledger-checkpoint").json() == cp.model_dump()


def test_a_cut_tail_fails_against_a_saved_checkpoint(database_url: str, env, tmp_path) -> None:
    _append(database_url, 6)
    saved = tmp_path / "cp.json"
    _checkpoint(database_url, saved)
    assert _verify(env, saved).returncode == 0
    _raw(database_url, "DELETE FROM ledger_entries WHERE seq >= 5")
    with sessions(database_url)() as s:
        assert ledger.verify(s).ok  # the finding: the chain alone is intact
    r = _verify(env, saved)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "4 entries" in r.stdout and "removed from its end" in r.stdout


def test_a_rewritten_and_rehashed_tail_fails_against_a_saved_checkpoint(
    database_url: str, env, tmp_path
) -> None:
    entries = _append(database_url, 5)
    saved = tmp_path / "cp.json"
    _checkpoint(database_url, saved)
    # rewrite entry 4 (a meter reading of 0 kWh) and re-hash 4 and 5: a valid chain again
    e3 = Entry(3, entries[2].kind, entries[2].at, entries[2].actor, entries[2].payload,
               entries[2].prev_hash, entries[2].hash)  # fmt: skip
    new4 = next_entry(e3, "meter.reading", "operator:tests", {"meter": "M-1", "kwh": 0, "i": 3},
                      at=entries[3].at)  # fmt: skip
    new5 = next_entry(new4, entries[4].kind, entries[4].actor, entries[4].payload, entries[4].at)
    sql = ("UPDATE ledger_entries SET payload = :payload, prev_hash = :prev, hash = :hash "
           "WHERE seq = :seq")  # fmt: skip
    _raw(database_url, *[
        (sql, {"payload": canonical_json(dict(e.payload)).decode(), "prev": e.prev,
               "hash": e.hash, "seq": e.seq}) for e in (new4, new5)
    ])  # fmt: skip
    with sessions(database_url)() as s:
        assert ledger.verify(s).ok  # the finding: a rewritten, re-hashed chain verifies
    r = _verify(env, saved)
    assert r.returncode == 1 and "does not extend the checkpoint" in r.stdout, r.stdout


def test_a_grown_ledger_extends_its_checkpoint(database_url: str, env, tmp_path) -> None:
    _append(database_url, 3)
    saved = tmp_path / "cp.json"
    _checkpoint(database_url, saved)
    _append(database_url, 4)
    r = _verify(env, saved)
    assert r.returncode == 0 and "extends the checkpoint" in r.stdout, r.stdout + r.stderr
    # the public consistency proof checks out with nothing but the two roots
    with TestClient(create_app(database_url)) as client:
        cp = json.loads(saved.read_text())
        body = client.get(f"/ledger/consistency?first={cp['size']}").json()
    assert body["first_root"] == cp["root"] and body["second"] == 7
    merkle.verify_consistency(3, 7, bytes.fromhex(cp["root"]), bytes.fromhex(body["second_root"]),
                              [bytes.fromhex(p) for p in body["proof"]])  # fmt: skip


def test_a_buyer_checks_one_entry_offline(database_url: str, env, tmp_path) -> None:
    _append(database_url, 7)
    saved = tmp_path / "cp.json"
    cp = _checkpoint(database_url, saved)
    _append(database_url, 2)  # the ledger moves on; the proof is at the checkpoint's size
    proof = tmp_path / "proof.json"
    r = openpcf("ledger", "prove", "3", "--checkpoint", str(saved), "-o", str(proof), env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    body = json.loads(proof.read_text())
    assert body["size"] == 7 and body["root"] == cp.root and body["entry"]["payload"]["i"] == 2
    # offline: no database at all
    offline = {k: v for k, v in env.items() if k != "OPENPCF_DATABASE_URL"}
    offline["OPENPCF_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    r = openpcf("ledger", "check-proof", str(proof), "--checkpoint", str(saved), env=offline)
    assert r.returncode == 0 and "entry 3 is in the ledger" in r.stdout, r.stdout + r.stderr
    # a changed reading in the entry, or a changed path, fails
    forged = dict(body, entry=dict(body["entry"], payload=dict(body["entry"]["payload"], kwh=99)))
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    r = openpcf("ledger", "check-proof", str(tmp_path / "forged.json"), "--checkpoint",
                str(saved), env=offline)  # fmt: skip
    assert r.returncode == 1 and "does not match its hash" in r.stdout + r.stderr
    path = list(body["proof"])
    path[0] = ("0" if path[0][0] != "0" else "1") + path[0][1:]
    (tmp_path / "path.json").write_text(json.dumps(dict(body, proof=path)))
    r = openpcf("ledger", "check-proof", str(tmp_path / "path.json"), "--checkpoint",
                str(saved), env=offline)  # fmt: skip
    assert r.returncode == 1 and "not in the checkpoint's tree" in r.stdout + r.stderr
    # the public API gives the same path (hashes only, no entry)
    with TestClient(create_app(database_url)) as client:
        public = client.get("/ledger/proof/3?size=7").json()
    assert public["proof"] == body["proof"] and public["entry"] is None


def test_the_server_signs_checkpoints_periodically(
    database_url: str, env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(database_url, 3)
    monkeypatch.setenv("OPENPCF_LEDGER_CHECKPOINT_MINUTES", "0.005")  # every 0.3 s
    with TestClient(create_app(database_url)) as client:
        deadline = time.monotonic() + 20
        while (r := client.get("/ledger/checkpoint")).status_code == 404:
            assert time.monotonic() < deadline, "no checkpoint was signed"
            time.sleep(0.1)
        assert r.json()["size"] == 3
        checkpoints.check_signature(checkpoints.Checkpoint(**r.json()))
        _append(database_url, 2)
        while client.get("/ledger/checkpoint").json()["size"] != 5:
            assert time.monotonic() < deadline, "the grown ledger got no new checkpoint"
            time.sleep(0.1)
        # an unchanged ledger keeps its checkpoint: no new rows
        time.sleep(1)
        assert len(client.get("/ledger/checkpoints").json()) == 2
