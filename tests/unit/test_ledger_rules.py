"""The ledger's rules: what may happen to pledges, disbursements, projects and organizations.

Every refused command raises its named rule error, names the object and value in the message,
and stores nothing (the log position does not move). Each runs against every store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ledger_fixtures import (
    OpenStore,
    Pool,
    connect_raw,
    disburse,
    make_pledge,
    refused,
    register_organization,
    register_project,
    set_up_pledge,
    set_up_pool,
)

import aidledger
from aidledger import AidLedger, derive_id, errors
from aidledger.domain.disbursement import Disbursement
from aidledger.domain.pledge import Pledge
from aidledger.domain.project import ProjectStatus

# -- stages of a pledge ---------------------------------------------------------------------------


def test_disbursing_against_an_intended_pledge_is_refused(ledger: AidLedger) -> None:
    """Money goes only to signed pledges by default; the message says how to proceed."""
    pledged = set_up_pledge(ledger, stage="intended")
    with refused(ledger, errors.PledgeNotSigned, pledged.pledge_id, "intended", "sign"):
        disburse(ledger, pledged.pledge_id, "100.00")


def test_disbursing_against_an_intended_pledge_is_accepted_when_the_ledger_allows_it(open_store: OpenStore) -> None:
    """The policy flag allow_disbursing_intended lets money go to an intended pledge."""
    ledger = open_store(allow_disbursing_intended=True)
    pledged = set_up_pledge(ledger, stage="intended")
    disburse(ledger, pledged.pledge_id, "100.00")
    view = ledger.pledge(pledged.pledge_id)
    assert (view.stage.value, view.net_disbursed) == ("intended", Decimal("100.00"))


def test_a_signed_pledge_accepts_disbursements(ledger: AidLedger) -> None:
    """Signing an intended pledge is what opens it to disbursements."""
    pledged = set_up_pledge(ledger, stage="intended")
    ledger.sign_pledge(pledge_id=pledged.pledge_id, effective_on="2018-03-20")
    disburse(ledger, pledged.pledge_id, "100.00")
    assert ledger.pledge(pledged.pledge_id).stage.value == "signed"


def test_signing_a_pledge_twice_is_refused(ledger: AidLedger) -> None:
    """A signed pledge is signed once."""
    pledged = set_up_pledge(ledger, stage="intended")
    ledger.sign_pledge(pledge_id=pledged.pledge_id, effective_on="2018-03-20")
    with refused(ledger, errors.PledgeAlreadySigned, pledged.pledge_id, "already signed"):
        ledger.sign_pledge(pledge_id=pledged.pledge_id, effective_on="2018-03-21")


def test_signing_a_pledge_made_signed_is_refused(ledger: AidLedger) -> None:
    """A pledge made at the signed stage needs no signature."""
    pledged = set_up_pledge(ledger)
    with refused(ledger, errors.PledgeAlreadySigned, pledged.pledge_id):
        ledger.sign_pledge(pledge_id=pledged.pledge_id, effective_on="2018-03-21")


# -- withdrawal -----------------------------------------------------------------------------------


def test_withdrawing_a_pledge_with_disbursements_is_refused(ledger: AidLedger) -> None:
    """Money paid cannot be un-promised; the message names the disbursed sum and suggests amending."""
    pledged = set_up_pledge(ledger)
    disburse(ledger, pledged.pledge_id, "100.00")
    with refused(ledger, errors.PledgeHasDisbursements, pledged.pledge_id, "100.00", "amend"):
        ledger.withdraw_pledge(pledge_id=pledged.pledge_id, reason="changed plans", effective_on="2018-05-01")


def test_a_pledge_whose_only_disbursement_was_reversed_can_be_withdrawn(ledger: AidLedger) -> None:
    """A reversed disbursement never happened, so nothing stands in the way."""
    pledged = set_up_pledge(ledger)
    disbursement_id = disburse(ledger, pledged.pledge_id, "100.00")
    ledger.reverse_disbursement(disbursement_id=disbursement_id, reason="wrong pledge", effective_on="2018-04-11")
    ledger.withdraw_pledge(pledge_id=pledged.pledge_id, reason="changed plans", effective_on="2018-05-01")
    assert ledger.pledge(pledged.pledge_id).withdrawn


def test_a_withdrawn_pledge_accepts_no_signature_amendment_or_second_withdrawal(ledger: AidLedger) -> None:
    """Withdrawn is final."""
    pledged = set_up_pledge(ledger, stage="intended")
    ledger.withdraw_pledge(pledge_id=pledged.pledge_id, reason="changed plans", effective_on="2018-05-01")
    with refused(ledger, errors.PledgeWithdrawn, pledged.pledge_id):
        ledger.sign_pledge(pledge_id=pledged.pledge_id, effective_on="2018-05-02")
    with refused(ledger, errors.PledgeWithdrawn, pledged.pledge_id):
        ledger.amend_pledge(pledge_id=pledged.pledge_id, amount="10.00", reason="less", effective_on="2018-05-02")
    with refused(ledger, errors.PledgeWithdrawn, pledged.pledge_id):
        ledger.withdraw_pledge(pledge_id=pledged.pledge_id, reason="again", effective_on="2018-05-02")


# -- reversals and returns ------------------------------------------------------------------------


def test_reversing_a_disbursement_restores_the_outstanding_amount(ledger: AidLedger) -> None:
    """A reversal takes the disbursement out of the net total; it is kept in the reversed column."""
    pledged = set_up_pledge(ledger, "1000.00")
    disbursement_id = disburse(ledger, pledged.pledge_id, "400.00")
    assert ledger.pledge(pledged.pledge_id).outstanding == Decimal("600.00")
    ledger.reverse_disbursement(disbursement_id=disbursement_id, reason="entered twice", effective_on="2018-04-11")
    view = ledger.pledge(pledged.pledge_id)
    assert (view.disbursed, view.reversed, view.net_disbursed, view.outstanding) == (
        Decimal("400.00"),
        Decimal("400.00"),
        Decimal("0.00"),
        Decimal("1000.00"),
    )
    assert ledger.disbursement(disbursement_id).reversed


def test_partial_then_total_returns_reduce_net_disbursed(ledger: AidLedger) -> None:
    """Returns add up on the disbursement and the pledge until all was given back."""
    pledged = set_up_pledge(ledger, "1000.00")
    disbursement_id = disburse(ledger, pledged.pledge_id, "100.00")
    ledger.return_disbursement(
        disbursement_id=disbursement_id, amount="30.00", reason="unused", effective_on="2018-06-01"
    )
    assert ledger.disbursement(disbursement_id).returned == Decimal("30.00")
    assert ledger.pledge(pledged.pledge_id).net_disbursed == Decimal("70.00")
    ledger.return_disbursement(
        disbursement_id=disbursement_id, amount="70.00", reason="unused", effective_on="2018-07-01"
    )
    view = ledger.pledge(pledged.pledge_id)
    assert (view.returned, view.net_disbursed, view.outstanding) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("1000.00"),
    )
    assert ledger.disbursement(disbursement_id).returned == Decimal("100.00")


def test_returning_more_than_remains_of_a_disbursement_is_refused(ledger: AidLedger) -> None:
    """The message names the return asked for and what remains of the disbursement."""
    pledged = set_up_pledge(ledger, "1000.00")
    disbursement_id = disburse(ledger, pledged.pledge_id, "100.00")
    ledger.return_disbursement(
        disbursement_id=disbursement_id, amount="30.00", reason="unused", effective_on="2018-06-01"
    )
    with refused(ledger, errors.ReturnExceedsDisbursement, disbursement_id, "70.01", "70.00"):
        ledger.return_disbursement(
            disbursement_id=disbursement_id, amount="70.01", reason="unused", effective_on="2018-07-01"
        )
    ledger.return_disbursement(
        disbursement_id=disbursement_id, amount="70.00", reason="unused", effective_on="2018-07-01"
    )
    with refused(ledger, errors.ReturnExceedsDisbursement, disbursement_id, "0.01"):
        ledger.return_disbursement(
            disbursement_id=disbursement_id, amount="0.01", reason="unused", effective_on="2018-07-02"
        )


def test_a_payment_dated_before_money_came_back_cannot_use_that_money(ledger: AidLedger) -> None:
    """Money returned on 06-01 frees room from 06-01 on: a payment dated 05-01 would over-disburse as of
    05-01; dated on or after the return (or within the room left before it) it is accepted."""
    pledged = set_up_pledge(ledger, "1000.00")
    paid = disburse(ledger, pledged.pledge_id, "1000.00", effective_on="2018-04-10")
    ledger.return_disbursement(disbursement_id=paid, amount="600.00", reason="unused", effective_on="2018-06-01")
    with refused(ledger, errors.OverDisbursement, "2018-05-01", "accepted: at most 0.00"):
        disburse(ledger, pledged.pledge_id, "600.00", effective_on="2018-05-01")
    disburse(ledger, pledged.pledge_id, "600.00", effective_on="2018-06-01")
    assert ledger.pledge(pledged.pledge_id).outstanding == 0


def test_a_reversal_frees_room_from_the_reversed_payments_value_date(ledger: AidLedger) -> None:
    """A reversed payment never happened: another payment may take its place from its value date on."""
    pledged = set_up_pledge(ledger, "1000.00")
    paid = disburse(ledger, pledged.pledge_id, "1000.00", effective_on="2018-04-10")
    ledger.reverse_disbursement(disbursement_id=paid, reason="duplicate entry", effective_on="2018-06-01")
    disburse(ledger, pledged.pledge_id, "1000.00", effective_on="2018-04-10")
    with refused(ledger, errors.OverDisbursement, "outstanding is 0.00"):
        disburse(ledger, pledged.pledge_id, "0.01", effective_on="2018-07-01")


def test_reversing_a_disbursement_with_returns_is_refused(ledger: AidLedger) -> None:
    """Money partly given back did change hands; it cannot be reversed as if it never happened."""
    pledged = set_up_pledge(ledger)
    disbursement_id = disburse(ledger, pledged.pledge_id, "100.00")
    ledger.return_disbursement(
        disbursement_id=disbursement_id, amount="10.00", reason="unused", effective_on="2018-06-01"
    )
    with refused(ledger, errors.DisbursementHasReturns, disbursement_id, "10.00"):
        ledger.reverse_disbursement(disbursement_id=disbursement_id, reason="error", effective_on="2018-06-02")


def test_a_reversed_disbursement_accepts_no_return(ledger: AidLedger) -> None:
    """What never happened cannot be given back."""
    pledged = set_up_pledge(ledger)
    disbursement_id = disburse(ledger, pledged.pledge_id, "100.00")
    ledger.reverse_disbursement(disbursement_id=disbursement_id, reason="error", effective_on="2018-06-02")
    with refused(ledger, errors.DisbursementAlreadyReversed, disbursement_id):
        ledger.return_disbursement(
            disbursement_id=disbursement_id, amount="10.00", reason="unused", effective_on="2018-06-03"
        )


# -- confirmation ---------------------------------------------------------------------------------


def test_confirming_a_disbursement_twice_is_refused(ledger: AidLedger) -> None:
    """The recipient confirms receipt once."""
    pledged = set_up_pledge(ledger)
    disbursement_id = disburse(ledger, pledged.pledge_id, "100.00")
    ledger.confirm_disbursement(disbursement_id=disbursement_id, effective_on="2018-04-20")
    assert ledger.disbursement(disbursement_id).confirmed
    with refused(ledger, errors.DisbursementAlreadyConfirmed, disbursement_id, "already confirmed"):
        ledger.confirm_disbursement(disbursement_id=disbursement_id, effective_on="2018-04-21")


def test_confirming_a_reversed_disbursement_is_refused(ledger: AidLedger) -> None:
    """Nothing that never happened can be confirmed."""
    pledged = set_up_pledge(ledger)
    disbursement_id = disburse(ledger, pledged.pledge_id, "100.00")
    ledger.reverse_disbursement(disbursement_id=disbursement_id, reason="error", effective_on="2018-04-11")
    with refused(ledger, errors.DisbursementAlreadyReversed, disbursement_id, "reversed"):
        ledger.confirm_disbursement(disbursement_id=disbursement_id, effective_on="2018-04-20")


# -- closed projects and deregistered organizations -----------------------------------------------


def test_a_cancelled_project_accepts_no_new_pledge(ledger: AidLedger) -> None:
    """The message names the project and its status."""
    pledged = set_up_pledge(ledger)
    ledger.cancel_project(project_id=pledged.project_id, reason="county merged", effective_on="2018-04-01")
    assert ledger.project(pledged.project_id).status is ProjectStatus.cancelled
    with refused(ledger, errors.ProjectClosed, pledged.project_id, "cancelled"):
        make_pledge(ledger, pledged.organization_id, pledged.project_id)


def test_a_cancelled_project_receives_no_disbursement(ledger: AidLedger) -> None:
    """Even a pledge signed before the cancellation pays nothing more into it."""
    pledged = set_up_pledge(ledger)
    ledger.cancel_project(project_id=pledged.project_id, reason="county merged", effective_on="2018-04-01")
    with refused(ledger, errors.ProjectClosed, pledged.project_id, "cancelled"):
        disburse(ledger, pledged.pledge_id, "100.00")


def test_a_pledge_to_a_cancelled_project_is_not_signed_or_increased_but_may_be_reduced(ledger: AidLedger) -> None:
    """Signing or raising a pledge is a new commitment; lowering one is not."""
    pledged = set_up_pledge(ledger, stage="intended")
    ledger.cancel_project(project_id=pledged.project_id, reason="county merged", effective_on="2018-04-01")
    with refused(ledger, errors.ProjectClosed, pledged.project_id):
        ledger.sign_pledge(pledge_id=pledged.pledge_id, effective_on="2018-04-02")
    with refused(ledger, errors.ProjectClosed, pledged.project_id):
        ledger.amend_pledge(pledge_id=pledged.pledge_id, amount="1000.01", reason="more", effective_on="2018-04-02")
    ledger.amend_pledge(pledge_id=pledged.pledge_id, amount="500.00", reason="less", effective_on="2018-04-02")
    assert ledger.pledge(pledged.pledge_id).amount.value == Decimal("500.00")


def test_a_completed_project_accepts_no_new_pledge(ledger: AidLedger) -> None:
    """Completed is closed too."""
    pledged = set_up_pledge(ledger)
    ledger.complete_project(project_id=pledged.project_id, effective_on="2018-12-31")
    with refused(ledger, errors.ProjectClosed, pledged.project_id, "completed"):
        make_pledge(ledger, pledged.organization_id, pledged.project_id)


def test_a_deregistered_organization_makes_no_new_pledge(ledger: AidLedger) -> None:
    """The message names the organization and the date of deregistration."""
    pledged = set_up_pledge(ledger)
    ledger.deregister_organization(organization_id=pledged.organization_id, reason="merged", effective_on="2018-06-30")
    with refused(ledger, errors.OrganizationDeregistered, pledged.organization_id, "2018-06-30"):
        make_pledge(ledger, pledged.organization_id, pledged.project_id)


def test_a_deregistered_organization_cannot_register_a_project(ledger: AidLedger) -> None:
    """It implements no new projects either."""
    organization_id = register_organization(ledger)
    ledger.deregister_organization(organization_id=organization_id, reason="merged", effective_on="2018-06-30")
    with refused(ledger, errors.OrganizationDeregistered, organization_id):
        register_project(ledger, organization_id)


def test_a_deregistered_organization_is_no_channel_for_a_new_pledge(ledger: AidLedger) -> None:
    """An intermediary must be active to handle new money."""
    pledged = set_up_pledge(ledger)
    channel_id = register_organization(ledger, name="某慈善总会")
    ledger.deregister_organization(organization_id=channel_id, reason="merged", effective_on="2018-06-30")
    with refused(ledger, errors.OrganizationDeregistered, channel_id):
        make_pledge(ledger, pledged.organization_id, pledged.project_id, channel_id=channel_id)


def test_deregistering_an_organization_twice_is_refused(ledger: AidLedger) -> None:
    """Deregistration happens once."""
    organization_id = register_organization(ledger)
    ledger.deregister_organization(organization_id=organization_id, reason="merged", effective_on="2018-06-30")
    with refused(ledger, errors.InvalidTransition, organization_id, "already deregistered"):
        ledger.deregister_organization(organization_id=organization_id, reason="again", effective_on="2018-07-01")


# -- regrants from pooled funds -------------------------------------------------------------------


def regrant(ledger: AidLedger, pool: Pool, amount: str) -> UUID:
    """Regrant ``amount`` from the pool pledge to the leaf project, dated after the money reached the pool."""
    return make_pledge(
        ledger, pool.organization_id, pool.leaf_project_id, amount, funded_from=pool.pool_pledge_id,
        effective_on="2018-04-15",
    )  # fmt: skip


def test_a_regrant_from_a_pledge_to_an_ordinary_project_is_refused(ledger: AidLedger) -> None:
    """Only money in a pooled fund is passed on; a pledge to a leaf project is spent there."""
    pledged = set_up_pledge(ledger)
    disburse(ledger, pledged.pledge_id, "500.00")
    other_project_id = register_project(ledger, pledged.organization_id, title="另一个项目")
    with refused(ledger, errors.NotAPooledFund, pledged.pledge_id, "not a pooled fund"):
        make_pledge(ledger, pledged.organization_id, other_project_id, "100.00", funded_from=pledged.pledge_id)


def test_a_regrant_by_another_organization_than_the_pool_holder_is_refused(ledger: AidLedger) -> None:
    """Money in a pooled fund is passed on by the fund's implementing organization, and by no one else."""
    pool = set_up_pool(ledger, "1000.00", "600.00")
    other = register_organization(ledger, name="另一个基金会")
    with refused(ledger, errors.RegrantDonorMismatch, pool.pool_pledge_id, other, pool.organization_id, "donor_id"):
        make_pledge(
            ledger, other, pool.leaf_project_id, "100.00", funded_from=pool.pool_pledge_id, effective_on="2018-04-15"
        )
    assert ledger.pledge(pool.pool_pledge_id).regranted == Decimal("0.00")
    regrant(ledger, pool, "100.00")  # the holder: accepted
    make_pledge(ledger, other, pool.leaf_project_id, "100.00")  # its own money, no funded_from: accepted


