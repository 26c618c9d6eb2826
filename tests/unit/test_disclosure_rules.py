"""Tests of the disclosure rules engine: every due date below was computed by hand."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from aidledger.projections.disclosure_rules import (
    ORDER_61_RULES,
    ORDER_81_RULES,
    RULE_SETS,
    DisclosureKind,
    DisclosurePolicy,
    DisclosureRecord,
    Obligation,
    ObligationState,
    ProjectFacts,
    RuleSet,
    add_months,
    derive_obligations,
    evaluate,
    rule_set_in_force,
)

PROGRESS = DisclosureKind.PROGRESS
FINAL = DisclosureKind.FINAL
CAMPAIGN = DisclosurePolicy.campaign("京津冀社会组织扶贫行动", citation="campaign notice (synthetic)")


def facts(
    planned_start: date,
    planned_end: date,
    *,
    started_on: date | None = None,
    completed_on: date | None = None,
    cancelled_on: date | None = None,
    is_charity: bool = True,
    has_public_fundraising: bool = True,
    disclosures: tuple[DisclosureRecord, ...] = (),
) -> ProjectFacts:
    """Facts of project P1 of organization O1 (a public-fundraising charity by default)."""
    return ProjectFacts(
        project_id="P1",
        organization_id="O1",
        is_charity=is_charity,
        has_public_fundraising=has_public_fundraising,
        planned_start=planned_start,
        planned_end=planned_end,
        started_on=started_on,
        completed_on=completed_on,
        cancelled_on=cancelled_on,
        disclosures=disclosures,
    )


def progress(published_on: date, start: date, end: date) -> DisclosureRecord:
    """A progress disclosure."""
    return DisclosureRecord(kind=PROGRESS, published_on=published_on, period_start=start, period_end=end)


def final(published_on: date, start: date, end: date) -> DisclosureRecord:
    """A final disclosure."""
    return DisclosureRecord(kind=FINAL, published_on=published_on, period_start=start, period_end=end)


def schedule(obligations: list[Obligation]) -> list[tuple[str, date, date, date]]:
    """(kind, period_start, period_end, due_on) of each obligation, in order."""
    return [(o.kind.value, o.period_start, o.period_end, o.due_on) for o in obligations]


# --- month arithmetic -------------------------------------------------------------------


def test_add_months_clamps_to_the_last_day_of_a_shorter_month() -> None:
    """31 August plus 3, 6, 9, 18 months lands on 30 Nov, 28 Feb, 31 May, 29 Feb (leap)."""
    start = date(2018, 8, 31)
    assert add_months(start, 3) == date(2018, 11, 30)
    assert add_months(start, 6) == date(2019, 2, 28)
    assert add_months(start, 9) == date(2019, 5, 31)
    assert add_months(start, 18) == date(2020, 2, 29)


def test_add_months_crosses_year_ends_and_goes_backwards() -> None:
    """Month addition wraps years both ways and keeps a day that exists."""
    assert add_months(date(2019, 11, 15), 3) == date(2020, 2, 15)
    assert add_months(date(2020, 3, 31), -1) == date(2020, 2, 29)
    assert add_months(date(2019, 1, 10), -13) == date(2017, 12, 10)


# --- rule sets --------------------------------------------------------------------------


def test_order_81_keeps_the_figures_of_order_61() -> None:
    """No change of the 6/3/3 figures could be established, so both sets carry the same."""
    for rule_set in RULE_SETS:
        assert rule_set.minimum_project_months == 6
        assert rule_set.progress_interval_months == 3
        assert rule_set.final_report_deadline_months == 3


def test_rule_set_changes_between_31_december_2025_and_1_january_2026() -> None:
    """Order 61 governs due dates to 2025-12-31, Order 81 from 2026-01-01, none before 2016-09-01."""
    assert rule_set_in_force(date(2025, 12, 31)) == ORDER_61_RULES
    assert rule_set_in_force(date(2026, 1, 1)) == ORDER_81_RULES
    assert rule_set_in_force(date(2016, 9, 1)) == ORDER_61_RULES
    assert rule_set_in_force(date(2016, 8, 31)) is None


def test_overlapping_rule_sets_are_refused() -> None:
    """Two rule sets claiming the same day would double every obligation, so they raise."""
    overlapping = ORDER_81_RULES.model_copy(update={"effective_from": date(2025, 6, 1)})
    project = facts(date(2019, 1, 1), date(2019, 12, 31))
    with pytest.raises(ValueError, match="overlap"):
        derive_obligations(project, rule_sets=(ORDER_61_RULES, overlapping))


# --- deriving obligations ---------------------------------------------------------------


def test_project_starting_31_august_has_progress_periods_ending_on_month_ends() -> None:
    """Period ends are start + 3k months: 30 Nov, 28 Feb, 31 May (no drift), 31 Aug, 30 Nov."""
    project = facts(date(2018, 8, 31), date(2019, 12, 31))
    assert schedule(derive_obligations(project)) == [
        ("progress", date(2018, 8, 31), date(2018, 11, 30), date(2018, 11, 30)),
        ("progress", date(2018, 12, 1), date(2019, 2, 28), date(2019, 2, 28)),
        ("progress", date(2019, 3, 1), date(2019, 5, 31), date(2019, 5, 31)),
        ("progress", date(2019, 6, 1), date(2019, 8, 31), date(2019, 8, 31)),
        ("progress", date(2019, 9, 1), date(2019, 11, 30), date(2019, 11, 30)),
        ("final", date(2018, 8, 31), date(2019, 12, 31), date(2020, 3, 31)),
    ]


def test_progress_period_ends_on_29_february_in_a_leap_year() -> None:
    """Starting 31 Aug 2019 the second period ends 29 Feb 2020 (28 Feb 2019 a year before)."""
    project = facts(date(2019, 8, 31), date(2020, 8, 31))
    assert schedule(derive_obligations(project)) == [
        ("progress", date(2019, 8, 31), date(2019, 11, 30), date(2019, 11, 30)),
        ("progress", date(2019, 12, 1), date(2020, 2, 29), date(2020, 2, 29)),
        ("progress", date(2020, 3, 1), date(2020, 5, 31), date(2020, 5, 31)),
        ("final", date(2019, 8, 31), date(2020, 8, 31), date(2020, 11, 30)),
    ]


def test_final_report_due_three_months_after_30_november_is_29_february_in_a_leap_year() -> None:
    """A project ending 30 Nov 2019 reports by 29 Feb 2020; ending 30 Nov 2018, by 28 Feb 2019."""
    leap = facts(date(2019, 6, 1), date(2019, 11, 30))
    common = facts(date(2018, 6, 1), date(2018, 11, 30))
    assert [o.due_on for o in derive_obligations(leap)] == [date(2020, 2, 29)]
    assert [o.due_on for o in derive_obligations(common)] == [date(2019, 2, 28)]


def test_progress_is_counted_from_the_actual_start_not_the_planned_one() -> None:
    """A project planned for 1 Mar but started 20 Mar counts its periods from 20 Mar."""
    project = facts(date(2019, 3, 1), date(2019, 12, 31), started_on=date(2019, 3, 20))
    assert [o.due_on for o in derive_obligations(project)] == [
        date(2019, 6, 20),
        date(2019, 9, 20),
        date(2019, 12, 20),
        date(2020, 3, 31),
    ]


def test_completion_before_the_first_progress_report_is_due_leaves_only_the_final() -> None:
    """Planned for a year, completed 10 Apr before the first window closes 15 Apr: final only."""
    project = facts(date(2019, 1, 15), date(2019, 12, 31), started_on=date(2019, 1, 15), completed_on=date(2019, 4, 10))
    assert schedule(derive_obligations(project)) == [
        ("final", date(2019, 1, 15), date(2019, 4, 10), date(2019, 7, 10)),
    ]


def test_completion_after_the_first_progress_date_keeps_that_progress_obligation() -> None:
    """Completed 20 May, after the window closing 15 Apr: that window stays, then the final."""
    project = facts(date(2019, 1, 15), date(2019, 12, 31), started_on=date(2019, 1, 15), completed_on=date(2019, 5, 20))
    assert schedule(derive_obligations(project)) == [
        ("progress", date(2019, 1, 15), date(2019, 4, 15), date(2019, 4, 15)),
        ("final", date(2019, 1, 15), date(2019, 5, 20), date(2019, 8, 20)),
    ]


def test_a_progress_window_closing_on_the_completion_day_is_replaced_by_the_final() -> None:
    """Completed on 15 Apr, the day the first window closes: only the final report is owed."""
    project = facts(date(2019, 1, 15), date(2019, 12, 31), started_on=date(2019, 1, 15), completed_on=date(2019, 4, 15))
    assert schedule(derive_obligations(project)) == [
        ("final", date(2019, 1, 15), date(2019, 4, 15), date(2019, 7, 15)),
    ]


def test_cancelled_project_owes_progress_up_to_cancellation_and_a_final_report() -> None:
    """Cancelled 10 Sep: windows closing 1 Jun and 1 Sep stay, final due 10 Dec."""
    project = facts(date(2019, 3, 1), date(2020, 2, 29), started_on=date(2019, 3, 1), cancelled_on=date(2019, 9, 10))
    assert schedule(derive_obligations(project)) == [
        ("progress", date(2019, 3, 1), date(2019, 6, 1), date(2019, 6, 1)),
        ("progress", date(2019, 6, 2), date(2019, 9, 1), date(2019, 9, 1)),
        ("final", date(2019, 3, 1), date(2019, 9, 10), date(2019, 12, 10)),
    ]


def test_project_cancelled_before_it_started_still_owes_a_final_report() -> None:
    """Cancelled 20 Feb before its planned start 1 Mar: one final report, due 20 May."""
    project = facts(date(2019, 3, 1), date(2020, 3, 1), cancelled_on=date(2019, 2, 20))
    assert schedule(derive_obligations(project)) == [
        ("final", date(2019, 2, 20), date(2019, 2, 20), date(2019, 5, 20)),
    ]


def test_project_of_exactly_six_months_owes_only_the_final_report() -> None:
    """1 Jan to 1 Jul is six months under the Civil Code count, not longer: final only."""
    project = facts(date(2019, 1, 1), date(2019, 7, 1))
    assert schedule(derive_obligations(project)) == [
        ("final", date(2019, 1, 1), date(2019, 7, 1), date(2019, 10, 1)),
    ]


def test_project_one_day_longer_than_six_months_owes_progress_reports() -> None:
    """1 Jan to 2 Jul exceeds six months: progress due 1 Apr and 1 Jul, final 2 Oct."""
    project = facts(date(2019, 1, 1), date(2019, 7, 2))
    assert schedule(derive_obligations(project)) == [
        ("progress", date(2019, 1, 1), date(2019, 4, 1), date(2019, 4, 1)),
        ("progress", date(2019, 4, 2), date(2019, 7, 1), date(2019, 7, 1)),
        ("final", date(2019, 1, 1), date(2019, 7, 2), date(2019, 10, 2)),
    ]


def test_short_project_that_overran_past_six_months_owes_progress_once_completed() -> None:
    """Planned 1 Jan to 31 May but completed 15 Aug: its actual period exceeds six months."""
    planned_only = facts(date(2019, 1, 1), date(2019, 5, 31), started_on=date(2019, 1, 1))
    overran = facts(date(2019, 1, 1), date(2019, 5, 31), started_on=date(2019, 1, 1), completed_on=date(2019, 8, 15))
    assert schedule(derive_obligations(planned_only)) == [
        ("final", date(2019, 1, 1), date(2019, 5, 31), date(2019, 8, 31)),
    ]
    assert schedule(derive_obligations(overran)) == [
        ("progress", date(2019, 1, 1), date(2019, 4, 1), date(2019, 4, 1)),
        ("progress", date(2019, 4, 2), date(2019, 7, 1), date(2019, 7, 1)),
        ("final", date(2019, 1, 1), date(2019, 8, 15), date(2019, 11, 15)),
    ]


def test_project_straddling_2026_gets_obligations_under_both_rule_sets() -> None:
    """Due 15 Oct 2025 under Order 61; due 15 Jan 2026 and later under Order 81."""
    project = facts(date(2025, 7, 15), date(2026, 9, 30))
    obligations = derive_obligations(project)
    assert [(o.kind.value, o.due_on, o.rule_set) for o in obligations] == [
        ("progress", date(2025, 10, 15), ORDER_61_RULES.name),
        ("progress", date(2026, 1, 15), ORDER_81_RULES.name),
        ("progress", date(2026, 4, 15), ORDER_81_RULES.name),
        ("progress", date(2026, 7, 15), ORDER_81_RULES.name),
        ("final", date(2026, 12, 30), ORDER_81_RULES.name),
    ]
    assert obligations[0].citation == ORDER_61_RULES.citation
    assert obligations[-1].citation == ORDER_81_RULES.citation
    assert "第81号" in obligations[-1].citation


def test_rule_set_follows_the_due_date_at_the_2025_2026_boundary() -> None:
    """A window due 31 Dec 2025 is Order 61's; a final due 1 Jan 2026 is Order 81's."""
    late_2025 = facts(date(2025, 3, 31), date(2026, 3, 1))
    assert [(o.due_on, o.rule_set) for o in derive_obligations(late_2025)][2] == (
        date(2025, 12, 31),
        ORDER_61_RULES.name,
    )
    ends_30_sep = facts(date(2025, 6, 1), date(2025, 9, 30))
    ends_1_oct = facts(date(2025, 6, 1), date(2025, 10, 1))
    assert [(o.due_on, o.rule_set) for o in derive_obligations(ends_30_sep)] == [
        (date(2025, 12, 30), ORDER_61_RULES.name)
    ]
    assert [(o.due_on, o.rule_set) for o in derive_obligations(ends_1_oct)] == [(date(2026, 1, 1), ORDER_81_RULES.name)]


def test_no_obligation_is_derived_for_a_due_date_before_the_charity_law() -> None:
    """A project whose final report fell due 30 Jun 2016 predates the Charity Law: nothing."""
    project = facts(date(2015, 1, 1), date(2016, 3, 31))
    assert derive_obligations(project) == []


def test_charity_without_public_fundraising_owes_nothing_under_the_default() -> None:
    """The statute binds only charities holding public-fundraising qualification."""
    charity = facts(date(2019, 1, 1), date(2019, 12, 31), has_public_fundraising=False)
    association = facts(date(2019, 1, 1), date(2019, 12, 31), is_charity=False, has_public_fundraising=False)
    assert derive_obligations(charity) == []
    assert derive_obligations(association) == []


def test_campaign_policy_extends_the_duty_to_a_non_charity() -> None:
    """Under the campaign, an industry association owes the statutory schedule too."""
    association = facts(date(2019, 1, 1), date(2019, 12, 31), is_charity=False, has_public_fundraising=False)
    obligations = derive_obligations(association, CAMPAIGN)
    assert [o.due_on for o in obligations] == [
        date(2019, 4, 1),
        date(2019, 7, 1),
        date(2019, 10, 1),
        date(2020, 3, 31),
    ]
    assert all(o.policy == CAMPAIGN.name and not o.bound_by_statute for o in obligations)


def test_campaign_interval_replaces_the_statutory_one_for_organizations_it_alone_binds() -> None:
    """A two-monthly campaign policy gives a non-charity windows closing every two months."""
    policy = DisclosurePolicy.campaign("bimonthly", progress_interval_months=2)
    association = facts(date(2019, 1, 31), date(2019, 9, 30), is_charity=False, has_public_fundraising=False)
    assert [o.due_on for o in derive_obligations(association, policy)] == [
        date(2019, 3, 31),
        date(2019, 5, 31),
        date(2019, 7, 31),
        date(2019, 12, 30),
    ]


def test_campaign_cannot_relax_the_statutory_interval_of_a_public_fundraising_charity() -> None:
    """A six-monthly campaign interval leaves a bound charity on the statute's three months."""
    policy = DisclosurePolicy.campaign("half-yearly", progress_interval_months=6)
    charity = facts(date(2019, 1, 1), date(2019, 12, 31))
    obligations = derive_obligations(charity, policy)
    assert [o.due_on for o in obligations] == [
        date(2019, 4, 1),
        date(2019, 7, 1),
        date(2019, 10, 1),
        date(2020, 3, 31),
    ]
    assert all(o.bound_by_statute for o in obligations)


