"""What the benchmark scripts share: figures with targets, child processes, memory, the machine.

A figure is printed beside a baseline measured in the same run, with its target and PASS or MISS.
Measurements that the issue asks for "in a new process" run as child processes started by
:func:`run_child`: their wall time is taken around the child, their peak memory is the child's
own ``ru_maxrss`` (from ``wait4``), and a child of ours prints what it measured inside as JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CLI",
    "OUTPUT",
    "PYTHON",
    "ROOT",
    "ChildRun",
    "Figure",
    "copy_database",
    "elapsed",
    "fingerprint",
    "machine",
    "median",
    "percentile",
    "postgres_server",
    "print_header",
    "ready_ledger",
    "remove_database",
    "rss_mib",
    "run_child",
    "run_module",
    "warm_page_cache",
]

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_ENV = "AIDLEDGER_BENCH_OUTPUT"
OUTPUT = Path(os.environ.get(OUTPUT_ENV, ROOT / "bench-output")).resolve()
"""Where generated files and ledgers are cached (gitignored ``bench-output/`` unless the
environment names another folder, e.g. one shared by several working trees)."""
PYTHON = sys.executable
CLI = str(Path(PYTHON).with_name("aidledger"))
"""The ``aidledger`` command of the environment running the benchmarks."""
RESULTS_ENV = "AIDLEDGER_BENCH_RESULTS"
"""When set, every figure printed is also appended to this JSON Lines file (``run_all`` sets it)."""

DURABLE_POSTGRES = {"fsync": True, "synchronous_commit": True, "full_page_writes": True}
"""Settings for durable PostgreSQL commits, like SQLite's. By default the benchmarks use the test
server's settings (fsync off), which measure the library's own work rather than the disk's."""


@dataclass
class Figure:
    """One measured figure, its baseline from the same run, and its target.

    ``passed`` is ``None`` when no target applies; a target is always judged by the caller from
    the measured values, never set by hand.
    """

    benchmark: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Our figure over the baseline's (``None`` without a baseline)."""
        return None if not self.baseline else self.value / self.baseline

    @property
    def verdict(self) -> str:
        """PASS, MISS, or "-" when no target applies."""
        return "-" if self.passed is None else ("PASS" if self.passed else "MISS")

    def line(self) -> str:
        """The figure as one printed line."""
        text = f"{self.name}: {number(self.value)} {self.unit}"
        if self.baseline is not None:
            text += f" | baseline {self.baseline_name}: {number(self.baseline)} {self.unit}"
            if self.ratio is not None:
                text += f" | ratio {self.ratio:.3f}"
        text += f" | target {self.target or 'none set'} -> {self.verdict}"
        if self.note:
            text += f" ({self.note})"
        return text

    def show(self) -> None:
        """Print the figure, and append it to the results file when one is set."""
        print(f"[{self.benchmark}] {self.line()}", flush=True)
        results = os.environ.get(RESULTS_ENV)
        if results:
            with Path(results).open("a", encoding="utf-8") as stream:
                record = asdict(self) | {"verdict": self.verdict, "ratio": self.ratio}
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")


def number(value: float) -> str:
    """A figure with as many digits as its size deserves."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4f}"


def print_header(title: str) -> None:
    """A visible section title, with the load average (other work on the machine skews figures) and
    the fingerprint of the library's sources (which others may be changing between benchmarks)."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\n== {title} == (load average {load}; library sources sha256 {fingerprint()})", flush=True)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank, e.g. 0.95 for p95)."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    """The median."""
    return statistics.median(values)


def elapsed(started: float) -> float:
    """Seconds since ``started`` (a ``time.perf_counter()`` reading)."""
    return time.perf_counter() - started


def rss_mib() -> float:
    """Peak resident memory of this process's own address space so far, in MiB (Linux ``VmHWM``).

    Unlike ``ru_maxrss`` it starts afresh at exec, so a child reports only its own peak.
    """
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status: the benchmarks need Linux")


