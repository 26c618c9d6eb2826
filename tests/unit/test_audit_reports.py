"""Reports name their checkpoint; replay reproduces them byte for byte; restatements say what changed."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from tests.audit_support import Story, add_backdated_reversal, record_story

from aidledger import AidLedger, projections
from aidledger.audit.checkpoint import make_checkpoint
from aidledger.audit.replays import replay, replay_report
from aidledger.audit.restatements import restatement
from aidledger.errors import InvalidInput
from aidledger.projections import AsOf, LedgerFold


def _day(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture
def story(ledger: AidLedger) -> Story:
    """The small history (11 events) on each store."""
    return record_story(ledger)


def test_a_report_names_the_root_of_the_checkpoint_it_was_computed_at(ledger: AidLedger, story: Story) -> None:
    """Now and as of an earlier position, the root is that of a checkpoint of the same size."""
    now = projections.totals(ledger, ["project"])
    assert now.coordinates.root == make_checkpoint(ledger)[0].root
    earlier = projections.totals(ledger, ["project"], position=6)
    assert earlier.coordinates.root == make_checkpoint(ledger, size=6)[0].root
    assert earlier.digest != projections.totals(ledger, ["project"], position=7).digest


def test_every_report_kind_names_its_root(ledger: AidLedger, story: Story) -> None:
    """Disclosure status, explanations and public pages carry the root as totals do."""
    root = make_checkpoint(ledger)[0].root
    reports = [
        projections.disclosure_status(ledger, "2018-12-31"),
        projections.explain(ledger, "net_disbursed"),
        projections.transparency(ledger, "project", story.project_id),
        projections.transparency(ledger, "county", "130722"),
    ]
    assert [r.coordinates.root for r in reports] == [root] * len(reports)


def test_the_root_follows_the_log_as_it_grows(ledger: AidLedger, story: Story) -> None:
    """The incremental root after new events equals a fresh checkpoint's root."""
    projections.totals(ledger)
    add_backdated_reversal(ledger, story)
    assert projections.totals(ledger).coordinates.root == make_checkpoint(ledger)[0].root


def test_a_rebuilt_fold_names_the_same_root_and_digest(ledger: AidLedger, story: Story) -> None:
    """The rebuild path and the incremental path give byte-identical reports, roots included."""
    rebuilt = projections.projections_of(ledger).rebuild().fold
    assert projections.totals(rebuilt, ["category"]).canonical() == projections.totals(ledger, ["category"]).canonical()


def test_a_report_of_a_bare_fold_leaves_the_root_out(ledger: AidLedger, story: Story) -> None:
    """With no ledger behind a fold there is no root: the key is absent, the digest as it was."""
    fold = LedgerFold()
    fold.apply_rows(ledger.store.read_rows())
    bare = projections.totals(fold, ["project"])
    assert "root" not in json.loads(bare.canonical())["coordinates"]
    named = projections.totals(ledger, ["project"])
    unnamed = named.model_copy(update={"coordinates": named.coordinates.model_copy(update={"root": None})})
    assert unnamed.sealed().digest == bare.digest
    assert named.digest != bare.digest  # the root is part of what the digest covers


def test_replay_reproduces_a_report_taken_then_byte_for_byte(ledger: AidLedger, story: Story) -> None:
    """A report taken at position 11, replayed after a backdated reversal, is the same bytes."""
    taken = projections.totals(ledger, ["project", "year"], effective_on="2018-05-31")
    add_backdated_reversal(ledger, story)
    assert projections.totals(ledger, ["project", "year"], effective_on="2018-05-31").digest != taken.digest
    replayed = replay(ledger, taken.coordinates.position, ["project", "year"], effective_on="2018-05-31")
    assert replayed.canonical() == taken.canonical()
    assert replayed.digest == taken.digest


def test_replay_of_a_published_report_of_each_kind_matches(ledger: AidLedger, story: Story) -> None:
    """Whatever the kind, the parameters are read from the report and the bytes match."""
    published = [
        projections.totals(ledger, ["category"]),
        projections.disclosure_status(ledger, "2018-12-31"),
        projections.explain(ledger, "disbursed", {"project": str(story.project_id)}),
        projections.transparency(ledger, "project", story.project_id),
        projections.transparency(ledger, "organization", story.organization_id, on="2018-12-31"),
        projections.transparency(ledger, "county", "130722"),
    ]
    add_backdated_reversal(ledger, story)
    for report in published:
        result = replay_report(ledger, report.model_dump(mode="json"))
        assert (result.ok, result.digest_valid, result.differences) == (True, True, ()), report.report


def test_replay_names_what_an_edited_published_report_changed(ledger: AidLedger, story: Story, tmp_path: Path) -> None:
    """A figure edited in the published file is named by its JSON path; the digest no longer fits."""
    report = projections.totals(ledger)
    data = report.model_dump(mode="json")
    data["totals"][0]["columns"]["disbursed"] = "6000.00"
    path = tmp_path / "published.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = replay_report(ledger, path)
    assert not result.ok
    assert not result.digest_valid
    assert result.differences == ("$.totals[0].columns.disbursed: published '6000.00', replayed '600.00'",)