def test_obligations_carry_project_organization_rule_set_and_policy() -> None:
    """Each obligation names its project, organization, rule set, citation and policy."""
    [obligation] = derive_obligations(facts(date(2019, 1, 1), date(2019, 3, 31)))
    assert obligation.project_id == "P1"
    assert obligation.organization_id == "O1"
    assert obligation.rule_set == ORDER_61_RULES.name
    assert obligation.citation == ORDER_61_RULES.citation
    assert obligation.policy == "statutory"
    assert obligation.bound_by_statute


# --- invalid facts ------------------------------------------------------------------------


def test_project_both_completed_and_cancelled_is_refused() -> None:
    """A project ends once: completed or cancelled, never both."""
    with pytest.raises(ValidationError, match="both completed"):
        facts(date(2019, 1, 1), date(2019, 12, 31), completed_on=date(2019, 6, 1), cancelled_on=date(2019, 6, 2))


def test_planned_end_before_planned_start_is_refused() -> None:
    """A project cannot be planned to end before it starts."""
    with pytest.raises(ValidationError, match="planned_end"):
        facts(date(2019, 6, 1), date(2019, 5, 31))


def test_completion_before_the_start_is_refused() -> None:
    """A project cannot be completed before it started."""
    with pytest.raises(ValidationError, match="completed_on"):
        facts(date(2019, 1, 1), date(2019, 12, 31), started_on=date(2019, 2, 1), completed_on=date(2019, 1, 31))


