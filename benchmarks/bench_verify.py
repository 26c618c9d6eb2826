"""``verify`` of the national (1,000,000-event) ledger, beside reading and hashing the same rows.

Ours, in a fresh process: ``aidledger.audit.verification.verify(ledger)`` on a read-only open
(``aidledger.open(db, read_only=True)``) with its defaults: every stored row hashed into the
Merkle tree, and the stored projections compared with a fold of the events. Also shown (no
target): ``verify(ledger, projections_state=False)``, the events alone.

Baseline, in the same run and also in a fresh process: every stored row read in log order with the
stdlib ``sqlite3`` and hashed into the Merkle tree with ``aidledger.merkle`` (``leaf_hash_of`` and
``MerkleAccumulator``) (``benchmarks.baselines hash``); its root must equal the one ``verify``
finds. Both times are the work alone, inside their processes.

Target (issue): <= 1.5x the baseline.

    .venv/bin/python -m benchmarks.bench_verify [--factor 0.05]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import Figure, print_header, ready_ledger, run_module, warm_page_cache

TARGET_RATIO = 1.5


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verify benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the national history")
    args = parser.parse_args(argv)
    db = Path(ready_ledger("national", args.factor)["db"])
    print_header(f"verify: {db.name} (SYNTHETIC)")
    warm_page_cache(db)
    raw = run_module("benchmarks.baselines", "hash", str(db)).result
    ours = run_module("benchmarks.measured", "verify", str(db))
    found = ours.result
    assert found["root"] == raw["root"] and found["events"] == raw["events"], (found, raw)
    events = raw["events"]
    Figure(
        "verify",
        f"verify(ledger), read-only ({events:,} events in {found['seconds']:.1f} s)",
        found["seconds"],
        "s",
        raw["seconds"],
        "raw sqlite3 read + Merkle hashing of the same rows",
        f"<= {TARGET_RATIO}x baseline",
        found["seconds"] <= TARGET_RATIO * raw["seconds"],
        f"{events / found['seconds']:,.0f} events/s; peak memory {ours.peak_mib:.0f} MiB; same root",
    ).show()
    Figure(
        "verify",
        "verify(ledger, projections_state=False): the events alone",
        found["events_only_seconds"],
        "s",
        raw["seconds"],
        "raw read + Merkle hashing",
        note=f"{events / found['events_only_seconds']:,.0f} events/s",
    ).show()
    return 0


if __name__ == "__main__":
    sys.exit(main())
