"""Where the library spends its time: cProfile of import, rebuild, refresh and command + totals,
tracemalloc of what a rebuilt fold holds, and the garbage collector's share of a rebuild.

Each workload runs under :mod:`cProfile` and prints its top functions by own time and by
cumulative time; the raw profiles are saved in ``bench-output/profile-<workload>.prof`` for
``python -m pstats`` or snakeviz. cProfile slows Python code down (about 1.5-2x), so read the
shares, not the absolute times. The histories are SYNTHETIC.

    .venv/bin/python -m benchmarks.hotspots import rebuild refresh load latency memory postgres gc
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aidledger
from aidledger import projections
from aidledger.interchange.commands import run_command
from aidledger.projections import Projections
from benchmarks.bench_latency import folded_ledger, pledges_to_pay
from benchmarks.bench_pg_writers import seed, write
from benchmarks.build_ledger import cached_ledger
from benchmarks.common import OUTPUT, copy_database, postgres_server
from benchmarks.generate import CAMPAIGN, NATIONAL, Scale, history

WORKLOADS = ("import", "rebuild", "refresh", "load", "latency", "memory", "postgres", "gc")


def profiled(name: str, work: Callable[[], object], top: int) -> None:
    """Run ``work`` under cProfile and print its hot spots."""
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(work)
    seconds = time.perf_counter() - started
    OUTPUT.mkdir(exist_ok=True)
    profile.dump_stats(OUTPUT / f"profile-{name}.prof")
    print(f"\n== {name}: {seconds:.1f} s under cProfile ==", flush=True)
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def import_workload(factor: float) -> Callable[[], object]:
    """The campaign history at ``factor`` of its size (the whole mix of commands), into a new file."""
    selected = history(CAMPAIGN.times(factor))
    db = OUTPUT / "profile-import.db"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    OUTPUT.mkdir(exist_ok=True)
    ledger = aidledger.open(db, recorded_by="bench")

    def work() -> None:
        for record in selected:
            run_command(ledger, record)

    return work


def rebuild_workload(db: Path) -> Callable[[], object]:
    """``Projections(ledger).rebuild()``: a fresh fold of the whole log of ``db``."""
    return Projections(aidledger.open(db)).rebuild


def refresh_workload(db: Path) -> Callable[[], object]:
    """``refresh()`` from zero on a copy of ``db``."""
    copy = OUTPUT / f"{db.stem}-profile-refresh.db"
    copy_database(db, copy)
    ledger = aidledger.open(copy)
    return Projections(ledger).refresh


def load_workload(scale: Scale) -> Callable[[], object]:
    """The first ``projections.totals(ledger)`` after opening: loads the persisted fold."""
    ledger = aidledger.open(folded_ledger(scale))
    return lambda: projections.totals(ledger)


def latency_workload(scale: Scale, commands: int) -> Callable[[], object]:
    """``commands`` times: one disbursement, then ``projections.totals(ledger)``."""
    work_db = OUTPUT / f"{scale.name}-profile-latency.db"
    copy_database(folded_ledger(scale), work_db)
    ledger = aidledger.open(work_db, recorded_by="bench-profile (synthetic)")
    projections.totals(ledger)  # load the persisted fold first: not profiled
    pledges = pledges_to_pay(ledger, commands)

    def work() -> None:
        for number, pledge_id in enumerate(pledges):
            ledger.disburse(
                command_id=f"profile-{number}", pledge_id=pledge_id, amount="1.00", effective_on=scale.last_day
            )
            projections.totals(ledger)

    return work


def memory(db: Path, top: int) -> None:
    """What a rebuilt fold holds in memory, by the line that allocated it (tracemalloc)."""
    with aidledger.open(db) as ledger:
        runner = Projections(ledger)
        tracemalloc.start()
        fold = runner.rebuild()
        snapshot = tracemalloc.take_snapshot()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    held = sum(stat.size for stat in snapshot.statistics("filename"))
    print(f"\n== memory: a rebuilt fold of {fold.events_seen:,} events holds {held / 2**20:,.0f} MiB ==")
    print(f"(peak traced during the rebuild {peak / 2**20:,.0f} MiB; {len(fold.facts):,} facts)")
    for stat in snapshot.statistics("lineno")[:top]:
        frame = stat.traceback[0]
        where = f"{frame.filename.split('/site-packages/')[-1].split('/src/')[-1]}:{frame.lineno}"
        print(f"{stat.size / 2**20:8.1f} MiB {stat.count:>9,} blocks  {where}")


def postgres_workload(server: Any, commands: int) -> Callable[[], object]:
    """One PostgreSQL writer disbursing and confirming (as in bench_pg_writers)."""
    url = server.create_database("bench_profile")
    pledges = seed(url, 8)
    ledger = aidledger.open(url, recorded_by="bench-profile (synthetic)")
    write(ledger, "warmup", pledges, 2)
    return lambda: write(ledger, "profiled", pledges, commands)


def collector(db: Path) -> None:
    """How much of a full rebuild is Python's cyclic garbage collector: with it, then without."""
    spent: dict[int, float] = {0: 0.0, 1: 0.0, 2: 0.0}
    started = [0.0]

    def clock(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[info["generation"]] += time.perf_counter() - started[0]

    for enabled in (True, False):
        with aidledger.open(db) as ledger:
            runner = Projections(ledger)
            if enabled:
                gc.callbacks.append(clock)
            else:
                gc.disable()
            try:
                began, cpu = time.perf_counter(), time.process_time()
                fold = runner.rebuild()
                wall, cpu = time.perf_counter() - began, time.process_time() - cpu
            finally:
                gc.enable()
                if clock in gc.callbacks:
                    gc.callbacks.remove(clock)
            collected = ", ".join(f"generation {g}: {s:.1f} s" for g, s in spent.items()) if enabled else "-"
            print(
                f"rebuild of {fold.events_seen:,} events, collector {'on' if enabled else 'off'}: "
                f"{wall:.1f} s wall, {cpu:.1f} s CPU; time in collections {collected}",
                flush=True,
            )
        del fold
        gc.collect()


def main(argv: Sequence[str] | None = None) -> int:
    """Profile the chosen workloads."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workloads", nargs="+", choices=WORKLOADS)
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the national history")
    parser.add_argument("--import-factor", type=float, default=0.1, help="campaign scale for the import workload")
    parser.add_argument("--commands", type=int, default=5, help="commands of the latency workload")
    parser.add_argument(
        "--fold-factor", type=float, default=0.1, help="national scale for the rebuild, refresh, load, memory workloads"
    )
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    scale = NATIONAL.times(args.factor)
    for name in args.workloads:
        if name == "import":
            work = import_workload(args.import_factor)
        elif name == "load":
            work = load_workload(NATIONAL.times(args.fold_factor))
        elif name in ("rebuild", "refresh", "memory"):
            small = NATIONAL.times(args.fold_factor)  # the whole mix of events, in less time
            db = OUTPUT / f"{small.name}.db"
            cached_ledger(db, small)
            if name == "memory":
                memory(db, args.top)
                continue
            work = rebuild_workload(db) if name == "rebuild" else refresh_workload(db)
        elif name == "gc":
            cached_ledger(OUTPUT / f"{scale.name}.db", scale)
            print(f"\n== gc: {scale.name} ==")
            collector(OUTPUT / f"{scale.name}.db")
            continue
        elif name == "postgres":
            with postgres_server() as server:
                profiled(name, postgres_workload(server, args.commands * 40), args.top)
            continue
        else:
            work = latency_workload(scale, args.commands)
        profiled(name, work, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