def test_dates_after_the_latest_supported_date_are_refused() -> None:
    """A far-future sentinel date would overflow due-date arithmetic, so it is refused."""
    with pytest.raises(ValidationError, match="latest date"):
        facts(date(2019, 1, 1), date(9999, 12, 31))


def test_evaluating_obligations_against_another_projects_facts_is_refused() -> None:
    """Mixing projects is a programming error and raises."""
    obligations = derive_obligations(facts(date(2019, 1, 1), date(2019, 3, 31)))
    other = facts(date(2019, 1, 1), date(2019, 3, 31)).model_copy(update={"project_id": "P2"})
    with pytest.raises(ValueError, match="P2"):
        evaluate(obligations, other, date(2019, 5, 1))


# --- statuses -------------------------------------------------------------------------------

# A year-long project from 15 Jan 2019: first progress window 15 Jan - 15 Apr 2019.
YEAR_START, YEAR_END = date(2019, 1, 15), date(2019, 12, 31)
FIRST_DUE = date(2019, 4, 15)


def first_status(as_of: date, *disclosures: DisclosureRecord) -> tuple[ObligationState, int]:
    """Status and days late of the first progress obligation of the year-long project."""
    project = facts(YEAR_START, YEAR_END, started_on=YEAR_START, disclosures=disclosures)
    first = evaluate(derive_obligations(project), project, as_of)[0]
    assert first.obligation.due_on == FIRST_DUE
    return first.status, first.days_late


