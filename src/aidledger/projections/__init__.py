"""Projections: totals, disclosure status, transparency views and explanations, all as-of.

Every function takes a ledger (its persisted fold is checked against the log and refreshed
incrementally first) or a :class:`LedgerFold`, and the as-of coordinates ``position``, ``recorded_before`` and
``effective_on``. Every result carries those coordinates and a SHA-256 digest of its canonical
JSON.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from aidledger.application.ledger import AidLedger
from aidledger.domain.values import parse_effective_date
from aidledger.errors import InvalidInput
from aidledger.projections import disclosure as _disclosure
from aidledger.projections import explain as _explain
from aidledger.projections import totals as _totals
from aidledger.projections import transparency as _transparency
from aidledger.projections.disclosure import DisclosureReport
from aidledger.projections.disclosure_rules import DisclosurePolicy
from aidledger.projections.explain import Explanation
from aidledger.projections.fold import AsOf, LedgerFold
from aidledger.projections.report import Coordinates, Report
from aidledger.projections.runner import Projections
from aidledger.projections.state import projections_digest
from aidledger.projections.totals import COLUMNS, DIMENSIONS, TotalsReport
from aidledger.projections.transparency import CountyPage, OrganizationPage, PageIndex, ProjectPage

__all__ = [
    "COLUMNS",
    "DIMENSIONS",
    "AsOf",
    "Coordinates",
    "CountyPage",
    "DisclosurePolicy",
    "DisclosureReport",
    "Explanation",
    "LedgerFold",
    "OrganizationPage",
    "PageIndex",
    "ProjectPage",
    "Projections",
    "Report",
    "TotalsReport",
    "as_of",
    "disclosure_status",
    "explain",
    "fold_of",
    "projections_digest",
    "projections_of",
    "totals",
    "transparency",
]


def projections_of(ledger: AidLedger) -> Projections:
    """The projections a ledger keeps current (``aidledger.open`` gives every ledger its own)."""
    runner = ledger.follower
    if not isinstance(runner, Projections):
        raise TypeError("this ledger keeps no projections: open it with aidledger.open()")
    return runner


def fold_of(source: AidLedger | LedgerFold) -> LedgerFold:
    """The fold of a ledger, checked against its log and brought up to its newest event; a fold is
    returned as it is."""
    if isinstance(source, LedgerFold):
        return source
    return projections_of(source).fold


def as_of(
    position: int | None = None, recorded_before: datetime | str | None = None, effective_on: date | str | None = None
) -> AsOf:
    """Validate as-of coordinates."""
    if position is not None and (isinstance(position, bool) or not isinstance(position, int) or position < 0):
        raise InvalidInput("position", position, "a log position: a whole number, 0 or more")
    when = recorded_before
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            raise InvalidInput(
                "recorded_before", recorded_before, "an ISO time with timezone, e.g. 2018-09-01T00:00Z"
            ) from None
    if when is not None and (when.tzinfo is None or when.utcoffset() is None):
        raise InvalidInput("recorded_before", recorded_before, "a time with a timezone, e.g. 2018-09-01T00:00+08:00")
    day = None
    if effective_on is not None:
        try:
            day = parse_effective_date(effective_on)
        except ValueError as error:
            raise InvalidInput("effective_on", effective_on, str(error)) from None
    return AsOf(position=position, recorded_before=when, effective_on=day)


def totals(
    source: AidLedger | LedgerFold,
    group_by: tuple[str, ...] | list[str] = (),
    *,
    position: int | None = None,
    recorded_before: datetime | str | None = None,
    effective_on: date | str | None = None,
    keeper_view: bool = False,
) -> TotalsReport:
    """Totals of every stage column grouped by ``group_by`` (see ``DIMENSIONS``).

    Anonymous pledges are filed under ``anonymous (匿名)`` in every donor attribute, so a report
    can be published; ``keeper_view=True`` files them under their donor's level, kind and province
    instead, for the ledger's keeper only.
    """
    coordinates = as_of(position, recorded_before, effective_on)
    return _totals.totals(fold_of(source), group_by, coordinates, keeper_view=keeper_view)


def disclosure_status(
    source: AidLedger | LedgerFold,
    on: date | str,
    *,
    campaign_policy: DisclosurePolicy | None = None,
    position: int | None = None,
    recorded_before: datetime | str | None = None,
) -> DisclosureReport:
    """Every project's disclosure obligations and their status on ``on``."""
    coordinates = as_of(position, recorded_before, on)
    assert coordinates.effective_on is not None
    return _disclosure.disclosure_status(
        fold_of(source), coordinates.effective_on, campaign_policy=campaign_policy, as_of=coordinates
    )


def transparency(
    source: AidLedger | LedgerFold,
    kind: str,
    subject: str | UUID,
    *,
    on: date | str | None = None,
    campaign_policy: DisclosurePolicy | None = None,
    position: int | None = None,
    recorded_before: datetime | str | None = None,
    effective_on: date | str | None = None,
    index: PageIndex | None = None,
) -> ProjectPage | OrganizationPage | CountyPage:
    """The public page of a project, organization or county.

    ``index`` (``PageIndex(fold, as_of(...))`` of the same fold and coordinates) lets many pages share
    one pass over the ledger; without it each call makes its own.
    """
    coordinates = as_of(position, recorded_before, effective_on)
    day = as_of(effective_on=on).effective_on if on is not None else None
    return _transparency.transparency(
        fold_of(source), kind, subject, coordinates, on=day, campaign_policy=campaign_policy, index=index
    )


def explain(
    source: AidLedger | LedgerFold,
    column: str,
    key: dict[str, str] | None = None,
    currency: str = "CNY",
    *,
    position: int | None = None,
    recorded_before: datetime | str | None = None,
    effective_on: date | str | None = None,
    keeper_view: bool = False,
    flow: str = "donation",
) -> Explanation:
    """The events whose contributions add up to one figure of a totals report (``keeper_view`` as there).

    Donations count, as in a report's ``columns``; ``flow="loan"`` (or ``"investment"``) explains a
    figure of a row's ``other_flows`` instead.
    """
    coordinates = as_of(position, recorded_before, effective_on)
    return _explain.explain(
        fold_of(source), column, key, currency, coordinates, keeper_view=keeper_view, flow=flow
    )
