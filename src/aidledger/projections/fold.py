"""The pure fold of the event log into facts: the single source of every reported figure.

``LedgerFold.apply(position, event)`` is called for each stored event in log order. It keeps the
descriptive records that reports group by (organizations, projects, pledges, disbursements) and
appends *facts*: signed contributions of one event to one stage column of one pledge. Every
figure is a sum of facts, so every figure can be explained by the facts (and so the events) that
make it up. The fold reads events only, never aggregates.

Coordinates (:class:`AsOf`) pick which facts count: those at or before a log position, recorded
before a time, and effective on or before a date. Descriptive records are taken as they stood at
the position (organizations keep their history; pledge terms and project plans never change).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from aidledger.domain.base import LedgerEvent
from aidledger.domain.disbursement import Disbursement
from aidledger.domain.organization import Organization, OrganizationProfile
from aidledger.domain.pledge import Pledge, PledgeTerms
from aidledger.domain.project import Disclosure, Project, ProjectPlan, ProjectStatus
from aidledger.domain.values import PledgeStage

__all__ = [
    "BASE_COLUMNS",
    "AsOf",
    "BeneficiaryReport",
    "DisbursementRecord",
    "Fact",
    "LedgerFold",
    "OrganizationRecord",
    "PledgeRecord",
    "ProjectRecord",
]

BASE_COLUMNS = ("intended", "signed", "withdrawn", "disbursed", "confirmed", "reversed", "returned")
"""Columns that facts feed directly; the others are derived from these."""


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


@dataclass(frozen=True, slots=True)
class Fact:
    """One event's signed contribution to one stage column of one pledge."""

    position: int
    event: str
    pledge_id: UUID
    column: str
    amount: Decimal
    effective_on: date
    recorded_at: datetime
    year: int
    """The year a ``year`` grouping files it under: the pledge's date for pledge columns,
    the disbursement's value date for disbursement columns."""
    disbursement_id: UUID | None = None


@dataclass(slots=True)
class OrganizationRecord:
    """An organization's profile history: (position, recorded_at, profile, deregistered_on)."""

    id: UUID
    history: list[tuple[int, datetime, OrganizationProfile, date | None]] = field(default_factory=list)

    def at(self, as_of: AsOf) -> tuple[OrganizationProfile, date | None] | None:
        """The profile as it stood at the coordinates, or ``None`` before registration."""
        found = None
        for position, recorded_at, profile, deregistered_on in self.history:
            if as_of.knows(position, recorded_at):
                found = (profile, deregistered_on)
        return found


@dataclass(frozen=True, slots=True)
class BeneficiaryReport:
    """A cumulative beneficiary report; the latest one in effect stands."""

    position: int
    recorded_at: datetime
    as_of: date
    person_times: int
    households: int | None
    persons: int | None


@dataclass(slots=True)
class ProjectRecord:
    """A project's plan and what happened to it, each change with its coordinates."""

    id: UUID
    position: int
    recorded_at: datetime
    registered_on: date
    plan: ProjectPlan
    status_changes: list[tuple[int, datetime, date, ProjectStatus]] = field(default_factory=list)
    beneficiaries: list[BeneficiaryReport] = field(default_factory=list)
    disclosures: list[tuple[int, datetime, date, Disclosure]] = field(default_factory=list)

    def status_at(self, as_of: AsOf) -> tuple[ProjectStatus, dict[ProjectStatus, date]]:
        """The status at the coordinates and the date each status was reached."""
        status, dates = ProjectStatus.registered, {ProjectStatus.registered: self.registered_on}
        for position, recorded_at, effective_on, new_status in self.status_changes:
            if as_of.includes(position, recorded_at, effective_on):
                status = new_status
                dates[new_status] = effective_on
        return status, dates

    def beneficiaries_at(self, as_of: AsOf) -> BeneficiaryReport | None:
        """The latest beneficiary report in effect at the coordinates."""
        known = [r for r in self.beneficiaries if as_of.includes(r.position, r.recorded_at, r.as_of)]
        return max(known, key=lambda r: (r.as_of, r.position)) if known else None


@dataclass(slots=True)
class PledgeRecord:
    """What the fold needs to know of a pledge to turn its events into facts."""

    id: UUID
    position: int
    recorded_at: datetime
    made_on: date
    terms: PledgeTerms
    amount: Decimal
    stage: PledgeStage
    withdrawn: bool = False


