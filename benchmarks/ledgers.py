"""The SYNTHETIC files and ledgers the benchmarks measure, built through the real import path.

- The *campaign* file: :data:`benchmarks.generate.CAMPAIGN` as JSON Lines (58,873 records,
  69,668 events at full size); its ledger is what ``bench_import`` imports and ``bench_export``
  exports.
- The *national* ledger: :data:`benchmarks.generate.NATIONAL` (891,177 records, 1,046,910
  events) imported with :func:`aidledger.interchange.importer.import_file`, cached in
  ``bench-output/`` because building it takes minutes.
- *Relabelled slices*: the first N records of a campaign-shaped history with every command id and
  reference prefixed, so that the slice is self-contained and collides with nothing in either
  ledger (``bench_import`` imports the same slice into an empty ledger and into the national one).

A cached ledger is *prepared* before it is measured: its projections are stored as one snapshot
at its newest event (``aidledger rebuild`` makes them so when they are missing or have deltas), so
a new process measures loading that snapshot, not folding the log.

Run as a program, it makes sure a ledger is built and prepared and prints its description as one
JSON line; the benchmarks call it so, in a child process (:func:`benchmarks.common.ready_ledger`),
which keeps the library out of the processes that start measured children (see
:class:`benchmarks.common.ChildRun`)::

    .venv/bin/python -m benchmarks.ledgers national [--factor 0.05]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aidledger
from aidledger.interchange.commands import REFERENCE_KINDS
from aidledger.interchange.importer import ImportSummary, Progress, import_file
from benchmarks.common import CLI, OUTPUT, remove_database
from benchmarks.generate import CAMPAIGN, SCALES, Scale, history, stored_events, write_jsonl

__all__ = [
    "campaign_file",
    "import_measured",
    "ledger_path",
    "make_ready",
    "relabelled",
    "save_description",
    "scale_of",
    "slice_file",
]

RECORDED_BY = "bench-import (synthetic)"


def scale_of(kind: str, factor: float) -> Scale:
    """The generator's scale of a ledger kind (``campaign`` or ``national``) at ``factor``."""
    return SCALES[kind].times(factor)


def campaign_file(factor: float, folder: Path = OUTPUT) -> tuple[Path, int, int]:
    """Write the campaign history at ``factor`` as JSON Lines; (path, records, events).

    Written afresh each time (a few seconds): the file always matches the generator.
    """
    scale = CAMPAIGN.times(factor)
    records = history(scale)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{scale.name}.jsonl"
    write_jsonl(records, path)
    return path, len(records), stored_events(records)


