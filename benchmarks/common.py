"""What the benchmark scripts share: figures with targets, timing, memory, machine, PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "OUTPUT",
    "ROOT",
    "Figure",
    "copy_database",
    "fingerprint",
    "machine",
    "percentile",
    "postgres_server",
    "print_header",
    "rss_mib",
    "run_child",
]

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "bench-output"
RESULTS_ENV = "AIDLEDGER_BENCH_RESULTS"
"""When set, every figure printed is also appended to this JSON Lines file (``run_all`` sets it)."""

DURABLE_POSTGRES = {"fsync": True, "synchronous_commit": True, "full_page_writes": True}
"""Settings for durable PostgreSQL commits, like SQLite's. By default the benchmarks use the test
server's settings (fsync off), which measure the library's own work rather than the disk's."""


@dataclass
class Figure:
    """One measured figure, its baseline from the same run, and its target."""

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
        text = f"{self.name}: {_number(self.value)} {self.unit}"
        if self.baseline is not None:
            text += f" | baseline {self.baseline_name}: {_number(self.baseline)} {self.unit}"
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
                stream.write(json.dumps(asdict(self) | {"verdict": self.verdict}) + "\n")


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4f}"


def print_header(title: str) -> None:
    """A visible section title, with the load average (other work on the machine skews figures)."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\n== {title} == (load average {load})", flush=True)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank, e.g. 0.95 for p95)."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    """The median."""
    return statistics.median(values)


def rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's ``VmHWM`` (peak RSS of this program's address space, which starts afresh at exec),
    not ``ru_maxrss``: a child process inherits its parent's ``ru_maxrss`` across fork and exec,
    so a benchmark started by a large parent would report the parent's peak.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh process and return the JSON its last line prints.

    A fresh process per measurement makes its peak memory (see :func:`rss_mib`) its own.
    """
    completed = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def copy_database(source: Path, target: Path) -> None:
    """Copy an SQLite file consistently (the backup API), replacing ``target``."""
    for stale in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        stale.unlink(missing_ok=True)
    origin, copy = sqlite3.connect(source), sqlite3.connect(target)
    try:
        origin.backup(copy)
    finally:
        origin.close()
        copy.close()


def _postgres_version() -> str:
    try:
        from tests.support.postgres_server import PostgresUnavailable, find_binaries
    except ImportError:  # pragma: no cover - run outside the repository
        return "unknown"
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
    cpu = "unknown"
    with Path("/proc/cpuinfo").open() as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with Path("/proc/meminfo").open() as info:
        for line in info:
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

    server = PostgresServer(settings=DURABLE_POSTGRES if durable else {})
    with server:
        yield server


def elapsed(started: float) -> float:
    """Seconds since ``started`` (a ``time.perf_counter()`` reading)."""
    return time.perf_counter() - started
