"""The SQLite store: every table and SQL statement of an embedded ledger file (or ``:memory:``).

Tables (docs/overview.md shows them):

- ``stored_events`` — the event log, as ``eventsourcing`` defines it; the rowid is the log position.
- ``aidledger_commands`` — the commands index: ``command_id``, command ``name``, payload ``digest``,
  ``aggregate_id`` and the JSON list of the ``positions`` it stored.
- ``aidledger_organization_events`` — a partial index of ``stored_events`` on the organizations'
  events, for finding the holder of a credit code.
- ``aidledger_fold`` — derived state: a snapshot of the projections' fold and deltas after it,
  each with the Merkle tree of the log prefix it covers (see :class:`~aidledger.application.ports.FoldSegment`).

Every append runs in one ``BEGIN IMMEDIATE`` transaction: events, their command rows and the
follower's segment are committed together or not at all. Holding the write lock from the start
makes the positions of the new rows the next ones after the table's largest rowid, so they are
inserted with one ``executemany``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ConnectionPoolClosedError,
    IntegrityError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteFactory
from eventsourcing.utils import Environment

from aidledger.application.ports import CommandEntry, CommandRecord, FoldSegment, Follower, StateRead, StoredRow
from aidledger.errors import AidLedgerError, ConcurrencyConflict, IntegrityFailure, InvalidInput, LedgerClosed
from aidledger.storage.rows import BATCH, LAST_POSITION, GuardedReads, canonical_id, command_record
from aidledger.storage.staging import SQLiteStaging

__all__ = ["SQLiteStore", "admit_file", "closed_error"]

EVENTS = "stored_events"
COMMANDS = "aidledger_commands"
FOLD = "aidledger_fold"
RETIRED = ("aidledger_facts", "aidledger_records")
"""Projection tables of earlier versions, replaced by ``aidledger_fold``; dropped when found."""

CREATE_STATEMENTS = (
    f"CREATE TABLE IF NOT EXISTS {COMMANDS} (command_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "digest TEXT NOT NULL, aggregate_id TEXT NOT NULL, positions TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {FOLD} (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, "
    "first_position INTEGER NOT NULL, position INTEGER NOT NULL, size INTEGER NOT NULL, root BLOB NOT NULL, "
    "frontier BLOB NOT NULL, last_leaf BLOB NOT NULL, payload BLOB NOT NULL, digest TEXT NOT NULL)",
)
ORGANIZATION_EVENTS = (
    "topic IN ('aidledger.domain.organization:Organization.Registered', "
    "'aidledger.domain.organization:Organization.Updated')"
)
"""The events that hold an organization's profile; a partial index on them makes a credit code lookup
read only these (the query repeats the index's condition word for word, so SQLite uses it)."""
ORGANIZATION_INDEX = "aidledger_organization_events"
CREATE_INDEX = f"CREATE INDEX IF NOT EXISTS {ORGANIZATION_INDEX} ON {EVENTS} (topic) WHERE {ORGANIZATION_EVENTS}"
SELECT_ORGANIZATION_ROWS = (
    f"SELECT rowid, originator_id, originator_version, topic, state FROM {EVENTS} "
    f"WHERE {ORGANIZATION_EVENTS} AND instr(state, ?) > 0 ORDER BY rowid"
)
SELECT_PLEDGE_ROWS = (
    f"SELECT rowid, originator_id, originator_version, topic, state FROM {EVENTS} "
    "WHERE topic = 'aidledger.domain.pledge:Pledge.Made' AND instr(state, ?) > 0 ORDER BY rowid"
)
INSERT_EVENT = f"INSERT INTO {EVENTS} (originator_id, originator_version, topic, state) VALUES (?,?,?,?)"
INSERT_COMMAND = f"INSERT INTO {COMMANDS} VALUES (?,?,?,?,?)"
SELECT_ROWS = (
    f"SELECT rowid, originator_id, originator_version, topic, state FROM {EVENTS} "
    "WHERE rowid>? AND rowid<=? ORDER BY rowid LIMIT ?"
)
SELECT_AGGREGATE = (
    f"SELECT rowid, originator_id, originator_version, topic, state FROM {EVENTS} WHERE originator_id=? ORDER BY rowid"
)
SEGMENT_COLUMNS = "kind, first_position, position, size, root, frontier, last_leaf, payload, digest, seq"
SELECT_SEGMENTS = (
    f"SELECT {SEGMENT_COLUMNS} FROM {FOLD} "
    f"WHERE seq >= coalesce((SELECT max(seq) FROM {FOLD} WHERE kind='snapshot'), 0) ORDER BY seq"
)
SELECT_HEAD = (
    f"SELECT kind, first_position, position, size, root, frontier, last_leaf, x'', digest, seq FROM {FOLD} "
    "ORDER BY seq DESC LIMIT 1"
)
"""The newest segment, without its payload."""
SELECT_TABLES = "SELECT name FROM sqlite_master WHERE type='table'"
LEDGER_TABLES = frozenset({EVENTS, COMMANDS})
"""The tables that make an SQLite database an aidledger ledger (no other application names them so)."""
SQLITE_HEADER = b"SQLite format 3\x00"


def admit_file(path: Path, *, location: str, create: bool) -> None:
    """Refuse a file that is not an aidledger ledger, reading it without writing a byte.

    A ledger is an SQLite database holding aidledger's tables. With ``create``, a new file, an empty
    one or an SQLite database without tables is admitted too (it becomes a ledger); another
    application's database never is: aidledger adds no tables to it.
    """
    if not path.is_file() or not path.stat().st_size:
        if create:
            return
        what = "the file is empty" if path.is_file() else "there is no such file"
        accepted = f"an aidledger ledger ({what}; `aidledger import` or `aidledger demo` makes one)"
        raise InvalidInput("db", location, accepted)
    with path.open("rb") as stream:
        if stream.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise InvalidInput("db", location, "an aidledger SQLite file (this file is not an SQLite database)")
    names = _tables(path, location)
    if names >= LEDGER_TABLES:
        return
    others = sorted(name for name in names if not name.startswith("sqlite_"))
    if not others:
        if create:
            return
        accepted = "an aidledger ledger (this SQLite database has no tables; `aidledger import` makes it one)"
        raise InvalidInput("db", location, accepted)
    shown = ", ".join(others[:10]) + (f" and {len(others) - 10} more" if len(others) > 10 else "")
    accepted = (
        f"an aidledger ledger (this SQLite database is not an aidledger ledger: it holds the tables {shown} "
        "of another application" + ("; aidledger adds no tables to another application's database)" if create else ")")
    )
    raise InvalidInput("db", location, accepted)


def _tables(path: Path, location: str) -> frozenset[str]:
    """The names of the tables of the SQLite file at ``path``, read on a read-only connection."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            return frozenset(str(row[0]) for row in db.execute(SELECT_TABLES).fetchall())
    except sqlite3.Error as error:
        raise database_error(error, location) from None


def database_error(error: BaseException, location: str) -> AidLedgerError:
    """The aidledger error for what SQLite (directly, or through ``eventsourcing``) raised."""
    text = " ".join(str(error).split())
    if "readonly" in text or "read-only" in text:
        return InvalidInput(
            "db",
            location,
            f"a ledger this user may write (SQLite: {text}): the file, its folder or its disk is read-only; "
            "commands that only read still work",
        )
    if "unable to open" in text:
        return InvalidInput("db", location, f"a ledger file this user may open (SQLite: {text}); check its permissions")
    if "locked" in text or "busy" in text:
        return ConcurrencyConflict(f"{location}: another process held the ledger's lock too long (SQLite: {text})")
    return IntegrityFailure(
        f"{location} cannot be read as an SQLite database (SQLite: {text}): the file is damaged or is not a "
        "ledger; restore it from a backup and check the copy with `aidledger verify --checkpoint`"
    )


def closed_error(location: str) -> LedgerClosed:
    """The error for a ledger used after it was closed."""
    return LedgerClosed(f"the ledger {location} was closed; open it again with aidledger.open()")


class _GuardedRecorder(GuardedReads, SQLiteApplicationRecorder):
    """``eventsourcing``'s recorder, its reads guarded by the store (the repository reads through it)."""


class SQLiteStore:
    """A ledger's tables in one SQLite database (a file, or a private in-memory database)."""

    def __init__(self, name: str, *, location: str, read_only: bool = False) -> None:
        environment = Environment("aidledger", {"SQLITE_DBNAME": name, "SQLITE_LOCK_TIMEOUT": "30"})
        self.location = self.address = location
        self.closed = False
        self.factory = SQLiteFactory(environment)
        self.datastore = self.factory.datastore
        self.recorder = _GuardedRecorder(self.datastore, events_table_name=EVENTS)
        self.recorder.guard = self.guard
        self.read_only = read_only
        self.contiguous_positions = True
        if not read_only:
            try:
                with self.guard():
                    self._create_tables()
            except BaseException:
                self.close()
                raise

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Refuse a closed store; turn SQLite's errors into aidledger's (a conflict stays ``IntegrityError``)."""
        if self.closed:
            raise closed_error(self.location)
        try:
            yield
        except IntegrityError:
            raise  # another writer stored the same aggregate version first: the pipeline retries
        except ConnectionPoolClosedError:
            raise closed_error(self.location) from None
        except (sqlite3.DatabaseError, PersistenceError) as error:
            raise database_error(error, self.location) from None

    def _create_tables(self) -> None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")
            present = {row[0] for row in cursor.fetchall()}
        if {EVENTS, COMMANDS, FOLD, ORGANIZATION_INDEX} <= present and not present & set(RETIRED):
            return  # nothing to create: opening takes no write lock
        with self.datastore.transaction(commit=True) as cursor:
            for statement in self.recorder.construct_create_table_statements():
                cursor.execute(statement)
            for statement in (*CREATE_STATEMENTS, CREATE_INDEX):
                cursor.execute(statement)
            for table in RETIRED:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def close(self) -> None:
        """Close every connection; the store refuses every use after this (closing again does nothing)."""
        self.closed = True
        self.factory.close()

    # -- writing ------------------------------------------------------------------------------

    def append(
        self, events: Sequence[StoredEvent], commands: Sequence[CommandEntry], follower: Follower | None
    ) -> list[int]:
        """Store events, their command rows and the follower's segment in one transaction."""
        with self.guard():
            self._check_writable()
            committed = False
            try:
                with self.datastore.get_connection(commit=True) as connection:
                    cursor = connection.cursor()
                    try:
                        cursor.execute("BEGIN IMMEDIATE")
                        positions = self._insert(cursor, events, commands, follower)
                        connection.commit()
                        committed = True
                    except BaseException:
                        connection.rollback()
                        raise
                    finally:
                        cursor.sqlite_cursor.close()
            except sqlite3.IntegrityError as error:
                raise IntegrityError(error) from error
            except sqlite3.OperationalError as error:
                raise OperationalError(error) from error
            finally:
                if follower is not None:
                    follower.settled(committed=committed)
            return positions

    def _insert(
        self,
        cursor: SQLiteCursor,
        events: Sequence[StoredEvent],
        commands: Sequence[CommandEntry],
        follower: Follower | None,
    ) -> list[int]:
        cursor.execute(f"SELECT max(rowid) FROM {EVENTS}")
        last = int(cursor.fetchone()[0] or 0)
        cursor.executemany(
            INSERT_EVENT, [(_hex(e.originator_id), e.originator_version, e.topic, e.state) for e in events]
        )
        positions = list(range(last + 1, last + 1 + len(events)))
        cursor.execute(f"SELECT max(rowid) FROM {EVENTS}")
        assert int(cursor.fetchone()[0] or 0) == last + len(events), "positions are the next rowids"
        rows = []
        start = 0
        for entry in commands:
            taken = positions[start : start + entry.events]
            start += entry.events
            rows.append((entry.command_id, entry.name, entry.digest, entry.aggregate_id, json.dumps(taken)))
        cursor.executemany(INSERT_COMMAND, rows)
        if follower is not None and events:
            new_rows = [
                StoredRow(position, canonical_id(e.originator_id), e.originator_version, e.topic, e.state)
                for position, e in zip(positions, events, strict=True)
            ]
            segment = follower.follow(self._head(cursor), _TransactionLog(cursor), new_rows)
            self._insert_segment(cursor, segment)
        return positions

    def _head(self, cursor: SQLiteCursor) -> FoldSegment | None:
        cursor.execute(SELECT_HEAD)
        row = cursor.fetchone()
        return None if row is None else _segment(row)

    def _insert_segment(self, cursor: SQLiteCursor, segment: FoldSegment) -> int:
        cursor.execute(f"SELECT coalesce(max(seq), 0) FROM {FOLD}")
        seq = int(cursor.fetchone()[0]) + 1
        cursor.execute(
            f"INSERT INTO {FOLD} (seq, {SEGMENT_COLUMNS.removesuffix(', seq')}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                seq,
                segment.kind,
                segment.first_position,
                segment.position,
                segment.size,
                segment.root,
                segment.frontier,
                segment.last_leaf,
                segment.payload,
                segment.digest,
            ),
        )
        if segment.kind == "snapshot":
            cursor.execute(f"DELETE FROM {FOLD} WHERE seq < ?", (seq,))
        return seq

    def put_segment(self, segment: FoldSegment, *, expected_seq: int) -> bool:
        """Store a segment written outside an append, if the newest one is still ``expected_seq``."""
        with self.guard():
            self._check_writable()
            with self.datastore.get_connection(commit=True) as connection:
                cursor = connection.cursor()
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    cursor.execute(f"SELECT coalesce(max(seq), 0) FROM {FOLD}")
                    if int(cursor.fetchone()[0]) != expected_seq:
                        connection.rollback()
                        return False
                    self._insert_segment(cursor, segment)
                    connection.commit()
                except BaseException:
                    connection.rollback()
                    raise
                finally:
                    cursor.sqlite_cursor.close()
            return True

    def open_staging(self, directory: str) -> SQLiteStaging:
        """A new staging area for an import, in ``directory`` (a throwaway folder)."""
        return SQLiteStaging(directory)

    def remove_state(self) -> None:
        """Forget the derived state."""
        self._check_writable()
        with self.guard(), self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {FOLD}")

    def _check_writable(self) -> None:
        if self.read_only:
            raise InvalidInput("db", self.location, "a ledger opened for writing (it was opened read-only)")

    # -- reading ------------------------------------------------------------------------------

    def select_commands(self, command_ids: Sequence[str]) -> dict[str, CommandRecord]:
        """The index records of those of ``command_ids`` that were stored."""
        with self.guard():
            found: dict[str, CommandRecord] = {}
            with self.datastore.transaction(commit=False) as cursor:
                for start in range(0, len(command_ids), 500):
                    chunk = command_ids[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    cursor.execute(f"SELECT * FROM {COMMANDS} WHERE command_id IN ({marks})", tuple(chunk))
                    for row in cursor.fetchall():
                        record = command_record(tuple(row))
                        found[record.command_id] = record
            return found

    def max_position(self) -> int:
        """The newest log position (0 for an empty log)."""
        with self.guard(), self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT max(rowid) FROM {EVENTS}")
            return int(cursor.fetchone()[0] or 0)

    def organization_rows(self, needle: bytes | None = None) -> list[StoredRow]:
        """The stored events that hold an organization's profile, in log order (with ``needle``: those
        whose state holds it)."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(SELECT_ORGANIZATION_ROWS, (needle or b"",))
            return _rows(cursor.fetchall())

    def pledge_rows(self, needle: bytes) -> list[StoredRow]:
        """The stored ``Pledge.Made`` events whose state holds ``needle``, in log order."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(SELECT_PLEDGE_ROWS, (needle,))
            return _rows(cursor.fetchall())

    def read_rows(self, start: int = 1, stop: int | None = None) -> Iterator[StoredRow]:
        """The stored rows from ``start`` to ``stop`` in log order, read in short batches.

        One read transaction per batch: an in-memory database serialises readers and writers, so
        a long-lived cursor would block the caller's own writes between batches.
        """
        after, last = start - 1, LAST_POSITION if stop is None else stop
        while True:
            with self.guard(), self.datastore.transaction(commit=False) as cursor:
                cursor.execute(SELECT_ROWS, (after, last, BATCH))
                batch = cursor.fetchall()
            yield from _rows(batch)
            if len(batch) < BATCH:
                return
            after = batch[-1][0]

    def read_aggregate_rows(self, originator_id: str) -> Iterator[StoredRow]:
        """The stored rows of one aggregate, in log order."""
        with self.guard(), self.datastore.transaction(commit=False) as cursor:
            cursor.execute(SELECT_AGGREGATE, (originator_id.replace("-", ""),))
            batch = cursor.fetchall()
        yield from _rows(batch)

    def read_segments(self, after_seq: int) -> tuple[FoldSegment, ...]:
        """The segments stored after ``after_seq``, in order (from the last snapshot among them)."""
        with self.guard(), self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT {SEGMENT_COLUMNS} FROM {FOLD} WHERE seq > ? AND seq >= coalesce("
                f"(SELECT max(seq) FROM {FOLD} WHERE kind='snapshot'), 0) ORDER BY seq",
                (after_seq,),
            )
            return tuple(_segment(tuple(row)) for row in cursor.fetchall())

    def read_state(self) -> StateRead:
        """The derived state and the facts about the log that check it, in one read transaction."""
        with self.guard():
            with self.datastore.transaction(commit=False) as cursor:
                cursor.execute(f"SELECT count(*) FROM sqlite_master WHERE type='table' AND name='{FOLD}'")
                segments: tuple[FoldSegment, ...] = ()
                if cursor.fetchone()[0]:
                    cursor.execute(SELECT_SEGMENTS)
                    segments = tuple(_segment(tuple(row)) for row in cursor.fetchall())
                cursor.execute(f"SELECT max(rowid) FROM {EVENTS}")
                log_position = int(cursor.fetchone()[0] or 0)
                covered = segments[-1].position if segments else 0
                cursor.execute(f"SELECT count(*) FROM {EVENTS} WHERE rowid<=?", (covered,))
                count = int(cursor.fetchone()[0])
                cursor.execute(SELECT_ROWS, (covered - 1, covered, 1))
                last = _rows(cursor.fetchall())
            return StateRead(segments, log_position, count, last[0] if last else None)


class _TransactionLog:
    """Reads rows inside an open write transaction (it sees the transaction's own rows)."""

    def __init__(self, cursor: SQLiteCursor) -> None:
        self.cursor = cursor

    def read_rows(self, start: int = 1, stop: int | None = None) -> Iterator[StoredRow]:
        after, last = start - 1, LAST_POSITION if stop is None else stop
        while True:
            self.cursor.execute(SELECT_ROWS, (after, last, BATCH))
            batch = self.cursor.fetchall()
            yield from _rows(batch)
            if len(batch) < BATCH:
                return
            after = batch[-1][0]


def _hex(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id


def _rows(batch: list[Any]) -> list[StoredRow]:
    return [StoredRow(row[0], canonical_id(row[1]), row[2], row[3], row[4]) for row in batch]


def _segment(row: Any) -> FoldSegment:
    kind, first, position, size, root, frontier, last_leaf, payload, digest, seq = tuple(row)
    return FoldSegment(
        kind=str(kind),
        first_position=int(first),
        position=int(position),
        size=int(size),
        root=bytes(root),
        frontier=bytes(frontier),
        last_leaf=bytes(last_leaf),
        payload=payload if isinstance(payload, bytes) else str(payload).encode(),
        digest=str(digest),
        seq=int(seq),
    )