def test_obligation_whose_window_has_not_opened_is_upcoming() -> None:
    """The day before the project starts, its first progress report is upcoming."""
    assert first_status(date(2019, 1, 14)) == (ObligationState.UPCOMING, 0)


def test_obligation_is_due_from_the_day_its_window_opens() -> None:
    """On the first day of the window the report is due."""
    assert first_status(YEAR_START) == (ObligationState.DUE, 0)


def test_obligation_is_still_due_on_its_due_date() -> None:
    """On the due date itself, unmet, the report is due, not overdue."""
    assert first_status(FIRST_DUE) == (ObligationState.DUE, 0)


def test_obligation_is_overdue_one_day_after_its_due_date() -> None:
    """The day after the due date an unmet report is overdue by one day."""
    assert first_status(FIRST_DUE + timedelta(days=1)) == (ObligationState.OVERDUE, 1)


def test_overdue_days_are_counted_up_to_as_of() -> None:
    """Thirty days after the due date it is overdue by thirty days."""
    assert first_status(date(2019, 5, 15)) == (ObligationState.OVERDUE, 30)


def test_disclosure_published_on_the_due_date_meets_the_obligation() -> None:
    """Published exactly on 15 Apr: met, no days late."""
    report = progress(FIRST_DUE, YEAR_START, date(2019, 4, 10))
    assert first_status(date(2019, 6, 1), report) == (ObligationState.MET, 0)


