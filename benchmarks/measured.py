"""What runs inside a measured child process: each measurement opens the ledger itself.

The benchmark scripts start this module as a fresh process (``python -m benchmarks.measured NAME
DB``) and read the JSON line it prints. Only here (and in :mod:`benchmarks.ledgers`) is the library
loaded, so the processes that start measured children stay small: Linux counts a parent's peak
memory in its child's ``ru_maxrss`` (see :class:`benchmarks.common.ChildRun`).

- ``rebuild``: ``projections_of(ledger).rebuild()`` on a read-only open; the rebuild alone timed.
- ``first-report``: ``aidledger.open(db)`` and ``projections.totals(ledger, ["category"])`` timed
  together, as the first report of a new process.
- ``warm-reports``: with the ledger open and one report done, ``totals`` by category and by county
  repeated; and beside them the same figures grouped column-wise with ``numpy`` over a ready table
  of the pledges' lines (the columnar floor), checked equal to the report's.
- ``verify``: ``verify(ledger)`` on a read-only open, and ``verify(ledger, projections_state=False)``.

    .venv/bin/python -m benchmarks.measured warm-reports bench-output/national.db --repeat 9
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import aidledger
from aidledger import projections
from aidledger.audit.verification import verify
from aidledger.projections import LedgerFold, TotalsReport, fold_of, projections_of
from benchmarks.common import rss_mib

Ints = npt.NDArray[np.int64]
DIMENSIONS = ("category", "county")
"""The groupings timed warm: a handful of rows, and about eight hundred."""


def rebuild(db: Path, _: argparse.Namespace) -> dict[str, Any]:
    """The whole log folded afresh, with its Merkle tree; the rebuild alone timed."""
    with aidledger.open(db, read_only=True) as ledger:
        before = rss_mib()
        started, cpu = time.perf_counter(), time.process_time()
        folded = projections_of(ledger).rebuild()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert folded.fold.position == ledger.position()
        return {"events": folded.merkle.size, "seconds": seconds, "cpu": cpu, "rss_before": before}


def first_report(db: Path, _: argparse.Namespace) -> dict[str, Any]:
    """Open the ledger and make the first grouped report, timed together."""
    started = time.perf_counter()
    ledger = aidledger.open(db)
    report = projections.totals(ledger, ["category"])
    seconds = time.perf_counter() - started
    ledger.close()
    return {"seconds": seconds, "rows": len(report.rows), "position": report.coordinates.position}


@dataclass
class LineColumns:
    """Every pledge's line and the codes of what a row is keyed and counted by, as numpy columns."""

    lines: Ints
    key: Ints
    labels: list[str]
    project: Ints
    donor: Ints
    county: Ints
    """-1 for a pooled fund."""


def _codes(values: Sequence[Any]) -> tuple[Ints, list[Any]]:
    index: dict[Any, int] = {}
    codes = [index.setdefault(value, len(index)) for value in values]
    return np.array(codes, dtype=np.int64), list(index)


def line_columns(fold: LedgerFold, dimension: str) -> LineColumns:
    """The columnar table the floor groups (made once, not timed: the library keeps its own too)."""
    assert {pledge.currency for pledge in fold.pledges.values()} == {"CNY"}, "the floor groups one currency"
    pledge_ids = list(fold.lines)
    pledges = [fold.pledges[pledge_id] for pledge_id in pledge_ids]
    plans = [fold.projects[pledge.project_id].plan for pledge in pledges]
    regions = [None if plan.pooled_fund else plan.region for plan in plans]
    if dimension == "category":
        keys: list[str] = [plan.category for plan in plans]
    else:
        keys = [region or "(pooled fund)" for region in regions]
    key, labels = _codes(keys)
    county, counties = _codes(regions)
    if None in counties:
        county[county == counties.index(None)] = -1
    return LineColumns(
        lines=np.array([fold.lines[pledge_id] for pledge_id in pledge_ids], dtype=np.int64),
        key=key,
        labels=labels,
        project=_codes([pledge.project_id for pledge in pledges])[0],
        donor=_codes([pledge.donor_id for pledge in pledges])[0],
        county=county,
    )


