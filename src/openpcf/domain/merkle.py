"""Merkle tree of the ledger, as RFC 9162 (Certificate Transparency 2.0) §2.1 defines it.

Leaf hash = SHA-256(0x00 || data), interior node = SHA-256(0x01 || left || right); the tree of
n leaves splits at k, the largest power of two smaller than n. Pure functions over lists of
leaf hashes (bytes): the tree head (MTH), inclusion proofs (§2.1.3) and consistency proofs
(§2.1.4), and their verification exactly as §2.1.3.2 and §2.1.4.2 write it, so that anyone
with another RFC 9162 implementation gets the same answers (tests/test_ledger_proofs.py
checks them against transparency-dev/merkle's test vectors).

For the ledger a leaf's data is the 32 bytes of the entry's own hash (`domain/ledger.py`),
which already covers the entry's content and its link to the previous one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not verify (or sizes that make no sense)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of leaf hashes. Level by level: an odd last node is carried up unchanged,
    which yields the same tree as the RFC's recursive split (no recursion, O(n))."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1: the audit path of leaf `index` (0-based)."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ProofError(f"leaf {index} is not in a tree of {n} leaves")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root(leaves[:k])]


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1: that the tree of the first `old_size` leaves is
    a prefix of the tree of all `leaves`."""
    n = len(leaves)
    if not 0 <= old_size <= n:
        raise ProofError(f"a tree of {old_size} leaves is not a prefix of one of {n}")
    if old_size in (0, n):
        return []
    return _subproof(old_size, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2); ProofError if malformed."""
    if index >= size or index < 0:
        raise ProofError(f"leaf index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """ProofError unless `leaf` is leaf `index` of the tree of `size` with `expected_root`."""
    if root_from_inclusion(index, size, leaf, proof) != expected_root:
        raise ProofError(f"the inclusion proof of leaf {index} does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """ProofError unless the tree (old_size, old_root) is a prefix of (new_size, new_root)
    (RFC 9162 §2.1.4.2)."""
    if old_size > new_size or old_size < 0:
        raise ProofError(f"a tree of {new_size} cannot extend one of {old_size}: it is smaller")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise ProofError("same size, different roots: the tree was rewritten")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("an empty consistency proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError(
            f"the ledger of {new_size} entries does not extend the checkpoint of {old_size}: "
            "entries were changed, removed or reordered"
        )