def test_disclosure_published_one_day_after_the_due_date_is_met_late_by_one_day() -> None:
    """Published 16 Apr: met late by one day."""
    report = progress(FIRST_DUE + timedelta(days=1), YEAR_START, date(2019, 4, 15))
    assert first_status(date(2019, 6, 1), report) == (ObligationState.MET_LATE, 1)


def test_a_late_progress_report_also_meets_the_window_it_falls_in() -> None:
    """Published 16 Apr: the first window is met late, the second (16 Apr - 15 Jul) on time."""
    report = progress(date(2019, 4, 16), YEAR_START, date(2019, 4, 15))
    project = facts(YEAR_START, YEAR_END, started_on=YEAR_START, disclosures=(report,))
    first, second = evaluate(derive_obligations(project), project, date(2019, 8, 1))[:2]
    assert (first.status, first.days_late, first.met_by) == (ObligationState.MET_LATE, 1, report)
    assert (second.status, second.days_late, second.met_by) == (ObligationState.MET, 0, report)


def test_disclosure_published_after_as_of_is_not_yet_counted() -> None:
    """Evaluated on 10 Apr, a report published on 12 Apr is not seen: still due."""
    report = progress(date(2019, 4, 12), YEAR_START, date(2019, 4, 10))
    assert first_status(date(2019, 4, 10), report) == (ObligationState.DUE, 0)
    assert first_status(date(2019, 4, 12), report) == (ObligationState.MET, 0)


