"""Who, when, why: every event of one aggregate, oldest first, with its audit envelope.

The aggregate is named by its UUID, or by the command id that created it (resolved as import files
resolve references, :func:`aidledger.interchange.commands.resolve_references`), or by any command
id the commands index holds (the aggregate that command changed).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from pydantic import BaseModel, ConfigDict

from aidledger.application.ledger import AidLedger
from aidledger.application.references import resolve_references
from aidledger.audit.leaves import read_rows
from aidledger.domain.base import LedgerEvent
from aidledger.errors import IntegrityFailure, NotFound

__all__ = ["AggregateHistory", "HistoryEntry", "history", "resolve_aggregate", "stored_event"]

KINDS = ("organization", "project", "pledge", "disbursement")
ENVELOPE = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "recorded_by",
        "effective_on",
        "source",
        "command_id",
        "reason",
    }
)


class HistoryEntry(BaseModel):
    """One event with its audit envelope."""

    model_config = ConfigDict(frozen=True)

    position: int
    version: int
    event: str
    recorded_at: datetime
    """When the ledger recorded it (transaction time, UTC)."""
    recorded_by: str
    """Who recorded it."""
    effective_on: date
    """When it happened in the world."""
    counts_from: date | None = None
    """For a reversal, the value date of the disbursement it reverses: as-of-date reports take the
    disbursement back from that date, not from ``effective_on`` (``None`` for every other event)."""
    source: dict[str, Any] | None
    """Evidence: reference, URL, document SHA-256."""
    command_id: str
    command: str | None
    """The command that stored it, from the commands index."""
    reason: str | None
    details: dict[str, Any]
    """The rest of the event's payload."""


class AggregateHistory(BaseModel):
    """Every event of one aggregate, oldest first."""

    model_config = ConfigDict(frozen=True)

    aggregate_id: UUID
    kind: str
    events: tuple[HistoryEntry, ...]


def resolve_aggregate(ledger: AidLedger, subject: UUID | str) -> UUID:
    """The aggregate id ``subject`` names: a UUID, a creating command id, or any command id."""
    text = str(subject).strip()
    try:
        return UUID(text)
    except ValueError:
        pass
    for kind in KINDS:
        candidate = UUID(resolve_references({f"{kind}_id": text})[f"{kind}_id"])
        if next(read_rows(ledger, originator_id=candidate), None) is not None:
            return candidate
    record = ledger.store.select_commands([text]).get(text)
    if record is not None:
        return UUID(record.aggregate_id)
    raise NotFound(f"no aggregate is named {text!r}: give its UUID or the id of a command that created or changed it")


def history(ledger: AidLedger, subject: UUID | str) -> AggregateHistory:
    """Every event of the aggregate ``subject`` names, oldest first, with who, when and why."""
    aggregate_id = resolve_aggregate(ledger, subject)
    rows = read_rows(ledger, originator_id=aggregate_id)
    entries = [_entry(ledger, row.position, stored_event(ledger, row)) for row in rows]
    if not entries:
        raise NotFound(f"aggregate {aggregate_id} has no events in this ledger")
    entries.sort(key=lambda entry: entry.version)
    entries = _with_counts_from(entries)
    kind = entries[0].event.split(".")[0].lower()
    return AggregateHistory(aggregate_id=aggregate_id, kind=kind, events=tuple(entries))


def stored_event(ledger: AidLedger, row: Any) -> LedgerEvent:
    """The ledger event a stored row holds; a row that holds none is an integrity failure."""
    try:
        originator_id = UUID(row.originator_id)
    except ValueError:
        raise IntegrityFailure(f"log position {row.position} holds an event with no valid id") from None
    stored = StoredEvent(originator_id, row.originator_version, str(row.topic), row.state)
    event = ledger.mapper.to_domain_event(stored)
    if not isinstance(event, LedgerEvent):
        raise IntegrityFailure(f"log position {row.position} holds a {type(event).__name__}, not a ledger event")
    return event


REVERSED_MADE = {"Disbursement.Reversed": "Disbursement.Made", "Pledge.DisbursementReversed": "Pledge.Disbursed"}
"""A reversal event and the event, in the same aggregate, that made what it reverses."""


def _with_counts_from(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """Reversals with the value date of the disbursement they reverse."""
    made_on = {
        (entry.event, entry.details.get("disbursement_id")): entry.effective_on
        for entry in entries
        if entry.event in REVERSED_MADE.values()
    }
    return [
        entry.model_copy(
            update={"counts_from": made_on.get((REVERSED_MADE[entry.event], entry.details.get("disbursement_id")))}
        )
        if entry.event in REVERSED_MADE
        else entry
        for entry in entries
    ]


def _entry(ledger: AidLedger, position: int, event: LedgerEvent) -> HistoryEntry:
    record = ledger.store.select_commands([event.command_id]).get(event.command_id)
    payload = event.model_dump(mode="json")
    return HistoryEntry(
        position=position,
        version=event.originator_version,
        event=type(event).__qualname__,
        recorded_at=event.timestamp,
        recorded_by=event.recorded_by,
        effective_on=event.effective_on,
        source=payload["source"],
        command_id=event.command_id,
        command=record.name if record is not None else None,
        reason=payload.get("reason"),
        details={name: value for name, value in payload.items() if name not in ENVELOPE},
    )
