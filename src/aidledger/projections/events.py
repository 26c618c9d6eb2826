"""What the fold reads of each stored event: only the fields it needs, decoded straight from JSON.

Stored events were validated when they were recorded, and their state is canonical JSON the
library wrote itself, so the fold does not rebuild pydantic events: it decodes each state into a
small typed record (a ``msgspec`` struct) with just the fields that reports use, ignoring the
rest. A state that does not have the expected shape (only a row edited behind the library's back
has one) is refused as :class:`~aidledger.errors.UnreadableEvent`, naming its log position.

The same records, encoded again, are what a delta of the derived state stores
(:mod:`aidledger.projections.state`): a subset of the stored JSON with the same field names, so one
decoder reads both.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec
from eventsourcing.utils import get_topic

from aidledger.application.mapper import class_version, upcast
from aidledger.application.ports import StoredRow
from aidledger.domain.disbursement import Disbursement
from aidledger.domain.organization import Organization
from aidledger.domain.pledge import Pledge
from aidledger.domain.project import Project
from aidledger.errors import UnreadableEvent

__all__ = [
    "EVENT_TYPES",
    "Amount",
    "Change",
    "Decoded",
    "Item",
    "decode",
    "decode_named",
    "encode_state",
    "event_name",
]


class Amount(msgspec.Struct, frozen=True):
    """Money as stored: a decimal string and an ISO 4217 code."""

    value: str
    currency: str


class Item(msgspec.Struct, frozen=True):
    """An in-kind item as stored."""

    description: str
    quantity: str
    unit: str


class Change(msgspec.Struct, frozen=True):
    """Every event: when it happened in the world, and when the ledger recorded it."""

    effective_on: date
    timestamp: datetime


class Profile(msgspec.Struct, frozen=True):
    """An organization's profile."""

    name: str
    kind: str
    level: str
    home_region: str
    credit_code: str | None = None
    charity: bool = False
    charity_since: date | None = None
    public_fundraising: bool = False
    public_fundraising_from: date | None = None
    public_fundraising_until: date | None = None


class ProfileChanged(Change, frozen=True):
    """``Organization.Registered`` and ``Organization.Updated``."""

    profile: Profile


class Plan(msgspec.Struct, frozen=True):
    """A project's plan."""

    title: str
    implementing_organization_id: str
    category: str
    field: str
    planned_start: date
    planned_end: date
    region: str | None = None
    pooled_fund: bool = False
    campaigns: tuple[str, ...] = ()
    budget: Amount | None = None


class ProjectRegistered(Change, frozen=True):
    """``Project.Registered``."""

    plan: Plan


class BeneficiariesReported(Change, frozen=True):
    """``Project.BeneficiariesReported``."""

    person_times: int
    households: int | None = None
    persons: int | None = None


class Disclosure(msgspec.Struct, frozen=True):
    """A published report."""

    kind: str
    period_start: date
    period_end: date
    channel: str
    url: str | None = None
    content_sha256: str | None = None


class Disclosed(Change, frozen=True):
    """``Project.Disclosed``."""

    disclosure: Disclosure


class PoolDraw(msgspec.Struct, frozen=True):
    """What a regrant from a pooled fund drew from one pledge into the pool."""

    pledge_id: str
    amount: str


class PledgeTerms(msgspec.Struct, frozen=True):
    """What a pledge promised."""

    donor_id: str
    project_id: str
    amount: Amount
    items: tuple[Item, ...] = ()
    channel_id: str | None = None
    funded_from: str | None = None
    anonymous: bool = False
    flow: str = "donation"
    funded_from_pool: str | None = None
    drawn_from: tuple[PoolDraw, ...] = ()


class PledgeMade(Change, frozen=True):
    """``Pledge.Made``."""

    terms: PledgeTerms
    stage: str


class AmountChanged(Change, frozen=True):
    """``Pledge.Amended`` and ``Disbursement.Returned``."""

    amount: Amount


class DisbursementTerms(msgspec.Struct, frozen=True):
    """What a disbursement handed over."""

    pledge_id: str
    amount: Amount
    method: str
    items: tuple[Item, ...] = ()