def test_a_regrant_back_into_its_own_pooled_fund_is_refused(ledger: AidLedger) -> None:
    """Money regranted into the pool it came from would be counted twice."""
    pool = set_up_pool(ledger)
    with refused(ledger, errors.NotAPooledFund, pool.fund_id, "another project"):
        make_pledge(ledger, pool.organization_id, pool.fund_id, "100.00", funded_from=pool.pool_pledge_id)


def test_a_regrant_from_an_unknown_pledge_is_not_found(ledger: AidLedger) -> None:
    """funded_from must reference an existing pledge."""
    pool = set_up_pool(ledger)
    unknown = derive_id("pledge", "never-made")
    with refused(ledger, errors.NotFound, unknown, "funded_from"):
        make_pledge(ledger, pool.organization_id, pool.leaf_project_id, "1.00", funded_from=unknown)


def test_a_regrant_in_another_currency_is_refused(ledger: AidLedger) -> None:
    """Currencies never mix within a regrant chain."""
    pool = set_up_pool(ledger)
    with refused(ledger, errors.CurrencyMismatch, "USD", "CNY"):
        make_pledge(
            ledger,
            pool.organization_id,
            pool.leaf_project_id,
            {"value": "10.00", "currency": "USD"},
            funded_from=pool.pool_pledge_id,
        )


