"""Totals: the counting rules of DESIGN §3 and the as-of coordinates of §4, on every store.

Figures are computed by hand from small histories, or checked as laws (conservation, rows adding
up to the grand total, outstanding = signed − net disbursed) over seeded random histories.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.ledger_fixtures import (
    disburse,
    make_pledge,
    register_organization,
    register_project,
    set_up_pledge,
)
from tests.projection_helpers import RandomHistory, column_sum, record_pooled_history, rows_where

from aidledger import AidLedger, projections
from aidledger.errors import EffectiveDateOutOfOrder, InvalidInput
from aidledger.projections import COLUMNS, DIMENSIONS, TotalsReport
from aidledger.projections.fold import BASE_COLUMNS

ZERO = Decimal("0.00")
CONSERVED = (*BASE_COLUMNS, "pledged")
SINGLE_VALUED = tuple(name for name in DIMENSIONS if name != "campaign")


def grand(report: TotalsReport, currency: str = "CNY") -> dict[str, Decimal]:
    """The grand-total columns of one currency."""
    (row,) = [row for row in report.totals if row.currency == currency]
    return row.columns


def assert_conserved(ledger: AidLedger, **as_of: Any) -> None:
    """new = leaf projects + (pooled funds − regrants), per currency, for every conserved column."""
    by_origin = projections.totals(ledger, ("origin",), **as_of)
    by_destination = projections.totals(ledger, ("destination",), **as_of)
    currencies = {row.currency for row in by_origin.totals}
    for currency in currencies:
        for column in CONSERVED:
            new = column_sum(rows_where(by_origin, currency, origin="new"), column)
            regrant = column_sum(rows_where(by_origin, currency, origin="regrant"), column)
            leaf = column_sum(rows_where(by_destination, currency, destination="project"), column)
            pooled = column_sum(rows_where(by_destination, currency, destination="pooled_fund"), column)
            assert new == leaf + (pooled - regrant), (currency, column)


# -- conservation ------------------------------------------------------------------------------


def test_conservation_law_holds_for_every_column_with_a_pooled_fund_and_regrants(ledger: AidLedger) -> None:
    """New money (14,000) = leaf projects (9,500) + what the pool still holds (10,000 − 5,500), and so on per column."""
    record_pooled_history(ledger)
    by_origin = projections.totals(ledger, ("origin",))
    by_destination = projections.totals(ledger, ("destination",))
    assert column_sum(rows_where(by_origin, origin="new"), "pledged") == Decimal("14000.00")
    assert column_sum(rows_where(by_origin, origin="regrant"), "pledged") == Decimal("5500.00")
    assert column_sum(rows_where(by_destination, destination="project"), "pledged") == Decimal("9500.00")
    assert column_sum(rows_where(by_destination, destination="pooled_fund"), "pledged") == Decimal("10000.00")
    assert column_sum(rows_where(by_origin, origin="new"), "disbursed") == Decimal("7000.00")
    assert column_sum(rows_where(by_destination, destination="project"), "disbursed") == Decimal("2200.00")
    assert column_sum(rows_where(by_origin, origin="regrant"), "intended") == Decimal("2500.00")
    assert_conserved(ledger)


def test_grand_total_counts_new_money_once_not_the_regrants_passed_on(ledger: AidLedger) -> None:
    """The grand total's pledged figure adds every pledge once; new money alone is pledges without funded_from."""
    record_pooled_history(ledger)
    report = projections.totals(ledger, ("origin",))
    assert grand(report)["pledged"] == Decimal("19500.00")
    assert column_sum(rows_where(report, origin="new"), "pledged") == Decimal("14000.00")


