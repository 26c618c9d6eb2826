"""Incremental and rebuilt projections agree, and the fold stored beside the events is sound.

The fold lives in the ledger's own database as segments (a snapshot, then one delta per write
transaction) bound to the log by the Merkle tree. These tests drive real ledger files with a
seeded random history and compare, byte for byte, the reports computed from the incrementally
maintained fold with those from a fold rebuilt from the whole log.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.ledger_fixtures import make_pledge, set_up_pledge
from tests.projection_helpers import FromScratch, RandomHistory, rebuilt_totals

import aidledger
from aidledger import AidLedger, projections
from aidledger.errors import InvalidInput
from aidledger.projections import LedgerFold, projections_of

CHEAP_GROUPING: tuple[str, ...] = ("donor_level", "category")
GROUPINGS: tuple[tuple[str, ...], ...] = (
    (),
    ("donor_level", "category"),
    ("county", "year", "form"),
    ("campaign", "origin", "destination"),
    ("donor", "channel", "implementer", "project"),
    ("donor_kind", "donor_province", "field", "city", "province"),
)
"""Every dimension appears in at least one grouping."""

DISCLOSURE_ON = date(2019, 6, 30)


@pytest.fixture
def file_ledger(tmp_path: Path) -> Iterator[AidLedger]:
    """A ledger on a new SQLite file."""
    with aidledger.open(tmp_path / "ledger.db", recorded_by="tester") as ledger:
        yield ledger


def all_reports(source: AidLedger | LedgerFold, history: RandomHistory) -> dict[str, bytes]:
    """Canonical bytes of every kind of report over ``source``: totals, disclosure status, public pages."""
    reports = {f"totals {grouping}": projections.totals(source, grouping).canonical() for grouping in GROUPINGS}
    reports["disclosure"] = projections.disclosure_status(source, DISCLOSURE_ON).canonical()
    for project_id in (history.projects + history.pools)[:4]:
        reports[f"project {project_id}"] = projections.transparency(source, "project", project_id).canonical()
    for organization_id in history.organizations[:4]:
        reports[f"organization {organization_id}"] = projections.transparency(
            source, "organization", organization_id
        ).canonical()
    reports["county"] = projections.transparency(source, "county", "130722").canonical()
    return reports


def rebuilt(ledger: AidLedger) -> LedgerFold:
    """A fold of the whole log from scratch (the stored state is not used)."""
    return projections_of(ledger).rebuild().fold


def segments(path: Path) -> list[tuple[str, int, int]]:
    """The stored segments of a ledger file: kind, first and last position covered."""
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute("SELECT kind, first_position, position FROM aidledger_fold ORDER BY seq").fetchall()


def test_totals_after_each_of_500_random_commands_equal_a_rebuild_from_scratch(file_ledger: AidLedger) -> None:
    """After each command incremental totals equal a fold from scratch; every 25th, all reports equal a rebuild."""
    ledger = file_ledger
    scratch = FromScratch(ledger)

    def compare(history: RandomHistory) -> None:
        incremental = projections.totals(ledger, CHEAP_GROUPING)
        assert incremental.coordinates.position == ledger.position()
        from_scratch = projections.totals(scratch.fold(), CHEAP_GROUPING)
        assert incremental.canonical() == from_scratch.canonical(), history.steps
        if history.steps % 25 == 0:
            assert all_reports(ledger, history) == all_reports(rebuilt(ledger), history), history.steps

    history = RandomHistory(ledger, seed=20180831)
    history.run(500, compare)
    assert history.steps == 500
    for name in ("regrant", "pledge_to_pool", "sign_pledge", "amend_pledge", "withdraw_pledge", "disburse"):
        assert history.stored[name] > 0, name
    for name in ("confirm_disbursement", "reverse_disbursement", "return_disbursement", "update_organization"):
        assert history.stored[name] > 0, name
    assert sum(history.refused.values()) > 0


def test_every_write_stores_the_state_of_exactly_the_events_it_wrote(tmp_path: Path) -> None:
    """The first write stores a snapshot; each later one a delta from the position after the last."""
    path = tmp_path / "ledger.db"
    with aidledger.open(path, recorded_by="tester") as ledger:
        pledged = set_up_pledge(ledger)
        receipt = ledger.disburse(pledge_id=pledged.pledge_id, amount="10.00", effective_on="2018-04-10")
        stored = segments(path)
        assert stored[0][0] == "snapshot"
        assert [kind for kind, _, _ in stored[1:]] == ["delta"] * (len(stored) - 1)
        assert all(first == before[2] + 1 for before, (_, first, _) in itertools.pairwise(stored))
        assert (
            stored[-1][1:]
            == (receipt.positions[0], receipt.positions[-1])
            == (ledger.position() - 1, ledger.position())
        )


def test_a_refused_command_stores_no_state(file_ledger: AidLedger, tmp_path: Path) -> None:
    """A command that breaks a rule writes nothing, derived state included."""
    pledged = set_up_pledge(file_ledger, "100.00")
    before = segments(tmp_path / "ledger.db")
    with pytest.raises(aidledger.errors.OverDisbursement):
        file_ledger.disburse(pledge_id=pledged.pledge_id, amount="100.01", effective_on="2018-04-10")
    assert segments(tmp_path / "ledger.db") == before


def test_reopened_file_loads_the_fold_from_its_segments_without_reading_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new ledger on the file finds the stored fold and gives byte-identical reports, reading at most the
    one event at the state's position (to check it is still the one the state was computed from)."""
    path = tmp_path / "ledger.db"
    with aidledger.open(path, recorded_by="tester") as writer:
        history = RandomHistory(writer, seed=7)
        history.run(150)
        before = all_reports(writer, history)
        last = writer.position()
    with aidledger.open(path) as reader:
        asked: list[tuple[int, int | None]] = []
        real_read_rows = reader.store.read_rows

        def read_rows(start: int = 1, stop: int | None = None) -> Iterator[Any]:
            asked.append((start, stop))
            return real_read_rows(start, stop)

        monkeypatch.setattr(reader.store, "read_rows", read_rows)
        assert all_reports(reader, history) == before
        assert set(asked) <= {(last, last)}
        monkeypatch.undo()
        assert all_reports(rebuilt(reader), history) == before


