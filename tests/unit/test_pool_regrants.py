"""A regrant that names its pooled fund (issue 12): the library draws on the pool's pledges, oldest money first.

"Oldest" is the value date on which a pledge's money first arrived in the pool (its earliest
disbursement not reversed), then the log order of the pledges; each pledge gives at most what it
still holds free from the regrant's date on. The draws are stored, so replays give the same result.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from tests.ledger_fixtures import (
    disburse,
    make_pledge,
    refused,
    register_organization,
    register_pooled_fund,
    register_project,
)

import aidledger
from aidledger import AidLedger, projections
from aidledger.errors import InvalidInput, NotAPooledFund, RegrantDonorMismatch, RegrantExceedsPool
from aidledger.interchange.history import history_records
from aidledger.interchange.importer import import_file


class Pool:
    """A hub holding a pooled fund, a donor, two pledges into the pool and a leaf project."""

    def __init__(self, ledger: AidLedger) -> None:
        self.ledger = ledger
        self.hub = register_organization(ledger, name="示例枢纽基金会（虚构）")
        self.donor = register_organization(ledger, name="示例捐赠企业（虚构）", kind="enterprise")
        self.fund = register_pooled_fund(ledger, self.hub)
        self.leaf = register_project(ledger, self.hub)
        # Made first, but its money arrives last.
        self.late = make_pledge(ledger, self.donor, self.fund, "300.00", effective_on="2018-02-01")
        self.early = make_pledge(ledger, self.donor, self.fund, "500.00", effective_on="2018-02-02")
        disburse(ledger, self.early, "500.00", effective_on="2018-03-01")
        disburse(ledger, self.late, "300.00", effective_on="2018-03-05")

    def regrant(self, amount: str, **overrides: Any) -> UUID:
        fields: dict[str, Any] = {"funded_from_pool": self.fund, "effective_on": "2018-04-01"}
        return make_pledge(self.ledger, self.hub, self.leaf, amount, **(fields | overrides))


@pytest.fixture
def pool(ledger: AidLedger) -> Pool:
    return Pool(ledger)


def test_the_oldest_money_is_drawn_first_not_the_oldest_pledge(pool: Pool) -> None:
    regrant = pool.regrant("600.00")
    view = pool.ledger.pledge(regrant)
    assert view.funded_from_pool == pool.fund
    assert view.drawn_from == {pool.early: Decimal("500.00"), pool.late: Decimal("100.00")}
    assert pool.ledger.pledge(pool.early).regranted == Decimal("500.00")
    assert pool.ledger.pledge(pool.late).regranted == Decimal("100.00")


def test_money_arrived_on_one_day_is_drawn_in_log_order(ledger: AidLedger) -> None:
    hub = register_organization(ledger)
    fund = register_pooled_fund(ledger, hub)
    leaf = register_project(ledger, hub)
    first = make_pledge(ledger, hub, fund, "100.00")
    second = make_pledge(ledger, hub, fund, "100.00")
    for pledge in (second, first):
        disburse(ledger, pledge, "100.00", effective_on="2018-04-10")
    regrant = make_pledge(ledger, hub, leaf, "150.00", funded_from_pool=fund, effective_on="2018-05-01")
    assert ledger.pledge(regrant).drawn_from == {first: Decimal("100.00"), second: Decimal("50.00")}


def test_the_whole_free_money_is_accepted_and_one_fen_more_is_refused(pool: Pool) -> None:
    """Only money that had arrived by the regrant's date counts: 500 by 2018-03-01, 800 from 2018-03-05."""
    with refused(pool.ledger, RegrantExceedsPool, pool.fund, "500.00 CNY", "asked 500.01", "at most 500.00"):
        pool.regrant("500.01", effective_on="2018-03-04")
    pool.regrant("500.00", effective_on="2018-03-04")
    with refused(pool.ledger, RegrantExceedsPool, pool.fund, "300.00 CNY", "asked 300.01"):
        pool.regrant("300.01", effective_on="2018-04-01")
    pool.regrant("300.00", effective_on="2018-04-01")


def test_a_withdrawn_pledge_and_a_reversed_payment_give_nothing(pool: Pool) -> None:
    ledger = pool.ledger
    withdrawn = make_pledge(ledger, pool.donor, pool.fund, "50.00", effective_on="2018-02-03")
    ledger.withdraw_pledge(pledge_id=withdrawn, reason="撤回", effective_on="2018-02-04")
    reversed_ = make_pledge(ledger, pool.donor, pool.fund, "100.00", effective_on="2018-02-03")
    wrong = disburse(ledger, reversed_, "100.00", effective_on="2018-02-05")
    ledger.reverse_disbursement(disbursement_id=wrong, reason="录入错误", effective_on="2018-02-06")
    with refused(ledger, RegrantExceedsPool, "800.00 CNY", "asked 800.01"):
        pool.regrant("800.01")
    assert list(ledger.pledge(pool.regrant("800.00")).drawn_from) == [pool.early, pool.late]