def test_conservation_law_holds_on_random_histories_at_every_coordinate(ledger: AidLedger) -> None:
    """On random histories with pools and regrants the law holds now, at an earlier position and an earlier date."""
    history = RandomHistory(ledger, seed=3)
    for _ in range(3):
        history.run(60)
        assert_conserved(ledger)
        assert_conserved(ledger, position=ledger.position() // 2)
        assert_conserved(ledger, effective_on="2018-10-31")
    assert history.stored["regrant"] > 0


# -- rows add up ---------------------------------------------------------------------------------


def test_every_single_dimension_grouping_adds_up_to_the_grand_total(ledger: AidLedger) -> None:
    """For each single-valued dimension, each currency's rows sum to its grand total in every column."""
    RandomHistory(ledger, seed=13).run(150)
    for dimension in SINGLE_VALUED:
        report = projections.totals(ledger, (dimension,))
        assert report.totals, dimension
        for total in report.totals:
            rows = [row for row in report.rows if row.currency == total.currency]
            for column in COLUMNS:
                assert column_sum(rows, column) == total.columns[column], (dimension, total.currency, column)


def test_a_project_in_two_campaigns_appears_in_both_campaign_rows(ledger: AidLedger) -> None:
    """Campaign is multi-valued: a pledge to a project in two campaigns counts in each row, once in the total."""
    organization = register_organization(ledger)
    project = register_project(ledger, organization, campaigns=("百县千社", "jjj-2018"))
    make_pledge(ledger, organization, project, "700.00")
    report = projections.totals(ledger, ("campaign",))
    assert {row.key["campaign"]: row.columns["pledged"] for row in report.rows} == {
        "jjj-2018": Decimal("700.00"),
        "百县千社": Decimal("700.00"),
    }
    assert grand(report)["pledged"] == Decimal("700.00")


# -- the counting rules ---------------------------------------------------------------------------


def test_person_times_and_households_are_kept_apart_and_the_latest_report_stands(ledger: AidLedger) -> None:
    """Beneficiary reports are cumulative: the latest counts; person-times and households are never added together."""
    organization = register_organization(ledger)
    school = register_project(ledger, organization, title="希望小学")
    clinic = register_project(ledger, organization, title="卫生室", region="130821")
    make_pledge(ledger, organization, school, "100.00")
    make_pledge(ledger, organization, clinic, "100.00")
    ledger.report_beneficiaries(project_id=school, person_times=1200, households=300, effective_on="2018-06-30")
    ledger.report_beneficiaries(project_id=school, person_times=1500, households=320, effective_on="2018-09-30")
    ledger.report_beneficiaries(project_id=clinic, person_times=40, persons=25, effective_on="2018-07-01")
    (row,) = projections.totals(ledger).totals
    assert (row.person_times, row.households, row.persons) == (1540, 320, 25)
    (earlier,) = projections.totals(ledger, effective_on="2018-08-01").totals
    assert (earlier.person_times, earlier.households, earlier.persons) == (1240, 300, 25)
    by_county = {row.key["county"]: row.person_times for row in projections.totals(ledger, ("county",)).rows}
    assert by_county == {"130722": 1500, "130821": 40}


def test_two_currencies_are_never_added(ledger: AidLedger) -> None:
    """A USD pledge gets its own row and grand total; the CNY figures do not include it."""
    pledged = set_up_pledge(ledger, "1000.00")
    make_pledge(ledger, pledged.organization_id, pledged.project_id, {"value": "99.99", "currency": "USD"})
    report = projections.totals(ledger, ("project",))
    assert [(row.currency, row.columns["pledged"]) for row in report.rows] == [
        ("CNY", Decimal("1000.00")),
        ("USD", Decimal("99.99")),
    ]
    assert {row.currency: row.columns["signed"] for row in report.totals} == {
        "CNY": Decimal("1000.00"),
        "USD": Decimal("99.99"),
    }


def test_withdrawn_pledge_counts_nothing_pledged_and_its_current_amount_as_withdrawn(ledger: AidLedger) -> None:
    """After an amendment to 1,200 and a withdrawal: pledged 0, withdrawn 1,200, and the project is not counted."""
    pledged = set_up_pledge(ledger, "1000.00", stage="intended")
    ledger.amend_pledge(pledge_id=pledged.pledge_id, amount="1200.00", reason="补充协议", effective_on="2018-03-10")
    ledger.withdraw_pledge(pledge_id=pledged.pledge_id, reason="董事会未批准", effective_on="2018-04-01")
    (row,) = projections.totals(ledger).totals
    assert (row.columns["intended"], row.columns["signed"], row.columns["pledged"]) == (ZERO, ZERO, ZERO)
    assert row.columns["withdrawn"] == Decimal("1200.00")
    assert (row.pledges, row.projects, row.organizations, row.counties) == (0, 0, 0, 0)


def test_reversed_disbursement_leaves_net_disbursed_as_it_was_before_it(ledger: AidLedger) -> None:
    """A reversal (it never happened) takes net disbursed back; disbursed stays gross and reversed shows it."""
    pledged = set_up_pledge(ledger, "1000.00")
    disburse(ledger, pledged.pledge_id, "400.00")
    before = grand(projections.totals(ledger))
    mistaken = disburse(ledger, pledged.pledge_id, "100.00", effective_on="2018-04-11")
    ledger.reverse_disbursement(disbursement_id=mistaken, reason="重复录入", effective_on="2018-04-12")
    after = grand(projections.totals(ledger))
    assert after["net_disbursed"] == before["net_disbursed"] == Decimal("400.00")
    assert (after["disbursed"], after["reversed"]) == (Decimal("500.00"), Decimal("100.00"))
    assert after["outstanding"] == before["outstanding"] == Decimal("600.00")


def test_confirmed_counts_only_confirmed_disbursements_that_were_not_reversed(ledger: AidLedger) -> None:
    """Confirmed then reversed counts 0 confirmed; the other confirmed one counts; an unconfirmed one does not."""
    pledged = set_up_pledge(ledger, "1000.00")
    kept = disburse(ledger, pledged.pledge_id, "300.00")
    mistaken = disburse(ledger, pledged.pledge_id, "200.00")
    disburse(ledger, pledged.pledge_id, "50.00")
    ledger.confirm_disbursement(disbursement_id=kept, effective_on="2018-04-20")
    ledger.confirm_disbursement(disbursement_id=mistaken, effective_on="2018-04-20")
    assert grand(projections.totals(ledger))["confirmed"] == Decimal("500.00")
    ledger.reverse_disbursement(disbursement_id=mistaken, reason="重复录入", effective_on="2018-04-25")
    columns = grand(projections.totals(ledger))
    assert columns["confirmed"] == Decimal("300.00")
    assert columns["net_disbursed"] == Decimal("350.00")


def test_returned_money_reduces_net_disbursed_but_not_confirmed(ledger: AidLedger) -> None:
    """A return of 0.50 on a confirmed 400 leaves confirmed 400 and net disbursed 399.50."""
    pledged = set_up_pledge(ledger, "1000.00")
    paid = disburse(ledger, pledged.pledge_id, "400.00")
    ledger.confirm_disbursement(disbursement_id=paid, effective_on="2018-04-20")
    ledger.return_disbursement(disbursement_id=paid, amount="0.50", reason="余款", effective_on="2018-07-01")
    columns = grand(projections.totals(ledger))
    assert (columns["confirmed"], columns["returned"]) == (Decimal("400.00"), Decimal("0.50"))
    assert (columns["net_disbursed"], columns["outstanding"]) == (Decimal("399.50"), Decimal("600.50"))


def test_outstanding_is_signed_minus_net_disbursed_in_every_row(ledger: AidLedger) -> None:
    """On a random history every row has outstanding = signed − net disbursed and pledged = intended + signed."""
    RandomHistory(ledger, seed=21).run(150)
    report = projections.totals(ledger, ("donor", "year"))
    for row in (*report.rows, *report.totals):
        columns = row.columns
        assert columns["outstanding"] == columns["signed"] - columns["net_disbursed"]
        assert columns["pledged"] == columns["intended"] + columns["signed"]
        assert columns["net_disbursed"] == columns["disbursed"] - columns["reversed"] - columns["returned"]


def test_signing_moves_a_pledge_from_intended_to_signed_on_the_signing_date(ledger: AidLedger) -> None:
    """Intended until the signing's effective date, signed from then on; pledged is the same on both sides."""
    pledged = set_up_pledge(ledger, "800.00", stage="intended")
    ledger.sign_pledge(pledge_id=pledged.pledge_id, effective_on="2018-05-01")
    april = grand(projections.totals(ledger, effective_on="2018-04-30"))
    may = grand(projections.totals(ledger, effective_on="2018-05-01"))
    assert (april["intended"], april["signed"], april["pledged"]) == (Decimal("800.00"), ZERO, Decimal("800.00"))
    assert (may["intended"], may["signed"], may["pledged"]) == (ZERO, Decimal("800.00"), Decimal("800.00"))


def test_year_groups_pledges_by_their_date_and_disbursements_by_value_date(ledger: AidLedger) -> None:
    """A 2018 pledge paid in 2019 shows its pledged amount under 2018 and its disbursement under 2019."""
    pledged = set_up_pledge(ledger, "1000.00")
    disburse(ledger, pledged.pledge_id, "250.00", effective_on="2019-02-01")
    rows = {row.key["year"]: row.columns for row in projections.totals(ledger, ("year",)).rows}
    assert (rows["2018"]["pledged"], rows["2018"]["disbursed"]) == (Decimal("1000.00"), ZERO)
    assert (rows["2019"]["pledged"], rows["2019"]["disbursed"]) == (ZERO, Decimal("250.00"))


def test_cash_and_in_kind_are_separate_forms(ledger: AidLedger) -> None:
    """Goods pledged with items count under form=in_kind at their assessed value; money under cash."""
    pledged = set_up_pledge(ledger, "1000.00")
    items = ({"description": "冬衣", "quantity": "213", "unit": "件"},)
    make_pledge(ledger, pledged.organization_id, pledged.project_id, "8000.00", items=items)
    rows = {row.key["form"]: row.columns["pledged"] for row in projections.totals(ledger, ("form",)).rows}
    assert rows == {"cash": Decimal("1000.00"), "in_kind": Decimal("8000.00")}


def test_unknown_dimension_is_refused_as_invalid_input(ledger: AidLedger) -> None:
    """Grouping by a name not in DIMENSIONS raises InvalidInput naming it."""
    with pytest.raises(InvalidInput, match="colour"):
        projections.totals(ledger, ("category", "colour"))


# -- as-of coordinates ----------------------------------------------------------------------------


def test_report_as_of_an_earlier_position_equals_the_report_taken_then_after_backdated_corrections(
    ledger: AidLedger,
) -> None:
    """Reports stored at position N equal, byte for byte, reports asked for at position N after later corrections."""
    pledged = set_up_pledge(ledger, "1000.00")
    paid = disburse(ledger, pledged.pledge_id, "400.00", effective_on="2018-04-10")
    ledger.confirm_disbursement(disbursement_id=paid, effective_on="2018-04-20")
    ledger.update_organization(organization_id=pledged.organization_id, level="national", effective_on="2018-05-01")
    position = ledger.position()
    groupings = [(), ("donor_level", "category"), ("county", "year", "form")]
    stored = {grouping: projections.totals(ledger, grouping).canonical() for grouping in groupings}
    stored_page = projections.transparency(ledger, "project", pledged.project_id).canonical()
    stored_disclosure = projections.disclosure_status(ledger, "2019-06-30").canonical()

    ledger.reverse_disbursement(disbursement_id=paid, reason="重复录入", effective_on="2018-04-11")
    ledger.amend_pledge(pledge_id=pledged.pledge_id, amount="1500.00", reason="补充协议", effective_on="2018-03-06")
    ledger.update_organization(organization_id=pledged.organization_id, level="municipal", effective_on="2018-06-01")
    ledger.complete_project(project_id=pledged.project_id, effective_on="2018-12-31")
    assert projections.totals(ledger).canonical() != stored[()]

    for grouping in groupings:
        assert projections.totals(ledger, grouping, position=position).canonical() == stored[grouping]
    page = projections.transparency(ledger, "project", pledged.project_id, position=position)
    assert page.canonical() == stored_page
    assert projections.disclosure_status(ledger, "2019-06-30", position=position).canonical() == stored_disclosure


def test_donor_level_follows_the_profile_as_it_stood_at_the_position(ledger: AidLedger) -> None:
    """A donor promoted from municipal to provincial is counted municipal as of a position before the update."""
    organization = register_organization(ledger, level="municipal", home_region="130700")
    project = register_project(ledger, organization)
    make_pledge(ledger, organization, project, "300.00")
    position = ledger.position()
    ledger.update_organization(organization_id=organization, level="provincial", effective_on="2018-06-01")
    now = projections.totals(ledger, ("donor_level",))
    then = projections.totals(ledger, ("donor_level",), position=position)
    assert [row.key["donor_level"] for row in now.rows] == ["provincial"]
    assert [row.key["donor_level"] for row in then.rows] == ["municipal"]


def test_effective_on_excludes_facts_dated_later(ledger: AidLedger) -> None:
    """As of 2018-04-01 the pledge of 2018-03-05 counts and the disbursement of 2018-04-10 does not."""
    pledged = set_up_pledge(ledger, "1000.00")
    disburse(ledger, pledged.pledge_id, "400.00", effective_on="2018-04-10")
    early = projections.totals(ledger, effective_on="2018-04-01")
    assert grand(early)["signed"] == Decimal("1000.00")
    assert grand(early)["disbursed"] == 0
    assert early.coordinates.effective_on == date(2018, 4, 1)
    assert early.coordinates.position == ledger.position()
    assert projections.totals(ledger, effective_on="2018-03-04").totals == ()
    assert grand(projections.totals(ledger, effective_on="2018-04-10"))["disbursed"] == Decimal("400.00")


def test_recorded_before_a_time_between_two_commands_excludes_the_later_one(ledger: AidLedger) -> None:
    """Only events recorded before the given time count; the time is carried in the coordinates."""
    pledged = set_up_pledge(ledger, "1000.00")
    time.sleep(0.002)
    between = datetime.now(UTC)
    time.sleep(0.002)
    disburse(ledger, pledged.pledge_id, "400.00")
    report = projections.totals(ledger, recorded_before=between)
    assert (grand(report)["signed"], grand(report)["disbursed"]) == (Decimal("1000.00"), ZERO)
    assert report.coordinates.recorded_before == between
    as_text = projections.totals(ledger, recorded_before=between.isoformat())
    assert as_text.canonical() == report.canonical()
    later = projections.totals(ledger, recorded_before=between + timedelta(days=1))
    assert grand(later)["disbursed"] == Decimal("400.00")
    assert projections.totals(ledger, recorded_before="2000-01-01T00:00:00+08:00").totals == ()


BAD_COORDINATES = [
    ("position", -1),
    ("position", True),
    ("position", "3"),
    ("recorded_before", datetime(2018, 9, 1, 12, 0)),
    ("recorded_before", "2018-09-01T00:00"),
    ("recorded_before", "last tuesday"),
    ("effective_on", "2018-02-30"),
    ("effective_on", "2018/08/31"),
    ("effective_on", datetime(2018, 8, 31, 12, 0)),
]


def test_a_bad_coordinate_is_refused_as_invalid_input_by_every_query(ledger: AidLedger) -> None:
    """Negative or non-integer positions, naive times and malformed dates raise InvalidInput naming the coordinate."""
    pledged = set_up_pledge(ledger)
    queries: dict[str, Callable[..., Any]] = {
        "totals": lambda **c: projections.totals(ledger, **c),
        "explain": lambda **c: projections.explain(ledger, "pledged", **c),
        "transparency": lambda **c: projections.transparency(ledger, "project", pledged.project_id, **c),
        "disclosure_status": lambda **c: projections.disclosure_status(ledger, "2019-01-01", **c),
    }
    for coordinate, value in BAD_COORDINATES:
        for name, query in queries.items():
            if name == "disclosure_status" and coordinate == "effective_on":
                continue  # its evaluation date is the effective date (see the next test)
            with pytest.raises(InvalidInput) as caught:
                query(**{coordinate: value})
            assert caught.value.field == coordinate, (name, coordinate, value)


def test_disclosure_status_refuses_a_malformed_evaluation_date(ledger: AidLedger) -> None:
    """The date a disclosure status is evaluated on must be a real calendar date."""
    with pytest.raises(InvalidInput):
        projections.disclosure_status(ledger, "2019-02-29")


# -- found bugs -------------------------------------------------------------------------------------


def test_confirmed_is_never_negative_when_a_reversal_is_dated_before_the_confirmation(ledger: AidLedger) -> None:
    """Disbursed 04-10, confirmed 04-20, reversed (recorded later) as of 04-15: confirmed as of 04-17 is 0, not −100."""
    pledged = set_up_pledge(ledger, "1000.00")
    paid = disburse(ledger, pledged.pledge_id, "100.00", effective_on="2018-04-10")
    ledger.confirm_disbursement(disbursement_id=paid, effective_on="2018-04-20")
    ledger.reverse_disbursement(disbursement_id=paid, reason="重复录入", effective_on="2018-04-15")
    for day in ("2018-04-12", "2018-04-17", "2018-04-25"):
        assert grand(projections.totals(ledger, effective_on=day))["confirmed"] >= 0, day


def test_a_withdrawal_dated_before_the_signing_is_refused_so_no_column_goes_negative(ledger: AidLedger) -> None:
    """Made intended 03-05, signed 05-01: a withdrawal effective 04-01 is refused; on 04-15 no column is negative."""
    pledged = set_up_pledge(ledger, "500.00", stage="intended")
    ledger.sign_pledge(pledge_id=pledged.pledge_id, effective_on="2018-05-01")
    position = ledger.position()
    with pytest.raises(EffectiveDateOutOfOrder, match="2018-04-01 is before its last change or payment on 2018-05-01"):
        ledger.withdraw_pledge(pledge_id=pledged.pledge_id, reason="董事会未批准", effective_on="2018-04-01")
    assert ledger.position() == position
    columns = grand(projections.totals(ledger, effective_on="2018-04-15"))
    assert all(value >= 0 for value in columns.values()), columns
