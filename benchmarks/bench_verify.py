"""Benchmark ``verify`` over a ledger of a million events, beside a raw baseline from the same run.

The ledger is built fast: the SYNTHETIC demo history is recorded once through the library, then
its stored rows are repeated with fresh aggregate ids (every id inside a payload remapped the same
way, command ids suffixed) and inserted with ``executemany``. Every row is a valid stored event of
the library (a sample is decoded by its mapper to make sure).

Figures printed: the raw baseline (read every row with sqlite3 and SHA-256 its state), writing a
checkpoint, ``verify`` against it (library call and the ``aidledger verify`` command), and
``verify`` after one byte was changed mid-log. Run::

    .venv/bin/python benchmarks/bench_verify.py [--events 1000000] [--keep DIR] [--deep]

Benchmarks never run in the test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import TypeVar
from uuid import UUID, uuid5

from eventsourcing.persistence import StoredEvent

import aidledger
from aidledger import demo
from aidledger.audit.checkpoint import make_checkpoint, write_checkpoint
from aidledger.audit.verification import verify
from aidledger.interchange.commands import run_command
from aidledger.persistence import LedgerMapper

T = TypeVar("T")
ID_IN_STATE = re.compile(rb'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})|"command_id":"([^"]*)"')
NAMESPACE = UUID("2f1d6c1e-5b1a-4f55-9d55-6b8f0a3c9e21")


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the CLI run is a child)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, action: Callable[[], T], figures: dict[str, tuple[float, float]]) -> T:
    """Run ``action``; print its wall-clock and CPU time and keep both in ``figures[label]``.

    CPU time is printed too because a shared machine stretches wall-clock time unevenly.
    """
    started, cpu = time.perf_counter(), _cpu()
    result = action()
    seconds, cpu_seconds = time.perf_counter() - started, _cpu() - cpu
    figures[label] = (seconds, cpu_seconds)
    print(f"  {label:<44} {seconds:8.2f} s wall {cpu_seconds:8.2f} s CPU", flush=True)
    return result


def seed_rows(directory: Path) -> list[tuple[str, int, str, bytes]]:
    """The demo history's stored rows, recorded through the library once."""
    path = directory / "seed.db"
    with aidledger.open(path, recorded_by="bench") as ledger:
        for record in demo.history():
            run_command(ledger, record)
    with closing(sqlite3.connect(path)) as connection:
        query = "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        return connection.execute(query).fetchall()


def templates(seed: list[tuple[str, int, str, bytes]]) -> list[tuple[str, int, str, list[bytes | tuple[str, str]]]]:
    """Each seed row with its state split at ids and command ids, ready to be filled per copy."""
    result = []
    for originator_id, version, topic, state in seed:
        parts: list[bytes | tuple[str, str]] = []
        last = 0
        for match in ID_IN_STATE.finditer(state):
            parts.append(state[last : match.start()])
            if match.group(1):
                parts.append(("id", match.group(1).decode()))
            else:
                parts.append(("command", match.group(2).decode()))
            last = match.end()
        parts.append(state[last:])
        result.append((originator_id, version, topic, parts))
    return result


class Renamer:
    """The ids of one copy: copy 0 keeps the originals, copy k gets uuid5(original, k)."""

    def __init__(self, copy: int) -> None:
        self.copy = copy
        self.ids: dict[str, UUID] = {}

    def __call__(self, old: str) -> UUID:
        found = self.ids.get(old)
        if found is None:
            found = UUID(old) if self.copy == 0 else uuid5(NAMESPACE, f"{old}:{self.copy}")
            self.ids[old] = found
        return found


def copies(seed: list[tuple[str, int, str, bytes]], events: int) -> Iterator[tuple[str, int, str, bytes]]:
    """``events`` rows: the seed repeated, each copy with its own ids and command ids."""
    shapes = templates(seed)
    made, copy = 0, 0
    while True:
        rename = Renamer(copy)
        for originator_id, version, topic, parts in shapes:
            if made == events:
                return
            state = b"".join(_fill(part, copy, rename) for part in parts)
            yield rename(str(UUID(originator_id))).hex, version, topic, state
            made += 1
        copy += 1


def _fill(part: bytes | tuple[str, str], copy: int, new_id: Callable[[str], UUID]) -> bytes:
    if isinstance(part, bytes):
        return part
    kind, value = part
    if kind == "id":
        return str(new_id(value)).encode()
    suffix = f"~{copy}" if copy else ""
    return f'"command_id":"{value}{suffix}"'.encode()


