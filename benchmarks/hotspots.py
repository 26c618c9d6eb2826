"""Where the library spends its time: cProfile of each measured workload, tracemalloc of a rebuild.

Each workload runs under :mod:`cProfile` and prints its top functions by own time and by
cumulative time; the raw profile is saved as ``bench-output/profile-<workload>.prof`` for
``python -m pstats`` or snakeviz. cProfile slows Python code down (about 1.5-2x), so read the
shares, not the absolute times. The histories are SYNTHETIC. Not part of ``run_all``.

    .venv/bin/python -m benchmarks.hotspots import rebuild load report asof export latency verify memory postgres
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import aidledger
from aidledger import projections
from aidledger.audit.verification import verify
from aidledger.interchange.export import export
from aidledger.projections import projections_of
from benchmarks.bench_latency import pledges_to_pay
from benchmarks.bench_pg_writers import seed, write
from benchmarks.common import OUTPUT, copy_database, postgres_server, ready_ledger, remove_database
from benchmarks.generate import NATIONAL
from benchmarks.ledgers import campaign_file, import_measured

WORKLOADS = ("import", "rebuild", "load", "report", "asof", "export", "latency", "verify", "memory", "postgres")


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


def import_workload(factor: float, folder: Path) -> Callable[[], object]:
    """``import_file`` of the campaign file at ``factor`` of its size into a new ledger."""
    path, _, _ = campaign_file(factor, folder)
    return partial(import_measured, folder / "profile-import.db", path)


def export_workload(factor: float) -> Callable[[], object]:
    """The IATI export of every project of the campaign ledger at ``factor``, written to nowhere."""
    ledger = aidledger.open(ready_ledger("campaign", factor)["db"], read_only=True)
    projections.totals(ledger)  # loads the stored projections first, as a report would: not profiled
    return partial(export, ledger, io.StringIO(), view="project", file_format="iati")


def latency_workload(db: Path, commands: int) -> Callable[[], object]:
    """``commands`` times: one disbursement, then ``projections.totals(ledger, [])``, on a copy of ``db``."""
    work = OUTPUT / f"{db.stem}-profile-latency.db"
    copy_database(db, work)
    ledger = aidledger.open(work, recorded_by="bench-profile (synthetic)")
    projections.totals(ledger)  # loads the stored projections first: not profiled
    pledges = pledges_to_pay(ledger, commands)

    def work_commands() -> None:
        for number, pledge_id in enumerate(pledges):
            ledger.disburse(
                command_id=f"profile-{number}", pledge_id=pledge_id, amount="1.00", effective_on=NATIONAL.last_day
            )
            projections.totals(ledger, [])

    return work_commands


def memory(db: Path, top: int) -> None:
    """What a rebuilt fold holds in memory, by the line that allocated it (tracemalloc)."""
    with aidledger.open(db, read_only=True) as ledger:
        tracemalloc.start()
        folded = projections_of(ledger).rebuild()
        snapshot = tracemalloc.take_snapshot()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    held = sum(stat.size for stat in snapshot.statistics("filename"))
    print(f"\n== memory: a rebuilt fold of {folded.merkle.size:,} events holds {held / 2**20:,.0f} MiB ==")
    print(f"(peak traced during the rebuild {peak / 2**20:,.0f} MiB)")
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
    return partial(write, ledger, "profiled", pledges, commands)


def main(argv: Sequence[str] | None = None) -> int:
    """Profile the chosen workloads."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workloads", nargs="+", choices=WORKLOADS)
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the national history")
    parser.add_argument(
        "--import-factor", type=float, default=0.1, help="campaign scale for the import and export workloads"
    )
    parser.add_argument("--commands", type=int, default=20, help="commands of the latency and postgres workloads")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    db = Path(ready_ledger("national", args.factor)["db"])
    for name in args.workloads:
        if name == "memory":
            memory(db, args.top)
        elif name == "postgres":
            with postgres_server() as server:
                profiled(name, postgres_workload(server, args.commands), args.top)
        elif name == "export":
            profiled(name, export_workload(args.import_factor), args.top)
        elif name == "import":
            with tempfile.TemporaryDirectory(prefix="aidledger-bench-") as folder:
                profiled(name, import_workload(args.import_factor, Path(folder)), args.top)
        elif name == "latency":
            try:
                profiled(name, latency_workload(db, args.commands), args.top)
            finally:
                remove_database(OUTPUT / f"{db.stem}-profile-latency.db")
        else:
            ledger = aidledger.open(db, read_only=True)
            if name in ("report", "asof"):
                projections.totals(ledger, ["category"])  # loads the stored projections first: not profiled
            work: dict[str, Callable[[], object]] = {
                "rebuild": projections_of(ledger).rebuild,
                "load": partial(projections.totals, ledger, ["category"]),
                "report": partial(projections.totals, ledger, ["county"]),
                "asof": partial(projections.totals, ledger, ["category"], position=ledger.position() // 2),
                "verify": partial(verify, ledger),
            }
            profiled(name, work[name], args.top)
            ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
