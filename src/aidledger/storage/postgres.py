"""The PostgreSQL store: every table and SQL statement of a ledger kept in PostgreSQL.

Needs the ``postgres`` extra (psycopg). The tables are those of the SQLite store (see
:mod:`aidledger.storage.sqlite`), in the schema the URL names. Every append takes
``LOCK TABLE stored_events IN EXCLUSIVE MODE`` first, as ``eventsourcing`` does, so log order is
commit order (never ``POSTGRES_ENABLE_DB_FUNCTIONS``: it would break that); the events, their
command rows and the follower's segment are written in that one transaction, in three statements.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

import psycopg
from eventsourcing.persistence import ConnectionPoolClosedError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.utils import Environment
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from aidledger.application.ports import CommandEntry, CommandRecord, FoldSegment, Follower, StateRead, StoredRow
from aidledger.errors import InvalidInput
from aidledger.storage.rows import BATCH, LAST_POSITION, GuardedReads, canonical_id, command_record
from aidledger.storage.sqlite import LEDGER_TABLES, closed_error
from aidledger.storage.staging import SQLiteStaging

__all__ = ["CONNECT_TIMEOUT", "PostgresStore", "redact"]

EVENTS = "stored_events"
COMMANDS = "aidledger_commands"
FOLD = "aidledger_fold"
RETIRED = ("aidledger_facts", "aidledger_records")
DDL_LOCK = 726_456_331
"""Any fixed number: the advisory lock that serialises table creation (concurrent ``CREATE ... IF NOT
EXISTS`` from several processes opening a new database at once fails otherwise)."""
ORGANIZATION_EVENTS = (
    "topic IN ('aidledger.domain.organization:Organization.Registered', "
    "'aidledger.domain.organization:Organization.Updated')"
)
"""The events that hold an organization's profile; a partial index on them serves credit code lookups."""
ACCEPTED_URL = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME[?schema=NAME][&connect_timeout=SECONDS]"
CONNECT_TIMEOUT = 5
"""Seconds to wait for the server to answer, unless the URL says ``connect_timeout=SECONDS`` (1 to 600)."""
SELECT_TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"


class _GuardedRecorder(GuardedReads, PostgresApplicationRecorder):
    """``eventsourcing``'s recorder, its reads guarded by the store (the repository reads through it)."""