def build(path: Path, events: int, directory: Path) -> None:
    """Write a ledger file of ``events`` stored events."""
    seed = seed_rows(directory)
    aidledger.open(path).close()  # the library creates its tables
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", copies(seed, events))
        connection.commit()
    check_sample(path)


def check_sample(path: Path) -> None:
    """Decode a sample of rows with the library's mapper: they are real stored events."""
    mapper = LedgerMapper()
    with closing(sqlite3.connect(path)) as connection:
        query = "SELECT originator_id, originator_version, topic, state FROM stored_events WHERE rowid % 9973 = 1"
        for originator_id, version, topic, state in connection.execute(query):
            mapper.to_domain_event(StoredEvent(UUID(originator_id), version, topic, state))


def raw_baseline(path: Path) -> int:
    """Read every row in log order with plain sqlite3 and SHA-256 each state: the floor for verify."""
    count = 0
    with closing(sqlite3.connect(path)) as connection:
        query = "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        for row in connection.execute(query):
            hashlib.sha256(row[4]).digest()
            count += 1
    return count


def change_one_byte(path: Path, position: int) -> None:
    """Change one digit of one stored state, behind the library's back."""
    with closing(sqlite3.connect(path)) as connection:
        (state,) = connection.execute("SELECT state FROM stored_events WHERE rowid=?", (position,)).fetchone()
        index = state.index(b'"timestamp":"') + 16
        digit = b"1" if state[index : index + 1] != b"1" else b"2"
        changed = state[:index] + digit + state[index + 1 :]
        connection.execute("UPDATE stored_events SET state=? WHERE rowid=?", (changed, position))
        connection.commit()


def machine() -> str:
    """nproc, CPU model and Python version, for the record."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"


def run(events: int, directory: Path, deep: bool) -> dict[str, tuple[float, float]]:
    """Build the ledger and time each step; returns (wall, CPU) seconds per step."""
    path, checkpoint_file = directory / "bench.db", directory / "cp.json"
    figures: dict[str, tuple[float, float]] = {}
    print(f"machine: {machine()}")
    print(f"building a ledger of {events:,} events …", flush=True)
    timed("build (demo once, then executemany)", lambda: build(path, events, directory), figures)
    print(f"  ledger file: {path.stat().st_size / 2**20:,.0f} MiB")
    counted = timed(BASELINE, lambda: raw_baseline(path), figures)
    assert counted == events, counted
    checkpoint, leaves = timed("checkpoint (leaves, root)", lambda: make_checkpoint(path), figures)
    write_checkpoint(checkpoint, checkpoint_file, leaves)
    result = timed(VERIFY, lambda: verify(path, [checkpoint_file]), figures)
    assert result.ok, result.findings
    command = [sys.executable, "-m", "aidledger", "--db", str(path), "verify", "--checkpoint", str(checkpoint_file)]
    completed = timed(
        "aidledger verify (command, new process)",
        lambda: subprocess.run(command, check=False, stdout=subprocess.DEVNULL),
        figures,
    )
    assert completed.returncode == 0
    if deep:
        deep_result = timed("verify --deep", lambda: verify(path, [checkpoint_file], deep=True), figures)
        assert deep_result.ok, deep_result.findings[:3]
    middle = events // 2
    change_one_byte(path, middle)
    tampered = timed(f"verify after a byte changed at {middle:,}", lambda: verify(path, [checkpoint_file]), figures)
    assert tampered.first_position == middle, tampered.findings
    print(f"  -> named: {tampered.findings[0].kind} at position {tampered.first_position:,}")
    summary(events, figures)
    return figures


BASELINE = "raw baseline: read rows + SHA-256 each"
VERIFY = "verify (library call)"


def summary(events: int, figures: dict[str, tuple[float, float]]) -> None:
    """verify against the raw baseline, in wall-clock and in CPU time."""
    (verify_wall, verify_cpu), (raw_wall, raw_cpu) = figures[VERIFY], figures[BASELINE]
    print(
        f"verify: {events / verify_wall:,.0f} events/s wall ({verify_wall / raw_wall:.1f} x the raw baseline), "
        f"{events / verify_cpu:,.0f} events/s of CPU ({verify_cpu / raw_cpu:.1f} x the raw baseline)"
    )


def main() -> None:
    """Parse options and run the benchmark in a temporary directory (or --keep DIR)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build in this directory and keep the files")
    parser.add_argument("--deep", action="store_true", help="also time verify --deep (slow)")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.events, args.keep, args.deep)
        return
    with tempfile.TemporaryDirectory(prefix="aidledger-bench-") as directory:
        run(args.events, Path(directory), args.deep)


if __name__ == "__main__":
    main()
