"""The event base with its audit envelope, and the aggregate base every aggregate extends.

Events are frozen pydantic models that ``eventsourcing`` can apply to aggregates. Every event
carries the audit envelope: who recorded it, when it happened in the world, the evidence, and the
caller's command id; ``timestamp`` (transaction time, UTC) is set by the library.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, CanInitAggregate, CanMutateAggregate
from pydantic import BaseModel, ConfigDict, Field

from aidledger.domain.values import EffectiveDate, Evidence
from aidledger.errors import EffectiveDateOutOfOrder

__all__ = ["ID_NAMESPACE", "Envelope", "LedgerAggregate", "LedgerEvent", "derive_id"]

ID_NAMESPACE = UUID("6f0c2a4e-1d3b-5c8e-9a47-2b1e0d6c4f18")
"""Namespace of the uuid5 ids aidledger derives from command ids."""


@lru_cache(maxsize=65536)
def derive_id(kind: str, command_id: str) -> UUID:
    """The aggregate id that the creating command ``command_id`` gives an object of ``kind``.

    Deriving ids from command ids makes creation idempotent, and lets an import file refer to
    an object by the command id that created it.
    """
    return uuid5(ID_NAMESPACE, f"{kind}:{command_id}")


class Envelope(BaseModel):
    """The audit envelope a caller supplies with every command."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    recorded_by: Annotated[str, Field(min_length=1, max_length=200)]
    effective_on: EffectiveDate
    source: Evidence | None = None
    command_id: Annotated[str, Field(min_length=1, max_length=200)]
    timestamp: datetime | None = None
    """Transaction time, set by the application once per command so that all the events one
    command stores carry the same time; ``None`` lets the library stamp each event."""


class LedgerEvent(BaseModel, CanMutateAggregate[UUID]):
    """Base of every stored event: the aggregate's position plus the audit envelope."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    recorded_by: str
    effective_on: date
    source: Evidence | None = None
    command_id: str

    def apply(self, aggregate: Any) -> None:
        """Change the aggregate's state; events with no state change keep this default."""


class LedgerAggregate(Aggregate):
    """Base of the four aggregates; gives the creation event and envelope plumbing."""

    class Event(LedgerEvent):
        """Base of this aggregate's events."""

    class Created(Event, CanInitAggregate[UUID]):
        """Base of this aggregate's creation event."""

        originator_topic: str

    def __init__(self, **_: Any) -> None:
        """State is set by the creation event's ``apply``."""

    def check_not_before(self, envelope: Envelope, earliest: date, what: str) -> None:
        """Refuse a change effective before ``earliest`` (the date of what it changes)."""
        if envelope.effective_on < earliest:
            msg = (
                f"effective_on: {envelope.effective_on} is before {what} on {earliest} "
                f"({type(self).__name__.lower()} {self.id}); accepted: {earliest} or later"
            )
            raise EffectiveDateOutOfOrder(msg)

    def record(self, event_class: type[LedgerEvent], envelope: Envelope, **payload: Any) -> None:
        """Trigger ``event_class`` with the envelope and payload; its ``apply`` changes state."""
        self.trigger_event(event_class, **dict(envelope), **payload)

    @classmethod
    def create(cls, event_class: type[LedgerEvent], aggregate_id: UUID, envelope: Envelope, **payload: Any) -> Any:
        """Create the aggregate with its creation event."""
        return cls._create(event_class, id=aggregate_id, **dict(envelope), **payload)  # type: ignore[arg-type]
