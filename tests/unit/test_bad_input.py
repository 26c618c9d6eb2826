"""Bad input is refused with a named error that says what was wrong, and nothing is stored.

Each refusal checks three things: the specific error class, that the message names the field or
object and the offending value, and that the log position did not move. The edge beside each
refusal (exactly the outstanding amount, exactly the pool, a valid credit code ...) is accepted.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.ledger_fixtures import (
    disburse,
    make_pledge,
    refused,
    register_organization,
    register_project,
    set_up_pledge,
    set_up_pool,
)

import aidledger
from aidledger import AidLedger, errors
from aidledger.domain.values import InKindItem

# -- amounts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        pytest.param(1000.5, "1000.5", id="float"),
        pytest.param(0.1, "0.1", id="float-not-exact"),
        pytest.param("NaN", "'NaN'", id="NaN-string"),
        pytest.param(Decimal("NaN"), "Decimal('NaN')", id="NaN-decimal"),
        pytest.param("Infinity", "'Infinity'", id="Infinity-string"),
        pytest.param(Decimal("-Infinity"), "Decimal('-Infinity')", id="Infinity-decimal"),
        pytest.param("-5", "'-5'", id="negative"),
        pytest.param("0", "'0'", id="zero"),
        pytest.param("0.00", "'0.00'", id="zero-with-places"),
        pytest.param("1.005", "'1.005'", id="three-places"),
        pytest.param(10**15, "1000000000000000", id="10^15-int"),
        pytest.param("1000000000000000.00", "'1000000000000000.00'", id="10^15-string"),
        pytest.param("1e3", "'1e3'", id="exponent-notation"),
        pytest.param("1,000.00", "'1,000.00'", id="thousands-separator"),
    ],
)
def test_a_bad_pledge_amount_is_refused_naming_the_amount_and_stores_nothing(
    ledger: AidLedger, amount: Any, shown: str
) -> None:
    """Floats, NaN, infinities, zero, negatives, a third decimal place and 10^15 are refused."""
    pledged = set_up_pledge(ledger)
    with refused(ledger, errors.InvalidInput, "amount", shown) as caught:
        make_pledge(ledger, pledged.organization_id, pledged.project_id, amount)
    assert caught.value.field == "amount.value"
    assert str(caught.value.value) == str(amount)


@pytest.mark.parametrize("amount", ["0.01", "1", "999999999999999.99", Decimal("12.5"), 7])
def test_amounts_just_inside_the_limits_are_accepted_exactly(ledger: AidLedger, amount: Any) -> None:
    """One fen, whole yuan and 10^15 minus one fen are accepted and kept to the fen."""
    pledged = set_up_pledge(ledger, amount)
    assert ledger.pledge(pledged.pledge_id).amount.value == Decimal(amount)
    assert ledger.pledge(pledged.pledge_id).amount.value.as_tuple().exponent == -2


def test_a_float_disbursement_or_amendment_is_refused_too(ledger: AidLedger) -> None:
    """Every command that takes money refuses a float, not only the pledge."""
    pledged = set_up_pledge(ledger)
    with refused(ledger, errors.InvalidInput, "amount", "100.1", "float"):
        disburse(ledger, pledged.pledge_id, 100.1)
    with refused(ledger, errors.InvalidInput, "amount", "900.5", "float"):
        ledger.amend_pledge(pledge_id=pledged.pledge_id, amount=900.5, reason="typo", effective_on="2018-05-01")


def test_invalid_input_is_also_a_value_error(ledger: AidLedger) -> None:
    """Callers that catch ValueError catch bad input too."""
    assert issubclass(errors.InvalidInput, ValueError)
    assert issubclass(errors.InvalidInput, errors.AidLedgerError)
    pledged = set_up_pledge(ledger)
    with refused(ledger, ValueError, "amount"):
        make_pledge(ledger, pledged.organization_id, pledged.project_id, "-1")


# -- currencies -----------------------------------------------------------------------------------


def test_a_currency_that_is_not_iso_4217_is_refused(ledger: AidLedger) -> None:
    """'RMB' is what people write, but the ISO 4217 code of the yuan is 'CNY'."""
    pledged = set_up_pledge(ledger)
    with refused(ledger, errors.InvalidInput, "currency", "'RMB'", "ISO 4217") as caught:
        make_pledge(ledger, pledged.organization_id, pledged.project_id, {"value": "5.00", "currency": "RMB"})
    assert caught.value.field == "amount.currency"


def test_amending_a_yuan_pledge_in_dollars_is_refused(ledger: AidLedger) -> None:
    """Currencies never mix within one pledge: an amendment keeps the pledge's currency."""
    pledged = set_up_pledge(ledger)
    with refused(ledger, errors.CurrencyMismatch, "USD", "CNY", pledged.pledge_id):
        ledger.amend_pledge(
            pledge_id=pledged.pledge_id,
            amount={"value": "900.00", "currency": "USD"},
            reason="converted",
            effective_on="2018-05-01",
        )


