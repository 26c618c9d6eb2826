"""Unvalued in-kind gifts (DESIGN §3 rule 9, issue 11 item 4): goods with a quantity and no assessed value.

They are pledged and delivered with items and no amount; they count in counts of gifts, pledges,
projects, organizations and counties, never in a money column; money is never mixed with them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from lxml import etree
from tests.ledger_fixtures import (
    disburse,
    make_pledge,
    refused,
    register_organization,
    register_pooled_fund,
    register_project,
    set_up_pool,
)
from tests.unit.test_export_iati import BUREAU, iati, register_bureau, rule_failures

import aidledger
from aidledger import AidLedger, projections
from aidledger.errors import InvalidInput, PledgeHasDisbursements, UnvaluedGiftMismatch
from aidledger.interchange.history import history_records
from aidledger.interchange.importer import import_file

CLOTHES = ({"description": "冬衣（虚构）", "quantity": "370000", "unit": "件"},)
SOME_CLOTHES = ({"description": "冬衣（虚构）", "quantity": "1000", "unit": "件"},)
ZERO = Decimal("0.00")


@pytest.fixture
def gift(ledger: AidLedger) -> tuple[UUID, UUID, UUID]:
    """A foundation's unvalued pledge of 370,000 items of clothing to a county project: (donor, project, pledge)."""
    donor = register_organization(ledger)
    project = register_project(ledger, donor)
    pledge = ledger.make_pledge(donor_id=donor, project_id=project, items=CLOTHES, effective_on="2018-03-05")
    return donor, project, pledge.aggregate_id


def unvalued(ledger: AidLedger, donor: UUID, project: UUID, **overrides: Any) -> UUID:
    fields: dict[str, Any] = {"donor_id": donor, "project_id": project, "items": CLOTHES, "effective_on": "2018-03-05"}
    return ledger.make_pledge(**(fields | overrides)).aggregate_id


def test_an_unvalued_gift_counts_as_a_gift_and_in_no_money_column(
    ledger: AidLedger, gift: tuple[UUID, UUID, UUID]
) -> None:
    """One pledge, project, organization and county, one unvalued gift, and every money column zero."""
    _, _, pledge = gift
    ledger.disburse(pledge_id=pledge, items=SOME_CLOTHES, method="goods_delivery", effective_on="2018-04-01")
    for report in (projections.totals(ledger), projections.totals(ledger, ["county"])):
        (row,) = report.rows
        assert (row.pledges, row.projects, row.organizations, row.counties, row.unvalued_gifts) == (1, 1, 1, 1, 1)
        assert set(row.columns.values()) == {ZERO}
        assert row.currency == "CNY"
    view = ledger.pledge(pledge)
    assert view.amount.value == ZERO and view.outstanding == ZERO


def test_a_valued_pledge_beside_an_unvalued_gift_keeps_its_money_and_counts_apart(
    ledger: AidLedger, gift: tuple[UUID, UUID, UUID]
) -> None:
    donor, project, _ = gift
    make_pledge(ledger, donor, project, "1000.00")
    (row,) = projections.totals(ledger).rows
    assert row.pledges == 2 and row.unvalued_gifts == 1 and row.projects == 1
    assert row.columns["pledged"] == Decimal("1000.00")


def test_a_withdrawn_unvalued_gift_stops_counting_from_its_date(
    ledger: AidLedger, gift: tuple[UUID, UUID, UUID]
) -> None:
    _, _, pledge = gift
    ledger.withdraw_pledge(pledge_id=pledge, reason="捐赠方撤回", effective_on="2018-05-01")
    (now,) = projections.totals(ledger).rows
    assert now.pledges == 0 and now.unvalued_gifts == 0
    (before,) = projections.totals(ledger, ["county"], effective_on="2018-04-30").rows
    assert before.pledges == 1 and before.unvalued_gifts == 1
    assert projections.totals(ledger, effective_on="2018-03-04").rows == ()


def test_an_unvalued_gift_counts_in_the_year_it_was_made_only(ledger: AidLedger, gift: tuple[UUID, UUID, UUID]) -> None:
    """Its delivery in another year adds no second count there (no money moved in that year)."""
    _, _, pledge = gift
    ledger.disburse(pledge_id=pledge, items=SOME_CLOTHES, effective_on="2019-02-01")
    rows = {row.key["year"]: (row.pledges, row.unvalued_gifts) for row in projections.totals(ledger, ["year"]).rows}
    assert rows["2018"] == (1, 1)
    assert rows.get("2019", (0, 0)) == (0, 0)


