"""Reusable checks of the ledger's figures: bounds, sums, conservation, agreement and determinism.

Each ``check_*`` function raises :class:`InvariantViolation` (an ``AssertionError``, so pytest
and hypothesis treat it as a test failure) naming the pledge, group, column and values that
disagree, and returns ``None`` when the invariant holds. Sources are an
:class:`~aidledger.AidLedger` (its persisted fold is refreshed first) or a
:class:`~aidledger.projections.LedgerFold`.

- :func:`check_pledge_bounds`: 0 ≤ net disbursed ≤ pledged for every pledge, no negative stage
  column, confirmed ≤ disbursed − reversed;
- :func:`check_group_sums`: every single-valued grouping sums to the grand total;
- :func:`check_conservation`: new money = money in projects + money in pooled funds − regrants,
  for every column and currency (DESIGN §3 rule 3), and :func:`check_pools_cover_regrants`: no
  pooled-fund pledge passes on more than was disbursed into the pool;
- :func:`check_projection_paths`: the incremental fold, a rebuild from scratch and a reload of
  the persisted fold from the database give byte-identical reports;
- :func:`check_replay`: replaying the same command records into a new ledger gives the same
  report digests (replay is deterministic);
- :func:`check_agrees_with_model` and :func:`run_history`: the ledger agrees with the reference
  model on every decision and every total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from aidledger import projections
from aidledger.application.ledger import AidLedger
from aidledger.application.views import Receipt
from aidledger.bootstrap import open_ledger
from aidledger.errors import AidLedgerError
from aidledger.interchange.commands import run_command
from aidledger.projections import AsOf, LedgerFold, TotalsReport
from aidledger.projections.fold import BASE_COLUMNS
from aidledger.projections.totals import TotalsRow, pledge_columns
from aidledger.testing.model import LedgerModel, ModelRow, Outcome

__all__ = [
    "DEFAULT_GROUPINGS",
    "SINGLE_VALUED_DIMENSIONS",
    "InvariantViolation",
    "check_agrees_with_model",
    "check_all",
    "check_conservation",
    "check_group_sums",
    "check_outcome",
    "check_pledge_bounds",
    "check_pledge_views",
    "check_pools_cover_regrants",
    "check_projection_paths",
    "check_published",
    "check_replay",
    "report_rows",
    "run_history",
    "run_record",
]

ZERO = Decimal("0.00")

DEFAULT_GROUPINGS: tuple[tuple[str, ...], ...] = (
    (),
    ("donor",),
    ("project",),
    ("county",),
    ("origin", "destination"),
    ("year", "form"),
    ("campaign",),
    ("donor_level", "category"),
    ("channel", "province"),
)
"""Groupings the agreement and path checks compare (a few, not every combination)."""

SINGLE_VALUED_DIMENSIONS: tuple[str, ...] = tuple(d for d in projections.DIMENSIONS if d != "campaign")
"""Dimensions that put each fact in exactly one row, so their rows add up to the grand total.
(``campaign`` is multi-valued: a project in two campaigns is counted in both rows.)"""


class InvariantViolation(AssertionError):
    """An invariant of the ledger's figures does not hold; the message says where and by how much."""


def _fail(message: str) -> None:
    raise InvariantViolation(message)


def _fold(source: AidLedger | LedgerFold) -> LedgerFold:
    return projections.fold_of(source)


# -- running commands -----------------------------------------------------------------------------


def run_record(ledger: AidLedger, record: Mapping[str, Any]) -> Receipt | AidLedgerError:
    """Run one command record; return its receipt, or the error the ledger refused it with."""
    try:
        return run_command(ledger, dict(record))
    except AidLedgerError as error:
        return error


