"""The import's staging database: every row of a file, its problems and the events it decided.

A throwaway SQLite file in a temporary folder, written without durability (it is deleted when the
import ends): it keeps the memory of an import bounded however long the file, and lets the rows
that were decided be stored later in bounded batches, in file order, exactly as they were decided.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from aidledger.application.ports import CommandEntry, StagedCommand

__all__ = ["SQLiteStaging"]

WRITE_EVERY = 2000
"""Staged rows are kept in memory and written in batches of this many."""

Problem = tuple[str, str | None, str]


class SQLiteStaging:
    """The rows of one import file in a temporary SQLite database."""

    def __init__(self, directory: str) -> None:
        self.db = sqlite3.connect(Path(directory) / "staging.sqlite3")
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(
            "CREATE TABLE rows (line INTEGER PRIMARY KEY, status TEXT NOT NULL, raw TEXT, name TEXT, "
            "command_id TEXT, digest TEXT, aggregate_id TEXT, events INTEGER, payload TEXT);"
            "CREATE TABLE problems (line INTEGER NOT NULL, column_name TEXT NOT NULL, value TEXT, "
            "message TEXT NOT NULL);"
            "CREATE INDEX problems_line ON problems (line);"
            "CREATE TABLE events (line INTEGER NOT NULL, seq INTEGER NOT NULL, originator_id BLOB NOT NULL, "
            "version INTEGER NOT NULL, topic TEXT NOT NULL, state BLOB NOT NULL, PRIMARY KEY (line, seq));"
        )
        self._rows: list[tuple[object, ...]] = []
        self._events: list[tuple[object, ...]] = []
        self._problems: list[tuple[object, ...]] = []

    def add_row(
        self,
        line: int,
        status: str,
        raw: str,
        *,
        command: CommandEntry | None = None,
        payload: str | None = None,
        events: Sequence[StoredEvent] = (),
        problems: Sequence[Problem] = (),
    ) -> None:
        """Keep one row: its status, the row as written, and its command, events and problems."""
        self._rows.append(
            (
                line,
                status,
                raw,
                command.name if command else None,
                command.command_id if command else None,
                command.digest if command else None,
                command.aggregate_id if command else None,
                command.events if command else None,
                payload,
            )
        )
        self._events.extend(
            (line, seq, _id_bytes(e.originator_id), e.originator_version, e.topic, e.state)
            for seq, e in enumerate(events)
        )
        self._problems.extend(_problem_row(line, problem) for problem in problems)
        if len(self._rows) >= WRITE_EVERY:
            self._write()

    def _write(self) -> None:
        """Write the rows kept in memory, in one transaction."""
        with self.db:
            self.db.executemany("INSERT INTO rows VALUES (?,?,?,?,?,?,?,?,?)", self._rows)
            self.db.executemany("INSERT INTO events VALUES (?,?,?,?,?,?)", self._events)
            self.db.executemany("INSERT INTO problems VALUES (?,?,?,?)", self._problems)
        self._rows, self._events, self._problems = [], [], []

    def reject(self, line: int, problems: Sequence[Problem]) -> None:
        """Mark a kept row rejected, with more problems."""
        self._write()
        with self.db:
            self.db.execute("UPDATE rows SET status='rejected' WHERE line=?", (line,))
            self.db.executemany("INSERT INTO problems VALUES (?,?,?,?)", [_problem_row(line, p) for p in problems])

    def count(self, *statuses: str) -> int:
        """How many rows have one of ``statuses``."""
        self._write()
        marks = ",".join("?" * len(statuses))
        return int(self.db.execute(f"SELECT count(*) FROM rows WHERE status IN ({marks})", statuses).fetchone()[0])

    def commands(self, from_line: int = 0) -> Iterator[StagedCommand]:
        """The rows to store (status ``new``), from ``from_line`` on, in file order, with their events."""
        self._write()
        cursor = self.db.cursor()
        cursor.execute(
            "SELECT r.line, r.name, r.command_id, r.digest, r.aggregate_id, r.events, r.payload, "
            "e.originator_id, e.version, e.topic, e.state FROM rows r LEFT JOIN events e ON e.line = r.line "
            "WHERE r.status='new' AND r.line >= ? ORDER BY r.line, e.seq",
            (from_line,),
        )
        current: list[object] | None = None
        events: list[StoredEvent] = []
        for line, name, command_id, digest, aggregate_id, count, payload, originator, version, topic, state in cursor:
            if current is None or current[0] != line:
                if current is not None:
                    yield _staged(current, events)
                current, events = [line, name, command_id, digest, aggregate_id, count, payload], []
            if originator is not None:
                events.append(StoredEvent(UUID(bytes=originator), version, topic, state))
        if current is not None:
            yield _staged(current, events)

    def rejected(self) -> Iterator[tuple[int, str, list[Problem]]]:
        """Rejected rows in file order: line, the row as written, its problems."""
        self._write()
        cursor = self.db.cursor()
        cursor.execute("SELECT line, raw FROM rows WHERE status='rejected' ORDER BY line")
        for line, raw in cursor:
            found = self.db.execute(
                "SELECT column_name, value, message FROM problems WHERE line=? ORDER BY rowid", (line,)
            ).fetchall()
            yield int(line), str(raw), [(str(c), v, str(m)) for c, v, m in found]

    def problems(self, limit: int) -> tuple[list[tuple[int, str, str | None, str]], int]:
        """The first ``limit`` problems in file order, and how many more there are."""
        self._write()
        rows = self.db.execute(
            "SELECT line, column_name, value, message FROM problems ORDER BY line, rowid LIMIT ?", (limit,)
        ).fetchall()
        total = int(self.db.execute("SELECT count(*) FROM problems").fetchone()[0])
        return [(int(r[0]), str(r[1]), r[2], str(r[3])) for r in rows], total - len(rows)

    def close(self) -> None:
        """Close the staging database (its folder is removed by the caller)."""
        self.db.close()


def _id_bytes(originator_id: object) -> bytes:
    return originator_id.bytes if isinstance(originator_id, UUID) else UUID(str(originator_id)).bytes


def _staged(row: list[object], events: list[StoredEvent]) -> StagedCommand:
    line, name, command_id, digest, aggregate_id, count, payload = row
    entry = CommandEntry(str(command_id), str(name), str(digest), str(aggregate_id), int(count or 0))  # type: ignore[call-overload]
    return StagedCommand(int(line), entry, str(payload), tuple(events))  # type: ignore[call-overload]


def _problem_row(line: int, problem: Problem) -> tuple[object, ...]:
    column, value, message = problem
    return (line, column, _storable(value), _storable(message))


def _storable(text: str | None) -> str | None:
    """``text`` as SQLite can store it: a lone surrogate (JSON may spell one) is kept as its escape."""
    if text is None:
        return None
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode()
    return text
