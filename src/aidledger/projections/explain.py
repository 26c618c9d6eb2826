"""Explain a figure: the events (log positions) whose facts add up to it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from aidledger.errors import InvalidInput
from aidledger.projections.columns import COLUMNS, DERIVED
from aidledger.projections.fold import AsOf, Fact, LedgerFold, money
from aidledger.projections.report import Report, coordinates_of
from aidledger.projections.totals import DIMENSIONS, KEEPER_DIMENSIONS, DimensionValues, check_dimensions

__all__ = ["Contribution", "Explanation", "explain"]


class Contribution(BaseModel):
    """One event's part in a figure."""

    model_config = ConfigDict(frozen=True)

    position: int
    event: str
    effective_on: date
    pledge_id: UUID
    disbursement_id: UUID | None
    column: str
    amount: Decimal
    """The signed amount this event adds to the figure."""


class Explanation(Report):
    """A figure and the contributions that add up to it."""

    report: str = "explanation"
    column: str
    key: dict[str, str]
    currency: str
    value: Decimal
    contributions: tuple[Contribution, ...]
    keeper_view: bool = False
    """Whether the key's donor attributes take anonymous pledges by their donors' (``KEEPER_DIMENSIONS``)."""


def explain(
    fold: LedgerFold,
    column: str,
    key: Mapping[str, str] | None = None,
    currency: str = "CNY",
    as_of: AsOf | None = None,
    *,
    keeper_view: bool = False,
) -> Explanation:
    """The contributions to ``column`` in the row ``key`` (``{}`` for the grand total).

    ``keeper_view`` explains a row of a keeper's totals report (``totals(..., keeper_view=True)``).
    """
    as_of = as_of or AsOf()
    if column not in COLUMNS:
        raise InvalidInput("column", column, "one of " + ", ".join(COLUMNS))
    key = dict(key or {})
    check_dimensions(key)
    keeper_view = keeper_view and any(name in KEEPER_DIMENSIONS for name in key)
    dimensions = {**DIMENSIONS, **KEEPER_DIMENSIONS} if keeper_view else DIMENSIONS
    signs = DERIVED.get(column, {column: 1})
    contributions = []
    total = 0
    for fact in fold.matching_facts(as_of):
        sign = signs.get(fact.column)
        pledge = fold.pledges[fact.pledge_id]
        if not sign or pledge.currency != currency or not _in_row(fold, fact, key, as_of, dimensions):
            continue
        total += fact.amount * sign
        contributions.append(
            Contribution(
                position=fact.position,
                event=fact.event,
                effective_on=fact.effective_on,
                pledge_id=UUID(fact.pledge_id),
                disbursement_id=UUID(fact.disbursement_id) if fact.disbursement_id else None,
                column=fact.column,
                amount=money(fact.amount * sign),
            )
        )
    value = money(total)
    explanation = Explanation(
        coordinates=coordinates_of(fold, as_of),
        column=column,
        key=key,
        currency=currency,
        value=value,
        contributions=tuple(contributions),
        keeper_view=keeper_view,
    )
    result: Explanation = explanation.sealed()
    return result


def _in_row(
    fold: LedgerFold, fact: Fact, key: Mapping[str, str], as_of: AsOf, dimensions: Mapping[str, DimensionValues]
) -> bool:
    pledge = fold.pledges[fact.pledge_id]
    return all(value in dimensions[name](fold, pledge, fact.year, as_of) for name, value in key.items())
