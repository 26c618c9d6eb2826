"""Metamorphic relations: changes to a history that must leave the totals as they were (or move them exactly).

No reference model is needed here: two histories that must count the same are run on two
ledgers and their reports compared.

- reordering independent commands (the lifecycles of different pledges) changes no total;
- splitting a disbursement in two changes no total;
- a disbursement and its reversal net to zero, and so do a pledge and its withdrawal: only the
  ``disbursed`` and ``reversed`` (or ``withdrawn``) columns move, by exactly the amount.
"""

from __future__ import annotations

from contextlib import closing
from decimal import Decimal
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.property.budget import examples

import aidledger
from aidledger import AidLedger, projections
from aidledger.projections import AsOf
from aidledger.projections.totals import pledge_columns
from aidledger.testing import invariants, strategies
from aidledger.testing.model import LedgerModel, ModelPledge, resolve

Record = dict[str, Any]
GROUPINGS = invariants.DEFAULT_GROUPINGS
SETUP_KINDS = ("register_organization", "register_project")
BUSY_KINDS = (
    "register_organization",
    "register_project",
    "make_pledge",
    "regrant",
    "disburse",
    "sign_pledge",
    "amend_pledge",
    "confirm_disbursement",
    "reverse_disbursement",
    "return_disbursement",
)


def _run(history: list[Record]) -> AidLedger:
    ledger = aidledger.open(":memory:")
    for record in history:
        invariants.run_record(ledger, record)
    return ledger


def _figures(ledger: AidLedger) -> list[dict[Any, Any]]:
    """Every row of every grouping (coordinates aside), and every pledge's columns."""
    fold = projections.fold_of(ledger)
    rows = [invariants.report_rows(projections.totals(fold, g)) for g in GROUPINGS]
    return [*rows, pledge_columns(fold, AsOf())]


def _model_of(history: list[Record]) -> LedgerModel:
    model = LedgerModel()
    for record in history:
        model.run(record)
    return model


def _live(model: LedgerModel, minimum_units: int) -> list[tuple[str, ModelPledge]]:
    """Signed, standing pledges on open projects with at least ``minimum_units`` outstanding."""
    return [
        (cid, pledge)
        for cid in model.created["pledge"]
        if (pledge := model.pledges[resolve(cid, "pledge")]).stage == "signed"
        and not pledge.withdrawn
        and model.projects[pledge.project].status != "cancelled"
        and pledge.outstanding >= minimum_units * strategies.unit_of(pledge.currency)
    ]


def _record(name: str, command_id: str, day: str, **fields: Any) -> Record:
    return {"command": name, "command_id": command_id, "recorded_by": strategies.RECORDED_BY, "effective_on": day} | (
        fields
    )


@settings(max_examples=examples(ci=40, deep=1000))
@given(data=st.data())
def test_reordering_independent_commands_changes_no_total(data: st.DataObject) -> None:
    """The lifecycles of different pledges, interleaved in any order, give the same decisions and totals."""
    setup = data.draw(strategies.histories(min_size=3, max_size=8, kinds=SETUP_KINDS, valid_only=True), label="setup")
    model = _model_of(setup)
    assume(model.created["organization"] and model.created["project"])
    streams = [data.draw(strategies.pledge_lifecycles(model, prefix=f"s{n}-"), label=f"stream {n}") for n in range(3)]
    turns = data.draw(st.permutations([n for n, stream in enumerate(streams) for _ in stream]), label="interleaving")
    positions = [0] * len(streams)
    interleaved = []
    for n in turns:
        interleaved.append(streams[n][positions[n]])
        positions[n] += 1
    sequential = [record for stream in streams for record in stream]
    with closing(_run(setup + sequential)) as first, closing(_run(setup + interleaved)) as second:
        assert first.position() == second.position()
        assert _figures(first) == _figures(second)


@settings(max_examples=examples(ci=40, deep=1000))
@given(data=st.data())
def test_splitting_a_disbursement_in_two_changes_no_total(data: st.DataObject) -> None:
    """Paying an amount at once, or in two parts on the same day, gives the same totals."""
    history = data.draw(strategies.histories(min_size=4, max_size=20, kinds=BUSY_KINDS, valid_only=True))
    model = _model_of(history)
    live = _live(model, minimum_units=2)
    assume(live)
    pledge_cid, pledge = data.draw(st.sampled_from(live), label="pledge")
    unit = strategies.unit_of(pledge.currency)
    whole = unit * data.draw(st.integers(2, int(pledge.outstanding / unit)), label="whole in units")
    part = unit * data.draw(st.integers(1, int(whole / unit) - 1), label="part in units")
    day = max(model.dates).isoformat()
    confirmed = data.draw(st.booleans(), label="confirmed")

    def paid(command_id: str, amount: Decimal) -> list[Record]:
        money = strategies.amount_field(amount, pledge.currency)
        records = [_record("disburse", command_id, day, pledge_id=pledge_cid, amount=money)]
        if confirmed:
            records.append(_record("confirm_disbursement", f"{command_id}-ok", day, disbursement_id=command_id))
        return records

    at_once = paid("whole", whole)
    in_two = paid("part-1", part) + paid("part-2", whole - part)
    with closing(_run(history + at_once)) as first, closing(_run(history + in_two)) as second:
        assert projections.fold_of(first).facts != projections.fold_of(second).facts
        assert _figures(first) == _figures(second)


