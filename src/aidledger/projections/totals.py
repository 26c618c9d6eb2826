"""Totals: every stage column, counts and beneficiaries, grouped by any combination of dimensions.

Definitions (docs/projections.md cites them):

- ``intended``, ``signed``: current amounts of pledges at that stage (withdrawn pledges count 0);
  ``pledged`` = intended + signed; ``withdrawn``: amounts of withdrawn pledges.
- ``disbursed``: every disbursement made (gross); ``reversed``: disbursements that were recording
  errors; ``returned``: money given back; ``net_disbursed`` = disbursed − reversed − returned;
  ``confirmed``: disbursements the recipient confirmed and that were not reversed;
  ``outstanding`` = signed − net_disbursed.
- A pledge counts in a row when its pledged or net disbursed amount there is not zero; the row's
  ``projects``, ``organizations`` (donors) and ``counties`` count distinct ones among those
  pledges; beneficiaries add each counted project's latest report once (person-times,
  households and persons are separate measures).
- ``new_money`` repeats the columns for pledges without ``funded_from`` (money counted once,
  where it enters) and ``passed_through`` for regrants from pooled funds; ``columns`` adds both,
  so a grand total's ``columns`` counts regranted money twice and its ``new_money`` once.
- Every row is one currency; currencies are never added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from itertools import product
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from aidledger.errors import InvalidInput
from aidledger.projections.fold import BASE_COLUMNS, AsOf, Fact, LedgerFold, PledgeRecord
from aidledger.projections.report import Report, coordinates_of

__all__ = [
    "ANONYMOUS",
    "COLUMNS",
    "DERIVED",
    "DIMENSIONS",
    "ZERO",
    "TotalsReport",
    "TotalsRow",
    "check_dimensions",
    "derive_columns",
    "fact_keys",
    "matching_facts",
    "pledge_columns",
    "totals",
]

ZERO = Decimal("0.00")
NONE = "(none)"
ANONYMOUS = "anonymous (匿名)"
"""The ``donor`` key of anonymous pledges: reports are published, and must never name them."""
GRAND = ("\x00grand total",)

DERIVED: dict[str, dict[str, int]] = {
    "pledged": {"intended": 1, "signed": 1},
    "net_disbursed": {"disbursed": 1, "reversed": -1, "returned": -1},
    "outstanding": {"signed": 1, "disbursed": -1, "reversed": 1, "returned": 1},
}
"""Derived columns as signed sums of base columns."""

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

DimensionValues = Callable[[LedgerFold, PledgeRecord, Fact, AsOf], Sequence[str]]


def _donor_profile(fold: LedgerFold, pledge: PledgeRecord, as_of: AsOf) -> Any:
    record = fold.organizations.get(pledge.terms.donor_id)
    found = record.at(as_of) if record else None
    return found[0] if found else None


def _project_region(fold: LedgerFold, pledge: PledgeRecord) -> str | None:
    project = fold.projects.get(pledge.terms.project_id)
    return project.plan.region if project and not project.plan.pooled_fund else None


def _region_level(digits: int) -> DimensionValues:
    def values(fold: LedgerFold, pledge: PledgeRecord, _: Fact, __: AsOf) -> Sequence[str]:
        region = _project_region(fold, pledge)
        if region is None:
            return ("(pooled fund)",)
        return (region[:digits] + "0" * (6 - digits),)

    return values


def _donor_attribute(name: str) -> DimensionValues:
    def values(fold: LedgerFold, pledge: PledgeRecord, _: Fact, as_of: AsOf) -> Sequence[str]:
        profile = _donor_profile(fold, pledge, as_of)
        if profile is None:
            return (NONE,)
        value = getattr(profile, name)
        return (value[:2] + "0000",) if name == "home_region" else (str(value),)

    return values


def _plan_attribute(name: str) -> DimensionValues:
    def values(fold: LedgerFold, pledge: PledgeRecord, _: Fact, __: AsOf) -> Sequence[str]:
        plan = fold.projects[pledge.terms.project_id].plan
        value = getattr(plan, name)
        if isinstance(value, tuple):
            return tuple(str(v) for v in value) or (NONE,)
        return (str(value),)

    return values


def _optional_id(value: UUID | None) -> Sequence[str]:
    return (str(value),) if value is not None else (NONE,)


DIMENSIONS: dict[str, DimensionValues] = {
    "donor": lambda fold, p, f, a: (ANONYMOUS if p.terms.anonymous else str(p.terms.donor_id),),
    "donor_level": _donor_attribute("level"),
    "donor_kind": _donor_attribute("kind"),
    "donor_province": _donor_attribute("home_region"),
    "channel": lambda fold, p, f, a: _optional_id(p.terms.channel_id),
    "implementer": _plan_attribute("implementing_organization_id"),
    "project": lambda fold, p, f, a: (str(p.terms.project_id),),
    "category": _plan_attribute("category"),
    "field": _plan_attribute("field"),
    "campaign": _plan_attribute("campaigns"),
    "county": _region_level(6),
    "city": _region_level(4),
    "province": _region_level(2),
    "year": lambda fold, p, f, a: (str(f.year),),
    "form": lambda fold, p, f, a: ("in_kind" if p.terms.in_kind else "cash",),
    "origin": lambda fold, p, f, a: ("regrant" if p.terms.funded_from else "new",),
    "destination": lambda fold, p, f, a: (
        "pooled_fund" if fold.projects[p.terms.project_id].plan.pooled_fund else "project",
    ),
}
"""Every dimension a report can group by. Anonymous pledges share one ``donor`` key, ANONYMOUS.
``campaign`` is multi-valued: a pledge to a project in two campaigns appears in both rows, so
that column need not add up (as DESIGN §9 says of levels)."""


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
    pledges: int
    projects: int
    organizations: int
    counties: int
    person_times: int
    households: int
    persons: int


class TotalsReport(Report):
    """Totals grouped by ``group_by``, with the grand totals per currency."""

    report: str = "totals"
    group_by: tuple[str, ...]
    rows: tuple[TotalsRow, ...]
    totals: tuple[TotalsRow, ...]
    labels: dict[str, str]
    """Names for the organization and project ids that appear in keys."""


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
    return list(product(*(DIMENSIONS[name](fold, pledge, fact, as_of) for name in group_by)))


def matching_facts(fold: LedgerFold, as_of: AsOf) -> Iterable[Fact]:
    """The facts that count at the coordinates."""
    return (f for f in fold.facts if as_of.includes(f.position, f.recorded_at, f.effective_on))


def totals(
    fold: LedgerFold, group_by: Iterable[str] = (), as_of: AsOf | None = None, *, fast: bool = True
) -> TotalsReport:
    """Fold the facts into totals grouped by ``group_by`` at the coordinates ``as_of``.

    The ungrouped totals of the whole log come from the fold's running totals unless ``fast``
    is false; both ways give the same report, byte for byte.
    """
    as_of = as_of or AsOf()
    names = check_dimensions(group_by)
    if not names and as_of == AsOf() and fast:  # the latest grand totals: kept running, no refold
        grand_rows = tuple(fold.running.rows())
        report = TotalsReport(
            coordinates=coordinates_of(fold, as_of), group_by=(), rows=grand_rows, totals=grand_rows, labels={}
        )
        fast_result: TotalsReport = report.sealed()
        return fast_result
    lines: dict[tuple[tuple[str, ...], str], dict[UUID, dict[str, Decimal]]] = defaultdict(dict)
    for fact in matching_facts(fold, as_of):
        currency = fold.pledges[fact.pledge_id].terms.amount.currency
        groups = [(key, currency) for key in fact_keys(fold, fact, names, as_of)]
        for group in [*groups, (GRAND, currency)]:  # the grand total takes each fact once
            line = lines[group].setdefault(fact.pledge_id, dict.fromkeys(BASE_COLUMNS, ZERO))
            line[fact.column] += fact.amount
    rows, grand = [], []
    for (key, currency), pledge_lines in sorted(lines.items()):
        if key == GRAND:
            grand.append(_row(fold, {}, currency, pledge_lines, as_of))
        else:
            rows.append(_row(fold, dict(zip(names, key, strict=True)), currency, pledge_lines, as_of))
    report = TotalsReport(
        coordinates=coordinates_of(fold, as_of),
        group_by=names,
        rows=tuple(rows),
        totals=tuple(grand),
        labels=_labels(fold, rows, as_of),
    )
    result: TotalsReport = report.sealed()
    return result


def derive_columns(base: dict[str, Decimal]) -> dict[str, Decimal]:
    """All columns from the base columns."""
    columns = dict(base)
    for name, signs in DERIVED.items():
        columns[name] = sum((base[c] * s for c, s in signs.items()), ZERO)
    return {name: columns[name] for name in COLUMNS}


def _row(
    fold: LedgerFold, key: dict[str, str], currency: str, lines: dict[UUID, dict[str, Decimal]], as_of: AsOf
) -> TotalsRow:
    base = dict.fromkeys(BASE_COLUMNS, ZERO)
    regranted = dict.fromkeys(BASE_COLUMNS, ZERO)
    counted: list[UUID] = []
    for pledge_id, line in lines.items():
        regrant = fold.pledges[pledge_id].terms.funded_from is not None
        for column, amount in line.items():
            base[column] += amount
            if regrant:
                regranted[column] += amount
        net = line["disbursed"] - line["reversed"] - line["returned"]
        if line["intended"] + line["signed"] or net:
            counted.append(pledge_id)
    pledges = [fold.pledges[p] for p in counted]
    projects = sorted({p.terms.project_id for p in pledges})
    counties = {fold.projects[p].plan.region for p in projects if not fold.projects[p].plan.pooled_fund}
    reports = [fold.projects[p].beneficiaries_at(as_of) for p in projects]
    return TotalsRow(
        key=key,
        currency=currency,
        columns=derive_columns(base),
        new_money=derive_columns({c: base[c] - regranted[c] for c in BASE_COLUMNS}),
        passed_through=derive_columns(regranted),
        pledges=len(pledges),
        projects=len(projects),
        organizations=len({p.terms.donor_id for p in pledges}),
        counties=len(counties - {None}),
        person_times=sum(r.person_times for r in reports if r),
        households=sum(r.households or 0 for r in reports if r),
        persons=sum(r.persons or 0 for r in reports if r),
    )


def _labels(fold: LedgerFold, rows: Sequence[TotalsRow], as_of: AsOf) -> dict[str, str]:
    labels: dict[str, str] = {}
    for row in rows:
        for name, value in row.key.items():
            if name in ("donor", "channel", "implementer"):
                record = fold.organizations.get(UUID(value)) if value not in (NONE, ANONYMOUS) else None
                found = record.at(as_of) if record else None
                if found:
                    labels[value] = found[0].name
            elif name == "project":
                labels[value] = fold.projects[UUID(value)].plan.title
    return dict(sorted(labels.items()))


def pledge_columns(
    fold: LedgerFold, as_of: AsOf, pledge_ids: Iterable[UUID] | None = None
) -> dict[UUID, dict[str, Decimal]]:
    """Every column per pledge at the coordinates (only ``pledge_ids`` when given)."""
    wanted = None if pledge_ids is None else set(pledge_ids)
    base: dict[UUID, dict[str, Decimal]] = {}
    for fact in matching_facts(fold, as_of):
        if wanted is None or fact.pledge_id in wanted:
            line = base.setdefault(fact.pledge_id, dict.fromkeys(BASE_COLUMNS, ZERO))
            line[fact.column] += fact.amount
    return {pledge_id: derive_columns(line) for pledge_id, line in base.items()}
