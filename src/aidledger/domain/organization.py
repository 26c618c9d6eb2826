"""Organization: a foundation, social group, social service agency or other donor (社会组织)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import model_validator

from aidledger.domain.base import Envelope, LedgerAggregate
from aidledger.domain.values import CreditCode, FrozenModel, Level, Name, OrganizationKind, Reason, RegionCode
from aidledger.errors import InvalidTransition, OrganizationDeregistered

__all__ = ["Organization", "OrganizationProfile"]


class OrganizationProfile(FrozenModel):
    """What is known of an organization: its identity, level and charity qualifications."""

    name: Name
    kind: OrganizationKind
    level: Level
    home_region: RegionCode
    credit_code: CreditCode | None = None
    charity: bool = False
    """Recognised as a charitable organization (慈善组织)."""
    charity_since: date | None = None
    public_fundraising: bool = False
    """Holds the public fundraising qualification (公开募捐资格)."""
    public_fundraising_from: date | None = None
    public_fundraising_until: date | None = None

    @model_validator(mode="after")
    def _qualifications_are_consistent(self) -> OrganizationProfile:
        if self.public_fundraising and not self.charity:
            msg = "public_fundraising: only a charity (charity=true) can hold the public fundraising qualification"
            raise ValueError(msg)
        start, end = self.public_fundraising_from, self.public_fundraising_until
        if start is not None and end is not None and end < start:
            msg = f"public_fundraising_until: {end} is before public_fundraising_from {start}"
            raise ValueError(msg)
        return self

    def fundraising_on(self, day: date) -> bool:
        """Whether the organization held the public fundraising qualification on ``day``."""
        if not self.public_fundraising:
            return False
        after_start = self.public_fundraising_from is None or self.public_fundraising_from <= day
        before_end = self.public_fundraising_until is None or day <= self.public_fundraising_until
        return after_start and before_end


class Organization(LedgerAggregate):
    """A social organization or other donor; its profile can be updated until it is deregistered."""

    if TYPE_CHECKING:  # state set by the events' apply(); kept out of the generated __init__
        profile: OrganizationProfile
        deregistered_on: date | None

    class Registered(LedgerAggregate.Created):
        """The organization entered the ledger."""

        profile: OrganizationProfile

        def apply(self, aggregate: Any) -> None:
            aggregate.profile = self.profile
            aggregate.deregistered_on = None

    class Updated(LedgerAggregate.Event):
        """The organization's profile changed; the event holds the whole new profile."""

        profile: OrganizationProfile

        def apply(self, aggregate: Any) -> None:
            aggregate.profile = self.profile

    class Deregistered(LedgerAggregate.Event):
        """The organization was deregistered (注销) and makes no new commitments."""

        reason: Reason

        def apply(self, aggregate: Any) -> None:
            aggregate.deregistered_on = self.effective_on

    @classmethod
    def register(cls, organization_id: UUID, profile: OrganizationProfile, envelope: Envelope) -> Organization:
        """Register a new organization."""
        organization: Organization = cls.create(cls.Registered, organization_id, envelope, profile=profile)
        return organization

    def update(self, profile: OrganizationProfile, envelope: Envelope) -> None:
        """Replace the profile."""
        self.check_active()
        self.record(self.Updated, envelope, profile=profile)

    def deregister(self, reason: str, envelope: Envelope) -> None:
        """Deregister the organization."""
        if self.deregistered_on is not None:
            msg = f"organization {self.id} was already deregistered on {self.deregistered_on}"
            raise InvalidTransition(msg)
        self.record(self.Deregistered, envelope, reason=reason)

    def check_active(self) -> None:
        """Raise unless the organization may make new commitments."""
        if self.deregistered_on is not None:
            msg = (
                f"organization {self.id} ({self.profile.name}) was deregistered on "
                f"{self.deregistered_on} and makes no new commitments"
            )
            raise OrganizationDeregistered(msg)
