"""The public site (``aidledger site``): a first build, an unchanged rebuild, and a rebuild after one event.

For each ledger named (``demo``: the bundled SYNTHETIC demo campaign; ``campaign`` and
``national``: the generated ledgers of :mod:`benchmarks.ledgers` at ``--factor``), in fresh
processes running the command line (``python -m aidledger site --out DIR --on DATE --json``):

- *first build*: into an empty folder; wall time, peak memory (``ru_maxrss``), pages and bytes;
- *unchanged rebuild*: the same command again over the built folder; pages made from the same
  inputs are not rendered, none is written (the command's own count says so, and is checked);
- *one new event*: a copy of the ledger gets one more event (a disbursement of 1.00, on the day the
  site is built for, against a pledge with money outstanding, imported with ``aidledger import``),
  then the site is rebuilt over the folder: only the pages whose content changed are written.

Baselines, in the same run: ``aidledger report --by county`` in a fresh process on the same ledger,
the cheapest way to read every figure a site shows at least once; and the raw writing of as many
files of the same sizes into an empty folder (``open``/``write`` in a loop, in a fresh process): the
floor under any build that writes them. Target (issue): a campaign-scale
site "in seconds" (taken as <= 60 s for the first build of the full ``campaign`` ledger, and
<= 10 s for the demo); no target is set for the national ledger, whose figures are reported as
measured (docs/performance.md).

    .venv/bin/python -m benchmarks.bench_site [--ledgers demo campaign] [--factor 1.0]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from benchmarks.common import OUTPUT, PYTHON, ChildRun, Figure, copy_database, print_header, ready_ledger, run_child

TARGET_SECONDS = {"demo": 10.0, "campaign": 60.0}
ON = {"demo": "2018-12-31", "campaign": "2020-12-31", "national": "2025-12-31"}
RAW_WRITE = """
import sys, time
from pathlib import Path
out, sizes = Path(sys.argv[1]), [int(n) for n in Path(sys.argv[2]).read_text().split()]
started = time.perf_counter()
for number, size in enumerate(sizes):
    folder = out / str(number % 8)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{number}.html").write_bytes(b"x" * size)
print(time.perf_counter() - started)
"""
"""Write as many files of the given sizes as a site has, in a fresh process: the raw baseline."""


def cli(*args: str) -> ChildRun:
    """``python -m aidledger ARGS`` in a fresh process (the sources the benchmark runs with)."""
    return run_child([PYTHON, "-m", "aidledger", *args])


def demo_ledger() -> Path:
    """The demo ledger, loaded once (``aidledger demo``) and cached."""
    db = OUTPUT / "site-demo.db"
    if not db.exists():
        OUTPUT.mkdir(parents=True, exist_ok=True)
        cli("--db", str(db), "demo")
    return db


def ledger(kind: str, factor: float) -> tuple[Path, str]:
    """The ledger of ``kind`` and its description."""
    if kind == "demo":
        return demo_ledger(), "demo ledger"
    meta = ready_ledger(kind, factor)
    return Path(meta["db"]), f"{kind} ledger x{factor:g}, {meta['events']:,} events"


def site(db: Path, out: Path, on: str) -> tuple[ChildRun, dict[str, int]]:
    """Build (or rebuild) the site of ``db`` into ``out``; the run and the command's counts."""
    run = cli("--db", str(db), "--json", "site", "--out", str(out), "--on", on)
    return run, json.loads(run.stdout)


def folder_bytes(out: Path) -> int:
    """The size of every file of a built site."""
    return sum(path.stat().st_size for path in out.rglob("*") if path.is_file())


def measure(kind: str, factor: float) -> None:
    """The three builds of one ledger's site, beside one report of it."""
    db, described = ledger(kind, factor)
    work = OUTPUT / f"site-{kind}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out, on = work / "site", ON[kind]
    report = cli("--db", str(db), "report", "--by", "county")
    first, counts = site(db, out, on)
    target = TARGET_SECONDS.get(kind)
    Figure(
        "site",
        f"first build, new process: aidledger site ({described}; {counts['pages']:,} pages, "
        f"{folder_bytes(out) / 2**20:,.0f} MiB)",
        first.seconds,
        "s",
        report.seconds,
        "aidledger report --by county, new process",
        f"<= {target:.0f} s" if target else "",
        first.seconds <= target if target else None,
        f"peak {first.peak_mib:,.0f} MiB",
    ).show()
    again, counts = site(db, out, on)
    assert counts["written"] == 0, counts
    Figure(
        "site",
        f"unchanged rebuild ({described}): {counts['rendered']:,} pages rendered, {counts['written']} written",
        again.seconds,
        "s",
        first.seconds,
        "the first build",
        note=f"peak {again.peak_mib:,.0f} MiB",
    ).show()
    sizes = work / "sizes.txt"
    sizes.write_text(" ".join(str(p.stat().st_size) for p in out.rglob("*") if p.is_file()))
    raw = run_child([PYTHON, "-c", RAW_WRITE, str(work / "raw"), str(sizes)])
    Figure(
        "site",
        f"raw baseline: write {counts['pages'] + 1:,} files of the site's sizes (no rendering)",
        float(raw.stdout.strip()),
        "s",
        first.seconds,
        "the first build",
    ).show()
    shutil.rmtree(work / "raw")
    grown = work / "grown.db"
    copy_database(db, grown)
    record = work / "new-event.jsonl"
    record.write_text(json.dumps(new_event(grown, on), ensure_ascii=False) + "\n", encoding="utf-8")
    cli("--db", str(grown), "import", str(record))
    after, counts = site(grown, out, on)
    Figure(
        "site",
        f"rebuild after one new event ({described}): {counts['rendered']:,} pages rendered, "
        f"{counts['written']:,} of {counts['pages']:,} files written",
        after.seconds,
        "s",
        first.seconds,
        "the first build",
        note=f"peak {after.peak_mib:,.0f} MiB",
    ).show()


def new_event(db: Path, on: str) -> dict[str, str]:
    """A disbursement of 1.00 on ``on`` against the first pledge (in the report's order) with money outstanding."""
    found = json.loads(cli("--db", str(db), "--json", "report", "--by", "pledge").stdout)
    pledge = next(row["key"]["pledge"] for row in found["rows"] if Decimal(row["columns"]["outstanding"]) >= 1)
    return {
        "command": "disburse", "command_id": "bench-site-one-more", "pledge_id": pledge, "amount": "1.00",
        "recorded_by": "bench-site (synthetic)", "effective_on": on,
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run the site benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ledgers", nargs="+", choices=sorted(ON), default=["demo", "campaign"])
    parser.add_argument("--factor", type=float, default=1.0, help="scale of the generated ledgers")
    args = parser.parse_args(argv)
    print_header("site")
    for kind in args.ledgers:
        measure(kind, args.factor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
