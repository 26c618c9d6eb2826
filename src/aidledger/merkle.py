"""RFC 9162 (RFC 6962) Merkle tree hashing, proof generation and verification.

The log is a sequence of byte strings. Each entry is hashed as a leaf,
``SHA-256(0x00 || data)``, and interior nodes as ``SHA-256(0x01 || left || right)``;
the distinct prefixes make a leaf hash impossible to pass off as a node hash
(RFC 9162 §2.1.1). The tree is the RFC's Merkle Tree Hash (MTH): a tree of ``n``
leaves splits at the largest power of two smaller than ``n``.

Verification (:func:`verify_inclusion`, :func:`verify_consistency`) needs nothing
but hashes and sizes, so an auditor can check a log's claims offline. Generation
works over a sequence of leaf hashes in O(n) hashing with no recursion, so very
large logs (millions of entries) are handled in bounded stack depth.

Leaves of the ledger's tree are the canonical bytes of each stored event (:func:`leaf_bytes`):

    {"originator_id": "<uuid, lower case, hyphenated>", "originator_version": <int>,
     "state": <the stored state, itself canonical JSON>, "topic": "<module:Class.Event>"}

No store detail (rowid, notification id, the SQLite hex form of ids) is part of them, so an SQLite
and a PostgreSQL copy of one history give the same leaves. The state bytes are spliced in as
stored, never re-encoded: a changed byte changes the leaf.

This module is pure standard library on purpose: auditors should be able to
read and run it without trusting anything else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any, Protocol

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleAccumulator",
    "ProofError",
    "StoredLeaf",
    "consistency_proof",
    "inclusion_proof",
    "leaf_bytes",
    "leaf_hash",
    "leaf_hash_of",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256 digest size)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""Root hash of the empty tree: ``SHA-256()`` of the empty string (RFC 9162 §2.1.1)."""

_sha256 = hashlib.sha256

# Domain-separation prefixes from RFC 9162 §2.1.1.
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(ValueError):
    """A Merkle inclusion or consistency proof failed verification.

    The message says which check failed. It subclasses :class:`ValueError` so
    callers that treat any bad input uniformly can catch one exception type.
    """


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 || data)`` of a log entry."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


class StoredLeaf(Protocol):
    """A stored event as its table holds it (``aidledger.application.ports.StoredRow``)."""

    @property
    def originator_id(self) -> str: ...

    @property
    def originator_version(self) -> Any: ...

    @property
    def topic(self) -> Any: ...

    @property
    def state(self) -> Any: ...


def _json_value(value: Any) -> bytes:
    """A scalar as canonical JSON; strings escaped exactly as canonical JSON escapes them."""
    if isinstance(value, str):
        return encode_basestring(value).encode()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).encode()
    return json.dumps(value, default=str).encode()


def _state_bytes(state: Any) -> bytes:
    if isinstance(state, bytes):
        return state
    if isinstance(state, memoryview | bytearray):
        return bytes(state)
    if isinstance(state, str):  # a hand-edited row may hold TEXT
        return state.encode()
    return _json_value(state)


@lru_cache(maxsize=1024)
def _topic_json(topic: str) -> bytes:
    """Topics repeat (one per event class): encode each once."""
    return encode_basestring(topic).encode()


def leaf_bytes(row: StoredLeaf) -> bytes:
    """The canonical leaf bytes of a stored event (see the module docstring)."""
    version, topic, state = row.originator_version, row.topic, row.state
    if type(version) is int and type(topic) is str and type(state) is bytes:  # every row the library wrote
        return b'{"originator_id":%s,"originator_version":%d,"state":%s,"topic":%s}' % (
            encode_basestring(row.originator_id).encode(),
            version,
            state,
            _topic_json(topic),
        )
    return b"".join(
        (
            b'{"originator_id":',
            encode_basestring(row.originator_id).encode(),
            b',"originator_version":',
            _json_value(version),
            b',"state":',
            _state_bytes(state),
            b',"topic":',
            _json_value(topic),
            b"}",
        )
    )


