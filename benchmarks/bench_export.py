"""IATI export of the campaign ledger in a new process, beside reading and decoding its log in one.

Ours: a fresh process running ``aidledger export --format iati --db DB --out FILE`` (every project
as an IATI 2.03 activity, through ``aidledger.interchange.export.export``) on the SYNTHETIC
campaign ledger (69,668 events, made by ``bench_import`` or built here), its projections stored as
one snapshot; the process's wall time, the median of ``--repeat`` runs.

Baseline, in the same run: a fresh process reading every stored row with ``sqlite3`` and decoding
it with ``json.loads`` (``benchmarks.baselines decode``), the median of as many runs. Both times
include starting the interpreter.

Target (issue): <= 2x the baseline.

    .venv/bin/python -m benchmarks.bench_export [--factor 0.1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import CLI, Figure, median, print_header, ready_ledger, run_child, run_module

TARGET_RATIO = 2.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the export benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the campaign history")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each process")
    args = parser.parse_args(argv)
    db = Path(ready_ledger("campaign", args.factor)["db"])
    print_header(f"IATI export: {db.name} (SYNTHETIC)")
    with tempfile.TemporaryDirectory(prefix="aidledger-bench-") as folder:
        out = Path(folder, "activities.xml")
        # IATI needs a publisher with a credit code: the generator's first organization has one.
        reporting = ["--reporting-org", "org-000000"]
        command = [CLI, "export", "--format", "iati", *reporting, "--db", str(db), "--out", str(out)]
        runs = [run_child(command) for _ in range(args.repeat)]
        activities = out.read_text(encoding="utf-8").count("<iati-activity ")
        size = out.stat().st_size
    raw = [run_module("benchmarks.baselines", "decode", str(db)) for _ in range(args.repeat)]
    wall, raw_wall = median([run.seconds for run in runs]), median([run.seconds for run in raw])
    Figure(
        "export",
        f"aidledger export --format iati, new process ({raw[0].result['events']:,} events, "
        f"{activities:,} activities, {size / 2**20:.1f} MiB of XML; median of {args.repeat})",
        wall,
        "s",
        raw_wall,
        "new process: raw read + json.loads of the log",
        f"<= {TARGET_RATIO:.0f}x baseline",
        wall <= TARGET_RATIO * raw_wall,
        f"peak memory {max(run.peak_mib for run in runs):.0f} MiB, the baseline's "
        f"{max(run.peak_mib for run in raw):.0f} MiB",
    ).show()
    return 0


if __name__ == "__main__":
    sys.exit(main())
