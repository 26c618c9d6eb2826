"""An as-of report at early positions of the national (1,000,000-event) ledger.

Ours: ``projections.totals(ledger, position=N)`` on the copy of the national file whose fold is
persisted (made by ``bench_rebuild``): the first call loads the persisted fold (cold), the second
finds it in memory (warm). Baseline, in the same run: a fresh fold of only the first N events
(``LedgerFold().apply_all(ledger.read_log(1, N))``) and its totals. Both must give the same rows
and totals (the digests differ only because a ledger's report also names the Merkle root of the
log prefix it read, and a bare fold's cannot).

Issue 7 sets no target for this figure; it is shown beside its baseline.

    .venv/bin/python -m benchmarks.bench_asof [--factor 0.05] [--positions 1000,20%]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import aidledger
from aidledger import projections
from aidledger.projections import LedgerFold
from benchmarks.bench_latency import folded_ledger
from benchmarks.common import Figure, print_header
from benchmarks.generate import NATIONAL


def main(argv: Sequence[str] | None = None) -> int:
    """Run the as-of benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the national history")
    parser.add_argument(
        "--positions", default="1000,20%", help="comma-separated log positions, or percentages of the log"
    )
    args = parser.parse_args(argv)
    scale = NATIONAL.times(args.factor)
    print_header(f"as-of: {scale.name} ledger (SYNTHETIC)")
    folded = folded_ledger(scale)
    with aidledger.open(folded) as ledger:
        events = ledger.position()
        wanted = [
            min(events, round(events * float(text[:-1]) / 100) if text.endswith("%") else int(text))
            for text in args.positions.split(",")
        ]
        for number, position in enumerate(wanted):
            started = time.perf_counter()
            report = projections.totals(ledger, position=position)
            first = time.perf_counter() - started
            started = time.perf_counter()
            report = projections.totals(ledger, position=position)
            warm = time.perf_counter() - started
            started = time.perf_counter()
            fold = LedgerFold()
            fold.apply_all(ledger.read_log(1, position))
            fresh = projections.totals(fold, position=position)
            baseline = time.perf_counter() - started
            assert (fresh.rows, fresh.totals) == (report.rows, report.totals), position
            pledged = sum((row.columns["pledged"] for row in report.totals), start=0)
            where = f"position {position:,} of {events:,}; {len(fold.facts):,} facts, pledged {pledged:,} CNY"
            if number == 0:
                Figure(
                    "as-of",
                    f"projections.totals(ledger, position=N), first call: loads the persisted fold ({where})",
                    first * 1000,
                    "ms",
                    baseline * 1000,
                    "fresh fold of the first N events + totals",
                    note="same rows and totals",
                ).show()
            Figure(
                "as-of",
                f"projections.totals(ledger, position=N), fold in memory ({where})",
                warm * 1000,
                "ms",
                baseline * 1000,
                "fresh fold of the first N events + totals",
                note="same rows and totals",
            ).show()
    return 0


if __name__ == "__main__":
    sys.exit(main())
