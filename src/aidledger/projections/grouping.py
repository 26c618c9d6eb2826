"""Group pledge lines into report rows, column-wise: the engine behind every totals report.

A report's figures are sums of *pledge lines* (each pledge's base columns, or each pledge's per
year) over the pledges of a group. Summing and counting them one pledge at a time in Python costs
about a microsecond per pledge and per pass; for a national ledger that is most of a second. So
the lines are held as a ``numpy`` table beside the attributes rows are keyed and counted by, and a
report groups, sums and counts a column at a time.

Exactness: every amount is a whole number of hundredths held in 64 bits (a pledge's line stays
below 10^18). Sums are taken separately over the low and the high 32 bits of each amount, so no
group sum can overflow however many pledges it adds, and the two are combined as Python integers:
nothing is ever rounded.

For the ledger as it stands the table is kept on the fold between reports and brought up to date
with the pledges and facts folded since; at other coordinates it is built from the lines summed
at those coordinates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice, product
from typing import Any

import numpy as np
import numpy.typing as npt

from aidledger.projections.fold import AsOf, BeneficiaryReport, LedgerFold, PledgeRecord

__all__ = ["Group", "LineTable", "table_for"]

Line = list[int]
Values = Callable[[LedgerFold, PledgeRecord, int, AsOf], Sequence[str]]
Ints = npt.NDArray[np.int64]
LOW = np.int64(0xFFFFFFFF)
DONOR_DIMENSIONS = frozenset({"donor_level", "donor_kind", "donor_province"})
"""Dimensions whose values follow the donor's profile, which can change."""


@dataclass(frozen=True, slots=True)
class Group:
    """One row's figures: its key, currency, base and regranted columns (hundredths) and counts."""

    key: tuple[str, ...]
    currency: str
    base: list[int]
    """The group's donations (DESIGN §3 rule 8: other flows are never added to them)."""
    regranted: list[int]
    other: dict[str, list[int]]
    """Per flow that is not a donation (investment, loan), its columns; only flows the group has."""
    pledges: int
    projects: int
    organizations: int
    counties: int
    person_times: int
    households: int
    persons: int
    unvalued: int = 0
    """How many of the counted pledges are unvalued gifts (goods with no assessed value)."""


