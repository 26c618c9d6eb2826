"""Disclosure obligations (信息公开义务) of aid projects: a pure, dated rules engine.

The engine turns plain, frozen facts about one project into the disclosures the
implementing organization owes (`derive_obligations`), and tells, as of a date, whether each
was met on time, met late, is still owed, or is overdue (`evaluate`). It knows nothing of
events or storage: the disclosure projection builds `ProjectFacts` from the event log and
calls these two functions, so the same facts always give the same answer.

The law is data. Each `RuleSet` is a dated set of figures (progress interval, final report
deadline, minimum project length) with its citation; an obligation is governed by the rule
set in force on its due date. Dates are counted as the Civil Code counts periods
(民法典 第二百零一条、第二百零二条): the starting day is not counted and a period of months
ends on the corresponding day of the last month, or on that month's last day when it has no
such day. `docs/disclosure-rules.md` states every rule with worked examples.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "LATEST_SUPPORTED_DATE",
    "ORDER_61_RULES",
    "ORDER_81_RULES",
    "RULE_SETS",
    "STATUTORY_POLICY",
    "DisclosureKind",
    "DisclosurePolicy",
    "DisclosureRecord",
    "Obligation",
    "ObligationState",
    "ObligationStatus",
    "ProjectFacts",
    "RuleSet",
    "add_months",
    "derive_obligations",
    "evaluate",
    "rule_set_in_force",
]

# Due dates run up to a few years past a project's end; refusing dates this close to
# `date.max` keeps every month addition representable.
LATEST_SUPPORTED_DATE = date(9000, 12, 31)
"""The latest date accepted in `ProjectFacts`; later dates are refused as invalid input."""


class _Frozen(BaseModel):
    """Base of the engine's value objects: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DisclosureKind(StrEnum):
    """What a disclosure reports: progress of implementation, or the final account."""

    PROGRESS = "progress"
    """项目实施情况 — a periodic report while the project runs."""
    FINAL = "final"
    """项目实施情况和募得款物使用情况的全面公开 — the full report after the project ends."""


class ObligationState(StrEnum):
    """Where an obligation stands on a given date."""

    UPCOMING = "upcoming"
    """Not met, and its window has not opened yet (as_of < opens_on)."""
    DUE = "due"
    """Not met, and its window is open (opens_on <= as_of <= due_on)."""
    OVERDUE = "overdue"
    """Not met, and its due date has passed (as_of > due_on)."""
    MET = "met"
    """Met by a disclosure published inside its window, on or before the due date."""
    MET_LATE = "met_late"
    """Met by a disclosure published after the due date (and on or before as_of)."""


class RuleSet(_Frozen):
    """A dated set of statutory figures for project disclosures, with its citation.

    Two rule sets differ only where the law differs. A rule set governs the obligations
    whose due date falls in ``[effective_from, effective_to]`` (``effective_to`` None = open).
    """

    name: str = Field(min_length=1)
    effective_from: date
    effective_to: date | None
    progress_interval_months: int = Field(gt=0)
    """至少每N个月公开一次: the longest span a progress window may cover."""
    final_report_deadline_months: int = Field(gt=0)
    """项目结束后N个月内: months after the project's end to publish the final report."""
    minimum_project_months: int = Field(ge=0)
    """实施周期超过N个月: progress reports are owed only by projects longer than this."""
    citation: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check_dates(self) -> RuleSet:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(
                f"rule set {self.name!r} ends ({self.effective_to}) before it starts "
                f"({self.effective_from}); effective_to must be on or after effective_from"
            )
        return self

    def in_force_on(self, day: date) -> bool:
        """Whether this rule set governs an obligation due on ``day``."""
        if day < self.effective_from:
            return False
        return self.effective_to is None or day <= self.effective_to


