"""Latency of one command plus refreshed totals on the national (1,000,000-event) ledger.

Ours: on a copy of the national ledger (its projections stored as one snapshot), after a first
``projections.totals(ledger)`` that loads them (its time is shown), each of ``--commands``
iterations disburses 1.00 yuan against a different signed cash pledge with ``ledger.disburse(...)``
and then calls ``projections.totals(ledger, [])``, whose position must be the command's last event.
Median and p95 of the two together, and of each part.

Baseline, in the same run: the storage floor of each command, i.e. the very rows it stored (its
events and its commands-index row) inserted in one transaction into empty tables of the same
definition in a new WAL file, with the library's settings.

Target (issue): one command plus refreshed totals <= 20 ms (median and p95).

    .venv/bin/python -m benchmarks.bench_latency [--factor 0.05] [--commands 50]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import aidledger
from aidledger import projections
from aidledger.projections import fold_of
from benchmarks.common import (
    OUTPUT,
    Figure,
    copy_database,
    median,
    percentile,
    print_header,
    ready_ledger,
    remove_database,
)
from benchmarks.generate import NATIONAL

TARGET_MS = 20.0
ONE_YUAN = 100
"""In hundredths, as the fold keeps amounts."""


def pledges_to_pay(ledger: aidledger.AidLedger, count: int) -> list[str]:
    """``count`` signed cash pledges with at least 1.00 outstanding, picked with a fixed seed."""
    fold = fold_of(ledger)
    payable = []
    for pledge in fold.pledges.values():
        line = fold.lines.get(pledge.id)
        if pledge.stage != "signed" or pledge.withdrawn or pledge.items or line is None:
            continue
        _intended, signed, _withdrawn, disbursed, _confirmed, reversed_, returned = line
        if signed - disbursed + reversed_ + returned >= ONE_YUAN:
            payable.append(pledge.id)
    if len(payable) < count:
        raise RuntimeError(f"only {len(payable)} signed pledges have money outstanding")
    return random.Random(7).sample(sorted(payable), count)


def storage_floor(db: Path, positions: list[tuple[int, ...]]) -> list[float]:
    """Milliseconds to insert each command's stored rows in one transaction into empty tables."""
    source = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        definitions = [
            sql
            for (sql,) in source.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name IN ('stored_events', 'aidledger_commands') "
                "AND sql IS NOT NULL ORDER BY type DESC"
            )
        ]
        batches = []
        for group in positions:
            marks = ",".join("?" * len(group))
            events = source.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_events "
                f"WHERE rowid IN ({marks}) ORDER BY rowid",
                group,
            ).fetchall()
            command = source.execute(
                "SELECT * FROM aidledger_commands WHERE positions = ?", (json.dumps(list(group)),)
            ).fetchall()
            assert len(events) == len(group) and len(command) == 1, (group, len(events), len(command))
            batches.append((events, command))
    finally:
        source.close()
    timings = []
    with tempfile.TemporaryDirectory(prefix="aidledger-bench-") as folder:
        target = sqlite3.connect(Path(folder, "floor.db"), isolation_level=None)
        try:
            target.execute("PRAGMA journal_mode=WAL")
            for definition in definitions:
                target.execute(definition)
            for events, command in batches:
                started = time.perf_counter()
                target.execute("BEGIN")
                target.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", events)
                target.executemany("INSERT INTO aidledger_commands VALUES (?,?,?,?,?)", command)
                target.execute("COMMIT")
                timings.append((time.perf_counter() - started) * 1000)
        finally:
            target.close()
    return timings


def run_commands(work: Path, count: int) -> tuple[int, list[float], list[float], list[tuple[int, ...]]]:
    """Disburse and refresh the totals ``count`` times; (events before, command ms, totals ms, positions)."""
    commands, refreshes, positions = [], [], []
    with aidledger.open(work, recorded_by="bench-latency (synthetic)") as ledger:
        events = ledger.position()
        started = time.perf_counter()
        projections.totals(ledger)
        print(
            f"first projections.totals(ledger), loading the stored projections: {time.perf_counter() - started:.2f} s"
        )
        started = time.perf_counter()
        projections.totals(ledger)
        print(f"projections.totals(ledger) with nothing new: {(time.perf_counter() - started) * 1000:,.1f} ms")
        for number, pledge_id in enumerate(pledges_to_pay(ledger, count)):
            started = time.perf_counter()
            receipt = ledger.disburse(
                command_id=f"bench-latency-{number:04d}",
                pledge_id=pledge_id,
                amount="1.00",
                effective_on=NATIONAL.last_day,
                source={"reference": f"bench-latency-{number:04d} (synthetic)"},
            )
            done = time.perf_counter()
            report = projections.totals(ledger, [])
            finished = time.perf_counter()
            assert report.coordinates.position == receipt.positions[-1]
            commands.append((done - started) * 1000)
            refreshes.append((finished - done) * 1000)
            positions.append(receipt.positions)
    return events, commands, refreshes, positions


def main(argv: Sequence[str] | None = None) -> int:
    """Run the latency benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the national history")
    parser.add_argument("--commands", type=int, default=50)
    args = parser.parse_args(argv)
    db = Path(ready_ledger("national", args.factor)["db"])
    print_header(f"command latency: {db.name} (SYNTHETIC)")
    work = OUTPUT / f"{db.stem}-latency.db"
    copy_database(db, work)
    try:
        events, commands, refreshes, positions = run_commands(work, args.commands)
        floor = storage_floor(work, positions)
    finally:
        remove_database(work)
    both = [command + refresh for command, refresh in zip(commands, refreshes, strict=True)]
    where = f"{events:,}-event ledger, {len(both)} commands"
    for name, fraction in (("median", 0.5), ("p95", 0.95)):
        ours = percentile(both, fraction) if fraction != 0.5 else median(both)
        parts = [percentile(part, fraction) if fraction != 0.5 else median(part) for part in (commands, refreshes)]
        Figure(
            "latency",
            f"disburse + projections.totals(ledger, []), {name} ({where})",
            ours,
            "ms",
            percentile(floor, fraction) if fraction != 0.5 else median(floor),
            "storage floor: the same rows inserted raw, one transaction",
            f"<= {TARGET_MS:.0f} ms",
            ours <= TARGET_MS,
            f"the command alone {parts[0]:,.1f} ms, the refreshed totals alone {parts[1]:,.1f} ms",
        ).show()
    return 0


if __name__ == "__main__":
    sys.exit(main())
