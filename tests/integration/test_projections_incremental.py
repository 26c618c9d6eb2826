"""Incremental and rebuilt projections agree, and the fold persisted in the SQLite file is sound.

The persisted fold lives in the ledger's own SQLite file (tracking table, facts, records). These
tests drive real ledger files with a seeded random history and compare, byte for byte, the
reports computed from the incrementally maintained fold with those from a fold rebuilt from the
whole log.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError
from tests.ledger_fixtures import connect_raw, make_pledge, set_up_pledge
from tests.projection_helpers import FromScratch, RandomHistory, rebuilt_totals

import aidledger
from aidledger import AidLedger, projections
from aidledger.projections import LedgerFold, Projections
from aidledger.projections.runner import FACTS_TABLE, FoldRecorder

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
            rebuilt = Projections(ledger).rebuild()
            assert all_reports(ledger, history) == all_reports(rebuilt, history), history.steps

    history = RandomHistory(ledger, seed=20180831)
    history.run(500, compare)
    assert history.steps == 500
    for name in ("regrant", "pledge_to_pool", "sign_pledge", "amend_pledge", "withdraw_pledge", "disburse"):
        assert history.stored[name] > 0, name
    for name in ("confirm_disbursement", "reverse_disbursement", "return_disbursement", "update_organization"):
        assert history.stored[name] > 0, name
    assert sum(history.refused.values()) > 0


def test_refresh_folds_only_the_events_recorded_since_the_last_refresh(file_ledger: AidLedger) -> None:
    """Each refresh folds exactly the new events; a refresh with nothing new folds none."""
    runner = Projections(file_ledger)
    pledged = set_up_pledge(file_ledger)
    assert runner.refresh() == file_ledger.position()
    assert runner.refresh() == 0
    receipt = file_ledger.disburse(pledge_id=pledged.pledge_id, amount="10.00", effective_on="2018-04-10")
    assert runner.refresh() == len(receipt.positions) == 2
    assert runner.recorder.position() == file_ledger.position()


def test_reopened_file_loads_the_fold_from_its_tables_without_reading_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new ledger on the file finds the fold at the log's end and gives byte-identical reports without the log."""
    path = tmp_path / "ledger.db"
    with aidledger.open(path, recorded_by="tester") as writer:
        history = RandomHistory(writer, seed=7)
        history.run(150)
        before = all_reports(writer, history)
    with aidledger.open(path) as reader:
        runner = Projections(reader)
        assert runner.recorder.position() == reader.position() > 0

        def no_reading(*_: Any, **__: Any) -> Any:
            raise AssertionError("the persisted fold must not re-read events")

        monkeypatch.setattr(reader, "read_log", no_reading)
        assert all_reports(reader, history) == before
        assert all_reports(runner.fold, history) == before
        monkeypatch.undo()
        assert all_reports(Projections(reader).rebuild(), history) == before


def test_a_fold_loaded_from_its_tables_keeps_folding_later_events_like_a_rebuild(tmp_path: Path) -> None:
    """After reopening, commands on objects recorded before (confirm, reverse, amend…) fold just as a rebuild does."""
    path = tmp_path / "ledger.db"
    with aidledger.open(path, recorded_by="tester") as writer:
        history = RandomHistory(writer, seed=19)
        history.run(150)
        projections.totals(writer)
    with aidledger.open(path, recorded_by="tester") as reader:
        history.ledger = reader
        history.run(150)
        assert all_reports(reader, history) == all_reports(Projections(reader).rebuild(), history)


