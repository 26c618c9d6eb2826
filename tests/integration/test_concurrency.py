"""Several OS processes writing to one ledger at once: no over-disbursement, nothing lost or doubled."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from tests.integration import concurrent_writer
from tests.support.postgres_server import PostgresServer

import aidledger

WRITERS = 4
PLEDGE_AMOUNT = "100.00"
ROOT = Path(__file__).resolve().parents[2]


def set_up(db: str) -> None:
    """One organization, one project and three signed pledges of 100.00 yuan."""
    with aidledger.open(db, recorded_by="setup") as ledger:
        ledger.register_organization(
            command_id="org-0", name="Writers' foundation", kind="foundation", level="provincial",
            home_region="130000", effective_on="2018-01-01",
        )  # fmt: skip
        ledger.register_project(
            command_id="prj-0", title="Shared project", implementing_organization_id=aidledger.derive_id(
                "organization", "org-0"), region="130722", category="capacity", field="industry",
            planned_start="2018-02-01", planned_end="2018-12-31", effective_on="2018-01-02",
        )  # fmt: skip
        for number in range(concurrent_writer.PLEDGES):
            ledger.make_pledge(
                command_id=f"pl-{number}", donor_id=aidledger.derive_id("organization", "org-0"),
                project_id=aidledger.derive_id("project", "prj-0"), amount=PLEDGE_AMOUNT, effective_on="2018-01-03",
            )  # fmt: skip


def run_writers(db: str, tmp_path: Path) -> list[dict[str, object]]:
    """Start the writer processes together and collect every outcome they report."""
    processes = []
    for writer in range(WRITERS):
        result = tmp_path / f"writer-{writer}.jsonl"
        command = [sys.executable, "-m", "tests.integration.concurrent_writer", db, str(result), str(writer)]
        processes.append((subprocess.Popen(command, cwd=ROOT), result))
    outcomes: list[dict[str, object]] = []
    for process, result in processes:
        assert process.wait(timeout=300) == 0
        outcomes.extend(json.loads(line) for line in result.read_text().splitlines())
    return outcomes


def check_outcomes(db: str, outcomes: list[dict[str, object]]) -> None:
    """The ledger holds exactly the accepted commands, and no pledge is over-disbursed."""
    assert len(outcomes) == WRITERS * (concurrent_writer.ATTEMPTS + 1)
    with aidledger.open(db) as ledger:
        stored = Counter(
            event.command_id for _, event in ledger.read_log() if type(event).__qualname__ == "Disbursement.Made"
        )
        for outcome in outcomes:
            if outcome["command_id"] == "shared":
                continue
            expected = 1 if "positions" in outcome else 0
            assert stored[str(outcome["command_id"])] == expected, outcome
        assert stored["shared"] == 1
        shared = [o for o in outcomes if o["command_id"] == "shared"]
        assert len({json.dumps(o.get("positions")) for o in shared if "positions" in o}) == 1  # same receipt
        for number in range(concurrent_writer.PLEDGES):
            pledge = ledger.pledge(aidledger.derive_id("pledge", f"pl-{number}"))
            accepted = [
                o for o in outcomes if o["pledge"] == number and "positions" in o and o["command_id"] != "shared"
            ]
            paid = sum((Decimal(str(o["amount"])) for o in accepted), Decimal("0.00"))
            if number == 0 and stored["shared"]:
                paid += Decimal("0.01")
            assert pledge.net_disbursed == paid
            assert Decimal(0) <= pledge.net_disbursed <= pledge.amount.value
    refusals = Counter(str(o["error"]) for o in outcomes if "error" in o)
    assert set(refusals) <= {"OverDisbursement", "ConcurrencyConflict"}, refusals
    assert refusals["OverDisbursement"] > 0  # 100 attempts of 7.00 against 300.00: some must be refused


def test_writer_processes_on_one_sqlite_file_never_over_disburse(tmp_path: Path) -> None:
    """Four processes disbursing against the same pledges in one SQLite file keep every invariant."""
    db = str(tmp_path / "shared.db")
    set_up(db)
    check_outcomes(db, run_writers(db, tmp_path))


@pytest.mark.postgres
def test_writer_processes_on_one_postgres_database_never_over_disburse(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """Four processes disbursing against the same pledges in PostgreSQL keep every invariant."""
    db = postgres_server.create_database("concurrency")
    set_up(db)
    check_outcomes(db, run_writers(db, tmp_path))