class _Codes:
    """Small integers for the distinct values of one attribute, in order of first appearance."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.values: list[Any] = []

    def code(self, value: Any) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.values)
            self.values.append(value)
        return found

    def codes(self, values: list[Any]) -> list[int]:
        """The codes of many values (new ones get the next codes, in order of first appearance)."""
        index = self.index
        for value in dict.fromkeys(values):
            if value not in index:
                index[value] = len(self.values)
                self.values.append(value)
        return list(map(index.__getitem__, values))


class LineTable:
    """Pledge lines as columns, with each line's pledge, project, donor, county, currency and year."""

    def __init__(self, fold: LedgerFold, *, by_year: bool, withdrawn: set[str] | None = None) -> None:
        self.fold = fold
        self.by_year = by_year
        self.withdrawn = withdrawn
        """At coordinates: the unvalued pledges withdrawn there (``None``: the ledger as it stands)."""
        self.keys: list[Any] = []
        self.row_of: dict[Any, int] = {}
        self.pledges: list[PledgeRecord] = []
        self.years: list[int] = []
        self.lines: Ints = np.zeros((0, 7), dtype=np.int64)
        self.project: Ints = np.zeros(0, dtype=np.int64)
        self.donor: Ints = np.zeros(0, dtype=np.int64)
        self.county: Ints = np.zeros(0, dtype=np.int64)
        self.currency: Ints = np.zeros(0, dtype=np.int64)
        self.regrant = np.zeros(0, dtype=bool)
        self.flow: Ints = np.zeros(0, dtype=np.int64)
        """Each line's flow (its code); ``donation`` for nearly all."""
        self.donation = np.zeros(0, dtype=bool)
        self.other_lines = 0
        """How many lines are not donations: when none, nothing needs leaving out."""
        self.gift = np.zeros(0, dtype=bool)
        """Each line is an unvalued gift that counts (not withdrawn; its pledge's year when by year)."""
        self.unvalued_lines = 0
        """How many lines are of unvalued gifts: when none, counting never looks at ``gift``."""
        self.codes = {name: _Codes() for name in ("project", "donor", "county", "currency", "flow")}
        self.dimensions: dict[str, _Dimension] = {}
        self.source: dict[Any, Line] | None = None
        self.facts_seen = 0
        self.profile_changes = fold.profile_changes
        self._figures: tuple[Any, Ints] | None = None

    def add(self, lines: dict[Any, Line]) -> None:
        """Append the lines of ``lines`` after the ones the table holds (dicts keep insertion order)."""
        start = len(self.keys)
        keys = list(islice(lines, start, None))
        if not keys:
            return
        fold = self.fold
        pledge_ids = [key[0] for key in keys] if self.by_year else keys
        pledges = list(map(fold.pledges.__getitem__, pledge_ids))
        plans = [fold.projects[pledge.project_id].plan for pledge in pledges]
        regions = [None if plan.pooled_fund else plan.region for plan in plans]
        self.keys.extend(keys)
        self.row_of.update(zip(keys, range(start, start + len(keys)), strict=True))
        self.pledges.extend(pledges)
        self.years.extend([key[1] for key in keys] if self.by_year else [0] * len(keys))
        codes = self.codes
        self.lines = np.concatenate([self.lines, np.array([lines[key] for key in keys], dtype=np.int64).reshape(-1, 7)])
        self.project = _append(self.project, codes["project"].codes([pledge.project_id for pledge in pledges]))
        self.donor = _append(self.donor, codes["donor"].codes([pledge.donor_id for pledge in pledges]))
        county = codes["county"].codes(regions)
        self.county = _append(
            self.county, [-1 if region is None else code for region, code in zip(regions, county, strict=True)]
        )
        self.currency = _append(self.currency, codes["currency"].codes([pledge.currency for pledge in pledges]))
        regrant = [pledge.funded_from is not None for pledge in pledges]
        self.regrant = np.concatenate([self.regrant, np.array(regrant, dtype=bool)])
        flows = [pledge.flow for pledge in pledges]
        self.flow = _append(self.flow, codes["flow"].codes(flows))
        self.donation = np.concatenate([self.donation, np.array([f == "donation" for f in flows], dtype=bool)])
        self.other_lines += len(flows) - flows.count("donation")
        gift = [self._gift(pledge, key) for pledge, key in zip(pledges, keys, strict=True)]
        self.gift = np.concatenate([self.gift, np.array(gift, dtype=bool)])
        self.unvalued_lines += sum(pledge.unvalued for pledge in pledges)

    def _gift(self, pledge: PledgeRecord, key: Any) -> bool:
        """Whether a line counts as an unvalued gift: one not withdrawn, filed under the year it was made."""
        if not pledge.unvalued:
            return False
        withdrawn = pledge.withdrawn if self.withdrawn is None else pledge.id in self.withdrawn
        return not withdrawn and (not self.by_year or key[1] == pledge.made_on.year)

    def keep_up(self) -> None:
        """Bring the table of the ledger as it stands up to the fold: new lines, changed lines, profiles."""
        fold = self.fold
        source: dict[Any, list[int]] = fold.year_lines if self.by_year else fold.lines
        if source is not self.source:  # the fold's lines were made anew: start again
            self.__init__(fold, by_year=self.by_year)  # type: ignore[misc]
            self.source = source
            self.facts_seen = fold.fact_count
        changed = {(f.pledge_id, f.year) if self.by_year else f.pledge_id for f in fold.facts_from(self.facts_seen)}
        self.facts_seen = fold.fact_count
        self.add(source)
        for key in changed:
            row = self.row_of.get(key)
            if row is not None:
                self.lines[row] = source[key]
                if self.unvalued_lines:  # a withdrawal changes no line of an unvalued gift, only whether it counts
                    self.gift[row] = self._gift(self.pledges[row], key)
        if fold.profile_changes != self.profile_changes:
            self.profile_changes = fold.profile_changes
            for name in DONOR_DIMENSIONS:
                self.dimensions.pop(name, None)
                self.dimensions.pop(f"{name}@keeper", None)

    def counted(self) -> npt.NDArray[np.bool_]:
        """Which lines count in a row: donations whose pledged or net disbursed amount is not zero, and
        unvalued gifts not withdrawn."""
        lines = self.lines
        counted: npt.NDArray[np.bool_] = (lines[:, 0] + lines[:, 1] != 0) | (
            lines[:, 3] - lines[:, 5] - lines[:, 6] != 0
        )
        if self.unvalued_lines:
            counted |= self.gift
        return counted & self.donation if self.other_lines else counted

    def dimension(self, name: str, values: Values, as_of: AsOf) -> _Dimension:
        """Every line's values of a dimension (kept between reports, extended for new lines)."""
        found = self.dimensions.get(name)
        if found is None:
            found = self.dimensions[name] = _Dimension()
        found.extend(self.fold, values, as_of, self.pledges, self.years)
        return found

    def groups(
        self, names: Sequence[str], dimensions: Sequence[Values], as_of: AsOf, latest: dict[str, BeneficiaryReport]
    ) -> list[Group]:
        """The rows of a report grouped by ``names``: every group's sums and counts, in key order."""
        found = [self.dimension(name, values, as_of) for name, values in zip(names, dimensions, strict=True)]
        rows, keys, labels = _expanded(len(self.keys), found)
        currencies = self.codes["currency"].values
        unique, group = _unique_rows([*keys, self.currency[rows]], [*(len(label) for label in labels), len(currencies)])
        count = len(unique)
        lines = self.lines[rows]
        if self.other_lines:
            donation = self.donation[rows]
            base = _sums(lines[donation], group[donation], count)
            regrant = self.regrant[rows] & donation
        else:
            base = _sums(lines, group, count)
            regrant = self.regrant[rows]
        regranted = _sums(lines[regrant], group[regrant], count)
        other = self._other_flows(rows, lines, group, count)
        counted = self.counted()[rows]
        counted_group = group[counted]
        pledges = np.bincount(counted_group, minlength=count)
        unvalued = (
            np.bincount(group[counted & self.gift[rows]], minlength=count).tolist()
            if self.unvalued_lines
            else [0] * count
        )
        projects_of = _distinct(counted_group, self.project[rows][counted])
        projects = np.bincount(projects_of[:, 0], minlength=count)
        organizations = np.bincount(_distinct(counted_group, self.donor[rows][counted])[:, 0], minlength=count)
        in_county = self.county[rows][counted] >= 0
        counties = np.bincount(
            _distinct(counted_group[in_county], self.county[rows][counted][in_county])[:, 0], minlength=count
        )
        beneficiaries = self._beneficiaries(projects_of, count, latest)
        result = [
            Group(
                key=tuple(labels[d][unique[g][d]] for d in range(len(keys))),
                currency=currencies[unique[g][-1]],
                base=base[g],
                regranted=regranted[g],
                other={flow: sums[g] for flow, sums in other.items() if any(sums[g])},
                pledges=int(pledges[g]),
                projects=int(projects[g]),
                organizations=int(organizations[g]),
                counties=int(counties[g]),
                person_times=beneficiaries[0][g],
                households=beneficiaries[1][g],
                persons=beneficiaries[2][g],
                unvalued=unvalued[g],
            )
            for g in range(count)
        ]
        return sorted(result, key=lambda group_found: (group_found.key, group_found.currency))

    def _other_flows(self, rows: Ints, lines: Ints, group: Ints, count: int) -> dict[str, list[list[int]]]:
        """Per flow that is not a donation, every group's sums (nothing to do in a ledger of donations)."""
        if not self.other_lines:
            return {}
        flow_of = self.flow[rows]
        found = {}
        for flow, code in sorted(self.codes["flow"].index.items()):
            if flow != "donation":
                mine = flow_of == code
                found[flow] = _sums(lines[mine], group[mine], count)
        return found

    def _beneficiaries(
        self, projects_of: Ints, count: int, latest: dict[str, BeneficiaryReport]
    ) -> tuple[list[int], list[int], list[int]]:
        """Each group's sum of its counted projects' latest reports (person-times, households, persons)."""
        ids = self.codes["project"].values
        version = (id(latest), len(latest), len(self.fold.beneficiary_log), len(ids))
        if self._figures is None or self._figures[0] != version:  # worked out again only when reports change
            figures = np.zeros((len(ids), 3), dtype=np.int64)
            index_of = self.codes["project"].index
            for project_id, report in latest.items():
                index = index_of.get(project_id)
                if index is not None:
                    figures[index] = (report.person_times, report.households or 0, report.persons or 0)
            self._figures = (version, figures)
        figures = self._figures[1]
        sums = np.zeros((count, 3), dtype=np.int64)
        np.add.at(sums, projects_of[:, 0], figures[projects_of[:, 1]])
        return (sums[:, 0].tolist(), sums[:, 1].tolist(), sums[:, 2].tolist())