def test_reversing_pool_money_that_was_regranted_is_refused(ledger: AidLedger) -> None:
    """The pool pledge may not fall below what was already regranted from it."""
    pool = set_up_pool(ledger, "1000.00", "600.00")
    regrant(ledger, pool, "100.00")
    with refused(ledger, errors.RegrantExceedsPool, pool.pool_pledge_id, "600.00", "100.00"):
        ledger.reverse_disbursement(
            disbursement_id=pool.pool_disbursement_id, reason="error", effective_on="2018-05-01"
        )
    assert not ledger.disbursement(pool.pool_disbursement_id).reversed


def test_returning_pool_money_that_was_regranted_is_refused_beyond_the_free_balance(ledger: AidLedger) -> None:
    """What remains unregranted in the pool can be returned, not a fen more."""
    pool = set_up_pool(ledger, "1000.00", "600.00")
    regrant(ledger, pool, "100.00")
    with refused(ledger, errors.RegrantExceedsPool, pool.pool_pledge_id, "500.01"):
        ledger.return_disbursement(
            disbursement_id=pool.pool_disbursement_id, amount="500.01", reason="unused", effective_on="2018-05-01"
        )
    ledger.return_disbursement(
        disbursement_id=pool.pool_disbursement_id, amount="500.00", reason="unused", effective_on="2018-05-01"
    )
    view = ledger.pledge(pool.pool_pledge_id)
    assert (view.net_disbursed, view.regranted) == (Decimal("100.00"), Decimal("100.00"))


