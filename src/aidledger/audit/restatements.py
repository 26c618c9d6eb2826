"""Restatement: every figure that changed between two as-of points, and the events that changed it.

The two points are :class:`~aidledger.projections.AsOf` coordinates, typically "what was published
then" (a log position or recorded-before time) and "what is known now" about the same effective
date. Totals are computed at both; for each group, currency and column whose value differs the
restatement lists the events whose facts count at one point and not at the other, with the signed
amount each adds. An event recorded after the first point but effective within the period it
already covered is *backdated*; reversals, returns, amendments and withdrawals are *corrections*.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from aidledger import projections
from aidledger.application.ledger import AidLedger
from aidledger.audit.histories import stored_event
from aidledger.audit.leaves import read_rows
from aidledger.errors import InvalidInput
from aidledger.projections.columns import COLUMNS, sign_in
from aidledger.projections.fold import AsOf, Fact, LedgerFold, money
from aidledger.projections.report import Coordinates, Report, coordinates_of
from aidledger.projections.totals import ZERO, TotalsReport, TotalsRow, check_dimensions, fact_keys
from aidledger.projections.totals import totals as totals_of

__all__ = ["CORRECTIONS", "COUNTS", "EventChange", "FigureChange", "Restatement", "restatement"]

CORRECTIONS = frozenset({"Disbursement.Reversed", "Disbursement.Returned", "Pledge.Amended", "Pledge.Withdrawn"})
"""Events that correct earlier ones (DESIGN §5: corrections are new events, never edits)."""

REVERSED = "Disbursement.Reversed"
"""The one event whose facts count from an earlier date than its own (the disbursement's value date)."""

COUNTS = ("pledges", "projects", "organizations", "counties", "person_times", "households", "persons")
"""Count figures of a totals row; they are compared too, and list the money events of their row."""

Group = tuple[tuple[str, ...] | None, str]
"""A figure's row: its key values in ``group_by`` order (``None`` for the grand total) and currency."""


class EventChange(BaseModel):
    """One event's part in a changed figure."""

    model_config = ConfigDict(frozen=True)

    position: int
    event: str
    effective_on: date
    recorded_at: datetime
    amount: Decimal | None
    """What the event adds to the figure going from the first point to the second (``None`` for counts)."""
    backdated: bool
    correction: bool
    dated_on: date | None = None
    """The event's own effective date. It differs from ``effective_on``, the date from which the
    figure counts it, for a reversal only: a reversal takes the disbursement back from its value
    date (and the confirmation from its own date). ``None`` for a reversal when the restatement is
    computed from a bare fold, which does not keep it."""
    reason: str | None = None
    """The reason a correction gives (``None`` from a bare fold, and for events that give none)."""


class FigureChange(BaseModel):
    """A figure (group, column, currency) whose value differs between the two points."""

    model_config = ConfigDict(frozen=True)

    key: dict[str, str]
    """The group (``{}`` for the grand total)."""
    currency: str
    column: str
    before: Decimal
    after: Decimal
    change: Decimal
    events: tuple[EventChange, ...]
    unexplained: Decimal = ZERO
    """Change no event's fact accounts for: a pledge moving between groups after a profile update."""


class Restatement(Report):
    """The figures that changed from ``restated_from`` to ``coordinates``."""

    report: str = "restatement"
    restated_from: Coordinates
    group_by: tuple[str, ...]
    figures: tuple[FigureChange, ...]
    labels: dict[str, str]


def restatement(
    source: AidLedger | LedgerFold, before: AsOf, after: AsOf, group_by: Sequence[str] = ("project",)
) -> Restatement:
    """Every figure of totals grouped by ``group_by`` that differs from ``before`` to ``after``."""
    fold = projections.fold_of(source)
    names = check_dimensions(group_by)
    start, end = coordinates_of(fold, before), coordinates_of(fold, after)
    if before.position is not None and start.position > end.position:
        accepted = f"a position at or before the second point's, {end.position}"
        raise InvalidInput("from position", start.position, accepted)
    first, second = totals_of(fold, names, before), totals_of(fold, names, after)
    delta = list(_delta(fold, before, after))
    corrections = _corrections(source, {fact.position for fact, _, _ in delta if fact.event in CORRECTIONS})
    amounts, row_events = _attribute(fold, names, before, delta, corrections)
    rows_first, rows_second = _rows(first, names), _rows(second, names)
    figures: list[FigureChange] = []
    for group in sorted(rows_first.keys() | rows_second.keys(), key=_order):
        figures += _changes(group, names, rows_first.get(group), rows_second.get(group), amounts, row_events)
    report = Restatement(
        coordinates=end,
        restated_from=start,
        group_by=names,
        figures=tuple(figures),
        labels={**first.labels, **second.labels},
    )
    result: Restatement = report.sealed()
    return result


def _order(group: Group) -> tuple[bool, tuple[str, ...], str]:
    return (group[0] is None, group[0] or (), group[1])


def _rows(report: TotalsReport, names: tuple[str, ...]) -> dict[Group, TotalsRow]:
    rows: dict[Group, TotalsRow] = {(None, row.currency): row for row in report.totals}
    if names:  # without grouping, the one row is the grand total again
        rows |= {(tuple(row.key[n] for n in names), row.currency): row for row in report.rows}
    return rows


def _changes(
    group: Group,
    names: tuple[str, ...],
    first: TotalsRow | None,
    second: TotalsRow | None,
    amounts: dict[tuple[Group, str], dict[int, EventChange]],
    row_events: dict[Group, dict[int, EventChange]],
) -> Iterator[FigureChange]:
    key = dict(zip(names, group[0], strict=True)) if group[0] is not None else {}
    for column in (*COLUMNS, *COUNTS):
        was, now = _value(first, column), _value(second, column)
        if was == now:
            continue
        if column in COUNTS:
            events = tuple(e.model_copy(update={"amount": None}) for _, e in sorted(row_events.get(group, {}).items()))
            explained = now - was
        else:
            found = amounts.get((group, column), {})
            events = tuple(e for _, e in sorted(found.items()) if e.amount)
            explained = sum((e.amount or ZERO for e in events), ZERO)
        yield FigureChange(
            key=key,
            currency=group[1],
            column=column,
            before=was,
            after=now,
            change=now - was,
            events=events,
            unexplained=now - was - explained,
        )


def _value(row: TotalsRow | None, column: str) -> Decimal:
    if row is None:
        return ZERO if column in COLUMNS else Decimal(0)
    return row.columns[column] if column in COLUMNS else Decimal(getattr(row, column))


def _corrections(source: AidLedger | LedgerFold, positions: set[int]) -> dict[int, tuple[date, str | None]]:
    """Each correction's own effective date and reason, read from the ledger's stored events.

    A bare fold keeps neither: then the answer is empty.
    """
    if not isinstance(source, AidLedger):
        return {}
    found: dict[int, tuple[date, str | None]] = {}
    for position in sorted(positions):
        for row in read_rows(source, position, position):
            event = stored_event(source, row)
            found[position] = (event.effective_on, getattr(event, "reason", None))
    return found


def _attribute(
    fold: LedgerFold,
    names: tuple[str, ...],
    before: AsOf,
    delta: list[tuple[Fact, int, AsOf]],
    corrections: dict[int, tuple[date, str | None]],
) -> tuple[dict[tuple[Group, str], dict[int, EventChange]], dict[Group, dict[int, EventChange]]]:
    """Signed amounts of each changed event per figure, and the changed events per row."""
    horizon = _horizon(fold, before)
    amounts: dict[tuple[Group, str], dict[int, EventChange]] = defaultdict(dict)
    row_events: dict[Group, dict[int, EventChange]] = defaultdict(dict)
    for fact, sign, side in delta:
        currency = fold.pledges[fact.pledge_id].currency
        change = _event_change(fact, before, horizon, corrections.get(fact.position))
        groups: list[Group] = [(key, currency) for key in fact_keys(fold, fact, names, side)] if names else []
        for group in [*groups, (None, currency)]:
            row_events[group].setdefault(fact.position, change)
            for column in COLUMNS:
                weight = sign_in(column, fact.column)
                if weight:
                    _add(amounts[(group, column)], change, money(sign * weight * fact.amount))
    return amounts, row_events


def _add(found: dict[int, EventChange], change: EventChange, amount: Decimal) -> None:
    """Add an amount to an event's part in a figure (one event may feed a figure twice)."""
    earlier = found.get(change.position)
    total = amount + (earlier.amount or ZERO if earlier else ZERO)
    found[change.position] = change.model_copy(update={"amount": total})


def _delta(fold: LedgerFold, before: AsOf, after: AsOf) -> Iterator[tuple[Fact, int, AsOf]]:
    """Facts counted at one point and not the other: +1 gained by ``after``, -1 lost."""
    for fact in fold.facts:
        at_first = before.includes(fact.position, fact.recorded_at, fact.effective_on)
        at_second = after.includes(fact.position, fact.recorded_at, fact.effective_on)
        if at_second and not at_first:
            yield fact, 1, after
        elif at_first and not at_second:
            yield fact, -1, before


def _horizon(fold: LedgerFold, before: AsOf) -> date | None:
    """The last effective date the first point's figures covered."""
    if before.effective_on is not None:
        return before.effective_on
    known = [f.effective_on for f in fold.facts if before.knows(f.position, f.recorded_at)]
    return max(known) if known else None


def _event_change(
    fact: Fact, before: AsOf, horizon: date | None, correction: tuple[date, str | None] | None
) -> EventChange:
    recorded_later = not before.knows(fact.position, fact.recorded_at)
    # Only a reversal counts from another date than its own; the fold keeps that date for no event.
    dated_on, reason = correction or (None if fact.event == REVERSED else fact.effective_on, None)
    return EventChange(
        position=fact.position,
        event=fact.event,
        effective_on=fact.effective_on,
        recorded_at=fact.recorded_at,
        amount=ZERO,
        backdated=recorded_later and horizon is not None and fact.effective_on <= horizon,
        correction=fact.event in CORRECTIONS,
        dated_on=dated_on,
        reason=reason,
    )
