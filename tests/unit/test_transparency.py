"""Transparency views: public pages per project, organization and county, as data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from tests.ledger_fixtures import disburse, make_pledge, register_organization, register_project

from aidledger import AidLedger, projections
from aidledger.errors import InvalidInput, NotFound
from aidledger.projections import CountyPage, OrganizationPage, ProjectPage
from aidledger.projections.totals import ANONYMOUS

SECRET_NAME = "隐名善心基金会"
"""The anonymous donor's name: it must never appear on a public page."""


@dataclass(frozen=True)
class AnonymousHistory:
    """A county project with an anonymous donor (through a channel) and a named one."""

    implementer: UUID
    channel: UUID
    anonymous_donor: UUID
    named_donor: UUID
    project: UUID
    anonymous_pledge: UUID
    named_pledge_of_anonymous_donor: UUID


def record_anonymous_history(ledger: AidLedger) -> AnonymousHistory:
    """The anonymous donor pledges 1,000 anonymously via a channel, and 200 under its name to another project."""
    implementer = register_organization(
        ledger, name="张北县扶贫开发协会", kind="social_group", level="county", home_region="130722"
    )
    channel = register_organization(
        ledger, name="某县慈善会", kind="social_group", level="county", home_region="130722"
    )
    anonymous_donor = register_organization(ledger, name=SECRET_NAME, level="national", home_region="110000")
    named_donor = register_organization(ledger, name="河北省光彩事业促进会", kind="social_group")
    project = register_project(ledger, implementer)
    elsewhere = register_project(ledger, implementer, title="承德县助学", region="130821")
    anonymous_pledge = make_pledge(ledger, anonymous_donor, project, "1000.00", anonymous=True, channel_id=channel)
    paid = disburse(ledger, anonymous_pledge, "600.00")
    ledger.confirm_disbursement(disbursement_id=paid, effective_on="2018-04-20")
    make_pledge(ledger, named_donor, project, "500.00")
    named = make_pledge(ledger, anonymous_donor, elsewhere, "200.00")
    return AnonymousHistory(implementer, channel, anonymous_donor, named_donor, project, anonymous_pledge, named)


def test_anonymous_donor_is_never_named_on_project_county_or_other_organization_pages(ledger: AidLedger) -> None:
    """Neither the anonymous donor's name nor its id appears in the canonical JSON of any page showing the pledge."""
    history = record_anonymous_history(ledger)
    pages = [
        projections.transparency(ledger, "project", history.project),
        projections.transparency(ledger, "project", history.project, effective_on="2018-04-15"),
        projections.transparency(ledger, "county", "130722"),
        projections.transparency(ledger, "organization", history.implementer, on="2018-12-31"),
        projections.transparency(ledger, "organization", history.channel),
        projections.transparency(ledger, "organization", history.named_donor),
    ]
    for page in pages:
        data = page.canonical()
        assert SECRET_NAME.encode() not in data, page.report
        assert str(history.anonymous_donor)[:8].encode() not in data, page.report
    project_page = pages[0]
    assert isinstance(project_page, ProjectPage)
    anonymous_line = next(line for line in project_page.pledges if line.pledge_id == history.anonymous_pledge)
    assert (anonymous_line.donor_id, anonymous_line.columns["net_disbursed"]) == (None, Decimal("600.00"))
    assert anonymous_line.donor == ANONYMOUS


def test_anonymous_pledge_is_left_off_the_donors_own_page(ledger: AidLedger) -> None:
    """The donor's page lists its named pledge only; its totals leave the anonymous 1,000 out."""
    history = record_anonymous_history(ledger)
    page = projections.transparency(ledger, "organization", history.anonymous_donor)
    assert isinstance(page, OrganizationPage)
    assert page.name == SECRET_NAME
    assert [line.pledge_id for line in page.pledges] == [history.named_pledge_of_anonymous_donor]
    assert str(history.anonymous_pledge).encode() not in page.canonical()
    (totals,) = page.totals
    assert totals.columns["signed"] == Decimal("200.00")


def test_fulfilment_rate_is_net_disbursed_over_signed_on_an_organization_page(ledger: AidLedger) -> None:
    """2,500 net (returns and reversals out) of 20,000 signed is 0.1250; intended pledges are not in the divisor."""
    donor = register_organization(ledger)
    project = register_project(ledger, donor)
    signed = make_pledge(ledger, donor, project, "20000.00")
    make_pledge(ledger, donor, project, "5000.00", stage="intended")
    disburse(ledger, signed, "2500.00")
    returned = disburse(ledger, signed, "19.00")
    ledger.return_disbursement(disbursement_id=returned, amount="19.00", reason="余款", effective_on="2018-05-01")
    mistaken = disburse(ledger, signed, "31.00")
    ledger.reverse_disbursement(disbursement_id=mistaken, reason="重复录入", effective_on="2018-05-02")
    page = projections.transparency(ledger, "organization", donor)
    assert isinstance(page, OrganizationPage)
    (totals,) = page.totals
    assert (totals.columns["signed"], totals.columns["net_disbursed"]) == (Decimal("20000.00"), Decimal("2500.00"))
    assert totals.fulfilment_rate == Decimal("0.1250")
    ledger.amend_pledge(pledge_id=signed, amount="20250.00", reason="补充协议", effective_on="2018-05-03")
    page = projections.transparency(ledger, "organization", donor)
    assert isinstance(page, OrganizationPage)
    assert page.totals[0].fulfilment_rate == Decimal("0.1235")  # 2500 / 20250 = 0.12345679...


