"""Backdated events and as-of-date reports: what a figure was at a date, as best known now.

A command may take effect (``effective_on``) before commands recorded earlier. The ledger refuses
a change dated before what it changes (``EffectiveDateOutOfOrder``), and dates a reversal back to
the value date of the disbursement it undoes. As-of-date totals must still keep the pledge
invariant of DESIGN §2 at every date: 0 ≤ net disbursed ≤ pledged, no negative column, nothing
paid beyond the signed amount, no pool regranting money it did not yet hold.

The scenario tests below began as bugs this suite found (a withdrawal, an amendment, a payment or a
regrant dated before what made it possible); the ledger now refuses each such backdated command.
"""

from __future__ import annotations

from contextlib import closing
from datetime import date
from typing import Any

from hypothesis import example, given, settings
from tests.property.budget import examples

import aidledger
from aidledger import errors
from aidledger.testing import invariants, strategies

Record = dict[str, Any]


def command(name: str, command_id: str, day: str, /, **fields: Any) -> Record:
    """A command record as ``run_command`` reads it."""
    return {"command": name, "command_id": command_id, "recorded_by": "tester", "effective_on": day} | fields


SETUP = [
    command(
        "register_organization", "org", "2018-01-01", name="河北省扶贫基金会", kind="foundation", level="provincial",
        home_region="130000",
    ),
    command(
        "register_project", "prj", "2018-01-01", title="张北县马铃薯产业帮扶", implementing_organization_id="org",
        region="130722", category="capacity", field="industry", planned_start="2018-01-01", planned_end="2018-12-31",
    ),
    command(
        "register_project", "pool", "2018-01-01", title="扶贫联合基金", implementing_organization_id="org",
        pooled_fund=True, category="direct_aid", field="other", planned_start="2018-01-01", planned_end="2018-12-31",
    ),
]  # fmt: skip


def pledge(amount: str = "1000.00", **fields: Any) -> Record:
    """A pledge ``pl`` from ``org`` to ``prj`` made on 2018-01-01."""
    return command("make_pledge", "pl", "2018-01-01", donor_id="org", project_id="prj", amount=amount) | fields


def check_every_date(history: list[Record], days: list[str]) -> None:
    """Run the history (checking every decision against the model), then the bounds at each date."""
    with closing(aidledger.open(":memory:")) as ledger:
        model = invariants.run_history(ledger, history)
        assert len(model.accepted) == len(history), "every command of the scenario is accepted"
        for day in days:
            invariants.check_pledge_bounds(ledger, date.fromisoformat(day))
            invariants.check_pools_cover_regrants(ledger, date.fromisoformat(day))


def check_refused_last(history: list[Record], days: list[str]) -> None:
    """The last, backdated command is refused (EffectiveDateOutOfOrder); the bounds hold at each date."""
    with closing(aidledger.open(":memory:")) as ledger:
        model = invariants.run_history(ledger, history)
        assert len(model.accepted) == len(history) - 1, "every command but the backdated last is accepted"
        assert model.run(history[-1]).error is errors.EffectiveDateOutOfOrder
        for day in days:
            invariants.check_pledge_bounds(ledger, date.fromisoformat(day))
            invariants.check_pools_cover_regrants(ledger, date.fromisoformat(day))


def test_a_change_dated_before_what_it_changes_is_refused_and_stores_nothing() -> None:
    """Confirming, reversing or returning before the value date, or signing before the pledge, is refused."""
    history = [*SETUP, pledge(stage="intended"), command("sign_pledge", "s", "2018-02-01", pledge_id="pl")]
    with closing(aidledger.open(":memory:")) as ledger:
        model = invariants.run_history(ledger, history)
        late = command("disburse", "d", "2018-03-01", pledge_id="pl", amount="100.00")
        invariants.check_outcome(ledger, late, model.run(late))
        for early in [
            command("confirm_disbursement", "c", "2018-02-28", disbursement_id="d"),
            command("reverse_disbursement", "r", "2018-02-28", disbursement_id="d", reason="录入错误"),
            command("return_disbursement", "b", "2018-02-28", disbursement_id="d", amount="1.00", reason="退回"),
            command("withdraw_pledge", "w", "2018-01-31", pledge_id="pl", reason="撤回"),
        ]:
            outcome = model.run(early)
            assert outcome.error is errors.EffectiveDateOutOfOrder
            invariants.check_outcome(ledger, early, outcome)


