"""Totals: every stage column, counts and beneficiaries, grouped by any combination of dimensions.

Definitions (docs/projections.md cites them):

- ``intended``, ``signed``: current amounts of pledges at that stage (withdrawn pledges count 0);
  ``pledged`` = intended + signed; ``withdrawn``: amounts of withdrawn pledges.
- ``disbursed``: every disbursement made (gross); ``reversed``: disbursements that were recording
  errors; ``returned``: money given back; ``net_disbursed`` = disbursed − reversed − returned;
  ``confirmed``: disbursements the recipient confirmed and that were not reversed;
  ``outstanding`` = signed − net_disbursed.
- A pledge counts in a row when its pledged or net disbursed amount there is not zero, or when it
  is an unvalued gift (goods with no assessed value) not withdrawn there — filed, by ``year``, under
  the year it was made; ``unvalued_gifts`` says how many counted pledges are such gifts. The row's
  ``projects``, ``organizations`` (donors) and ``counties`` count distinct ones among those
  pledges; beneficiaries add each counted project's latest report once (person-times,
  households and persons are separate measures).
- ``new_money`` repeats the columns for pledges without ``funded_from`` (money counted once,
  where it enters) and ``passed_through`` for regrants from pooled funds; ``columns`` adds both,
  so a grand total's ``columns`` counts regranted money twice and its ``new_money`` once.
- Every row is one currency; currencies are never added.

How: every group's figures are sums of *pledge lines* — a pledge's base columns (per year of the
facts, when grouping by ``year``). For the ledger as it stands the fold keeps those lines current
as it folds; at other coordinates they are summed from the facts that count there. Every
dimension but ``year`` is an attribute of the pledge (its donor, project, channel …), so a report
walks the pledges once, never every fact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from itertools import product
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from aidledger.errors import InvalidInput
from aidledger.projections.columns import COLUMNS, DERIVED, derive_columns
from aidledger.projections.fold import COLUMN_INDEX, AsOf, BeneficiaryReport, Fact, LedgerFold, PledgeRecord
from aidledger.projections.grouping import Group, table_for
from aidledger.projections.report import Report, coordinates_of
from aidledger.projections.running import CurrencyFigures, RunningTotals

__all__ = [
    "ANONYMOUS",
    "COLUMNS",
    "DERIVED",
    "DIMENSIONS",
    "KEEPER_DIMENSIONS",
    "PUBLISHED_ROWS",
    "TOTAL_KEYS",
    "ZERO",
    "PublishedRow",
    "TotalsReport",
    "TotalsRow",
    "check_dimensions",
    "derive_columns",
    "fact_keys",
    "has_other_flows",
    "has_unvalued_gifts",
    "pledge_columns",
    "pledge_lines",
    "published_rows",
    "totals",
]

ZERO = Decimal("0.00")
NONE = "(none)"
ANONYMOUS = "anonymous (匿名)"
"""The ``donor`` key of anonymous pledges: reports are published, and must never name them."""

DimensionValues = Callable[[LedgerFold, PledgeRecord, int, AsOf], Sequence[str]]
"""The values of a dimension for a pledge's facts of one year (at the coordinates)."""


def _donor_profile(fold: LedgerFold, pledge: PledgeRecord, as_of: AsOf) -> Any:
    record = fold.organizations.get(pledge.donor_id)
    found = record.at(as_of) if record else None
    return found[0] if found else None


def _region_level(digits: int) -> DimensionValues:
    def values(fold: LedgerFold, pledge: PledgeRecord, _: int, __: AsOf) -> Sequence[str]:
        project = fold.projects.get(pledge.project_id)
        region = project.plan.region if project and not project.plan.pooled_fund else None
        if region is None:
            return ("(pooled fund)",)
        return (region[:digits] + "0" * (6 - digits),)

    return values


def _donor_attribute(name: str, *, keeper: bool = False) -> DimensionValues:
    def values(fold: LedgerFold, pledge: PledgeRecord, _: int, as_of: AsOf) -> Sequence[str]:
        if pledge.anonymous and not keeper:  # a lone anonymous pledge's level or kind could name its donor
            return (ANONYMOUS,)
        profile = _donor_profile(fold, pledge, as_of)
        if profile is None:
            return (NONE,)
        value = getattr(profile, name)
        return (value[:2] + "0000",) if name == "home_region" else (str(value),)

    return values


def _plan_attribute(name: str) -> DimensionValues:
    def values(fold: LedgerFold, pledge: PledgeRecord, _: int, __: AsOf) -> Sequence[str]:
        value = getattr(fold.projects[pledge.project_id].plan, name)
        if isinstance(value, tuple):
            return tuple(str(v) for v in value) or (NONE,)
        return (str(value),)

    return values


