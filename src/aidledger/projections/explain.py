"""Explain a figure: the events (log positions) whose facts add up to it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from itertools import product
from typing import Any, NamedTuple
from uuid import UUID

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from aidledger.errors import InvalidInput
from aidledger.projections.columns import COLUMNS, sign_in
from aidledger.projections.fold import AsOf, Fact, LedgerFold, money
from aidledger.projections.report import Report, coordinates_of, without_donation_flow
from aidledger.projections.totals import DIMENSIONS, KEEPER_DIMENSIONS, check_dimensions

__all__ = ["Contribution", "Explanation", "Figure", "explain", "explain_all"]


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
    flow: str = "donation"
    """The flow whose pledges count: ``donation`` (a report's ``columns``), or a flow that is not a
    donation (``investment``, ``loan``: a row's ``other_flows``). Left out of the JSON for donations."""

    @model_serializer(mode="wrap")
    def _leave_out_donation_flow(self, handler: SerializerFunctionWrapHandler) -> Any:
        return without_donation_flow(handler(self))


class Figure(NamedTuple):
    """One figure to explain: a column of the row ``key`` (``{}`` for the grand total) in one currency,
    counting the pledges of one flow (donations, as a report's ``columns`` do, unless told otherwise)."""

    column: str
    key: Mapping[str, str]
    currency: str = "CNY"
    flow: str = "donation"


def explain(
    fold: LedgerFold,
    column: str,
    key: Mapping[str, str] | None = None,
    currency: str = "CNY",
    as_of: AsOf | None = None,
    *,
    keeper_view: bool = False,
    flow: str = "donation",
) -> Explanation:
    """The contributions to ``column`` in the row ``key`` (``{}`` for the grand total).

    Only pledges of ``flow`` count: donations, as in a report's ``columns``, or another flow, as in a
    row's ``other_flows[flow]``. ``keeper_view`` explains a row of a keeper's totals report
    (``totals(..., keeper_view=True)``).
    """
    figure = Figure(column, dict(key or {}), currency, flow)
    return explain_all(fold, [figure], as_of, keeper_view=keeper_view)[0]


def explain_all(
    fold: LedgerFold, figures: Sequence[Figure], as_of: AsOf | None = None, *, keeper_view: bool = False
) -> list[Explanation]:
    """The explanation of every figure, in order, from one pass over the facts.

    Figures are grouped by the dimensions their keys name; each fact's key under each such group
    is looked up once, so the cost is the facts times the kinds of key, not times the figures.
    """
    as_of = as_of or AsOf()
    wanted: dict[tuple[str, ...], dict[tuple[str, ...], list[int]]] = defaultdict(lambda: defaultdict(list))
    for index, figure in enumerate(figures):
        if figure.column not in COLUMNS:
            raise InvalidInput("column", figure.column, "one of " + ", ".join(COLUMNS))
        names = check_dimensions(figure.key)
        wanted[names][tuple(figure.key[name] for name in names)].append(index)
    keepers = [keeper_view and any(name in KEEPER_DIMENSIONS for name in f.key) for f in figures]
    found: list[list[Contribution]] = [[] for _ in figures]
    for fact in fold.matching_facts(as_of):
        pledge = fold.pledges[fact.pledge_id]
        for names, by_key in wanted.items():
            for index in _figures_of(fold, fact, names, by_key, as_of, keeper_view):
                figure = figures[index]
                sign = sign_in(figure.column, fact.column)
                if not sign or pledge.currency != figure.currency or pledge.flow != figure.flow:
                    continue
                if _in_row(fold, fact, figure.key, as_of, keepers[index]):
                    found[index].append(_contribution(fact, sign))
    coordinates = coordinates_of(fold, as_of)
    explanations = []
    for figure, contributions, keeper in zip(figures, found, keepers, strict=True):
        explanation = Explanation(
            coordinates=coordinates,
            column=figure.column,
            key=dict(figure.key),
            currency=figure.currency,
            value=money(sum(int(c.amount.scaleb(2)) for c in contributions)),
            contributions=tuple(contributions),
            keeper_view=keeper,
            flow=figure.flow,
        )
        explanations.append(explanation.sealed())
    return explanations


def _figures_of(
    fold: LedgerFold,
    fact: Fact,
    names: tuple[str, ...],
    by_key: Mapping[tuple[str, ...], list[int]],
    as_of: AsOf,
    keeper_view: bool,
) -> list[int]:
    """The figures (indexes) whose key, over ``names``, the fact may belong to."""
    pledge = fold.pledges[fact.pledge_id]
    dimensions = {**DIMENSIONS, **KEEPER_DIMENSIONS} if keeper_view else DIMENSIONS
    indexes: list[int] = []
    for values in product(*(dimensions[name](fold, pledge, fact.year, as_of) for name in names)):
        indexes += by_key.get(values, ())
    if keeper_view:  # a figure without keeper dimensions files anonymous pledges as published reports do
        for values in product(*(DIMENSIONS[name](fold, pledge, fact.year, as_of) for name in names)):
            indexes += by_key.get(values, ())
    return sorted(set(indexes))


def _contribution(fact: Fact, sign: int) -> Contribution:
    return Contribution(
        position=fact.position,
        event=fact.event,
        effective_on=fact.effective_on,
        pledge_id=UUID(fact.pledge_id),
        disbursement_id=UUID(fact.disbursement_id) if fact.disbursement_id else None,
        column=fact.column,
        amount=money(fact.amount * sign),
    )


def _in_row(fold: LedgerFold, fact: Fact, key: Mapping[str, str], as_of: AsOf, keeper_view: bool) -> bool:
    pledge = fold.pledges[fact.pledge_id]
    dimensions = {**DIMENSIONS, **KEEPER_DIMENSIONS} if keeper_view else DIMENSIONS
    return all(value in dimensions[name](fold, pledge, fact.year, as_of) for name, value in key.items())