def test_a_reversal_recorded_later_undoes_the_disbursement_from_its_value_date() -> None:
    """As of any date after the value date, a reversed disbursement nets to zero, confirmed included."""
    history = [
        *SETUP,
        pledge(),
        command("disburse", "d", "2018-03-01", pledge_id="pl", amount="400.00"),
        command("confirm_disbursement", "c", "2018-03-10", disbursement_id="d"),
        command("reverse_disbursement", "r", "2018-06-01", disbursement_id="d", reason="录入错误"),
    ]
    check_every_date(history, ["2018-02-01", "2018-03-05", "2018-03-15", "2018-07-01"])


def test_a_withdrawal_dated_before_the_return_that_allowed_it_keeps_as_of_bounds() -> None:
    """Withdrawn (dated 04-01) after everything was returned (dated 05-01): as of 04-15, net ≤ pledged."""
    history = [
        *SETUP,
        pledge(),
        command("disburse", "d", "2018-03-01", pledge_id="pl", amount="1000.00"),
        command("return_disbursement", "b", "2018-05-01", disbursement_id="d", amount="1000.00", reason="退回"),
        command("withdraw_pledge", "w", "2018-04-01", pledge_id="pl", reason="撤回"),
    ]
    check_refused_last(history, ["2018-04-15"])


def test_an_amendment_down_dated_before_the_return_that_made_room_keeps_as_of_bounds() -> None:
    """Amended down to 400 (dated 04-01) after 600 of 1000 was returned (dated 05-01): as of 04-15, net ≤ pledged."""
    history = [
        *SETUP,
        pledge(),
        command("disburse", "d", "2018-03-01", pledge_id="pl", amount="1000.00"),
        command("return_disbursement", "b", "2018-05-01", disbursement_id="d", amount="600.00", reason="退回"),
        command("amend_pledge", "a", "2018-04-01", pledge_id="pl", amount="400.00", reason="减少"),
    ]
    check_refused_last(history, ["2018-04-15"])


def test_a_disbursement_dated_before_the_increase_that_covers_it_keeps_as_of_bounds() -> None:
    """Pledged 100, increased to 200 on 03-01, 150 paid with value date 02-01: as of 02-15, net ≤ pledged."""
    history = [
        *SETUP,
        pledge("100.00"),
        command("amend_pledge", "a", "2018-03-01", pledge_id="pl", amount="200.00", reason="增加"),
        command("disburse", "d", "2018-02-01", pledge_id="pl", amount="150.00"),
    ]
    check_refused_last(history, ["2018-02-15"])


def test_a_disbursement_dated_before_the_signing_keeps_as_of_bounds() -> None:
    """Intended on 01-01, signed on 03-01, paid with value date 02-01: as of 02-15, outstanding ≥ 0."""
    history = [
        *SETUP,
        pledge("100.00", stage="intended"),
        command("sign_pledge", "s", "2018-03-01", pledge_id="pl"),
        command("disburse", "d", "2018-02-01", pledge_id="pl", amount="100.00"),
    ]
    check_refused_last(history, ["2018-02-15"])


def check_regrant_refused_last(history: list[Record], days: list[str], *words: str) -> None:
    """The last command is refused (RegrantExceedsPool) naming ``words``; pools cover regrants at each date."""
    with closing(aidledger.open(":memory:")) as ledger:
        model = invariants.run_history(ledger, history[:-1])
        assert len(model.accepted) == len(history) - 1, "every command but the last is accepted"
        outcome = model.run(history[-1])
        assert outcome.error is errors.RegrantExceedsPool, outcome
        error = invariants.check_outcome(ledger, history[-1], outcome)
        assert all(word in str(error) for word in words), str(error)
        for day in days:
            invariants.check_pledge_bounds(ledger, date.fromisoformat(day))
            invariants.check_pools_cover_regrants(ledger, date.fromisoformat(day))


POOL = [
    *SETUP,
    command("make_pledge", "pp", "2018-01-01", donor_id="org", project_id="pool", amount="1000.00"),
    command("disburse", "d", "2018-03-01", pledge_id="pp", amount="1000.00"),
]


def regrant(day: str, amount: str = "500.00", command_id: str = "rg") -> Record:
    """A regrant from the pool pledge ``pp`` to ``prj``."""
    return command("make_pledge", command_id, day, donor_id="org", project_id="prj", amount=amount, funded_from="pp")


