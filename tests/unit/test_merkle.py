"""Tests for aidledger.merkle: RFC 6962 vectors, known roots and properties."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aidledger.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# Vectors live beside the tests (copied from transparency-dev/merkle testdata)
# so the suite runs from a clean clone.
VECTORS = Path(__file__).resolve().parent.parent / "data" / "rfc6962"

# Certificate Transparency reference leaf inputs and the published roots of
# their first n leaves (transparency-dev/merkle testonly/constants.go).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_LEAF_HASHES = [leaf_hash(d) for d in CT_LEAVES]


# --- vector loading ---------------------------------------------------------


def _vector_files(kind: str, name: str = "*.json") -> list[Path]:
    """Return the sorted vector files of one kind ("inclusion"/"consistency")."""
    return sorted((VECTORS / kind).rglob(name))


def _params(files: list[Path]) -> list[Any]:
    """Turn vector files into pytest params whose ids are their relative paths."""
    return [pytest.param(json.loads(f.read_text()), id=f.relative_to(VECTORS).as_posix()) for f in files]


def _b64(value: str) -> bytes:
    """Decode one base64 hash from a vector file."""
    return base64.b64decode(value)


def _proof(case: dict[str, Any]) -> list[bytes]:
    """Decode a vector's proof; the files write an empty proof as null."""
    return [_b64(p) for p in case["proof"] or []]


def _check_inclusion(case: dict[str, Any]) -> None:
    """Run verify_inclusion on one inclusion vector."""
    verify_inclusion(
        _b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        _proof(case),
        _b64(case["root"]),
    )


def _check_consistency(case: dict[str, Any]) -> None:
    """Run verify_consistency on one consistency vector."""
    verify_consistency(
        case["size1"],
        case["size2"],
        _b64(case["root1"]),
        _b64(case["root2"]),
        _proof(case),
    )


INCLUSION_FILES = _vector_files("inclusion")
CONSISTENCY_FILES = _vector_files("consistency")


def test_vector_folders_are_present_and_populated() -> None:
    """The copied vector folders exist, so parametrised tests cannot silently vanish."""
    assert (VECTORS / "LICENSE").is_file()
    # Exact counts of the vendored set: a partial copy fails here, loudly.
    assert len(INCLUSION_FILES) == 98
    assert len(CONSISTENCY_FILES) == 98


@pytest.mark.parametrize("case", _params(INCLUSION_FILES))
def test_inclusion_vector_verifies_or_raises_proof_error(case: dict[str, Any]) -> None:
    """Each inclusion vector verifies iff wantErr is false, else raises ProofError."""
    if case["wantErr"]:
        with pytest.raises(ProofError):
            _check_inclusion(case)
    else:
        assert _check_inclusion(case) is None  # type: ignore[func-returns-value]


@pytest.mark.parametrize("case", _params(CONSISTENCY_FILES))
def test_consistency_vector_verifies_or_raises_proof_error(
    case: dict[str, Any],
) -> None:
    """Each consistency vector verifies iff wantErr is false, else raises ProofError."""
    if case["wantErr"]:
        with pytest.raises(ProofError):
            _check_consistency(case)
    else:
        assert _check_consistency(case) is None  # type: ignore[func-returns-value]


@pytest.mark.parametrize("case", _params(_vector_files("inclusion", "happy-path.json")))
def test_generated_inclusion_proof_equals_published_vector(
    case: dict[str, Any],
) -> None:
    """inclusion_proof over the CT leaves reproduces each published happy-path proof."""
    leaves = CT_LEAF_HASHES[: case["treeSize"]]
    assert leaves[case["leafIdx"]] == _b64(case["leafHash"])
    assert inclusion_proof(leaves, case["leafIdx"]) == _proof(case)


@pytest.mark.parametrize("case", _params(_vector_files("consistency", "happy-path.json")))
def test_generated_consistency_proof_equals_published_vector(
    case: dict[str, Any],
) -> None:
    """consistency_proof over the CT leaves reproduces each published proof."""
    leaves = CT_LEAF_HASHES[: case["size2"]]
    assert root_from_leaf_hashes(leaves[: case["size1"]]) == _b64(case["root1"])
    assert consistency_proof(leaves, case["size1"]) == _proof(case)


# --- hashing and known roots ------------------------------------------------


def test_leaf_and_node_hashes_use_rfc_domain_prefixes() -> None:
    """Leaves hash as SHA-256(0x00||d) and nodes as SHA-256(0x01||l||r)."""
    left, right = b"L" * 32, b"R" * 32
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


def test_empty_tree_root_is_sha256_of_empty_string() -> None:
    """The empty tree's root is SHA-256 of the empty string."""
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert MerkleAccumulator().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(len(CT_ROOTS)))
def test_root_of_ct_reference_leaves_matches_published_root(size: int) -> None:
    """The root over the first n CT reference leaves equals the published root."""
    assert root_from_leaf_hashes(CT_LEAF_HASHES[:size]).hex() == CT_ROOTS[size]