def test_storing_an_already_folded_batch_again_fails_and_counts_nothing_twice(file_ledger: AidLedger) -> None:
    """Saving facts at an old or the current tracked position raises IntegrityError; totals are unchanged."""
    history = RandomHistory(file_ledger, seed=11)
    history.run(60)
    report = projections.totals(file_ledger, ("donor", "year"))
    runner = Projections(file_ledger)
    fold = runner.fold
    first_position = fold.facts[0].position
    old_facts = [fact for fact in fold.facts if fact.position == first_position]
    recorder = Projections(file_ledger).recorder
    assert isinstance(recorder, FoldRecorder)
    with pytest.raises(IntegrityError):
        recorder.save(first_position, old_facts, [])
    with pytest.raises(IntegrityError):
        recorder.save(fold.position, old_facts, [])
    with connect_raw(file_ledger) as connection:
        (stored_facts,) = connection.execute(f"SELECT COUNT(*) FROM {FACTS_TABLE}").fetchone()
    assert stored_facts == len(fold.facts)
    assert Projections(file_ledger).recorder.position() == file_ledger.position()
    assert projections.totals(Projections(file_ledger).fold, ("donor", "year")).canonical() == report.canonical()


def test_two_projections_on_one_file_refreshing_alternately_stay_consistent(tmp_path: Path) -> None:
    """Two ledgers with a runner each, writing and refreshing in turn, always agree with a rebuild."""
    path = tmp_path / "ledger.db"
    with aidledger.open(path, recorded_by="a") as first, aidledger.open(path, recorded_by="b") as second:
        runners = (Projections(first), Projections(second))
        histories = (RandomHistory(first, seed=1), RandomHistory(second, seed=2))
        for turn in range(120):
            histories[turn % 2].step()
            if turn % 3 == 0:
                histories[(turn + 1) % 2].step()
            runner = runners[(turn // 2) % 2]
            folded = projections.totals(runner.fold, ("donor_level", "origin"))
            rebuilt = rebuilt_totals(first, ("donor_level", "origin"))
            assert folded.canonical() == rebuilt.canonical(), turn
        assert runners[0].recorder.position() == runners[1].recorder.position() == first.position()


def test_a_runner_that_loses_the_race_to_store_a_batch_takes_the_stored_one(
    file_ledger: AidLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When another runner stored the same batch first, saving fails, the stored fold is loaded, nothing doubles."""
    pledged = set_up_pledge(file_ledger, "500.00")
    winner, loser = Projections(file_ledger), Projections(file_ledger)
    winner.refresh()
    start = loser.fold.position
    assert start == file_ledger.position()
    make_pledge(file_ledger, pledged.organization_id, pledged.project_id, "250.00")
    file_ledger.disburse(pledge_id=pledged.pledge_id, amount="100.00", effective_on="2018-04-10")
    winner.refresh()
    # The loser read the tracked position before the winner stored its batch.
    monkeypatch.setattr(loser.recorder, "position", lambda: start)
    assert loser.refresh() == 0
    monkeypatch.undo()
    expected = rebuilt_totals(file_ledger, ("project", "form")).canonical()
    assert projections.totals(loser.fold, ("project", "form")).canonical() == expected
    assert projections.totals(winner.fold, ("project", "form")).canonical() == expected
    grand = projections.totals(loser.fold).totals[0].columns
    assert (grand["signed"], grand["disbursed"]) == (Decimal("750.00"), Decimal("100.00"))


def test_a_rebuild_does_not_touch_the_stored_fold(file_ledger: AidLedger) -> None:
    """Rebuilding from scratch leaves the tracking position and stored facts as they were."""
    set_up_pledge(file_ledger)
    runner = Projections(file_ledger)
    position = runner.refresh()
    stored = runner.recorder.load()
    rebuilt = runner.rebuild()
    assert runner.recorder.position() == position == rebuilt.position
    assert runner.recorder.load().facts == stored.facts == rebuilt.facts


def test_reports_of_a_stored_fold_name_the_position_it_reached(file_ledger: AidLedger) -> None:
    """A report from a fold carries that fold's log position; an as-of position beyond it is capped to it."""
    pledged = set_up_pledge(file_ledger)
    fold = Projections(file_ledger).fold
    make_pledge(file_ledger, pledged.organization_id, pledged.project_id, "5.00")
    stale = projections.totals(fold, position=10_000)
    assert stale.coordinates.position == fold.position < file_ledger.position()
    assert stale.totals[0].columns["signed"] == 1000
    assert projections.totals(file_ledger).coordinates.position == file_ledger.position()
