"""The pure fold of the event log into facts: the single source of every reported figure.

``LedgerFold.apply(position, originator_id, name, record)`` is called for each folded event in log
order, with the record :mod:`aidledger.projections.events` decoded from its stored JSON. It keeps
the descriptive records that reports group by (organizations, projects, pledges, disbursements) and
appends *facts*: signed contributions of one event to one stage column of one pledge. Every figure
is a sum of facts, so every figure can be explained by the facts (and so the events) that make it
up. The fold reads events only, never aggregates.

Amounts are exact whole numbers of hundredths (fen for CNY): every amount the ledger accepts has at
most two decimal places, and integer sums are exact and fast. Reports turn them back into
``Decimal`` with two places. Records and facts are ``msgspec`` structs that the cyclic garbage
collector does not track (they hold no reference cycles), so a fold of millions of facts costs the
collector nothing.

Coordinates (:class:`AsOf`) pick which facts count: those at or before a log position, recorded
before a time, and effective on or before a date. Descriptive records are taken as they stood at
the position (organizations keep their history; pledge terms and project plans never change).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from aidledger.application.ports import StoredRow
from aidledger.errors import UnreadableEvent
from aidledger.projections import events
from aidledger.projections.events import (
    Amount,
    BeneficiariesReported,
    Change,
    Decoded,
    DisbursementMade,
    Disclosed,
    PledgeMade,
    ProfileChanged,
    ProjectRegistered,
)

__all__ = [
    "BASE_COLUMNS",
    "AsOf",
    "BeneficiaryReport",
    "DisbursementRecord",
    "Disclosure",
    "DisclosureEntry",
    "Fact",
    "Item",
    "LedgerFold",
    "Money",
    "OrganizationRecord",
    "Plan",
    "PledgeRecord",
    "Profile",
    "ProfileVersion",
    "ProjectRecord",
    "StatusChange",
    "cents",
    "money",
]

BASE_COLUMNS = ("intended", "signed", "withdrawn", "disbursed", "confirmed", "reversed", "returned")
"""Columns that facts feed directly; the others are derived from these."""
COLUMN_INDEX = {name: index for index, name in enumerate(BASE_COLUMNS)}


def cents(amount: Amount | str) -> int:
    """An amount as stored (``"1234.50"``) as a whole number of hundredths (``123450``)."""
    text = amount.value if isinstance(amount, Amount) else amount
    if len(text) > 3 and text[-3] == "." and text[-2:].isdigit():  # every amount the library stores
        return int(text[:-3] + text[-2:])
    value = Decimal(text).scaleb(2)
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} has more than two decimal places")
    return int(value)


def money(hundredths: int) -> Decimal:
    """Hundredths back as an exact ``Decimal`` with two places (``123450`` -> ``1234.50``)."""
    return Decimal(hundredths).scaleb(-2)


@dataclass(frozen=True, slots=True)
class AsOf:
    """Report coordinates: a log position, a recorded-before time, an effective-on date."""

    position: int | None = None
    recorded_before: datetime | None = None
    effective_on: date | None = None

    def includes(self, position: int, recorded_at: datetime, effective_on: date) -> bool:
        """Whether an event with these coordinates counts."""
        return (
            (self.position is None or position <= self.position)
            and (self.recorded_before is None or recorded_at < self.recorded_before)
            and (self.effective_on is None or effective_on <= self.effective_on)
        )

    def knows(self, position: int, recorded_at: datetime) -> bool:
        """Whether an event was in the log at these coordinates (effective date aside)."""
        return (self.position is None or position <= self.position) and (
            self.recorded_before is None or recorded_at < self.recorded_before
        )

    @property
    def now(self) -> bool:
        """No bound at all: the ledger as it stands."""
        return self.position is None and self.recorded_before is None and self.effective_on is None


class Money(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """Money as stored: a decimal string and an ISO 4217 code."""

    value: str
    currency: str


class Item(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """Goods or services given in kind."""

    description: str
    quantity: str
    unit: str


class Profile(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """An organization's profile."""

    name: str
    kind: str
    level: str
    home_region: str
    credit_code: str | None
    charity: bool
    charity_since: date | None
    public_fundraising: bool
    public_fundraising_from: date | None
    public_fundraising_until: date | None

    def fundraising_on(self, day: date) -> bool:
        """Whether the organization held the public fundraising qualification on ``day``."""
        if not self.public_fundraising:
            return False
        after_start = self.public_fundraising_from is None or self.public_fundraising_from <= day
        before_end = self.public_fundraising_until is None or day <= self.public_fundraising_until
        return after_start and before_end