@dataclass(slots=True)
class DisbursementRecord:
    """What the fold needs to know of a disbursement."""

    id: UUID
    pledge_id: UUID
    amount: Decimal
    value_date: date
    confirmed: bool = False
    reversed: bool = False
    confirmed_on: date | None = None


class LedgerFold:
    """The deterministic fold of the log: descriptive records plus facts, in log order."""

    def __init__(self) -> None:
        self.position = 0
        self.organizations: dict[UUID, OrganizationRecord] = {}
        self.projects: dict[UUID, ProjectRecord] = {}
        self.pledges: dict[UUID, PledgeRecord] = {}
        self.disbursements: dict[UUID, DisbursementRecord] = {}
        self.facts: list[Fact] = []
        self.beneficiary_log: list[UUID] = []
        """Projects in the order their beneficiary reports were folded (for running totals)."""
        self.events_seen = 0
        self._running: Any = None
        self.root_of: Any = None
        """Gives the Merkle root at a position, when a ledger is behind the fold (see report.py)."""

    def apply_all(self, events: Iterable[tuple[int, LedgerEvent]]) -> None:
        """Fold events in log order."""
        for position, event in events:
            self.apply(position, event)

    def apply(self, position: int, event: LedgerEvent) -> None:
        """Fold one event; positions must increase."""
        assert position > self.position, (position, self.position)
        handler = _HANDLERS.get(type(event).__qualname__)
        if handler is not None:
            handler(self, position, event)
        self.position = position
        self.events_seen += 1

    # -- organizations and projects -----------------------------------------------------------

    def _organization(self, position: int, event: Any) -> None:
        record = self.organizations.setdefault(event.originator_id, OrganizationRecord(event.originator_id))
        previous = record.history[-1] if record.history else None
        profile = getattr(event, "profile", None) or (previous[2] if previous else None)
        assert profile is not None
        deregistered_on = event.effective_on if isinstance(event, Organization.Deregistered) else None
        if deregistered_on is None and previous is not None:
            deregistered_on = previous[3]
        record.history.append((position, event.timestamp, profile, deregistered_on))

    def _project_registered(self, position: int, event: Any) -> None:
        self.projects[event.originator_id] = ProjectRecord(
            id=event.originator_id,
            position=position,
            recorded_at=event.timestamp,
            registered_on=event.effective_on,
            plan=event.plan,
        )

    def _project_status(self, position: int, event: Any) -> None:
        status = {
            "Project.Started": ProjectStatus.started,
            "Project.Completed": ProjectStatus.completed,
            "Project.Cancelled": ProjectStatus.cancelled,
        }[type(event).__qualname__]
        record = self.projects[event.originator_id]
        record.status_changes.append((position, event.timestamp, event.effective_on, status))

    def _beneficiaries(self, position: int, event: Any) -> None:
        self.projects[event.originator_id].beneficiaries.append(
            BeneficiaryReport(
                position=position,
                recorded_at=event.timestamp,
                as_of=event.effective_on,
                person_times=event.person_times,
                households=event.households,
                persons=event.persons,
            )
        )
        self.beneficiary_log.append(event.originator_id)

    @property
    def running(self) -> Any:
        """The running grand totals, caught up with this fold (see :mod:`.running`)."""
        from aidledger.projections.running import RunningTotals

        if self._running is None:
            self._running = RunningTotals()
        self._running.catch_up(self)
        return self._running

    def _disclosed(self, position: int, event: Any) -> None:
        record = self.projects[event.originator_id]
        record.disclosures.append((position, event.timestamp, event.effective_on, event.disclosure))

    # -- pledges ------------------------------------------------------------------------------

    def _fact(
        self, position: int, event: Any, pledge: PledgeRecord, column: str, amount: Decimal, **extra: Any
    ) -> None:
        year = extra.pop("year", pledge.made_on.year)
        effective_on = extra.pop("effective_on", event.effective_on)
        self.facts.append(
            Fact(
                position=position,
                event=type(event).__qualname__,
                pledge_id=pledge.id,
                column=column,
                amount=amount,
                effective_on=effective_on,
                recorded_at=event.timestamp,
                year=year,
                **extra,
            )
        )

    def _pledge_made(self, position: int, event: Any) -> None:
        terms: PledgeTerms = event.terms
        pledge = PledgeRecord(
            id=event.originator_id,
            position=position,
            recorded_at=event.timestamp,
            made_on=event.effective_on,
            terms=terms,
            amount=terms.amount.value,
            stage=event.stage,
        )
        self.pledges[pledge.id] = pledge
        self._fact(position, event, pledge, pledge.stage.value, pledge.amount)

    def _pledge_signed(self, position: int, event: Any) -> None:
        pledge = self.pledges[event.originator_id]
        self._fact(position, event, pledge, "intended", -pledge.amount)
        self._fact(position, event, pledge, "signed", pledge.amount)
        pledge.stage = PledgeStage.signed

    def _pledge_amended(self, position: int, event: Any) -> None:
        pledge = self.pledges[event.originator_id]
        change = event.amount.value - pledge.amount
        if change:
            self._fact(position, event, pledge, pledge.stage.value, change)
        pledge.amount = event.amount.value

    def _pledge_withdrawn(self, position: int, event: Any) -> None:
        pledge = self.pledges[event.originator_id]
        self._fact(position, event, pledge, pledge.stage.value, -pledge.amount)
        self._fact(position, event, pledge, "withdrawn", pledge.amount)
        pledge.withdrawn = True

    # -- disbursements ------------------------------------------------------------------------

    def _disbursement_made(self, position: int, event: Any) -> None:
        terms = event.terms
        record = DisbursementRecord(
            id=event.originator_id, pledge_id=terms.pledge_id, amount=terms.amount.value, value_date=event.effective_on
        )
        self.disbursements[record.id] = record
        self._disbursement_fact(position, event, record, "disbursed", record.amount)

    def _disbursement_fact(
        self, position: int, event: Any, record: DisbursementRecord, column: str, amount: Decimal, **extra: Any
    ) -> None:
        pledge = self.pledges[record.pledge_id]
        self._fact(
            position, event, pledge, column, amount, year=record.value_date.year, disbursement_id=record.id, **extra
        )

    def _disbursement_confirmed(self, position: int, event: Any) -> None:
        record = self.disbursements[event.originator_id]
        record.confirmed = True
        record.confirmed_on = event.effective_on
        self._disbursement_fact(position, event, record, "confirmed", record.amount)

    def _disbursement_reversed(self, position: int, event: Any) -> None:
        record = self.disbursements[event.originator_id]
        record.reversed = True
        # A reversal says the disbursement never happened: as best known now, it takes back the
        # disbursement from its own value date, and the confirmation from its own date, so no
        # effective-on date between them shows a negative figure.
        self._disbursement_fact(position, event, record, "reversed", record.amount, effective_on=record.value_date)
        if record.confirmed:  # confirmed counts only money that really arrived
            confirmed_on = record.confirmed_on or record.value_date
            self._disbursement_fact(position, event, record, "confirmed", -record.amount, effective_on=confirmed_on)

    def _disbursement_returned(self, position: int, event: Any) -> None:
        record = self.disbursements[event.originator_id]
        self._disbursement_fact(position, event, record, "returned", event.amount.value)


