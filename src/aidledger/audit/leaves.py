"""The leaves of the audit tree: canonical bytes of each stored event, read straight from the store.

Leaf bytes are the canonical JSON (sorted keys, no whitespace, UTF-8) of the object::

    {"originator_id": "<uuid, lower case, hyphenated>", "originator_version": <int>,
     "state": <the stored state, itself canonical JSON>, "topic": "<module:Class.Event>"}

No store detail (rowid, notification id, the SQLite hex form of ids) is part of them, so an SQLite
and a PostgreSQL copy of one history give the same leaves. Leaves follow log order (ascending
notification id); the event at log position ``p`` is leaf ``p - 1``.

Rows are read with plain SQL, in short batches, so that whatever is in the table is what is
hashed: rows edited behind the library's back included. The state bytes are spliced in as stored,
never re-encoded: a changed byte changes the leaf.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from functools import lru_cache
from json.encoder import encode_basestring
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias
from uuid import UUID

from eventsourcing.sqlite import SQLiteDatastore

from aidledger.audit.merkle import leaf_hash
from aidledger.errors import IntegrityFailure, InvalidInput, NotFound
from aidledger.persistence import canonical_json

if TYPE_CHECKING:
    from aidledger.application import AidLedger

__all__ = [
    "BATCH",
    "Source",
    "StoredRow",
    "canonical_id",
    "event_object",
    "expects_contiguous_positions",
    "first_originator_id",
    "leaf_bytes",
    "leaf_hash_of",
    "read_rows",
]

BATCH = 20_000
"""Rows read per query: large enough to amortise the query, small enough to hold no long lock."""

Source: TypeAlias = "AidLedger | str | Path"
"""Where rows come from: an open ledger, or the path of an SQLite ledger file (opened read-only)."""

_HEX_DIGITS = "0123456789abcdef"
_LAST = 2**63 - 1  # the largest position SQLite and PostgreSQL can hold


class StoredRow(NamedTuple):
    """One stored event as the table holds it, with its log position (notification id)."""

    position: int
    originator_id: str
    originator_version: Any
    topic: Any
    state: Any


def canonical_id(value: object) -> str:
    """An originator id in the store-independent form: a lower-case hyphenated UUID.

    SQLite keeps ids as 32 lower-case hex digits and PostgreSQL as ``uuid``; both map to the same
    text. Any other stored text (only a hand-edited row has it) becomes ``!`` and that text: no UUID
    looks like it, so an id rewritten into another spelling of the same UUID still shows.
    """
    if isinstance(value, UUID):
        return str(value)
    text = str(value)
    if len(text) == 32 and not text.strip(_HEX_DIGITS):  # strip() is a fast "all hex" test
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return "!" + text


def _json_value(value: Any) -> bytes:
    """A scalar as canonical JSON; strings escaped exactly as ``canonical_json`` escapes them."""
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


def leaf_bytes(row: StoredRow) -> bytes:
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


def leaf_hash_of(row: StoredRow) -> bytes:
    """The RFC 9162 leaf hash of a stored event."""
    return leaf_hash(leaf_bytes(row))


def event_object(row: StoredRow) -> dict[str, Any]:
    """The leaf as a JSON object (for proofs); refuses rows whose leaf is not canonical JSON."""
    raw = leaf_bytes(row)
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict) or canonical_json(data) != raw:
        msg = f"the event at log position {row.position} is not canonical JSON; run `aidledger verify`"
        raise IntegrityFailure(msg)
    return data


def read_rows(
    source: Source, start: int = 1, stop: int | None = None, *, originator_id: UUID | None = None
) -> Iterator[StoredRow]:
    """The stored rows in log order, from position ``start`` to ``stop`` (inclusive).

    ``source`` is an open ledger or the path of an SQLite ledger file, which is opened read-only.
    With ``originator_id`` only that aggregate's rows are read.
    """
    if isinstance(source, str | Path):
        yield from _read_file(Path(source), start, stop, originator_id)
    else:
        yield from _read_ledger(source, start, stop, originator_id)


def _select(table: str, originator_id: UUID | None) -> tuple[str, tuple[Any, ...]]:
    """The batch query, and the extra parameters it takes after (after, stop, limit)."""
    where = " AND originator_id=?" if originator_id is not None else ""
    statement = (
        "SELECT rowid, originator_id, originator_version, topic, state "
        f"FROM {table} WHERE rowid>? AND rowid<=?{where} ORDER BY rowid LIMIT ?"
    )
    return statement, ((originator_id.hex,) if originator_id is not None else ())


def _rows(batch: list[Any]) -> list[StoredRow]:
    return [StoredRow(row[0], canonical_id(row[1]), row[2], row[3], row[4]) for row in batch]


def _read_file(path: Path, start: int, stop: int | None, originator_id: UUID | None) -> Iterator[StoredRow]:
    if not path.is_file():
        raise InvalidInput("db", str(path), "an existing SQLite ledger file")
    statement, extra = _select("stored_events", originator_id)
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
        after, last = start - 1, stop if stop is not None else _LAST
        while True:
            try:
                batch = connection.execute(statement, (after, last, *extra, BATCH)).fetchall()
            except sqlite3.DatabaseError as error:
                raise InvalidInput("db", str(path), f"an aidledger SQLite file ({error})") from None
            yield from _rows(batch)
            if len(batch) < BATCH:
                return
            after = batch[-1][0]


Batch = Callable[[int, int], list[Any]]
"""Reads the rows with ``after < position <= last``, at most ``BATCH``, as sequences indexed like
``(position, originator_id, originator_version, topic, state)``."""


def _read_ledger(ledger: AidLedger, start: int, stop: int | None, originator_id: UUID | None) -> Iterator[StoredRow]:
    fetch = _batch_reader(ledger, originator_id)
    wanted = str(originator_id) if originator_id is not None else None
    after, last = start - 1, stop if stop is not None else _LAST
    while True:
        batch = fetch(after, last)
        # The SQL readers filter by originator already; the generic one cannot, so filter here.
        yield from (row for row in _rows(batch) if wanted is None or row.originator_id == wanted)
        if len(batch) < BATCH:
            return
        after = batch[-1][0]


def _batch_reader(ledger: AidLedger, originator_id: UUID | None) -> Batch:
    recorder: Any = ledger.recorder
    datastore = getattr(recorder, "datastore", None)
    if isinstance(datastore, SQLiteDatastore):
        return _sqlite_batches(recorder, originator_id)
    if type(datastore).__module__.startswith("eventsourcing.postgres"):
        return _postgres_batches(recorder, originator_id)
    return _notification_batches(ledger)


def _sqlite_batches(recorder: Any, originator_id: UUID | None) -> Batch:
    statement, extra = _select(recorder.events_table_name, originator_id)

    def fetch(after: int, last: int) -> list[Any]:
        # One short read transaction per batch: an in-memory database serialises readers and
        # writers, so a long-lived cursor would block the caller's own writes between batches.
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (after, last, *extra, BATCH))
            return list(cursor.fetchall())

    return fetch


def _postgres_batches(recorder: Any, originator_id: UUID | None) -> Batch:
    from psycopg.sql import SQL, Identifier  # the postgres extra is installed when this store is used

    where = " AND originator_id = %s" if originator_id is not None else ""
    statement = SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {schema}.{table} "
        f"WHERE notification_id > %s AND notification_id <= %s{where} ORDER BY notification_id LIMIT %s"
    ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
    extra = (originator_id,) if originator_id is not None else ()

    def fetch(after: int, last: int) -> list[Any]:
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (after, last, *extra, BATCH))
            return [
                (r["notification_id"], r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
                for r in cursor.fetchall()
            ]

    return fetch


def _notification_batches(ledger: AidLedger) -> Batch:
    """Any other store: ``select_notifications`` (it reads the table as it is; it cannot filter)."""

    def fetch(after: int, last: int) -> list[Any]:
        notifications = ledger.recorder.select_notifications(after + 1, BATCH, stop=last)
        return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]

    return fetch


def expects_contiguous_positions(source: Source) -> bool:
    """Whether the store numbers events 1, 2, 3 … with no gaps, so a gap means a deleted row.

    SQLite gives each row the next rowid, so its positions are contiguous; a store whose sequence
    can skip numbers (PostgreSQL, after a rolled-back insert) is not checked for gaps.
    """
    if isinstance(source, str | Path):
        return True
    return isinstance(getattr(source.recorder, "datastore", None), SQLiteDatastore)


def first_originator_id(source: Source) -> str:
    """The originator id of the first stored event (what a default origin is named after)."""
    for row in read_rows(source, 1, None):
        return row.originator_id
    raise NotFound("the ledger is empty: there is no first event to name it after")