class PostgresStore:
    """A ledger's tables in a PostgreSQL database."""

    def __init__(self, url: str, *, read_only: bool = False, create: bool = True) -> None:
        self.location = redact(url)
        self.address = url
        self.closed = False
        environment = _environment(url)
        self._admit(environment, create=create and not read_only)
        self.factory = PostgresFactory(Environment("aidledger", environment))
        self.datastore = self.factory.datastore
        self.recorder = _GuardedRecorder(self.datastore, events_table_name=EVENTS)
        self.recorder.guard = self.guard
        self.read_only = read_only
        self.contiguous_positions = False
        schema = Identifier(self.datastore.schema)
        self._events = Composed([schema, SQL("."), Identifier(EVENTS)])
        self._commands = Composed([schema, SQL("."), Identifier(COMMANDS)])
        self._fold = Composed([schema, SQL("."), Identifier(FOLD)])
        if not read_only:
            self._create_tables()

    def _admit(self, environment: dict[str, str], *, create: bool) -> None:
        """Connect once, directly (the pool would retry until its timeout and hide why it failed), and
        refuse a database that does not answer or that holds no ledger (unless ``create``)."""
        host, port = environment["POSTGRES_HOST"], environment["POSTGRES_PORT"]
        dbname, schema = environment["POSTGRES_DBNAME"], environment.get("POSTGRES_SCHEMA", "public")
        where = f"database {dbname!r} on the PostgreSQL server at {host}:{port}"
        try:
            with psycopg.connect(
                dbname=dbname,
                host=host,
                port=port,
                user=environment["POSTGRES_USER"],
                password=environment["POSTGRES_PASSWORD"],
                connect_timeout=int(environment["POSTGRES_CONNECT_TIMEOUT"]),
            ) as connection:
                names = {str(row[0]) for row in connection.execute(SELECT_TABLES, (schema,)).fetchall()}
        except psycopg.Error as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            accepted = f"a {where} that accepts the connection within {environment['POSTGRES_CONNECT_TIMEOUT']} s"
            raise InvalidInput("db", self.location, f"{accepted} ({reason})") from None
        if names >= LEDGER_TABLES:
            return
        if not create:
            accepted = (
                f"an aidledger ledger (schema {schema!r} of the {where} is not an aidledger ledger: it has no "
                f"table {COMMANDS}; `aidledger import` makes one)"
            )
            raise InvalidInput("db", self.location, accepted)
        if EVENTS in names:
            accepted = (
                f"an aidledger ledger or a schema without one (schema {schema!r} of the {where} holds another "
                f"application's {EVENTS} table; name another schema with ?schema=NAME)"
            )
            raise InvalidInput("db", self.location, accepted)

    def _check_open(self) -> None:
        if self.closed:
            raise closed_error(self.location)

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Refuse a closed store."""
        if self.closed:
            raise closed_error(self.location)
        try:
            yield
        except ConnectionPoolClosedError:
            raise closed_error(self.location) from None

    def _statement(self, text: str) -> Composed:
        return SQL(text).format(events=self._events, commands=self._commands, fold=self._fold)

    def _create_tables(self) -> None:
        with self.datastore.get_connection() as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (DDL_LOCK,))
            try:
                self.recorder.create_table()
                with self.datastore.transaction(commit=True) as cursor:
                    cursor.execute(
                        self._statement(
                            "CREATE TABLE IF NOT EXISTS {commands} (command_id text PRIMARY KEY, name text NOT NULL, "
                            "digest text NOT NULL, aggregate_id text NOT NULL, positions text NOT NULL)"
                        )
                    )
                    cursor.execute(
                        self._statement(
                            "CREATE TABLE IF NOT EXISTS {fold} (seq bigint PRIMARY KEY, kind text NOT NULL, "
                            "first_position bigint NOT NULL, position bigint NOT NULL, size bigint NOT NULL, "
                            "root bytea NOT NULL, frontier bytea NOT NULL, last_leaf bytea NOT NULL, "
                            "payload bytea NOT NULL, digest text NOT NULL)"
                        )
                    )
                    cursor.execute(
                        self._statement(
                            "CREATE INDEX IF NOT EXISTS aidledger_organization_events ON {events} (topic) "
                            f"WHERE {ORGANIZATION_EVENTS}"
                        ),
                        (),
                    )
                    for table in RETIRED:
                        retired = Composed([Identifier(self.datastore.schema), SQL("."), Identifier(table)])
                        cursor.execute(SQL("DROP TABLE IF EXISTS {0}").format(retired))
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (DDL_LOCK,))

    def close(self) -> None:
        """Close the connection pool; the store refuses every use after this (closing again does nothing)."""
        self.closed = True
        self.factory.close()

    # -- writing ------------------------------------------------------------------------------

    def append(
        self, events: Sequence[StoredEvent], commands: Sequence[CommandEntry], follower: Follower | None
    ) -> list[int]:
        """Store events, their command rows and the follower's segment in one transaction."""
        self._check_open()
        self._check_writable()
        committed = False
        try:
            with self.datastore.transaction(commit=True) as cursor:
                self._lock(cursor)
                positions = self._insert_events(cursor, events)
                self._insert_commands(cursor, commands, positions)
                if follower is not None and events:
                    rows = [
                        StoredRow(position, canonical_id(e.originator_id), e.originator_version, e.topic, e.state)
                        for position, e in zip(positions, events, strict=True)
                    ]
                    segment = follower.follow(self._head(cursor), _TransactionLog(self, cursor), rows)
                    self._insert_segment(cursor, segment)
            committed = True
        finally:
            if follower is not None:
                follower.settled(committed=committed)
        return positions

    def _lock(self, cursor: Cursor[DictRow]) -> None:
        cursor.execute(SQL("SET LOCAL lock_timeout = '{0}s'").format(self.datastore.lock_timeout or 30))
        cursor.execute(self._statement("LOCK TABLE {events} IN EXCLUSIVE MODE"))

    def _insert_events(self, cursor: Cursor[DictRow], events: Sequence[StoredEvent]) -> list[int]:
        if not events:
            return []
        cursor.execute(
            self._statement(
                "INSERT INTO {events} (originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[]) "
                "RETURNING notification_id, originator_id, originator_version"
            ),
            (
                [_uuid(e.originator_id) for e in events],
                [e.originator_version for e in events],
                [e.topic for e in events],
                [e.state for e in events],
            ),
        )
        assigned = {(row["originator_id"], row["originator_version"]): row["notification_id"] for row in cursor}
        return [int(assigned[(_uuid(e.originator_id), e.originator_version)]) for e in events]

    def _insert_commands(
        self, cursor: Cursor[DictRow], commands: Sequence[CommandEntry], positions: Sequence[int]
    ) -> None:
        if not commands:
            return
        taken: list[str] = []
        start = 0
        for entry in commands:
            taken.append("[" + ", ".join(str(p) for p in positions[start : start + entry.events]) + "]")
            start += entry.events
        cursor.execute(
            self._statement(
                "INSERT INTO {commands} "
                "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
            ),
            (
                [entry.command_id for entry in commands],
                [entry.name for entry in commands],
                [entry.digest for entry in commands],
                [entry.aggregate_id for entry in commands],
                taken,
            ),
        )

    def _head(self, cursor: Cursor[DictRow]) -> FoldSegment | None:
        cursor.execute(
            self._statement(
                "SELECT kind, first_position, position, size, root, frontier, last_leaf, ''::bytea AS payload, "
                "digest, seq FROM {fold} ORDER BY seq DESC LIMIT 1"
            )
        )
        row = cursor.fetchone()
        return None if row is None else _segment(row)

    def _insert_segment(self, cursor: Cursor[DictRow], segment: FoldSegment) -> None:
        cursor.execute(self._statement("SELECT coalesce(max(seq), 0) AS seq FROM {fold}"))
        row = cursor.fetchone()
        assert row is not None
        seq = int(row["seq"]) + 1
        cursor.execute(
            self._statement("INSERT INTO {fold} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"),
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
            cursor.execute(self._statement("DELETE FROM {fold} WHERE seq < %s"), (seq,))

    def put_segment(self, segment: FoldSegment, *, expected_seq: int) -> bool:
        """Store a segment written outside an append, if the newest one is still ``expected_seq``."""
        self._check_open()
        self._check_writable()
        with self.datastore.transaction(commit=True) as cursor:
            self._lock(cursor)
            cursor.execute(self._statement("SELECT coalesce(max(seq), 0) AS seq FROM {fold}"))
            row = cursor.fetchone()
            assert row is not None
            if int(row["seq"]) != expected_seq:
                return False
            self._insert_segment(cursor, segment)
        return True

    def open_staging(self, directory: str) -> SQLiteStaging:
        """A new staging area for an import, in ``directory`` (a throwaway folder)."""
        return SQLiteStaging(directory)

    def remove_state(self) -> None:
        """Forget the derived state."""
        self._check_open()
        self._check_writable()
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._statement("DELETE FROM {fold}"))

    def _check_writable(self) -> None:
        if self.read_only:
            raise InvalidInput("db", self.location, "a ledger opened for writing (it was opened read-only)")

    # -- reading ------------------------------------------------------------------------------

    def select_commands(self, command_ids: Sequence[str]) -> dict[str, CommandRecord]:
        """The index records of those of ``command_ids`` that were stored."""
        self._check_open()
        if not command_ids:
            return {}
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                self._statement(
                    "SELECT command_id, name, digest, aggregate_id, positions FROM {commands} "
                    "WHERE command_id = ANY(%s)"
                ),
                (list(command_ids),),
            )
            records = [command_record(tuple(row.values())) for row in cursor.fetchall()]
        return {record.command_id: record for record in records}

    def organization_rows(self, needle: bytes | None = None) -> list[StoredRow]:
        """The stored events that hold an organization's profile, in log order (with ``needle``: those
        whose state holds it)."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                self._statement(
                    "SELECT notification_id, originator_id, originator_version, topic, state FROM {events} "
                    f"WHERE {ORGANIZATION_EVENTS} AND position(%s::bytea in state) > 0 ORDER BY notification_id"
                ),
                (needle or b"",),
            )
            return [_row(row) for row in cursor.fetchall()]

    def pledge_rows(self, needle: bytes) -> list[StoredRow]:
        """The stored ``Pledge.Made`` events whose state holds ``needle``, in log order."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                self._statement(
                    "SELECT notification_id, originator_id, originator_version, topic, state FROM {events} "
                    "WHERE topic = 'aidledger.domain.pledge:Pledge.Made' AND position(%s::bytea in state) > 0 "
                    "ORDER BY notification_id"
                ),
                (needle,),
            )
            return [_row(row) for row in cursor.fetchall()]

    def max_position(self) -> int:
        """The newest log position (0 for an empty log)."""
        self._check_open()
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._statement("SELECT max(notification_id) AS last FROM {events}"))
            row = cursor.fetchone()
        return int(row["last"] or 0) if row else 0

    def _select_rows(self, cursor: Cursor[DictRow], after: int, last: int) -> list[StoredRow]:
        cursor.execute(
            self._statement(
                "SELECT notification_id, originator_id, originator_version, topic, state FROM {events} "
                "WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id LIMIT %s"
            ),
            (after, last, BATCH),
        )
        return [_row(row) for row in cursor.fetchall()]

    def read_rows(self, start: int = 1, stop: int | None = None) -> Iterator[StoredRow]:
        """The stored rows from ``start`` to ``stop`` in log order, read in short batches."""
        self._check_open()
        after, last = start - 1, LAST_POSITION if stop is None else stop
        while True:
            with self.datastore.transaction(commit=False) as cursor:
                batch = self._select_rows(cursor, after, last)
            yield from batch
            if len(batch) < BATCH:
                return
            after = batch[-1].position

    def read_aggregate_rows(self, originator_id: str) -> Iterator[StoredRow]:
        """The stored rows of one aggregate, in log order."""
        self._check_open()
        try:
            wanted = UUID(originator_id)
        except ValueError:
            return
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                self._statement(
                    "SELECT notification_id, originator_id, originator_version, topic, state FROM {events} "
                    "WHERE originator_id = %s ORDER BY notification_id"
                ),
                (wanted,),
            )
            rows = [_row(row) for row in cursor.fetchall()]
        yield from rows

    def read_segments(self, after_seq: int) -> tuple[FoldSegment, ...]:
        """The segments stored after ``after_seq``, in order (from the last snapshot among them)."""
        self._check_open()
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                self._statement(
                    "SELECT kind, first_position, position, size, root, frontier, last_leaf, payload, digest, seq "
                    "FROM {fold} WHERE seq > %s AND seq >= coalesce((SELECT max(seq) FROM {fold} "
                    "WHERE kind = 'snapshot'), 0) ORDER BY seq"
                ),
                (after_seq,),
            )
            return tuple(_segment(row) for row in cursor.fetchall())

    def read_state(self) -> StateRead:
        """The derived state and the facts about the log that check it, in one snapshot of the database."""
        self._check_open()
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute(
                self._statement(
                    "SELECT kind, first_position, position, size, root, frontier, last_leaf, payload, digest, seq "
                    "FROM {fold} WHERE seq >= coalesce((SELECT max(seq) FROM {fold} WHERE kind = 'snapshot'), 0) "
                    "ORDER BY seq"
                )
            )
            segments = tuple(_segment(row) for row in cursor.fetchall())
            cursor.execute(self._statement("SELECT max(notification_id) AS last FROM {events}"))
            row = cursor.fetchone()
            log_position = int(row["last"] or 0) if row else 0
            covered = segments[-1].position if segments else 0
            cursor.execute(
                self._statement("SELECT count(*) AS n FROM {events} WHERE notification_id <= %s"), (covered,)
            )
            row = cursor.fetchone()
            count = int(row["n"]) if row else 0
            last = self._select_rows(cursor, covered - 1, covered)
        return StateRead(segments, log_position, count, last[0] if last else None)