def relabelled(records: Sequence[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """The records with every command id and every reference to one prefixed by ``prefix``."""
    result = []
    for record in records:
        changed = dict(record)
        changed["command_id"] = prefix + record["command_id"]
        for name in REFERENCE_KINDS:
            if isinstance(record.get(name), str):
                changed[name] = prefix + record[name]
        result.append(changed)
    return result


def slice_file(count: int, prefix: str, folder: Path) -> tuple[Path, int]:
    """The first ``count`` records of a campaign-shaped history, relabelled; (path, events).

    The history is the campaign's whole mix of commands at the size that makes a little more than
    ``count`` records, so slices of different sizes have about the same mix. A prefix of a history
    is self-contained: a record never comes before one it depends on.
    """
    factor = count / 50_000  # the whole campaign history has about 59,000 records
    records = history(CAMPAIGN.times(factor))
    while len(records) < count:
        factor *= 1.1
        records = history(CAMPAIGN.times(factor))
    chosen = relabelled(records[:count], prefix)
    path = folder / f"slice-{prefix.rstrip('-')}.jsonl"
    write_jsonl(chosen, path)
    return path, stored_events(chosen)


def import_measured(db: str | Path, path: Path, progress: Progress | None = None) -> tuple[float, ImportSummary]:
    """Import ``path`` into ``db`` with ``import_file``'s defaults (all or nothing); (seconds, summary).

    Only the import is timed: opening and closing the ledger are not.
    """
    ledger = aidledger.open(db, recorded_by=RECORDED_BY)
    try:
        started = time.perf_counter()
        summary = import_file(ledger, path, progress=progress)
        seconds = time.perf_counter() - started
    finally:
        ledger.close()
    return seconds, summary


def log(text: str) -> None:
    """Progress on stderr: a parent reads this program's result from its stdout."""
    print(text, file=sys.stderr, flush=True)


def _progress_log(started: float) -> Progress:
    """Log an import's progress at every tenth of each phase."""
    shown: dict[str, int] = {}

    def progress(phase: str, done: int, total: int) -> None:
        tenth = 10 * done // max(total, 1)
        if tenth > shown.get(phase, 0):
            shown[phase] = tenth
            log(f"  {phase} {10 * tenth}% ({time.perf_counter() - started:,.0f} s)")

    return progress


def _meta_path(db: Path) -> Path:
    return db.with_name(db.name + ".json")


def _wanted(scale: Scale) -> dict[str, Any]:
    return {"scale": scale.name, "organizations": scale.organizations, "projects": scale.projects, "seed": scale.seed}


def _cached(db: Path, scale: Scale) -> dict[str, Any] | None:
    """The description kept beside ``db`` when it holds the history of ``scale`` and the library
    reads it (a file built by an earlier version of the library is used as long as it does)."""
    if not (db.exists() and _meta_path(db).exists()):
        return None
    meta: dict[str, Any] = json.loads(_meta_path(db).read_text())
    if {key: meta.get(key) for key in _wanted(scale)} != _wanted(scale):
        return None
    with aidledger.open(db, read_only=True) as ledger:
        last = ledger.position()
        if last != meta["events"]:
            return None
        sum(1 for _ in ledger.read_log(max(1, last - 99), last))  # raises if the events cannot be read
    return meta


def build(db: Path, scale: Scale) -> dict[str, Any]:
    """Generate the history of ``scale`` and import it into a new ledger at ``db``."""
    remove_database(db)
    _meta_path(db).unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    records = history(scale)
    count, events = len(records), stored_events(records)
    path = db.with_suffix(".jsonl")
    write_jsonl(records, path)
    del records  # the import reads the file; the list would only hold memory
    log(f"generated {count:,} SYNTHETIC records ({events:,} events) in {time.perf_counter() - started:.0f} s")
    seconds, summary = import_measured(db, path, _progress_log(started))
    assert summary.position_after == events, (summary.position_after, events)
    log(f"built {db}: {events:,} events with import_file in {seconds:.0f} s ({events / seconds:,.0f} events/s)")
    return save_description(db, scale, count, events, seconds)


def save_description(db: Path, scale: Scale, records: int, events: int, seconds: float) -> dict[str, Any]:
    """Note beside ``db`` that ``import_file`` put the history of ``scale`` in it; the note."""
    meta = _wanted(scale) | {"method": "import_file", "records": records, "events": events, "seconds": seconds}
    _meta_path(db).write_text(json.dumps(meta, indent=2))
    return meta


def is_prepared(db: Path) -> bool:
    """Whether the stored projections are one snapshot at the newest event."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "aidledger_fold" not in tables:
            return False
        segments = connection.execute("SELECT kind, position FROM aidledger_fold").fetchall()
        (last,) = connection.execute("SELECT max(rowid) FROM stored_events").fetchone()
    finally:
        connection.close()
    return segments == [("snapshot", last)]


def prepare(db: Path) -> None:
    """Store the projections as one snapshot at the newest event, unless they already are."""
    if is_prepared(db):
        return
    log(f"storing the projections of {db} as one snapshot (aidledger rebuild; not measured) ...")
    subprocess.run([CLI, "rebuild", "--db", str(db)], stdout=sys.stderr, check=True)
    assert is_prepared(db), f"{db}: aidledger rebuild left more than one snapshot"


def ledger_path(kind: str, factor: float) -> Path:
    """Where the cached ledger of ``kind`` at ``factor`` lives."""
    return OUTPUT / f"{scale_of(kind, factor).name}.db"


def make_ready(kind: str, factor: float) -> dict[str, Any]:
    """Build the ledger of ``kind`` unless cached, prepare it, and describe it."""
    scale, db = scale_of(kind, factor), ledger_path(kind, factor)
    meta = _cached(db, scale)
    if meta is None:
        meta = build(db, scale)
    prepare(db)
    return meta | {"db": str(db)}


def main(argv: Sequence[str] | None = None) -> int:
    """Make sure a ledger is built and prepared; print its description as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=sorted(SCALES))
    parser.add_argument("--factor", type=float, default=1.0, help="multiply organizations and projects")
    args = parser.parse_args(argv)
    print(json.dumps(make_ready(args.kind, args.factor)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