def test_disbursing_dollars_against_a_yuan_pledge_is_refused(ledger: AidLedger) -> None:
    """A disbursement is in its pledge's currency."""
    pledged = set_up_pledge(ledger)
    with refused(ledger, errors.CurrencyMismatch, "USD", "CNY", pledged.pledge_id):
        disburse(ledger, pledged.pledge_id, {"value": "10.00", "currency": "USD"})


def test_returning_dollars_on_a_yuan_disbursement_is_refused(ledger: AidLedger) -> None:
    """A return is in its pledge's currency too."""
    pledged = set_up_pledge(ledger)
    disbursement_id = disburse(ledger, pledged.pledge_id, "100.00")
    with refused(ledger, errors.CurrencyMismatch, "USD", "CNY"):
        ledger.return_disbursement(
            disbursement_id=disbursement_id,
            amount={"value": "10.00", "currency": "USD"},
            reason="unused",
            effective_on="2018-06-01",
        )


def test_an_amount_with_more_places_than_its_currency_has_is_refused(ledger: AidLedger) -> None:
    """The yen has no minor unit: 100.5 JPY would need rounding; 100 JPY is accepted."""
    pledged = set_up_pledge(ledger)
    with refused(ledger, errors.InvalidInput, "amount", "100.5", "decimal places"):
        make_pledge(ledger, pledged.organization_id, pledged.project_id, {"value": "100.5", "currency": "JPY"})
    pledge_id = make_pledge(ledger, pledged.organization_id, pledged.project_id, {"value": "100", "currency": "JPY"})
    assert ledger.pledge(pledge_id).amount.value == Decimal(100)


def test_a_dollar_pledge_is_kept_in_dollars(ledger: AidLedger) -> None:
    """Another ISO 4217 currency is accepted; it is simply never added to yuan."""
    pledged = set_up_pledge(ledger, {"value": "250.00", "currency": "usd"})
    disburse(ledger, pledged.pledge_id, {"value": "250.00", "currency": "USD"})
    view = ledger.pledge(pledged.pledge_id)
    assert view.amount.currency == "USD"
    assert view.outstanding == Decimal("0.00")


# -- references -----------------------------------------------------------------------------------


def test_a_pledge_to_an_unknown_project_is_not_found(ledger: AidLedger) -> None:
    """References must exist; NotFound is also a LookupError."""
    organization_id = register_organization(ledger)
    unknown = uuid4()
    with refused(ledger, errors.NotFound, "project", unknown) as caught:
        make_pledge(ledger, organization_id, unknown)
    assert isinstance(caught.value, LookupError)


def test_a_pledge_from_an_unknown_organization_is_not_found(ledger: AidLedger) -> None:
    """The donor must be a registered organization."""
    pledged = set_up_pledge(ledger)
    unknown = uuid4()
    with refused(ledger, LookupError, "organization", unknown):
        make_pledge(ledger, unknown, pledged.project_id)


def test_an_id_of_the_wrong_kind_is_not_found(ledger: AidLedger) -> None:
    """A project id given as the donor does not name an organization."""
    pledged = set_up_pledge(ledger)
    with refused(ledger, errors.NotFound, "organization", pledged.project_id, "project"):
        make_pledge(ledger, pledged.project_id, pledged.project_id)


def test_disbursing_against_an_unknown_pledge_is_not_found(ledger: AidLedger) -> None:
    """Disbursements reference an existing pledge."""
    set_up_pledge(ledger)
    unknown = uuid4()
    with refused(ledger, errors.NotFound, "pledge", unknown):
        disburse(ledger, unknown, "1.00")