def test_lowering_gives_back_the_newest_draw_first_and_raising_draws_the_oldest(pool: Pool) -> None:
    ledger = pool.ledger
    regrant = pool.regrant("600.00")
    ledger.amend_pledge(pledge_id=regrant, amount="450.00", reason="调减", effective_on="2018-05-01")
    assert (ledger.pledge(pool.early).regranted, ledger.pledge(pool.late).regranted) == (
        Decimal("450.00"),
        Decimal("0.00"),
    )
    ledger.amend_pledge(pledge_id=regrant, amount="700.00", reason="调增", effective_on="2018-05-02")
    assert (ledger.pledge(pool.early).regranted, ledger.pledge(pool.late).regranted) == (
        Decimal("500.00"),
        Decimal("200.00"),
    )
    with refused(ledger, RegrantExceedsPool, regrant, "at most 800.00"):
        ledger.amend_pledge(pledge_id=regrant, amount="800.01", reason="调增", effective_on="2018-05-03")
    ledger.withdraw_pledge(pledge_id=regrant, reason="撤回", effective_on="2018-05-04")
    assert ledger.pledge(pool.early).regranted == ledger.pledge(pool.late).regranted == Decimal("0.00")


def test_a_regrant_from_a_pool_is_passed_through_and_counted_once_as_one_gift(pool: Pool) -> None:
    pool.regrant("600.00")
    (grand,) = projections.totals(pool.ledger).totals
    assert grand.new_money["pledged"] == Decimal("800.00")
    assert grand.passed_through["pledged"] == Decimal("600.00")
    origin = {row.key["origin"]: row for row in projections.totals(pool.ledger, ["origin"]).rows}
    assert origin["regrant"].pledges == 1 and origin["regrant"].columns["pledged"] == Decimal("600.00")
    explained = projections.explain(pool.ledger, "pledged", key={"origin": "regrant"})
    assert [c.amount for c in explained.contributions] == [Decimal("600.00")]


def test_naming_both_a_pledge_and_a_pool_is_refused(pool: Pool) -> None:
    with refused(pool.ledger, InvalidInput, "funded_from_pool", "not both") as caught:
        pool.regrant("10.00", funded_from=pool.early)
    assert caught.value.field == "funded_from_pool"


def test_a_pool_regrant_needs_a_pool_another_project_and_the_pools_holder(pool: Pool) -> None:
    with refused(pool.ledger, NotAPooledFund, pool.leaf, "not a pooled fund"):
        make_pledge(pool.ledger, pool.hub, pool.fund, "10.00", funded_from_pool=pool.leaf, effective_on="2018-04-01")
    with refused(pool.ledger, NotAPooledFund, "another project"):
        make_pledge(pool.ledger, pool.hub, pool.fund, "10.00", funded_from_pool=pool.fund, effective_on="2018-04-01")
    with refused(pool.ledger, RegrantDonorMismatch, pool.hub):
        make_pledge(pool.ledger, pool.donor, pool.leaf, "10.00", funded_from_pool=pool.fund, effective_on="2018-04-01")


def test_the_draws_are_stored_so_a_replay_and_an_import_give_the_same(pool: Pool, tmp_path: Path) -> None:
    """The events export names the pool, not the draws; importing it draws the same pledges again."""
    regrant = pool.regrant("600.00")
    records = list(history_records(pool.ledger))
    (made,) = [r for r in records if r.get("command_id") and r["command"] == "make_pledge" and "funded_from_pool" in r]
    assert "drawn_from" not in made
    replay = tmp_path / "history.jsonl"
    replay.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    with aidledger.open(":memory:", recorded_by="tester") as again:
        import_file(again, replay)
        assert again.pledge(regrant).drawn_from == pool.ledger.pledge(regrant).drawn_from
        assert projections.totals(again).totals == projections.totals(pool.ledger).totals


def test_a_csv_import_names_the_pool_by_its_command_id(tmp_path: Path) -> None:
    rows = [
        "command,command_id,effective_on,recorded_by,name,kind,level,home_region,title,"
        "implementing_organization_id,region,pooled_fund,category,field,planned_start,planned_end,donor_id,"
        "project_id,amount,funded_from_pool,pledge_id",
        "register_organization,hub,2018-01-02,录入员,示例枢纽（虚构）,foundation,provincial,130000,,,,,,,,,,,,,",
        "register_project,fund,2018-01-03,录入员,,,,,示例联合基金（虚构）,hub,,true,direct_aid,other,2018-01-01,"
        "2018-12-31,,,,,",
        "register_project,leaf,2018-01-03,录入员,,,,,示例项目（虚构）,hub,130721,,direct_aid,other,2018-01-01,"
        "2018-12-31,,,,,",
        "make_pledge,in-1,2018-02-01,录入员,,,,,,,,,,,,,hub,fund,400.00,,",
        "disburse,pay-1,2018-02-10,录入员,,,,,,,,,,,,,,,400.00,,in-1",
        "make_pledge,out-1,2018-03-01,录入员,,,,,,,,,,,,,hub,leaf,250.00,fund,",
    ]
    source = tmp_path / "pool.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        import_file(ledger, source)
        regrant = ledger.pledge(aidledger.derive_id("pledge", "out-1"))
        assert regrant.funded_from_pool == aidledger.derive_id("project", "fund")
        assert regrant.drawn_from == {aidledger.derive_id("pledge", "in-1"): Decimal("250.00")}
