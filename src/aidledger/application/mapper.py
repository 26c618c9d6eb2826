"""Pydantic events to stored events and back: canonical JSON with exact decimals and dates.

Stored event state is canonical JSON (:func:`aidledger.canonical.canonical_json`): keys sorted, no
whitespace, UTF-8, decimals as strings, dates as ``YYYY-MM-DD``. The same event always gives the
same bytes, whatever the store, which is what the audit trail hashes.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent, Transcoder
from eventsourcing.utils import TopicError, get_topic, resolve_topic
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from aidledger.application.ports import StoredRow
from aidledger.canonical import canonical_bytes
from aidledger.domain.values import TRUSTED
from aidledger.errors import UnreadableEvent

__all__ = ["LedgerMapper", "class_version", "event_of_row", "upcast"]


class LedgerMapper(Mapper[Any]):
    """Maps pydantic events to stored events as canonical JSON, and back to the same types.

    Upcasting works as in ``eventsourcing``: an event class with ``class_version = N`` defines
    ``upcast_vK_vK+1(state: dict)`` static methods, applied to older stored state before it is
    validated.
    """

    def __init__(self, transcoder: Transcoder | None = None, **_: Any) -> None:
        super().__init__(transcoder=transcoder or JSONTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """Turn a domain event into a stored event with canonical JSON state."""
        assert isinstance(domain_event, BaseModel), domain_event
        state = domain_event.model_dump(exclude={"originator_id", "originator_version"})
        version = class_version(type(domain_event))
        if version > 1:
            state["class_version"] = version
        return StoredEvent(
            originator_id=domain_event.originator_id,  # type: ignore[attr-defined]
            originator_version=domain_event.originator_version,  # type: ignore[attr-defined]
            topic=get_topic(type(domain_event)),
            state=canonical_bytes(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """Turn a stored event back into its pydantic event, upcasting older versions."""
        try:
            cls = resolve_topic(stored_event.topic)
            state = from_json(stored_event.state)  # pydantic-core's parser: no floats are ever stored
            if not isinstance(state, dict):
                raise TypeError("state is not a JSON object")  # noqa: TRY301 - reported as unreadable below
            upcast(cls, state)
            state["originator_id"] = stored_event.originator_id
            state["originator_version"] = stored_event.originator_version
            return cls.model_validate(state, context=TRUSTED)
        except (ValueError, TypeError, AttributeError, ImportError, TopicError, ValidationError) as error:
            where = (
                f"stored event {stored_event.originator_id} v{stored_event.originator_version} ({stored_event.topic})"
            )
            msg = f"{where} cannot be read: {error}"
            raise UnreadableEvent(msg) from None


def upcast(cls: type, state: dict[str, Any]) -> None:
    """Bring stored ``state`` of an older ``class_version`` of ``cls`` up to date, in place."""
    from_version = state.pop("class_version", 1)
    while from_version < class_version(cls):
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1


@cache
def class_version(cls: type) -> int:
    """The ``class_version`` of an event class (1 when it never changed)."""
    # Cached: a missing attribute on a pydantic model class is a slow metaclass lookup.
    return int(getattr(cls, "class_version", 1))


def event_of_row(mapper: Mapper[Any], row: StoredRow) -> Any:
    """The domain event a stored row holds, with its log position named if its id is not one."""
    try:
        originator_id = UUID(row.originator_id)
    except ValueError:
        msg = f"the stored event at log position {row.position} has no valid id ({row.originator_id!r})"
        raise UnreadableEvent(msg) from None
    return mapper.to_domain_event(StoredEvent(originator_id, row.originator_version, row.topic, row.state))
