"""Whole random histories: the ledger agrees with the reference model, and the strategies reach every rule."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from tests.property.budget import examples

import aidledger
from aidledger import errors
from aidledger.testing import invariants, strategies
from aidledger.testing.model import MAX_AMOUNT, LedgerModel

Record = dict[str, Any]
SEARCH = settings(
    max_examples=3000,
    database=None,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
"""Settings for ``find``: search the strategies (no ledger involved) until an example turns up."""


@settings(max_examples=examples(ci=100, deep=1500))
@given(history=strategies.histories(max_size=40))
def test_the_ledger_decides_and_counts_as_the_model_on_random_histories(history: list[Record]) -> None:
    """Every decision, every total and every invariant agree with the reference model."""
    with closing(aidledger.open(":memory:")) as ledger:
        model = invariants.run_history(ledger, history)
        invariants.check_all(ledger, model, history, effective_on=min(model.dates, default=None))


@settings(max_examples=examples(ci=30, deep=600))
@given(history=strategies.histories(min_size=5, max_size=30, valid_only=True))
def test_valid_histories_are_accepted_whole(history: list[Record]) -> None:
    """A history drawn with ``valid_only`` is accepted command by command (or repeated)."""
    with closing(aidledger.open(":memory:")) as ledger:
        for record in history:
            result = invariants.run_record(ledger, record)
            assert isinstance(result, aidledger.Receipt), f"{record} was refused: {result!r}"


REFUSALS = (
    errors.InvalidInput,
    errors.NotFound,
    errors.IdempotencyConflict,
    errors.OverDisbursement,
    errors.PledgeNotSigned,
    errors.PledgeWithdrawn,
    errors.PledgeAlreadySigned,
    errors.PledgeBelowDisbursed,
    errors.PledgeHasDisbursements,
    errors.CurrencyMismatch,
    errors.ProjectClosed,
    errors.OrganizationDeregistered,
    errors.DisbursementAlreadyReversed,
    errors.DisbursementAlreadyConfirmed,
    errors.DisbursementHasReturns,
    errors.ReturnExceedsDisbursement,
    errors.NotAPooledFund,
    errors.RegrantExceedsPool,
    errors.RegrantDonorMismatch,
    errors.DuplicateCreditCode,
    errors.InvalidTransition,
)
"""Every rule a command can break (ConcurrencyConflict needs two writers; it is tested elsewhere)."""

SITUATIONS: dict[str, Callable[[LedgerModel, list[Record]], bool]] = {
    "an accepted regrant": lambda m, _: any(p.funded_from and not p.withdrawn for p in m.pledges.values()),
    "an idempotent repeat": lambda m, h: len({r.get("command_id") for r in h}) < len(h),
    "a backdated event": lambda m, _: any(b < a for a, b in zip(m.dates, m.dates[1:], strict=False)),
    "a pledge paid to the fen": lambda m, _: any(p.disbursed > 0 and p.outstanding == 0 for p in m.pledges.values()),
    "a withdrawn pledge": lambda m, _: any(p.withdrawn for p in m.pledges.values()),
    "a returned disbursement": lambda m, _: any(d.returned > 0 for d in m.disbursements.values()),
    "a confirmed then reversed disbursement": lambda m, _: any(
        d.reversed and d.confirmed for d in m.disbursements.values()
    ),
    "the maximum amount paid out": lambda m, _: any(d.amount == MAX_AMOUNT for d in m.disbursements.values()),
    "an in-kind anonymous pledge": lambda m, h: any(p.in_kind and p.anonymous for p in m.pledges.values()),
    "a pledge in another currency": lambda m, _: any(p.currency != "CNY" for p in m.pledges.values()),
}
"""Situations the histories must reach, besides every refusal."""


def test_random_histories_reach_every_refusal_and_every_situation() -> None:
    """The strategies produce every refusal and every kind of situation the suite must see.

    Without this, a rule the strategies never exercise could break unnoticed: the suite can only
    fail on what it generates.
    """
    missing = {error.__name__ for error in REFUSALS} | set(SITUATIONS)

    def covers_the_rest(history: list[Record]) -> bool:
        model = LedgerModel()
        for record in history:
            outcome = model.run(record)
            if outcome.error is not None:
                missing.discard(outcome.error.__name__)
        missing.difference_update(name for name, seen in SITUATIONS.items() if seen(model, history))
        return not missing

    try:
        find(strategies.histories(max_size=40), covers_the_rest, settings=SEARCH)
    except NoSuchExample:
        pytest.fail(f"random histories never reached: {sorted(missing)}")


@pytest.mark.parametrize("limit", [Decimal("0.01"), Decimal("1234.56"), MAX_AMOUNT])
def test_edge_amounts_hit_the_limit_one_fen_more_one_fen_and_the_maximum(limit: Decimal) -> None:
    """``edge_amounts`` draws exactly the limit, one fen above it, one fen, and the maximum."""
    for wanted in (limit, limit + Decimal("0.01"), Decimal("0.01"), MAX_AMOUNT):

        def is_wanted(amount: Decimal, wanted: Decimal = wanted) -> bool:
            return amount == wanted

        assert find(strategies.edge_amounts(limit), is_wanted, settings=SEARCH) == wanted


@settings(max_examples=examples(ci=50, deep=1000))
@given(amount=strategies.invalid_amounts(), data=st.data())
def test_invalid_amounts_are_refused_as_input_and_store_nothing(amount: Any, data: st.DataObject) -> None:
    """Zero, negative, too precise, too large, float and malformed amounts are InvalidInput."""
    with closing(aidledger.open(":memory:")) as ledger:
        organization = data.draw(strategies.organizations(command_id="org-1"))
        project = data.draw(strategies.projects("org-1", pooled_fund=False, command_id="prj-1"))
        pledge = data.draw(strategies.pledges("org-1", "prj-1", command_id="pl-1")) | {"amount": amount}
        model = invariants.run_history(ledger, [organization, project])
        outcome = model.run(pledge)
        assert outcome.error is errors.InvalidInput
        invariants.check_outcome(ledger, pledge, outcome)