def test_million_leaf_tree_matches_closed_form_root() -> None:
    """A 2**20 + 1 leaf tree is computed iteratively and proves its last leaf."""
    leaf = leaf_hash(b"x")
    perfect = leaf
    for _ in range(20):  # the root of 2**k equal leaves is k-fold self-hashing
        perfect = node_hash(perfect, perfect)
    leaves = [leaf] * (2**20 + 1)
    root = root_from_leaf_hashes(leaves)
    assert root == node_hash(perfect, leaf)
    proof = inclusion_proof(leaves, 2**20)
    assert proof == [perfect]
    verify_inclusion(leaf, 2**20, len(leaves), proof, root)


# --- argument checking ------------------------------------------------------


@pytest.mark.parametrize(("size", "index"), [(0, 0), (3, 3), (3, -1), (1, 5)])
def test_inclusion_proof_rejects_out_of_range_index(size: int, index: int) -> None:
    """inclusion_proof raises ValueError for an index outside the tree."""
    with pytest.raises(ValueError, match="out of range"):
        inclusion_proof(CT_LEAF_HASHES[:size], index)


@pytest.mark.parametrize(("size", "size1"), [(0, 0), (3, 0), (3, 4), (3, -1)])
def test_consistency_proof_rejects_out_of_range_size1(size: int, size1: int) -> None:
    """consistency_proof raises ValueError unless 0 < size1 <= tree size."""
    with pytest.raises(ValueError, match="out of range"):
        consistency_proof(CT_LEAF_HASHES[:size], size1)


def test_accumulator_rejects_leaf_hash_of_wrong_length() -> None:
    """Appending something that is not a 32-byte hash raises ValueError."""
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleAccumulator().append(b"short")


def test_proof_error_is_a_value_error() -> None:
    """ProofError can be caught as ValueError."""
    assert issubclass(ProofError, ValueError)


def test_verify_inclusion_rejects_proof_element_of_wrong_length() -> None:
    """A proof hash that is not 32 bytes is refused before any hashing."""
    root = root_from_leaf_hashes(CT_LEAF_HASHES[:2])
    with pytest.raises(ProofError, match="proof element 0"):
        verify_inclusion(CT_LEAF_HASHES[0], 0, 2, [CT_LEAF_HASHES[1] + b"\x00"], root)


@pytest.mark.parametrize(
    ("proof", "message"),
    [
        ([], "too short"),
        ([b"\x00" * 32] * 4, "too long"),
        ([b"\x00" * 32] * 3, "mismatch"),
    ],
)
def test_verify_inclusion_error_names_the_failed_check(proof: list[bytes], message: str) -> None:
    """The ProofError message says whether the proof was short, long or wrong."""
    root = root_from_leaf_hashes(CT_LEAF_HASHES)
    with pytest.raises(ProofError, match=message):
        verify_inclusion(CT_LEAF_HASHES[0], 0, 8, proof, root)


@pytest.mark.parametrize(("size1", "size2"), [(0, 0), (0, 3), (4, 3), (-1, 2)])
def test_verify_consistency_rejects_meaningless_sizes(size1: int, size2: int) -> None:
    """Sizes with size1 > size2, negatives, or an empty old tree raise ProofError."""
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, EMPTY_ROOT, EMPTY_ROOT, [])


# --- naive reference implementation (RFC 9162 §2.1 recursion, verbatim) -----


