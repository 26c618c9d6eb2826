"""Full rebuild of all projections on the national ledger, beside a raw read and JSON decode.

Ours: ``projections_of(ledger).rebuild()`` on the national ledger (1,046,910 events) opened
read-only: a fresh fold of the whole log with its Merkle tree. It runs in a fresh process; the
rebuild alone is timed inside it, and its peak memory is that process's ``ru_maxrss``.

Baseline, in the same run and also in a fresh process: every stored row read in log order with
the stdlib ``sqlite3`` and its state decoded with ``json.loads``, nothing kept
(``python -m benchmarks.baselines decode``).

Targets (issue): rebuild >= 0.8x the baseline's rate and >= 150,000 events/s; 1,000,000 events
rebuilt in <= 7 s within <= 700 MiB.

    .venv/bin/python -m benchmarks.bench_rebuild [--factor 0.05]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import ChildRun, Figure, print_header, ready_ledger, run_module, warm_page_cache

TARGET_RATIO = 0.8
TARGET_RATE = 150_000
TARGET_SECONDS_PER_MILLION = 7.0
TARGET_MIB = 700.0


def show(rebuild: ChildRun, raw: ChildRun) -> None:
    """Print the rebuild against each target."""
    ours, base = rebuild.result, raw.result
    events, seconds = ours["events"], ours["seconds"]
    rate, raw_rate = events / seconds, base["events"] / base["seconds"]
    cpu = f"CPU {ours['cpu']:.1f} s, the baseline's {base['cpu']:.1f} s"
    name = f"projections_of(ledger).rebuild() ({events:,} events in {seconds:.1f} s)"
    Figure(
        "rebuild",
        name,
        rate,
        "events/s",
        raw_rate,
        "raw sqlite3 read + json.loads",
        f">= {TARGET_RATIO}x baseline",
        rate >= TARGET_RATIO * raw_rate,
        cpu,
    ).show()
    Figure(
        "rebuild", "rebuild, rate", rate, "events/s", target=f">= {TARGET_RATE:,}", passed=rate >= TARGET_RATE
    ).show()
    per_million = seconds * 1_000_000 / events
    Figure(
        "rebuild",
        "rebuild, time per 1,000,000 events",
        per_million,
        "s",
        base["seconds"] * 1_000_000 / base["events"],
        "raw read + decode",
        f"<= {TARGET_SECONDS_PER_MILLION:.0f} s",
        per_million <= TARGET_SECONDS_PER_MILLION,
    ).show()
    Figure(
        "rebuild",
        f"rebuild, peak memory of its process ({ours['rss_before']:.0f} MiB before the rebuild began)",
        rebuild.peak_mib,
        "MiB",
        raw.peak_mib,
        "raw read + decode",
        f"<= {TARGET_MIB:.0f} MiB",
        rebuild.peak_mib <= TARGET_MIB,
        f"ru_maxrss; the starting process's own peak was {rebuild.parent_mib:.0f} MiB",
    ).show()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rebuild benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the national history")
    args = parser.parse_args(argv)
    db = Path(ready_ledger("national", args.factor)["db"])
    print_header(f"rebuild: {db.name} (SYNTHETIC)")
    warm_page_cache(db)
    raw = run_module("benchmarks.baselines", "decode", str(db))
    rebuild = run_module("benchmarks.measured", "rebuild", str(db))
    show(rebuild, raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
