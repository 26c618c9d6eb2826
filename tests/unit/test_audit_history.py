"""History: every event of one aggregate, oldest first, with who, when, evidence and why."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from tests.audit_support import Story, add_backdated_reversal, record_story

from aidledger import AidLedger
from aidledger.audit.histories import history, resolve_aggregate
from aidledger.errors import NotFound


@pytest.fixture
def story(ledger: AidLedger) -> Story:
    """The small history plus a backdated reversal of the first disbursement."""
    story = record_story(ledger)
    add_backdated_reversal(ledger, story)
    return story


def test_a_disbursement_history_shows_who_when_evidence_and_why(ledger: AidLedger, story: Story) -> None:
    """Made, confirmed, reversed: each with actor, recorded time, effective date, evidence, command, reason."""
    started = datetime.now(UTC)
    found = history(ledger, story.disbursement_id)
    assert (found.aggregate_id, found.kind) == (story.disbursement_id, "disbursement")
    assert [e.event for e in found.events] == [
        "Disbursement.Made",
        "Disbursement.Confirmed",
        "Disbursement.Reversed",
    ]
    made, confirmed, reversed_ = found.events
    assert [e.version for e in found.events] == [1, 2, 3]
    assert made.position < confirmed.position < reversed_.position
    assert {e.recorded_by for e in found.events} == {"tester"}
    assert made.source == {"reference": "回单 77", "url": "https://example.org/r/77", "sha256": None}
    assert (made.command_id, made.command) == ("pay-1", "disburse")
    assert (confirmed.command_id, confirmed.command, confirmed.effective_on) == (
        "confirm-1",
        "confirm_disbursement",
        date(2018, 4, 20),
    )
    assert (reversed_.reason, reversed_.command, reversed_.effective_on) == (
        "重复录入：银行未实际转账",
        "reverse_disbursement",
        date(2018, 4, 25),
    )
    assert reversed_.recorded_at > confirmed.recorded_at > made.recorded_at
    assert (made.counts_from, confirmed.counts_from, reversed_.counts_from) == (None, None, date(2018, 4, 10))
    assert reversed_.recorded_at.date() >= started.date()  # recorded now, effective in 2018
    assert made.details["terms"]["amount"] == {"currency": "CNY", "value": "400.00"}
    assert "reason" not in made.details and "recorded_by" not in made.details


def test_a_pledge_history_includes_its_amendment_and_the_twins_of_its_disbursements(
    ledger: AidLedger, story: Story
) -> None:
    """The pledge records each disbursement and reversal against it, and the amendment's reason."""
    events = history(ledger, story.pledge_id).events
    assert [e.event for e in events] == [
        "Pledge.Made",
        "Pledge.Disbursed",
        "Pledge.Amended",
        "Pledge.DisbursementReversed",
    ]
    assert events[0].source == {"reference": "协议 2018-001", "url": None, "sha256": None}
    assert events[2].reason == "补充协议"


def test_an_aggregate_is_found_by_its_creating_command_id(ledger: AidLedger, story: Story) -> None:
    """An import file's own names work: the creating command id resolves to the object."""
    assert resolve_aggregate(ledger, "pay-1") == story.disbursement_id
    assert resolve_aggregate(ledger, "project-2") == story.other_project_id
    assert history(ledger, "org-1").aggregate_id == story.organization_id


def test_any_command_id_finds_the_aggregate_it_changed(ledger: AidLedger, story: Story) -> None:
    """A command that created nothing (a reversal) names the disbursement it changed."""
    assert resolve_aggregate(ledger, "reverse-1") == story.disbursement_id
    assert resolve_aggregate(ledger, str(story.pledge_id)) == story.pledge_id


def test_an_unknown_name_is_not_found(ledger: AidLedger, story: Story) -> None:
    """Neither an unknown command id nor an unused UUID has a history."""
    with pytest.raises(NotFound, match="no aggregate is named 'nobody'"):
        history(ledger, "nobody")
    with pytest.raises(NotFound, match="has no events"):
        history(ledger, "6f0c2a4e-1d3b-5c8e-9a47-2b1e0d6c4f18")
