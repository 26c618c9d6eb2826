"""PostgreSQL: the application recorder with the commands index (needs the ``postgres`` extra).

``eventsourcing`` locks the events table for each write, so log order is commit order; the
command row is written in the same transaction, after the events got their positions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresTrackingRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from aidledger.persistence import COMMANDS_COLUMNS, COMMANDS_TABLE, CommandRecord, command_from_row
from aidledger.projections.runner import FACTS_COLUMNS, FACTS_TABLE, RECORDS_COLUMNS, RECORDS_TABLE, FoldStore

__all__ = ["PostgresFoldRecorder", "PostgresLedgerRecorder"]


DDL_LOCK = 726_456_331  # any fixed number: the advisory lock that serialises table creation


class SerialisedCreateTable:
    """Create tables under an advisory lock: concurrent ``CREATE ... IF NOT EXISTS`` and
    ``CREATE OR REPLACE FUNCTION`` from several processes opening a new database at once fail
    with "tuple concurrently updated" otherwise."""

    datastore: PostgresDatastore

    def create_table(self) -> None:
        """Create the tables while holding the advisory lock."""
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (DDL_LOCK,))
            try:
                super().create_table()  # type: ignore[misc]
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (DDL_LOCK,))


class PostgresLedgerRecorder(SerialisedCreateTable, PostgresApplicationRecorder):
    """The PostgreSQL application recorder plus the commands index, in the same transaction."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        table = Identifier(datastore.schema or "public", COMMANDS_TABLE)
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {0} (" + COMMANDS_COLUMNS + ")").format(table)
        )
        self.insert_command_statement = SQL("INSERT INTO {0} VALUES (%s, %s, %s, %s, %s)").format(table)
        self.select_command_statement = SQL("SELECT * FROM {0} WHERE command_id = %s").format(table)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        command: CommandRecord | None = kwargs.get("command")
        if command is not None:
            assert positions is not None
            curs.execute(
                self.insert_command_statement,
                (command.command_id, command.name, command.digest, command.aggregate_id, json.dumps(list(positions))),
            )
        return positions

    def select_command(self, command_id: str) -> CommandRecord | None:
        """The record of ``command_id``, or ``None`` when it was never stored."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.select_command_statement, (command_id,))
            row = curs.fetchone()
        return None if row is None else command_from_row(row)


class PostgresFoldRecorder(FoldStore, SerialisedCreateTable, PostgresTrackingRecorder):
    """The projection fold's store in the ledger's PostgreSQL database."""

    placeholder = "%s"

    def __init__(self, datastore: PostgresDatastore) -> None:
        super().__init__(datastore)
        self.tracking_table = self.tracking_table_name
        for table, columns in ((FACTS_TABLE, FACTS_COLUMNS), (RECORDS_TABLE, RECORDS_COLUMNS)):
            self.sql_create_statements.append(SQL(f"CREATE TABLE IF NOT EXISTS {table} ({columns})").format())
