"""Latency of one command plus refreshed totals on the national (1,000,000-event) ledger.

Ours: on a copy of the national file whose fold is persisted (made by ``bench_rebuild``), after
one warm-up ``projections.totals(ledger)`` (which loads the persisted fold; its time is shown),
each of ``--commands`` iterations disburses 1.00 yuan against a different signed pledge with
``ledger.disburse(...)`` and then calls ``projections.totals(ledger)``, which folds the new
events incrementally and computes the grand totals. Median and p95 of the sum, and of each part.

Baseline, in the same run: the storage floor of each command, i.e. the very rows it stored
(two events and its commands-index row) inserted in one transaction into empty copies of the
tables in a new WAL file.

Target (issue 7): one command plus refreshed totals <= 20 ms on that ledger.

    .venv/bin/python -m benchmarks.bench_latency [--factor 0.05] [--commands 50]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

import aidledger
from aidledger import projections
from aidledger.application import AidLedger
from aidledger.domain.values import PledgeStage
from benchmarks.build_ledger import cached_ledger
from benchmarks.common import OUTPUT, Figure, copy_database, median, percentile, print_header
from benchmarks.generate import NATIONAL, Scale

TARGET_MS = 20.0


def folded_ledger(scale: Scale) -> Path:
    """The national file with its fold persisted (made by bench_rebuild; made here if missing)."""
    db = OUTPUT / f"{scale.name}.db"
    folded = db.with_name(f"{db.stem}-folded.db")
    cached_ledger(db, scale)
    if not folded.exists() or folded.stat().st_mtime < db.stat().st_mtime:  # missing, or of an older build
        copy_database(db, folded)
        print(f"persisting the fold in {folded} first (not measured) ...", flush=True)
        with aidledger.open(folded) as ledger:
            projections.Projections(ledger).refresh()
    return folded


def pledges_to_pay(ledger: AidLedger, count: int) -> list[UUID]:
    """``count`` signed pledges with at least 1.00 outstanding, picked with a fixed seed."""
    fold = projections.fold_of(ledger)
    signed = sorted(p.id for p in fold.pledges.values() if p.stage is PledgeStage.signed and not p.withdrawn)
    chosen: list[UUID] = []
    for pledge_id in random.Random(7).sample(signed, min(len(signed), count * 4)):
        if ledger.pledge(pledge_id).outstanding >= 1:
            chosen.append(pledge_id)
            if len(chosen) == count:
                return chosen
    raise RuntimeError(f"only {len(chosen)} signed pledges have money outstanding")


def storage_floor(db: Path, positions: list[tuple[int, ...]]) -> list[float]:
    """Milliseconds to insert each command's stored rows in one transaction into empty tables."""
    source = sqlite3.connect(db)
    tables = [
        sql
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE name IN ('stored_events', 'aidledger_commands')"
        )
    ]
    batches = []
    for group in positions:
        marks = ",".join("?" * len(group))
        events = source.execute(
            f"SELECT originator_id, originator_version, topic, state FROM stored_events WHERE rowid IN ({marks})", group
        ).fetchall()
        command = source.execute(
            "SELECT * FROM aidledger_commands WHERE positions = ?", (f"[{', '.join(map(str, group))}]",)
        ).fetchall()
        assert len(events) == len(group) and len(command) == 1, (group, len(events), len(command))
        batches.append((events, command))
    source.close()
    timings = []
    with tempfile.TemporaryDirectory(prefix="aidledger-bench-") as folder:
        target = sqlite3.connect(Path(folder, "floor.db"), isolation_level=None)
        target.execute("PRAGMA journal_mode=WAL")
        for sql in tables:
            target.execute(sql)
        for events, command in batches:
            started = time.perf_counter()
            target.execute("BEGIN")
            target.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", events)
            target.executemany("INSERT INTO aidledger_commands VALUES (?,?,?,?,?)", command)
            target.execute("COMMIT")
            timings.append((time.perf_counter() - started) * 1000)
        target.close()
    return timings


def main(argv: Sequence[str] | None = None) -> int:
    """Run the latency benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the national history")
    parser.add_argument("--commands", type=int, default=50)
    args = parser.parse_args(argv)
    scale = NATIONAL.times(args.factor)
    print_header(f"command latency: {scale.name} ledger (SYNTHETIC)")
    work = OUTPUT / f"{scale.name}-latency.db"
    copy_database(folded_ledger(scale), work)
    commands, refreshes, both, positions = [], [], [], []
    with aidledger.open(work, recorded_by="bench-latency (synthetic)") as ledger:
        events = ledger.position()
        started = time.perf_counter()
        projections.totals(ledger)
        print(f"first projections.totals(ledger), loading the persisted fold: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        projections.totals(ledger)
        print(f"projections.totals(ledger) with nothing new: {(time.perf_counter() - started) * 1000:,.0f} ms")
        for number, pledge_id in enumerate(pledges_to_pay(ledger, args.commands)):
            started = time.perf_counter()
            receipt = ledger.disburse(
                command_id=f"bench-latency-{number:04d}",
                pledge_id=pledge_id,
                amount="1.00",
                effective_on=scale.last_day,
                source={"reference": f"bench-latency-{number:04d} (synthetic)"},
            )
            done = time.perf_counter()
            report = projections.totals(ledger)
            finished = time.perf_counter()
            assert report.coordinates.position == receipt.positions[-1]
            commands.append((done - started) * 1000)
            refreshes.append((finished - done) * 1000)
            both.append((finished - started) * 1000)
            positions.append(receipt.positions)
    floor = storage_floor(work, positions)
    where = f"{events:,}-event ledger, {len(both)} commands"
    for name, fraction in (("median", 0.5), ("p95", 0.95)):

        def statistic(values: list[float], fraction: float = fraction) -> float:
            return median(values) if fraction == 0.5 else percentile(values, fraction)

        Figure(
            "latency",
            f"disburse + projections.totals(ledger), {name} ({where})",
            statistic(both),
            "ms",
            statistic(floor),
            "storage floor: the same rows inserted raw, one transaction",
            f"<= {TARGET_MS:.0f} ms",
            statistic(both) <= TARGET_MS,
            f"command alone {statistic(commands):,.1f} ms, refreshed totals alone {statistic(refreshes):,.1f} ms",
        ).show()
    return 0


if __name__ == "__main__":
    sys.exit(main())
