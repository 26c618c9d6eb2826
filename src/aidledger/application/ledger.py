"""The application: command methods, query methods, and the one way commands are stored.

Every command method builds its command model, decides it in a session of its own (see
:mod:`aidledger.application.pipeline`) and saves it; an import decides many commands in one session
and saves them in bounded batches. Saving writes the events, their commands-index rows and the
derived state (through the follower the ledger was given) in one transaction. No SQL and no printing
here: the store is handed in by ``aidledger.open()``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import InfrastructureFactory, IntegrityError, Notification, Recording, StoredEvent
from eventsourcing.utils import Environment, EnvType

from aidledger.application.commands import (
    AmendPledge,
    CancelProject,
    Command,
    CompleteProject,
    ConfirmDisbursement,
    DeregisterOrganization,
    Disburse,
    MakePledge,
    RecordDisclosure,
    RegisterOrganization,
    RegisterProject,
    ReportBeneficiaries,
    ReturnDisbursement,
    ReverseDisbursement,
    SignPledge,
    StartProject,
    UpdateOrganization,
    WithdrawPledge,
    build_command,
    check_label,
)
from aidledger.application.mapper import LedgerMapper, event_of_row
from aidledger.application.pipeline import Decided, DecisionSession, Repeated
from aidledger.application.ports import CommandEntry, Follower, Store
from aidledger.application.views import DisbursementView, OrganizationView, PledgeView, ProjectView, Receipt
from aidledger.domain.base import LedgerAggregate, LedgerEvent
from aidledger.domain.disbursement import Disbursement
from aidledger.domain.organization import Organization
from aidledger.domain.pledge import Pledge
from aidledger.domain.project import Project
from aidledger.errors import ConcurrencyConflict, InvalidInput, NotFound

__all__ = ["MAX_ATTEMPTS", "AidLedger"]

MAX_ATTEMPTS = 8
"""How often a command is tried when concurrent writers keep changing its aggregates."""

TAggregate = TypeVar("TAggregate", bound=LedgerAggregate)
TCommand = TypeVar("TCommand", bound=Command)


class AidLedger(Application[UUID]):
    """The ledger of pledges, disbursements, projects and organizations.

    Open one with :func:`aidledger.open`. Command methods take a command model or keyword
    arguments and return a :class:`Receipt`; query methods return views.
    """

    name = "aidledger"

    def __init__(
        self,
        store: Store,
        *,
        follower: Follower | None = None,
        recorded_by: str | None = None,
        allow_disbursing_intended: bool = False,
    ) -> None:
        if recorded_by is not None and (not isinstance(recorded_by, str) or not 1 <= len(recorded_by) <= 200):
            raise InvalidInput("recorded_by", recorded_by, "1 to 200 characters naming who records")
        if recorded_by is not None:
            check_label("recorded_by", recorded_by)
        self.store = store
        self.follower = follower
        """Keeps the derived state (the projections' fold) current as events are stored."""
        super().__init__()
        self.default_recorded_by = recorded_by
        self.allow_disbursing_intended = allow_disbursing_intended

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """No settings from the process environment: the store was chosen by ``aidledger.open``."""
        return Environment(name, {})

    def construct_factory(self, env: Environment) -> InfrastructureFactory[Any]:
        """The store's own infrastructure (its database connections)."""
        return self.store.factory

    def construct_recorder(self) -> Any:
        """The store's recorder: events are read through it."""
        return self.store.recorder

    def construct_mapper(self) -> LedgerMapper:
        """Pydantic events to canonical JSON."""
        return LedgerMapper()

    def __enter__(self) -> AidLedger:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the ledger and its database connections; every use after this raises ``LedgerClosed``
        (closing again does nothing)."""
        if self.store.closed:
            return
        try:
            if self.follower is not None:
                self.follower.close()
        finally:
            super().close()
            self.store.close()

    # -- the pipeline -------------------------------------------------------------------------

    def session(self) -> DecisionSession:
        """A new decision session (unit of work) on the ledger as stored now."""
        return DecisionSession(
            self.repository.get,
            self.store.select_commands,
            self.mapper,
            organization_rows=self.store.organization_rows,
            pledge_rows=self.store.pledge_rows,
            allow_disbursing_intended=self.allow_disbursing_intended,
        )

    def command(self, command_class: type[TCommand], given: TCommand | None, fields: dict[str, Any]) -> TCommand:
        """A validated command from a model or keyword fields, with its id and recorder filled in."""
        return build_command(command_class, given, fields, recorded_by=self.default_recorded_by)

    def run(self, command: Command) -> Receipt:
        """Decide one command and store it; a repeat returns the first receipt and stores nothing."""
        for _ in range(MAX_ATTEMPTS):
            outcome = self.session().decide(command)
            if isinstance(outcome, Repeated):
                assert outcome.receipt is not None
                return outcome.receipt
            try:
                return self.save_decided([outcome])[0]
            except IntegrityError:
                continue  # another writer changed one of its aggregates, or ran the command, first
        msg = f"command {command.command_id} ({command.command_name}) kept conflicting with concurrent writers"
        raise ConcurrencyConflict(msg)

    def save(self, *objs: Any, **_: Any) -> list[Recording[UUID]]:
        """Store aggregates' pending events, as ``eventsourcing``'s ``Application.save`` does, through
        the ledger's store (derived state included); no command is indexed. Commands go through
        :meth:`run` instead."""
        events = [event for obj in objs if obj is not None for event in obj.collect_events()]
        stored = [self.mapper.to_stored_event(event) for event in events]
        positions = self.store_batch([], stored)
        return [
            Recording(
                event,
                Notification(
                    id=position,
                    originator_id=s.originator_id,
                    originator_version=s.originator_version,
                    topic=s.topic,
                    state=s.state,
                ),
            )
            for position, event, s in zip(positions, events, stored, strict=True)
        ]

    def save_decided(self, decided: Sequence[Decided]) -> list[Receipt]:
        """Store decided commands, their index rows and the derived state in one transaction.

        Raises ``eventsourcing``'s ``IntegrityError`` (and stores nothing) when another writer
        stored one of the same aggregate versions or command ids first.
        """
        events: list[StoredEvent] = [event for decision in decided for event in decision.events]
        entries = [
            CommandEntry(
                command_id=str(decision.command.command_id),
                name=decision.command.command_name,
                digest=decision.digest,
                aggregate_id=str(decision.aggregate_id),
                events=len(decision.events),
            )
            for decision in decided
        ]
        positions = self.store_batch(entries, events)
        receipts = []
        start = 0
        for decision in decided:
            end = start + len(decision.events)
            receipts.append(
                Receipt(
                    command_id=str(decision.command.command_id),
                    command=decision.command.command_name,
                    aggregate_id=decision.aggregate_id,
                    positions=tuple(positions[start:end]),
                    warnings=decision.command.warnings(),
                )
            )
            start = end
        return receipts

    def store_batch(self, entries: Sequence[CommandEntry], events: Sequence[StoredEvent]) -> list[int]:
        """Store decided commands (each the owner of the next ``entry.events`` events) and the derived
        state in one transaction; returns the events' log positions."""
        return self.store.append(events, entries, self.follower)

    def _run(self, command_class: type[TCommand], given: TCommand | None, fields: dict[str, Any]) -> Receipt:
        return self.run(self.command(command_class, given, fields))

    # -- commands -----------------------------------------------------------------------------

    def register_organization(self, command: RegisterOrganization | None = None, /, **fields: Any) -> Receipt:
        """Register an organization; its id is derived from the command id."""
        return self._run(RegisterOrganization, command, fields)

    def update_organization(self, command: UpdateOrganization | None = None, /, **fields: Any) -> Receipt:
        """Change some of an organization's profile."""
        return self._run(UpdateOrganization, command, fields)

    def deregister_organization(self, command: DeregisterOrganization | None = None, /, **fields: Any) -> Receipt:
        """Deregister an organization."""
        return self._run(DeregisterOrganization, command, fields)

    def register_project(self, command: RegisterProject | None = None, /, **fields: Any) -> Receipt:
        """Register a project implemented by an active organization."""
        return self._run(RegisterProject, command, fields)

    def start_project(self, command: StartProject | None = None, /, **fields: Any) -> Receipt:
        """Record that work on a project began."""
        return self._run(StartProject, command, fields)

    def report_beneficiaries(self, command: ReportBeneficiaries | None = None, /, **fields: Any) -> Receipt:
        """Report cumulative beneficiaries of a project as of a date."""
        return self._run(ReportBeneficiaries, command, fields)

    def record_disclosure(self, command: RecordDisclosure | None = None, /, **fields: Any) -> Receipt:
        """Record a published progress or final report."""
        return self._run(RecordDisclosure, command, fields)

    def complete_project(self, command: CompleteProject | None = None, /, **fields: Any) -> Receipt:
        """Record that a project ended."""
        return self._run(CompleteProject, command, fields)

    def cancel_project(self, command: CancelProject | None = None, /, **fields: Any) -> Receipt:
        """Call a project off."""
        return self._run(CancelProject, command, fields)

    def make_pledge(self, command: MakePledge | None = None, /, **fields: Any) -> Receipt:
        """Record a pledge; a regrant (``funded_from``) also draws on its source pledge."""
        return self._run(MakePledge, command, fields)

    def sign_pledge(self, command: SignPledge | None = None, /, **fields: Any) -> Receipt:
        """Turn an intended pledge into a signed one."""
        return self._run(SignPledge, command, fields)

    def amend_pledge(self, command: AmendPledge | None = None, /, **fields: Any) -> Receipt:
        """Change a pledge's amount; an increase is a new commitment and is checked as one."""
        return self._run(AmendPledge, command, fields)

    def withdraw_pledge(self, command: WithdrawPledge | None = None, /, **fields: Any) -> Receipt:
        """Withdraw a pledge nothing was disbursed against; a regrant frees its pool money."""
        return self._run(WithdrawPledge, command, fields)

    def disburse(self, command: Disburse | None = None, /, **fields: Any) -> Receipt:
        """Record money or goods handed over against a pledge."""
        return self._run(Disburse, command, fields)

    def confirm_disbursement(self, command: ConfirmDisbursement | None = None, /, **fields: Any) -> Receipt:
        """Record the recipient's confirmation of receipt."""
        return self._run(ConfirmDisbursement, command, fields)

    def reverse_disbursement(self, command: ReverseDisbursement | None = None, /, **fields: Any) -> Receipt:
        """Record that a disbursement was an error and never happened."""
        return self._run(ReverseDisbursement, command, fields)

    def return_disbursement(self, command: ReturnDisbursement | None = None, /, **fields: Any) -> Receipt:
        """Record money or goods given back against a disbursement."""
        return self._run(ReturnDisbursement, command, fields)

    # -- queries ------------------------------------------------------------------------------

    def _load(self, aggregate_class: type[TAggregate], aggregate_id: UUID, what: str) -> TAggregate:
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"{what} {aggregate_id} does not exist") from None
        if not isinstance(aggregate, aggregate_class):
            kind = type(aggregate).__name__.lower()
            msg = f"{what} {aggregate_id} does not exist (that id is {'an' if kind[0] in 'aeiou' else 'a'} {kind})"
            raise NotFound(msg)
        return aggregate

    def organization(self, organization_id: UUID | str) -> OrganizationView:
        """The organization as it stands now."""
        return OrganizationView.of(self._load(Organization, _as_uuid(organization_id), "organization"))

    def project(self, project_id: UUID | str) -> ProjectView:
        """The project as it stands now."""
        return ProjectView.of(self._load(Project, _as_uuid(project_id), "project"))

    def pledge(self, pledge_id: UUID | str) -> PledgeView:
        """The pledge with its net disbursed and outstanding amounts."""
        return PledgeView.of(self._load(Pledge, _as_uuid(pledge_id), "pledge"))

    def disbursement(self, disbursement_id: UUID | str) -> DisbursementView:
        """The disbursement and what became of it."""
        return DisbursementView.of(self._load(Disbursement, _as_uuid(disbursement_id), "disbursement"))

    def kind_of(self, object_id: UUID) -> str | None:
        """What the object ``object_id`` is (``organization``, ``project``, ``pledge``,
        ``disbursement``), or ``None`` when the ledger holds no such object."""
        for row in self.store.read_aggregate_rows(str(object_id)):
            return str(row.topic).rsplit(":", 1)[-1].split(".")[0].lower()
        return None

    def created_by(self, object_id: UUID) -> str | None:
        """The command id of the command that created the object ``object_id`` — what a record
        names it by, since the object's id is derived from it — or ``None`` when the ledger holds
        no such object. Read from the object's first event (its envelope keeps the command id)."""
        for row in self.store.read_aggregate_rows(str(object_id)):
            event = event_of_row(self.mapper, row)
            assert isinstance(event, LedgerEvent)
            return event.command_id
        return None

    def position(self) -> int:
        """The log position of the newest event (0 for an empty ledger)."""
        return self.store.max_position()

    def read_log(self, start: int = 1, stop: int | None = None) -> Iterator[tuple[int, LedgerEvent]]:
        """The stored events in log order, as events, with their positions, from ``start`` to ``stop``."""
        for row in self.store.read_rows(start, stop):
            event = event_of_row(self.mapper, row)
            assert isinstance(event, LedgerEvent)
            yield row.position, event


def _as_uuid(value: UUID | str) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInput("id", value, "a UUID such as '6f0c2a4e-1d3b-5c8e-9a47-2b1e0d6c4f18'") from None