def _optional(value: str | None) -> Sequence[str]:
    return (value,) if value is not None else (NONE,)


DIMENSIONS: dict[str, DimensionValues] = {
    "donor": lambda fold, p, y, a: (ANONYMOUS if p.anonymous else p.donor_id,),
    "donor_level": _donor_attribute("level"),
    "donor_kind": _donor_attribute("kind"),
    "donor_province": _donor_attribute("home_region"),
    "channel": lambda fold, p, y, a: _optional(p.channel_id),
    "implementer": _plan_attribute("implementing_organization_id"),
    "project": lambda fold, p, y, a: (p.project_id,),
    "pledge": lambda fold, p, y, a: (p.id,),
    "category": _plan_attribute("category"),
    "field": _plan_attribute("field"),
    "campaign": _plan_attribute("campaigns"),
    "county": _region_level(6),
    "city": _region_level(4),
    "province": _region_level(2),
    "year": lambda fold, p, y, a: (str(y),),
    "form": lambda fold, p, y, a: ("in_kind" if p.items else "cash",),
    "origin": lambda fold, p, y, a: ("regrant" if p.funded_from else "new",),
    "destination": lambda fold, p, y, a: (
        "pooled_fund" if fold.projects[p.project_id].plan.pooled_fund else "project",
    ),
}
"""Every dimension a report can group by. Anonymous pledges share one ``donor`` key, ANONYMOUS,
and are filed under ANONYMOUS in every donor attribute (level, kind, province) too. ``pledge``
keys a row by the pledge's id (which names no donor), so one pledge's figure can be explained.
``campaign`` is multi-valued: a pledge to a project in two campaigns appears in both rows, so
that column need not add up (as DESIGN §9 says of levels)."""


KEEPER_DIMENSIONS: dict[str, DimensionValues] = {
    "donor_level": _donor_attribute("level", keeper=True),
    "donor_kind": _donor_attribute("kind", keeper=True),
    "donor_province": _donor_attribute("home_region", keeper=True),
}
"""The keeper's view of the donor attributes: anonymous pledges filed under their donor's level,
kind and province. For the ledger's keeper (DESIGN §9 counts levels so), never for publication."""


class TotalsRow(BaseModel):
    """One group's figures, in one currency."""

    model_config = ConfigDict(frozen=True)

    key: dict[str, str]
    currency: str
    columns: dict[str, Decimal]
    new_money: dict[str, Decimal]
    """The columns counting only pledges of new money (no ``funded_from``): money counted once,
    where it enters."""
    passed_through: dict[str, Decimal]
    """The columns counting only regrants (``funded_from`` set): money passed on from a pool."""
    other_flows: dict[str, dict[str, Decimal]] = {}
    """Per flow that is not a donation (``investment``, ``loan``), its columns: kept out of every
    other figure of the row, counts included, and never added to them (DESIGN §3 rule 8)."""
    pledges: int
    projects: int
    organizations: int
    counties: int
    person_times: int
    households: int
    persons: int
    unvalued_gifts: int = 0
    """How many of the row's ``pledges`` are unvalued gifts: goods whose value was not assessed, counted
    here and in quantities, never in a money column (DESIGN §3 rule 9)."""


class TotalsReport(Report):
    """Totals grouped by ``group_by``, with the grand totals per currency."""

    report: str = "totals"
    group_by: tuple[str, ...]
    rows: tuple[TotalsRow, ...]
    totals: tuple[TotalsRow, ...]
    labels: dict[str, str]
    """Names for the organization and project ids that appear in keys."""
    keeper_view: bool = False
    """Whether anonymous pledges are filed under their donor's attributes (``KEEPER_DIMENSIONS``):
    a report for the ledger's keeper, not for publication. Anonymous donors are never named."""


PUBLISHED_ROWS: dict[str, str] = {
    "group": "a group's money of one flow, where it lands (a regrant counts in the group it reaches)",
    "total_new_money": "total new money, counted once where it enters (donations without funded_from)",
    "total_passed_through": "money passed through pooled funds (regrants): in the groups it reaches, not in the total",
    "total_other_flow": "the total of a flow that is not a donation (investment, loan): never added to donations",
}
"""The kinds of row a published totals report has, and what each counts (DESIGN §3 rules 7 and 8)."""

