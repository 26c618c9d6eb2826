"""Full rebuild of all projections on the national ledger, beside a raw read and JSON decode.

Ours, each in a fresh process so that its peak memory (``VmHWM``, peak resident set) is its own:

- ``Projections(ledger).rebuild()``: a fresh in-memory fold of the whole log;
- ``Projections(ledger).refresh()`` from zero on a copy of the file: the same fold, persisted in
  the ledger's database batch by batch (the copy is kept for the latency and as-of benchmarks).

Baseline, in the same run: ``SELECT ... FROM stored_events ORDER BY rowid`` with the stdlib
``sqlite3`` and ``json.loads`` of every row's state, nothing kept.

Targets (issue 7): rebuild >= 0.4x raw read-and-decode and >= 100,000 events/s; 1,000,000 events
rebuilt in <= 10 s within 1 GiB.

The national file is built once and cached (see :mod:`benchmarks.build_ledger`).

    .venv/bin/python -m benchmarks.bench_rebuild [--factor 0.05]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aidledger
from aidledger.projections import Projections
from benchmarks.build_ledger import cached_ledger
from benchmarks.common import OUTPUT, Figure, copy_database, print_header, rss_mib, run_child
from benchmarks.generate import NATIONAL

TARGET_RATIO = 0.4
TARGET_RATE = 100_000
TARGET_SECONDS_PER_MILLION = 10.0
TARGET_MIB = 1024.0


def measure_raw(db: Path) -> dict[str, Any]:
    """Read every stored row and decode its JSON state; keep nothing."""
    before = rss_mib()
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    started, cpu = time.perf_counter(), time.process_time()
    events = 0
    for _position, _originator_id, _version, _topic, state in connection.execute(
        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
    ):
        json.loads(state)
        events += 1
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    connection.close()
    return {"events": events, "seconds": seconds, "cpu": cpu, "rss_before": before, "rss_peak": rss_mib()}


def measure_rebuild(db: Path) -> dict[str, Any]:
    """``Projections(ledger).rebuild()``: the whole log folded in memory."""
    with aidledger.open(db) as ledger:
        projections = Projections(ledger)
        before = rss_mib()
        started, cpu = time.perf_counter(), time.process_time()
        fold = projections.rebuild()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        return {
            "events": fold.events_seen,
            "facts": len(fold.facts),
            "seconds": seconds,
            "cpu": cpu,
            "rss_before": before,
            "rss_peak": rss_mib(),
        }


def measure_refresh(db: Path) -> dict[str, Any]:
    """``Projections(ledger).refresh()`` from zero: the fold persisted beside the events."""
    with aidledger.open(db) as ledger:
        projections = Projections(ledger)
        assert projections.recorder.position() == 0, "the copy already holds a fold"
        before = rss_mib()
        started, cpu = time.perf_counter(), time.process_time()
        events = projections.refresh()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        return {"events": events, "seconds": seconds, "cpu": cpu, "rss_before": before, "rss_peak": rss_mib()}


MEASURES = {"raw": measure_raw, "rebuild": measure_rebuild, "refresh": measure_refresh}


def build_elsewhere(db: Path, factor: float) -> dict[str, Any]:
    """Build (or find cached) the national file in another process: building takes GiBs of memory,
    which the processes this one starts for the measurements must not start with."""
    run = [sys.executable, "-m", "benchmarks.build_ledger", "--scale", "national", "--factor", str(factor)]
    subprocess.run([*run, "--db", str(db)], check=True)
    return cached_ledger(db, NATIONAL.times(factor))


def warm_page_cache(db: Path) -> None:
    """Read the file once, in chunks, so every measurement finds it in the page cache alike.

    In chunks: a child process inherits its parent's peak memory across exec on Linux, so the
    parent must not hold the whole file at once.
    """
    with db.open("rb") as stream:
        while stream.read(1 << 24):
            pass


def folded_copy(db: Path) -> Path:
    """Where the copy of ``db`` with a persisted fold is kept (for the latency and as-of runs)."""
    return db.with_name(f"{db.stem}-folded.db")


def show(name: str, result: dict[str, Any], raw: dict[str, Any]) -> None:
    """Print one way of rebuilding against the targets."""
    events, seconds = result["events"], result["seconds"]
    rate, raw_rate = events / seconds, raw["events"] / raw["seconds"]
    per_million = seconds * 1_000_000 / events
    Figure(
        "rebuild",
        f"{name} ({events:,} events in {seconds:.1f} s)",
        rate,
        "events/s",
        raw_rate,
        "raw sqlite3 read + json.loads",
        f">= {TARGET_RATIO}x baseline",
        rate >= TARGET_RATIO * raw_rate,
        f"CPU time {result['cpu']:.1f} s, baseline's {raw['cpu']:.1f} s",
    ).show()
    Figure(
        "rebuild", f"{name}, rate", rate, "events/s", target=f">= {TARGET_RATE:,}", passed=rate >= TARGET_RATE
    ).show()
    Figure(
        "rebuild",
        f"{name}, time per 1,000,000 events",
        per_million,
        "s",
        raw["seconds"] * 1_000_000 / raw["events"],
        "raw read + decode",
        f"<= {TARGET_SECONDS_PER_MILLION:.0f} s",
        per_million <= TARGET_SECONDS_PER_MILLION,
    ).show()
    Figure(
        "rebuild",
        f"{name}, peak memory (peak RSS of its process; {result['rss_before']:.0f} MiB before it began)",
        result["rss_peak"],
        "MiB",
        raw["rss_peak"],
        "raw read + decode",
        f"<= {TARGET_MIB:.0f} MiB",
        result["rss_peak"] <= TARGET_MIB,
    ).show()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rebuild benchmarks (or, with --measure, one measurement in this process)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the national history")
    parser.add_argument("--db", type=Path, help="the national ledger file (default bench-output/national[-xF].db)")
    parser.add_argument("--measure", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    scale = NATIONAL.times(args.factor)
    db = args.db or OUTPUT / f"{scale.name}.db"
    if args.measure:
        print(json.dumps(MEASURES[args.measure](db)))
        return 0
    print_header(f"rebuild: {scale.name} ledger (SYNTHETIC)")
    meta = build_elsewhere(db, args.factor)
    if meta["method"] == "direct":
        print(f"(the file was built by the direct shortcut of benchmarks.build_ledger: {meta['events']:,} events)")
    warm_page_cache(db)
    raw = run_child("benchmarks.bench_rebuild", "--db", str(db), "--measure", "raw")
    rebuild = run_child("benchmarks.bench_rebuild", "--db", str(db), "--measure", "rebuild")
    print(f"(rebuild folded {rebuild['events']:,} events into {rebuild['facts']:,} facts)")
    copy = folded_copy(db)
    copy_database(db, copy)
    refresh = run_child("benchmarks.bench_rebuild", "--db", str(copy), "--measure", "refresh")
    show("Projections(ledger).rebuild()", rebuild, raw)
    show("Projections(ledger).refresh() from zero, persisted", refresh, raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
