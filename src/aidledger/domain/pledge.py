"""Pledge: a donor's promise to a project, and what has been paid against it.

The pledge records every disbursement, reversal and return against it, and every regrant drawn
from it, so its invariant holds inside one consistency boundary:

    0 <= regranted <= net disbursed = disbursed - reversed - returned <= amount

and, for a pledge into a pooled fund, as of every effective date: what its regrants draw as of
that date <= what was disbursed into the pool against it, net, as of that date.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from pydantic import Field, model_validator

from aidledger.domain.base import Envelope, LedgerAggregate
from aidledger.domain.values import FrozenModel, InKindItem, Money, PledgeFlow, PledgeStage, Reason
from aidledger.errors import (
    CurrencyMismatch,
    OverDisbursement,
    PledgeAlreadySigned,
    PledgeBelowDisbursed,
    PledgeHasDisbursements,
    PledgeNotSigned,
    PledgeWithdrawn,
    RegrantExceedsPool,
    UnvaluedGiftMismatch,
)

__all__ = ["Pledge", "PledgeTerms", "PoolDraw"]

ZERO = Decimal("0.00")

Amount = Annotated[Decimal, Field(ge=0, max_digits=17, decimal_places=2)]


class PoolDraw(FrozenModel):
    """What a regrant from a pooled fund drew from one pledge into the pool, when it was made."""

    pledge_id: UUID
    amount: Amount


class PledgeTerms(FrozenModel):
    """What was promised: by whom, to which project, how much, through whom, from where."""

    donor_id: UUID
    project_id: UUID
    amount: Money
    """The cash amount, or the assessed value of the items when given in kind; for an unvalued
    in-kind gift (items whose value was not assessed), :meth:`Money.unassessed`: zero."""
    items: tuple[InKindItem, ...] = ()
    """Goods or services given in kind (物资); empty for cash."""
    channel_id: UUID | None = None
    """An intermediary organization that merely handles the money (not a second pledge)."""
    funded_from: UUID | None = None
    """The pledge into a pooled fund whose money this pledge passes on (a regrant)."""
    anonymous: bool = False
    flow: PledgeFlow = PledgeFlow.donation
    """A donation, or an investment or loan, which donation totals leave out (DESIGN §3 rule 8)."""
    funded_from_pool: UUID | None = Field(None, exclude_if=lambda value: value is None)
    """The pooled fund (a project) a regrant passes money on from, when the library picks the pledges
    into the pool it draws on (oldest money first; see ``drawn_from``). Left out of stored events
    when empty, so pledges without it keep their bytes."""
    drawn_from: tuple[PoolDraw, ...] = Field((), exclude_if=lambda value: not value)
    """For a regrant from ``funded_from_pool``: the pledges into the pool it drew on, and how much
    from each, in the order drawn (set by the library when the regrant is made)."""

    @model_validator(mode="after")
    def _regrants_are_donations(self) -> PledgeTerms:
        if self.funded_from is not None and self.funded_from_pool is not None:
            msg = (
                "funded_from_pool: a regrant names either the pledge it draws on (funded_from) or the pooled "
                "fund the library draws from (funded_from_pool), not both"
            )
            raise ValueError(msg)
        if self.regrant and self.flow is not PledgeFlow.donation:
            msg = (
                f"flow: a regrant (funded_from) passes on donated money from a pooled fund, so it is a donation, "
                f"not {self.flow.value!r}"
            )
            raise ValueError(msg)
        return self

    @property
    def regrant(self) -> bool:
        """Money passed on from a pooled fund (``funded_from`` or ``funded_from_pool``), not new money."""
        return self.funded_from is not None or self.funded_from_pool is not None

    @property
    def sources(self) -> tuple[UUID, ...]:
        """The pledges into a pool this regrant draws on, oldest first (none for new money)."""
        if self.funded_from is not None:
            return (self.funded_from,)
        return tuple(draw.pledge_id for draw in self.drawn_from)

    @model_validator(mode="after")
    def _only_goods_go_unvalued(self) -> PledgeTerms:
        if not self.amount.assessed and not self.items:
            msg = "amount: a pledge without items needs an amount; only goods (items) may go without an assessed value"
            raise ValueError(msg)
        return self

    @property
    def in_kind(self) -> bool:
        """Goods or services rather than cash."""
        return bool(self.items)

    @property
    def unvalued(self) -> bool:
        """Goods whose value was not assessed: counted in quantities and gifts, never in money (DESIGN §3 rule 9)."""
        return not self.amount.assessed


class Pledge(LedgerAggregate):
    """A donor's promise to a project and the money paid against it."""

    if TYPE_CHECKING:  # state set by the events' apply(); kept out of the generated __init__
        terms: PledgeTerms
        amount: Money
        stage: PledgeStage
        made_on: date
        stage_on: date
        """The effective date of the latest change of stage or amount."""
        money_on: date
        """The effective date of the latest disbursement, reversal or return against it."""
        withdrawn: bool
        disbursed: Decimal
        reversed: Decimal
        returned: Decimal
        disbursements: dict[UUID, Decimal]
        paid_on: dict[UUID, date]
        """The value date of each disbursement against it."""
        money: list[tuple[date, Decimal]]
        """What each disbursement, reversal and return changed net disbursed by, from which date."""
        allocations: dict[UUID, Decimal]
        draws: list[tuple[date, Decimal]]
        """What each regrant allocation changed the regranted total by, from which date."""
        taken_back: set[UUID]
        """The disbursements against it that were reversed (they never happened)."""

    class Made(LedgerAggregate.Created):
        """The pledge was made, as an intention (意向) or signed agreement (签约)."""

        terms: PledgeTerms
        stage: PledgeStage

        def apply(self, aggregate: Any) -> None:
            aggregate.terms = self.terms
            aggregate.amount = self.terms.amount
            aggregate.stage = self.stage
            aggregate.made_on = aggregate.stage_on = aggregate.money_on = self.effective_on
            aggregate.withdrawn = False
            aggregate.disbursed = aggregate.reversed = aggregate.returned = ZERO
            aggregate.disbursements = {}
            aggregate.paid_on = {}
            aggregate.money = []
            aggregate.allocations = {}
            aggregate.draws = []
            aggregate.taken_back = set()

    class Signed(LedgerAggregate.Event):
        """An intended pledge became a signed agreement."""

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = PledgeStage.signed
            aggregate.stage_on = self.effective_on

    class Amended(LedgerAggregate.Event):
        """The pledged amount changed."""

        amount: Money
        reason: Reason

        def apply(self, aggregate: Any) -> None:
            aggregate.amount = self.amount
            aggregate.stage_on = self.effective_on

    class Withdrawn(LedgerAggregate.Event):
        """The donor withdrew the pledge; it accepts nothing new."""

        reason: Reason

        def apply(self, aggregate: Any) -> None:
            aggregate.withdrawn = True
            aggregate.stage_on = self.effective_on

    class Disbursed(LedgerAggregate.Event):
        """Money or goods were handed over against the pledge (the disbursement's twin)."""

        disbursement_id: UUID
        amount: Amount

        def apply(self, aggregate: Any) -> None:
            aggregate.disbursed += self.amount
            aggregate.disbursements[self.disbursement_id] = self.amount
            aggregate.paid_on[self.disbursement_id] = self.effective_on
            aggregate.money.append((self.effective_on, self.amount))
            aggregate.money_on = max(aggregate.money_on, self.effective_on)

    class DisbursementReversed(LedgerAggregate.Event):
        """A disbursement was a recording error and never happened."""

        disbursement_id: UUID
        amount: Amount

        def apply(self, aggregate: Any) -> None:
            aggregate.reversed += self.amount
            aggregate.taken_back.add(self.disbursement_id)
            # It never happened: it takes its money back from its own value date.
            aggregate.money.append((aggregate.paid_on[self.disbursement_id], -self.amount))
            aggregate.money_on = max(aggregate.money_on, self.effective_on)

    class DisbursementReturned(LedgerAggregate.Event):
        """Money or goods were given back."""

        disbursement_id: UUID
        amount: Amount

        def apply(self, aggregate: Any) -> None:
            aggregate.returned += self.amount
            aggregate.money.append((self.effective_on, -self.amount))
            aggregate.money_on = max(aggregate.money_on, self.effective_on)

    class RegrantAllocated(LedgerAggregate.Event):
        """The amount a regrant pledge draws from this pooled-fund pledge is now ``amount``."""

        regrant_pledge_id: UUID
        amount: Amount

        def apply(self, aggregate: Any) -> None:
            before = aggregate.allocations.get(self.regrant_pledge_id, ZERO)
            aggregate.draws.append((self.effective_on, self.amount - before))
            aggregate.allocations[self.regrant_pledge_id] = self.amount

    @classmethod
    def make(cls, pledge_id: UUID, terms: PledgeTerms, stage: PledgeStage, envelope: Envelope) -> Pledge:
        """Make a pledge (references are checked by the application)."""
        pledge: Pledge = cls.create(cls.Made, pledge_id, envelope, terms=terms, stage=stage)
        return pledge

    @property
    def net_disbursed(self) -> Decimal:
        """Disbursed minus reversed minus returned."""
        return self.disbursed - self.reversed - self.returned

    @property
    def outstanding(self) -> Decimal:
        """What remains to be paid: current amount minus net disbursed."""
        return self.amount.value - self.net_disbursed

    @property
    def regranted(self) -> Decimal:
        """What regrant pledges currently draw from this pledge."""
        return sum(self.allocations.values(), ZERO)

    def peak_net_from(self, day: date) -> tuple[date, Decimal]:
        """The highest net disbursed as of any date from ``day`` on, and the first date it is reached."""
        net = sum((change for on, change in self.money if on <= day), ZERO)
        peak_on, peak = day, net
        for on, change in sorted(item for item in self.money if item[0] > day):
            net += change
            if net > peak:
                peak_on, peak = on, net
        return peak_on, peak

    def check_not_withdrawn(self) -> None:
        """Raise if the pledge was withdrawn."""
        if self.withdrawn:
            raise PledgeWithdrawn(f"pledge {self.id} was withdrawn and accepts nothing new")

    def check_currency(self, money: Money, what: str) -> None:
        """Raise unless ``money`` is in the pledge's currency."""
        if money.currency != self.amount.currency:
            msg = (
                f"{what} is in {money.currency} but pledge {self.id} is in {self.amount.currency}; currencies never mix"
            )
            raise CurrencyMismatch(msg)

    def sign(self, envelope: Envelope) -> None:
        """Turn an intended pledge into a signed one."""
        self.check_not_withdrawn()
        if self.stage is PledgeStage.signed:
            raise PledgeAlreadySigned(f"pledge {self.id} is already signed")
        self.check_not_before(envelope, self.stage_on, "its last change")
        self.record(self.Signed, envelope)

    def check_takes_money(self, doing: str) -> None:
        """Raise if the pledge is an unvalued gift: it has no money to amend, give back or pass on."""
        if self.terms.unvalued:
            msg = (
                f"{doing}: pledge {self.id} is an unvalued in-kind gift ({_goods(self.terms)}) whose value was "
                "never assessed, so it has no money to change; accepted: record goods given back as a reversal "
                "of the delivery, or withdraw the pledge and pledge anew with an assessed amount"
            )
            raise UnvaluedGiftMismatch(msg)

    def check_amend(self, amount: Money, envelope: Envelope) -> None:
        """Raise unless the amount may change to ``amount``: never below what was disbursed."""
        self.check_not_withdrawn()
        self.check_takes_money(f"amending to {amount}")
        self.check_currency(amount, "the amended amount")
        if amount.value < self.amount.value:  # a decrease must not predate the payments it relies on
            self.check_not_before(envelope, max(self.stage_on, self.money_on), "its last change or payment")
        else:
            self.check_not_before(envelope, self.stage_on, "its last change")
        if amount.value < self.net_disbursed:
            msg = (
                f"pledge {self.id} cannot be amended to {amount}: {self.net_disbursed} "
                f"{self.amount.currency} was already disbursed; accepted: at least that"
            )
            raise PledgeBelowDisbursed(msg)

    def amend(self, amount: Money, reason: str, envelope: Envelope) -> None:
        """Change the pledged amount; never below what was already disbursed."""
        self.check_amend(amount, envelope)
        self.record(self.Amended, envelope, amount=amount, reason=reason)

    def withdraw(self, reason: str, envelope: Envelope) -> None:
        """Withdraw a pledge that nothing was disbursed against."""
        self.check_not_withdrawn()
        self.check_not_before(envelope, max(self.stage_on, self.money_on), "its last change or payment")
        delivered = len(self.disbursements.keys() - self.taken_back) if self.terms.unvalued else 0
        if delivered:
            msg = (
                f"pledge {self.id} is an unvalued in-kind gift with {delivered} delivery(ies) recorded and cannot be "
                "withdrawn; accepted: reverse the deliveries first if they never happened"
            )
            raise PledgeHasDisbursements(msg)
        if self.net_disbursed > 0:
            msg = (
                f"pledge {self.id} has {self.net_disbursed} {self.amount.currency} disbursed and cannot be "
                "withdrawn; amend it down to the disbursed amount instead"
            )
            raise PledgeHasDisbursements(msg)
        self.record(self.Withdrawn, envelope, reason=reason)

    def record_disbursement(
        self, disbursement_id: UUID, amount: Money, envelope: Envelope, *, allow_intended: bool
    ) -> None:
        """Record money handed over; never more than the outstanding amount."""
        self.check_not_withdrawn()
        self.check_currency(amount, "the disbursement")
        self._check_delivery_valued_alike(amount)
        self.check_not_before(envelope, self.stage_on, "its last change")
        if self.stage is PledgeStage.intended and not allow_intended:
            msg = f"pledge {self.id} is only intended; sign it before disbursing (or enable allow_disbursing_intended)"
            raise PledgeNotSigned(msg)
        if amount.value > self.outstanding:
            msg = (
                f"disbursing {amount} against pledge {self.id} would exceed it: outstanding is "
                f"{self.outstanding} {self.amount.currency}; accepted: at most that"
            )
            raise OverDisbursement(msg)
        peak_on, peak = self.peak_net_from(envelope.effective_on)
        if amount.value > self.amount.value - peak:
            msg = (
                f"disbursing {amount} against pledge {self.id} on {envelope.effective_on} would exceed it as of "
                f"{peak_on}: {peak} {self.amount.currency} was disbursed net by then (money given back frees "
                f"room only from the day it came back); accepted: at most {self.amount.value - peak}, or a later date"
            )
            raise OverDisbursement(msg)
        self.record(self.Disbursed, envelope, disbursement_id=disbursement_id, amount=amount.value)
        assert ZERO <= self.net_disbursed <= self.amount.value

    def _check_delivery_valued_alike(self, amount: Money) -> None:
        """Raise unless a delivery is unvalued exactly when the pledge is: an unvalued gift takes only
        unvalued deliveries of goods, and a pledge with an amount takes only deliveries with one."""
        if self.terms.unvalued and amount.assessed:
            msg = (
                f"disbursing {amount} against pledge {self.id}: it is an unvalued in-kind gift "
                f"({_goods(self.terms)}), so no money or value counts against it; accepted: a delivery "
                "with items and no amount"
            )
            raise UnvaluedGiftMismatch(msg)
        if not self.terms.unvalued and not amount.assessed:
            msg = (
                f"a delivery with no amount against pledge {self.id}: the pledge is of {self.amount}, so what is "
                "delivered against it needs an amount (the assessed value of goods); accepted: an amount of at "
                f"most {self.outstanding} {self.amount.currency}"
            )
            raise UnvaluedGiftMismatch(msg)

    def check_reversal(self, disbursement_id: UUID) -> None:
        """Raise unless one of this pledge's disbursements may be taken back (from its value date)."""
        amount = self.disbursements[disbursement_id]
        self._check_pool_still_covers(amount, self.paid_on[disbursement_id], "reversing")

    def record_reversal(self, disbursement_id: UUID, envelope: Envelope) -> None:
        """Take back a disbursement recorded in error."""
        self.check_reversal(disbursement_id)
        amount = self.disbursements[disbursement_id]
        self.record(self.DisbursementReversed, envelope, disbursement_id=disbursement_id, amount=amount)

    def check_return(self, amount: Money, envelope: Envelope) -> None:
        """Raise unless ``amount`` may be given back against this pledge's disbursements."""
        self.check_takes_money(f"returning {amount}")
        self.check_currency(amount, "the returned amount")
        self._check_pool_still_covers(amount.value, envelope.effective_on, "returning")

    def record_return(self, disbursement_id: UUID, amount: Money, envelope: Envelope) -> None:
        """Record money or goods given back against one of this pledge's disbursements."""
        self.check_return(amount, envelope)
        self.record(self.DisbursementReturned, envelope, disbursement_id=disbursement_id, amount=amount.value)

    def _check_pool_still_covers(self, amount: Decimal, day: date, doing: str) -> None:
        """Raise unless the pool still covers the regrants, now and as of every date from ``day`` on,
        once ``amount`` less counts in it from ``day``."""
        if self.net_disbursed - amount < self.regranted:
            msg = (
                f"{doing} {amount} {self.amount.currency} on pledge {self.id} would leave its pooled fund "
                f"holding less than the {self.regranted} already regranted from it"
            )
            raise RegrantExceedsPool(msg)
        short = self.shortfall_from(day, held=-amount)
        if short is not None:
            on, held, drawn, _ = short
            msg = (
                f"{doing} {amount} {self.amount.currency} on pledge {self.id} from {day} would leave its pooled "
                f"fund holding {held} {self.amount.currency} as of {on}, less than the {drawn} regranted from it "
                "by then; accepted: a change that leaves every regrant covered from its own date on"
            )
            raise RegrantExceedsPool(msg)

    def shortfall_from(
        self, day: date, *, held: Decimal = ZERO, drawn: Decimal = ZERO
    ) -> tuple[date, Decimal, Decimal, Decimal] | None:
        """Where regrants would draw more than the pool holds from this pledge, as of some date from
        ``day`` on, once ``held`` more money and ``drawn`` more regrants count from ``day``.

        ``None`` when they never would; otherwise the first such date, what the pool would hold and
        what regrants would draw as of it, and the largest excess as of any date from ``day`` on.
        """
        changes: dict[date, tuple[Decimal, Decimal]] = {}
        for on, money, draw in [(on, change, ZERO) for on, change in self.money] + [
            (on, ZERO, change) for on, change in self.draws
        ]:
            key = max(on, day)  # what counts by ``day`` counts as of ``day``
            before = changes.get(key, (ZERO, ZERO))
            changes[key] = (before[0] + money, before[1] + draw)
        first: tuple[date, Decimal, Decimal] | None = None
        worst = ZERO
        for on in sorted(changes.keys() | {day}):
            money, draw = changes.get(on, (ZERO, ZERO))
            held, drawn = held + money, drawn + draw
            if drawn > held and first is None:
                first = (on, held, drawn)
            worst = max(worst, drawn - held)
        return None if first is None else (*first, worst)

    def check_allocation(self, regrant_pledge_id: UUID, amount: Decimal, day: date) -> None:
        """Raise unless a regrant pledge may draw ``amount`` from this pledge's money in the pool from
        ``day`` on: never more than the pool holds from this pledge, today or as of any date from ``day``."""
        change = amount - self.allocations.get(regrant_pledge_id, ZERO)
        if self.regranted + change > self.net_disbursed:
            msg = (
                f"regranting {amount} {self.amount.currency} from pledge {self.id} would pass on more than was "
                f"disbursed into the pool: {self.net_disbursed} disbursed, {self.regranted} already regranted"
            )
            raise RegrantExceedsPool(msg)
        short = self.shortfall_from(day, drawn=change) if change > 0 else None
        if short is not None:
            on, held, drawn, worst = short
            msg = (
                f"regranting {amount} {self.amount.currency} from pledge {self.id} on {day} would pass on more "
                f"than its pool held as of {on}: {held} disbursed into the pool net by then, "
                f"{drawn - change} already regranted (money counts in the pool from its value date"
                f"{self._arrivals(day)}); "
                f"accepted: at most {max(amount - worst, ZERO)} on that date, or a date when enough had arrived"
            )
            raise RegrantExceedsPool(msg)

    @property
    def arrived_on(self) -> date | None:
        """When this pledge's money first arrived in its pool: the earliest value date of a
        disbursement against it that was not reversed (``None`` before any)."""
        standing = [on for paid, on in self.paid_on.items() if paid not in self.taken_back]
        return min(standing) if standing else None

    def free_from(self, day: date) -> Decimal:
        """How much more a regrant may draw from this pledge's money in the pool from ``day`` on: what
        the pool holds from it less what regrants draw, at its lowest as of any date from ``day`` on."""
        changes: dict[date, Decimal] = {}
        for on, change in [*self.money, *((on, -draw) for on, draw in self.draws)]:
            key = max(on, day)
            changes[key] = changes.get(key, ZERO) + change
        free, lowest = ZERO, None
        for on in sorted(changes.keys() | {day}):
            free += changes.get(on, ZERO)
            lowest = free if lowest is None else min(lowest, free)
        assert lowest is not None
        return max(lowest, ZERO)

    def _arrivals(self, day: date) -> str:
        later = sorted({on for on, change in self.money if on > day and change > 0})
        return f"; more arrives from {later[0]}" if later else ""

    def allocate_regrant(self, regrant_pledge_id: UUID, amount: Decimal, envelope: Envelope) -> None:
        """Let a regrant pledge draw ``amount`` from this pledge's money in the pool."""
        self.check_allocation(regrant_pledge_id, amount, envelope.effective_on)
        self.record(self.RegrantAllocated, envelope, regrant_pledge_id=regrant_pledge_id, amount=amount)


def _goods(terms: PledgeTerms) -> str:
    """The items of a gift, as a message names them: ``370000 件 冬衣; 20 吨 大米``."""
    return "; ".join(f"{item.quantity} {item.unit} {item.description}" for item in terms.items)
