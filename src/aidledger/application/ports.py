"""What the application needs of a store, and what the store hands to whoever keeps derived state.

The :mod:`aidledger.storage` package implements :class:`Store` for SQLite and PostgreSQL, and
``aidledger.open()`` hands one in. Nothing here knows SQL; the layers above see stored events only
as :class:`StoredRow` tuples and never as database rows.

Derived state (the projections' fold and the Merkle frontier) is kept as :class:`FoldSegment`
records: a *snapshot* of the whole state at a log position, then *deltas*, each written in the
same transaction as the events it covers by the :class:`Follower` the store is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, StoredEvent

__all__ = [
    "CommandEntry",
    "CommandRecord",
    "FoldSegment",
    "Follower",
    "LogReader",
    "StagedCommand",
    "Staging",
    "StateRead",
    "Store",
    "StoredRow",
]


class StoredRow(NamedTuple):
    """One stored event as its table holds it, with its log position.

    ``originator_id`` is the store-independent text of the aggregate id (a lower-case hyphenated
    UUID; anything else a hand-edited row holds is kept, prefixed with ``!``). The other fields are
    what the row holds, unconverted: a row edited behind the library's back shows as it is.
    """

    position: int
    originator_id: str
    originator_version: Any
    topic: Any
    state: Any


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """What the commands index holds for one command id."""

    command_id: str
    name: str
    digest: str
    aggregate_id: str
    positions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CommandEntry:
    """A command to index beside the events it stores: its events are the next ``events`` ones."""

    command_id: str
    name: str
    digest: str
    aggregate_id: str
    events: int


@dataclass(frozen=True, slots=True)
class FoldSegment:
    """A piece of derived state, bound to the log prefix it covers.

    ``kind`` is ``snapshot`` (the whole state at ``position``) or ``delta`` (what the events
    ``first_position`` .. ``position`` add to the segment before it). Every segment carries the
    Merkle tree of the log up to ``position``: ``size`` leaves, their ``root``, the ``frontier``
    (the right-edge subtree hashes, 32 bytes each, largest first) and the ``last_leaf`` hash (of the
    event at ``position``). ``digest`` is SHA-256 over the previous segment's digest (for a delta),
    these fields and the payload, so a changed byte of any of them shows.
    """

    kind: str
    first_position: int
    position: int
    size: int
    root: bytes
    frontier: bytes
    last_leaf: bytes
    payload: bytes
    digest: str
    seq: int = 0
    """Order of the segment in its table (set by the store when it is read back)."""


@dataclass(frozen=True, slots=True)
class StateRead:
    """The stored derived state and what the log says about it, read in one transaction."""

    segments: tuple[FoldSegment, ...]
    """The last snapshot and the deltas after it, in order (empty when there is no state)."""
    log_position: int
    """The newest log position."""
    covered_count: int
    """How many events the log holds at or before the state's position."""
    covered_last: StoredRow | None
    """The stored event at the state's position, if there is one."""


@dataclass(frozen=True, slots=True)
class StagedCommand:
    """A staged row whose command is to be stored: its index entry, the validated command as JSON,
    and the events deciding it gave (empty when it was not decided yet)."""

    line: int
    entry: CommandEntry
    payload: str
    events: tuple[StoredEvent, ...]


class Staging(Protocol):
    """Where an import keeps the rows of its file while it checks them, so memory stays bounded."""

    def add_row(
        self,
        line: int,
        status: str,
        raw: str,
        *,
        command: CommandEntry | None = None,
        payload: str | None = None,
        events: Sequence[StoredEvent] = (),
        problems: Sequence[tuple[str, str | None, str]] = (),
    ) -> None:
        """Keep one row: its status, the row as written, and its command, events and problems."""

    def reject(self, line: int, problems: Sequence[tuple[str, str | None, str]]) -> None:
        """Mark a kept row rejected, with more problems."""

    def count(self, *statuses: str) -> int:
        """How many rows have one of ``statuses``."""

    def commands(self, from_line: int = 0) -> Iterator[StagedCommand]:
        """The rows to store (status ``new``), from ``from_line`` on, in file order."""

    def rejected(self) -> Iterator[tuple[int, str, list[tuple[str, str | None, str]]]]:
        """Rejected rows in file order: line, the row as written, its problems."""

    def problems(self, limit: int) -> tuple[list[tuple[int, str, str | None, str]], int]:
        """The first ``limit`` problems in file order (line, column, value, message), and how many more."""

    def close(self) -> None:
        """Close the staging database."""