def test_disclosure_of_the_other_kind_does_not_meet_an_obligation() -> None:
    """A final report does not meet a progress obligation."""
    report = final(date(2019, 3, 1), YEAR_START, date(2019, 2, 28))
    assert first_status(date(2019, 5, 15), report) == (ObligationState.OVERDUE, 30)


def test_disclosure_published_before_the_window_opens_does_not_count_for_it() -> None:
    """A report published 16 Apr belongs to the second window, never to the third."""
    report = progress(date(2019, 4, 16), YEAR_START, date(2019, 4, 15))
    project = facts(YEAR_START, YEAR_END, started_on=YEAR_START, disclosures=(report,))
    third = evaluate(derive_obligations(project), project, date(2019, 10, 20))[2]
    assert third.obligation.due_on == date(2019, 10, 15)
    assert (third.status, third.days_late, third.met_by) == (ObligationState.OVERDUE, 5, None)


def test_final_report_published_on_its_due_date_is_met_and_a_day_later_met_late() -> None:
    """A project ending 31 Dec 2019 reports by 31 Mar 2020; on 1 Apr it is one day late."""
    on_time = final(date(2020, 3, 31), YEAR_START, YEAR_END)
    late = final(date(2020, 4, 1), YEAR_START, YEAR_END)
    for report, expected in ((on_time, (ObligationState.MET, 0)), (late, (ObligationState.MET_LATE, 1))):
        project = facts(YEAR_START, YEAR_END, disclosures=(report,))
        last = evaluate(derive_obligations(project), project, date(2020, 6, 1))[-1]
        assert last.obligation.kind == FINAL
        assert last.obligation.due_on == date(2020, 3, 31)
        assert (last.status, last.days_late) == expected


def test_final_report_is_upcoming_while_the_project_runs_and_due_once_it_ends() -> None:
    """The final report's window opens on the day the project ends."""
    project = facts(YEAR_START, YEAR_END)
    [obligation] = [o for o in derive_obligations(project) if o.kind == FINAL]
    [before] = evaluate([obligation], project, date(2019, 12, 30))
    [on_end] = evaluate([obligation], project, YEAR_END)
    assert before.status == ObligationState.UPCOMING
    assert on_end.status == ObligationState.DUE


def test_final_report_published_before_the_project_ended_does_not_count() -> None:
    """A 'final' report published while the project runs is not the final report."""
    early = final(date(2019, 12, 1), YEAR_START, date(2019, 11, 30))
    project = facts(YEAR_START, YEAR_END, disclosures=(early,))
    last = evaluate(derive_obligations(project), project, date(2020, 4, 2))[-1]
    assert (last.status, last.days_late) == (ObligationState.OVERDUE, 2)


