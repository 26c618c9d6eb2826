"""Disclosure status read from the ledger's events, with due dates and statuses computed by hand.

The rules are those of docs/disclosure-rules.md: a public-fundraising charity's project longer
than six months discloses progress in every three-month window counted from its start (due on the
window's last day) and a final report within three months after it ends; a campaign policy extends
the duty to every participant of the projects tagged with the campaign.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from tests.ledger_fixtures import register_organization, register_project

from aidledger import AidLedger, projections
from aidledger.projections import DisclosurePolicy, DisclosureReport

ORDER_61 = "charity-law-2016+mca-order-61"
ORDER_81 = "mca-order-81"

Row = tuple[str, date, str, int]
"""(kind, due on, status, days late)."""


def register_charity(ledger: AidLedger, **overrides: object) -> UUID:
    """A foundation that is a charity with public-fundraising qualification since 2017-06-01."""
    fields: dict[str, object] = {
        "charity": True,
        "charity_since": "2017-01-01",
        "public_fundraising": True,
        "public_fundraising_from": "2017-06-01",
    }
    return register_organization(ledger, **(fields | overrides))


def publish(ledger: AidLedger, project_id: UUID, kind: str, published_on: str, period_start: str) -> int:
    """Record a disclosure published on ``published_on``; return its log position."""
    receipt = ledger.record_disclosure(
        project_id=project_id,
        kind=kind,
        period_start=period_start,
        period_end=published_on,
        channel="慈善中国",
        url="https://cszg.mca.gov.cn/example",
        effective_on=published_on,
    )
    (position,) = receipt.positions
    return position


def rows_of(report: DisclosureReport, project_id: UUID | None = None) -> list[Row]:
    """The report's obligations as (kind, due on, status, days late), optionally of one project."""
    return [
        (row.kind, row.due_on, row.status, row.days_late)
        for row in report.rows
        if project_id is None or row.project_id == project_id
    ]


def twelve_month_project(ledger: AidLedger) -> tuple[UUID, int, int]:
    """A charity's project 2019-01-15 → 2020-01-15 with a progress report on time (04-10) and one late (07-25)."""
    charity = register_charity(ledger)
    project = register_project(ledger, charity, planned_start="2019-01-15", planned_end="2020-01-15")
    ledger.start_project(project_id=project, effective_on="2019-01-15")
    on_time = publish(ledger, project, "progress", "2019-04-10", "2019-01-15")
    late = publish(ledger, project, "progress", "2019-07-25", "2019-04-16")
    return project, on_time, late


# Windows close 2019-04-15, 07-15, 10-15 (the fourth, 2020-01-15, is not before the end: the final
# report replaces it); the final report opens 2020-01-15 and is due 2020-04-15. The 07-25 report is
# 10 days late for the window due 07-15 and falls inside the next window (opened 07-16), meeting it.
TWELVE_MONTH_CASES: list[tuple[str, list[Row]]] = [
    (
        "2019-03-01",
        [
            ("progress", date(2019, 4, 15), "due", 0),
            ("progress", date(2019, 7, 15), "upcoming", 0),
            ("progress", date(2019, 10, 15), "upcoming", 0),
            ("final", date(2020, 4, 15), "upcoming", 0),
        ],
    ),
    (
        "2019-04-15",
        [
            ("progress", date(2019, 4, 15), "met", 0),
            ("progress", date(2019, 7, 15), "upcoming", 0),
            ("progress", date(2019, 10, 15), "upcoming", 0),
            ("final", date(2020, 4, 15), "upcoming", 0),
        ],
    ),
    (
        "2019-07-20",
        [
            ("progress", date(2019, 4, 15), "met", 0),
            ("progress", date(2019, 7, 15), "overdue", 5),
            ("progress", date(2019, 10, 15), "due", 0),
            ("final", date(2020, 4, 15), "upcoming", 0),
        ],
    ),
    (
        "2019-08-01",
        [
            ("progress", date(2019, 4, 15), "met", 0),
            ("progress", date(2019, 7, 15), "met_late", 10),
            ("progress", date(2019, 10, 15), "met", 0),
            ("final", date(2020, 4, 15), "upcoming", 0),
        ],
    ),
    (
        "2020-01-15",
        [
            ("progress", date(2019, 4, 15), "met", 0),
            ("progress", date(2019, 7, 15), "met_late", 10),
            ("progress", date(2019, 10, 15), "met", 0),
            ("final", date(2020, 4, 15), "due", 0),
        ],
    ),
    (
        "2020-05-01",
        [
            ("progress", date(2019, 4, 15), "met", 0),
            ("progress", date(2019, 7, 15), "met_late", 10),
            ("progress", date(2019, 10, 15), "met", 0),
            ("final", date(2020, 4, 15), "overdue", 16),
        ],
    ),
]


def test_twelve_month_project_of_a_public_fundraising_charity_has_hand_computed_statuses(ledger: AidLedger) -> None:
    """One on-time and one late progress report give, on each date, the due dates and statuses computed by hand."""
    project, _, _ = twelve_month_project(ledger)
    for on, expected in TWELVE_MONTH_CASES:
        report = projections.disclosure_status(ledger, on)
        assert rows_of(report, project) == expected, on
        assert report.findings == ()
        assert report.on == date.fromisoformat(on)
        assert sum(report.summary.values()) == len(report.rows) == 4