def leaf_hash_of(row: StoredLeaf) -> bytes:
    """The RFC 9162 leaf hash of a stored event."""
    return _sha256(_LEAF_PREFIX + leaf_bytes(row)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str, error: type[ValueError]) -> None:
    """Raise ``error`` unless ``value`` is exactly one SHA-256 digest long."""
    # Every honest hash is 32 bytes; anything else is a caller mistake or a
    # malformed proof, and naming it beats reporting a baffling root mismatch.
    if len(value) != HASH_SIZE:
        raise error(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


class MerkleAccumulator:
    """Streaming Merkle tree builder (a "compact range" starting at leaf 0).

    It keeps only the roots of the perfect subtrees that make up the current
    tree, largest (leftmost) first, so memory is O(log n) and each
    :meth:`append` costs amortised O(1) hashes. :meth:`root` can be taken at any
    size, which lets a caller stream a log and checkpoint as it goes.
    """

    __slots__ = ("_peaks", "_size")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        """Create an accumulator, optionally pre-loaded with ``leaf_hashes``."""
        # _peaks[i] is the root of a perfect subtree; their sizes are the set
        # bits of _size, in decreasing order.
        self._peaks: list[bytes] = []
        self._size = 0
        self.extend(leaf_hashes)

    @classmethod
    def resume(cls, size: int, frontier: bytes) -> MerkleAccumulator:
        """An accumulator of ``size`` leaves from its frontier (:meth:`frontier`), without the leaves.

        Raises ValueError unless ``frontier`` holds exactly one 32-byte hash per set bit of ``size``.
        """
        if size < 0 or len(frontier) != size.bit_count() * HASH_SIZE:
            raise ValueError(
                f"a frontier of {size} leaves holds {size.bit_count()} hashes, not {len(frontier) / HASH_SIZE:g}"
            )
        accumulator = cls()
        accumulator._peaks = [frontier[i : i + HASH_SIZE] for i in range(0, len(frontier), HASH_SIZE)]
        accumulator._size = size
        return accumulator

    def frontier(self) -> bytes:
        """The roots of the perfect subtrees that make up the tree, largest first, concatenated:
        all it takes to go on appending (:meth:`resume`) and to compute the root."""
        return b"".join(self._peaks)

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash (already passed through :func:`leaf_hash`)."""
        _check_hash(leaf, "leaf hash", ValueError)
        node, size, peaks = leaf, self._size, self._peaks
        # Each trailing 1-bit of the old size is a perfect subtree of equal
        # height to the one we are carrying: merge them, like binary addition.
        # (node_hash inlined: this loop is the hot path of verifying a log.)
        while size & 1:
            node = _sha256(_NODE_PREFIX + peaks.pop() + node).digest()
            size >>= 1
        peaks.append(node)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append every leaf hash in ``leaf_hashes``, in order."""
        for leaf in leaf_hashes:
            self.append(leaf)

    def root(self) -> bytes:
        """Return the Merkle Tree Hash of all leaves appended so far."""
        if not self._peaks:
            return EMPTY_ROOT
        # MTH splits at the largest power of two, so the leftmost peak is the
        # left child of the root and the rest fold up from the right.
        node = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            node = node_hash(peak, node)
        return node


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the RFC 9162 §2.1.1 Merkle Tree Hash of ``leaf_hashes``.

    Raises ValueError if any leaf hash is not 32 bytes long.
    """
    return MerkleAccumulator(leaf_hashes).root()


def _range_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """Return the MTH of ``leaf_hashes[start:end]`` without copying the slice."""
    acc = MerkleAccumulator()
    for i in range(start, end):
        acc.append(leaf_hashes[i])
    return acc.root()


def _split_point(n: int) -> int:
    """Return the largest power of two strictly less than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Return the audit path for leaf ``index`` in the tree of all ``leaf_hashes``.

    This is RFC 9162 §2.1.3.1 ``PATH(m, D[n])``, ordered from the leaf's
    sibling up to the child of the root. Raises ValueError unless
    ``0 <= index < len(leaf_hashes)``.
    """
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} out of range for tree of size {n}")
    siblings: list[bytes] = []
    lo, hi = 0, n
    # Walk down from the root instead of recursing; record the sibling
    # subtree at each level, then reverse so the path reads leaf-upwards.
    while hi - lo > 1:
        mid = lo + _split_point(hi - lo)
        if index < mid:
            siblings.append(_range_root(leaf_hashes, mid, hi))
            hi = mid
        else:
            siblings.append(_range_root(leaf_hashes, lo, mid))
            lo = mid
    siblings.reverse()
    return siblings


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int) -> list[bytes]:
    """Return the proof that the first ``size1`` leaves are a prefix of the tree.

    This is RFC 9162 §2.1.4.1 ``PROOF(m, D[n])`` with ``n = len(leaf_hashes)``.
    The proof is empty when ``size1 == n``. Raises ValueError unless
    ``0 < size1 <= n`` (a proof from the empty tree is not defined).
    """
    n = len(leaf_hashes)
    if not 0 < size1 <= n:
        raise ValueError(f"size1 {size1} out of range: need 0 < size1 <= {n}")
    siblings: list[bytes] = []
    lo, hi, m = 0, n, size1
    # b in SUBPROOF: True while the old tree is a left edge of the new tree,
    # in which case the verifier already knows that subtree's hash.
    complete = True
    while m != hi - lo:
        k = _split_point(hi - lo)
        if m <= k:
            siblings.append(_range_root(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            siblings.append(_range_root(leaf_hashes, lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    siblings.reverse()
    if complete:  # includes size1 == n, whose proof is empty
        return siblings
    return [_range_root(leaf_hashes, lo, hi), *siblings]


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    """Raise ProofError if any proof element is not one SHA-256 digest long."""
    for position, element in enumerate(proof):
        _check_hash(element, f"proof element {position}", ProofError)


def _check_root(computed: bytes, expected: bytes, what: str) -> None:
    """Raise ProofError unless the recomputed root equals the expected one."""
    # compare_digest: no timing side channel, cheap enough to use always.
    if not hmac.compare_digest(computed, expected):
        raise ProofError(f"{what} mismatch: computed {computed.hex()}, expected {expected.hex()}")


def verify_inclusion(
    leaf_hash: bytes,
    index: int,
    tree_size: int,
    proof: Sequence[bytes],
    root: bytes,
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree ``(tree_size, root)``.

    Implements RFC 9162 §2.1.3.2. Returns None on success and raises
    ProofError, saying what failed, on any failure.
    """
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} out of range for tree size {tree_size}")
    _check_hash(leaf_hash, "leaf hash", ProofError)
    _check_proof_hashes(proof)
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof too long: {len(proof)} hashes")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # On the right edge: skip levels where this node has no sibling.
            while fn != 0 and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"inclusion proof too short: {len(proof)} hashes")
    _check_root(r, root, "inclusion proof root")