def _distinct_per_group(group: Ints, attribute: Ints, groups: int) -> Ints:
    width = int(attribute.max()) + 1 if len(attribute) else 1
    pairs = np.unique(group * width + attribute)
    counts: Ints = np.bincount(pairs // width, minlength=groups)
    return counts


def group_columns(table: LineColumns) -> dict[str, tuple[int, int, int, int, int]]:
    """Per group: pledged (hundredths), and the counted pledges, projects, donors and counties;
    the seven base columns are summed for every group, as a report does."""
    lines, groups = table.lines, len(table.labels)
    order = np.argsort(table.key, kind="stable")
    ordered = table.key[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    sums = np.zeros((groups, 7), dtype=np.int64)
    sums[ordered[starts]] = np.add.reduceat(lines[order], starts, axis=0)
    counted = (lines[:, 0] + lines[:, 1] != 0) | (lines[:, 3] - lines[:, 5] - lines[:, 6] != 0)
    key = table.key[counted]
    pledges = np.bincount(key, minlength=groups)
    projects = _distinct_per_group(key, table.project[counted], groups)
    donors = _distinct_per_group(key, table.donor[counted], groups)
    in_county = table.county[counted] >= 0
    counties = _distinct_per_group(key[in_county], table.county[counted][in_county], groups)
    return {
        label: (
            int(sums[g, 0] + sums[g, 1]),
            int(pledges[g]),
            int(projects[g]),
            int(donors[g]),
            int(counties[g]),
        )
        for g, label in enumerate(table.labels)
        if pledges[g] or sums[g].any()
    }


def _report_figures(report: TotalsReport, dimension: str) -> dict[str, tuple[int, int, int, int, int]]:
    return {
        row.key[dimension]: (
            int(row.columns["pledged"] * 100),
            row.pledges,
            row.projects,
            row.organizations,
            row.counties,
        )
        for row in report.rows
    }


def _timed(action: Callable[[], object], repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def warm_reports(db: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Grouped reports repeated on an open ledger, and the columnar floor of the same figures."""
    result: dict[str, Any] = {}
    with aidledger.open(db) as ledger:
        projections.totals(ledger, ["category"])  # the first report: loads the stored projections
        fold = fold_of(ledger)
        for dimension in DIMENSIONS:
            report = projections.totals(ledger, [dimension])
            ours = _timed(partial(projections.totals, ledger, [dimension]), args.repeat)
            table = line_columns(fold, dimension)
            assert group_columns(table) == _report_figures(report, dimension), f"the floor differs by {dimension}"
            floor = _timed(partial(group_columns, table), args.repeat)
            result[dimension] = {
                "rows": len(report.rows),
                "pledges": len(table.lines),
                "ours_ms": statistics.median(ours),
                "ours_max_ms": max(ours),
                "floor_ms": statistics.median(floor),
            }
    return result


def verification(db: Path, _: argparse.Namespace) -> dict[str, Any]:
    """``verify`` on a read-only open: by default, and without comparing the stored projections."""
    with aidledger.open(db, read_only=True) as ledger:
        started = time.perf_counter()
        full = verify(ledger)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        events_only = verify(ledger, projections_state=False)
        events_seconds = time.perf_counter() - started
    assert full.ok and events_only.ok, (full.summary(), events_only.summary())
    return {"events": full.size, "root": full.root, "seconds": seconds, "events_only_seconds": events_seconds}


MEASURES: dict[str, Callable[[Path, argparse.Namespace], dict[str, Any]]] = {
    "rebuild": rebuild,
    "first-report": first_report,
    "warm-reports": warm_reports,
    "verify": verification,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one measurement and print its JSON line (with this process's peak memory)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("measure", choices=sorted(MEASURES))
    parser.add_argument("db", type=Path)
    parser.add_argument("--repeat", type=int, default=9, help="repetitions of a warm report")
    args = parser.parse_args(argv)
    result = MEASURES[args.measure](args.db, args)
    print(json.dumps(result | {"rss_peak": rss_mib()}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
