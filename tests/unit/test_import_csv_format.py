"""The CSV form of command records: cells to records and back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aidledger.interchange.commands import COMMAND_CLASSES
from aidledger.interchange.csvformat import COLUMNS, cells_from_record, columns_of, record_from_cells

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda text: text.strip() == text and text != ""
)


def test_every_field_of_every_command_has_a_column() -> None:
    """The column list covers every command's fields (flattened)."""
    for name in COMMAND_CLASSES:
        assert columns_of(name) <= set(COLUMNS), name


@given(descriptions=st.lists(TEXT, min_size=1, max_size=4), units=TEXT)
def test_items_survive_a_round_trip_whatever_characters_they_hold(descriptions: list[str], units: str) -> None:
    """| ; and backslash in descriptions are escaped on the way out and read back."""
    items = [{"description": d, "quantity": "2.5", "unit": units} for d in descriptions]
    cells = cells_from_record({"command": "disburse", "items": items})
    record, problems = record_from_cells(cells)
    assert problems == []
    assert record["items"] == items


@given(campaigns=st.lists(TEXT, min_size=1, max_size=4))
def test_campaigns_survive_a_round_trip(campaigns: list[str]) -> None:
    """Campaign tags are ;-separated with escapes."""
    record, problems = record_from_cells(cells_from_record({"campaigns": campaigns}))
    assert problems == []
    assert record["campaigns"] == campaigns


@pytest.mark.parametrize(("text", "value"), [("true", True), ("TRUE", True), ("是", True), ("0", False), ("no", False)])
def test_booleans_accept_what_spreadsheets_write(text: str, value: bool) -> None:
    """Excel writes TRUE/FALSE; people write yes/no and 是/否."""
    record, problems = record_from_cells({"anonymous": text})
    assert (record, problems) == ({"anonymous": value}, [])


def test_a_bad_boolean_says_what_is_accepted() -> None:
    """Anything else is refused, naming the accepted spellings."""
    _, problems = record_from_cells({"charity": "maybe"})
    assert problems[0].column == "charity"
    assert "accepted: true or false (also TRUE/FALSE, yes/no, 1/0, 是/否)" in problems[0].message


@pytest.mark.parametrize("text", ["1,20", "12.0", "-3", "十"])
def test_counts_are_whole_numbers_written_in_digits(text: str) -> None:
    """person_times and households are digits (thousands separators in their places allowed)."""
    _, problems = record_from_cells({"person_times": text})
    assert problems and "is not a whole number" in problems[0].message


def test_empty_cells_are_absent_fields_and_cells_are_trimmed() -> None:
    """An empty cell is no field at all; spaces around a value do not count."""
    record, problems = record_from_cells({"command": " Make_Pledge ", "amount": " 100 ", "channel_id": "  "})
    assert (record, problems) == ({"command": "make_pledge", "amount": "100"}, [])


def test_the_source_columns_make_the_evidence_and_currency_goes_with_the_amount() -> None:
    """source_* columns become one source; currency turns the amount into value and currency."""
    record, problems = record_from_cells(
        {"source_reference": "AGR-1", "source_url": "https://example.org/a", "amount": "5", "currency": "USD"}
    )
    assert problems == []
    assert record == {
        "source": {"reference": "AGR-1", "url": "https://example.org/a"},
        "amount": {"value": "5", "currency": "USD"},
    }


def test_a_currency_without_an_amount_is_a_problem() -> None:
    """The currency column only qualifies an amount or budget."""
    _, problems = record_from_cells({"currency": "USD"})
    assert problems[0].column == "currency"


def test_an_item_needs_three_parts() -> None:
    """description|quantity|unit."""
    _, problems = record_from_cells({"items": "棉被|100"})
    assert "does not have 3 parts; accepted: items as description|quantity|unit" in problems[0].message