def test_evaluation_does_not_depend_on_the_order_of_disclosures() -> None:
    """Shuffling the recorded disclosures gives the same statuses."""
    records = (
        progress(date(2019, 4, 20), YEAR_START, date(2019, 4, 15)),
        progress(date(2019, 7, 1), date(2019, 4, 16), date(2019, 6, 30)),
        final(date(2020, 2, 1), YEAR_START, YEAR_END),
    )
    project = facts(YEAR_START, YEAR_END, disclosures=records)
    shuffled = project.model_copy(update={"disclosures": tuple(reversed(records))})
    obligations = derive_obligations(project)
    assert evaluate(obligations, project, date(2020, 6, 1)) == evaluate(
        list(reversed(obligations)), shuffled, date(2020, 6, 1)
    )


# --- properties -----------------------------------------------------------------------------

DAYS = st.dates(min_value=date(2014, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def project_facts(draw: st.DrawFn) -> ProjectFacts:
    """Valid facts of one project with random dates, status and disclosures."""
    planned_start = draw(DAYS)
    planned_end = planned_start + timedelta(days=draw(st.integers(0, 4 * 365)))
    start_delay = draw(st.none() | st.integers(-60, 120))
    started_on = None if start_delay is None else planned_start + timedelta(days=start_delay)
    start = started_on or planned_start
    ending = draw(st.sampled_from(["running", "completed", "cancelled"]))
    end = start + timedelta(days=draw(st.integers(0, 4 * 365)))
    records = draw(st.lists(disclosure_records(start), max_size=8))
    return ProjectFacts(
        project_id="P",
        organization_id="O",
        is_charity=draw(st.booleans()),
        has_public_fundraising=draw(st.booleans()),
        planned_start=planned_start,
        planned_end=planned_end,
        started_on=started_on,
        completed_on=end if ending == "completed" else None,
        cancelled_on=end if ending == "cancelled" else None,
        disclosures=tuple(records),
    )


def disclosure_records(start: date) -> st.SearchStrategy[DisclosureRecord]:
    """Disclosures published within about five years of the start."""
    return st.builds(
        lambda kind, published, length: DisclosureRecord(
            kind=kind, published_on=published, period_start=start, period_end=start + timedelta(days=length)
        ),
        st.sampled_from(list(DisclosureKind)),
        st.dates(min_value=start - timedelta(days=30), max_value=start + timedelta(days=1800)),
        st.integers(0, 400),
    )


POLICIES = st.sampled_from(
    [
        DisclosurePolicy.statutory(),
        CAMPAIGN,
        DisclosurePolicy.campaign("monthly", progress_interval_months=1),
        DisclosurePolicy.campaign("half-yearly", progress_interval_months=6),
    ]
)


@settings(max_examples=300, deadline=None)
@given(project=project_facts(), policy=POLICIES)
def test_obligations_are_deterministic_sorted_and_due_after_their_periods(
    project: ProjectFacts, policy: DisclosurePolicy
) -> None:
    """Same facts give the same sorted list; progress is due at period end, final after it."""
    obligations = derive_obligations(project, policy)
    assert obligations == derive_obligations(project, policy)
    assert obligations == sorted(obligations, key=lambda o: o.sort_key)
    for obligation in obligations:
        assert obligation.period_start <= obligation.period_end <= obligation.due_on
        assert obligation.opens_on <= obligation.due_on
        if obligation.kind == PROGRESS:
            assert obligation.due_on == obligation.period_end
            assert obligation.period_end < project.implementation_end
        else:
            assert obligation.due_on > obligation.period_end
            assert obligation.period_end == project.implementation_end
        governing = rule_set_in_force(obligation.due_on)
        assert governing is not None
        assert governing.name == obligation.rule_set
    assert sum(o.kind == FINAL for o in obligations) <= 1


def expected_interval(project: ProjectFacts, policy: DisclosurePolicy) -> int:
    """The statute's 3 months, tightened (bound charity) or replaced (others) by the policy."""
    if policy.progress_interval_months is None:
        return 3
    if project.bound_by_statute:
        return min(3, policy.progress_interval_months)
    return policy.progress_interval_months


@settings(max_examples=300, deadline=None)
@given(project=project_facts(), policy=POLICIES)
def test_progress_windows_are_contiguous_and_counted_from_the_start(
    project: ProjectFacts, policy: DisclosurePolicy
) -> None:
    """Window k ends at start + k intervals (no drift) and the next begins the day after."""
    windows = [(o.period_start, o.period_end) for o in derive_obligations(project, policy) if o.kind == PROGRESS]
    start, end = project.implementation_start, project.implementation_end
    interval = expected_interval(project, policy)
    grid: list[tuple[date, date]] = []
    window_start, k = start, 1
    while (window_end := add_months(start, interval * k)) < end:
        grid.append((window_start, window_end))
        window_start, k = window_end + timedelta(days=1), k + 1
    if windows:  # only projects longer than six months have any
        assert windows == [window for window in grid if rule_set_in_force(window[1]) is not None]


@settings(max_examples=300, deadline=None)
@given(project=project_facts(), policy=POLICIES, as_of=DAYS, seed=st.integers(0, 2**32))
def test_statuses_are_consistent_whatever_the_input_order(
    project: ProjectFacts, policy: DisclosurePolicy, as_of: date, seed: int
) -> None:
    """One status per obligation, in order; days late only when overdue or met late."""
    obligations = derive_obligations(project, policy)
    statuses = evaluate(obligations, project, as_of)
    assert [s.obligation for s in statuses] == obligations
    shuffled = list(obligations)
    random.Random(seed).shuffle(shuffled)
    assert evaluate(shuffled, project, as_of) == statuses
    late_states = {ObligationState.OVERDUE, ObligationState.MET_LATE}
    for status in statuses:
        assert (status.days_late > 0) == (status.status in late_states)
        met = status.status in {ObligationState.MET, ObligationState.MET_LATE}
        assert (status.met_by is not None) == met
        if status.met_by is not None:
            assert status.obligation.opens_on <= status.met_by.published_on <= as_of


@settings(max_examples=200, deadline=None)
@given(project=project_facts(), as_of=DAYS, later_by=st.integers(0, 2000))
def test_a_met_obligation_stays_met_later(project: ProjectFacts, as_of: date, later_by: int) -> None:
    """Once met (on time or late), an obligation never returns to an unmet state."""
    obligations = derive_obligations(project, CAMPAIGN)
    earlier = evaluate(obligations, project, as_of)
    later = evaluate(obligations, project, as_of + timedelta(days=later_by))
    for before, after in zip(earlier, later, strict=True):
        if before.met_by is not None:
            assert (after.status, after.days_late, after.met_by) == (before.status, before.days_late, before.met_by)


@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)), months=st.integers(-1200, 1200))
def test_add_months_keeps_the_day_or_clamps_to_month_end(day: date, months: int) -> None:
    """The result is in the right month, on the same day or on that month's last day."""
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    if result.day != day.day:
        assert result.day < day.day
        assert (result + timedelta(days=1)).day == 1


def test_custom_rule_sets_are_used_when_given() -> None:
    """A caller may pass its own rule sets; obligations then cite them."""
    monthly = RuleSet(
        name="test-monthly",
        effective_from=date(2000, 1, 1),
        effective_to=None,
        progress_interval_months=1,
        final_report_deadline_months=1,
        minimum_project_months=1,
        citation="test rule set",
    )
    project = facts(date(2019, 1, 31), date(2019, 4, 15))
    assert [(o.kind.value, o.due_on) for o in derive_obligations(project, rule_sets=(monthly,))] == [
        ("progress", date(2019, 2, 28)),
        ("progress", date(2019, 3, 31)),
        ("final", date(2019, 5, 15)),
    ]


def test_the_example_in_the_disclosure_rules_guide_runs() -> None:
    """The Python block in docs/disclosure-rules.md executes and its assertions hold."""
    guide = Path(__file__).resolve().parents[2] / "docs" / "disclosure-rules.md"
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(blocks) == 1
    exec(compile(blocks[0], str(guide), "exec"), {})
