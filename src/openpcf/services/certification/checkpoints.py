"""Signed checkpoints of the ledger and Merkle proofs a third party checks without trusting us.

The ledger's entries are the leaves of an RFC 9162 Merkle tree (leaf data: the entry's 32-byte
hash, see `domain/merkle.py`). A checkpoint states the tree's size and root at a time, signed
with the platform's own Ed25519 key (`platform-ledger.pem` in OPENPCF_KEYS_DIR, 0600, made on
first use; encrypted with OPENPCF_KEY_PASSPHRASE when set). The signed message is the RFC 8785
canonical JSON of {"origin", "size", "root", "time"}; origin is OPENPCF_PUBLIC_URL.

Whoever saved a checkpoint can later ask for a consistency proof and check that today's
ledger extends it (nothing changed, removed or reordered), and a buyer holding one entry (a
green-electricity claim, a certificate) can check its inclusion proof against a checkpoint.
The hash chain alone could not show a cut tail or a rewrite-and-rehash; a saved checkpoint
does. Checkpoints are insert-only (triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf import config
from openpcf.domain import merkle
from openpcf.domain.canonical import canonical_json
from openpcf.domain.certification import fingerprint, public_raw
from openpcf.domain.ledger import entry_hash, timestamp
from openpcf.services.errors import InvalidRequest, NotFound
from openpcf.store.audit import attribute
from openpcf.store.models_certification import LedgerEntry
from openpcf.store.models_security import LedgerCheckpoint

KEY_NAME = "platform-ledger"  # the key file: OPENPCF_KEYS_DIR/platform-ledger.pem
ALGORITHM = "RFC 9162 Merkle tree (SHA-256) over ledger entry hashes; Ed25519 over RFC 8785 JSON"


class Checkpoint(BaseModel):
    """A signed tree head of the ledger: save it, and check later that the ledger extends it."""

    model_config = ConfigDict(frozen=True)

    origin: str = Field(description="the platform (OPENPCF_PUBLIC_URL)")
    size: int = Field(description="entries in the ledger at `time`")
    root: str = Field(description="RFC 9162 Merkle tree root (hex) of those entries")
    time: str = Field(description="UTC, as signed")
    key: str = Field(description="sha256 fingerprint of the platform's public key")
    public_key: str = Field(description="the platform's Ed25519 public key (base64, raw)")
    signature: str = Field(description="Ed25519 over the canonical JSON of origin, size, "
                           "root and time (base64)")  # fmt: skip
    algorithm: str = ALGORITHM


class InclusionProof(BaseModel):
    """That ledger entry `seq` is in the tree of `size` entries whose root is `root`."""

    seq: int
    size: int
    leaf: str = Field(description="the entry's hash (hex): the leaf's data")
    proof: list[str] = Field(description="the audit path, hex, leaf to root")
    root: str
    entry: dict[str, Any] | None = Field(
        default=None, description="the entry itself (only for those who may read it)"
    )


class ConsistencyProof(BaseModel):
    """That the tree of `first` entries is a prefix of the tree of `second` entries."""

    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


class CheckpointVerdict(BaseModel):
    ok: bool
    checkpoint_size: int
    ledger_size: int
    message: str


def signed_message(origin: str, size: int, root: str, time: str) -> bytes:
    return canonical_json({"origin": origin, "size": size, "root": root, "time": time})


def platform_key() -> Ed25519PrivateKey:
    """The platform's checkpoint key, made (0600) on first use."""
    from openpcf.services.certification import signing

    if not signing._path(KEY_NAME).exists():
        with contextlib.suppress(FileExistsError):  # another process made it first
            signing._write_private(KEY_NAME, Ed25519PrivateKey.generate())
    return signing._read_private(KEY_NAME)


def leaf_hashes(session: Session, size: int | None = None) -> list[bytes]:
    """Leaf hashes of the ledger's entries in seq order (the first `size` of them)."""
    query = select(LedgerEntry.hash).order_by(LedgerEntry.seq)
    if size is not None:
        query = query.limit(size)
    return [merkle.leaf_hash(bytes.fromhex(h)) for h in session.scalars(query)]


