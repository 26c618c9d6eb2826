"""explain(): the events whose contributions make up one figure, and that add up to it."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest
from tests.ledger_fixtures import disburse, make_pledge, set_up_pledge
from tests.projection_helpers import RandomHistory, record_pooled_history

from aidledger import AidLedger, projections
from aidledger.errors import InvalidInput
from aidledger.projections import COLUMNS, Explanation
from aidledger.projections.explain import Figure, explain_all


def event_at(ledger: AidLedger, position: int) -> str:
    """The qualified name of the event type stored at ``position``."""
    ((_, event),) = list(ledger.read_log(position, position))
    return type(event).__qualname__


def summary(explanation: Explanation) -> list[tuple[str, Decimal]]:
    """The contributions as (event type, signed amount), in log order."""
    return [(c.event, c.amount) for c in explanation.contributions]


def test_explain_of_every_column_adds_up_to_the_totals_figure_in_every_row(ledger: AidLedger) -> None:
    """On a random history, for every column, currency and row (and the grand total), explain's value is the figure."""
    RandomHistory(ledger, seed=34).run(120)
    grouping = ("donor_level", "origin")
    report = projections.totals(ledger, grouping)
    assert {row.currency for row in report.totals} == {"CNY", "USD"}
    for row in (*report.rows, *report.totals):
        for column in COLUMNS:
            explanation = projections.explain(ledger, column, row.key, row.currency)
            assert explanation.value == row.columns[column], (row.key, row.currency, column)
            assert sum((c.amount for c in explanation.contributions), Decimal("0.00")) == explanation.value


def test_explain_names_each_event_by_position_type_and_signed_amount(ledger: AidLedger) -> None:
    """Net disbursed 399.50 = 400 paid + 100 paid − 100 reversed − 0.50 returned, each at its log position."""
    pledged = set_up_pledge(ledger, "1000.00")
    paid = disburse(ledger, pledged.pledge_id, "400.00")
    mistaken = disburse(ledger, pledged.pledge_id, "100.00")
    reversal = ledger.reverse_disbursement(disbursement_id=mistaken, reason="重复录入", effective_on="2018-04-12")
    ledger.return_disbursement(disbursement_id=paid, amount="0.50", reason="余款", effective_on="2018-07-01")
    explanation = projections.explain(ledger, "net_disbursed")
    assert summary(explanation) == [
        ("Disbursement.Made", Decimal("400.00")),
        ("Disbursement.Made", Decimal("100.00")),
        ("Disbursement.Reversed", Decimal("-100.00")),
        ("Disbursement.Returned", Decimal("-0.50")),
    ]
    assert explanation.value == Decimal("399.50")
    for contribution in explanation.contributions:
        assert event_at(ledger, contribution.position) == contribution.event
        assert contribution.pledge_id == pledged.pledge_id
    assert explanation.contributions[2].position in reversal.positions
    assert [c.disbursement_id for c in explanation.contributions] == [paid, mistaken, mistaken, paid]
    assert explanation.coordinates.position == ledger.position()


def test_explain_of_outstanding_uses_the_signs_of_its_definition(ledger: AidLedger) -> None:
    """Outstanding = signed − disbursed + reversed + returned: the signed pledge adds, payments subtract."""
    pledged = set_up_pledge(ledger, "1000.00")
    paid = disburse(ledger, pledged.pledge_id, "400.00")
    ledger.return_disbursement(disbursement_id=paid, amount="40.00", reason="余款", effective_on="2018-07-01")
    explanation = projections.explain(ledger, "outstanding")
    assert summary(explanation) == [
        ("Pledge.Made", Decimal("1000.00")),
        ("Disbursement.Made", Decimal("-400.00")),
        ("Disbursement.Returned", Decimal("40.00")),
    ]
    assert explanation.value == Decimal("640.00")


def test_explain_of_pledged_shows_signing_as_a_move_between_stages(ledger: AidLedger) -> None:
    """An intended pledge signed and amended: pledged lists Made, Signed (−x intended, +x signed) and Amended."""
    pledged = set_up_pledge(ledger, "300.50", stage="intended")
    ledger.sign_pledge(pledge_id=pledged.pledge_id, effective_on="2018-04-01")
    ledger.amend_pledge(pledge_id=pledged.pledge_id, amount="350.75", reason="补充协议", effective_on="2018-04-02")
    explanation = projections.explain(ledger, "pledged", {"project": str(pledged.project_id)})
    assert [(c.event, c.column, c.amount) for c in explanation.contributions] == [
        ("Pledge.Made", "intended", Decimal("300.50")),
        ("Pledge.Signed", "intended", Decimal("-300.50")),
        ("Pledge.Signed", "signed", Decimal("300.50")),
        ("Pledge.Amended", "signed", Decimal("50.25")),
    ]
    assert explanation.value == Decimal("350.75")


def test_explain_respects_position_and_effective_date(ledger: AidLedger) -> None:
    """As of an earlier position or date, only the events then counted are listed."""
    pledged = set_up_pledge(ledger, "1000.00")
    position = ledger.position()
    disburse(ledger, pledged.pledge_id, "400.00", effective_on="2018-04-10")
    assert summary(projections.explain(ledger, "disbursed", position=position)) == []
    assert summary(projections.explain(ledger, "disbursed", effective_on="2018-04-09")) == []
    on_the_day = projections.explain(ledger, "disbursed", effective_on="2018-04-10")
    assert summary(on_the_day) == [("Disbursement.Made", Decimal("400.00"))]
    assert on_the_day.coordinates.effective_on is not None