def test_fulfilment_rate_rounds_an_exact_half_to_the_even_digit(ledger: AidLedger) -> None:
    """0.12345 exactly becomes 0.1234, and 0.12355 becomes 0.1236: ties go to the even last digit."""
    donor = register_organization(ledger)
    project = register_project(ledger, donor)
    low = make_pledge(ledger, donor, project, "20000.00")
    disburse(ledger, low, "2469.00")
    other = register_organization(ledger, name="另一基金会")
    high = make_pledge(ledger, other, project, "20000.00")
    disburse(ledger, high, "2471.00")
    rates = {}
    for organization in (donor, other):
        page = projections.transparency(ledger, "organization", organization)
        assert isinstance(page, OrganizationPage)
        rates[organization] = page.totals[0].fulfilment_rate
    assert rates == {donor: Decimal("0.1234"), other: Decimal("0.1236")}


def test_fulfilment_rate_is_none_when_nothing_was_signed(ledger: AidLedger) -> None:
    """An organization with only intended pledges has no fulfilment rate (no division by zero)."""
    donor = register_organization(ledger)
    project = register_project(ledger, donor)
    make_pledge(ledger, donor, project, "100.00", stage="intended")
    page = projections.transparency(ledger, "organization", donor)
    assert isinstance(page, OrganizationPage)
    assert page.totals[0].fulfilment_rate is None


def test_project_timeline_is_dated_and_ordered_by_date_whatever_the_recording_order(ledger: AidLedger) -> None:
    """Every entry has a date; entries run by date then position, though commands were recorded out of date order."""
    donor = register_organization(ledger)
    project = register_project(ledger, donor, planned_start="2018-03-01", planned_end="2019-06-30")
    ledger.start_project(project_id=project, effective_on="2018-03-01")
    pledge = make_pledge(ledger, donor, project, "1000.00", stage="intended", effective_on="2018-02-20")
    ledger.sign_pledge(pledge_id=pledge, effective_on="2018-03-10")
    paid = disburse(ledger, pledge, "400.00", effective_on="2018-04-10")
    ledger.record_disclosure(
        project_id=project,
        kind="progress",
        period_start="2018-03-01",
        period_end="2018-05-31",
        channel="慈善中国",
        effective_on="2018-05-31",
    )
    ledger.confirm_disbursement(disbursement_id=paid, effective_on="2018-04-15")
    ledger.report_beneficiaries(project_id=project, person_times=120, households=30, effective_on="2018-04-30")
    ledger.complete_project(project_id=project, effective_on="2019-06-30")
    page = projections.transparency(ledger, "project", project)
    assert isinstance(page, ProjectPage)
    timeline = [(entry.effective_on, entry.event) for entry in page.timeline]
    assert timeline == [
        (date(2018, 2, 1), "registered"),
        (date(2018, 2, 20), "intended"),
        (date(2018, 3, 1), "started"),
        (date(2018, 3, 10), "signed"),
        (date(2018, 4, 10), "disbursed"),
        (date(2018, 4, 15), "confirmed"),
        (date(2018, 4, 30), "beneficiaries"),
        (date(2018, 5, 31), "disclosed"),
        (date(2019, 6, 30), "completed"),
    ]
    keys = [(entry.effective_on, entry.position) for entry in page.timeline]
    assert keys == sorted(keys)
    assert page.status == "completed"
    assert page.beneficiaries == {"as_of": date(2018, 4, 30), "person_times": 120, "households": 30, "persons": None}


def test_project_page_as_of_an_earlier_date_shows_what_stood_then(ledger: AidLedger) -> None:
    """On 2018-04-01 the project is started, its pledge is signed and nothing is disbursed."""
    donor = register_organization(ledger)
    project = register_project(ledger, donor)
    ledger.start_project(project_id=project, effective_on="2018-03-01")
    pledge = make_pledge(ledger, donor, project, "1000.00")
    disburse(ledger, pledge, "400.00", effective_on="2018-04-10")
    ledger.complete_project(project_id=project, effective_on="2018-12-31")
    page = projections.transparency(ledger, "project", project, effective_on="2018-04-01")
    assert isinstance(page, ProjectPage)
    assert page.status == "started"
    assert page.totals[0].columns["disbursed"] == 0
    assert all(entry.effective_on <= date(2018, 4, 1) for entry in page.timeline)