def test_each_row_names_its_rule_set_policy_window_and_the_disclosure_that_met_it(ledger: AidLedger) -> None:
    """Rows carry Order 61 (due before 2026), the statutory policy, their windows and the meeting event's position."""
    project, on_time, late = twelve_month_project(ledger)
    report = projections.disclosure_status(ledger, "2019-08-01")
    first, second, third, final = report.rows
    assert {(row.rule_set, row.policy) for row in report.rows} == {(ORDER_61, "statutory")}
    assert (first.opens_on, first.period_start, first.period_end) == (
        date(2019, 1, 15),
        date(2019, 1, 15),
        date(2019, 4, 15),
    )
    assert (second.opens_on, third.opens_on) == (date(2019, 4, 16), date(2019, 7, 16))
    assert (final.opens_on, final.period_start, final.period_end) == (
        date(2020, 1, 15),
        date(2019, 1, 15),
        date(2020, 1, 15),
    )
    assert [row.met_by_position for row in report.rows] == [on_time, late, late, None]
    assert report.summary == {"met": 2, "met_late": 1, "upcoming": 1}
    assert {row.project_id for row in report.rows} == {project}


def test_a_disclosure_recorded_later_does_not_count_as_of_an_earlier_position(ledger: AidLedger) -> None:
    """As of the position before the late report was recorded, its window is overdue 17 days on 2019-08-01."""
    project, _, late = twelve_month_project(ledger)
    report = projections.disclosure_status(ledger, "2019-08-01", position=late - 1)
    assert rows_of(report, project)[1:3] == [
        ("progress", date(2019, 7, 15), "overdue", 17),
        ("progress", date(2019, 10, 15), "due", 0),
    ]
    assert report.coordinates.position == late - 1


def test_project_starting_on_31_august_has_month_end_due_dates(ledger: AidLedger) -> None:
    """2018-08-31 → 2019-12-31: progress due 11-30, 02-28, 05-31, 08-31, 11-30; final 2020-03-31."""
    charity = register_charity(ledger)
    project = register_project(ledger, charity, planned_start="2018-08-31", planned_end="2019-12-31")
    report = projections.disclosure_status(ledger, "2018-09-01")
    assert [(kind, due) for kind, due, _, _ in rows_of(report, project)] == [
        ("progress", date(2018, 11, 30)),
        ("progress", date(2019, 2, 28)),
        ("progress", date(2019, 5, 31)),
        ("progress", date(2019, 8, 31)),
        ("progress", date(2019, 11, 30)),
        ("final", date(2020, 3, 31)),
    ]


def test_cancelled_project_owes_the_windows_before_cancellation_and_a_final_report_after_it(ledger: AidLedger) -> None:
    """Started 2019-03-01, cancelled 2019-09-10: progress due 06-01 and 09-01, final due 2019-12-10."""
    charity = register_charity(ledger)
    project = register_project(ledger, charity, planned_start="2019-03-01", planned_end="2020-02-29")
    ledger.start_project(project_id=project, effective_on="2019-03-01")
    ledger.cancel_project(project_id=project, reason="县里另有安排", effective_on="2019-09-10")
    report = projections.disclosure_status(ledger, "2019-12-11")
    assert rows_of(report, project) == [
        ("progress", date(2019, 6, 1), "overdue", 193),
        ("progress", date(2019, 9, 1), "overdue", 101),
        ("final", date(2019, 12, 10), "overdue", 1),
    ]
    before_cancelling = projections.disclosure_status(ledger, "2019-09-09")
    assert [due for _, due, _, _ in rows_of(before_cancelling, project)][-1] == date(2020, 5, 29)


def test_project_completed_before_its_first_progress_report_owes_only_the_final_report(ledger: AidLedger) -> None:
    """Planned 2019-01-15 → 2019-12-31, completed 2019-04-10: no progress window closed; final due 2019-07-10."""
    charity = register_charity(ledger)
    project = register_project(ledger, charity, planned_start="2019-01-15", planned_end="2019-12-31")
    ledger.complete_project(project_id=project, effective_on="2019-04-10")
    report = projections.disclosure_status(ledger, "2019-07-10")
    assert rows_of(report, project) == [("final", date(2019, 7, 10), "due", 0)]


def test_project_straddling_2026_has_obligations_under_each_rule_set_by_due_date(ledger: AidLedger) -> None:
    """2025-07-15 → 2026-09-30: the window due 2025-10-15 is Order 61's; the rest and the final are Order 81's."""
    charity = register_charity(ledger)
    project = register_project(ledger, charity, planned_start="2025-07-15", planned_end="2026-09-30")
    report = projections.disclosure_status(ledger, "2025-08-01")
    assert [(row.kind, row.due_on, row.rule_set) for row in report.rows if row.project_id == project] == [
        ("progress", date(2025, 10, 15), ORDER_61),
        ("progress", date(2026, 1, 15), ORDER_81),
        ("progress", date(2026, 4, 15), ORDER_81),
        ("progress", date(2026, 7, 15), ORDER_81),
        ("final", date(2026, 12, 30), ORDER_81),
    ]