_HANDLERS: dict[str, Any] = {
    "Organization.Registered": LedgerFold._organization,
    "Organization.Updated": LedgerFold._organization,
    "Organization.Deregistered": LedgerFold._organization,
    "Project.Registered": LedgerFold._project_registered,
    "Project.Started": LedgerFold._project_status,
    "Project.Completed": LedgerFold._project_status,
    "Project.Cancelled": LedgerFold._project_status,
    "Project.BeneficiariesReported": LedgerFold._beneficiaries,
    "Project.Disclosed": LedgerFold._disclosed,
    "Pledge.Made": LedgerFold._pledge_made,
    "Pledge.Signed": LedgerFold._pledge_signed,
    "Pledge.Amended": LedgerFold._pledge_amended,
    "Pledge.Withdrawn": LedgerFold._pledge_withdrawn,
    "Disbursement.Made": LedgerFold._disbursement_made,
    "Disbursement.Confirmed": LedgerFold._disbursement_confirmed,
    "Disbursement.Reversed": LedgerFold._disbursement_reversed,
    "Disbursement.Returned": LedgerFold._disbursement_returned,
}
"""Events that change figures or descriptions. The pledge's own twins of disbursement events
(``Pledge.Disbursed`` …) and ``Pledge.RegrantAllocated`` carry no new figure: the disbursement
events are counted once, from the Disbursement aggregate."""

# Keep the handler table honest: every key names an event class that exists.
for _name in _HANDLERS:
    _owner, _event = _name.split(".")
    assert hasattr(
        {"Organization": Organization, "Project": Project, "Pledge": Pledge, "Disbursement": Disbursement}[_owner],
        _event,
    ), _name