def check_outcome(ledger: AidLedger, record: Mapping[str, Any], outcome: Outcome) -> Receipt | AidLedgerError:
    """Run ``record`` and check the ledger decides as ``outcome`` predicts.

    A refusal must raise the predicted error class and store nothing; an acceptance must store
    events and name the predicted aggregate; a repeat (same command id and payload) must store
    nothing and return the first receipt's aggregate.
    """
    before = ledger.position()
    result = run_record(ledger, record)
    after = ledger.position()
    where = f"command {record.get('command')!r} {record.get('command_id')!r}"
    if isinstance(result, AidLedgerError):
        if not outcome.refused:
            _fail(
                f"{where}: the ledger refused it ({type(result).__name__}: {result}) but the model {outcome.status} it"
            )
        if type(result) is not outcome.error:
            expected = outcome.error.__name__ if outcome.error else None
            got = f"{type(result).__name__} ({result})"
            _fail(f"{where}: refused with {got}; the model predicts {expected}: {outcome.why}")
        if after != before:
            _fail(f"{where}: refused with {type(result).__name__} but the log moved from {before} to {after}")
        return result
    if outcome.refused:
        expected = outcome.error.__name__ if outcome.error else None
        _fail(f"{where}: the ledger accepted it; the model predicts {expected}: {outcome.why}")
    if outcome.accepted and (after <= before or not all(before < p <= after for p in result.positions)):
        _fail(f"{where}: accepted but its events are not new: positions {result.positions}, log {before}->{after}")
    if outcome.status == "repeated" and after != before:
        _fail(f"{where}: a repeated command stored events (log {before}->{after})")
    if outcome.aggregate_id is not None and result.aggregate_id != outcome.aggregate_id:
        _fail(f"{where}: names aggregate {result.aggregate_id}; the model expects {outcome.aggregate_id}")
    return result


def run_history(
    ledger: AidLedger, records: Iterable[Mapping[str, Any]], model: LedgerModel | None = None
) -> LedgerModel:
    """Run every record on ``ledger`` and on the model, checking each decision; return the model."""
    model = (
        model
        if model is not None
        else LedgerModel(
            default_recorded_by=ledger.default_recorded_by, allow_disbursing_intended=ledger.allow_disbursing_intended
        )
    )
    for record in records:
        check_outcome(ledger, record, model.run(record))
    return model


# -- agreement with the model -----------------------------------------------------------------------

Figures = tuple[
    dict[str, Decimal], tuple[int, ...], dict[str, Decimal], dict[str, Decimal], dict[str, dict[str, Decimal]]
]
"""A row's columns, its counts, its new money, the money it passed through, and its other flows."""


def report_rows(report: TotalsReport) -> dict[Any, Figures]:
    """A totals report's rows (and its grand totals under the empty key), keyed like the model's."""
    rows = report.rows if report.group_by else report.totals
    return _without_empty({(tuple(row.key.items()), row.currency): _figures(row) for row in rows})


def _model_rows(rows: Mapping[tuple[tuple[tuple[str, str], ...], str], ModelRow]) -> dict[Any, Figures]:
    return _without_empty({group: _figures(row) for group, row in rows.items()})


def _figures(row: TotalsRow | ModelRow) -> Figures:
    """The figures both sides compare, read alike from a report's row and from the model's."""
    counts = (
        row.pledges,
        row.projects,
        row.organizations,
        row.counties,
        row.person_times,
        row.households,
        row.persons,
        row.unvalued_gifts,
    )
    return (
        dict(row.columns),
        counts,
        dict(row.new_money),
        dict(row.passed_through),
        {flow: dict(columns) for flow, columns in row.other_flows.items()},
    )


def _without_empty(rows: dict[Any, Figures]) -> dict[Any, Figures]:
    """Drop rows with nothing in them (a group whose facts cancelled out); both sides agree on those."""
    return {key: value for key, value in rows.items() if any(value[0].values()) or any(value[1]) or value[4]}


