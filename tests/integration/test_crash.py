"""An import killed with SIGKILL at random points and run again ends as a clean run ends."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.postgres_server import PostgresServer

import aidledger
from aidledger import demo, projections

RECORDS = 900
KILLS = 3


def write_history(path: Path) -> None:
    """The first RECORDS command records of the synthetic demo history, as JSON Lines."""
    records = list(demo.history())[:RECORDS]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def load(db: str, history: Path) -> subprocess.Popen[bytes]:
    """Start ``aidledger load`` in its own process, storing in small transactions (so kills land between
    and inside many of them)."""
    command = [sys.executable, "-m", "aidledger", "--db", db, "load", str(history), "--batch-events", "10"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def position(db: str) -> int:
    """The ledger's log position, read by another process's ledger object."""
    try:
        with aidledger.open(db, read_only=True) as ledger:
            return ledger.position()
    except Exception:
        return 0


def stored(db: str) -> int:
    """How many events the ledger holds (on PostgreSQL a killed transaction can skip positions)."""
    with aidledger.open(db, read_only=True) as ledger:
        return sum(1 for _ in ledger.store.read_rows())


def kill_at(db: str, history: Path, threshold: int) -> None:
    """Run the import and SIGKILL it once the log has passed ``threshold`` events."""
    process = load(db, history)
    deadline = time.monotonic() + 120
    while process.poll() is None and position(db) < threshold and time.monotonic() < deadline:
        time.sleep(0.01)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def fingerprint(db: str) -> tuple[list[tuple[str, int, str]], list[str]]:
    """The log's identities in order, and the digests of a few reports."""
    with aidledger.open(db) as ledger:
        log = [(str(e.originator_id), e.originator_version, type(e).__qualname__) for _, e in ledger.read_log()]
        # The full digest also covers the position and the Merkle root, which covers when each event
        # was recorded: a rerun records at other times (and, on PostgreSQL, a killed transaction
        # uses up sequence numbers), so the figures and the log's identities are compared.
        disclosure = projections.disclosure_status(ledger, "2018-12-31")
        # Rows name the position of the disclosure that met them: positions, again, not figures.
        rows = [row.model_copy(update={"met_by_position": None}) for row in disclosure.rows]
        digests = [
            projections.totals(ledger, ["category"], effective_on="2018-08-31").figures_digest(),
            projections.totals(ledger, ["donor_level", "year", "county"]).figures_digest(),
            disclosure.model_copy(update={"rows": tuple(rows)}).figures_digest(),
        ]
    return log, digests


def crash_and_recover(clean_db: str, crashed_db: str, tmp_path: Path, seed: int) -> None:
    """Kill the import KILLS times at random points, finish it, and compare with a clean run."""
    history = tmp_path / "history.jsonl"
    write_history(history)
    assert load(clean_db, history).wait(timeout=600) == 0
    clean = fingerprint(clean_db)
    rng = random.Random(seed)
    total = len(clean[0])
    for threshold in sorted(rng.randrange(1, total * 3 // 4) for _ in range(KILLS)):  # room to be killed before the end
        kill_at(crashed_db, history, threshold)
    assert stored(crashed_db) < total  # the kills really interrupted the import
    finish = load(crashed_db, history)
    assert finish.wait(timeout=600) == 0, finish.stderr.read() if finish.stderr else ""
    assert fingerprint(crashed_db) == clean


def test_an_sqlite_import_killed_at_random_points_ends_like_a_clean_run(tmp_path: Path) -> None:
    """SIGKILL during an SQLite import loses nothing and doubles nothing once it is run again."""
    crash_and_recover(str(tmp_path / "clean.db"), str(tmp_path / "crashed.db"), tmp_path, seed=1)


@pytest.mark.postgres
def test_a_postgres_import_killed_at_random_points_ends_like_a_clean_run(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """SIGKILL during a PostgreSQL import loses nothing and doubles nothing once it is run again."""
    clean = postgres_server.create_database("crash_clean")
    crashed = postgres_server.create_database("crash_crashed")
    crash_and_recover(clean, crashed, tmp_path, seed=2)
