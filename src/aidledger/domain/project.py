"""Project: an aid project in one recipient region, or a pooled fund held by an intermediary."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from pydantic import Field, model_validator

from aidledger.domain.base import Envelope, LedgerAggregate
from aidledger.domain.values import (
    Campaign,
    Category,
    DisclosureKind,
    Field_,
    FrozenModel,
    Label,
    Money,
    Name,
    Reason,
    RegionCode,
    WebAddress,
)
from aidledger.errors import InvalidTransition, ProjectClosed

__all__ = ["Disclosure", "Project", "ProjectPlan", "ProjectStatus"]


class ProjectStatus(StrEnum):
    """Where a project is in its life."""

    registered = "registered"
    started = "started"
    completed = "completed"
    cancelled = "cancelled"


class ProjectPlan(FrozenModel):
    """What a project is: title, implementer, where, what kind, when, and its budget."""

    title: Name
    implementing_organization_id: UUID
    region: RegionCode | None = None
    """The recipient region (a county's GB/T 2260 code); ``None`` only for a pooled fund."""
    pooled_fund: bool = False
    """A fund held by an intermediary and regranted to other projects."""
    category: Category
    field: Field_
    campaigns: tuple[Campaign, ...] = ()
    planned_start: date
    planned_end: date
    budget: Money | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ProjectPlan:
        if self.planned_end < self.planned_start:
            msg = (
                f"planned_end: {self.planned_end} is before planned_start {self.planned_start}; "
                "a project ends after it starts"
            )
            raise ValueError(msg)
        if self.region is None and not self.pooled_fund:
            msg = "region: a project needs its recipient region (a 6-digit county code) unless pooled_fund is true"
            raise ValueError(msg)
        return self


class Disclosure(FrozenModel):
    """A published report on a project's progress or final use of funds (信息公开)."""

    kind: DisclosureKind
    period_start: date
    period_end: date
    channel: Label
    url: WebAddress | None = None
    content_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None

    @model_validator(mode="after")
    def _period_is_ordered(self) -> Disclosure:
        if self.period_end < self.period_start:
            msg = f"period_end: {self.period_end} is before period_start {self.period_start}"
            raise ValueError(msg)
        return self


class Project(LedgerAggregate):
    """An aid project and its life: started, beneficiaries reported, disclosed, completed."""

    if TYPE_CHECKING:  # state set by the events' apply(); kept out of the generated __init__
        plan: ProjectPlan
        status: ProjectStatus
        started_on: date | None

    class Registered(LedgerAggregate.Created):
        """The project entered the ledger."""

        plan: ProjectPlan

        def apply(self, aggregate: Any) -> None:
            aggregate.plan = self.plan
            aggregate.status = ProjectStatus.registered
            aggregate.started_on = None

    class Started(LedgerAggregate.Event):
        """Work began on ``effective_on``."""

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ProjectStatus.started
            aggregate.started_on = self.effective_on

    class BeneficiariesReported(LedgerAggregate.Event):
        """Cumulative beneficiaries as of ``effective_on``; the latest report stands."""

        person_times: Annotated[int, Field(ge=0)]
        households: Annotated[int, Field(ge=0)] | None = None
        persons: Annotated[int, Field(ge=0)] | None = None

    class Disclosed(LedgerAggregate.Event):
        """A progress or final report was published on ``effective_on``."""

        disclosure: Disclosure

    class Completed(LedgerAggregate.Event):
        """The project ended on ``effective_on``."""

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ProjectStatus.completed

    class Cancelled(LedgerAggregate.Event):
        """The project was called off; it accepts no new commitments."""

        reason: Reason

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ProjectStatus.cancelled

    @classmethod
    def register(cls, project_id: UUID, plan: ProjectPlan, envelope: Envelope) -> Project:
        """Register a project."""
        project: Project = cls.create(cls.Registered, project_id, envelope, plan=plan)
        return project

    @property
    def closed(self) -> bool:
        """Completed or cancelled."""
        return self.status in (ProjectStatus.completed, ProjectStatus.cancelled)

    def check_open(self) -> None:
        """Raise unless the project accepts new commitments."""
        if self.closed:
            msg = f"project {self.id} ({self.plan.title}) is {self.status.value} and accepts no new commitments"
            raise ProjectClosed(msg)

    def start(self, envelope: Envelope) -> None:
        """Record that work began."""
        self.check_open()
        if self.status is ProjectStatus.started:
            raise InvalidTransition(f"project {self.id} ({self.plan.title}) was already started")
        self.record(self.Started, envelope)

    def report_beneficiaries(
        self, person_times: int, households: int | None, persons: int | None, envelope: Envelope
    ) -> None:
        """Record cumulative beneficiaries as of the envelope's date."""
        if self.status is ProjectStatus.cancelled:
            raise ProjectClosed(f"project {self.id} ({self.plan.title}) is cancelled")
        self.record(
            self.BeneficiariesReported, envelope, person_times=person_times, households=households, persons=persons
        )

    def disclose(self, disclosure: Disclosure, envelope: Envelope) -> None:
        """Record a published report; allowed in any state, since final reports follow the end."""
        self.record(self.Disclosed, envelope, disclosure=disclosure)

    def complete(self, envelope: Envelope) -> None:
        """Record that the project ended (never before it started)."""
        self.check_open()
        if self.started_on is not None:
            self.check_not_before(envelope, self.started_on, "the project started")
        self.record(self.Completed, envelope)

    def cancel(self, reason: str, envelope: Envelope) -> None:
        """Call the project off (never before it started)."""
        self.check_open()
        if self.started_on is not None:
            self.check_not_before(envelope, self.started_on, "the project started")
        self.record(self.Cancelled, envelope, reason=reason)