class _TransactionLog:
    """Reads rows inside an open write transaction."""

    def __init__(self, store: PostgresStore, cursor: Cursor[DictRow]) -> None:
        self.store = store
        self.cursor = cursor

    def read_rows(self, start: int = 1, stop: int | None = None) -> Iterator[StoredRow]:
        after, last = start - 1, LAST_POSITION if stop is None else stop
        while True:
            batch = self.store._select_rows(self.cursor, after, last)
            yield from batch
            if len(batch) < BATCH:
                return
            after = batch[-1].position


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _row(row: DictRow) -> StoredRow:
    return StoredRow(
        int(row["notification_id"]),
        canonical_id(row["originator_id"]),
        row["originator_version"],
        row["topic"],
        bytes(row["state"]),
    )


def _segment(row: DictRow) -> FoldSegment:
    return FoldSegment(
        kind=str(row["kind"]),
        first_position=int(row["first_position"]),
        position=int(row["position"]),
        size=int(row["size"]),
        root=bytes(row["root"]),
        frontier=bytes(row["frontier"]),
        last_leaf=bytes(row["last_leaf"]),
        payload=bytes(row["payload"]),
        digest=str(row["digest"]),
        seq=int(row["seq"]),
    )


def _environment(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    dbname = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not dbname or not parts.username:
        raise InvalidInput("db", redact(url), ACCEPTED_URL)
    query = parse_qs(parts.query)
    connect_timeout = query.get("connect_timeout", [str(CONNECT_TIMEOUT)])[0]
    if not connect_timeout.isdigit() or not 1 <= int(connect_timeout) <= 600:
        raise InvalidInput("connect_timeout", connect_timeout, "a whole number of seconds from 1 to 600")
    environment = {
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": connect_timeout,
        "POSTGRES_LOCK_TIMEOUT": "30",
        # Never POSTGRES_ENABLE_DB_FUNCTIONS: it breaks log order = commit order (DESIGN §6).
        "POSTGRES_ENABLE_DB_FUNCTIONS": "no",
    }
    schema = query.get("schema")
    if schema:
        environment["POSTGRES_SCHEMA"] = schema[0]
    return environment


def redact(url: str) -> str:
    """Hide a password in a database URL before it goes into a message."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