ORDER_61_RULES = RuleSet(
    name="charity-law-2016+mca-order-61",
    # The Charity Law came into force on 2016-09-01 and already states these figures;
    # Order 61 (in force 2018-09-01) restates them for the platform, so one rule set covers
    # both (see docs/disclosure-rules.md).
    effective_from=date(2016, 9, 1),
    effective_to=date(2025, 12, 31),
    progress_interval_months=3,
    final_report_deadline_months=3,
    minimum_project_months=6,
    citation=(
        "《中华人民共和国慈善法》（2016年）第七十三条；"
        "《慈善组织信息公开办法》（民政部令第61号，2018年9月1日起施行） / "
        "Charity Law of the PRC (2016) art. 73; Measures for the Information Disclosure "
        "by Charitable Organizations (MCA Order No. 61, in force 2018-09-01)"
    ),
)
"""Charity Law (2016) art. 73 with MCA Order 61: due dates up to 2025-12-31."""

ORDER_81_RULES = RuleSet(
    name="mca-order-81",
    effective_from=date(2026, 1, 1),
    effective_to=None,
    # Same figures as Order 61: no change to them could be established (see the docs).
    progress_interval_months=3,
    final_report_deadline_months=3,
    minimum_project_months=6,
    citation=(
        "《中华人民共和国慈善法》（2023年修正）；"
        "《慈善组织信息公开办法》（民政部令第81号，2026年1月1日起施行） / "
        "Charity Law of the PRC (as amended 2023); Measures for the Information Disclosure "
        "by Charitable Organizations (MCA Order No. 81, in force 2026-01-01)"
    ),
)
"""MCA Order 81: due dates from 2026-01-01 on."""

RULE_SETS: tuple[RuleSet, ...] = (ORDER_61_RULES, ORDER_81_RULES)
"""The built-in rule sets, oldest first; their date ranges do not overlap."""


class DisclosurePolicy(_Frozen):
    """Who owes disclosures and how often, beyond what the statute itself requires.

    The statutory default binds only a charity holding public-fundraising qualification.
    A campaign policy (``applies_to_all_participants=True``) extends the same duties to every
    organization in the campaign. ``progress_interval_months`` may set the campaign's own
    progress interval; it can only tighten the statute for an organization the statute binds
    (the shorter interval applies), and it replaces the statutory interval for the others.
    """

    name: str = Field(default="statutory", min_length=1)
    applies_to_all_participants: bool = False
    progress_interval_months: int | None = Field(default=None, gt=0)
    citation: str | None = None
    """The campaign document that imposes the policy, if any."""

    @classmethod
    def statutory(cls) -> DisclosurePolicy:
        """The statutory default: duties for public-fundraising charities only."""
        return cls()

    @classmethod
    def campaign(
        cls,
        name: str,
        *,
        progress_interval_months: int | None = None,
        citation: str | None = None,
    ) -> DisclosurePolicy:
        """A campaign policy that extends the duties to all participating organizations."""
        return cls(
            name=name,
            applies_to_all_participants=True,
            progress_interval_months=progress_interval_months,
            citation=citation,
        )


STATUTORY_POLICY = DisclosurePolicy.statutory()
"""The statutory default policy."""


class DisclosureRecord(_Frozen):
    """A disclosure the organization published about the project (from Project.Disclosed)."""

    kind: DisclosureKind
    published_on: date
    period_start: date
    period_end: date
    reference: str | None = None
    """Where it came from (event id or log position), carried through for explanations."""

    @model_validator(mode="after")
    def _check_period(self) -> DisclosureRecord:
        if self.period_end < self.period_start:
            raise ValueError(
                f"disclosure published on {self.published_on} covers a period ending "
                f"{self.period_end} before it starts {self.period_start}; "
                "period_end must be on or after period_start"
            )
        return self


