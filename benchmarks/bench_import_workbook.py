"""Workbook import speed: the same campaign rows as CSV and as an .xlsx, beside raw SQLite inserts.

The first ``--rows`` records (default 100,000) of a campaign-shaped SYNTHETIC history (a prefix is
self-contained: no record comes before one it refers to) are written twice: as CSV (the cells
``aidledger template --csv`` reads, UTF-8) and as a one-sheet .xlsx written with xlsxwriter (a
different library than the reader, python-calamine), every cell as text, English headers. Each is
imported with ``import_file``'s defaults (checked and decided first, all or nothing) into a new
SQLite file, in a fresh child process; only ``import_file`` is timed.

Baseline, in the same run: the rows the CSV import stored (events and commands-index rows, read
back from its file) inserted with one ``executemany`` per table in one transaction into empty
tables of the same definition in a new WAL file (``bench_import``'s baseline (a)). No targets: the
issue asks that the speed be measured.

    .venv/bin/python -m benchmarks.bench_import_workbook [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

from aidledger.interchange.csvformat import cells_from_record
from benchmarks.bench_import import raw_sqlite, sqlite_rows
from benchmarks.common import Figure, print_header, rss_mib, run_module
from benchmarks.generate import CAMPAIGN, history
from benchmarks.ledgers import import_measured


def campaign_records(count: int) -> list[dict[str, Any]]:
    """The first ``count`` records of a campaign-shaped history just large enough."""
    factor = count / 50_000  # the whole campaign history has about 59,000 records
    records = history(CAMPAIGN.times(factor))
    while len(records) < count:
        factor *= 1.1
        records = history(CAMPAIGN.times(factor))
    return records[:count]


def write_files(records: list[dict[str, Any]], folder: Path) -> tuple[Path, Path]:
    """The records as CSV and as an .xlsx (xlsxwriter, constant memory), with the same cells."""
    rows = [cells_from_record(record) for record in records]
    header = sorted({column for row in rows for column in row}, key=lambda c: (c != "command", c))
    csv_path, xlsx_path = folder / "campaign.csv", folder / "campaign.xlsx"
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([row.get(column, "") for column in header] for row in rows)
    with xlsxwriter.Workbook(xlsx_path, {"constant_memory": True, "strings_to_numbers": False}) as book:
        sheet = book.add_worksheet("台账")
        sheet.write_row(0, 0, header)
        for number, row in enumerate(rows, start=1):
            for column, name in enumerate(header):
                text = row.get(name, "")
                if text:
                    sheet.write_string(number, column, text)
    return csv_path, xlsx_path


def measure(db: str, path: Path) -> dict[str, Any]:
    """In a child process: import ``path`` into ``db``; seconds, counts and this process's peak."""
    seconds, summary = import_measured(db, path)
    return {
        "seconds": seconds,
        "rows": summary.rows_read,
        "stored": summary.stored,
        "events": summary.position_after - summary.position_before,
        "rss_peak": rss_mib(),
    }


def imported(db: Path, path: Path) -> dict[str, Any]:
    """:func:`measure` in a fresh child process."""
    return run_module("benchmarks.bench_import_workbook", "--measure", str(db), str(path)).result


def bench(count: int) -> None:
    """Write the two files, import each into a new ledger, and show rows/s beside the raw inserts."""
    with tempfile.TemporaryDirectory(prefix="aidledger-bench-") as name:
        folder = Path(name)
        records = campaign_records(count)
        csv_path, xlsx_path = write_files(records, folder)
        sizes = f"CSV {csv_path.stat().st_size / 2**20:.1f} MiB, xlsx {xlsx_path.stat().st_size / 2**20:.1f} MiB"
        print_header(f"workbook import: {count:,} rows (SYNTHETIC campaign), {sizes}")
        from_csv = imported(folder / "csv.db", csv_path)
        from_xlsx = imported(folder / "xlsx.db", xlsx_path)
        for result in (from_csv, from_xlsx):
            assert (result["rows"], result["stored"]) == (count, count), result
        assert from_xlsx["events"] == from_csv["events"], (from_csv, from_xlsx)
        one = raw_sqlite(sqlite_rows(folder / "csv.db"), per_command=False)
    events = from_csv["events"]
    for label, result in (("CSV", from_csv), (".xlsx", from_xlsx)):
        Figure(
            "import-workbook",
            f"{label}: import_file ({count:,} rows, {events:,} events in {result['seconds']:.1f} s)",
            count / result["seconds"],
            "rows/s",
            count / one,
            "raw executemany of the stored rows, one transaction",
            note=f"peak memory of the importing process {result['rss_peak']:.0f} MiB",
        ).show()
    Figure(
        "import-workbook",
        ".xlsx beside CSV",
        count / from_xlsx["seconds"],
        "rows/s",
        count / from_csv["seconds"],
        "the same rows as CSV",
    ).show()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or, with --measure DB FILE, one import in this process)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the campaign history to import")
    parser.add_argument("--measure", nargs=2, metavar=("DB", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return 0
    bench(args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
