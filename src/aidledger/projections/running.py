"""Running grand totals: the ungrouped, current totals kept up to date fact by fact.

A report of the whole ledger as it stands now is asked for after nearly every command; summing
every pledge again for it would cost in proportion to history. These running sums start from the
fold's pledge lines once, then take in only the facts and beneficiary reports folded since, so the
latest grand totals cost in proportion to what changed. They must equal the totals computed the
slow way, and the tests check that they do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import compress
from typing import Any

import numpy as np

from aidledger.projections.columns import counts
from aidledger.projections.fold import COLUMN_INDEX, AsOf, LedgerFold
from aidledger.projections.grouping import table_for

__all__ = ["CurrencyFigures", "RunningTotals"]

NOW = AsOf()


@dataclass
class CurrencyFigures:
    """The running figures of one currency (amounts in hundredths, ``BASE_COLUMNS`` order)."""

    currency: str
    base: list[int] = field(default_factory=lambda: [0] * 7)
    regranted: list[int] = field(default_factory=lambda: [0] * 7)
    other: dict[str, list[int]] = field(default_factory=dict)
    """Per flow that is not a donation, its columns (kept out of ``base`` and the counts)."""
    pledges: int = 0
    projects: Counter[str] = field(default_factory=Counter)
    donors: Counter[str] = field(default_factory=Counter)
    counties: Counter[str] = field(default_factory=Counter)
    beneficiaries: list[int] = field(default_factory=lambda: [0, 0, 0])
    unvalued: int = 0
    """How many counted pledges are unvalued gifts."""


def _counter(codes: Any, values: list[Any]) -> Counter[Any]:
    """How often each value appears, from the codes of its appearances."""
    found, counts = np.unique(codes, return_counts=True)
    return Counter(dict(zip((values[code] for code in found.tolist()), counts.tolist(), strict=True)))


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

    def __init__(self, fold: LedgerFold) -> None:
        self.fold = fold
        self.currencies: dict[str, CurrencyFigures] = {}
        self.latest: dict[str, tuple[int, int, int]] = {
            project_id: (report.person_times, report.households or 0, report.persons or 0)
            for project_id, report in fold.latest_reports().items()
        }
        """Per project, the latest beneficiary report: person-times, households, persons."""
        table = table_for(fold, NOW, by_year=False)
        self.facts_seen = fold.fact_count
        self.reports_seen = len(fold.beneficiary_log)
        counted = table.counted()
        self.counted: set[str] = set(compress(table.keys, counted.tolist()))
        for group in table.groups((), (), NOW, fold.latest_reports()):
            figures = self.currencies[group.currency] = CurrencyFigures(
                group.currency, group.base, group.regranted, {flow: list(b) for flow, b in group.other.items()}
            )
            figures.pledges = group.pledges
            figures.unvalued = group.unvalued
            mine = counted & (table.currency == table.codes["currency"].index[group.currency])
            figures.projects = _counter(table.project[mine], table.codes["project"].values)
            figures.donors = _counter(table.donor[mine], table.codes["donor"].values)
            in_county = table.county[mine]
            figures.counties = _counter(in_county[in_county >= 0], table.codes["county"].values)
            figures.beneficiaries = [group.person_times, group.households, group.persons]

    def _figures(self, pledge_id: str) -> CurrencyFigures:
        currency = self.fold.pledges[pledge_id].currency
        figures = self.currencies.get(currency)
        if figures is None:
            figures = self.currencies[currency] = CurrencyFigures(currency)
        return figures

    def catch_up(self) -> None:
        """Take in the facts and beneficiary reports the fold appended since the last call."""
        fold = self.fold
        for project_id in fold.beneficiary_log[self.reports_seen :]:
            self._beneficiaries_changed(project_id)
        self.reports_seen = len(fold.beneficiary_log)
        for fact in fold.facts_from(self.facts_seen):
            figures = self._figures(fact.pledge_id)
            index = COLUMN_INDEX[fact.column]
            pledge = fold.pledges[fact.pledge_id]
            if not pledge.donation:  # another flow: its own figures, never counted with donations
                figures.other.setdefault(pledge.flow, [0] * 7)[index] += fact.amount
                continue
            figures.base[index] += fact.amount
            if pledge.funded_from is not None:
                figures.regranted[index] += fact.amount
            # The fold's line already holds every new fact: counting follows its final state.
            live = counts(fold.lines[fact.pledge_id]) or (pledge.unvalued and not pledge.withdrawn)
            if live != (fact.pledge_id in self.counted):
                self._count(fact.pledge_id, figures, -1 if fact.pledge_id in self.counted else 1)
        self.facts_seen = fold.fact_count

    def _count(self, pledge_id: str, figures: CurrencyFigures, step: int) -> None:
        """Start (+1) or stop (-1) counting a pledge in its currency's counts."""
        terms = self.fold.pledges[pledge_id]
        project = self.fold.projects[terms.project_id]
        if step > 0:
            self.counted.add(pledge_id)
        else:
            self.counted.discard(pledge_id)
        figures.pledges += step
        figures.unvalued += step if terms.unvalued else 0
        _bump(figures.donors, terms.donor_id, step)
        if not project.plan.pooled_fund and project.plan.region is not None:
            _bump(figures.counties, project.plan.region, step)
        if _bump(figures.projects, project.id, step):  # the project starts or stops counting
            report = self.latest.get(project.id, (0, 0, 0))
            for index, value in enumerate(report):
                figures.beneficiaries[index] += step * value

    def _beneficiaries_changed(self, project_id: str) -> None:
        latest = self.fold.projects[project_id].beneficiaries_at(NOW)
        new = (latest.person_times, latest.households or 0, latest.persons or 0) if latest else (0, 0, 0)
        old = self.latest.get(project_id, (0, 0, 0))
        self.latest[project_id] = new
        for figures in self.currencies.values():
            if figures.projects.get(project_id):
                for index in range(3):
                    figures.beneficiaries[index] += new[index] - old[index]

    def figures(self) -> list[CurrencyFigures]:
        """The grand figures of every currency, caught up, in currency order."""
        self.catch_up()
        return [self.currencies[name] for name in sorted(self.currencies)]