class _Dimension:
    """A dimension's value codes for every line of a table (one code per line when single-valued)."""

    def __init__(self) -> None:
        self.codes = _Codes()
        self.single: list[int] = []
        self.multiple: list[Sequence[str]] = []
        """Every line's values, once a line had other than exactly one."""
        self.array: Ints = np.zeros(0, dtype=np.int64)

    def extend(
        self, fold: LedgerFold, values: Values, as_of: AsOf, pledges: list[PledgeRecord], years: list[int]
    ) -> None:
        start = len(self.multiple) if self.multiple else len(self.single)
        if start == len(pledges):
            return
        found = [values(fold, pledge, year, as_of) for pledge, year in zip(pledges[start:], years[start:], strict=True)]
        if not self.multiple and all(len(value) == 1 for value in found):
            code = self.codes.code
            self.single.extend(code(value[0]) for value in found)
            self.array = np.array(self.single, dtype=np.int64)
            return
        if not self.multiple:
            self.multiple = [(self.codes.values[code],) for code in self.single]
        self.multiple.extend(found)


def _expanded(size: int, dimensions: list[_Dimension]) -> tuple[Ints, list[Ints], list[list[str]]]:
    """The table's rows with one code per dimension; a line with several values of a dimension appears
    once per distinct combination (a pledge to a project in two campaigns is in both rows, once each)."""
    if not any(dimension.multiple for dimension in dimensions):
        rows = np.arange(size, dtype=np.int64)
        return rows, [dimension.array for dimension in dimensions], [dimension.codes.values for dimension in dimensions]
    labels = [_Codes() for _ in dimensions]
    columns = [
        dimension.multiple or [(dimension.codes.values[code],) for code in dimension.single] for dimension in dimensions
    ]
    expanded: list[int] = []
    combinations: list[tuple[str, ...]] = []
    for row in range(size):
        for combination in dict.fromkeys(product(*(column[row] for column in columns))):
            expanded.append(row)
            combinations.append(combination)
    keys = [
        np.array([codes.code(combination[d]) for combination in combinations], dtype=np.int64)
        for d, codes in enumerate(labels)
    ]
    return np.array(expanded, dtype=np.int64), keys, [codes.values for codes in labels]


