"""Pydantic views of the current state of each aggregate, and the receipt a command returns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from aidledger.domain.disbursement import Disbursement
from aidledger.domain.organization import Organization, OrganizationProfile
from aidledger.domain.pledge import Pledge
from aidledger.domain.project import Project, ProjectPlan, ProjectStatus
from aidledger.domain.values import DisbursementMethod, InKindItem, Money, PledgeFlow, PledgeStage

__all__ = ["DisbursementView", "OrganizationView", "PledgeView", "ProjectView", "Receipt"]


class View(BaseModel):
    """Base of views: immutable snapshots, safe to hand out."""

    model_config = ConfigDict(frozen=True)


class Receipt(View):
    """What a command stored: repeating the command returns an equal receipt."""

    command_id: str
    command: str
    aggregate_id: UUID
    positions: tuple[int, ...]
    """Log positions (notification ids) of the events the command stored."""
    warnings: tuple[str, ...] = ()
    """What was stored but deserves a second look (a region code in no list of the ministry's);
    a repeat of the command returns the same warnings."""


class OrganizationView(View):
    """An organization as it stands now."""

    id: UUID
    version: int
    profile: OrganizationProfile
    deregistered_on: date | None

    @classmethod
    def of(cls, organization: Organization) -> OrganizationView:
        """View an organization aggregate."""
        return cls(
            id=organization.id,
            version=organization.version,
            profile=organization.profile,
            deregistered_on=organization.deregistered_on,
        )


class ProjectView(View):
    """A project as it stands now."""

    id: UUID
    version: int
    plan: ProjectPlan
    status: ProjectStatus

    @classmethod
    def of(cls, project: Project) -> ProjectView:
        """View a project aggregate."""
        return cls(id=project.id, version=project.version, plan=project.plan, status=project.status)


class PledgeView(View):
    """A pledge with what has been paid against it."""

    id: UUID
    version: int
    donor_id: UUID
    project_id: UUID
    amount: Money
    in_kind: bool
    items: tuple[InKindItem, ...]
    stage: PledgeStage
    channel_id: UUID | None
    funded_from: UUID | None
    anonymous: bool
    flow: PledgeFlow
    """``donation``, or a flow donation totals leave out (``investment``, ``loan``)."""
    withdrawn: bool
    disbursed: Decimal
    reversed: Decimal
    returned: Decimal
    net_disbursed: Decimal
    outstanding: Decimal
    regranted: Decimal
    funded_from_pool: UUID | None = None
    """The pooled fund a regrant drew from, when the library picked the pledges (``drawn_from``)."""
    drawn_from: dict[UUID, Decimal] = {}
    """For such a regrant: each pledge into the pool it drew on when it was made, and how much, oldest
    money first (an amendment changes the draws on those pledges, as their ``RegrantAllocated`` events say)."""

    @classmethod
    def of(cls, pledge: Pledge) -> PledgeView:
        """View a pledge aggregate."""
        terms = pledge.terms
        return cls(
            id=pledge.id,
            version=pledge.version,
            donor_id=terms.donor_id,
            project_id=terms.project_id,
            amount=pledge.amount,
            in_kind=terms.in_kind,
            items=terms.items,
            stage=pledge.stage,
            channel_id=terms.channel_id,
            funded_from=terms.funded_from,
            anonymous=terms.anonymous,
            flow=terms.flow,
            withdrawn=pledge.withdrawn,
            disbursed=pledge.disbursed,
            reversed=pledge.reversed,
            returned=pledge.returned,
            net_disbursed=pledge.net_disbursed,
            outstanding=pledge.outstanding,
            regranted=pledge.regranted,
            funded_from_pool=terms.funded_from_pool,
            drawn_from={draw.pledge_id: draw.amount for draw in terms.drawn_from},
        )


class DisbursementView(View):
    """A disbursement and what became of it."""

    id: UUID
    version: int
    pledge_id: UUID
    amount: Money
    items: tuple[InKindItem, ...]
    method: DisbursementMethod
    value_date: date
    confirmed: bool
    reversed: bool
    returned: Decimal

    @classmethod
    def of(cls, disbursement: Disbursement) -> DisbursementView:
        """View a disbursement aggregate."""
        terms = disbursement.terms
        return cls(
            id=disbursement.id,
            version=disbursement.version,
            pledge_id=terms.pledge_id,
            amount=terms.amount,
            items=terms.items,
            method=terms.method,
            value_date=disbursement.value_date,
            confirmed=disbursement.confirmed,
            reversed=disbursement.reversed,
            returned=disbursement.returned,
        )