@dataclass(frozen=True)
class ChildRun:
    """What one child process did: wall time, peak memory, and what it printed."""

    seconds: float
    """Wall time from starting the child to its exit, taken by the parent."""
    peak_mib: float
    """The child's ``ru_maxrss`` as ``wait4`` reports it. Linux counts the parent's peak before
    the child's exec in it, so the parent must stay small (see ``parent_mib``)."""
    parent_mib: float
    """The parent's own peak when it started the child: a floor under ``peak_mib``."""
    stdout: str

    @property
    def result(self) -> dict[str, Any]:
        """The JSON object a child of ours prints on its last line."""
        data: dict[str, Any] = json.loads(self.stdout.strip().splitlines()[-1])
        return data


def run_child(command: Sequence[str], *, env: dict[str, str] | None = None) -> ChildRun:
    """Run ``command`` from the repository root; raise with its output when it fails."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        parent = rss_mib()
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = elapsed(started)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{stdout}\n{stderr}")
    return ChildRun(seconds, usage.ru_maxrss / 1024, parent, stdout)


def run_module(module: str, *args: str) -> ChildRun:
    """Run ``python -m module args`` as a child process (see :func:`run_child`)."""
    return run_child([PYTHON, "-m", module, *args])


def ready_ledger(kind: str, factor: float) -> dict[str, Any]:
    """Build (unless cached) and prepare the ``campaign`` or ``national`` ledger at ``factor``, in a
    child process whose progress shows as it goes; the ledger's description, with its path as ``db``.

    A child, so that the library never loads into a process that starts measured children.
    """
    command = [PYTHON, "-m", "benchmarks.ledgers", kind, "--factor", str(factor)]
    completed = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def warm_page_cache(db: Path) -> None:
    """Read a file once, in chunks, so that every measurement finds it in the page cache alike.

    In chunks: the process that reads it starts measured children, and must stay small.
    """
    with db.open("rb") as stream:
        while stream.read(1 << 20):
            pass


def remove_database(db: Path) -> None:
    """Delete an SQLite file with its WAL and shared-memory files."""
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)


def copy_database(source: Path, target: Path) -> None:
    """Copy an SQLite file consistently (the backup API), replacing ``target``, and flush it to disk:
    a gigabyte of dirty pages being written back would slow every commit measured next (the
    latency benchmark's fsyncs took three times as long right after an unflushed copy)."""
    remove_database(target)
    origin, copy = sqlite3.connect(f"file:{source}?mode=ro", uri=True), sqlite3.connect(target)
    try:
        origin.backup(copy, pages=65_536)
        copy.execute("PRAGMA journal_mode=WAL")
    finally:
        origin.close()
        copy.close()
    os.sync()


def _postgres_version() -> str:
    from tests.support.postgres_server import PostgresUnavailable, find_binaries

    try:
        binaries = find_binaries()
    except PostgresUnavailable:
        return "not installed"
    output = subprocess.run([str(binaries.pg_ctl), "--version"], capture_output=True, text=True, check=False)
    return output.stdout.strip() or "unknown"


def fingerprint(*folders: str) -> str:
    """SHA-256 (first 12 hex digits) of the library's sources under ``folders`` of src/aidledger."""
    digest = hashlib.sha256()
    for folder in folders or ("",):
        for path in sorted((ROOT / "src" / "aidledger" / folder).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def machine() -> dict[str, str]:
    """Where the figures were measured."""
    cpu, memory = "unknown", "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
            break
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
        "library sources sha256": fingerprint(),
    }


@contextmanager
def postgres_server(durable: bool = False) -> Iterator[Any]:
    """A throwaway PostgreSQL server (the test suite's: fsync off), or with durable commits.

    Raises ``tests.support.postgres_server.PostgresUnavailable`` when no server can be started.
    """
    from tests.support.postgres_server import PostgresServer

    with PostgresServer(settings=DURABLE_POSTGRES if durable else {}) as server:
        yield server