def test_withdrawing_a_regrant_frees_the_pool(ledger: AidLedger) -> None:
    """Once the regrant is withdrawn, the pool money can be given back or regranted again from then on.

    Reversing it stays refused: the regrant stood on that money from 04-15 to 05-01, and a reversal
    says the money never reached the pool.
    """
    pool = set_up_pool(ledger, "1000.00", "600.00")
    regrant_id = regrant(ledger, pool, "600.00")
    with refused(ledger, errors.RegrantExceedsPool, pool.pool_pledge_id):
        regrant(ledger, pool, "0.01")
    ledger.withdraw_pledge(pledge_id=regrant_id, reason="county funded elsewhere", effective_on="2018-05-01")
    assert ledger.pledge(pool.pool_pledge_id).regranted == Decimal("0.00")
    with refused(ledger, errors.RegrantExceedsPool, pool.pool_pledge_id, "2018-04-15"):
        ledger.reverse_disbursement(
            disbursement_id=pool.pool_disbursement_id, reason="error", effective_on="2018-05-02"
        )
    ledger.return_disbursement(
        disbursement_id=pool.pool_disbursement_id, amount="600.00", reason="unused", effective_on="2018-05-02"
    )
    assert ledger.pledge(pool.pool_pledge_id).net_disbursed == Decimal("0.00")