def _append(array: Ints, values: list[int]) -> Ints:
    return np.concatenate([array, np.array(values, dtype=np.int64)])


def _unique_rows(columns: list[Ints], sizes: list[int]) -> tuple[list[tuple[int, ...]], Ints]:
    """The distinct rows of code columns (in order) and each row's index among them."""
    if not len(columns[0]):
        return [], np.zeros(0, dtype=np.int64)
    radix = 1
    for size in sizes:
        radix *= max(size, 1)
    if radix < 2**62:  # one number per row: a plain sort
        combined = np.zeros(len(columns[0]), dtype=np.int64)
        for column, size in zip(columns, sizes, strict=True):
            combined = combined * max(size, 1) + column
        unique, group = np.unique(combined, return_inverse=True)
        rows = []
        for value in unique.tolist():
            digits = []
            for size in reversed(sizes):
                value, digit = divmod(value, max(size, 1))
                digits.append(digit)
            rows.append(tuple(reversed(digits)))
        return rows, group.reshape(-1)
    stacked, group = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
    return [tuple(row) for row in stacked.tolist()], group.reshape(-1)


def _sums(lines: Ints, group: Ints, count: int) -> list[list[int]]:
    """Exact column sums of ``lines`` per group: the low and high 32 bits summed apart, then combined."""
    low = np.zeros((count, 7), dtype=np.int64)
    high = np.zeros((count, 7), dtype=np.int64)
    if len(lines):
        order = np.argsort(group, kind="stable")
        ordered = lines[order]
        groups = group[order]
        starts = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
        present = groups[starts]
        low[present] = np.add.reduceat(ordered & LOW, starts, axis=0)
        high[present] = np.add.reduceat(ordered >> 32, starts, axis=0)
    return [
        [(h << 32) + lo for h, lo in zip(high_row, low_row, strict=True)]
        for high_row, low_row in zip(high.tolist(), low.tolist(), strict=True)
    ]


def _distinct(group: Ints, attribute: Ints) -> Ints:
    """The distinct (group, attribute) pairs, as rows."""
    if not len(group):
        return np.zeros((0, 2), dtype=np.int64)
    width = int(attribute.max()) + 1
    keys = np.sort(group * width + attribute)  # sorting and comparing neighbours beats np.unique's hashing
    pairs = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    return np.column_stack(np.divmod(pairs, width))


def table_for(fold: LedgerFold, as_of: AsOf, *, by_year: bool, lines: dict[Any, Line] | None = None) -> LineTable:
    """The line table at the coordinates: the fold's own, kept up to date, for the ledger as it stands;
    otherwise one made from ``lines`` (the lines summed at the coordinates)."""
    if as_of.now:
        kept: dict[bool, LineTable] = fold.grouping if fold.grouping is not None else {}
        fold.grouping = kept
        table = kept.get(by_year)
        if table is None:
            table = kept[by_year] = LineTable(fold, by_year=by_year)
        table.keep_up()
        return table
    assert lines is not None
    table = LineTable(fold, by_year=by_year, withdrawn=_withdrawn_unvalued(fold, as_of))
    table.add(lines)
    return table


def _withdrawn_unvalued(fold: LedgerFold, as_of: AsOf) -> set[str]:
    """The unvalued gifts withdrawn at the coordinates (their lines are all zero, withdrawn or not)."""
    if not fold.unvalued_pledges:
        return set()
    pledges = fold.pledges
    return {
        fact.pledge_id
        for fact in fold.matching_facts(as_of)
        if fact.event == "Pledge.Withdrawn" and pledges[fact.pledge_id].unvalued
    }