def verify_consistency(
    size1: int,
    size2: int,
    root1: bytes,
    root2: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check that tree ``(size1, root1)`` is a prefix of tree ``(size2, root2)``.

    Implements RFC 9162 §2.1.4.2 for ``0 < size1 < size2``. When the sizes are
    equal the proof must be empty and the roots identical. A proof from the
    empty tree (``size1 == 0``) is rejected: every tree trivially extends it,
    so such a "proof" proves nothing and almost certainly signals a caller bug.
    Returns None on success and raises ProofError, saying what failed, on any
    failure.
    """
    if not 0 <= size1 <= size2:
        raise ProofError(f"invalid sizes: need 0 <= size1 <= size2, got {size1}, {size2}")
    if size1 == 0:
        raise ProofError("consistency proof from the empty tree (size1 = 0) is meaningless")
    if size1 == size2:
        if proof:
            raise ProofError(f"size1 = size2 = {size1} but the proof is not empty")
        _check_root(root1, root2, "roots of equal-size trees")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    _check_proof_hashes(proof)
    fr, sr, sn = _chain_consistency(size1, size2, root1, proof)
    if sn != 0:
        raise ProofError(f"consistency proof too short: {len(proof)} hashes")
    _check_root(fr, root1, "consistency proof first root")
    _check_root(sr, root2, "consistency proof second root")


def _chain_consistency(size1: int, size2: int, root1: bytes, proof: Sequence[bytes]) -> tuple[bytes, bytes, int]:
    """Run RFC 9162 §2.1.4.2 steps 2-6; return ``(fr, sr, sn)`` for step 7."""
    path = list(proof)
    # Step 2: a power-of-two old tree is a whole subtree of the new one, so
    # its root is the starting node and the log does not send it.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    # Step 4: climb to the level of that starting subtree (the largest
    # perfect subtree ending at leaf size1 - 1).
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof too long: {len(proof)} hashes")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            # Right edge of the old tree: skip levels with no sibling.
            while fn != 0 and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr, sr, sn