def test_a_regrant_dated_before_the_pool_received_the_money_is_refused_and_stores_nothing() -> None:
    """Pool pledge paid on 03-01, 500 regranted from it dated 02-01: refused (as of 02-15 the pool held nothing)."""
    check_regrant_refused_last([*POOL, regrant("2018-02-01")], ["2018-02-15"], "2018-02-01", "0.00", "2018-03-01")


def test_a_regrant_dated_the_day_the_money_reached_the_pool_is_accepted() -> None:
    """The edge: a regrant dated on the value date of the disbursement into the pool draws on it."""
    check_every_date([*POOL, regrant("2018-03-01", "1000.00")], ["2018-02-28", "2018-03-01", "2018-04-01"])


def test_a_regrant_dated_between_two_payments_into_the_pool_may_draw_only_the_first() -> None:
    """600 arrived on 02-15 and 400 on 03-01: a regrant dated 02-20 may draw 600.00, not 600.01."""
    history = [
        *SETUP,
        command("make_pledge", "pp", "2018-01-01", donor_id="org", project_id="pool", amount="1000.00"),
        command("disburse", "d1", "2018-02-15", pledge_id="pp", amount="600.00"),
        command("disburse", "d2", "2018-03-01", pledge_id="pp", amount="400.00"),
    ]
    check_regrant_refused_last([*history, regrant("2018-02-20", "600.01")], ["2018-02-25"], "at most 600.00")
    check_every_date([*history, regrant("2018-02-20", "600.00")], ["2018-02-25", "2018-03-05"])


def test_a_regrant_raised_with_a_date_before_the_money_that_covers_it_is_refused() -> None:
    """500 regranted on 03-05; raised to 1500 dated 03-10 while the second 1000 arrives only on 04-01."""
    history = [
        *POOL,
        command("disburse", "d2", "2018-04-01", pledge_id="pp", amount="1000.00"),
        regrant("2018-03-05"),
        command("amend_pledge", "a", "2018-03-10", pledge_id="rg", amount="1500.00", reason="追加"),
    ]
    history[3] = command("make_pledge", "pp", "2018-01-01", donor_id="org", project_id="pool", amount="2000.00")
    check_regrant_refused_last(history, ["2018-03-15"], "2018-03-10")


def test_reversing_pool_money_a_regrant_relied_on_at_its_date_is_refused() -> None:
    """1000 in on 03-01, regranted on 04-01, 1000 more in on 06-01: reversing the first leaves 04-01 uncovered."""
    history = [
        *SETUP,
        command("make_pledge", "pp", "2018-01-01", donor_id="org", project_id="pool", amount="2000.00"),
        command("disburse", "d", "2018-03-01", pledge_id="pp", amount="1000.00"),
        regrant("2018-04-01", "1000.00"),
        command("disburse", "d2", "2018-06-01", pledge_id="pp", amount="1000.00"),
    ]
    reverse = command("reverse_disbursement", "r", "2018-07-01", disbursement_id="d", reason="录入错误")
    give_back = command("return_disbursement", "b", "2018-04-02", disbursement_id="d", amount="0.01", reason="退回")
    check_regrant_refused_last([*history, reverse], ["2018-04-15"], "2018-04-01")
    check_regrant_refused_last([*history, give_back], ["2018-04-15"], "2018-04-02")


WITHDRAWN_BEFORE_RETURN = [
    *SETUP,
    pledge(),
    command("disburse", "d", "2018-03-01", pledge_id="pl", amount="1000.00"),
    command("return_disbursement", "b", "2018-05-01", disbursement_id="d", amount="1000.00", reason="退回"),
    command("withdraw_pledge", "w", "2018-04-01", pledge_id="pl", reason="撤回"),
]


@settings(max_examples=examples(ci=40, deep=1500))
@example(history=WITHDRAWN_BEFORE_RETURN)
@given(history=strategies.histories(max_size=30))
def test_as_of_date_totals_keep_the_pledge_bounds_on_random_histories(history: list[Record]) -> None:
    """At every effective date of a random history, every pledge keeps its bounds and pools cover regrants."""
    with closing(aidledger.open(":memory:")) as ledger:
        model = invariants.run_history(ledger, history)
        for day in sorted(set(model.dates)):
            invariants.check_agrees_with_model(ledger, model, effective_on=day)
            invariants.check_pledge_bounds(ledger, day)
            invariants.check_pools_cover_regrants(ledger, day)
