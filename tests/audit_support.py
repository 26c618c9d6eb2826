"""Helpers shared by the audit tests: a small real history, and raw edits of an SQLite ledger file.

The edits go through a plain ``sqlite3`` connection, behind the library's back, the way someone
with access to the file (and not to the library) would tamper with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from tests.ledger_fixtures import disburse, make_pledge, register_organization, register_project

import aidledger
from aidledger import AidLedger, derive_id
from aidledger.audit.checkpoint import Checkpoint, make_checkpoint
from aidledger.audit.verification import Verification, verify

__all__ = [
    "Story",
    "add_backdated_reversal",
    "change_byte",
    "copy_rows",
    "edit",
    "known_story",
    "record_story",
    "rows",
    "story_ledger",
]


@dataclass(frozen=True)
class Story:
    """The ids of a small history: one donor, two projects, pledges and disbursements."""

    organization_id: UUID
    project_id: UUID
    other_project_id: UUID
    pledge_id: UUID
    other_pledge_id: UUID
    disbursement_id: UUID
    later_disbursement_id: UUID


def record_story(ledger: AidLedger) -> Story:
    """Record a small history with evidence, a confirmation and a second project (about 15 events)."""
    organization_id = register_organization(ledger, command_id="org-1")
    project_id = register_project(ledger, organization_id, command_id="project-1")
    other_project_id = register_project(
        ledger, organization_id, command_id="project-2", title="承德县教育帮扶", region="130821", field="education"
    )
    pledge_id = make_pledge(
        ledger, organization_id, project_id, "1000.00", command_id="pledge-1", source={"reference": "协议 2018-001"}
    )
    other_pledge_id = make_pledge(ledger, organization_id, other_project_id, "500.00", command_id="pledge-2")
    disbursement_id = disburse(
        ledger,
        pledge_id,
        "400.00",
        command_id="pay-1",
        source={"reference": "回单 77", "url": "https://example.org/r/77"},
    )
    ledger.confirm_disbursement(disbursement_id=disbursement_id, effective_on="2018-04-20", command_id="confirm-1")
    later_disbursement_id = disburse(ledger, other_pledge_id, "200.00", command_id="pay-2", effective_on="2018-06-01")
    ledger.amend_pledge(pledge_id=pledge_id, amount="1200.00", reason="补充协议", effective_on="2018-07-01")
    return Story(
        organization_id,
        project_id,
        other_project_id,
        pledge_id,
        other_pledge_id,
        disbursement_id,
        later_disbursement_id,
    )


def known_story() -> Story:
    """The story's ids, derived from its command ids as the ledger derives them."""
    return Story(
        derive_id("organization", "org-1"),
        derive_id("project", "project-1"),
        derive_id("project", "project-2"),
        derive_id("pledge", "pledge-1"),
        derive_id("pledge", "pledge-2"),
        derive_id("disbursement", "pay-1"),
        derive_id("disbursement", "pay-2"),
    )


def add_backdated_reversal(ledger: AidLedger, story: Story) -> tuple[int, ...]:
    """Reverse the first disbursement, effective before it was ever reported; return the positions."""
    receipt = ledger.reverse_disbursement(
        disbursement_id=story.disbursement_id,
        reason="重复录入：银行未实际转账",
        effective_on="2018-04-25",
        command_id="reverse-1",
    )
    return receipt.positions


def story_ledger(path: Path) -> tuple[AidLedger, Story]:
    """A ledger file at ``path`` holding the story."""
    ledger = aidledger.open(path, recorded_by="auditor-test")
    return ledger, record_story(ledger)


@contextmanager
def reading(path: Path) -> Iterator[AidLedger]:
    """The ledger file at ``path``, opened read-only (as the audit commands open it)."""
    with aidledger.open(path, read_only=True) as ledger:
        yield ledger


def verify_file(path: Path, checkpoints: Any = (), **options: Any) -> Verification:
    """``verify`` on the ledger file at ``path``, opened read-only."""
    with reading(path) as ledger:
        return verify(ledger, checkpoints, **options)


def checkpoint_file(path: Path, **options: Any) -> tuple[Checkpoint, bytearray]:
    """``make_checkpoint`` of the ledger file at ``path``, opened read-only."""
    with reading(path) as ledger:
        return make_checkpoint(ledger, **options)


def edit(path: Path, statement: str, parameters: tuple[Any, ...] = ()) -> None:
    """Run SQL on the ledger file with a plain sqlite3 connection (the ledger should be closed)."""
    with closing(sqlite3.connect(path)) as connection:
        if parameters:
            connection.execute(statement, parameters)
        else:
            connection.executescript(statement)
        connection.commit()


def rows(path: Path) -> list[tuple[Any, ...]]:
    """The stored events as the table holds them: (rowid, originator_id, version, topic, state)."""
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute("SELECT rowid, * FROM stored_events ORDER BY rowid").fetchall()


def copy_rows(source: Path, target: Path) -> None:
    """Copy the stored events of one ledger file into another (new) ledger file, row by row."""
    aidledger.open(target).close()  # creates the tables
    with closing(sqlite3.connect(target)) as connection:
        connection.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", [row[1:] for row in rows(source)])
        connection.commit()


def change_byte(path: Path, position: int) -> None:
    """Turn one digit of the recorded timestamp of the event at ``position`` into another digit."""
    state = next(row[4] for row in rows(path) if row[0] == position)
    index = state.index(b'"timestamp":"') + len(b'"timestamp":"') + 3
    digit = b"1" if state[index : index + 1] != b"1" else b"2"
    edit(path, "UPDATE stored_events SET state=? WHERE rowid=?", (state[:index] + digit + state[index + 1 :], position))
