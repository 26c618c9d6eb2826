"""Disbursement: money or goods actually handed over against a pledge (拨付)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from aidledger.domain.base import Envelope, LedgerAggregate
from aidledger.domain.values import DisbursementMethod, FrozenModel, InKindItem, Money, Reason
from aidledger.errors import (
    DisbursementAlreadyConfirmed,
    DisbursementAlreadyReversed,
    DisbursementHasReturns,
    ReturnExceedsDisbursement,
)

__all__ = ["Disbursement", "DisbursementTerms"]


class DisbursementTerms(FrozenModel):
    """What was handed over, against which pledge, and how; the value date is ``effective_on``."""

    pledge_id: UUID
    amount: Money
    """Cash paid, or the assessed value of the goods or services delivered."""
    items: tuple[InKindItem, ...] = ()
    method: DisbursementMethod


class Disbursement(LedgerAggregate):
    """One handing-over of money or goods, confirmed by the recipient, reversed or returned."""

    if TYPE_CHECKING:  # state set by the events' apply(); kept out of the generated __init__
        terms: DisbursementTerms
        value_date: date
        confirmed: bool
        reversed: bool
        returned: Decimal

    class Made(LedgerAggregate.Created):
        """Money or goods were handed over on ``effective_on`` (the value date)."""

        terms: DisbursementTerms

        def apply(self, aggregate: Any) -> None:
            aggregate.terms = self.terms
            aggregate.value_date = self.effective_on
            aggregate.confirmed = False
            aggregate.reversed = False
            aggregate.returned = Decimal("0.00")

    class Confirmed(LedgerAggregate.Event):
        """The recipient confirmed receipt (到位)."""

        def apply(self, aggregate: Any) -> None:
            aggregate.confirmed = True

    class Reversed(LedgerAggregate.Event):
        """A recording error: the disbursement never happened."""

        reason: Reason

        def apply(self, aggregate: Any) -> None:
            aggregate.reversed = True

    class Returned(LedgerAggregate.Event):
        """Money or goods were given back, partly or wholly."""

        amount: Money
        reason: Reason

        def apply(self, aggregate: Any) -> None:
            aggregate.returned += self.amount.value

    @classmethod
    def make(cls, disbursement_id: UUID, terms: DisbursementTerms, envelope: Envelope) -> Disbursement:
        """Record a disbursement (the pledge's own rule is checked on the pledge)."""
        disbursement: Disbursement = cls.create(cls.Made, disbursement_id, envelope, terms=terms)
        return disbursement

    def check_not_reversed(self) -> None:
        """Raise if the disbursement was reversed."""
        if self.reversed:
            raise DisbursementAlreadyReversed(f"disbursement {self.id} was reversed and accepts nothing more")

    def confirm(self, envelope: Envelope) -> None:
        """Record the recipient's confirmation of receipt."""
        self.check_not_reversed()
        self.check_not_before(envelope, self.value_date, "the value date")
        if self.confirmed:
            raise DisbursementAlreadyConfirmed(f"disbursement {self.id} was already confirmed")
        self.record(self.Confirmed, envelope)

    def check_reverse(self, envelope: Envelope) -> None:
        """Raise unless the disbursement may be taken back as a recording error."""
        self.check_not_reversed()
        self.check_not_before(envelope, self.value_date, "the value date")
        if self.returned > 0:
            msg = f"disbursement {self.id} has {self.returned} returned and cannot be reversed as if it never happened"
            raise DisbursementHasReturns(msg)

    def reverse(self, reason: str, envelope: Envelope) -> None:
        """Record that the disbursement was an error and never happened."""
        self.check_reverse(envelope)
        self.record(self.Reversed, envelope, reason=reason)

    def check_give_back(self, amount: Money, envelope: Envelope) -> None:
        """Raise unless ``amount`` may be given back: never more than was handed over."""
        self.check_not_reversed()
        self.check_not_before(envelope, self.value_date, "the value date")
        remaining = self.terms.amount.value - self.returned
        if amount.value > remaining:
            msg = (
                f"returning {amount} on disbursement {self.id} exceeds what remains of it: "
                f"{remaining} {self.terms.amount.currency}; accepted: at most that"
            )
            raise ReturnExceedsDisbursement(msg)

    def give_back(self, amount: Money, reason: str, envelope: Envelope) -> None:
        """Record money or goods returned; never more than was handed over."""
        self.check_give_back(amount, envelope)
        self.record(self.Returned, envelope, amount=amount, reason=reason)