def check_agrees_with_model(
    source: AidLedger | LedgerFold,
    model: LedgerModel,
    groupings: Sequence[Sequence[str]] = DEFAULT_GROUPINGS,
    effective_on: date | None = None,
) -> None:
    """Every column of every pledge, and every row of each grouping, equal the model's."""
    fold = _fold(source)
    ledger_pledges = {UUID(k): v for k, v in pledge_columns(fold, AsOf(effective_on=effective_on)).items()}
    model_pledges = model.pledge_columns(effective_on)
    for pledge_id in sorted(set(ledger_pledges) | set(model_pledges)):
        got, want = ledger_pledges.get(pledge_id), model_pledges.get(pledge_id)
        if got != want:
            _fail(f"pledge {pledge_id} (as of {effective_on}): ledger columns {got}, model {want}")
    for group_by in groupings:
        report = projections.totals(fold, tuple(group_by), effective_on=effective_on)
        got_rows = report_rows(report)
        want_rows = _model_rows(model.totals(tuple(group_by), effective_on))
        for key in sorted(set(got_rows) | set(want_rows)):
            if got_rows.get(key) != want_rows.get(key):
                _fail(
                    f"totals by {tuple(group_by)} (as of {effective_on}), row {key}: "
                    f"ledger {got_rows.get(key)}, model {want_rows.get(key)}"
                )


def check_pledge_views(ledger: AidLedger, model: LedgerModel) -> None:
    """Each pledge's view (the aggregate's own state) equals the model's pledge."""
    for pledge in model.pledges.values():
        view = ledger.pledge(pledge.id)
        got = (
            view.amount.value,
            view.amount.currency,
            view.stage.value,
            view.withdrawn,
            view.disbursed,
            view.reversed,
            view.returned,
            view.net_disbursed,
            view.outstanding,
            view.regranted,
            list(view.drawn_from),
        )
        want = (
            pledge.amount,
            pledge.currency,
            pledge.stage,
            pledge.withdrawn,
            pledge.disbursed,
            pledge.reversed,
            pledge.returned,
            pledge.net_disbursed,
            pledge.outstanding,
            pledge.regranted,
            pledge.drawn_from,
        )
        if got != want:
            _fail(f"pledge {pledge.id}: ledger view {got}, model {want}")


# -- invariants of the figures alone -----------------------------------------------------------------


def check_pledge_bounds(
    source: AidLedger | LedgerFold, effective_on: date | None = None, *, allow_disbursing_intended: bool = False
) -> None:
    """For every pledge: 0 ≤ net disbursed ≤ pledged, no base column below 0, confirmed ≤ paid,
    and (unless the ledger lets intended pledges be paid) outstanding ≥ 0."""
    columns_by_pledge = pledge_columns(_fold(source), AsOf(effective_on=effective_on))
    for pledge_id, columns in columns_by_pledge.items():
        where = f"pledge {pledge_id} (as of {effective_on})"
        net, pledged = columns["net_disbursed"], columns["pledged"]
        if not ZERO <= net <= pledged:
            _fail(f"{where}: net disbursed {net} is not between 0 and pledged {pledged}: {columns}")
        negative = {c: columns[c] for c in BASE_COLUMNS if columns[c] < 0}
        if negative:
            _fail(f"{where}: negative columns {negative}")
        if columns["confirmed"] > columns["disbursed"] - columns["reversed"]:
            _fail(f"{where}: confirmed {columns['confirmed']} exceeds what was paid and not reversed: {columns}")
        if columns["outstanding"] < 0 and not allow_disbursing_intended:
            _fail(f"{where}: outstanding {columns['outstanding']} is negative (money paid beyond the signed amount)")


def _by_currency(rows: Iterable[Any]) -> dict[str, dict[str, Decimal]]:
    sums: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        line = sums.setdefault(row.currency, dict.fromkeys(projections.COLUMNS, ZERO))
        for column, amount in row.columns.items():
            line[column] += amount
    return sums


def check_group_sums(
    source: AidLedger | LedgerFold,
    groupings: Sequence[Sequence[str]] | None = None,
    effective_on: date | None = None,
) -> None:
    """Every grouping by single-valued dimensions sums, per currency and column, to the grand total."""
    fold = _fold(source)
    if groupings is None:
        groupings = [(d,) for d in SINGLE_VALUED_DIMENSIONS] + [("origin", "destination"), ("year", "county")]
    for group_by in groupings:
        report = projections.totals(fold, tuple(group_by), effective_on=effective_on)
        summed = _by_currency(report.rows)
        grand = _by_currency(report.totals)
        if summed != grand:
            _fail(f"rows by {tuple(group_by)} (as of {effective_on}) sum to {summed}, the grand total is {grand}")