def test_explain_of_regrants_lists_only_pledges_funded_from_the_pool(ledger: AidLedger) -> None:
    """The regrant row's pledged figure is made of the two regrant pledges, 3,000 and 2,500."""
    history = record_pooled_history(ledger)
    explanation = projections.explain(ledger, "pledged", {"origin": "regrant"})
    assert {c.pledge_id for c in explanation.contributions} == {history.regrant_to_school, history.regrant_to_clinic}
    assert explanation.value == Decimal("5500.00")


def test_explain_is_per_currency(ledger: AidLedger) -> None:
    """A USD pledge is explained under USD only; the CNY figure does not list it."""
    pledged = set_up_pledge(ledger, "1000.00")
    make_pledge(ledger, pledged.organization_id, pledged.project_id, {"value": "99.99", "currency": "USD"})
    assert projections.explain(ledger, "signed", currency="USD").value == Decimal("99.99")
    assert projections.explain(ledger, "signed").value == Decimal("1000.00")
    assert projections.explain(ledger, "signed", currency="EUR").contributions == ()


def test_explain_of_an_empty_row_is_zero_with_no_contributions(ledger: AidLedger) -> None:
    """A key no pledge matches gives 0.00 and no events."""
    set_up_pledge(ledger)
    explanation = projections.explain(ledger, "pledged", {"category": "direct_aid"})
    assert (explanation.value, explanation.contributions) == (Decimal("0.00"), ())


def test_explain_refuses_an_unknown_column_or_dimension(ledger: AidLedger) -> None:
    """A column not in COLUMNS, or a key dimension not in DIMENSIONS, raises InvalidInput."""
    with pytest.raises(InvalidInput, match="promised"):
        projections.explain(ledger, "promised")
    with pytest.raises(InvalidInput, match="colour"):
        projections.explain(ledger, "pledged", {"colour": "red"})


def test_explanation_carries_a_digest_of_its_canonical_json(ledger: AidLedger) -> None:
    """The explanation is a report: same history, same bytes; its digest changes when a figure changes."""
    pledged = set_up_pledge(ledger)
    first = projections.explain(ledger, "pledged")
    assert projections.explain(ledger, "pledged").canonical() == first.canonical()
    make_pledge(ledger, pledged.organization_id, pledged.project_id, "1.00")
    assert projections.explain(ledger, "pledged").digest != first.digest
    assert isinstance(first.contributions[0].pledge_id, UUID)


def test_explain_all_gives_each_figure_exactly_what_explain_gives_it_alone(ledger: AidLedger) -> None:
    """One pass for many figures (several key shapes, currencies, a multi-valued and a keeper dimension)
    gives, figure by figure, the same explanation, byte for byte, as explaining each alone."""
    RandomHistory(ledger, seed=35).run(120)
    fold = projections.fold_of(ledger)
    as_of = projections.as_of()
    report = projections.totals(ledger, ("donor_level", "origin"))
    figures = [Figure(column, row.key, row.currency) for row in report.rows for column in ("pledged", "outstanding")]
    figures += [Figure("net_disbursed", {}, "USD"), Figure("signed", {"campaign": "none-such"}, "CNY")]
    figures += [Figure("pledged", {"pledge": p}, fold.pledges[p].currency) for p in list(fold.pledges)[:10]]
    for keeper_view in (False, True):
        together = explain_all(fold, figures, as_of, keeper_view=keeper_view)
        for figure, explanation in zip(figures, together, strict=True):
            alone = projections.explain(
                ledger, figure.column, dict(figure.key), figure.currency, keeper_view=keeper_view
            )
            assert explanation.canonical() == alone.canonical(), figure


def test_a_pledge_key_explains_one_pledges_figure(ledger: AidLedger) -> None:
    """``pledge`` is a dimension: its row is one pledge, whose contributions are that pledge's own events."""
    pledged = set_up_pledge(ledger, "1000.00")
    disburse(ledger, pledged.pledge_id, "250.00")
    explanation = projections.explain(ledger, "outstanding", {"pledge": str(pledged.pledge_id)})
    assert explanation.value == Decimal("750.00")
    assert {c.pledge_id for c in explanation.contributions} == {pledged.pledge_id}


def test_a_loan_is_explained_apart_from_donations_as_reports_keep_it(ledger: AidLedger) -> None:
    """A report's columns leave a loan out and its other_flows hold it: explain does the same, so every
    explained figure equals the figure shown (DESIGN §3 rule 8)."""
    pledged = set_up_pledge(ledger, "100.00")
    make_pledge(ledger, pledged.organization_id, pledged.project_id, "900.00", flow="loan")
    grand = projections.totals(ledger).totals[0]
    donations = projections.explain(ledger, "pledged")
    loans = projections.explain(ledger, "pledged", flow="loan")
    assert donations.value == grand.columns["pledged"] == Decimal("100.00")
    assert loans.value == grand.other_flows["loan"]["pledged"] == Decimal("900.00")
    assert "flow" not in donations.body() and loans.body()["flow"] == "loan"
