"""Grouped reports on the national ledger: the first one in a new process, and warm ones.

First report (its projections stored as one snapshot, as ``aidledger rebuild`` leaves them):

- ours: a fresh process running ``aidledger report --by category --db DB`` (the command line),
  its wall time and peak memory (``ru_maxrss``), the median of ``--repeat`` runs; and, inside a
  fresh process, the time of ``aidledger.open(db)`` plus ``projections.totals(ledger, ["category"])``;
- baseline: a fresh process reading and decoding the whole log (``benchmarks.baselines decode``):
  what any report that folds the log at start would cost at least.

Targets (issue): <= 2 s, <= 400 MiB.

Warm reports: with the ledger open and one report made, ``projections.totals(ledger, [D])`` for
D = category and county, repeated (median). Baseline: the same figures (the seven base columns
summed, and pledges, projects, donors and counties counted per group) grouped column-wise with
``numpy`` over a ready table of the pledges' lines, checked equal to the report's. Target (issue):
<= 200 ms.

    .venv/bin/python -m benchmarks.bench_report [--factor 0.05] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import (
    CLI,
    ChildRun,
    Figure,
    median,
    print_header,
    ready_ledger,
    run_child,
    run_module,
    warm_page_cache,
)

TARGET_SECONDS = 2.0
TARGET_MIB = 400.0
TARGET_WARM_MS = 200.0


def first_report(db: Path, repeat: int) -> None:
    """The first report of a new process, beside reading and decoding the log in one."""
    runs = [run_child([CLI, "report", "--by", "category", "--db", str(db)]) for _ in range(repeat)]
    inside = [run_module("benchmarks.measured", "first-report", str(db)) for _ in range(repeat)]
    raw = [run_module("benchmarks.baselines", "decode", str(db)) for _ in range(repeat)]
    events = raw[0].result["events"]
    wall, raw_wall = median([run.seconds for run in runs]), median([run.seconds for run in raw])
    peak, raw_peak = max(run.peak_mib for run in runs), max(run.peak_mib for run in raw)
    where = f"{events:,}-event ledger, median of {repeat}"
    Figure(
        "report",
        f"first report, new process: aidledger report --by category, wall time ({where})",
        wall,
        "s",
        raw_wall,
        "new process: raw read + json.loads of the log",
        f"<= {TARGET_SECONDS:.0f} s",
        wall <= TARGET_SECONDS,
        f"runs {', '.join(f'{run.seconds:.2f}' for run in runs)} s",
    ).show()
    Figure(
        "report",
        "first report, new process: aidledger report --by category, peak memory (ru_maxrss, highest run)",
        peak,
        "MiB",
        raw_peak,
        "raw read + decode",
        f"<= {TARGET_MIB:.0f} MiB",
        peak <= TARGET_MIB,
        f"the starting process's own peak {runs[0].parent_mib:.0f} MiB",
    ).show()
    seconds = median([run.result["seconds"] for run in inside])
    raw_seconds = median([run.result["seconds"] for run in raw])
    Figure(
        "report",
        "first report, in a new process: aidledger.open(db) + totals(ledger, ['category'])",
        seconds,
        "s",
        raw_seconds,
        "raw read + decode, in its process",
        f"<= {TARGET_SECONDS:.0f} s",
        seconds <= TARGET_SECONDS,
        "interpreter start and imports left out of both",
    ).show()


def warm_reports(db: Path, repeat: int) -> None:
    """Grouped reports on an open ledger, beside the columnar floor of the same figures."""
    run: ChildRun = run_module("benchmarks.measured", "warm-reports", str(db), "--repeat", str(repeat))
    for dimension, found in run.result.items():
        if dimension == "rss_peak":
            continue
        Figure(
            "report",
            f"warm report: totals(ledger, ['{dimension}']), median of {repeat} ({found['rows']:,} rows, "
            f"{found['pledges']:,} pledges)",
            found["ours_ms"],
            "ms",
            found["floor_ms"],
            "numpy group-by of the same figures",
            f"<= {TARGET_WARM_MS:.0f} ms",
            found["ours_ms"] <= TARGET_WARM_MS,
            f"slowest {found['ours_max_ms']:.0f} ms",
        ).show()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the report benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the national history")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each new process")
    parser.add_argument("--warm-repeat", type=int, default=9, help="repetitions of each warm report")
    args = parser.parse_args(argv)
    db = Path(ready_ledger("national", args.factor)["db"])
    print_header(f"reports: {db.name} (SYNTHETIC)")
    warm_page_cache(db)
    first_report(db, args.repeat)
    warm_reports(db, args.warm_repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