def check_conservation(source: AidLedger | LedgerFold, effective_on: date | None = None) -> None:
    """New money = money in projects + money in pooled funds − regrants, per column and currency.

    Also, in every row of the grand total, ``columns`` = ``new_money`` + ``passed_through``, and
    ``new_money`` is what the ``origin = new`` row counts.
    """
    fold = _fold(source)
    for row in projections.totals(fold, effective_on=effective_on).totals:
        for column in projections.COLUMNS:
            if row.columns[column] != row.new_money[column] + row.passed_through[column]:
                _fail(
                    f"{column} {row.currency} (as of {effective_on}): total {row.columns[column]} != new money "
                    f"{row.new_money[column]} + passed through {row.passed_through[column]}"
                )
    by_origin = _keyed(projections.totals(fold, ("origin",), effective_on=effective_on), "origin")
    by_destination = _keyed(projections.totals(fold, ("destination",), effective_on=effective_on), "destination")
    currencies = {currency for currency, _ in by_origin} | {currency for currency, _ in by_destination}
    for currency in sorted(currencies):
        new = by_origin.get((currency, "new"), {})
        regranted = by_origin.get((currency, "regrant"), {})
        in_projects = by_destination.get((currency, "project"), {})
        in_pools = by_destination.get((currency, "pooled_fund"), {})
        grand = {row.currency: row for row in projections.totals(fold, effective_on=effective_on).totals}
        if currency in grand and dict(grand[currency].new_money) != {c: new.get(c, ZERO) for c in projections.COLUMNS}:
            _fail(f"{currency}: the grand total's new money {grand[currency].new_money} != origin=new {new}")
        for column in projections.COLUMNS:
            placed = in_projects.get(column, ZERO) + in_pools.get(column, ZERO)
            if new.get(column, ZERO) != placed - regranted.get(column, ZERO):
                _fail(
                    f"{column} {currency} (as of {effective_on}): new money {new.get(column, ZERO)} != projects and "
                    f"pools {placed} - regrants {regranted.get(column, ZERO)}"
                )


def _keyed(report: TotalsReport, dimension: str) -> dict[tuple[str, str], dict[str, Decimal]]:
    return {(row.currency, row.key[dimension]): dict(row.columns) for row in report.rows}


def check_pools_cover_regrants(source: AidLedger | LedgerFold, effective_on: date | None = None) -> None:
    """No pooled-fund pledge passes on more than was disbursed into the pool (net)."""
    fold = _fold(source)
    columns = pledge_columns(fold, AsOf(effective_on=effective_on))
    passed_on: dict[str, Decimal] = {}
    for pledge in fold.pledges.values():
        if pledge.funded_from is not None:
            pledged = columns.get(pledge.id, {}).get("pledged", ZERO)
            passed_on[pledge.funded_from] = passed_on.get(pledge.funded_from, ZERO) + pledged
    for source_id, regranted in passed_on.items():
        received = columns.get(source_id, {}).get("net_disbursed", ZERO)
        if regranted > received:
            _fail(
                f"pledge {source_id} (as of {effective_on}) regrants {regranted} but only {received} was "
                "disbursed into its pool"
            )


# -- paths and determinism -------------------------------------------------------------------------


def _reports(source: AidLedger | LedgerFold, groupings: Sequence[Sequence[str]]) -> list[bytes]:
    return [projections.totals(source, tuple(g)).canonical() for g in groupings]