def test_a_malformed_id_in_a_query_is_invalid_input(ledger: AidLedger) -> None:
    """Queries accept a UUID or its string form, and say so."""
    with pytest.raises(errors.InvalidInput, match="not-a-uuid"):
        ledger.pledge("not-a-uuid")


# -- disbursements against the pledge -------------------------------------------------------------


def test_disbursing_against_a_withdrawn_pledge_is_refused(ledger: AidLedger) -> None:
    """A withdrawn pledge accepts nothing new."""
    pledged = set_up_pledge(ledger)
    ledger.withdraw_pledge(pledge_id=pledged.pledge_id, reason="donor changed plans", effective_on="2018-04-01")
    with refused(ledger, errors.PledgeWithdrawn, pledged.pledge_id, "withdrawn"):
        disburse(ledger, pledged.pledge_id, "1.00")


def test_disbursing_one_fen_more_than_outstanding_is_refused_and_stores_nothing(ledger: AidLedger) -> None:
    """The message names the amount asked for and the outstanding amount that would be accepted."""
    pledged = set_up_pledge(ledger, "1000.00")
    disburse(ledger, pledged.pledge_id, "400.00")
    with refused(ledger, errors.OverDisbursement, "600.01", "600.00", pledged.pledge_id):
        disburse(ledger, pledged.pledge_id, "600.01")
    assert ledger.pledge(pledged.pledge_id).outstanding == Decimal("600.00")


def test_disbursing_exactly_the_outstanding_amount_leaves_nothing_outstanding(ledger: AidLedger) -> None:
    """The edge: the last fen is accepted, and the next fen is not."""
    pledged = set_up_pledge(ledger, "1000.00")
    disburse(ledger, pledged.pledge_id, "400.00")
    disburse(ledger, pledged.pledge_id, "600.00")
    view = ledger.pledge(pledged.pledge_id)
    assert (view.net_disbursed, view.outstanding) == (Decimal("1000.00"), Decimal("0.00"))
    with refused(ledger, errors.OverDisbursement, "0.01", pledged.pledge_id):
        disburse(ledger, pledged.pledge_id, "0.01")


def test_amending_a_pledge_below_what_was_disbursed_is_refused(ledger: AidLedger) -> None:
    """The message names the amendment and the disbursed amount it may not go below."""
    pledged = set_up_pledge(ledger, "1000.00")
    disburse(ledger, pledged.pledge_id, "400.00")
    with refused(ledger, errors.PledgeBelowDisbursed, "399.99", "400.00", pledged.pledge_id):
        ledger.amend_pledge(pledge_id=pledged.pledge_id, amount="399.99", reason="cut", effective_on="2018-05-01")
    assert ledger.pledge(pledged.pledge_id).amount.value == Decimal("1000.00")


def test_amending_a_pledge_to_exactly_what_was_disbursed_is_accepted(ledger: AidLedger) -> None:
    """The edge: amended down to the disbursed amount, nothing is outstanding."""
    pledged = set_up_pledge(ledger, "1000.00")
    disburse(ledger, pledged.pledge_id, "400.00")
    ledger.amend_pledge(pledge_id=pledged.pledge_id, amount="400.00", reason="cut", effective_on="2018-05-01")
    view = ledger.pledge(pledged.pledge_id)
    assert (view.amount.value, view.outstanding) == (Decimal("400.00"), Decimal("0.00"))


def test_reversing_a_disbursement_twice_is_refused(ledger: AidLedger) -> None:
    """A reversed disbursement never happened; it cannot be reversed again."""
    pledged = set_up_pledge(ledger)
    disbursement_id = disburse(ledger, pledged.pledge_id, "100.00")
    ledger.reverse_disbursement(disbursement_id=disbursement_id, reason="entered twice", effective_on="2018-04-11")
    with refused(ledger, errors.DisbursementAlreadyReversed, disbursement_id, "reversed"):
        ledger.reverse_disbursement(disbursement_id=disbursement_id, reason="again", effective_on="2018-04-12")
    assert ledger.pledge(pledged.pledge_id).reversed == Decimal("100.00")


# -- goods given in kind -------------------------------------------------------------------------

WINTER_COATS = {"description": "冬衣", "quantity": "213", "unit": "件"}


