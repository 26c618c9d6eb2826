"""Build an SQLite ledger file from a SYNTHETIC history, through the command API or directly.

``commands``: every record goes through :func:`aidledger.interchange.commands.run_command`, one
transaction per command, exactly as ``aidledger import`` does. That is the honest figure, and it
is slow at national scale (see docs/performance.md).

``direct`` (the SHORTCUT the other benchmarks use for the 1,000,000-event file): every record is
still validated and decided by the library's own code (:class:`aidledger.AidLedger`'s command
methods, the domain aggregates and rules, and :class:`aidledger.persistence.LedgerMapper`), but
the aggregates stay in memory between commands and the resulting stored rows, with their
``aidledger_commands`` rows, are written with ``executemany`` in large transactions instead of
one transaction per command. Only the storage round trips are skipped: ``--check`` builds a small
history both ways and shows the two files hold the same rows (event timestamps aside).

    .venv/bin/python -m benchmarks.build_ledger --scale national --db bench-output/national.db
    .venv/bin/python -m benchmarks.build_ledger --check
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import Notification, Recording

import aidledger
from aidledger.application import AidLedger
from aidledger.domain.base import LedgerAggregate
from aidledger.errors import NotFound, UnreadableEvent
from aidledger.interchange.commands import run_command
from aidledger.persistence import COMMANDS_TABLE, CommandRecord, LedgerRecorder, environment_for
from benchmarks.common import fingerprint
from benchmarks.generate import SCALES, Scale, history, stored_events

__all__ = ["BulkLedger", "build_direct", "build_via_commands", "cached_ledger", "check_equivalence"]

FLUSH_EVERY = 100_000
"""Stored rows written per transaction by the direct build."""

TAggregate = TypeVar("TAggregate", bound=LedgerAggregate)
EventRow = tuple[int, str, int, str, bytes]
CommandRow = tuple[str, str, str, str, str]


class BulkLedger(AidLedger):
    """The ledger's own command methods, with aggregates kept in memory and rows written in bulk.

    Overrides only where aggregates come from (``_load``), where pending events go (``save``) and
    the commands index lookup; deciding, validating and mapping events is the library's code.
    The database must be empty; call :meth:`flush` to write what was decided so far.
    """

    def __init__(self, db: Path) -> None:
        super().__init__(environment_for(db))
        assert self.position() == 0, f"{db} is not empty"
        self.db = db
        self.aggregates: dict[UUID, LedgerAggregate] = {}
        self.commands: dict[str, CommandRecord] = {}
        self.event_rows: list[EventRow] = []
        self.command_rows: list[CommandRow] = []
        self.next_position = 1

    @property
    def ledger_recorder(self) -> LedgerRecorder:
        """The in-memory commands index (every command written so far, or pending)."""
        return self

    def select_command(self, command_id: str) -> CommandRecord | None:
        """The record of ``command_id``, or ``None``."""
        return self.commands.get(command_id)

    def _load(self, aggregate_class: type[TAggregate], aggregate_id: UUID, what: str) -> TAggregate:
        aggregate = self.aggregates.get(aggregate_id)
        if not isinstance(aggregate, aggregate_class):
            raise NotFound(f"{what} {aggregate_id} does not exist")
        return aggregate

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Map the pending events to stored rows, as the SQLite recorder would number them."""
        command: CommandRecord = kwargs["command"]
        recordings: list[Recording[UUID]] = []
        for aggregate in objs:
            for event in aggregate.collect_events():
                stored = self.mapper.to_stored_event(event)
                position, self.next_position = self.next_position, self.next_position + 1
                assert isinstance(stored.originator_id, UUID)
                self.event_rows.append(
                    (position, stored.originator_id.hex, stored.originator_version, stored.topic, stored.state)
                )
                notification = Notification(
                    id=position,
                    originator_id=stored.originator_id,
                    originator_version=stored.originator_version,
                    topic=stored.topic,
                    state=stored.state,
                )
                recordings.append(Recording(domain_event=event, notification=notification))
            self.aggregates[aggregate.id] = aggregate
        positions = tuple(recording.notification.id for recording in recordings)
        self.commands[command.command_id] = replace(command, positions=positions)
        self.command_rows.append(
            (command.command_id, command.name, command.digest, command.aggregate_id, json.dumps(list(positions)))
        )
        return recordings

    def flush(self) -> None:
        """Write the pending rows in one transaction, into the library's own tables."""
        connection = sqlite3.connect(self.db, isolation_level=None)
        try:
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) VALUES (?,?,?,?,?)",
                self.event_rows,
            )
            connection.executemany(f"INSERT INTO {COMMANDS_TABLE} VALUES (?,?,?,?,?)", self.command_rows)
            connection.execute("COMMIT")
        finally:
            connection.close()
        self.event_rows.clear()
        self.command_rows.clear()