TOTAL_KEYS = {
    "group": "",
    "total_new_money": "(total new money)",
    "total_passed_through": "(passed through)",
    "total_other_flow": "(total, not a donation)",
}
"""What the grouping columns of a published grand-total row hold (CSV and workbook exports)."""


class PublishedRow(NamedTuple):
    """One row of a published totals report: what kind of row, which flow, the row, the figures shown."""

    kind: str
    flow: str
    row: TotalsRow
    figures: dict[str, Decimal]

    @property
    def counted(self) -> bool:
        """Whether the row's counts (pledges, projects, organizations, counties) belong beside its figures:
        a group's donations, or the headline; never pass-through or another flow."""
        return self.kind in ("group", "total_new_money") and self.flow == "donation"


def published_rows(report: TotalsReport) -> list[PublishedRow]:
    """The rows of ``report`` as it is published (``PUBLISHED_ROWS``), in order.

    Each group shows its donations' ``columns``, followed by each other flow it has; then, per
    currency, the headline — the grand total of new money, counted once — and, apart and labelled,
    the money passed through pooled funds, which the groups count where it lands and the headline
    never adds; then the total of each flow that is not a donation, never added to either.
    """
    rows: list[PublishedRow] = []
    if report.group_by:
        for row in report.rows:
            rows.append(PublishedRow("group", "donation", row, row.columns))
            rows += [PublishedRow("group", flow, row, figures) for flow, figures in row.other_flows.items()]
    for grand in report.totals:
        rows.append(PublishedRow("total_new_money", "donation", grand, grand.new_money))
        rows.append(PublishedRow("total_passed_through", "donation", grand, grand.passed_through))
        rows += [PublishedRow("total_other_flow", flow, grand, figures) for flow, figures in grand.other_flows.items()]
    return rows


def has_unvalued_gifts(report: TotalsReport) -> bool:
    """Whether any row of ``report`` counts an unvalued gift (tables add an ``unvalued_gifts`` column then)."""
    return any(row.unvalued_gifts for row in (*report.rows, *report.totals))


def has_other_flows(report: TotalsReport) -> bool:
    """Whether any row of ``report`` holds a flow that is not a donation."""
    return any(row.other_flows for row in (*report.rows, *report.totals))


def check_dimensions(group_by: Iterable[str]) -> tuple[str, ...]:
    """Validate dimension names, keeping their order and dropping repeats."""
    names = tuple(dict.fromkeys(group_by))
    for name in names:
        if name not in DIMENSIONS:
            raise InvalidInput("group_by", name, "one of " + ", ".join(sorted(DIMENSIONS)))
    return names


def fact_keys(fold: LedgerFold, fact: Fact, group_by: Sequence[str], as_of: AsOf) -> list[tuple[str, ...]]:
    """Every group key a fact belongs to (several when a dimension is multi-valued)."""
    pledge = fold.pledges[fact.pledge_id]
    return list(product(*(DIMENSIONS[name](fold, pledge, fact.year, as_of) for name in group_by)))


Line = list[int]
"""A pledge's base columns in hundredths, in ``BASE_COLUMNS`` order."""


def pledge_lines(fold: LedgerFold, as_of: AsOf, *, by_year: bool = False) -> dict[Any, Line]:
    """Every pledge's line at the coordinates (keyed by pledge id, or by (pledge id, year)).

    For the ledger as it stands these are the fold's own running lines: read them, never change them.
    """
    if as_of.now:
        return fold.year_lines if by_year else fold.lines
    lines: dict[Any, Line] = {}
    index = COLUMN_INDEX
    for fact in fold.matching_facts(as_of):
        key = (fact.pledge_id, fact.year) if by_year else fact.pledge_id
        line = lines.get(key)
        if line is None:
            line = lines[key] = [0, 0, 0, 0, 0, 0, 0]
        line[index[fact.column]] += fact.amount
    return lines