def _k(n: int) -> int:
    """Largest power of two strictly less than n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 §2.1.1 defines it, by recursion."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _k(len(leaves))
    return hashlib.sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


def naive_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) exactly as RFC 9162 §2.1.3.1 defines it."""
    if len(leaves) == 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return naive_path(m, leaves[:k]) + [naive_mth(leaves[k:])]
    return naive_path(m - k, leaves[k:]) + [naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) exactly as RFC 9162 §2.1.4.1 defines it."""
    if m == len(leaves):
        return [] if b else [naive_mth(leaves)]
    k = _k(len(leaves))
    if m <= k:
        return naive_subproof(m, leaves[:k], b) + [naive_mth(leaves[k:])]
    return naive_subproof(m - k, leaves[k:], False) + [naive_mth(leaves[:k])]


# --- property tests ---------------------------------------------------------

# Unique entries: with duplicate leaves a proof for one position can honestly
# verify at another position holding the same hash, which is not a bug.
leaf_lists = st.lists(st.binary(max_size=8), max_size=70, unique=True).map(
    lambda entries: [leaf_hash(e) for e in entries]
)
nonempty_leaf_lists = leaf_lists.filter(bool)


def _flip(value: bytes) -> bytes:
    """Return ``value`` with its lowest bit flipped."""
    return value[:-1] + bytes([value[-1] ^ 1])


@given(leaf_lists)
def test_accumulator_root_at_every_prefix_equals_naive_mth(leaves: list[bytes]) -> None:
    """Streaming leaves, the root after each append equals the recursive MTH."""
    acc = MerkleAccumulator()
    assert acc.root() == naive_mth([])
    for i, leaf in enumerate(leaves, start=1):
        acc.append(leaf)
        assert acc.size == i
        assert acc.root() == naive_mth(leaves[:i])
    assert root_from_leaf_hashes(leaves) == naive_mth(leaves)


@given(nonempty_leaf_lists, st.data())
def test_generated_inclusion_proof_verifies_and_matches_rfc_path(leaves: list[bytes], data: st.DataObject) -> None:
    """inclusion_proof equals RFC PATH and verifies against root_from_leaf_hashes."""
    index = data.draw(st.integers(0, len(leaves) - 1), label="index")
    proof = inclusion_proof(leaves, index)
    assert proof == naive_path(index, leaves)
    verify_inclusion(leaves[index], index, len(leaves), proof, root_from_leaf_hashes(leaves))


@given(nonempty_leaf_lists, st.data())
def test_inclusion_proof_for_wrong_leaf_fails(leaves: list[bytes], data: st.DataObject) -> None:
    """A valid audit path does not prove a different leaf hash at that index."""
    index = data.draw(st.integers(0, len(leaves) - 1), label="index")
    proof, root = inclusion_proof(leaves, index), root_from_leaf_hashes(leaves)
    with pytest.raises(ProofError):
        verify_inclusion(_flip(leaves[index]), index, len(leaves), proof, root)


@given(leaf_lists.filter(lambda ls: len(ls) >= 2), st.data())
def test_inclusion_proof_at_wrong_index_fails(leaves: list[bytes], data: st.DataObject) -> None:
    """A valid audit path for one index does not verify at another index."""
    n = len(leaves)
    index = data.draw(st.integers(0, n - 1), label="index")
    other = data.draw(st.integers(0, n - 1).filter(lambda i: i != index), label="other")
    proof, root = inclusion_proof(leaves, index), root_from_leaf_hashes(leaves)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[index], other, n, proof, root)


@given(nonempty_leaf_lists, st.data())
def test_generated_consistency_proof_verifies_and_matches_rfc_proof(leaves: list[bytes], data: st.DataObject) -> None:
    """consistency_proof equals RFC PROOF and verifies between the two roots."""
    size1 = data.draw(st.integers(1, len(leaves)), label="size1")
    proof = consistency_proof(leaves, size1)
    assert proof == naive_subproof(size1, leaves, True)
    root1, root2 = root_from_leaf_hashes(leaves[:size1]), root_from_leaf_hashes(leaves)
    verify_consistency(size1, len(leaves), root1, root2, proof)


@given(nonempty_leaf_lists, st.data())
def test_consistency_proof_with_tampered_root_fails(leaves: list[bytes], data: st.DataObject) -> None:
    """Changing either root makes an otherwise valid consistency proof fail."""
    size1 = data.draw(st.integers(1, len(leaves)), label="size1")
    proof = consistency_proof(leaves, size1)
    root1, root2 = root_from_leaf_hashes(leaves[:size1]), root_from_leaf_hashes(leaves)
    with pytest.raises(ProofError):
        verify_consistency(size1, len(leaves), _flip(root1), root2, proof)
    with pytest.raises(ProofError):
        verify_consistency(size1, len(leaves), root1, _flip(root2), proof)


@given(leaf_lists.filter(lambda ls: len(ls) >= 2), st.data())
def test_consistency_proof_with_tampered_element_fails(leaves: list[bytes], data: st.DataObject) -> None:
    """Flipping a bit in any element of a non-empty consistency proof makes it fail."""
    size1 = data.draw(st.integers(1, len(leaves) - 1), label="size1")
    proof = consistency_proof(leaves, size1)
    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    proof[position] = _flip(proof[position])
    root1, root2 = root_from_leaf_hashes(leaves[:size1]), root_from_leaf_hashes(leaves)
    with pytest.raises(ProofError):
        verify_consistency(size1, len(leaves), root1, root2, proof)


def test_every_proof_in_small_trees_verifies() -> None:
    """Exhaustively, every inclusion and consistency proof up to 33 leaves verifies."""
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(33)]
    for n in range(1, len(leaves) + 1):
        tree, root = leaves[:n], root_from_leaf_hashes(leaves[:n])
        for i in range(n):
            verify_inclusion(tree[i], i, n, inclusion_proof(tree, i), root)
            prefix_root = root_from_leaf_hashes(tree[: i + 1])
            verify_consistency(i + 1, n, prefix_root, root, consistency_proof(tree, i + 1))