def build_direct(db: Path, records: Sequence[dict[str, Any]], progress: Callable[[int], None] | None = None) -> float:
    """The SHORTCUT: decide every record with the library's code, write rows in bulk. Seconds."""
    started = time.perf_counter()
    ledger = BulkLedger(db)
    try:
        for count, record in enumerate(records, start=1):
            run_command(ledger, record)
            if len(ledger.event_rows) >= FLUSH_EVERY:
                ledger.flush()
            if progress is not None and count % 50_000 == 0:
                progress(count)
        ledger.flush()
    finally:
        ledger.close()
    return time.perf_counter() - started


def build_via_commands(
    db: Path, records: Sequence[dict[str, Any]], progress: Callable[[int], None] | None = None
) -> float:
    """Import every record through ``run_command``, one transaction each. Seconds."""
    started = time.perf_counter()
    with aidledger.open(db, recorded_by="bench") as ledger:
        for count, record in enumerate(records, start=1):
            run_command(ledger, record)
            if progress is not None and count % 50_000 == 0:
                progress(count)
    return time.perf_counter() - started


def _comparable_rows(db: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Stored rows in log order with each event's timestamp taken out, and the commands rows."""
    connection = sqlite3.connect(db)
    try:
        events = []
        for rowid, originator_id, version, topic, state in connection.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ):
            data = json.loads(state)
            data.pop("timestamp")
            events.append((rowid, originator_id, version, topic, data))
        commands = connection.execute(f"SELECT * FROM {COMMANDS_TABLE} ORDER BY command_id").fetchall()
    finally:
        connection.close()
    return events, commands


def check_equivalence(scale: Scale) -> str:
    """Build ``scale`` both ways and compare the files; returns a one-line verdict or raises."""
    records = history(scale)
    with tempfile.TemporaryDirectory(prefix="aidledger-bench-") as folder:
        via_commands, direct = Path(folder, "commands.db"), Path(folder, "direct.db")
        build_via_commands(via_commands, records)
        build_direct(direct, records)
        events_a, commands_a = _comparable_rows(via_commands)
        events_b, commands_b = _comparable_rows(direct)
    if events_a != events_b or commands_a != commands_b:
        differing = next((a, b) for a, b in zip(events_a, events_b, strict=False) if a != b)
        raise AssertionError(f"the direct build differs from the command import: {differing}")
    return (
        f"direct build == command import for {scale.name}: {len(events_a):,} stored events and "
        f"{len(commands_a):,} command rows identical (event timestamps aside)"
    )


def cached_ledger(
    db: Path, scale: Scale, *, method: str = "direct", log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Build ``db`` from ``scale`` unless an identical build is cached; returns its description.

    The description (scale, counts, method, build seconds) is kept beside the file as JSON.
    """
    meta_path = db.with_name(db.name + ".json")
    wanted = {
        "scale": scale.name,
        "organizations": scale.organizations,
        "projects": scale.projects,
        "seed": scale.seed,
        "domain": fingerprint("domain"),  # the events' classes: a change may change stored rows
    }
    if db.exists() and meta_path.exists():
        meta: dict[str, Any] = json.loads(meta_path.read_text())
        if {key: meta.get(key) for key in wanted} == wanted and _readable(db):
            log(f"using cached {db} ({meta['events']:,} events, built {meta['method']} in {meta['seconds']:.0f} s)")
            return meta
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), meta_path):
        stale.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    records = history(scale)
    generated = time.perf_counter() - started
    log(f"generated {len(records):,} SYNTHETIC records ({stored_events(records):,} events) in {generated:.1f} s")
    build = build_direct if method == "direct" else build_via_commands
    began = time.perf_counter()
    seconds = build(db, records, lambda count: log(f"  {count:,} records, {time.perf_counter() - began:,.0f} s ..."))
    with aidledger.open(db, recorded_by="bench") as ledger:
        events = ledger.position()
    assert events == stored_events(records), (events, stored_events(records))
    meta = wanted | {"method": method, "records": len(records), "events": events, "seconds": seconds}
    meta_path.write_text(json.dumps(meta, indent=2))
    log(f"built {db}: {events:,} events, {method}, {seconds:.1f} s ({events / seconds:,.0f} events/s)")
    return meta


def _readable(db: Path) -> bool:
    """Whether the library still reads the file's newest events."""
    with aidledger.open(db) as ledger:
        try:
            last = ledger.position()
            return sum(1 for _ in ledger.read_log(max(1, last - 99), last)) == min(100, last)
        except UnreadableEvent:
            return False


def main(argv: Sequence[str] | None = None) -> int:
    """Build a ledger file (cached), or check the direct build against the command import."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="national")
    parser.add_argument("--factor", type=float, default=1.0, help="multiply organizations and projects")
    parser.add_argument("--db", type=Path, default=Path("bench-output/national.db"))
    parser.add_argument("--method", choices=("direct", "commands"), default="direct")
    parser.add_argument("--check", action="store_true", help="compare both builds on a small history")
    args = parser.parse_args(argv)
    scale = SCALES[args.scale].times(args.factor)
    if args.check:
        print(check_equivalence(SCALES["campaign"].times(0.05) if args.factor == 1 else scale))
        return 0
    cached_ledger(args.db, scale, method=args.method)
    return 0


if __name__ == "__main__":
    sys.exit(main())