def test_amending_a_regrant_above_the_pool_is_refused(ledger: AidLedger) -> None:
    """An amended regrant draws its new amount from the pool, which must hold it."""
    pool = set_up_pool(ledger, "1000.00", "600.00")
    regrant_id = regrant(ledger, pool, "200.00")
    other_id = regrant(ledger, pool, "300.00")
    with refused(ledger, errors.RegrantExceedsPool, pool.pool_pledge_id, "300.01"):
        ledger.amend_pledge(pledge_id=regrant_id, amount="300.01", reason="more", effective_on="2018-05-01")
    assert ledger.pledge(regrant_id).amount.value == Decimal("200.00")
    ledger.amend_pledge(pledge_id=regrant_id, amount="300.00", reason="more", effective_on="2018-05-01")
    assert ledger.pledge(pool.pool_pledge_id).regranted == Decimal("600.00")
    ledger.amend_pledge(pledge_id=other_id, amount="100.00", reason="less", effective_on="2018-05-02")
    assert ledger.pledge(pool.pool_pledge_id).regranted == Decimal("400.00")


def test_a_regrant_is_drawn_only_from_its_own_pledge_in_the_pool(ledger: AidLedger) -> None:
    """Another donor's money in the same pool does not cover a regrant from this pledge."""
    pool = set_up_pool(ledger, "1000.00", "100.00")
    other_donor = register_organization(ledger, name="另一家基金会")
    other_pool_pledge = make_pledge(ledger, other_donor, pool.fund_id, "5000.00")
    disburse(ledger, other_pool_pledge, "5000.00")
    with refused(ledger, errors.RegrantExceedsPool, pool.pool_pledge_id, "100.01"):
        regrant(ledger, pool, "100.01")


