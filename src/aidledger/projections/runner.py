"""Keep the fold and the Merkle frontier current, persisted beside the events and checked against them.

:class:`Projections` is the ledger's *follower*: in the transaction that appends events, the store
hands it the new rows and it returns the segment of derived state that covers them (a delta with
those events' folded fields and the new Merkle frontier; the first time, a snapshot of the whole
fold). So the stored state is always at the log's newest position, written atomically with it.

For reports it keeps the fold in memory. A new process loads it from the last snapshot and the
deltas after it, without reading or hashing the history, and checks it against the log first:
every segment must match its digest, the frontier must give its root, the log must still hold the
event at the state's position with the same leaf hash, and exactly as many events at or before it.
If any check fails, reports refuse with :class:`~aidledger.errors.IntegrityFailure` rather than
print figures that the log no longer supports (``aidledger verify`` says what differs).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from aidledger.application.ports import FoldSegment, LogReader, Store, StoredRow
from aidledger.errors import IntegrityFailure, UnreadableEvent
from aidledger.merkle import MerkleAccumulator, leaf_hash_of
from aidledger.projections import events
from aidledger.projections.fold import LedgerFold
from aidledger.projections.state import (
    Entry,
    check_segment,
    decode_delta,
    decode_snapshot,
    encode_delta,
    encode_snapshot,
    segment,
)

__all__ = ["COMPACT_AFTER", "MARK_EVERY", "Folded", "Inspection", "Projections", "fold_rows"]

MARK_EVERY = 8192
"""How often (in leaves) ``root_of`` keeps the frontier of the prefix it hashed."""

COMPACT_AFTER = 20_000
"""Deltas covering more log positions than this (and than a tenth of the snapshot's) are merged
into a new snapshot when a ledger that holds the whole fold closes."""


class Folded:
    """A fold with the Merkle tree of the same log prefix."""

    def __init__(self, fold: LedgerFold | None = None, merkle: MerkleAccumulator | None = None, last_leaf: bytes = b""):
        self.fold = fold if fold is not None else LedgerFold()
        self.merkle = merkle if merkle is not None else MerkleAccumulator()
        self.last_leaf = last_leaf

    def take(self, rows: Iterable[StoredRow], entries: list[Entry] | None = None) -> None:
        """Fold and hash ``rows``, in log order; the decoded events are also added to ``entries``."""
        fold, append, decode = self.fold, self.merkle.append, events.decode
        leaf = self.last_leaf
        for row in rows:
            leaf = leaf_hash_of(row)
            append(leaf)
            decoded = decode(row)
            if decoded is None:
                fold.position = row.position
                continue
            fold.apply(row.position, row.originator_id, decoded[0], decoded[1])
            if entries is not None:
                entries.append((row.position, row.originator_id, decoded[0], decoded[1]))
        self.last_leaf = leaf

    def apply(self, entries: Iterable[Entry], position: int) -> None:
        """Fold the events of a delta, which covers the log up to ``position``."""
        fold = self.fold
        for entry in entries:
            fold.apply(*entry)
        fold.position = position


def fold_rows(rows: Iterable[StoredRow]) -> Folded:
    """A fresh fold, with its Merkle tree, of stored rows (the whole log, for a rebuild)."""
    folded = Folded()
    enabled = gc.isenabled()
    gc.disable()  # the fold makes no reference cycles; scanning its millions of objects is wasted time
    try:
        folded.take(rows)
    finally:
        if enabled:
            gc.enable()
    return folded


@dataclass
class Inspection:
    """The stored state as it is, problems and all (what ``verify`` compares with the events)."""

    head: FoldSegment | None
    """The newest segment (``None``: no state is stored)."""
    fold: LedgerFold | None
    """The fold its segments give, when they can be read."""
    problems: list[tuple[str, int | None, str]] = field(default_factory=list)
    """What is wrong with it: ``projection_state`` (a segment does not match its digest, does not follow
    the one before or cannot be read) or ``frontier`` (the Merkle frontier does not give its root), the
    log position concerned, and a message."""


class Projections:
    """The ledger's fold and Merkle frontier, kept current and persisted beside the events."""

    def __init__(self, store: Store, *, compact_after: int = COMPACT_AFTER) -> None:
        self.store = store
        self.compact_after = compact_after
        self._current: Folded | None = None
        self._head: FoldSegment | None = None
        """The stored segment the fold in memory reflects (its payload is not kept)."""
        self._snapshot_position = 0
        self._pending: tuple[FoldSegment, Folded, int] | None = None
        self._marks: dict[int, tuple[int, bytes]] = {0: (0, b"")}
        """Log position -> (tree size, frontier) of prefixes hashed in this process, every
        ``MARK_EVERY`` leaves: an as-of report's root is hashed on from the nearest one."""

    # -- the follower: called by the store inside its write transaction -----------------------

    def follow(self, head: FoldSegment | None, log: LogReader, rows: Sequence[StoredRow]) -> FoldSegment:
        """The segment that brings the stored state from ``head`` to the last of ``rows``."""
        seq = (head.seq if head is not None else 0) + 1
        if head is None:  # no derived state yet: a new ledger, or one an earlier version wrote
            folded = fold_rows([*log.read_rows(1, rows[0].position - 1), *rows])
            stored = segment(
                "snapshot", None, 1, rows[-1].position, folded.merkle, folded.last_leaf, encode_snapshot(folded.fold)
            )
            self._pending = (stored, folded, seq)
            return stored
        entries: list[Entry] = []
        covered = [*log.read_rows(head.position + 1, rows[0].position - 1), *rows]  # and any stored without state
        current = self._current if self._reflects(head) else None
        if current is None:
            self._current = None  # out of date: loaded again when a report needs it
            merkle = MerkleAccumulator.resume(head.size, head.frontier)
            last_leaf = _decode_and_hash(covered, merkle, entries)
        else:
            current.take(covered, entries)
            merkle, last_leaf = current.merkle, current.last_leaf
        stored = segment("delta", head, head.position + 1, rows[-1].position, merkle, last_leaf, encode_delta(entries))
        self._pending = (stored, current, seq) if current is not None else None
        return stored

    def settled(self, *, committed: bool) -> None:
        """The write transaction is over: keep the new state, or forget a fold it changed."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        stored, folded, seq = pending
        if committed:
            self._current, self._head = folded, replace(stored, payload=b"", seq=seq)
            if stored.kind == "snapshot":
                self._snapshot_position = stored.position
        else:
            self._current = self._head = None

    def _reflects(self, head: FoldSegment) -> bool:
        return (
            self._current is not None
            and self._head is not None
            and (self._head.seq, self._head.digest)
            == (
                head.seq,
                head.digest,
            )
        )

    # -- reading ------------------------------------------------------------------------------

    @property
    def fold(self) -> LedgerFold:
        """The fold, checked against the log and brought up to its newest event."""
        return self.current().fold

    def current(self) -> Folded:
        """The fold with its Merkle tree, checked and brought up to the newest event."""
        if self._current is None or self._head is None:
            self._load()
        else:
            self._refresh()
        assert self._current is not None
        self._current.fold.root_of = self.root_of
        return self._current

    def _load(self) -> None:
        read = self.store.read_state()
        if not read.segments:
            self._rebuild_and_keep()
            return
        first = read.segments[0]
        if first.kind != "snapshot":
            raise _tampered("its snapshot is missing: the first stored segment is a delta")
        check_segment(first, None)
        try:
            fold = decode_snapshot(first.payload)
        except ValueError as error:
            raise _tampered(f"its snapshot cannot be read ({error})") from None
        if fold.position != first.position:
            raise _tampered(f"its snapshot says position {fold.position}, its segment {first.position}")
        folded = Folded(fold)
        previous = first
        for stored in read.segments[1:]:
            self._apply_delta(folded, stored, previous)
            previous = stored
        head = read.segments[-1]
        folded.merkle = _frontier(head)
        folded.last_leaf = head.last_leaf
        self._check_log(head, read.log_position, read.covered_count, read.covered_last)
        self._current, self._head = folded, replace(head, payload=b"")
        self._snapshot_position = first.position
        if read.log_position > head.position:
            self._catch_up(read.log_position)

    def _apply_delta(self, folded: Folded, stored: FoldSegment, previous: FoldSegment) -> None:
        check_segment(stored, previous)
        if stored.kind != "delta" or stored.first_position != previous.position + 1:
            raise _tampered(f"segment {stored.seq} does not follow segment {previous.seq}")
        try:
            folded.apply(list(decode_delta(stored.payload)), stored.position)
        except ValueError as error:
            raise _tampered(f"segment {stored.seq} cannot be read ({error})") from None

    def _refresh(self) -> None:
        current, head = self._current, self._head
        assert current is not None and head is not None
        newer = self.store.read_segments(head.seq)
        if newer and (newer[0].kind == "snapshot" or newer[0].first_position <= current.fold.position):
            self._load()  # compacted by another process, or it overlaps what this one folded from the log
            return
        for stored in newer:
            self._apply_delta(current, stored, head)
            current.merkle = _frontier(stored)
            current.last_leaf = stored.last_leaf
            head = self._head = replace(stored, payload=b"")
        last = self.store.max_position()
        position = current.fold.position
        if last < position:
            msg = (
                f"the log ends at position {last}, but its projections were computed at position {position}: "
                "events were removed behind the library's back; run `aidledger verify`"
            )
            raise IntegrityFailure(msg)
        if last > position:
            self._catch_up(last)
        elif position:
            at = next(iter(self.store.read_rows(position, position)), None)
            if at is None or leaf_hash_of(at) != current.last_leaf:
                raise _log_changed(position)

    def _check_log(self, head: FoldSegment, log_position: int, count: int, last: StoredRow | None) -> None:
        if log_position < head.position:
            msg = (
                f"the log ends at position {log_position}, but its projections were computed at position "
                f"{head.position}: events were removed behind the library's back; run `aidledger verify`"
            )
            raise IntegrityFailure(msg)
        if last is None or last.position != head.position or leaf_hash_of(last) != head.last_leaf:
            raise _log_changed(head.position)
        if count != head.size:
            msg = (
                f"the log holds {count} events at or before position {head.position}, but its projections cover "
                f"{head.size}: events were removed or inserted behind the library's back; run `aidledger verify`"
            )
            raise IntegrityFailure(msg)

    def _catch_up(self, last: int) -> None:
        """Fold and hash events the log holds beyond the stored state (stored without derived state)."""
        current, head = self._current, self._head
        assert current is not None and head is not None
        first = current.fold.position + 1
        entries: list[Entry] = []
        current.take(self.store.read_rows(first, last), entries)
        if self.store.read_only:
            return
        stored = segment(
            "delta", head, first, current.fold.position, current.merkle, current.last_leaf, encode_delta(entries)
        )
        if self.store.put_segment(stored, expected_seq=head.seq):
            self._head = replace(stored, payload=b"", seq=head.seq + 1)
        else:
            self._current = self._head = None  # another writer got there first: load again next time

    def _rebuild_and_keep(self) -> None:
        folded = self.rebuild()
        if self.store.read_only or not folded.fold.position:  # nothing to keep, or no right to keep it
            self._current, self._snapshot_position = folded, folded.fold.position
            self._head = FoldSegment(
                "snapshot",
                1,
                folded.fold.position,
                folded.merkle.size,
                folded.merkle.root(),
                folded.merkle.frontier(),
                folded.last_leaf,
                b"",
                "",
                seq=0,
            )
            return
        self._keep_snapshot(folded, expected_seq=0)

    def _keep_snapshot(self, folded: Folded, *, expected_seq: int) -> None:
        stored = segment(
            "snapshot", None, 1, folded.fold.position, folded.merkle, folded.last_leaf, encode_snapshot(folded.fold)
        )
        if self.store.put_segment(stored, expected_seq=expected_seq):
            self._current, self._head = folded, replace(stored, payload=b"", seq=expected_seq + 1)
            self._snapshot_position = stored.position
        else:
            self._current = self._head = None

    def rebuild(self) -> Folded:
        """A fresh fold of the whole log, and its Merkle tree, from the stored events."""
        folded = fold_rows(self.store.read_rows())
        folded.fold.root_of = self.root_of
        return folded

    def replace_state(self) -> Folded:
        """Refold the whole log and store the result as a new snapshot, replacing the stored state."""
        folded = self.rebuild()
        read = self.store.read_state()
        expected = read.segments[-1].seq if read.segments else 0
        self._keep_snapshot(folded, expected_seq=expected)
        return folded

    def inspect(self) -> Inspection:
        """Read the stored state without trusting it: every problem is noted, none raised."""
        read = self.store.read_state()
        if not read.segments:
            return Inspection(None, None)
        inspection = Inspection(read.segments[-1], None)
        problems = inspection.problems
        previous: FoldSegment | None = None
        folded: Folded | None = None
        for stored in read.segments:
            try:
                check_segment(stored, previous)
            except IntegrityFailure as error:
                problems.append(("projection_state", stored.position, str(error)))
            try:
                folded = _next_fold(folded, stored, previous)
            except (ValueError, IntegrityFailure, UnreadableEvent) as error:
                message = f"aidledger_fold segment {stored.seq} cannot be read: {error}"
                problems.append(("projection_state", stored.position, message))
                folded = None
            previous = stored
        head = read.segments[-1]
        try:
            _frontier(head)
        except IntegrityFailure as error:
            problems.append(("frontier", head.position, str(error)))
        inspection.fold = folded.fold if folded is not None else None
        return inspection

    def root_of(self, position: int) -> str:
        """The hex Merkle root of the events at or before ``position``.

        Hashed from the events, from the nearest earlier prefix this process has hashed (the first
        as-of report at a late position reads the log up to it; later ones only what follows a mark).
        """
        current = self._current
        if current is not None and position == current.fold.position:
            return current.merkle.root().hex()
        start = max(p for p in self._marks if p <= position)
        size, frontier = self._marks[start]
        accumulator = MerkleAccumulator.resume(size, frontier)
        for row in self.store.read_rows(start + 1, position):
            accumulator.append(leaf_hash_of(row))
            if accumulator.size % MARK_EVERY == 0:
                self._marks[row.position] = (accumulator.size, accumulator.frontier())
        return accumulator.root().hex()

    def close(self) -> None:
        """Merge long deltas into a new snapshot, when this process holds the current fold."""
        current, head = self._current, self._head
        if current is None or head is None or not head.seq or self.store.read_only:
            return
        tail = current.fold.position - self._snapshot_position
        if tail > max(self.compact_after, self._snapshot_position // 10):
            self._keep_snapshot(current, expected_seq=head.seq)


def _next_fold(folded: Folded | None, stored: FoldSegment, previous: FoldSegment | None) -> Folded | None:
    """The fold after one more segment (``None`` stays ``None``: a fold that could not be read)."""
    if previous is None:
        if stored.kind != "snapshot":
            raise ValueError("the first stored segment is a delta: its snapshot is missing")
        return Folded(decode_snapshot(stored.payload))
    if folded is None:
        return None
    if stored.first_position != previous.position + 1:
        raise ValueError(f"it covers positions from {stored.first_position}, not {previous.position + 1}")
    folded.apply(list(decode_delta(stored.payload)), stored.position)
    return folded


def _decode_and_hash(rows: Sequence[StoredRow], merkle: MerkleAccumulator, entries: list[Entry]) -> bytes:
    """Hash ``rows`` into ``merkle`` and add their folded events to ``entries``; the last leaf hash."""
    leaf = b""
    for row in rows:
        leaf = leaf_hash_of(row)
        merkle.append(leaf)
        decoded = events.decode(row)
        if decoded is not None:
            entries.append((row.position, row.originator_id, decoded[0], decoded[1]))
    return leaf


def _frontier(stored: FoldSegment) -> MerkleAccumulator:
    try:
        merkle = MerkleAccumulator.resume(stored.size, stored.frontier)
    except ValueError as error:
        raise _tampered(f"its Merkle frontier is malformed ({error})") from None
    if merkle.root() != stored.root:
        raise _tampered(f"its Merkle frontier at position {stored.position} does not give its root")
    return merkle


def _tampered(what: str) -> IntegrityFailure:
    return IntegrityFailure(
        f"the stored projection state was changed behind the library's back: {what}; run `aidledger verify` "
        "to see what differs, and `aidledger rebuild` to refold it from the events"
    )


def _log_changed(position: int) -> IntegrityFailure:
    return IntegrityFailure(
        f"the stored event at log position {position} is not the one the projections were computed from "
        "(removed or changed behind the library's back); run `aidledger verify`"
    )