def make_checkpoint(session: Session, actor: str) -> Checkpoint:
    """Sign the ledger's current tree head and keep it (unchanged size: the last one)."""
    with session.begin():
        leaves = leaf_hashes(session)
        last = _latest_row(session)
        same = last is not None and last.size == len(leaves)
        if same and last.root == merkle.root(leaves).hex():  # type: ignore[union-attr]
            return _checkpoint(last)  # type: ignore[arg-type]
        key = platform_key()
        raw = public_raw(key.public_key())
        origin, root, at = config.public_url(), merkle.root(leaves).hex(), timestamp()
        signature = key.sign(signed_message(origin, len(leaves), root, at))
        attribute(session, actor, None)
        row = LedgerCheckpoint(
            size=len(leaves),
            root=root,
            at=at,
            origin=origin,
            key_fingerprint=fingerprint(raw),
            public_key=base64.b64encode(raw).decode(),
            signature=base64.b64encode(signature).decode(),
        )
        session.add(row)
        session.flush()
        return _checkpoint(row)


def latest_checkpoint(session: Session) -> Checkpoint:
    row = _latest_row(session)
    if row is None:
        raise NotFound("no ledger checkpoint yet (openpcf ledger checkpoint makes one)")
    return _checkpoint(row)


def list_checkpoints(session: Session, limit: int = 100) -> list[Checkpoint]:
    rows = session.scalars(
        select(LedgerCheckpoint).order_by(LedgerCheckpoint.id.desc()).limit(limit)
    )
    return [_checkpoint(r) for r in rows]


def check_signature(cp: Checkpoint, trusted_key: str | None = None) -> None:
    """InvalidRequest unless the checkpoint is signed by its key (and that key is
    `trusted_key`, a fingerprint, when given)."""
    try:
        raw = base64.b64decode(cp.public_key, validate=True)
        public = Ed25519PublicKey.from_public_bytes(raw)
        public.verify(
            base64.b64decode(cp.signature, validate=True),
            signed_message(cp.origin, cp.size, cp.root, cp.time),
        )
    except (InvalidSignature, ValueError) as exc:
        reason = str(exc) or "a different message or key"
        raise InvalidRequest(f"the checkpoint's signature does not verify ({reason})") from None
    if fingerprint(raw) != cp.key:
        raise InvalidRequest("the checkpoint's key fingerprint does not match its public key")
    if trusted_key is not None and cp.key != trusted_key:
        raise InvalidRequest(f"the checkpoint is signed by {cp.key}, not the trusted {trusted_key}")


def inclusion(session: Session, seq: int, size: int | None = None, with_entry: bool = False
              ) -> InclusionProof:  # fmt: skip
    """The inclusion proof of entry `seq` in the tree of `size` entries (default: all)."""
    leaves = leaf_hashes(session)
    size = len(leaves) if size is None else size
    if not 1 <= seq <= size <= len(leaves):
        raise NotFound(f"no ledger entry {seq} in a ledger of {size} (of {len(leaves)}) entries")
    row = session.scalars(select(LedgerEntry).where(LedgerEntry.seq == seq)).one()
    entry = None
    if with_entry:
        entry = {"seq": row.seq, "kind": row.kind, "at": row.at, "actor": row.actor,
                 "payload": json.loads(row.payload), "prev": row.prev_hash}  # fmt: skip
    proof = merkle.inclusion_proof(seq - 1, leaves[:size])
    return InclusionProof(
        seq=seq,
        size=size,
        leaf=row.hash,
        proof=[p.hex() for p in proof],
        root=merkle.root(leaves[:size]).hex(),
        entry=entry,
    )


def consistency(session: Session, first: int, second: int | None = None) -> ConsistencyProof:
    leaves = leaf_hashes(session)
    second = len(leaves) if second is None else second
    if not 0 <= first <= second <= len(leaves):
        raise InvalidRequest(
            f"sizes {first} and {second} must satisfy 0 <= first <= second <= {len(leaves)}"
        )
    return ConsistencyProof(
        first=first,
        second=second,
        first_root=merkle.root(leaves[:first]).hex(),
        second_root=merkle.root(leaves[:second]).hex(),
        proof=[p.hex() for p in merkle.consistency_proof(first, leaves[:second])],
    )