def test_county_page_shows_inflows_by_donor_level_that_add_up_to_the_county_total(ledger: AidLedger) -> None:
    """Inflows into 130722 by level sum to the county's total; the anonymous pledge's level is not shown."""
    history = record_anonymous_history(ledger)
    page = projections.transparency(ledger, "county", "130722")
    assert isinstance(page, CountyPage)
    assert [p["project_id"] for p in page.projects] == [history.project]
    by_level = {level: totals[0].columns["pledged"] for level, totals in page.by_donor_level.items()}
    assert by_level == {ANONYMOUS: Decimal("1000.00"), "provincial": Decimal("500.00")}
    assert sum(by_level.values()) == page.totals[0].columns["pledged"] == Decimal("1500.00")
    by_kind = {kind: totals[0].columns["pledged"] for kind, totals in page.by_donor_kind.items()}
    assert by_kind == {ANONYMOUS: Decimal("1000.00"), "social_group": Decimal("500.00")}
    by_donor = {donor: totals[0].columns["pledged"] for donor, totals in page.by_donor.items()}
    assert by_donor[ANONYMOUS] == Decimal("1000.00")
    assert sum(by_donor.values()) == Decimal("1500.00")


def test_unknown_subjects_are_not_found_and_bad_kinds_are_invalid(ledger: AidLedger) -> None:
    """An id not in the ledger raises NotFound; an unknown kind or a malformed id raises InvalidInput."""
    with pytest.raises(NotFound):
        projections.transparency(ledger, "project", uuid4())
    with pytest.raises(NotFound):
        projections.transparency(ledger, "organization", uuid4())
    with pytest.raises(InvalidInput):
        projections.transparency(ledger, "donor", uuid4())
    with pytest.raises(InvalidInput):
        projections.transparency(ledger, "project", "not-a-uuid")


def test_project_registered_after_a_position_is_not_found_as_of_that_position(ledger: AidLedger) -> None:
    """As of a position before its registration, a project has no public page yet."""
    donor = register_organization(ledger)
    position = ledger.position()
    project = register_project(ledger, donor)
    with pytest.raises(NotFound):
        projections.transparency(ledger, "project", project, position=position)


def test_organization_page_with_a_disclosure_record_survives_impossible_project_dates(ledger: AidLedger) -> None:
    """A project completed before its planned start does not make the implementer's page raise."""
    charity = register_organization(ledger, charity=True, public_fundraising=True)
    project = register_project(ledger, charity, planned_start="2019-03-01", planned_end="2019-12-31")
    ledger.complete_project(project_id=project, effective_on="2019-02-01")
    page = projections.transparency(ledger, "organization", charity, on="2019-12-31")
    assert isinstance(page, OrganizationPage)
    assert page.disclosure_record == {"unreadable": 1}


def test_an_organization_s_disclosure_record_leaves_out_projects_not_yet_registered(ledger: AidLedger) -> None:
    """As in the disclosure report, a project registered (effective) 2025-03-01 owes nothing on 2019-12-15."""
    charity = register_organization(
        ledger, charity=True, charity_since="2017-01-01", public_fundraising=True, public_fundraising_from="2017-06-01"
    )
    register_project(ledger, charity, planned_start="2019-07-01", planned_end="2020-06-30", effective_on="2025-03-01")
    page = projections.transparency(ledger, "organization", charity, on="2019-12-15")
    assert isinstance(page, OrganizationPage)
    assert page.disclosure_record == {}
    later = projections.transparency(ledger, "organization", charity, on="2025-03-01")
    assert isinstance(later, OrganizationPage)
    assert sum(later.disclosure_record.values()) == 4


@pytest.mark.parametrize("effective_on", [None, "2018-03-31"])
def test_pages_made_with_a_shared_index_are_the_pages_made_alone(ledger: AidLedger, effective_on: str | None) -> None:
    """A PageIndex built once for many pages changes no page: each is byte for byte the one made alone."""
    history = record_anonymous_history(ledger)
    fold = projections.fold_of(ledger)
    index = projections.PageIndex(fold, projections.as_of(effective_on=effective_on))
    subjects: list[tuple[str, UUID | str]] = [
        ("project", history.project), ("county", "130722"),
        ("organization", history.named_donor), ("organization", history.implementer),
    ]  # fmt: skip
    for kind, subject in subjects:
        shared = projections.transparency(fold, kind, subject, on="2018-12-31", effective_on=effective_on, index=index)
        alone = projections.transparency(ledger, kind, subject, on="2018-12-31", effective_on=effective_on)
        assert shared.canonical() == alone.canonical(), (kind, subject)


def test_an_index_of_other_coordinates_is_refused(ledger: AidLedger) -> None:
    """Passing an index made at other coordinates is a programmer's error, caught, never a wrong page."""
    history = record_anonymous_history(ledger)
    index = projections.PageIndex(projections.fold_of(ledger), projections.as_of(effective_on="2018-01-01"))
    with pytest.raises(AssertionError, match="PageIndex"):
        projections.transparency(ledger, "project", history.project, index=index)
