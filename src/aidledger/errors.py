"""The whole exception hierarchy of aidledger.

Every error is an :class:`AidLedgerError`. Each class also subclasses the builtin a caller would
naturally catch (``ValueError`` for bad input, ``LookupError`` for a missing object), in the
manner of attrs. Messages name the offending object and value and say what would be accepted.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AidLedgerError",
    "AlreadyExists",
    "ConcurrencyConflict",
    "CurrencyMismatch",
    "DisbursementAlreadyConfirmed",
    "DisbursementAlreadyReversed",
    "DisbursementHasReturns",
    "DuplicateCreditCode",
    "EffectiveDateOutOfOrder",
    "IdempotencyConflict",
    "IntegrityFailure",
    "InvalidInput",
    "InvalidTransition",
    "LedgerClosed",
    "NotAPooledFund",
    "NotFound",
    "OrganizationDeregistered",
    "OverDisbursement",
    "PledgeAlreadySigned",
    "PledgeBelowDisbursed",
    "PledgeHasDisbursements",
    "PledgeNotSigned",
    "PledgeWithdrawn",
    "PooledFundTakesDonations",
    "ProjectClosed",
    "RegrantDonorMismatch",
    "RegrantExceedsPool",
    "ReturnExceedsDisbursement",
    "RuleViolation",
    "UnreadableEvent",
    "UnvaluedGiftMismatch",
]


class AidLedgerError(Exception):
    """Root of every error aidledger raises on purpose."""


class InvalidInput(AidLedgerError, ValueError):
    """Input that is malformed or out of range; nothing was stored.

    ``field`` names the input, ``value`` is what was given and ``accepted`` says what would be.
    """

    def __init__(self, field: str, value: Any, accepted: str, *, problems: tuple[str, ...] = ()):
        self.field = field
        self.value = value
        self.accepted = accepted
        self.problems = problems or (f"{field}: got {value!r}; accepted: {accepted}",)
        super().__init__("; ".join(self.problems))


class RuleViolation(AidLedgerError):
    """A well-formed command that a rule of the ledger refuses; nothing was stored."""


class EffectiveDateOutOfOrder(RuleViolation):
    """A change would take effect before what it changes (e.g. a withdrawal before the signing)."""


class InvalidTransition(RuleViolation):
    """The object is not in a state that allows this change (e.g. starting a started project)."""


class OverDisbursement(RuleViolation):
    """A disbursement would take a pledge's net disbursed total above its current amount."""


class PledgeWithdrawn(RuleViolation):
    """The pledge was withdrawn and accepts nothing new."""


class PledgeNotSigned(RuleViolation):
    """Money is disbursed only against signed pledges (unless the ledger's policy allows)."""


class PledgeAlreadySigned(RuleViolation):
    """The pledge is already at the signed stage."""


class PledgeBelowDisbursed(RuleViolation):
    """An amendment would take a pledge below what was already disbursed or regranted."""


class PledgeHasDisbursements(RuleViolation):
    """A pledge with money disbursed against it cannot be withdrawn; amend it instead."""


class CurrencyMismatch(RuleViolation):
    """Currencies never mix within one pledge or one regrant chain."""


class ProjectClosed(RuleViolation):
    """A cancelled or completed project accepts no new commitments."""


class OrganizationDeregistered(RuleViolation):
    """A deregistered organization makes no new commitments and implements no new projects."""


class DisbursementAlreadyReversed(RuleViolation):
    """The disbursement was reversed (it never happened) and accepts nothing more."""


class DisbursementAlreadyConfirmed(RuleViolation):
    """The recipient has already confirmed this disbursement."""


class DisbursementHasReturns(RuleViolation):
    """A disbursement with money returned cannot be reversed as if it never happened."""


class ReturnExceedsDisbursement(RuleViolation):
    """More would be returned than the disbursement handed over."""


class DuplicateCreditCode(RuleViolation):
    """A unified social credit code identifies one organization: it is never given to a second one."""


class NotAPooledFund(RuleViolation):
    """Only a pledge into a pooled fund can fund a regrant."""


class PooledFundTakesDonations(RuleViolation):
    """A pooled fund takes and passes on donations only: an investment or a loan goes to a project."""


class RegrantExceedsPool(RuleViolation):
    """Regrants from a pledge may not exceed the money actually disbursed into the pool."""


class RegrantDonorMismatch(RuleViolation):
    """A regrant is made by the organization that holds the pooled fund it draws on."""


class UnvaluedGiftMismatch(RuleViolation):
    """An unvalued in-kind gift (items, no assessed value) takes no money, and money takes no unvalued gift."""


class AlreadyExists(RuleViolation):
    """An object with this identity was already recorded by another command."""


class NotFound(AidLedgerError, LookupError):
    """A referenced organization, project, pledge or disbursement does not exist."""


class IdempotencyConflict(AidLedgerError):
    """A command id was reused with a different command or payload."""


class ConcurrencyConflict(AidLedgerError):
    """Concurrent writers kept changing the same aggregates; the bounded retries ran out."""


class LedgerClosed(AidLedgerError, ValueError):
    """A ledger used after :meth:`~aidledger.AidLedger.close` (like a closed file, a ``ValueError``)."""


class IntegrityFailure(AidLedgerError):
    """The stored history does not verify, or cannot be read."""


class UnreadableEvent(IntegrityFailure):
    """A stored event's bytes cannot be decoded into a known event."""