# -- the pledge's invariant -----------------------------------------------------------------------

CENTS = Decimal("0.01")


@dataclass
class ModelPledge:
    """A reference model of one pledge's money in fen, predicting which commands are accepted."""

    amount: int
    disbursed: list[int] = field(default_factory=list)
    returned: list[int] = field(default_factory=list)
    reversed: list[bool] = field(default_factory=list)

    @property
    def net(self) -> int:
        """Net disbursed in fen."""
        return sum(d - r for d, r, gone in zip(self.disbursed, self.returned, self.reversed, strict=True) if not gone)

    def accepts(self, kind: str, index: int, cents: int) -> bool:
        """Whether the ledger's rules accept this operation."""
        if kind == "disburse":
            return cents <= self.amount - self.net
        if kind == "amend":
            return cents >= self.net
        if kind == "reverse":
            return not self.reversed[index] and self.returned[index] == 0
        return not self.reversed[index] and cents <= self.disbursed[index] - self.returned[index]

    def apply(self, kind: str, index: int, cents: int) -> None:
        """Change the model as an accepted operation changes the ledger."""
        if kind == "disburse":
            self.disbursed.append(cents)
            self.returned.append(0)
            self.reversed.append(False)
        elif kind == "amend":
            self.amount = cents
        elif kind == "reverse":
            self.reversed[index] = True
        else:
            self.returned[index] += cents


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["disburse", "reverse", "return", "amend"]),
        st.integers(min_value=0, max_value=5),
        st.integers(min_value=1, max_value=1300),
    ),
    min_size=1,
    max_size=15,
)