def test_a_fold_loaded_from_its_segments_keeps_folding_later_events_like_a_rebuild(tmp_path: Path) -> None:
    """After reopening, commands on objects recorded before (confirm, reverse, amend…) fold just as a rebuild does."""
    path = tmp_path / "ledger.db"
    with aidledger.open(path, recorded_by="tester") as writer:
        history = RandomHistory(writer, seed=19)
        history.run(150)
        projections.totals(writer)
    with aidledger.open(path, recorded_by="tester") as reader:
        history.ledger = reader
        history.run(150)
        assert all_reports(reader, history) == all_reports(rebuilt(reader), history)


def test_two_ledgers_on_one_file_writing_alternately_stay_consistent(tmp_path: Path) -> None:
    """Two ledgers, each with its own fold, writing and reporting in turn, always agree with a rebuild."""
    path = tmp_path / "ledger.db"
    with aidledger.open(path, recorded_by="a") as first, aidledger.open(path, recorded_by="b") as second:
        ledgers = (first, second)
        histories = (RandomHistory(first, seed=1), RandomHistory(second, seed=2))
        for turn in range(120):
            histories[turn % 2].step()
            if turn % 3 == 0:
                histories[(turn + 1) % 2].step()
            folded = projections.totals(ledgers[(turn // 2) % 2], ("donor_level", "origin"))
            assert folded.canonical() == rebuilt_totals(first, ("donor_level", "origin")).canonical(), turn
    kinds = [kind for kind, _, _ in segments(path)]
    assert kinds[0] == "snapshot" and set(kinds[1:]) <= {"delta"}


def test_events_stored_without_derived_state_are_folded_and_their_delta_kept(tmp_path: Path) -> None:
    """Rows an earlier version (or another tool) appended with no segment are caught up from the log."""
    path = tmp_path / "ledger.db"
    other = tmp_path / "other.db"
    with aidledger.open(other, recorded_by="tester") as source:
        set_up_pledge(source)
    with closing(sqlite3.connect(other)) as connection:
        rows = connection.execute("SELECT * FROM stored_events ORDER BY rowid").fetchall()
    with aidledger.open(path, recorded_by="tester") as ledger:
        pledged = set_up_pledge(ledger)
        expected_before = ledger.position()
    with closing(sqlite3.connect(path)) as connection:
        connection.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", rows)
        connection.commit()
    with aidledger.open(path, recorded_by="tester") as ledger:
        report = projections.totals(ledger, ("project",))
        assert report.coordinates.position == expected_before + len(rows)
        assert report.canonical() == projections.totals(rebuilt(ledger), ("project",)).canonical()
        make_pledge(ledger, pledged.organization_id, pledged.project_id, "5.00")
        assert projections.totals(ledger, ("project",)).canonical() == rebuilt_totals(ledger, ("project",)).canonical()
    assert segments(path)[-2][1:] == (expected_before + 1, expected_before + len(rows))


def test_long_deltas_are_merged_into_a_snapshot_when_a_ledger_holding_the_fold_closes(tmp_path: Path) -> None:
    """Closing compacts the state once the deltas cover more than ``compact_after`` positions."""
    path = tmp_path / "ledger.db"
    with aidledger.open(path, recorded_by="tester") as writer:
        projections_of(writer).compact_after = 10
        history = RandomHistory(writer, seed=3)
        history.run(80)
        before = all_reports(writer, history)
        assert len(segments(path)) > 1
    assert [kind for kind, _, _ in segments(path)] == ["snapshot"]
    with aidledger.open(path) as reader:
        assert all_reports(reader, history) == before


def test_reports_of_a_fold_name_the_position_it_reached(file_ledger: AidLedger) -> None:
    """A report from a fold carries that fold's log position; an as-of position beyond it is refused."""
    pledged = set_up_pledge(file_ledger)
    fold = rebuilt(file_ledger)
    make_pledge(file_ledger, pledged.organization_id, pledged.project_id, "5.00")
    with pytest.raises(InvalidInput, match=f"position: got 10000; accepted: a log position from 0 to {fold.position}"):
        projections.totals(fold, position=10_000)
    stale = projections.totals(fold)
    assert stale.coordinates.position == fold.position < file_ledger.position()
    assert stale.totals[0].columns["signed"] == 1000
    assert projections.totals(file_ledger).coordinates.position == file_ledger.position()