def totals(
    fold: LedgerFold,
    group_by: Iterable[str] = (),
    as_of: AsOf | None = None,
    *,
    fast: bool = True,
    keeper_view: bool = False,
) -> TotalsReport:
    """Totals grouped by ``group_by`` at the coordinates ``as_of``.

    The ungrouped totals of the whole log come from the fold's running totals unless ``fast``
    is false; both ways give the same report, byte for byte. ``keeper_view`` files anonymous
    pledges under their donor's level, kind and province (``KEEPER_DIMENSIONS``).
    """
    as_of = as_of or AsOf()
    names = check_dimensions(group_by)
    keeper_view = keeper_view and any(name in KEEPER_DIMENSIONS for name in names)
    if not names and as_of.now and fast:  # the latest grand totals: kept running, no refold
        if fold.running is None:
            fold.running = RunningTotals(fold)
        grand_rows = tuple(_running_row(figures) for figures in fold.running.figures())
        report = TotalsReport(
            coordinates=coordinates_of(fold, as_of), group_by=(), rows=grand_rows, totals=grand_rows, labels={}
        )
        fast_result: TotalsReport = report.sealed()
        return fast_result
    by_year = "year" in names
    lines = None if as_of.now else pledge_lines(fold, as_of, by_year=by_year)
    table = table_for(fold, as_of, by_year=by_year, lines=lines)
    latest = fold.latest_reports() if as_of.now else _latest_reports(fold, as_of)
    if as_of.now and fast and fold.running is not None:  # kept up to date since an ungrouped report
        grand = [_running_row(figures) for figures in fold.running.figures()]
    else:
        grand_table = table if not by_year else table_for(fold, as_of, by_year=False, lines=pledge_lines(fold, as_of))
        grand = [_totals_row({}, group) for group in grand_table.groups((), (), as_of, latest)]
    rows = (
        [
            _totals_row(dict(zip(names, group.key, strict=True)), group)
            for group in table.groups(
                [f"{name}@keeper" if keeper_view and name in KEEPER_DIMENSIONS else name for name in names],
                [(KEEPER_DIMENSIONS if keeper_view else DIMENSIONS).get(name, DIMENSIONS[name]) for name in names],
                as_of,
                latest,
            )
        ]
        if names
        else grand
    )
    report = TotalsReport(
        coordinates=coordinates_of(fold, as_of),
        group_by=names,
        rows=tuple(rows),
        totals=tuple(grand),
        labels=_labels(fold, rows, as_of),
        keeper_view=keeper_view,
    )
    result: TotalsReport = report.sealed()
    return result


def _latest_reports(fold: LedgerFold, as_of: AsOf) -> dict[str, BeneficiaryReport]:
    """Each project's latest beneficiary report in effect at the coordinates."""
    found = {}
    for project in fold.projects.values():
        if project.beneficiaries:
            report = project.beneficiaries_at(as_of)
            if report is not None:
                found[project.id] = report
    return found


def _totals_row(key: dict[str, str], group: Group) -> TotalsRow:
    return TotalsRow(
        key=key,
        currency=group.currency,
        columns=derive_columns(group.base),
        new_money=derive_columns([b - r for b, r in zip(group.base, group.regranted, strict=True)]),
        passed_through=derive_columns(group.regranted),
        other_flows={flow: derive_columns(base) for flow, base in sorted(group.other.items())},
        pledges=group.pledges,
        projects=group.projects,
        organizations=group.organizations,
        counties=group.counties,
        person_times=group.person_times,
        households=group.households,
        persons=group.persons,
        unvalued_gifts=group.unvalued,
    )


def _running_row(figures: CurrencyFigures) -> TotalsRow:
    person_times, households, persons = figures.beneficiaries
    return TotalsRow(
        key={},
        currency=figures.currency,
        columns=derive_columns(figures.base),
        new_money=derive_columns([b - r for b, r in zip(figures.base, figures.regranted, strict=True)]),
        passed_through=derive_columns(figures.regranted),
        other_flows={flow: derive_columns(base) for flow, base in sorted(figures.other.items()) if any(base)},
        pledges=figures.pledges,
        projects=len(figures.projects),
        organizations=len(figures.donors),
        counties=len(figures.counties),
        person_times=person_times,
        households=households,
        persons=persons,
        unvalued_gifts=figures.unvalued,
    )


def _labels(fold: LedgerFold, rows: Sequence[TotalsRow], as_of: AsOf) -> dict[str, str]:
    labels: dict[str, str] = {}
    for row in rows:
        for name, value in row.key.items():
            if name in ("donor", "channel", "implementer"):
                record = fold.organizations.get(value) if value not in (NONE, ANONYMOUS) else None
                found = record.at(as_of) if record else None
                if found:
                    labels[value] = found[0].name
            elif name == "project":
                labels[value] = fold.projects[value].plan.title
    return dict(sorted(labels.items()))


def pledge_columns(
    fold: LedgerFold, as_of: AsOf, pledge_ids: Iterable[str] | None = None
) -> dict[str, dict[str, Decimal]]:
    """Every column per pledge at the coordinates (only ``pledge_ids`` when given)."""
    lines = pledge_lines(fold, as_of)
    wanted = lines.keys() if pledge_ids is None else [p for p in pledge_ids if p in lines]
    return {pledge_id: derive_columns(lines[pledge_id]) for pledge_id in wanted}
