"""Running grand totals: the ungrouped, current totals kept up to date fact by fact.

A report of the whole ledger as it stands now is asked for after nearly every command; folding
all facts again for it would cost in proportion to history. These running sums catch up with
the fold's new facts and beneficiary reports only, so the latest grand totals cost in proportion
to what changed. They must equal :func:`aidledger.projections.totals.totals` computed the slow
way, and the tests check that they do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from aidledger.projections.fold import BASE_COLUMNS, AsOf, LedgerFold

if TYPE_CHECKING:
    from aidledger.projections.totals import TotalsRow

__all__ = ["RunningTotals"]

ZERO = Decimal("0.00")
NOW = AsOf()


@dataclass
class _Currency:
    """The running figures of one currency."""

    base: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BASE_COLUMNS, ZERO))
    regranted: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BASE_COLUMNS, ZERO))
    pledges: int = 0
    projects: Counter[UUID] = field(default_factory=Counter)
    donors: Counter[UUID] = field(default_factory=Counter)
    counties: Counter[str] = field(default_factory=Counter)
    beneficiaries: list[int] = field(default_factory=lambda: [0, 0, 0])


def _bump(counter: Counter[Any], key: object, step: int) -> bool:
    """Add ``step`` to a reference count; True when the key appeared or disappeared."""
    count = counter.get(key, 0) + step
    if count:
        counter[key] = count
    else:
        del counter[key]
    return count == 0 or count == step


class RunningTotals:
    """Grand totals per currency, caught up with a fold's facts as they are appended."""

    def __init__(self) -> None:
        self.facts_seen = 0
        self.reports_seen = 0
        self.currencies: dict[str, _Currency] = {}
        self.lines: dict[UUID, dict[str, Decimal]] = {}
        self.counted: set[UUID] = set()
        self.latest: dict[UUID, tuple[int, int, int]] = {}
        """Per project, the latest beneficiary report: person-times, households, persons."""

    def catch_up(self, fold: LedgerFold) -> None:
        """Take in the facts and beneficiary reports the fold appended since the last call."""
        if not self.facts_seen and not self.reports_seen:  # a fold loaded from its store has no log
            for project in fold.projects.values():
                if project.beneficiaries:
                    self._beneficiaries_changed(fold, project.id)
        for project_id in fold.beneficiary_log[self.reports_seen :]:
            self._beneficiaries_changed(fold, project_id)
        self.reports_seen = len(fold.beneficiary_log)
        for fact in fold.facts[self.facts_seen :]:
            pledge = fold.pledges[fact.pledge_id]
            currency = self.currencies.setdefault(pledge.terms.amount.currency, _Currency())
            line = self.lines.setdefault(fact.pledge_id, dict.fromkeys(BASE_COLUMNS, ZERO))
            line[fact.column] += fact.amount
            currency.base[fact.column] += fact.amount
            if pledge.terms.funded_from is not None:
                currency.regranted[fact.column] += fact.amount
            counts = bool(line["intended"] + line["signed"] or line["disbursed"] - line["reversed"] - line["returned"])
            if counts != (fact.pledge_id in self.counted):
                self._count(fold, fact.pledge_id, currency, 1 if counts else -1)
        self.facts_seen = len(fold.facts)

    def _count(self, fold: LedgerFold, pledge_id: UUID, currency: _Currency, step: int) -> None:
        """Start (+1) or stop (-1) counting a pledge in its currency's counts."""
        terms = fold.pledges[pledge_id].terms
        project = fold.projects[terms.project_id]
        if step > 0:
            self.counted.add(pledge_id)
        else:
            self.counted.discard(pledge_id)
        currency.pledges += step
        _bump(currency.donors, terms.donor_id, step)
        if not project.plan.pooled_fund and project.plan.region is not None:
            _bump(currency.counties, project.plan.region, step)
        if _bump(currency.projects, project.id, step):  # the project starts or stops counting
            report = self.latest.get(project.id, (0, 0, 0))
            for index, value in enumerate(report):
                currency.beneficiaries[index] += step * value

    def _beneficiaries_changed(self, fold: LedgerFold, project_id: UUID) -> None:
        latest = fold.projects[project_id].beneficiaries_at(NOW)
        new = (latest.person_times, latest.households or 0, latest.persons or 0) if latest else (0, 0, 0)
        old = self.latest.get(project_id, (0, 0, 0))
        self.latest[project_id] = new
        for currency in self.currencies.values():
            if currency.projects.get(project_id):
                for index in range(3):
                    currency.beneficiaries[index] += new[index] - old[index]

    def rows(self) -> list[TotalsRow]:
        """The grand total row of every currency, as the slow path would compute it."""
        from aidledger.projections.totals import TotalsRow, derive_columns

        rows = []
        for name, currency in sorted(self.currencies.items()):
            new_money = {c: currency.base[c] - currency.regranted[c] for c in BASE_COLUMNS}
            person_times, households, persons = currency.beneficiaries
            rows.append(
                TotalsRow(
                    key={},
                    currency=name,
                    columns=derive_columns(currency.base),
                    new_money=derive_columns(new_money),
                    passed_through=derive_columns(currency.regranted),
                    pledges=currency.pledges,
                    projects=len(currency.projects),
                    organizations=len(currency.donors),
                    counties=len(currency.counties),
                    person_times=person_times,
                    households=households,
                    persons=persons,
                )
            )
        return rows