class LogReader(Protocol):
    """Reads stored events in log order."""

    def read_rows(self, start: int = 1, stop: int | None = None) -> Iterator[StoredRow]:
        """The stored rows from position ``start`` to ``stop`` (inclusive; all when ``None``)."""


class Follower(Protocol):
    """Keeps state derived from the log current, in the transaction that appends the events."""

    def follow(self, head: FoldSegment | None, log: LogReader, rows: Sequence[StoredRow]) -> FoldSegment:
        """The segment that brings the derived state from ``head`` to the last of ``rows``.

        ``rows`` were just inserted (not yet committed); ``log`` reads inside the same transaction,
        for events between ``head`` and ``rows`` that other writers stored without derived state.
        """

    def settled(self, *, committed: bool) -> None:
        """Called once the transaction is over: the segment was committed, or rolled back."""

    def close(self) -> None:
        """The ledger is closing: a last chance to tidy the derived state."""


class Store(LogReader, Protocol):
    """Where the ledger keeps its events, the commands index and derived state."""

    @property
    def factory(self) -> InfrastructureFactory[Any]:
        """The ``eventsourcing`` factory of the store (what ``Application.factory`` gives)."""

    @property
    def recorder(self) -> ApplicationRecorder:
        """The ``eventsourcing`` recorder of the events table."""

    read_only: bool
    contiguous_positions: bool
    """Whether positions run 1, 2, 3 … with no gaps, so a gap means a deleted row (SQLite); a store
    whose sequence can skip numbers (PostgreSQL, after a rolled-back insert) is not checked for gaps."""
    location: str
    """Where the store is, for messages (a file path, an in-memory name, or a URL without password)."""
    address: str
    """What ``aidledger.open`` takes to open the same store again (a PostgreSQL URL with its password)."""
    closed: bool
    """Whether :meth:`close` was called: every use after it raises ``LedgerClosed``."""

    def select_commands(self, command_ids: Sequence[str]) -> dict[str, CommandRecord]:
        """The index records of those of ``command_ids`` that were stored."""

    def append(
        self, events: Sequence[StoredEvent], commands: Sequence[CommandEntry], follower: Follower | None
    ) -> list[int]:
        """Store events, their commands and the follower's segment in one transaction.

        Returns the log positions of the events. Raises ``eventsourcing``'s ``IntegrityError`` when
        another writer stored one of the aggregate versions, or one of the command ids, first.
        """

    def max_position(self) -> int:
        """The newest log position (0 for an empty log)."""

    def organization_rows(self, needle: bytes | None = None) -> list[StoredRow]:
        """The stored events that hold an organization's profile (``Registered``, ``Updated``), in log
        order; with ``needle``, only those whose state holds those bytes."""

    def pledge_rows(self, needle: bytes) -> list[StoredRow]:
        """The stored ``Pledge.Made`` events whose state holds ``needle`` (a pooled fund's pledges are
        found by their ``"project_id":"<id>"``), in log order."""

    def read_aggregate_rows(self, originator_id: str) -> Iterator[StoredRow]:
        """The stored rows of one aggregate, in log order."""

    def read_state(self) -> StateRead:
        """The derived state and the facts about the log that check it, in one read transaction."""

    def read_segments(self, after_seq: int) -> tuple[FoldSegment, ...]:
        """The segments stored after ``after_seq``, in order (from the last snapshot, if one is among them)."""

    def put_segment(self, segment: FoldSegment, *, expected_seq: int) -> bool:
        """Store a segment written outside an append (a catch-up delta, or a snapshot that replaces
        every segment before it), if the newest segment is still ``expected_seq`` (0: none).
        Returns whether it was stored."""

    def remove_state(self) -> None:
        """Forget the derived state (it is rebuilt from the events on next use)."""

    def open_staging(self, directory: str) -> Staging:
        """A new staging area for an import, in ``directory`` (a throwaway folder)."""

    def close(self) -> None:
        """Release the connections; every use after this raises ``LedgerClosed``."""
