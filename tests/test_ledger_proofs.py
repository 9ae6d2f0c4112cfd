"""The ledger's Merkle tree against RFC 6962/9162 test vectors from an independent source.

Source: transparency-dev/merkle (the Merkle tree library of Trillian and Certificate
Transparency Go), file proof/verify_test.go at commit 02194e9afb6c1d95b5381350007963aa70fff472:
the 8 reference leaves, the tree heads of sizes 1 to 8, inclusion proofs (leaf numbers there
are 1-based) and consistency proofs, copied here as published. Our proofs must equal theirs
byte for byte, verify, and every corruption their test makes must fail.
"""

from __future__ import annotations

import hashlib

import pytest

from openpcf.domain import merkle
from openpcf.domain.merkle import ProofError


def h(text: str) -> bytes:
    return bytes.fromhex(text)


LEAVES = [h(x) for x in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                         "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
ROOTS = [h(x) for x in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]  # fmt: skip
EMPTY = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
SOME = h("abacaba000000000000000000000000000000000000000000060061e00123456")

# (leaf, 1-based; tree size; proof)
INCLUSION = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
# (size1, size2, proof)
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip

HASHED = [merkle.leaf_hash(x) for x in LEAVES]


def test_the_tree_heads_are_the_reference_roots() -> None:
    assert merkle.root([]) == EMPTY  # SHA-256 of nothing
    for n in range(1, 9):
        assert merkle.root(HASHED[:n]) == ROOTS[n - 1], f"size {n}"


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_inclusion_proofs_equal_the_reference_and_verify(leaf: int, size: int, proof) -> None:
    expected = [h(p) for p in proof]
    index, root = leaf - 1, ROOTS[size - 1]
    assert merkle.inclusion_proof(index, HASHED[:size]) == expected
    merkle.verify_inclusion(index, size, HASHED[index], expected, root)
    # the corruptions of the reference test (corruptInclusionProof) all fail
    bad = [
        (index - 1, size, root, HASHED[index], expected),
        (index + 1, size, root, HASHED[index], expected),
        (index ^ 2, size, root, HASHED[index], expected),
        (index, size * 2, root, HASHED[index], expected),
        (index, size // 2, root, HASHED[index], expected),
        (index, size, root, b"WrongLeaf", expected),
        (index, size, EMPTY, HASHED[index], expected),
        (index, size, SOME, HASHED[index], expected),
        (index, size, root, HASHED[index], [*expected, b""]),
        (index, size, root, HASHED[index], [*expected, root]),
        (index, size, root, HASHED[index], [b"", *expected]),
        (index, size, root, HASHED[index], [root, *expected]),
    ]
    for i in range(len(expected)):
        flipped = list(expected)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        bad.append((index, size, root, HASHED[index], flipped))
    if expected:
        bad.append((index, size, root, HASHED[index], expected[:-1]))
    if len(expected) > 1:
        bad.append((index, size, root, HASHED[index], [expected[0], SOME, *expected[1:]]))
    for i, (idx, sz, rt, lf, pf) in enumerate(bad):
        if idx < 0:
            continue
        with pytest.raises(ProofError):
            merkle.verify_inclusion(idx, sz, lf, pf, rt)
            pytest.fail(f"corruption {i} verified")


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY)
def test_consistency_proofs_equal_the_reference_and_verify(size1: int, size2: int, proof) -> None:
    expected = [h(p) for p in proof]
    root1, root2 = ROOTS[size1 - 1], ROOTS[size2 - 1]
    assert merkle.consistency_proof(size1, HASHED[:size2]) == expected
    merkle.verify_consistency(size1, size2, root1, root2, expected)
    if not expected:
        return
    bad = [
        (size1 - 1, size2, root1, root2, expected),
        (size1 + 1, size2, root1, root2, expected),
        (size1 ^ 2, size2, root1, root2, expected),
        (size1, size2 * 2, root1, root2, expected),
        (size1, size2 // 2, root1, root2, expected),
        (size1, size2, b"WrongRoot", root2, expected),
        (size1, size2, root1, b"WrongRoot", expected),
        (size1, size2, root2, root1, expected),
        (size1, size2, root1, root2, []),
        (size1, size2, root1, root2, [*expected, b""]),
        (size1, size2, root1, root2, [*expected, root1]),
        (size1, size2, root1, root2, [*expected, root2]),
        (size1, size2, root1, root2, [b"", *expected]),
        (size1, size2, root1, root2, [root1, *expected]),
        (size1, size2, root1, root2, [root2, *expected]),
        (size1, size2, root1, root2, [expected[0], *expected]),
        (size1, size2, root1, root2, expected[:-1]),
    ]
    for i in range(len(expected)):
        flipped = list(expected)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        bad.append((size1, size2, root1, root2, flipped))
    for i, (s1, s2, r1, r2, pf) in enumerate(bad):
        with pytest.raises(ProofError):
            merkle.verify_consistency(s1, s2, r1, r2, pf)
            pytest.fail(f"corruption {i} verified")


def test_every_proof_of_larger_trees_verifies_against_a_plain_recursive_root() -> None:
    """Beyond the vectors: sizes 1 to 40, checked against a direct transcription of MTH's
    recursive definition (RFC 9162 §2.1.1), independent of the level-by-level `root`."""

    def mth(d: list[bytes]) -> bytes:
        if not d:
            return hashlib.sha256(b"").digest()
        if len(d) == 1:
            return hashlib.sha256(b"\x00" + d[0]).digest()
        k = 1
        while k * 2 < len(d):
            k *= 2
        return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()

    data = [bytes([i, i * 7 % 256]) for i in range(40)]
    hashed = [merkle.leaf_hash(x) for x in data]
    for n in range(1, 41):
        top = mth(data[:n])
        assert merkle.root(hashed[:n]) == top
        for i in range(n):
            merkle.verify_inclusion(i, n, hashed[i], merkle.inclusion_proof(i, hashed[:n]), top)
        for m in range(0, n + 1):
            proof = merkle.consistency_proof(m, hashed[:n])
            merkle.verify_consistency(m, n, mth(data[:m]), top, proof)
