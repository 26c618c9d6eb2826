"""Import throughput into SQLite and PostgreSQL, beside raw ``executemany`` of the same rows.

Ours: the SYNTHETIC campaign history (6,300 organizations, 5,367 projects) imported through the
library, one :func:`~aidledger.interchange.commands.run_command` per record, into a new SQLite
file; and the same history at 0.2 of its size (the same mix of commands: PostgreSQL takes longer)
into a new PostgreSQL database on a throwaway server with the test suite's settings (fsync off),
and at 0.03 of its size with durable commits (fsync on). Baseline, in the same run: the very rows the library
stored, read back and inserted with one ``executemany`` in one transaction into an empty copy of
the ``stored_events`` table (same definition, same kind of database). Also shown, to explain the
gap: the same raw rows written with one transaction per command, as the library must commit them.

Target (issue 7): import >= 0.5x raw insert.

    .venv/bin/python -m benchmarks.bench_import [--factor 0.1] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import aidledger
from aidledger.interchange.commands import run_command
from benchmarks.common import Figure, postgres_server, print_header
from benchmarks.generate import CAMPAIGN, history, stored_events

TARGET_RATIO = 0.5
COMPARISON_COMMANDS = 10_000
"""Commands whose rows the per-command comparison writes (each commit waits for the disk)."""
Row = tuple[Any, ...]


def import_records(db: str | Path, records: Sequence[dict[str, Any]]) -> tuple[float, int, str]:
    """Import through the library; returns (seconds, events stored, the events table's name)."""
    with aidledger.open(db, recorded_by="bench") as ledger:
        started = time.perf_counter()
        for record in records:
            run_command(ledger, record)
        seconds = time.perf_counter() - started
        return seconds, ledger.position(), str(getattr(ledger.recorder, "events_table_name", "stored_events"))


def _sqlite_rows(db: Path) -> tuple[str, list[Row], list[list[int]]]:
    """The stored_events definition, its rows in log order, and each command's positions."""
    connection = sqlite3.connect(db)
    try:
        (definition,) = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'stored_events'").fetchone()
        rows = connection.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()
        groups = _command_groups(connection.execute("SELECT positions FROM aidledger_commands").fetchall())
    finally:
        connection.close()
    return definition, rows, groups


def _command_groups(rows: Sequence[Row]) -> list[list[int]]:
    return sorted((json.loads(positions) for (positions,) in rows), key=lambda group: group[0])


def raw_sqlite(definition: str, rows: Sequence[Row], groups: list[list[int]] | None) -> float:
    """Insert ``rows`` into an empty copy of stored_events in a new WAL file; seconds.

    One transaction for all rows, or one per command's rows when ``groups`` is given.
    """
    with tempfile.TemporaryDirectory(prefix="aidledger-bench-") as folder:
        connection = sqlite3.connect(Path(folder, "raw.db"), isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(definition)
            insert = "INSERT INTO stored_events VALUES (?,?,?,?)"
            started = time.perf_counter()
            for batch in [[rows[p - 1] for p in group] for group in groups] if groups else [rows]:
                connection.execute("BEGIN")
                connection.executemany(insert, batch)
                connection.execute("COMMIT")
            return time.perf_counter() - started
        finally:
            connection.close()


def bench_sqlite(records: Sequence[dict[str, Any]]) -> None:
    """SQLite: the library's import beside raw executemany."""
    with tempfile.TemporaryDirectory(prefix="aidledger-bench-") as folder:
        db = Path(folder, "import.db")
        seconds, events, _ = import_records(db, records)
        definition, rows, groups = _sqlite_rows(db)
    assert len(rows) == events == stored_events(records)
    raw = raw_sqlite(definition, rows, None)
    sample = groups[:COMPARISON_COMMANDS]
    per_command = raw_sqlite(definition, rows, sample) * events / sum(len(group) for group in sample)
    ours, baseline = events / seconds, events / raw
    Figure(
        "import",
        f"SQLite, run_command per record ({len(records):,} records, {events:,} events, {seconds:.1f} s)",
        ours,
        "events/s",
        baseline,
        "raw executemany, one transaction",
        f">= {TARGET_RATIO}x baseline",
        ours >= TARGET_RATIO * baseline,
    ).show()
    Figure(
        "import",
        f"SQLite, raw executemany with one transaction per command (first {len(sample):,} commands, for comparison)",
        events / per_command,
        "events/s",
        note=f"{events / per_command / ours:.1f}x the library: the floor that committing each command sets",
    ).show()


def _postgres_rows(connection: Any, table: str) -> tuple[list[Row], list[list[int]]]:
    rows = connection.execute(
        f"SELECT originator_id, originator_version, topic, state FROM {table} ORDER BY notification_id"
    ).fetchall()
    groups = _command_groups(connection.execute("SELECT positions FROM aidledger_commands").fetchall())
    first = connection.execute(f"SELECT MIN(notification_id) FROM {table}").fetchone()[0]
    return rows, [[position - first + 1 for position in group] for group in groups]


def raw_postgres(url: str, rows: Sequence[Row], groups: list[list[int]] | None, source: str, table: str) -> float:
    """Insert ``rows`` into an empty copy of the events table (with its own sequence); seconds."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE TABLE {table} (LIKE {source} INCLUDING ALL)")
        connection.execute(f"CREATE SEQUENCE {table}_seq")
        connection.execute(f"ALTER TABLE {table} ALTER COLUMN notification_id SET DEFAULT nextval('{table}_seq')")
        insert = f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)"
        started = time.perf_counter()
        for batch in [[rows[p - 1] for p in group] for group in groups] if groups else [rows]:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(insert, batch)
        return time.perf_counter() - started


def bench_postgres(records: Sequence[dict[str, Any]], *, durable: bool) -> None:
    """PostgreSQL: the library's import beside raw executemany."""
    import psycopg
    from tests.support.postgres_server import PostgresUnavailable

    try:
        with postgres_server(durable=durable) as server:
            url = server.create_database("bench_import")
            seconds, events, table = import_records(url, records)
            with psycopg.connect(url) as connection:
                rows, groups = _postgres_rows(connection, table)
            assert len(rows) == events == stored_events(records)
            assert all(isinstance(row[0], UUID) for row in rows[:1])
            raw = raw_postgres(url, rows, None, table, "bench_raw_events")
            per_command = raw_postgres(url, rows, groups, table, "bench_raw_events_per_command")
    except PostgresUnavailable as error:
        print(f"[import] PostgreSQL skipped: {error}")
        return
    ours, baseline = events / seconds, events / raw
    kind = "durable commits" if durable else "fsync off"
    Figure(
        "import",
        f"PostgreSQL ({kind}), run_command per record ({len(records):,} records, {events:,} events, {seconds:.1f} s)",
        ours,
        "events/s",
        baseline,
        "raw executemany, one transaction",
        f">= {TARGET_RATIO}x baseline",
        ours >= TARGET_RATIO * baseline,
    ).show()
    Figure(
        "import",
        f"PostgreSQL ({kind}), raw executemany with one transaction per command (for comparison)",
        events / per_command,
        "events/s",
        note=f"{events / per_command / ours:.1f}x the library",
    ).show()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the import benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the campaign history (SQLite)")
    parser.add_argument("--postgres-factor", type=float, default=0.2, help="scale of the campaign history (PG)")
    parser.add_argument("--durable-factor", type=float, default=0.03, help="the same with fsync on (0: skip)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    scale = CAMPAIGN.times(args.factor)
    records = history(scale)
    print_header(f"import into SQLite: {scale.name} history (SYNTHETIC), {len(records):,} records")
    bench_sqlite(records)
    if args.no_postgres:
        return 0
    for factor, durable in ((args.postgres_factor, False), (args.durable_factor, True)):
        if factor:
            scale = CAMPAIGN.times(factor)  # the whole mix of commands, smaller: PostgreSQL takes longer
            records = history(scale)
            print_header(f"import into PostgreSQL: {scale.name} history (SYNTHETIC), {len(records):,} records")
            bench_postgres(records, durable=durable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