def test_replay_beyond_the_log_is_refused(ledger: AidLedger, story: Story) -> None:
    """There is no report of a position the ledger has not reached."""
    with pytest.raises(InvalidInput, match="it is at 11"):
        replay(ledger, 12)


def test_a_backdated_correction_is_named_in_the_restatement(ledger: AidLedger, story: Story) -> None:
    """A reversal recorded later but effective before the published date restates that project's figures."""
    published_at = ledger.position()
    (reversal, *_) = add_backdated_reversal(ledger, story)
    result = restatement(
        ledger, AsOf(position=published_at, effective_on=_day("2018-05-31")), AsOf(effective_on=_day("2018-05-31"))
    )
    changed = {(tuple(f.key.values()), f.column): f for f in result.figures}
    net = changed[((str(story.project_id),), "net_disbursed")]
    assert (net.before, net.after, net.change) == (Decimal("400.00"), Decimal(0), Decimal("-400.00"))
    assert net.unexplained == 0
    (event,) = net.events
    assert (event.position, event.event, event.amount) == (reversal, "Disbursement.Reversed", Decimal("-400.00"))
    assert event.backdated and event.correction
    assert changed[((str(story.project_id),), "reversed")].change == Decimal("400.00")
    assert changed[((str(story.project_id),), "confirmed")].change == Decimal("-400.00")
    assert changed[((), "net_disbursed")].change == Decimal("-400.00")  # the grand total
    assert not [f for f in result.figures if str(story.other_project_id) in f.key.values()]
    assert result.restated_from.position == published_at
    assert result.coordinates.root == make_checkpoint(ledger)[0].root


def test_a_restatement_by_effective_date_lists_what_happened_in_between(ledger: AidLedger, story: Story) -> None:
    """From effective 2018-05-31 to 2018-06-30 only the June disbursement of project 2 changes figures."""
    result = restatement(ledger, AsOf(effective_on=_day("2018-05-31")), AsOf(effective_on=_day("2018-06-30")), [])
    assert {f.column for f in result.figures} == {"disbursed", "net_disbursed", "outstanding"}
    disbursed = next(f for f in result.figures if f.column == "disbursed")
    assert [(e.event, e.amount, e.backdated) for e in disbursed.events] == [
        ("Disbursement.Made", Decimal("200.00"), False)
    ]


def test_the_same_point_twice_restates_nothing(ledger: AidLedger, story: Story) -> None:
    """No figure changes between a point and itself."""
    assert restatement(ledger, AsOf(position=8), AsOf(position=8)).figures == ()


def test_a_restatement_carries_a_digest_and_both_coordinates(ledger: AidLedger, story: Story) -> None:
    """Like every report it is sealed, and it names both checkpoints."""
    result = restatement(ledger, AsOf(position=5), AsOf())
    assert result.digest and result.sealed().digest == result.digest
    assert result.restated_from.root == make_checkpoint(ledger, size=5)[0].root


def test_a_reversal_in_a_restatement_shows_the_date_it_counts_from_its_own_date_and_its_reason(
    ledger: AidLedger, story: Story
) -> None:
    """Reversed on 04-25 a disbursement of 04-10 confirmed 04-20: counted from 04-10 (and 04-20), dated 04-25."""
    published_at = ledger.position()
    (reversal, *_) = add_backdated_reversal(ledger, story)
    result = restatement(ledger, AsOf(position=published_at), AsOf())
    changed = {f.column: f for f in result.figures if f.key == {}}
    (reversed_,) = changed["reversed"].events
    (unconfirmed,) = changed["confirmed"].events
    assert (reversed_.position, reversed_.effective_on, reversed_.dated_on) == (
        reversal,
        _day("2018-04-10"),
        _day("2018-04-25"),
    )
    assert (unconfirmed.effective_on, unconfirmed.dated_on) == (_day("2018-04-20"), _day("2018-04-25"))
    assert reversed_.reason == unconfirmed.reason == "重复录入：银行未实际转账"
    first = restatement(ledger, AsOf(position=0), AsOf(position=published_at))
    made = next(e for f in first.figures if f.column == "disbursed" and f.key == {} for e in f.events)
    assert (made.event, made.effective_on, made.dated_on, made.reason) == (
        "Disbursement.Made",
        _day("2018-04-10"),
        _day("2018-04-10"),
        None,
    )


def test_a_restatement_of_a_bare_fold_leaves_a_reversal_s_own_date_and_reason_unknown(
    ledger: AidLedger, story: Story
) -> None:
    """The fold keeps the date a reversal counts from, not its own date or reason: those are null."""
    published_at = ledger.position()
    add_backdated_reversal(ledger, story)
    fold = LedgerFold()
    fold.apply_rows(ledger.store.read_rows())
    result = restatement(fold, AsOf(position=published_at), AsOf())
    (reversal,) = next(f for f in result.figures if f.key == {} and f.column == "reversed").events
    assert (reversal.effective_on, reversal.dated_on, reversal.reason) == (_day("2018-04-10"), None, None)
