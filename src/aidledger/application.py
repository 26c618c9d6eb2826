"""The application: command methods that check references and rules, and query methods.

Every command is idempotent by its ``command_id``, stores all the aggregates it changes in one
atomic ``save``, and is retried a bounded number of times when a concurrent writer changed one of
those aggregates first. No SQL and no printing here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import Environment, EnvType
from pydantic import ValidationError

from aidledger.commands import (
    COMMAND_TIME,
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
    invalid_input_from,
)
from aidledger.domain.base import LedgerAggregate, LedgerEvent, derive_id
from aidledger.domain.disbursement import Disbursement
from aidledger.domain.organization import Organization, OrganizationProfile
from aidledger.domain.pledge import Pledge
from aidledger.domain.project import Project
from aidledger.errors import ConcurrencyConflict, IdempotencyConflict, NotAPooledFund, NotFound, ProjectClosed
from aidledger.persistence import CommandRecord, LedgerMapper, LedgerRecorder, environment_for
from aidledger.views import DisbursementView, OrganizationView, PledgeView, ProjectView, Receipt

__all__ = ["AidLedger", "open_ledger"]

MAX_ATTEMPTS = 8
"""How often a command is tried when concurrent writers keep changing its aggregates."""

TAggregate = TypeVar("TAggregate", bound=LedgerAggregate)
TCommand = TypeVar("TCommand", bound=Command)
Decision = tuple[UUID, list[LedgerAggregate]]


class AidLedger(Application[UUID]):
    """The ledger of pledges, disbursements, projects and organizations.

    Open one with :func:`aidledger.open`. Command methods take a command model or keyword
    arguments and return a :class:`Receipt`; query methods return views.
    """

    name = "aidledger"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        recorded_by: str | None = None,
        allow_disbursing_intended: bool = False,
    ) -> None:
        super().__init__(env)
        self.default_recorded_by = recorded_by
        self.allow_disbursing_intended = allow_disbursing_intended

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the settings ``aidledger.open`` gave: the process environment must not redirect
        a ledger to another database (eventsourcing would read e.g. ``AIDLEDGER_SQLITE_DBNAME``)."""
        return Environment(name, dict(env or {}))

    def construct_mapper(self) -> LedgerMapper:
        """Pydantic events to canonical JSON."""
        return LedgerMapper()

    def __enter__(self) -> AidLedger:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    @property
    def ledger_recorder(self) -> LedgerRecorder:
        """The recorder, with its commands index."""
        recorder = self.recorder
        assert hasattr(recorder, "select_command"), type(recorder)
        return recorder

    # -- running commands ---------------------------------------------------------------------

    def _command(self, command_class: type[TCommand], given: TCommand | None, fields: dict[str, Any]) -> TCommand:
        return build_command(command_class, given, fields, recorded_by=self.default_recorded_by)

    def _execute(self, command: Command, decide: Callable[[], Decision]) -> Receipt:
        """Run ``decide`` and store what it changed, once per command id."""
        assert command.command_id is not None
        digest = command.digest()
        for _ in range(MAX_ATTEMPTS):
            stored = self.ledger_recorder.select_command(command.command_id)
            if stored is not None:
                return self._repeat(command, digest, stored)
            token = COMMAND_TIME.set(datetime.now(UTC))
            try:
                aggregate_id, aggregates = decide()
            finally:
                COMMAND_TIME.reset(token)
            record = CommandRecord(command.command_id, command.command_name, digest, str(aggregate_id), ())
            try:
                recordings = self.save(*aggregates, command=record)
            except IntegrityError:
                continue  # another writer got there first: look again
            positions = tuple(recording.notification.id for recording in recordings)
            return Receipt(
                command_id=command.command_id,
                command=command.command_name,
                aggregate_id=aggregate_id,
                positions=positions,
            )
        msg = f"command {command.command_id} ({command.command_name}) kept conflicting with concurrent writers"
        raise ConcurrencyConflict(msg)

    @staticmethod
    def _repeat(command: Command, digest: str, stored: CommandRecord) -> Receipt:
        if stored.name != command.command_name or stored.digest != digest:
            msg = (
                f"command id {command.command_id!r} was already used for a different "
                f"{stored.name} command; reuse a command id only to repeat the same command"
            )
            raise IdempotencyConflict(msg)
        return Receipt(
            command_id=stored.command_id,
            command=stored.name,
            aggregate_id=UUID(stored.aggregate_id),
            positions=stored.positions,
        )

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

    # -- organizations ------------------------------------------------------------------------

    def register_organization(self, command: RegisterOrganization | None = None, /, **fields: Any) -> Receipt:
        """Register an organization; its id is derived from the command id."""
        cmd = self._command(RegisterOrganization, command, fields)

        def decide() -> Decision:
            organization_id = derive_id("organization", str(cmd.command_id))
            return organization_id, [Organization.register(organization_id, cmd.profile(), cmd.envelope())]

        return self._execute(cmd, decide)

    def update_organization(self, command: UpdateOrganization | None = None, /, **fields: Any) -> Receipt:
        """Change some of an organization's profile."""
        cmd = self._command(UpdateOrganization, command, fields)

        def decide() -> Decision:
            organization = self._load(Organization, cmd.organization_id, "organization")
            try:
                profile = OrganizationProfile.model_validate(organization.profile.model_dump() | cmd.changes())
            except ValidationError as error:
                raise invalid_input_from(error, "UpdateOrganization") from None
            organization.update(profile, cmd.envelope())
            return organization.id, [organization]

        return self._execute(cmd, decide)

    def deregister_organization(self, command: DeregisterOrganization | None = None, /, **fields: Any) -> Receipt:
        """Deregister an organization."""
        cmd = self._command(DeregisterOrganization, command, fields)

        def decide() -> Decision:
            organization = self._load(Organization, cmd.organization_id, "organization")
            organization.deregister(cmd.reason, cmd.envelope())
            return organization.id, [organization]

        return self._execute(cmd, decide)

    # -- projects -----------------------------------------------------------------------------

    def register_project(self, command: RegisterProject | None = None, /, **fields: Any) -> Receipt:
        """Register a project implemented by an active organization."""
        cmd = self._command(RegisterProject, command, fields)

        def decide() -> Decision:
            implementer = self._load(Organization, cmd.implementing_organization_id, "implementing organization")
            implementer.check_active()
            project_id = derive_id("project", str(cmd.command_id))
            return project_id, [Project.register(project_id, cmd.plan(), cmd.envelope())]

        return self._execute(cmd, decide)

    def _change_project(self, cmd: Command, project_id: UUID, change: Callable[[Project], None]) -> Receipt:
        def decide() -> Decision:
            project = self._load(Project, project_id, "project")
            change(project)
            return project.id, [project]

        return self._execute(cmd, decide)

    def start_project(self, command: StartProject | None = None, /, **fields: Any) -> Receipt:
        """Record that work on a project began."""
        cmd = self._command(StartProject, command, fields)
        return self._change_project(cmd, cmd.project_id, lambda project: project.start(cmd.envelope()))

    def report_beneficiaries(self, command: ReportBeneficiaries | None = None, /, **fields: Any) -> Receipt:
        """Report cumulative beneficiaries of a project as of a date."""
        cmd = self._command(ReportBeneficiaries, command, fields)
        return self._change_project(
            cmd,
            cmd.project_id,
            lambda project: project.report_beneficiaries(cmd.person_times, cmd.households, cmd.persons, cmd.envelope()),
        )

    def record_disclosure(self, command: RecordDisclosure | None = None, /, **fields: Any) -> Receipt:
        """Record a published progress or final report."""
        cmd = self._command(RecordDisclosure, command, fields)
        return self._change_project(
            cmd, cmd.project_id, lambda project: project.disclose(cmd.disclosure(), cmd.envelope())
        )

    def complete_project(self, command: CompleteProject | None = None, /, **fields: Any) -> Receipt:
        """Record that a project ended."""
        cmd = self._command(CompleteProject, command, fields)
        return self._change_project(cmd, cmd.project_id, lambda project: project.complete(cmd.envelope()))

    def cancel_project(self, command: CancelProject | None = None, /, **fields: Any) -> Receipt:
        """Call a project off."""
        cmd = self._command(CancelProject, command, fields)
        return self._change_project(cmd, cmd.project_id, lambda project: project.cancel(cmd.reason, cmd.envelope()))

    # -- pledges ------------------------------------------------------------------------------

    def make_pledge(self, command: MakePledge | None = None, /, **fields: Any) -> Receipt:
        """Record a pledge; a regrant (``funded_from``) also draws on its source pledge."""
        cmd = self._command(MakePledge, command, fields)

        def decide() -> Decision:
            terms = cmd.terms()
            self._load(Organization, terms.donor_id, "donor organization").check_active()
            self._load(Project, terms.project_id, "project").check_open()
            if terms.channel_id is not None:
                self._load(Organization, terms.channel_id, "channel organization").check_active()
            pledge_id = derive_id("pledge", str(cmd.command_id))
            changed: list[LedgerAggregate] = []
            if terms.funded_from is not None:
                source = self._regrant_source(terms.funded_from, terms.project_id)
                source.check_currency(terms.amount, "the regrant")
                source.allocate_regrant(pledge_id, terms.amount.value, cmd.envelope())
                changed.append(source)
            pledge = Pledge.make(pledge_id, terms, cmd.stage, cmd.envelope())
            return pledge_id, [pledge, *changed]

        return self._execute(cmd, decide)

    def _regrant_source(self, source_id: UUID, target_project_id: UUID) -> Pledge:
        source = self._load(Pledge, source_id, "funded_from pledge")
        source.check_not_withdrawn()
        pool = self._load(Project, source.terms.project_id, "project")
        if not pool.plan.pooled_fund:
            msg = f"funded_from: pledge {source_id} is to project {pool.id}, which is not a pooled fund"
            raise NotAPooledFund(msg)
        if pool.id == target_project_id:
            msg = f"funded_from: a regrant from pooled fund {pool.id} must go to another project"
            raise NotAPooledFund(msg)
        return source

    def sign_pledge(self, command: SignPledge | None = None, /, **fields: Any) -> Receipt:
        """Turn an intended pledge into a signed one."""
        cmd = self._command(SignPledge, command, fields)

        def decide() -> Decision:
            pledge = self._load(Pledge, cmd.pledge_id, "pledge")
            self._load(Organization, pledge.terms.donor_id, "donor organization").check_active()
            self._load(Project, pledge.terms.project_id, "project").check_open()
            pledge.sign(cmd.envelope())
            return pledge.id, [pledge]

        return self._execute(cmd, decide)

    def amend_pledge(self, command: AmendPledge | None = None, /, **fields: Any) -> Receipt:
        """Change a pledge's amount; an increase is a new commitment and is checked as one."""
        cmd = self._command(AmendPledge, command, fields)

        def decide() -> Decision:
            pledge = self._load(Pledge, cmd.pledge_id, "pledge")
            if cmd.amount.value > pledge.amount.value:
                self._load(Organization, pledge.terms.donor_id, "donor organization").check_active()
                self._load(Project, pledge.terms.project_id, "project").check_open()
            pledge.amend(cmd.amount, cmd.reason, cmd.envelope())
            return pledge.id, [pledge, *self._reallocate(pledge, cmd.amount.value, cmd)]

        return self._execute(cmd, decide)

    def _reallocate(self, pledge: Pledge, amount: Decimal, cmd: Command) -> list[LedgerAggregate]:
        if pledge.terms.funded_from is None:
            return []
        source = self._load(Pledge, pledge.terms.funded_from, "funded_from pledge")
        source.allocate_regrant(pledge.id, amount, cmd.envelope())
        return [source]

    def withdraw_pledge(self, command: WithdrawPledge | None = None, /, **fields: Any) -> Receipt:
        """Withdraw a pledge nothing was disbursed against; a regrant frees its pool money."""
        cmd = self._command(WithdrawPledge, command, fields)

        def decide() -> Decision:
            pledge = self._load(Pledge, cmd.pledge_id, "pledge")
            pledge.withdraw(cmd.reason, cmd.envelope())
            return pledge.id, [pledge, *self._reallocate(pledge, Decimal("0.00"), cmd)]

        return self._execute(cmd, decide)

    # -- disbursements ------------------------------------------------------------------------

    def disburse(self, command: Disburse | None = None, /, **fields: Any) -> Receipt:
        """Record money or goods handed over against a pledge."""
        cmd = self._command(Disburse, command, fields)

        def decide() -> Decision:
            terms = cmd.terms()
            pledge = self._load(Pledge, terms.pledge_id, "pledge")
            project = self._load(Project, pledge.terms.project_id, "project")
            if project.status.value == "cancelled":
                raise ProjectClosed(
                    f"project {project.id} ({project.plan.title}) is cancelled; nothing is disbursed to it"
                )
            disbursement_id = derive_id("disbursement", str(cmd.command_id))
            pledge.record_disbursement(
                disbursement_id, terms.amount, cmd.envelope(), allow_intended=self.allow_disbursing_intended
            )
            disbursement = Disbursement.make(disbursement_id, terms, cmd.envelope())
            return disbursement_id, [disbursement, pledge]

        return self._execute(cmd, decide)

    def confirm_disbursement(self, command: ConfirmDisbursement | None = None, /, **fields: Any) -> Receipt:
        """Record the recipient's confirmation of receipt."""
        cmd = self._command(ConfirmDisbursement, command, fields)

        def decide() -> Decision:
            disbursement = self._load(Disbursement, cmd.disbursement_id, "disbursement")
            disbursement.confirm(cmd.envelope())
            return disbursement.id, [disbursement]

        return self._execute(cmd, decide)

    def reverse_disbursement(self, command: ReverseDisbursement | None = None, /, **fields: Any) -> Receipt:
        """Record that a disbursement was an error and never happened."""
        cmd = self._command(ReverseDisbursement, command, fields)

        def decide() -> Decision:
            disbursement = self._load(Disbursement, cmd.disbursement_id, "disbursement")
            pledge = self._load(Pledge, disbursement.terms.pledge_id, "pledge")
            disbursement.reverse(cmd.reason, cmd.envelope())
            pledge.record_reversal(disbursement.id, cmd.envelope())
            return disbursement.id, [disbursement, pledge]

        return self._execute(cmd, decide)

    def return_disbursement(self, command: ReturnDisbursement | None = None, /, **fields: Any) -> Receipt:
        """Record money or goods given back against a disbursement."""
        cmd = self._command(ReturnDisbursement, command, fields)

        def decide() -> Decision:
            disbursement = self._load(Disbursement, cmd.disbursement_id, "disbursement")
            pledge = self._load(Pledge, disbursement.terms.pledge_id, "pledge")
            pledge.check_currency(cmd.amount, "the returned amount")
            disbursement.give_back(cmd.amount, cmd.reason, cmd.envelope())
            pledge.record_return(disbursement.id, cmd.amount, cmd.envelope())
            return disbursement.id, [disbursement, pledge]

        return self._execute(cmd, decide)

    # -- queries ------------------------------------------------------------------------------

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

    def position(self) -> int:
        """The log position of the newest event (0 for an empty ledger)."""
        return int(self.recorder.max_notification_id() or 0)

    def read_log(
        self, start: int = 1, stop: int | None = None, *, batch: int = 1000
    ) -> Iterator[tuple[int, LedgerEvent]]:
        """The stored events in log order, with their positions, from ``start`` to ``stop``."""
        next_start = start
        while True:
            notifications = self.recorder.select_notifications(next_start, batch, stop=stop)
            for notification in notifications:
                event = self.mapper.to_domain_event(notification)
                assert isinstance(event, LedgerEvent)
                yield notification.id, event
            if len(notifications) < batch:
                return
            next_start = notifications[-1].id + 1


def _as_uuid(value: UUID | str) -> UUID:
    if isinstance(value, UUID):
        return value
    from aidledger.errors import InvalidInput

    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInput("id", value, "a UUID such as '6f0c2a4e-1d3b-5c8e-9a47-2b1e0d6c4f18'") from None


def open_ledger(
    db: str | Path = ":memory:", *, recorded_by: str | None = None, allow_disbursing_intended: bool = False
) -> AidLedger:
    """Open a ledger on an SQLite file path (created when missing), ``":memory:"``, or a
    ``postgresql://`` URL (with the ``postgres`` extra installed)."""
    return AidLedger(environment_for(db), recorded_by=recorded_by, allow_disbursing_intended=allow_disbursing_intended)