@pytest.mark.parametrize("quantity", ["213", "2.5", "0.000001"])
def test_an_in_kind_pledge_is_stored_and_read_back_with_its_quantity(ledger: AidLedger, quantity: str) -> None:
    """Goods are pledged with their assessed value; the quantity is exact, to 6 places."""
    pledged = set_up_pledge(ledger, "8000.00", items=(WINTER_COATS | {"quantity": quantity},))
    view = ledger.pledge(pledged.pledge_id)
    assert view.in_kind
    assert view.items[0].quantity == Decimal(quantity)


@pytest.mark.parametrize("quantity", ["-1", "0", "1.0000001", 2.5])
def test_a_bad_in_kind_quantity_is_refused(ledger: AidLedger, quantity: Any) -> None:
    """Quantities are positive, exact and have at most 6 places."""
    organization_id = register_organization(ledger)
    project_id = register_project(ledger, organization_id)
    with refused(ledger, errors.InvalidInput, "quantity", str(quantity)) as caught:
        make_pledge(ledger, organization_id, project_id, "10.00", items=(WINTER_COATS | {"quantity": quantity},))
    assert caught.value.field == "items.0.quantity"


@pytest.mark.parametrize(
    ("quantity", "words"),
    [
        ("0", ("items.0.quantity", "'0'", "is zero", "leave out an item", "at most 6 decimal places")),
        ("0.000000", ("items.0.quantity", "'0.000000'", "is zero", "a quantity is a positive decimal")),
        ("-1", ("items.0.quantity", "'-1'", "is negative", "a quantity is a positive decimal")),
        ("1000000000000000", ("items.0.quantity", "is too large", "a quantity is a positive decimal", "10^15")),
        ("2.1234567", ("items.0.quantity", "'2.1234567'", "more than 6 decimal places", "never rounded")),
    ],
)
def test_a_zero_or_negative_quantity_gets_a_message_of_its_own(
    ledger: AidLedger, quantity: str, words: tuple[str, ...]
) -> None:
    """A quantity of 0 (or below, too large, too precise) is told apart: it names the field, the value and
    what a quantity is, never amounts."""
    organization_id = register_organization(ledger)
    project_id = register_project(ledger, organization_id)
    with refused(ledger, errors.InvalidInput, *words) as caught:
        make_pledge(ledger, organization_id, project_id, "10.00", items=(WINTER_COATS | {"quantity": quantity},))
    assert "amounts are" not in str(caught.value)


@pytest.mark.parametrize("quantity", [0, Decimal("0E-6"), -3, Decimal("-0.5")])
def test_a_zero_or_negative_quantity_given_as_a_number_gets_the_same_message(quantity: Any) -> None:
    """Library callers passing an int or a Decimal get the quantity's message too, never the amount's."""
    with pytest.raises(ValueError, match="a quantity is a positive decimal") as caught:
        InKindItem(description="冬衣", quantity=quantity, unit="件")
    assert "amounts" not in str(caught.value)


def test_a_zero_quantity_delivered_gets_the_same_message(ledger: AidLedger) -> None:
    """A delivery of 0 items is refused with the quantity's own message, and stores nothing."""
    pledged = set_up_pledge(ledger, "8000.00", items=(WINTER_COATS,))
    with refused(ledger, errors.InvalidInput, "items.0.quantity", "'0'", "is zero") as caught:
        disburse(ledger, pledged.pledge_id, "10.00", items=(WINTER_COATS | {"quantity": "0"},))
    assert "amounts" not in str(caught.value)


@pytest.mark.parametrize("quantity", ["200", "10"])
def test_an_in_kind_pledge_of_a_round_quantity_is_read_back(ledger: AidLedger, quantity: str) -> None:
    """200 coats are stored as "200", never "2E+2", and read back as 200 coats."""
    pledged = set_up_pledge(ledger, "8000.00", items=(WINTER_COATS | {"quantity": quantity},))
    quantity_read = ledger.pledge(pledged.pledge_id).items[0].quantity
    assert (quantity_read, str(quantity_read)) == (Decimal(quantity), quantity)


# -- names, credit codes, dates -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "   ", "x" * 10_000], ids=["empty", "blank", "10000-chars"])
def test_an_empty_or_overlong_organization_name_is_refused(ledger: AidLedger, name: str) -> None:
    """Names are 1 to 500 characters after trimming."""
    with refused(ledger, errors.InvalidInput, "name", repr(name)) as caught:
        register_organization(ledger, name=name)
    assert (caught.value.field, caught.value.value) == ("name", name)