def test_non_charity_project_owes_nothing_under_the_statute_but_does_under_its_campaign_policy(
    ledger: AidLedger,
) -> None:
    """An association's campaign project: no rows by statute; by the campaign, 04-01, 07-01, 10-01, final 2020-03-31."""
    association = register_organization(
        ledger, name="张家口市工商联", kind="social_group", level="municipal", home_region="130700"
    )
    tagged = register_project(
        ledger, association, campaigns=("jjj-2018",), planned_start="2019-01-01", planned_end="2019-12-31"
    )
    register_project(
        ledger,
        association,
        title="未参加行动的项目",
        campaigns=(),
        planned_start="2019-01-01",
        planned_end="2019-12-31",
    )
    statutory = projections.disclosure_status(ledger, "2019-05-01")
    assert (statutory.rows, statutory.summary, statutory.policies) == ((), {}, ("statutory",))
    campaign = projections.disclosure_status(
        ledger, "2019-05-01", campaign_policy=DisclosurePolicy.campaign("jjj-2018")
    )
    assert rows_of(campaign) == [
        ("progress", date(2019, 4, 1), "overdue", 30),
        ("progress", date(2019, 7, 1), "due", 0),
        ("progress", date(2019, 10, 1), "upcoming", 0),
        ("final", date(2020, 3, 31), "upcoming", 0),
    ]
    assert {(row.project_id, row.policy) for row in campaign.rows} == {(tagged, "jjj-2018")}
    assert campaign.policies == ("statutory", "jjj-2018")


def test_campaign_policy_of_another_campaign_binds_nothing(ledger: AidLedger) -> None:
    """A policy named for a campaign the project is not tagged with leaves the non-charity project without duties."""
    association = register_organization(ledger, kind="social_group")
    register_project(ledger, association, campaigns=("百县千社",))
    report = projections.disclosure_status(ledger, "2018-12-31", campaign_policy=DisclosurePolicy.campaign("jjj-2018"))
    assert report.rows == ()


def test_qualification_gained_after_the_start_adds_no_statutory_duty(ledger: AidLedger) -> None:
    """Duties attach at the start: qualified from 2019-06-01, a project begun 2019-01-15 owes nothing."""
    charity = register_charity(ledger, public_fundraising_from="2019-06-01")
    before = register_project(ledger, charity, title="资格前项目", planned_start="2019-01-15", planned_end="2020-01-15")
    after = register_project(ledger, charity, title="资格后项目", planned_start="2019-07-01", planned_end="2019-12-31")
    report = projections.disclosure_status(ledger, "2019-12-31")
    assert rows_of(report, before) == []
    assert [kind for kind, _, _, _ in rows_of(report, after)] == ["final"]


def test_impossible_project_dates_are_a_finding_not_an_exception(ledger: AidLedger) -> None:
    """A project completed before its start is reported in findings; other projects' obligations still appear."""
    charity = register_charity(ledger)
    broken = register_project(
        ledger, charity, title="日期矛盾的项目", planned_start="2019-03-01", planned_end="2019-12-31"
    )
    ledger.complete_project(project_id=broken, effective_on="2019-02-01")
    sound = register_project(ledger, charity, title="正常项目", planned_start="2019-01-15", planned_end="2020-01-15")
    report = projections.disclosure_status(ledger, "2019-12-31")
    (finding,) = report.findings
    assert str(broken) in finding
    assert "日期矛盾的项目" in finding
    assert "before its start" in finding
    assert {row.project_id for row in report.rows} == {sound}
    assert projections.disclosure_status(ledger, "2019-01-31").findings == ()


def test_disclosure_report_is_reproducible_byte_for_byte(ledger: AidLedger) -> None:
    """The same history and date give the same canonical bytes and digest."""
    twelve_month_project(ledger)
    first = projections.disclosure_status(ledger, "2019-08-01")
    second = projections.disclosure_status(ledger, date(2019, 8, 1))
    assert first.canonical() == second.canonical()
    assert len(first.digest) == 64


def test_a_project_owes_nothing_on_dates_before_its_registration(ledger: AidLedger) -> None:
    """Registered (effective) 2025-03-01 for 2019-2020 work: absent on 2019-12-15 and 2025-02-28, listed from 03-01."""
    charity = register_charity(ledger)
    project = register_project(
        ledger, charity, planned_start="2019-07-01", planned_end="2020-06-30", effective_on="2025-03-01"
    )
    for on in ("2019-12-15", "2025-02-28"):
        report = projections.disclosure_status(ledger, on)
        assert (report.rows, report.summary, report.findings) == ((), {}, ()), on
    registered = projections.disclosure_status(ledger, "2025-03-01")
    assert [kind for kind, _, _, _ in rows_of(registered, project)] == ["progress"] * 3 + ["final"]
