"""What every store shares: how stored ids and command rows read, and batch sizes."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from aidledger.application.ports import CommandRecord

__all__ = ["BATCH", "LAST_POSITION", "GuardedReads", "canonical_id", "command_record"]

BATCH = 20_000
"""Rows read per query: large enough to amortise the query, small enough to hold no long lock."""

LAST_POSITION = 2**63 - 1
"""The largest position SQLite and PostgreSQL can hold."""

_HEX_DIGITS = "0123456789abcdef"


class GuardedReads:
    """Mixed into ``eventsourcing``'s recorders: the reads the repository makes through them run
    under the store's ``guard`` (aidledger's errors, and none after close)."""

    guard: Callable[[], AbstractContextManager[None]]

    def select_events(self, *args: Any, **kwargs: Any) -> Any:
        with self.guard():
            return super().select_events(*args, **kwargs)  # type: ignore[misc]

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        with self.guard():
            return super().select_notifications(*args, **kwargs)  # type: ignore[misc]

    def max_notification_id(self) -> Any:
        with self.guard():
            return super().max_notification_id()  # type: ignore[misc]


def canonical_id(value: object) -> str:
    """An originator id in the store-independent form: a lower-case hyphenated UUID.

    SQLite keeps ids as 32 lower-case hex digits and PostgreSQL as ``uuid``; both map to the same
    text. Any other stored text (only a hand-edited row has it) becomes ``!`` and that text: no UUID
    looks like it, so an id rewritten into another spelling of the same UUID still shows.
    """
    if isinstance(value, UUID):
        return str(value)
    text = str(value)
    if len(text) == 32 and not text.strip(_HEX_DIGITS):  # strip() is a fast "all hex" test
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return "!" + text


def command_record(row: Sequence[Any]) -> CommandRecord:
    """A commands-index row (command_id, name, digest, aggregate_id, positions) as a record."""
    command_id, name, digest, aggregate_id, positions = row
    return CommandRecord(
        command_id=str(command_id),
        name=str(name),
        digest=str(digest),
        aggregate_id=str(aggregate_id),
        positions=tuple(json.loads(positions)),
    )