def test_an_unvalued_gift_in_another_currency_counts_in_that_currencys_rows(ledger: AidLedger) -> None:
    donor = register_organization(ledger)
    project = register_project(ledger, donor)
    pledge = unvalued(ledger, donor, project, currency="usd")
    ledger.disburse(pledge_id=pledge, items=SOME_CLOTHES, effective_on="2018-04-01")  # the pledge's currency
    (row,) = projections.totals(ledger).rows
    assert (row.currency, row.unvalued_gifts) == ("USD", 1)


def test_a_pledge_without_items_still_needs_an_amount(ledger: AidLedger) -> None:
    donor = register_organization(ledger)
    project = register_project(ledger, donor)
    with refused(ledger, InvalidInput, "amount", "required unless goods are given") as caught:
        ledger.make_pledge(donor_id=donor, project_id=project, effective_on="2018-03-05")
    assert caught.value.field == "amount"


def test_a_currency_that_differs_from_the_amount_is_refused(ledger: AidLedger) -> None:
    donor = register_organization(ledger)
    project = register_project(ledger, donor)
    with refused(ledger, InvalidInput, "currency", "'USD'") as caught:
        make_pledge(ledger, donor, project, "10.00", currency="USD")
    assert caught.value.field == "currency"
    with refused(ledger, InvalidInput, "currency", "ISO 4217"):
        unvalued(ledger, donor, project, currency="XAU")


def test_money_disbursed_against_an_unvalued_gift_is_refused(ledger: AidLedger, gift: tuple[UUID, UUID, UUID]) -> None:
    """Valid: a delivery with items and no amount; invalid: 0.01 yuan, with or without items."""
    _, _, pledge = gift
    with refused(ledger, UnvaluedGiftMismatch, pledge, "unvalued in-kind gift", "370000 件 冬衣（虚构）", "no amount"):
        disburse(ledger, pledge, "0.01")
    with refused(ledger, UnvaluedGiftMismatch, pledge):
        disburse(ledger, pledge, "100.00", items=SOME_CLOTHES)
    ledger.disburse(pledge_id=pledge, items=SOME_CLOTHES, effective_on="2018-04-01")


def test_goods_with_no_amount_against_a_valued_pledge_are_refused(ledger: AidLedger) -> None:
    donor = register_organization(ledger)
    project = register_project(ledger, donor)
    pledge = make_pledge(ledger, donor, project, "1000.00", items=CLOTHES)
    with refused(ledger, UnvaluedGiftMismatch, pledge, "needs an amount", "at most 1000.00 CNY"):
        ledger.disburse(pledge_id=pledge, items=SOME_CLOTHES, effective_on="2018-04-01")
    disburse(ledger, pledge, "1000.00", items=SOME_CLOTHES)


def test_an_unvalued_gifts_money_cannot_be_amended_or_returned(
    ledger: AidLedger, gift: tuple[UUID, UUID, UUID]
) -> None:
    _, _, pledge = gift
    with refused(ledger, UnvaluedGiftMismatch, pledge, "amending to 5.00 CNY", "never assessed"):
        ledger.amend_pledge(pledge_id=pledge, amount="5.00", reason="估值", effective_on="2018-04-01")
    delivery = ledger.disburse(pledge_id=pledge, items=SOME_CLOTHES, effective_on="2018-04-01").aggregate_id
    with refused(ledger, UnvaluedGiftMismatch, pledge, "returning 1.00 CNY"):
        ledger.return_disbursement(disbursement_id=delivery, amount="1.00", reason="退回", effective_on="2018-05-01")
    ledger.reverse_disbursement(disbursement_id=delivery, reason="录入错误", effective_on="2018-05-01")


def test_an_unvalued_gift_with_deliveries_is_withdrawn_only_once_they_are_reversed(
    ledger: AidLedger, gift: tuple[UUID, UUID, UUID]
) -> None:
    _, _, pledge = gift
    delivery = ledger.disburse(pledge_id=pledge, items=SOME_CLOTHES, effective_on="2018-04-01").aggregate_id
    with refused(ledger, PledgeHasDisbursements, pledge, "1 delivery"):
        ledger.withdraw_pledge(pledge_id=pledge, reason="撤回", effective_on="2018-05-01")
    ledger.reverse_disbursement(disbursement_id=delivery, reason="录入错误", effective_on="2018-05-01")
    ledger.withdraw_pledge(pledge_id=pledge, reason="撤回", effective_on="2018-05-01")


def test_an_unvalued_gift_to_a_pooled_fund_is_refused(ledger: AidLedger) -> None:
    donor = register_organization(ledger)
    fund = register_pooled_fund(ledger, donor)
    with refused(ledger, UnvaluedGiftMismatch, fund, "pooled fund", "assessed value"):
        unvalued(ledger, donor, fund)
    make_pledge(ledger, donor, fund, "1.00", items=CLOTHES)