def _run(ledger: AidLedger, pledge_id: UUID, target: UUID | None, kind: str, cents: int) -> UUID:
    """Run one operation against the pledge (or the target disbursement); return the receipt's id."""
    amount = str(Decimal(cents) * CENTS)
    day = "2018-06-01"
    if kind == "disburse":
        return ledger.disburse(pledge_id=pledge_id, amount=amount, effective_on=day).aggregate_id
    if kind == "amend":
        return ledger.amend_pledge(pledge_id=pledge_id, amount=amount, reason="change", effective_on=day).aggregate_id
    assert target is not None
    if kind == "reverse":
        return ledger.reverse_disbursement(disbursement_id=target, reason="error", effective_on=day).aggregate_id
    return ledger.return_disbursement(
        disbursement_id=target, amount=amount, reason="back", effective_on=day
    ).aggregate_id


# The examples share the ledger, not state: each one works on a pledge of its own.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_net_disbursed_stays_between_zero_and_the_amount_whatever_is_tried(
    ledger: AidLedger, operations: list[tuple[str, int, int]]
) -> None:
    """0 <= net disbursed <= amount after any mix of disbursements, reversals, returns and amendments."""
    pledge_id = set_up_pledge(ledger, "10.00").pledge_id
    model = ModelPledge(amount=1000)
    disbursement_ids: list[UUID] = []
    for kind, choice, cents in operations:
        if kind in ("reverse", "return") and not disbursement_ids:
            continue
        index = choice % len(disbursement_ids) if disbursement_ids else 0
        target = disbursement_ids[index] if disbursement_ids else None
        expected = model.accepts(kind, index, cents)
        before = ledger.position()
        try:
            aggregate_id = _run(ledger, pledge_id, target, kind, cents)
        except errors.RuleViolation:
            assert not expected, (kind, index, cents)
            assert ledger.position() == before
        else:
            assert expected, (kind, index, cents)
            model.apply(kind, index, cents)
            if kind == "disburse":
                disbursement_ids.append(aggregate_id)
        view = ledger.pledge(pledge_id)
        assert Decimal(0) <= view.net_disbursed <= view.amount.value
        assert view.net_disbursed == view.disbursed - view.reversed - view.returned
        assert view.outstanding == view.amount.value - view.net_disbursed
        assert (view.net_disbursed, view.amount.value) == (Decimal(model.net) * CENTS, Decimal(model.amount) * CENTS)


# -- atomic saves of several aggregates -----------------------------------------------------------


def test_a_disbursement_stores_its_event_and_the_pledges_in_one_save(ledger: AidLedger) -> None:
    """The receipt lists both positions; both aggregates' versions advance together."""
    pledged = set_up_pledge(ledger)
    pledge_version = ledger.pledge(pledged.pledge_id).version
    before = ledger.position()
    receipt = ledger.disburse(pledge_id=pledged.pledge_id, amount="100.00", effective_on="2018-04-10")
    assert receipt.positions == (before + 1, before + 2)
    assert ledger.position() == before + 2
    assert ledger.disbursement(receipt.aggregate_id).version == 1
    assert ledger.pledge(pledged.pledge_id).version == pledge_version + 1
    stored = [event for _, event in ledger.read_log(before + 1)]
    assert len(stored) == 2
    assert isinstance(stored[0], Disbursement.Made)
    assert isinstance(stored[1], Pledge.Disbursed)
    assert [event.originator_id for event in stored] == [receipt.aggregate_id, pledged.pledge_id]
    assert {event.command_id for event in stored} == {receipt.command_id}