def check_projection_paths(ledger: AidLedger, groupings: Sequence[Sequence[str]] = DEFAULT_GROUPINGS) -> None:
    """The incremental fold, a rebuild from scratch and the fold reloaded from the database agree.

    Reports must be byte-identical (digests included), and so must the facts behind them.
    """
    runner = projections.projections_of(ledger)
    incremental_fold = _fold(ledger)
    incremental = _reports(incremental_fold, groupings)
    rebuilt_fold = runner.rebuild().fold
    if _reports(rebuilt_fold, groupings) != incremental:
        _fail(f"a rebuild from scratch differs from the incremental fold at position {ledger.position()}")
    if rebuilt_fold.facts != incremental_fold.facts:
        _fail(f"rebuilt facts differ from incremental facts at position {ledger.position()}")
    if projections.projections_digest(rebuilt_fold) != projections.projections_digest(incremental_fold):
        _fail(f"a rebuild's projections digest differs from the incremental fold's at {ledger.position()}")
    if _reports(runner.rebuild().fold, groupings) != incremental:
        _fail("two rebuilds of the same log give different reports")
    with closing(open_ledger(ledger.store.address)) as reopened:
        reloaded_fold = _fold(reopened)
        if reloaded_fold.facts != incremental_fold.facts:
            _fail(f"the fold reloaded from the database differs from the incremental fold at {ledger.position()}")
        if _reports(reopened, groupings) != incremental:
            _fail(f"a ledger reopened on the same database reports differently at position {ledger.position()}")


def _without_root(report: TotalsReport) -> dict[str, Any]:
    body = report.body()
    body["coordinates"].pop("root", None)
    return body


def check_replay(
    ledger: AidLedger, records: Iterable[Mapping[str, Any]], groupings: Sequence[Sequence[str]] = DEFAULT_GROUPINGS
) -> None:
    """Replaying ``records`` (the ledger's whole history) into a new ledger gives the same reports.

    The new ledger stores the same events at the same positions but at other times, so its
    Merkle root differs; everything else in every report must be identical.
    """
    with closing(
        open_ledger(
            ":memory:",
            recorded_by=ledger.default_recorded_by,
            allow_disbursing_intended=ledger.allow_disbursing_intended,
        )
    ) as replayed:
        for record in records:
            run_record(replayed, record)
        if replayed.position() != ledger.position():
            _fail(f"the replay stored {replayed.position()} events, the ledger {ledger.position()}")
        for group_by in groupings:
            original = _without_root(projections.totals(ledger, tuple(group_by)))
            again = _without_root(projections.totals(replayed, tuple(group_by)))
            if original != again:
                _fail(f"totals by {tuple(group_by)}: the ledger reports {original}, the replay {again}")


def check_published(ledger: AidLedger, published: Iterable[tuple[int, Sequence[str], str]]) -> None:
    """Reports recomputed at past positions have the digests they were published with.

    ``published`` holds ``(position, group_by, digest)`` of totals reports computed earlier
    (when the log ended at ``position``); recomputing them as of that position now, after more
    events were recorded, must give the same digest, Merkle root included.
    """
    for position, group_by, digest in published:
        again = projections.totals(ledger, tuple(group_by), position=position)
        if again.digest != digest:
            _fail(
                f"totals by {tuple(group_by)} as of position {position}: published with digest {digest}, "
                f"recomputed {again.digest}: {again.body()}"
            )


def check_all(
    ledger: AidLedger,
    model: LedgerModel | None = None,
    records: Iterable[Mapping[str, Any]] | None = None,
    *,
    effective_on: date | None = None,
    groupings: Sequence[Sequence[str]] = DEFAULT_GROUPINGS,
) -> None:
    """Every check above that the arguments allow (the model's and the replay's when given)."""
    check_pledge_bounds(ledger, allow_disbursing_intended=ledger.allow_disbursing_intended)
    check_group_sums(ledger)
    check_conservation(ledger)
    check_pools_cover_regrants(ledger)
    check_projection_paths(ledger, groupings)
    if model is not None:
        check_agrees_with_model(ledger, model, groupings)
        check_pledge_views(ledger, model)
        if effective_on is not None:
            check_agrees_with_model(ledger, model, groupings, effective_on)
    if records is not None:
        check_replay(ledger, records, groupings)
