"""Raw baselines that read a ledger file without the library, each run as its own process.

- ``decode``: every stored row read in log order with the stdlib ``sqlite3`` and its JSON state
  decoded with ``json.loads``, nothing kept: the floor for anything that reads the whole log
  (rebuild, a cold report, an export).
- ``hash``: every stored row read the same way and hashed into the Merkle tree with
  :mod:`aidledger.merkle` (``leaf_hash_of`` and ``MerkleAccumulator``): the floor for ``verify``.
  It prints the root, which must equal the root ``verify`` finds.

Each prints one JSON line: events, seconds (the reading alone, the interpreter's start left out),
CPU seconds and its own peak memory. The parent takes the whole process's wall time and peak too.

    .venv/bin/python -m benchmarks.baselines decode bench-output/national.db
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.common import rss_mib

SELECT_LOG = "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"


def rows(db: Path) -> Iterator[tuple[int, str, int, str, bytes]]:
    """Every stored row in log order, read read-only with plain ``sqlite3``."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        yield from connection.execute(SELECT_LOG)
    finally:
        connection.close()


def decode(db: Path) -> dict[str, Any]:
    """Read every row and ``json.loads`` its state; keep nothing."""
    events = 0
    loads = json.loads
    for row in rows(db):
        loads(row[4])
        events += 1
    return {"events": events}


class _Leaf(NamedTuple):
    """A stored row as :func:`aidledger.merkle.leaf_hash_of` reads it (id as a hyphenated UUID)."""

    originator_id: str
    originator_version: int
    topic: str
    state: bytes


def merkle_hash(db: Path) -> dict[str, Any]:
    """Read every row and hash it into the Merkle tree; the root."""
    from aidledger.merkle import MerkleAccumulator, leaf_hash_of

    accumulator = MerkleAccumulator()
    append = accumulator.append
    for _position, hex_id, version, topic, state in rows(db):
        uuid = f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"
        append(leaf_hash_of(_Leaf(uuid, version, topic, state)))
    return {"events": accumulator.size, "root": accumulator.root().hex()}


MEASURES = {"decode": decode, "hash": merkle_hash}


def measure(name: str, db: Path) -> dict[str, Any]:
    """Run one baseline and time it (wall and CPU), with this process's peak memory."""
    started, cpu = time.perf_counter(), time.process_time()
    result = MEASURES[name](db)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return result | {"seconds": seconds, "cpu": cpu, "rss_peak": rss_mib()}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one baseline and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline", choices=sorted(MEASURES))
    parser.add_argument("db", type=Path)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.baseline, args.db)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