def test_a_disbursement_that_raced_another_is_decided_again_on_the_new_state(open_store: OpenStore) -> None:
    """When a concurrent writer disbursed first, the retry sees it and refuses the over-disbursement."""
    ledger = open_store()
    other = aidledger.open(ledger.store.address, recorded_by="other-clerk")  # a second writer on the same database
    try:
        pledged = set_up_pledge(ledger, "1000.00")
        first_save = ledger.save_decided
        raced: list[UUID] = []

        def save_after_the_other_writer(*objs: Any, **kwargs: Any) -> Any:
            if not raced:
                raced.append(disburse(other, pledged.pledge_id, "700.00"))
            return first_save(*objs, **kwargs)

        ledger.save_decided = save_after_the_other_writer  # type: ignore[method-assign]
        before = ledger.position()
        with pytest.raises(errors.OverDisbursement, match=r"400\.00 CNY .* outstanding is 300\.00"):
            disburse(ledger, pledged.pledge_id, "400.00")
        assert ledger.position() == before + 2  # only the other writer's disbursement was stored
        view = ledger.pledge(pledged.pledge_id)
        assert (len(raced), view.net_disbursed, view.version) == (1, Decimal("700.00"), 2)
    finally:
        other.close()


@contextmanager
def refusing_trigger(ledger: AidLedger) -> Iterator[None]:
    """A trigger in the ledger's own database that refuses every Pledge.Disbursed row."""
    if ledger.store.address.startswith("postgres"):
        import psycopg

        with psycopg.connect(ledger.store.address, autocommit=True) as pg:
            pg.execute(
                "CREATE FUNCTION refuse_pledge_event() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN IF NEW.topic LIKE '%Pledge.Disbursed' THEN RAISE EXCEPTION 'refused by test' "
                "USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END $$"
            )
            table = ledger.recorder.events_table_name  # type: ignore[attr-defined]
            pg.execute(
                f"CREATE TRIGGER refuse_pledge_event BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_pledge_event()"
            )
            yield
            pg.execute(f"DROP TRIGGER refuse_pledge_event ON {table}")
        return
    with closing(connect_raw(ledger)) as raw:
        raw.execute(
            "CREATE TRIGGER refuse_pledge_event BEFORE INSERT ON stored_events "
            "WHEN NEW.topic LIKE '%Pledge.Disbursed' BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
        )
        raw.commit()
        yield
        raw.execute("DROP TRIGGER refuse_pledge_event")
        raw.commit()


def test_when_the_store_refuses_one_event_of_a_disbursement_neither_is_stored(ledger: AidLedger) -> None:
    """A trigger refuses the pledge's event; the disbursement's event, written first, is rolled back too."""
    pledged = set_up_pledge(ledger)
    pledge_version = ledger.pledge(pledged.pledge_id).version
    # The store refuses the row as it would refuse a version a concurrent writer took first,
    # so the ledger retries and gives up.
    with refusing_trigger(ledger), refused(ledger, errors.ConcurrencyConflict, "cmd-atomic"):
        ledger.disburse(
            command_id="cmd-atomic", pledge_id=pledged.pledge_id, amount="100.00", effective_on="2018-04-10"
        )
    with pytest.raises(errors.NotFound):
        ledger.disbursement(derive_id("disbursement", "cmd-atomic"))
    assert ledger.pledge(pledged.pledge_id).version == pledge_version
    receipt = ledger.disburse(
        command_id="cmd-atomic", pledge_id=pledged.pledge_id, amount="100.00", effective_on="2018-04-10"
    )
    assert len(receipt.positions) == 2
    assert ledger.pledge(pledged.pledge_id).net_disbursed == Decimal("100.00")