def _grand_of_flow(report: projections.TotalsReport, currency: str, flow: str) -> dict[str, Decimal]:
    """The grand total's columns of one currency and flow (a donation's, or another flow's, kept apart)."""
    rows = [r for r in report.totals if r.currency == currency]
    if not rows:
        return dict.fromkeys(projections.COLUMNS, Decimal("0.00"))
    (row,) = rows
    if flow == "donation":
        return dict(row.columns)
    return dict(row.other_flows.get(flow, dict.fromkeys(projections.COLUMNS, Decimal("0.00"))))


def _moved(before: dict[str, Decimal], after: dict[str, Decimal]) -> dict[str, Decimal]:
    return {column: after[column] - before[column] for column in after if after[column] != before[column]}


@settings(max_examples=examples(ci=40, deep=1000))
@given(data=st.data())
def test_a_disbursement_and_its_reversal_net_to_zero(data: st.DataObject) -> None:
    """Disbursing (and perhaps confirming) then reversing moves only ``disbursed`` and ``reversed``, by the amount."""
    history = data.draw(strategies.histories(min_size=4, max_size=20, kinds=BUSY_KINDS, valid_only=True))
    model = _model_of(history)
    live = _live(model, minimum_units=1)
    assume(live)
    pledge_cid, pledge = data.draw(st.sampled_from(live), label="pledge")
    unit = strategies.unit_of(pledge.currency)
    whole_units = st.integers(1, int(pledge.outstanding / unit)).map(lambda units: unit * units)
    amount = data.draw(st.one_of(st.just(pledge.outstanding), st.just(unit), whole_units), label="amount")
    day = max(model.dates).isoformat()
    money = strategies.amount_field(amount, pledge.currency)
    correction = [_record("disburse", "oops", day, pledge_id=pledge_cid, amount=money)]
    if data.draw(st.booleans(), label="confirmed first"):
        correction.append(_record("confirm_disbursement", "oops-ok", day, disbursement_id="oops"))
    correction.append(_record("reverse_disbursement", "oops-undo", day, disbursement_id="oops", reason="录入错误"))
    with closing(_run(history)) as before, closing(_run(history + correction)) as after:
        grand_before = _grand_of_flow(projections.totals(before), pledge.currency, pledge.flow)
        grand_after = _grand_of_flow(projections.totals(after), pledge.currency, pledge.flow)
        assert _moved(grand_before, grand_after) == {
            "disbursed": amount,
            "reversed": amount,
        }
        columns_before, columns_after = _figures(before)[-1], _figures(after)[-1]
        pledge_id = str(pledge.id)
        assert _moved(columns_before[pledge_id], columns_after[pledge_id]) == {"disbursed": amount, "reversed": amount}
        assert {k: v for k, v in columns_after.items() if k != pledge_id} == {
            k: v for k, v in columns_before.items() if k != pledge_id
        }


@settings(max_examples=examples(ci=30, deep=1000))
@given(data=st.data())
def test_a_pledge_and_its_withdrawal_net_to_zero(data: st.DataObject) -> None:
    """Making then withdrawing a pledge moves only the ``withdrawn`` column, by the amount."""
    history = data.draw(strategies.histories(min_size=3, max_size=15, kinds=BUSY_KINDS, valid_only=True))
    model = _model_of(history)
    donors = [
        c for c in model.created["organization"] if not model.organizations[resolve(c, "organization")].deregistered
    ]
    open_projects = [
        c
        for c in model.created["project"]
        if model.projects[resolve(c, "project")].status not in ("completed", "cancelled")
    ]
    assume(donors and open_projects)
    donor, project = data.draw(st.sampled_from(donors)), data.draw(st.sampled_from(open_projects))
    pledge = data.draw(strategies.pledges(donor, project, command_id="second-thoughts"))
    if model.projects[resolve(project, "project")].pooled_fund:  # a pool takes donations only
        pledge.pop("flow", None)
    flow = pledge.get("flow", "donation")
    day = pledge["effective_on"]
    withdrawal = _record("withdraw_pledge", "changed-mind", day, pledge_id="second-thoughts", reason="撤回")
    with closing(_run(history)) as before, closing(_run([*history, pledge, withdrawal])) as after:
        grand_before = _grand_of_flow(projections.totals(before), "CNY", flow)
        grand_after = _grand_of_flow(projections.totals(after), "CNY", flow)
        amount = Decimal(pledge["amount"]) if isinstance(pledge["amount"], str) else Decimal(pledge["amount"]["value"])
        assert _moved(grand_before, grand_after) == {"withdrawn": amount}