def test_an_overlong_project_title_is_refused(ledger: AidLedger) -> None:
    """Titles follow the same rule as names."""
    organization_id = register_organization(ledger)
    with refused(ledger, errors.InvalidInput, "title") as caught:
        register_project(ledger, organization_id, title="项" * 10_000)
    assert caught.value.field == "title"


def test_a_name_of_exactly_500_characters_is_accepted(ledger: AidLedger) -> None:
    """The edge of the length rule."""
    organization_id = register_organization(ledger, name="会" * 500)
    assert ledger.organization(organization_id).profile.name == "会" * 500


def test_an_invalid_unified_social_credit_code_is_refused(ledger: AidLedger) -> None:
    """A wrong check digit is caught; the message names the code."""
    with refused(ledger, errors.InvalidInput, "credit_code", "91110000600037341X", "check digit") as caught:
        register_organization(ledger, credit_code="91110000600037341X")
    assert caught.value.field == "credit_code"


def test_a_valid_unified_social_credit_code_is_accepted(ledger: AidLedger) -> None:
    """A code with the right check digit is stored as given."""
    organization_id = register_organization(ledger, credit_code="91110000600037341L")
    assert ledger.organization(organization_id).profile.credit_code == "91110000600037341L"


def test_an_effective_date_given_as_a_datetime_without_timezone_is_refused(ledger: AidLedger) -> None:
    """Its day would depend on where the ledger runs."""
    naive = datetime(2018, 8, 1, 23, 30)
    with refused(ledger, errors.InvalidInput, "effective_on", "2018-08-01T23:30:00", "timezone") as caught:
        register_organization(ledger, effective_on=naive)
    assert caught.value.field == "effective_on"


@pytest.mark.parametrize("day", ["2018-02-30", "2018/8/1", "1 Aug 2018", ""])
def test_a_malformed_effective_date_is_refused(ledger: AidLedger, day: str) -> None:
    """Only real calendar dates written YYYY-MM-DD are read."""
    with refused(ledger, errors.InvalidInput, "effective_on", repr(day), "YYYY-MM-DD") as caught:
        register_organization(ledger, effective_on=day)
    assert caught.value.field == "effective_on"


def test_an_aware_datetime_is_accepted_as_the_calendar_day_in_its_own_timezone(ledger: AidLedger) -> None:
    """01:00 on 2 August in Beijing is recorded as 2 August, though it is still 1 August in UTC."""
    beijing = timezone(timedelta(hours=8))
    pledged = set_up_pledge(ledger)
    early_morning = datetime(2018, 8, 2, 1, 0, tzinfo=beijing)
    disbursement_id = disburse(ledger, pledged.pledge_id, "1.00", effective_on=early_morning)
    assert ledger.disbursement(disbursement_id).value_date == date(2018, 8, 2)
    disbursement_id = disburse(ledger, pledged.pledge_id, "1.00", effective_on=datetime(2018, 8, 2, 1, 0, tzinfo=UTC))
    assert ledger.disbursement(disbursement_id).value_date == date(2018, 8, 2)


def test_a_project_that_ends_before_it_starts_is_refused(ledger: AidLedger) -> None:
    """The message names the end date and the start it precedes."""
    organization_id = register_organization(ledger)
    with refused(ledger, errors.InvalidInput, "planned_end", "2018-02-28", "2018-03-01") as caught:
        register_project(ledger, organization_id, planned_start="2018-03-01", planned_end="2018-02-28")
    assert caught.value.field == "planned_end"


def test_a_project_that_ends_the_day_it_starts_is_accepted(ledger: AidLedger) -> None:
    """The edge: a one-day project."""
    organization_id = register_organization(ledger)
    project_id = register_project(ledger, organization_id, planned_start="2018-03-01", planned_end="2018-03-01")
    assert ledger.project(project_id).plan.planned_end == date(2018, 3, 1)


# -- regrants -------------------------------------------------------------------------------------


def test_regranting_more_than_the_pool_holds_is_refused(ledger: AidLedger) -> None:
    """Only money actually disbursed into the pool can be passed on; the message names both sums."""
    pool = set_up_pool(ledger, "1000.00", "600.00")
    with refused(ledger, errors.RegrantExceedsPool, "600.01", "600.00", pool.pool_pledge_id):
        make_pledge(
            ledger, pool.organization_id, pool.leaf_project_id, "600.01", funded_from=pool.pool_pledge_id,
            effective_on="2018-04-10",
        )  # fmt: skip
    assert ledger.pledge(pool.pool_pledge_id).regranted == Decimal("0.00")