class DisbursementMade(Change, frozen=True):
    """``Disbursement.Made``."""

    terms: DisbursementTerms


Decoded = Change
"""What :func:`decode` gives: a :class:`Change` or one of its richer kinds."""

EVENT_TYPES: dict[str, tuple[type, type[Change]]] = {
    "Organization.Registered": (Organization.Registered, ProfileChanged),
    "Organization.Updated": (Organization.Updated, ProfileChanged),
    "Organization.Deregistered": (Organization.Deregistered, Change),
    "Project.Registered": (Project.Registered, ProjectRegistered),
    "Project.Started": (Project.Started, Change),
    "Project.Completed": (Project.Completed, Change),
    "Project.Cancelled": (Project.Cancelled, Change),
    "Project.BeneficiariesReported": (Project.BeneficiariesReported, BeneficiariesReported),
    "Project.Disclosed": (Project.Disclosed, Disclosed),
    "Pledge.Made": (Pledge.Made, PledgeMade),
    "Pledge.Signed": (Pledge.Signed, Change),
    "Pledge.Amended": (Pledge.Amended, AmountChanged),
    "Pledge.Withdrawn": (Pledge.Withdrawn, Change),
    "Disbursement.Made": (Disbursement.Made, DisbursementMade),
    "Disbursement.Confirmed": (Disbursement.Confirmed, Change),
    "Disbursement.Reversed": (Disbursement.Reversed, Change),
    "Disbursement.Returned": (Disbursement.Returned, AmountChanged),
}
"""The events that change a figure or a description, by name: their domain class and the record
the fold reads. The pledge's twins of disbursement events (``Pledge.Disbursed`` …) and
``Pledge.RegrantAllocated`` carry no new figure: disbursements are counted once, from the
Disbursement aggregate."""

_BY_TOPIC: dict[str, tuple[str, type, msgspec.json.Decoder[Any]]] = {
    get_topic(domain_class): (name, domain_class, msgspec.json.Decoder(record))
    for name, (domain_class, record) in EVENT_TYPES.items()
}
_BY_NAME = {name: (domain_class, decoder) for name, domain_class, decoder in _BY_TOPIC.values()}
_ENCODER = msgspec.json.Encoder()


def event_name(topic: str) -> str | None:
    """``Pledge.Made`` for the topic of a folded event; ``None`` for any other topic."""
    found = _BY_TOPIC.get(topic)
    return found[0] if found else None


def decode(row: StoredRow) -> tuple[str, Decoded] | None:
    """The event's name and record, or ``None`` when the fold does not read events of its topic."""
    found = _BY_TOPIC.get(row.topic) if type(row.topic) is str else None
    if found is None:
        return None
    name, domain_class, decoder = found
    return name, _decode(domain_class, decoder, row.state, row.position, row.topic)


def decode_named(name: str, state: bytes, position: int) -> Decoded:
    """The record of a folded event given by name (as a delta of the derived state keeps it)."""
    found = _BY_NAME.get(name)
    if found is None:
        raise UnreadableEvent(f"the derived state names an unknown event {name!r} at log position {position}")
    return _decode(found[0], found[1], state, position, name)


def _decode(domain_class: type, decoder: msgspec.json.Decoder[Any], state: Any, position: int, what: str) -> Decoded:
    try:
        if not isinstance(state, bytes):  # only a hand-edited row holds TEXT
            state = bytes(state) if isinstance(state, memoryview | bytearray) else str(state).encode()
        if class_version(domain_class) > 1 or b'"class_version"' in state:  # bring an older version up to date
            data = msgspec.json.decode(state)
            upcast(domain_class, data)
            state = _ENCODER.encode(data)
        decoded: Decoded = decoder.decode(state)
    except (msgspec.DecodeError, TypeError, ValueError, AttributeError) as error:
        msg = f"the stored event at log position {position} ({what}) cannot be read: {error}"
        raise UnreadableEvent(msg) from None
    return decoded


def encode_state(record: Decoded) -> bytes:
    """The record as JSON with the field names of the stored state (what a delta keeps)."""
    return _ENCODER.encode(record)