def check_inclusion(proof: InclusionProof, cp: Checkpoint) -> None:
    """Offline: InvalidRequest unless `proof` places its entry in the checkpoint's tree (and,
    when the proof carries the entry, the entry's content hashes to the leaf)."""
    check_signature(cp)
    if proof.size != cp.size or proof.root != cp.root:
        raise InvalidRequest(
            f"the proof is for a ledger of {proof.size} entries with root {proof.root[:16]}..., "
            f"the checkpoint for {cp.size} with root {cp.root[:16]}...; ask for a proof at the "
            "checkpoint's size"
        )
    if proof.entry is not None:
        e = proof.entry
        digest = entry_hash(e["seq"], e["kind"], e["at"], e["actor"], e["payload"], e["prev"])
        if digest != proof.leaf or e["seq"] != proof.seq:
            raise InvalidRequest(f"entry {proof.seq}'s content does not match its hash")
    try:
        merkle.verify_inclusion(
            proof.seq - 1,
            proof.size,
            merkle.leaf_hash(bytes.fromhex(proof.leaf)),
            [bytes.fromhex(p) for p in proof.proof],
            bytes.fromhex(cp.root),
        )
    except (merkle.ProofError, ValueError) as exc:
        raise InvalidRequest(f"entry {proof.seq} is not in the checkpoint's tree: {exc}") from None


def verify_against(session: Session, cp: Checkpoint, trusted_key: str | None = None
                   ) -> CheckpointVerdict:  # fmt: skip
    """Whether today's ledger extends a saved checkpoint: signature, size, and an RFC 9162
    consistency proof from the checkpoint's tree to today's, verified as a third party would."""
    check_signature(cp, trusted_key)
    leaves = leaf_hashes(session)
    n = len(leaves)
    if n < cp.size:
        return CheckpointVerdict(
            ok=False, checkpoint_size=cp.size, ledger_size=n,
            message=f"the ledger has {n} entries, the checkpoint of {cp.time} vouches for "
            f"{cp.size}: entries were removed from its end",
        )  # fmt: skip
    proof = merkle.consistency_proof(cp.size, leaves)
    try:
        merkle.verify_consistency(cp.size, n, bytes.fromhex(cp.root), merkle.root(leaves), proof)
    except merkle.ProofError as exc:
        return CheckpointVerdict(
            ok=False, checkpoint_size=cp.size, ledger_size=n,
            message=f"the ledger does not extend the checkpoint of {cp.time} ({cp.size} "
            f"entries): {exc}",
        )  # fmt: skip
    return CheckpointVerdict(
        ok=True, checkpoint_size=cp.size, ledger_size=n,
        message=f"the ledger of {n} entries extends the checkpoint of {cp.time} ({cp.size})",
    )  # fmt: skip


def _latest_row(session: Session) -> LedgerCheckpoint | None:
    query = select(LedgerCheckpoint).order_by(LedgerCheckpoint.id.desc()).limit(1)
    return session.scalars(query).first()


def _checkpoint(row: LedgerCheckpoint) -> Checkpoint:
    return Checkpoint(
        origin=row.origin,
        size=row.size,
        root=row.root,
        time=row.at,
        key=row.key_fingerprint,
        public_key=row.public_key,
        signature=row.signature,
    )


class CheckpointWorker:
    """A thread of the API server that signs a checkpoint every OPENPCF_LEDGER_CHECKPOINT_MINUTES
    (an unchanged ledger keeps its last one), so a published head is never far behind."""

    ACTOR = "operator:ledger-checkpoint"

    def __init__(self, sessions: Any, minutes: float) -> None:
        import threading

        self.sessions, self.seconds = sessions, minutes * 60
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ledger-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        import logging

        while not self._stop.wait(self.seconds):
            try:
                make_checkpoint(self.sessions(), self.ACTOR)
            except Exception:  # a lost database or an unreadable key: try again next time
                logging.getLogger("openpcf.ledger").exception("ledger checkpoint failed")