class ProjectFacts(_Frozen):
    """What the rules need to know about one project, as plain values.

    ``is_charity`` and ``has_public_fundraising`` describe the implementing organization
    on the project's ``implementation_start`` (actual start, else planned start): the duty
    attaches to the project as it begins, and a later change of status neither adds nor
    removes obligations for it.
    """

    project_id: str = Field(min_length=1)
    organization_id: str = Field(min_length=1)
    is_charity: bool
    has_public_fundraising: bool
    planned_start: date
    planned_end: date
    started_on: date | None = None
    completed_on: date | None = None
    cancelled_on: date | None = None
    disclosures: tuple[DisclosureRecord, ...] = ()

    @model_validator(mode="after")
    def _check_dates(self) -> ProjectFacts:
        _check_not_too_late(self)
        if self.planned_end < self.planned_start:
            raise ValueError(
                f"project {self.project_id!r}: planned_end {self.planned_end} is before "
                f"planned_start {self.planned_start}; it must be on or after it"
            )
        if self.completed_on is not None and self.cancelled_on is not None:
            raise ValueError(
                f"project {self.project_id!r} is both completed ({self.completed_on}) and "
                f"cancelled ({self.cancelled_on}); give at most one of them"
            )
        if self.completed_on is not None and self.completed_on < self.implementation_start:
            raise ValueError(
                f"project {self.project_id!r}: completed_on {self.completed_on} is before "
                f"its start {self.implementation_start}; it must be on or after it"
            )
        if self.cancelled_on is not None and self.started_on is not None and self.cancelled_on < self.started_on:
            raise ValueError(
                f"project {self.project_id!r}: cancelled_on {self.cancelled_on} is before "
                f"started_on {self.started_on}; it must be on or after it"
            )
        return self

    @property
    def implementation_start(self) -> date:
        """The day periods are counted from: the actual start, else the planned start."""
        return self.started_on if self.started_on is not None else self.planned_start

    @property
    def actual_end(self) -> date | None:
        """The completion or cancellation date, if either has been recorded."""
        return self.completed_on if self.completed_on is not None else self.cancelled_on

    @property
    def implementation_end(self) -> date:
        """When the project ends: completion, else cancellation, else the planned end."""
        return self.actual_end if self.actual_end is not None else self.planned_end

    @property
    def bound_by_statute(self) -> bool:
        """Whether the statute itself binds the organization (公开募捐资格的慈善组织)."""
        return self.is_charity and self.has_public_fundraising


def _check_not_too_late(facts: ProjectFacts) -> None:
    dates = (
        facts.planned_start,
        facts.planned_end,
        facts.started_on,
        facts.completed_on,
        facts.cancelled_on,
    )
    for day in dates:
        if day is not None and day > LATEST_SUPPORTED_DATE:
            raise ValueError(
                f"project {facts.project_id!r}: date {day} is after {LATEST_SUPPORTED_DATE}, "
                "the latest date the disclosure rules accept"
            )


class Obligation(_Frozen):
    """One disclosure the organization owes for a project.

    The obligation is met by a disclosure of the same ``kind`` published in the window
    ``[opens_on, due_on]``. For a progress obligation the window is the progress period
    itself, so ``due_on == period_end``; for the final report the window runs from the
    project's end (``period_end``) to the deadline.
    """

    project_id: str
    organization_id: str
    kind: DisclosureKind
    period_start: date
    period_end: date
    opens_on: date
    due_on: date
    rule_set: str
    """Name of the `RuleSet` in force on ``due_on``."""
    citation: str
    """The rule set's citation: where the figures come from."""
    policy: str
    """Name of the `DisclosurePolicy` the obligation was derived under."""
    bound_by_statute: bool
    """True when the statute binds the organization; False when only the policy does."""

    @property
    def sort_key(self) -> tuple[date, int, date, date, str]:
        """Canonical order: due date, kind (progress first), period, rule set."""
        return (self.due_on, _KIND_ORDER[self.kind], self.period_start, self.period_end, self.rule_set)


_KIND_ORDER = {DisclosureKind.PROGRESS: 0, DisclosureKind.FINAL: 1}