def test_an_unvalued_regrant_is_refused(ledger: AidLedger) -> None:
    pool = set_up_pool(ledger)
    with refused(ledger, UnvaluedGiftMismatch, pool.pool_pledge_id, "regrant", "needs an amount"):
        unvalued(
            ledger,
            pool.organization_id,
            pool.leaf_project_id,
            funded_from=pool.pool_pledge_id,
            effective_on="2018-05-01",
        )
    make_pledge(
        ledger,
        pool.organization_id,
        pool.leaf_project_id,
        "0.01",
        funded_from=pool.pool_pledge_id,
        effective_on="2018-05-01",
    )


def test_the_ledger_refolded_from_its_events_gives_the_same_counts(
    ledger: AidLedger, gift: tuple[UUID, UUID, UUID]
) -> None:
    """Running totals, grouped totals and totals at a position agree on the unvalued gift."""
    _, _, pledge = gift
    ledger.disburse(pledge_id=pledge, items=SOME_CLOTHES, effective_on="2018-04-01")
    running = projections.totals(ledger)
    at_position = projections.totals(ledger, position=ledger.position())
    assert running.rows == at_position.rows


def test_an_import_reads_items_with_an_empty_amount_as_an_unvalued_gift(tmp_path: Any) -> None:
    """CSV: an empty amount cell with items; the currency column names the gift's rows. JSON Lines round trip."""
    rows = [
        "command,command_id,effective_on,recorded_by,name,kind,level,home_region,title,"
        "implementing_organization_id,region,category,field,planned_start,planned_end,donor_id,project_id,"
        "amount,currency,items,pledge_id,method",
        "register_organization,org-1,2018-01-02,录入员,示例基金会（虚构）,foundation,provincial,130000,,,,,,,,,,,,,,",
        "register_project,prj-1,2018-01-03,录入员,,,,,示例项目（虚构）,org-1,130721,direct_aid,other,2018-01-01,"
        "2018-12-31,,,,,,,",
        "make_pledge,pl-1,2018-02-01,录入员,,,,,,,,,,,,org-1,prj-1,,,冬衣（虚构）|370000|件,,",
        "make_pledge,pl-2,2018-02-01,录入员,,,,,,,,,,,,org-1,prj-1,,HKD,大米（虚构）|20|吨,,",
        "disburse,d-1,2018-03-01,录入员,,,,,,,,,,,,,,,,冬衣（虚构）|1000|件,pl-1,goods_delivery",
    ]
    source = tmp_path / "gifts.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        import_file(ledger, source)
        rows_by_currency = {row.currency: row for row in projections.totals(ledger).rows}
        records = list(history_records(ledger))
        replay = tmp_path / "replay.jsonl"
        replay.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        position = ledger.position()
        import_file(ledger, replay)  # the same commands: every row is found already present
        assert ledger.position() == position
    assert {c: (r.pledges, r.unvalued_gifts) for c, r in rows_by_currency.items()} == {"CNY": (1, 1), "HKD": (1, 1)}
    pledges = [r for r in records if r["command"] in ("make_pledge", "disburse")]
    assert all("amount" not in r for r in pledges)
    assert [r.get("currency") for r in pledges] == [None, "HKD", None]
    with aidledger.open(":memory:", recorded_by="tester") as again:
        import_file(again, replay)
        assert {r.currency: r.unvalued_gifts for r in projections.totals(again).rows} == {"CNY": 1, "HKD": 1}


def test_the_iati_export_names_an_unvalued_gift_in_the_description_and_in_no_transaction() -> None:
    """IATI values need a value: the gift and its delivery are described with quantities, and the file validates."""
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        register_bureau(ledger)
        donor = register_organization(ledger, credit_code="53130000MA0A1B2C3R")
        project = register_project(ledger, donor, title="沽源县冬衣项目（虚构）")
        pledge = unvalued(ledger, donor, project)
        ledger.disburse(pledge_id=pledge, items=SOME_CLOTHES, method="goods_delivery", effective_on="2018-04-01")
        make_pledge(ledger, donor, project, "500.00")
        document = iati(ledger, reporting_org=BUREAU)
        assert rule_failures(document) == []
    (activity,) = document.iter("iati-activity")
    description = activity.findtext("description/narrative") or ""
    assert "Unvalued in-kind gifts" in description
    assert "冬衣（虚构） × 370000 件 pledged (delivered: 冬衣（虚构） × 1000 件)" in description
    values = [t.findtext("value") for t in activity.iter("transaction")]
    assert values == ["500.00"]
    assert isinstance(activity, etree._Element)