def test_regranting_exactly_what_the_pool_holds_is_accepted(ledger: AidLedger) -> None:
    """The edge: the whole pool balance of the pledge is passed on."""
    pool = set_up_pool(ledger, "1000.00", "600.00")
    regrant_id = make_pledge(
        ledger, pool.organization_id, pool.leaf_project_id, "600.00", funded_from=pool.pool_pledge_id,
        effective_on="2018-04-10",  # the value date of the money into the pool
    )  # fmt: skip
    assert ledger.pledge(pool.pool_pledge_id).regranted == Decimal("600.00")
    assert ledger.pledge(regrant_id).funded_from == pool.pool_pledge_id


# -- property: decimal places ---------------------------------------------------------------------

WHOLE_YUAN = st.integers(min_value=0, max_value=10**15 - 1)


@st.composite
def over_precise_amounts(draw: st.DrawFn) -> Decimal:
    """Positive amounts below 10^15 with 3 to 8 places, not equal to their 2-place quantization."""
    places = draw(st.integers(min_value=3, max_value=8))
    fraction = draw(st.integers(min_value=1, max_value=10**places - 1).filter(lambda f: f % 10 ** (places - 2) != 0))
    return Decimal(f"{draw(WHOLE_YUAN)}.{fraction:0{places}d}")


@st.composite
def fen_exact_amounts(draw: st.DrawFn) -> Decimal:
    """Positive amounts below 10^15 with 0 to 2 places, sometimes written with extra trailing zeros."""
    places = draw(st.integers(min_value=0, max_value=2))
    fraction = draw(st.integers(min_value=0, max_value=10**places - 1))
    text = f"{draw(WHOLE_YUAN)}.{fraction:0{places}d}" if places else str(draw(WHOLE_YUAN))
    assume(Decimal(text) > 0)
    zeros = draw(st.integers(min_value=0, max_value=3))
    if zeros:
        text += ("" if "." in text else ".") + "0" * zeros
    return Decimal(text)


@pytest.fixture(scope="module")
def pledge_file() -> Iterator[tuple[Path, UUID, UUID]]:
    """An SQLite file with a donor and a project, shared by the examples of the property."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.db"
        with aidledger.open(path, recorded_by="tester") as writer:
            organization_id = register_organization(writer)
            project_id = register_project(writer, organization_id)
        yield path, organization_id, project_id


@settings(max_examples=150, deadline=None)
@given(amount=over_precise_amounts(), as_text=st.booleans())
def test_an_amount_that_would_need_rounding_is_always_refused(
    pledge_file: tuple[Path, UUID, UUID], amount: Decimal, as_text: bool
) -> None:
    """Any amount with more than 2 places that differs from its 2-place quantization is refused."""
    assert amount != amount.quantize(Decimal("0.01"))
    path, organization_id, project_id = pledge_file
    given_amount: Decimal | str = format(amount, "f") if as_text else amount
    with (
        aidledger.open(path, recorded_by="tester") as ledger,
        refused(ledger, errors.InvalidInput, "amount", "decimal places", given_amount),
    ):
        make_pledge(ledger, organization_id, project_id, given_amount)


@settings(max_examples=150, deadline=None)
@given(amount=fen_exact_amounts(), as_text=st.booleans())
def test_an_amount_to_the_fen_is_accepted_and_read_back_exactly_from_the_file(
    pledge_file: tuple[Path, UUID, UUID], amount: Decimal, as_text: bool
) -> None:
    """Any amount with at most 2 places in (0, 10^15) is stored and read back to the fen, unrounded."""
    assert Decimal(0) < amount < Decimal(10) ** 15
    path, organization_id, project_id = pledge_file
    given_amount: Decimal | str = format(amount, "f") if as_text else amount
    with aidledger.open(path, recorded_by="tester") as writer:
        pledge_id = make_pledge(writer, organization_id, project_id, given_amount)
    with aidledger.open(path, recorded_by="reader") as reader:
        stored = reader.pledge(pledge_id).amount.value
    assert stored == amount
    assert str(stored) == str(amount.quantize(Decimal("0.01")))