class ObligationStatus(_Frozen):
    """An obligation's state as of a date, with the disclosure that met it, if any."""

    obligation: Obligation
    as_of: date
    status: ObligationState
    days_late: int = Field(ge=0)
    """0 unless overdue (days from due_on to as_of) or met late (due_on to publication)."""
    met_by: DisclosureRecord | None = None


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by ``months`` calendar months, clamped to the month's last day.

    This is the Civil Code's rule for periods of months (民法典 第二百零二条): the period ends
    on the corresponding day of the last month, or on that month's last day when it has
    none. ``add_months(date(2018, 8, 31), 6) == date(2019, 2, 28)``. ``months`` may be
    negative. Raises ``OverflowError`` outside the years 1..9999.
    """
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError(f"{day} moved by {months} months falls outside years 1..9999")
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def rule_set_in_force(day: date, rule_sets: Sequence[RuleSet] = RULE_SETS) -> RuleSet | None:
    """The rule set governing obligations due on ``day``, or None if none is in force."""
    for rule_set in rule_sets:
        if rule_set.in_force_on(day):
            return rule_set
    return None


def derive_obligations(
    facts: ProjectFacts,
    policy: DisclosurePolicy = STATUTORY_POLICY,
    rule_sets: Sequence[RuleSet] = RULE_SETS,
) -> list[Obligation]:
    """Return every disclosure obligation of the project, in canonical order.

    No obligations when neither the statute nor the policy binds the organization. Otherwise
    one progress obligation per progress window that closes before the project ends (only
    for projects longer than the rule set's minimum), and one final report. Each obligation
    is governed by the rule set in force on its due date; none is derived for a due date no
    rule set covers. Raises ``ValueError`` if the rule sets' date ranges overlap.
    """
    _check_rule_sets(rule_sets)
    if not (facts.bound_by_statute or policy.applies_to_all_participants):
        return []
    obligations = [
        obligation for rule_set in rule_sets for obligation in _progress_obligations(facts, policy, rule_set)
    ]
    final = _final_obligation(facts, policy, rule_sets)
    if final is not None:
        obligations.append(final)
    return sorted(obligations, key=lambda obligation: obligation.sort_key)


def _check_rule_sets(rule_sets: Sequence[RuleSet]) -> None:
    ordered = sorted(rule_sets, key=lambda rule_set: rule_set.effective_from)
    for earlier, later in itertools.pairwise(ordered):
        if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
            raise ValueError(
                f"rule sets {earlier.name!r} and {later.name!r} overlap; each date must be "
                "governed by at most one rule set"
            )


def _is_long_project(facts: ProjectFacts, rule_set: RuleSet) -> bool:
    """实施周期超过N个月: planned period, or actual period once ended, exceeds the minimum."""
    months = rule_set.minimum_project_months
    if facts.planned_end > add_months(facts.planned_start, months):
        return True
    actual_end = facts.actual_end
    return actual_end is not None and actual_end > add_months(facts.implementation_start, months)


def _progress_interval(facts: ProjectFacts, policy: DisclosurePolicy, rule_set: RuleSet) -> int:
    statutory = rule_set.progress_interval_months
    if policy.progress_interval_months is None:
        return statutory
    if facts.bound_by_statute:
        # A campaign may ask for more than the law, never for less.
        return min(statutory, policy.progress_interval_months)
    return policy.progress_interval_months


def _progress_obligations(facts: ProjectFacts, policy: DisclosurePolicy, rule_set: RuleSet) -> Iterator[Obligation]:
    """Progress windows on this rule set's grid whose due date it governs."""
    if not _is_long_project(facts, rule_set):
        return
    interval = _progress_interval(facts, policy, rule_set)
    start, end = facts.implementation_start, facts.implementation_end
    window_start, k = start, 1
    # Each window end is counted from the start, not from the previous window, so clamping
    # at a short month never drifts into later windows. A window closing on or after the
    # project's end is replaced by the final report.
    while (window_end := add_months(start, interval * k)) < end:
        if rule_set.in_force_on(window_end):
            yield _obligation(
                facts, policy, rule_set, DisclosureKind.PROGRESS, window_start, window_end, window_start, window_end
            )
        window_start, k = window_end + timedelta(days=1), k + 1


def _final_obligation(facts: ProjectFacts, policy: DisclosurePolicy, rule_sets: Sequence[RuleSet]) -> Obligation | None:
    """The final report, governed by the rule set in force on its due date."""
    end = facts.implementation_end
    governing = [
        rule_set
        for rule_set in rule_sets
        if rule_set.in_force_on(add_months(end, rule_set.final_report_deadline_months))
    ]
    if not governing:
        return None
    # Several rule sets can claim the due date only if their deadlines differ; the newest
    # one then applies, as the law in force at the deadline.
    rule_set = max(governing, key=lambda candidate: candidate.effective_from)
    due_on = add_months(end, rule_set.final_report_deadline_months)
    period_start = min(facts.implementation_start, end)
    return _obligation(facts, policy, rule_set, DisclosureKind.FINAL, period_start, end, end, due_on)


def _obligation(
    facts: ProjectFacts,
    policy: DisclosurePolicy,
    rule_set: RuleSet,
    kind: DisclosureKind,
    period_start: date,
    period_end: date,
    opens_on: date,
    due_on: date,
) -> Obligation:
    return Obligation(
        project_id=facts.project_id,
        organization_id=facts.organization_id,
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        opens_on=opens_on,
        due_on=due_on,
        rule_set=rule_set.name,
        citation=rule_set.citation,
        policy=policy.name,
        bound_by_statute=facts.bound_by_statute,
    )


def evaluate(obligations: Iterable[Obligation], facts: ProjectFacts, as_of: date) -> list[ObligationStatus]:
    """Return each obligation's status as of ``as_of``, in canonical order.

    Only disclosures published on or before ``as_of`` count. An obligation is met by the
    earliest disclosure of its kind published on or after ``opens_on``: on or before
    ``due_on`` it is met, later it is met late. The same disclosure may meet several
    obligations (a catch-up report cures every earlier missed window). Raises ``ValueError``
    if an obligation belongs to another project than ``facts``.
    """
    published = sorted(
        (record for record in facts.disclosures if record.published_on <= as_of),
        key=_record_order,
    )
    statuses = [_status(obligation, published, facts, as_of) for obligation in obligations]
    return sorted(statuses, key=lambda status: status.obligation.sort_key)


def _record_order(record: DisclosureRecord) -> tuple[date, date, date, str]:
    return (record.published_on, record.period_start, record.period_end, record.reference or "")


def _status(
    obligation: Obligation,
    published: Sequence[DisclosureRecord],
    facts: ProjectFacts,
    as_of: date,
) -> ObligationStatus:
    if obligation.project_id != facts.project_id:
        raise ValueError(
            f"obligation of project {obligation.project_id!r} evaluated against the facts "
            f"of project {facts.project_id!r}; pass the facts of the same project"
        )
    met_by = next(
        (
            record
            for record in published
            if record.kind == obligation.kind and record.published_on >= obligation.opens_on
        ),
        None,
    )
    if met_by is not None:
        days_late = max((met_by.published_on - obligation.due_on).days, 0)
        state = ObligationState.MET_LATE if days_late else ObligationState.MET
    elif as_of > obligation.due_on:
        days_late = (as_of - obligation.due_on).days
        state = ObligationState.OVERDUE
    else:
        days_late = 0
        state = ObligationState.DUE if as_of >= obligation.opens_on else ObligationState.UPCOMING
    return ObligationStatus(obligation=obligation, as_of=as_of, status=state, days_late=days_late, met_by=met_by)
