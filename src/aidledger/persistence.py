"""Storage: the mapper for pydantic events, the recorders, and database location -> environment.

Stored event state is canonical JSON: keys sorted, no whitespace, UTF-8, decimals as strings,
dates as ``YYYY-MM-DD``. The same event always gives the same bytes, whatever the store, which
is what the audit trail hashes.

The recorders add one table beside the events, ``aidledger_commands``, written in the same
transaction as the events a command stores: it indexes command ids for idempotency.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoder,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import TopicError, get_topic, resolve_topic
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from aidledger.domain.values import TRUSTED
from aidledger.errors import InvalidInput, UnreadableEvent

__all__ = [
    "CommandRecord",
    "LedgerMapper",
    "LedgerRecorder",
    "SQLiteLedgerRecorder",
    "canonical_json",
    "environment_for",
]

COMMANDS_TABLE = "aidledger_commands"
COMMANDS_COLUMNS = (
    "command_id TEXT PRIMARY KEY, name TEXT NOT NULL, digest TEXT NOT NULL, "
    "aggregate_id TEXT NOT NULL, positions TEXT NOT NULL"
)


def canonical_json(data: Any) -> bytes:
    """Serialise JSON-ready data canonically: sorted keys, no spaces, UTF-8, no floats."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


class LedgerMapper(Mapper[UUID]):
    """Maps pydantic events to stored events as canonical JSON, and back to the same types.

    Upcasting works as in ``eventsourcing``: an event class with ``class_version = N`` defines
    ``upcast_vK_vK+1(state: dict)`` static methods, applied to older stored state before it is
    validated.
    """

    def __init__(self, transcoder: Transcoder | None = None, **_: Any) -> None:
        super().__init__(transcoder=transcoder or JSONTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """Turn a domain event into a stored event with canonical JSON state."""
        assert isinstance(domain_event, BaseModel), domain_event
        state = domain_event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(
            originator_id=domain_event.originator_id,  # type: ignore[attr-defined]
            originator_version=domain_event.originator_version,  # type: ignore[attr-defined]
            topic=get_topic(type(domain_event)),
            state=canonical_json(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """Turn a stored event back into its pydantic event, upcasting older versions."""
        try:
            cls = resolve_topic(stored_event.topic)
            state = from_json(stored_event.state)  # pydantic-core's parser: no floats are ever stored
            if not isinstance(state, dict):
                raise TypeError("state is not a JSON object")  # noqa: TRY301 - reported as unreadable below
            from_version = state.pop("class_version", 1)
            while from_version < _class_version(cls):
                getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
                from_version += 1
            state["originator_id"] = stored_event.originator_id
            state["originator_version"] = stored_event.originator_version
            return cls.model_validate(state, context=TRUSTED)
        except (ValueError, TypeError, AttributeError, ImportError, TopicError, ValidationError) as error:
            where = (
                f"stored event {stored_event.originator_id} v{stored_event.originator_version} ({stored_event.topic})"
            )
            msg = f"{where} cannot be read: {error}"
            raise UnreadableEvent(msg) from None


@cache
def _class_version(cls: type) -> int:
    # Cached: a missing attribute on a pydantic model class is a slow metaclass lookup.
    return int(getattr(cls, "class_version", 1))


@dataclass(frozen=True)
class CommandRecord:
    """What the commands index holds for one command id."""

    command_id: str
    name: str
    digest: str
    aggregate_id: str
    positions: tuple[int, ...]


class LedgerRecorder(Protocol):
    """What the application needs of a recorder beyond ``eventsourcing``'s: the commands index."""

    def select_command(self, command_id: str) -> CommandRecord | None:
        """The record of ``command_id``, or ``None`` when it was never stored."""


class SQLiteLedgerRecorder(SQLiteApplicationRecorder):
    """The SQLite application recorder plus the commands index, written in the same transaction."""

    def construct_create_table_statements(self) -> list[str]:
        """Events table as in ``eventsourcing``, and the commands index."""
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {COMMANDS_TABLE} ({COMMANDS_COLUMNS})",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        command: CommandRecord | None = kwargs.get("command")
        if command is not None:
            assert positions is not None
            c.execute(
                f"INSERT INTO {COMMANDS_TABLE} VALUES (?,?,?,?,?)",
                (command.command_id, command.name, command.digest, command.aggregate_id, json.dumps(list(positions))),
            )
        return positions

    def select_command(self, command_id: str) -> CommandRecord | None:
        """The record of ``command_id``, or ``None`` when it was never stored."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT * FROM {COMMANDS_TABLE} WHERE command_id=?", (command_id,))
            row = c.fetchone()
        return None if row is None else command_from_row(row)


def command_from_row(row: Any) -> CommandRecord:
    """A commands-index row as a record."""
    return CommandRecord(
        command_id=row["command_id"],
        name=row["name"],
        digest=row["digest"],
        aggregate_id=row["aggregate_id"],
        positions=tuple(json.loads(row["positions"])),
    )


def environment_for(db: str | Path) -> dict[str, str]:
    """The ``eventsourcing`` environment for a database location.

    ``":memory:"`` is a private in-memory SQLite database; a ``postgresql://user:password@host:
    port/dbname`` URL (optional ``?schema=NAME``) is PostgreSQL; any other string or path is an
    SQLite file, created when missing.
    """
    location = str(db).strip()
    if not location:
        raise InvalidInput("db", db, "an SQLite file path, ':memory:' or a postgresql:// URL")
    if location.startswith(("postgres://", "postgresql://")):
        return _postgres_environment(location)
    if location == ":memory:":
        name = f"file:aidledger-{uuid.uuid4().hex}?mode=memory&cache=shared"
    else:
        path = Path(location).expanduser()
        if path.is_dir():
            raise InvalidInput("db", location, "a file path, not a directory")
        if not path.parent.exists():
            raise InvalidInput("db", location, f"a path whose folder exists ({path.parent} does not)")
        name = str(path)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": name,
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": get_topic(SQLiteLedgerRecorder),
    }


def _postgres_environment(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    dbname = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not dbname or not parts.username:
        accepted = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME[?schema=NAME]"
        raise InvalidInput("db", _redact(url), accepted)
    from aidledger.postgres import PostgresLedgerRecorder  # needs the [postgres] extra

    environment = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_LOCK_TIMEOUT": "30",
        # Never POSTGRES_ENABLE_DB_FUNCTIONS: it breaks log order = commit order (DESIGN §6).
        "POSTGRES_ENABLE_DB_FUNCTIONS": "no",
        "APPLICATION_RECORDER_TOPIC": get_topic(PostgresLedgerRecorder),
    }
    schema = parse_qs(parts.query).get("schema")
    if schema:
        environment["POSTGRES_SCHEMA"] = schema[0]
    return environment


def _redact(url: str) -> str:
    """Hide a password in a database URL before it goes into a message."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
