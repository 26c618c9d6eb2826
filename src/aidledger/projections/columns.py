"""Stage columns: the base columns facts feed, and the columns derived from them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from aidledger.projections.fold import BASE_COLUMNS, money

__all__ = ["BASE_COLUMNS", "COLUMNS", "DERIVED", "counts", "derive_columns", "sign_in"]

DERIVED: dict[str, dict[str, int]] = {
    "pledged": {"intended": 1, "signed": 1},
    "net_disbursed": {"disbursed": 1, "reversed": -1, "returned": -1},
    "outstanding": {"signed": 1, "disbursed": -1, "reversed": 1, "returned": 1},
}
"""Derived columns as signed sums of base columns."""


def sign_in(column: str, base: str) -> int:
    """What an amount of the base column ``base`` counts for in ``column``: 1, -1, or 0 (nothing)."""
    return DERIVED.get(column, {column: 1}).get(base, 0)

COLUMNS: tuple[str, ...] = (
    "intended",
    "signed",
    "pledged",
    "withdrawn",
    "disbursed",
    "confirmed",
    "reversed",
    "returned",
    "net_disbursed",
    "outstanding",
)
"""Every column of a report, in the order reports show them."""

_INTENDED, _SIGNED, _WITHDRAWN, _DISBURSED, _CONFIRMED, _REVERSED, _RETURNED = range(7)
assert BASE_COLUMNS == ("intended", "signed", "withdrawn", "disbursed", "confirmed", "reversed", "returned")


def counts(line: Sequence[int]) -> bool:
    """Whether a pledge counts in a row: its pledged or net disbursed amount there is not zero."""
    return bool(line[_INTENDED] + line[_SIGNED] or line[_DISBURSED] - line[_REVERSED] - line[_RETURNED])


def derive_columns(base: Sequence[int]) -> dict[str, Decimal]:
    """Every column, as exact decimals, from base columns in hundredths (``BASE_COLUMNS`` order)."""
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
        "outstanding": signed - disbursed + reversed_ + returned,
    }
    return {name: money(values[name]) for name in COLUMNS}
