"""As-of reports at earlier positions of the national (1,000,000-event) ledger.

Ours: ``projections.totals(ledger, ["category"], position=N)`` on the national ledger (its
projections stored as one snapshot), read-only, at a few positions in increasing order: the first
report at each N (the very first also loads the stored projections; each also works out the Merkle
root of the first N events its report names), then the same report repeated. Baseline, in the same
run: a fresh fold of only the first N events (``fold_rows(ledger.store.read_rows(1, N))``) and its
report at N. Both must give the same rows and totals (a bare fold's report names no Merkle root,
so the digests differ).

The issue sets no target for this figure; it is shown beside its baseline.

    .venv/bin/python -m benchmarks.bench_asof [--factor 0.05] [--positions 10%,50%,90%]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import aidledger
from aidledger import projections
from aidledger.projections import TotalsReport
from aidledger.projections.runner import fold_rows
from benchmarks.common import Figure, print_header, ready_ledger

GROUP_BY = ["category"]


def positions_wanted(text: str, events: int) -> list[int]:
    """Log positions from a comma-separated list of numbers or percentages of the log."""
    return [
        min(events, round(events * float(item[:-1]) / 100) if item.endswith("%") else int(item))
        for item in text.split(",")
    ]


def timed(action: Callable[[], TotalsReport]) -> tuple[float, TotalsReport]:
    """Milliseconds ``action`` takes, and the report it makes."""
    started = time.perf_counter()
    report = action()
    return (time.perf_counter() - started) * 1000, report


def fresh_report(ledger: aidledger.AidLedger, position: int) -> TotalsReport:
    """The baseline: a fresh fold of the first ``position`` events and its report."""
    return projections.totals(fold_rows(ledger.store.read_rows(1, position)).fold, GROUP_BY, position=position)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the as-of benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the national history")
    parser.add_argument("--positions", default="10%,50%,90%", help="log positions, or percentages of the log")
    args = parser.parse_args(argv)
    db = Path(ready_ledger("national", args.factor)["db"])
    print_header(f"as-of: {db.name} (SYNTHETIC)")
    with aidledger.open(db, read_only=True) as ledger:
        events = ledger.position()
        for number, position in enumerate(positions_wanted(args.positions, events)):
            at_n = partial(projections.totals, ledger, GROUP_BY, position=position)
            first, _ = timed(at_n)
            repeated, report = timed(at_n)
            baseline, fresh = timed(partial(fresh_report, ledger, position))
            assert (fresh.rows, fresh.totals) == (report.rows, report.totals), position
            where = f"position {position:,} of {events:,}, {len(report.rows)} rows"
            loads = ", and loads the stored projections" if number == 0 else ""
            for name, milliseconds in ((f"first at N in this process{loads}", first), ("repeated", repeated)):
                Figure(
                    "as-of",
                    f"totals(ledger, {GROUP_BY}, position=N), {name} ({where})",
                    milliseconds,
                    "ms",
                    baseline,
                    "fresh fold of the first N events + its report",
                    note="same rows and totals",
                ).show()
    return 0


if __name__ == "__main__":
    sys.exit(main())