class Plan(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A project's plan."""

    title: str
    implementing_organization_id: str
    category: str
    field: str
    planned_start: date
    planned_end: date
    region: str | None
    pooled_fund: bool
    campaigns: tuple[str, ...]
    budget: Money | None


class Disclosure(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A published report."""

    kind: str
    period_start: date
    period_end: date
    channel: str
    url: str | None
    content_sha256: str | None


class Fact(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One event's signed contribution, in hundredths, to one stage column of one pledge."""

    position: int
    event: str
    pledge_id: str
    column: str
    amount: int
    effective_on: date
    recorded_at: datetime
    year: int
    """The year a ``year`` grouping files it under: the pledge's date for pledge columns,
    the disbursement's value date for disbursement columns."""
    disbursement_id: str | None = None


class ProfileVersion(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """An organization's profile from a log position on."""

    position: int
    recorded_at: datetime
    profile: Profile
    deregistered_on: date | None


class OrganizationRecord(msgspec.Struct, array_like=True, gc=False):
    """An organization's profile history."""

    id: str
    history: list[ProfileVersion]

    def at(self, as_of: AsOf) -> tuple[Profile, date | None] | None:
        """The profile as it stood at the coordinates, or ``None`` before registration."""
        found = None
        for version in self.history:
            if as_of.knows(version.position, version.recorded_at):
                found = (version.profile, version.deregistered_on)
        return found


class StatusChange(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A project started, completed or was cancelled."""

    position: int
    recorded_at: datetime
    effective_on: date
    status: str


class BeneficiaryReport(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A cumulative beneficiary report; the latest one in effect stands."""

    position: int
    recorded_at: datetime
    as_of: date
    person_times: int
    households: int | None
    persons: int | None


class DisclosureEntry(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A published report, with when it was recorded and published."""

    position: int
    recorded_at: datetime
    published_on: date
    disclosure: Disclosure


class ProjectRecord(msgspec.Struct, array_like=True, gc=False):
    """A project's plan and what happened to it, each change with its coordinates."""

    id: str
    position: int
    recorded_at: datetime
    registered_on: date
    plan: Plan
    status_changes: list[StatusChange]
    beneficiaries: list[BeneficiaryReport]
    disclosures: list[DisclosureEntry]

    def status_at(self, as_of: AsOf) -> tuple[str, dict[str, date]]:
        """The status at the coordinates and the date each status was reached."""
        status, dates = "registered", {"registered": self.registered_on}
        for change in self.status_changes:
            if as_of.includes(change.position, change.recorded_at, change.effective_on):
                status = change.status
                dates[change.status] = change.effective_on
        return status, dates

    def beneficiaries_at(self, as_of: AsOf) -> BeneficiaryReport | None:
        """The latest beneficiary report in effect at the coordinates."""
        known = [r for r in self.beneficiaries if as_of.includes(r.position, r.recorded_at, r.as_of)]
        return max(known, key=_latest_first) if known else None


class PledgeRecord(msgspec.Struct, array_like=True, gc=False):
    """A pledge: what was promised, by whom, to which project, and where it stands."""

    id: str
    position: int
    recorded_at: datetime
    made_on: date
    donor_id: str
    project_id: str
    currency: str
    """The pledge's currency: every figure of a pledge is in it."""
    items: tuple[Item, ...]
    channel_id: str | None
    funded_from: str | None
    anonymous: bool
    amount: int
    """The current amount, in hundredths."""
    stage: str
    withdrawn: bool = False
    flow: str = "donation"
    """``donation``, or a flow donation totals leave out (``investment``, ``loan``)."""
    unvalued: bool = False
    """Goods whose value was not assessed (amount zero): counted as a gift, never in money (DESIGN §3 rule 9).
    Last, with a default, so snapshots stored before it still load."""

    @property
    def in_kind(self) -> bool:
        """Goods or services rather than cash."""
        return bool(self.items)

    @property
    def donation(self) -> bool:
        """Whether donation totals count it (DESIGN §3 rule 8)."""
        return self.flow == "donation"


class DisbursementRecord(msgspec.Struct, array_like=True, gc=False):
    """A disbursement: against which pledge, how much, how, and what became of it."""

    id: str
    position: int
    pledge_id: str
    amount: int
    method: str
    items: tuple[Item, ...]
    value_date: date
    confirmed: bool = False
    reversed: bool = False
    confirmed_on: date | None = None


def _latest_first(report: BeneficiaryReport) -> tuple[date, int]:
    """Which of two beneficiary reports stands: the later one in effect, then the later recorded."""
    return report.as_of, report.position


def _items(items: tuple[Any, ...]) -> tuple[Item, ...]:
    return tuple(Item(item.description, item.quantity, item.unit) for item in items)


_STATUS = {"Project.Started": "started", "Project.Completed": "completed", "Project.Cancelled": "cancelled"}


class LedgerFold:
    """The deterministic fold of the log: descriptive records plus facts, in log order."""

    def __init__(self) -> None:
        self.position = 0
        """The last log position folded."""
        self.organizations: dict[str, OrganizationRecord] = {}
        self.projects: dict[str, ProjectRecord] = {}
        self.pledges: dict[str, PledgeRecord] = {}
        self.lines: dict[str, list[int]] = {}
        """Every pledge's base columns now, in hundredths (``BASE_COLUMNS`` order)."""
        self._disbursements: dict[str, DisbursementRecord] = {}
        self._facts: list[Fact] = []
        self._year_lines: dict[tuple[str, int], list[int]] | None = None
        self._stored: Any = None
        self._stored_facts = 0
        self._unread_records: dict[str, Callable[[], dict[str, Any]]] = {}
        """Disbursements and facts of a loaded snapshot not decoded yet (see :meth:`keep_unread`)."""
        self.beneficiary_log: list[str] = []
        """Projects in the order their beneficiary reports were folded (for running totals)."""
        self.root_of: Callable[[int], str] | None = None
        """Gives the hex Merkle root of the log at a position, when a ledger is behind the fold."""
        self._running: Any = None
        self.grouping: Any = None
        """What the totals keep between reports of the ledger as it stands (see :mod:`.totals`)."""
        self.profile_changes = 0
        """How many organization profile changes were folded (donor groupings depend on them)."""
        self.unvalued_pledges = 0
        """How many pledges are unvalued gifts: when none, counting never looks for them."""
        self._latest_reports: dict[str, BeneficiaryReport] | None = None
        self._handlers: dict[str, Callable[[int, str, str, Any], None]] = {
            "Organization.Registered": self._organization,
            "Organization.Updated": self._organization,
            "Organization.Deregistered": self._organization,
            "Project.Registered": self._project_registered,
            "Project.Started": self._project_status,
            "Project.Completed": self._project_status,
            "Project.Cancelled": self._project_status,
            "Project.BeneficiariesReported": self._beneficiaries,
            "Project.Disclosed": self._disclosed,
            "Pledge.Made": self._pledge_made,
            "Pledge.Signed": self._pledge_signed,
            "Pledge.Amended": self._pledge_amended,
            "Pledge.Withdrawn": self._pledge_withdrawn,
            "Disbursement.Made": self._disbursement_made,
            "Disbursement.Confirmed": self._disbursement_confirmed,
            "Disbursement.Reversed": self._disbursement_reversed,
            "Disbursement.Returned": self._disbursement_returned,
        }
        assert set(self._handlers) == set(events.EVENT_TYPES)

    # -- folding ------------------------------------------------------------------------------

    def apply_rows(self, rows: Iterable[StoredRow]) -> None:
        """Fold stored rows in log order (rows of topics the fold does not read only move it on)."""
        decode, apply = events.decode, self.apply
        for row in rows:
            decoded = decode(row)
            if decoded is None:
                self.position = row.position
            else:
                apply(row.position, row.originator_id, decoded[0], decoded[1])

    def apply(self, position: int, originator_id: str, name: str, record: Decoded) -> None:
        """Fold one event; positions must increase."""
        assert position > self.position, (position, self.position)
        try:
            self._handlers[name](position, originator_id, name, record)
        except (KeyError, AttributeError, ValueError) as error:  # a hand-edited row refers to nothing
            msg = f"the stored event at log position {position} ({name}) does not fit the history before it: {error!r}"
            raise UnreadableEvent(msg) from None
        self.position = position

    # -- what a loaded snapshot decodes only when it is asked for ------------------------------

    def keep_unread_records(self, name: str, read: Callable[[], dict[str, Any]]) -> None:
        """Leave a collection of records (``organizations``, say) undecoded until it is first used."""
        delattr(self, name)
        self._unread_records[name] = read

    def __getattr__(self, name: str) -> Any:
        """Decode a collection kept unread, on first use (only called when the attribute is missing)."""
        unread = self.__dict__.get("_unread_records")
        if unread is None or name not in unread:
            raise AttributeError(name)
        records = unread.pop(name)()
        setattr(self, name, records)
        return records

    def keep_unread(self, stored: Any, fact_count: int) -> None:
        """Keep a snapshot's disbursements and facts undecoded until they are needed: the figures of
        the ledger as it stands come from the pledge lines, so most reports never decode them.
        ``stored.read(fold)`` gives the disbursements and the facts."""
        self._stored, self._stored_facts = stored, fact_count

    def _read_stored(self) -> None:
        stored, self._stored = self._stored, None
        disbursements, facts = stored.read(self)
        self._disbursements = {**disbursements, **self._disbursements}
        self._facts = [*facts, *self._facts]

    @property
    def disbursements(self) -> dict[str, DisbursementRecord]:
        """Every disbursement, by id."""
        if self._stored is not None:
            self._read_stored()
        return self._disbursements

    @property
    def facts(self) -> list[Fact]:
        """Every fact, in log order."""
        if self._stored is not None:
            self._read_stored()
        return self._facts

    @property
    def fact_count(self) -> int:
        """How many facts there are (without decoding stored ones)."""
        return len(self._facts) + (self._stored_facts if self._stored is not None else 0)

    def facts_from(self, index: int) -> list[Fact]:
        """The facts from the ``index``-th on (decoding stored ones only if they are asked for)."""
        if self._stored is not None and index >= self._stored_facts:
            return self._facts[index - self._stored_facts :]
        return self.facts[index:]

    @property
    def year_lines(self) -> dict[tuple[str, int], list[int]]:
        """Every pledge's base columns per ``year`` of its facts (summed from the facts when first asked)."""
        if self._year_lines is None:
            year_lines: dict[tuple[str, int], list[int]] = {}
            for fact in self.facts:
                line = year_lines.get((fact.pledge_id, fact.year))
                if line is None:
                    line = year_lines[(fact.pledge_id, fact.year)] = [0, 0, 0, 0, 0, 0, 0]
                line[COLUMN_INDEX[fact.column]] += fact.amount
            self._year_lines = year_lines
        return self._year_lines

    def latest_reports(self) -> dict[str, BeneficiaryReport]:
        """Each project's latest beneficiary report as the ledger stands (kept up to date once asked for)."""
        if self._latest_reports is None:
            key = _latest_first
            self._latest_reports = {
                p.id: max(p.beneficiaries, key=key) for p in self.projects.values() if p.beneficiaries
            }
        return self._latest_reports

    def facts_until(self, position: int) -> list[Fact]:
        """The facts at or before ``position`` (facts are in log order)."""
        if position >= self.position:
            return self.facts
        cut = bisect_right(self.facts, position, key=lambda fact: fact.position)
        return self.facts[:cut]

    def matching_facts(self, as_of: AsOf) -> Iterator[Fact]:
        """The facts that count at the coordinates."""
        facts = self.facts if as_of.position is None else self.facts_until(as_of.position)
        before, until = as_of.recorded_before, as_of.effective_on
        if before is None and until is None:
            return iter(facts)
        if before is None:
            return (f for f in facts if f.effective_on <= until)  # type: ignore[operator]
        return (f for f in facts if f.recorded_at < before and (until is None or f.effective_on <= until))

    @property
    def running(self) -> Any:
        """The running grand totals, caught up with this fold (see :mod:`.running`)."""
        return self._running

    @running.setter
    def running(self, value: Any) -> None:
        self._running = value

    # -- organizations and projects -----------------------------------------------------------

    def _organization(self, position: int, originator_id: str, name: str, event: Change) -> None:
        record = self.organizations.get(originator_id)
        if record is None:
            record = self.organizations[originator_id] = OrganizationRecord(originator_id, [])
        previous = record.history[-1] if record.history else None
        if isinstance(event, ProfileChanged):
            profile = Profile(*msgspec.structs.astuple(event.profile))
        else:
            assert previous is not None, "a deregistration follows a registration"
            profile = previous.profile
        deregistered_on = None if isinstance(event, ProfileChanged) else event.effective_on
        if deregistered_on is None and previous is not None:
            deregistered_on = previous.deregistered_on
        record.history.append(ProfileVersion(position, event.timestamp, profile, deregistered_on))
        self.profile_changes += 1

    def _project_registered(self, position: int, originator_id: str, name: str, event: ProjectRegistered) -> None:
        wire = event.plan
        budget = None if wire.budget is None else Money(wire.budget.value, wire.budget.currency)
        plan = Plan(
            wire.title,
            wire.implementing_organization_id,
            wire.category,
            wire.field,
            wire.planned_start,
            wire.planned_end,
            wire.region,
            wire.pooled_fund,
            wire.campaigns,
            budget,
        )
        self.projects[originator_id] = ProjectRecord(
            originator_id, position, event.timestamp, event.effective_on, plan, [], [], []
        )

    def _project_status(self, position: int, originator_id: str, name: str, event: Change) -> None:
        status = _STATUS[name]
        self.projects[originator_id].status_changes.append(
            StatusChange(position, event.timestamp, event.effective_on, status)
        )

    def _beneficiaries(self, position: int, originator_id: str, name: str, event: BeneficiariesReported) -> None:
        project = self.projects[originator_id]
        report = BeneficiaryReport(
            position, event.timestamp, event.effective_on, event.person_times, event.households, event.persons
        )
        project.beneficiaries.append(report)
        self.beneficiary_log.append(originator_id)
        if self._latest_reports is not None:
            latest = self._latest_reports.get(originator_id)
            if latest is None or (report.as_of, report.position) > (latest.as_of, latest.position):
                self._latest_reports[originator_id] = report

    def _disclosed(self, position: int, originator_id: str, name: str, event: Disclosed) -> None:
        disclosure = Disclosure(*msgspec.structs.astuple(event.disclosure))
        self.projects[originator_id].disclosures.append(
            DisclosureEntry(position, event.timestamp, event.effective_on, disclosure)
        )

    # -- pledges ------------------------------------------------------------------------------

    def _fact(
        self,
        position: int,
        name: str,
        event: Change,
        pledge: PledgeRecord,
        column: str,
        amount: int,
        *,
        year: int | None = None,
        effective_on: date | None = None,
        disbursement_id: str | None = None,
    ) -> None:
        year = pledge.made_on.year if year is None else year
        self._facts.append(
            Fact(
                position,
                name,
                pledge.id,
                column,
                amount,
                event.effective_on if effective_on is None else effective_on,
                event.timestamp,
                year,
                disbursement_id,
            )
        )
        index = COLUMN_INDEX[column]
        line = self.lines.get(pledge.id)
        if line is None:
            line = self.lines[pledge.id] = [0, 0, 0, 0, 0, 0, 0]
        line[index] += amount
        if self._year_lines is not None:  # kept up to date once a report asked for them
            line = self._year_lines.get((pledge.id, year))
            if line is None:
                line = self._year_lines[(pledge.id, year)] = [0, 0, 0, 0, 0, 0, 0]
            line[index] += amount

    def _pledge_made(self, position: int, originator_id: str, name: str, event: PledgeMade) -> None:
        terms = event.terms
        pledge = PledgeRecord(
            originator_id,
            position,
            event.timestamp,
            event.effective_on,
            terms.donor_id,
            terms.project_id,
            terms.amount.currency,
            _items(terms.items),
            terms.channel_id,
            # A regrant from a pool names the pledges it drew on; the first (oldest) stands for them here:
            # each is a pledge into the same pool, which is all that reports and exports read of it.
            terms.funded_from or (terms.drawn_from[0].pledge_id if terms.drawn_from else None),
            terms.anonymous,
            cents(terms.amount),
            event.stage,
            flow=terms.flow,
            unvalued=bool(terms.items) and cents(terms.amount) == 0,
        )
        self.pledges[originator_id] = pledge
        self.unvalued_pledges += pledge.unvalued
        self._fact(position, name, event, pledge, pledge.stage, pledge.amount)

    def _pledge_signed(self, position: int, originator_id: str, name: str, event: Change) -> None:
        pledge = self.pledges[originator_id]
        self._fact(position, name, event, pledge, "intended", -pledge.amount)
        self._fact(position, name, event, pledge, "signed", pledge.amount)
        pledge.stage = "signed"

    def _pledge_amended(self, position: int, originator_id: str, name: str, event: Any) -> None:
        pledge = self.pledges[originator_id]
        amount = cents(event.amount)
        if amount != pledge.amount:
            self._fact(position, name, event, pledge, pledge.stage, amount - pledge.amount)
        pledge.amount = amount

    def _pledge_withdrawn(self, position: int, originator_id: str, name: str, event: Change) -> None:
        pledge = self.pledges[originator_id]
        self._fact(position, name, event, pledge, pledge.stage, -pledge.amount)
        self._fact(position, name, event, pledge, "withdrawn", pledge.amount)
        pledge.withdrawn = True

    # -- disbursements ------------------------------------------------------------------------

    def _disbursement_made(self, position: int, originator_id: str, name: str, event: DisbursementMade) -> None:
        terms = event.terms
        record = DisbursementRecord(
            originator_id,
            position,
            terms.pledge_id,
            cents(terms.amount),
            terms.method,
            _items(terms.items),
            event.effective_on,
        )
        self._disbursements[originator_id] = record  # new: the stored ones need not be decoded
        self._disbursement_fact(position, name, event, record, "disbursed", record.amount)

    def _disbursement_fact(
        self,
        position: int,
        name: str,
        event: Change,
        record: DisbursementRecord,
        column: str,
        amount: int,
        effective_on: date | None = None,
    ) -> None:
        pledge = self.pledges[record.pledge_id]
        self._fact(
            position,
            name,
            event,
            pledge,
            column,
            amount,
            year=record.value_date.year,
            effective_on=effective_on,
            disbursement_id=record.id,
        )

    def _disbursement_confirmed(self, position: int, originator_id: str, name: str, event: Change) -> None:
        record = self.disbursements[originator_id]
        record.confirmed = True
        record.confirmed_on = event.effective_on
        self._disbursement_fact(position, name, event, record, "confirmed", record.amount)

    def _disbursement_reversed(self, position: int, originator_id: str, name: str, event: Change) -> None:
        record = self.disbursements[originator_id]
        record.reversed = True
        # A reversal says the disbursement never happened: as best known now, it takes back the
        # disbursement from its own value date, and the confirmation from its own date, so no
        # effective-on date between them shows a negative figure.
        self._disbursement_fact(position, name, event, record, "reversed", record.amount, record.value_date)
        if record.confirmed:  # confirmed counts only money that really arrived
            confirmed_on = record.confirmed_on or record.value_date
            self._disbursement_fact(position, name, event, record, "confirmed", -record.amount, confirmed_on)

    def _disbursement_returned(self, position: int, originator_id: str, name: str, event: Any) -> None:
        record = self.disbursements[originator_id]
        self._disbursement_fact(position, name, event, record, "returned", cents(event.amount))
