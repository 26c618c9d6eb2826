"""Canaries: bugs planted in copies of the projections, which the property suite must find.

A suite that cannot fail proves nothing. Each test here swaps a piece of the totals projection for
a copy with one deliberate, plausible mistake (inside the test only, undone by ``monkeypatch``)
and runs the property checks: hypothesis must find a failing example, and the test asserts that
it did. If a canary stops failing, the suite has gone blind to that kind of bug.

(The copies mirror ``aidledger.projections.totals.derive_columns`` and the fold's handler of
``Disbursement.Reversed``; if those are renamed, update the canaries with them.)
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.stateful import run_state_machine_as_test
from tests.property.test_ledger_machine import LedgerMachine

import aidledger
from aidledger.testing import invariants, strategies
from aidledger.testing.invariants import InvariantViolation

# Imported by module name: ``aidledger.projections.totals`` is also the name of a function.
fold_module = importlib.import_module("aidledger.projections.fold")
totals_module = importlib.import_module("aidledger.projections.totals")

HUNT = settings(
    max_examples=300,
    stateful_step_count=30,
    database=None,  # a canary must find its bug afresh, not replay a stored example
    derandomize=True,  # the same search every run: a canary that passes once passes always
    phases=[Phase.generate],  # finding the bug is the point; shrinking it would only cost time
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


MONEY_FLOW = (
    "register_organization",
    "register_project",
    "make_pledge",
    "sign_pledge",
    "disburse",
    "confirm_disbursement",
    "reverse_disbursement",
    "return_disbursement",
)
"""The commands a bug in reversals or returns lives among. Over every kind few histories reverse
confirmed money or return some, and a search of a few hundred examples missed them for some seeds
(hypothesis derives its seed in part from the modules loaded before it, so the outcome depended on
what the suite had run first); among these kinds the search finds them within about a hundred."""


def derive_columns_forgetting_returns(base: Sequence[int]) -> dict[str, Decimal]:
    """A copy of ``derive_columns`` with a planted bug: ``outstanding`` ignores money returned."""
    intended, signed, withdrawn, disbursed, confirmed, reversed_, returned = base
    values = {
        "intended": intended,
        "signed": signed,
        "pledged": intended + signed,
        "withdrawn": withdrawn,
        "disbursed": disbursed,
        "confirmed": confirmed,
        "reversed": reversed_,
        "returned": returned,
        "net_disbursed": disbursed - reversed_ - returned,
        "outstanding": signed - disbursed + reversed_,  # BUG: + returned is missing
    }
    return {name: fold_module.money(values[name]) for name in totals_module.COLUMNS}


def reversal_keeping_confirmation(fold: Any, position: int, originator_id: str, name: str, event: Any) -> None:
    """A copy of the fold's ``Disbursement.Reversed`` handler with a planted bug: a reversed
    disbursement that had been confirmed stays in the ``confirmed`` column."""
    record = fold.disbursements[originator_id]
    record.reversed = True
    fold._disbursement_fact(position, name, event, record, "reversed", record.amount, record.value_date)
    # BUG: the confirmed amount is not taken back


class MoneyFlowMachine(LedgerMachine):
    """The property suite's state machine, drawing only the commands that move money."""

    kinds = MONEY_FLOW


def test_the_state_machine_finds_a_bug_planted_in_derive_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``outstanding`` forgetting returns, the stateful test fails (and says where)."""
    monkeypatch.setattr(totals_module, "derive_columns", derive_columns_forgetting_returns)
    with pytest.raises(InvariantViolation, match="outstanding"):
        run_state_machine_as_test(MoneyFlowMachine, settings=HUNT)


def test_random_histories_find_a_bug_planted_in_the_folds_reversals(monkeypatch: pytest.MonkeyPatch) -> None:
    """With reversals leaving confirmed money counted, the history test fails."""
    monkeypatch.setattr(fold_module.LedgerFold, "_disbursement_reversed", reversal_keeping_confirmation)

    @HUNT
    @given(history=strategies.histories(max_size=40, kinds=MONEY_FLOW))
    def ledger_agrees_with_the_model(history: list[dict[str, Any]]) -> None:
        with closing(aidledger.open(":memory:")) as ledger:
            model = invariants.run_history(ledger, history)
            invariants.check_agrees_with_model(ledger, model)

    with pytest.raises(InvariantViolation, match="confirmed"):
        ledger_agrees_with_the_model()


def test_the_planted_bugs_are_absent_from_the_real_projection() -> None:
    """The canaries' copies differ from the library's own code only by their planted bug."""
    base = [0, 10000, 0, 6000, 0, 0, 1000]  # hundredths: signed 100.00, disbursed 60.00, returned 10.00
    real, planted = totals_module.derive_columns(base), derive_columns_forgetting_returns(base)
    assert real["outstanding"] == Decimal("50.00")
    assert planted["outstanding"] == Decimal("40.00")
    assert {k: v for k, v in real.items() if k != "outstanding"} == {
        k: v for k, v in planted.items() if k != "outstanding"
    }
    assert fold_module.LedgerFold._disbursement_reversed is not reversal_keeping_confirmation


def test_the_third_party_example_catches_a_dashboard_that_forgets_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/third_party_check.py fails when its dashboard has a planted bug (returns not netted)."""
    path = Path(__file__).resolve().parents[2] / "examples" / "third_party_check.py"
    spec = importlib.util.spec_from_file_location("third_party_check", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    def dashboard_forgetting_returns(ledger: aidledger.AidLedger) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
        """A copy of the example's dashboard with a planted bug: money given back is not netted."""
        figures: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
        made = {e.originator_id for _, e in ledger.read_log() if type(e).__qualname__ == "Pledge.Made"}
        for pledge_id in sorted(made):
            pledge = ledger.pledge(pledge_id)
            plan = ledger.project(pledge.project_id).plan
            county = "(pooled fund)" if plan.pooled_fund or plan.region is None else plan.region
            signed = pledge.amount.value if pledge.stage.value == "signed" and not pledge.withdrawn else Decimal(0)
            net = pledge.disbursed - pledge.reversed  # BUG: - pledge.returned is missing
            old_signed, old_net = figures.get((county, pledge.amount.currency), (Decimal(0), Decimal(0)))
            figures[(county, pledge.amount.currency)] = (old_signed + signed, old_net + net)
        return {key: value for key, value in figures.items() if any(value)}

    monkeypatch.setattr(example, "county_dashboard", dashboard_forgetting_returns)
    with pytest.raises(AssertionError, match="disagrees"):
        HUNT(given(history=strategies.histories(max_size=40))(example.check_history))()
