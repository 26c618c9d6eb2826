"""The fold as stored beside the events: snapshots and deltas, bound to the log by the Merkle tree.

A *snapshot* is the whole fold at a log position, as MessagePack: the organizations, projects and
pledges in the order they entered the log, each pledge's running line, then the disbursements and
every fact (which a report of the ledger as it stands never needs, so they are decoded only when
asked for). The same history always gives the same bytes, so the SHA-256 of a snapshot — the
*projections digest* — names the figures of a log prefix as the Merkle root names its events;
checkpoints record it beside the root.

A *delta* holds what the events of one transaction add: each folded event's log position,
aggregate id, name and the fields the fold reads (see :mod:`aidledger.projections.events`).
Loading a fold reads the last snapshot and folds the deltas after it; no event is read or hashed.

Every segment carries the Merkle tree of the log up to its position (size, root, frontier, last
leaf) and a digest over the previous segment's digest, those fields and its payload: a changed
byte of any segment, or of the frontier, shows when the state is loaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from aidledger.application.ports import FoldSegment, StoredRow
from aidledger.canonical import canonical_json
from aidledger.errors import IntegrityFailure
from aidledger.merkle import MerkleAccumulator
from aidledger.projections import events
from aidledger.projections.fold import (
    BASE_COLUMNS,
    DisbursementRecord,
    Fact,
    LedgerFold,
    OrganizationRecord,
    PledgeRecord,
    ProjectRecord,
    money,
)

__all__ = [
    "FORMAT",
    "Difference",
    "Entry",
    "decode_delta",
    "decode_snapshot",
    "delta_entries",
    "differences",
    "encode_delta",
    "encode_snapshot",
    "projections_digest",
    "segment",
    "segment_digest",
]

FORMAT = "aidledger-fold/2"

Entry = tuple[int, str, str, Any]
"""A folded event as a delta keeps it: log position, aggregate id, event name, decoded record."""

FACT_EVENTS = (
    "Pledge.Made",
    "Pledge.Signed",
    "Pledge.Amended",
    "Pledge.Withdrawn",
    "Disbursement.Made",
    "Disbursement.Confirmed",
    "Disbursement.Reversed",
    "Disbursement.Returned",
)
"""The events that give facts; a snapshot names them by their index here."""
_EVENT_CODES = {name: code for code, name in enumerate(FACT_EVENTS)}
_COLUMN_CODES = {name: code for code, name in enumerate(BASE_COLUMNS)}

StoredFact = tuple[int, int, int, int, int, date, datetime, int, int]
"""A fact in a snapshot: position, event code, pledge index, column code, amount, effective on,
recorded at, year, disbursement index (-1 for none). Indexes count the snapshot's pledges and
disbursements in their order: ids are not repeated in every fact."""


class Snapshot(msgspec.Struct, array_like=True, gc=False):
    """The whole fold at ``position``: what reports of the ledger as it stands need first, then the
    disbursements and facts, which are decoded only when asked for."""

    format: str
    position: int
    organizations: msgspec.Raw
    """Decoded when first used: most reports of the ledger as it stands never name an organization."""
    projects: list[ProjectRecord]
    pledges: list[PledgeRecord]
    lines: list[list[int]]
    """Each pledge's base columns, in the order of ``pledges``."""
    fact_count: int
    disbursements: msgspec.Raw
    facts: msgspec.Raw


_ENCODER = msgspec.msgpack.Encoder()
_SNAPSHOT_DECODER = msgspec.msgpack.Decoder(Snapshot)
_DISBURSEMENTS_DECODER = msgspec.msgpack.Decoder(list[DisbursementRecord])
_ORGANIZATIONS_DECODER = msgspec.msgpack.Decoder(list[OrganizationRecord])
_FACTS_DECODER = msgspec.msgpack.Decoder(list[StoredFact])
_DELTA_DECODER = msgspec.json.Decoder(list[tuple[int, str, str, msgspec.Raw]])


def encode_snapshot(fold: LedgerFold) -> bytes:
    """The fold as snapshot bytes (MessagePack; the same fold always gives the same bytes)."""
    pledge_index = {pledge_id: index for index, pledge_id in enumerate(fold.pledges)}
    disbursement_index = {disbursement_id: index for index, disbursement_id in enumerate(fold.disbursements)}
    events, columns = _EVENT_CODES, _COLUMN_CODES
    facts = [
        (
            f.position,
            events[f.event],
            pledge_index[f.pledge_id],
            columns[f.column],
            f.amount,
            f.effective_on,
            f.recorded_at,
            f.year,
            -1 if f.disbursement_id is None else disbursement_index[f.disbursement_id],
        )
        for f in fold.facts
    ]
    snapshot = Snapshot(
        FORMAT,
        fold.position,
        msgspec.Raw(_ENCODER.encode(list(fold.organizations.values()))),
        list(fold.projects.values()),
        list(fold.pledges.values()),
        [fold.lines.get(pledge_id, []) for pledge_id in fold.pledges],
        len(facts),
        msgspec.Raw(_ENCODER.encode(list(fold.disbursements.values()))),
        msgspec.Raw(_ENCODER.encode(facts)),
    )
    return _ENCODER.encode(snapshot)


class _Unread:
    """A snapshot's disbursements and facts, decoded on first use."""

    def __init__(self, disbursements: bytes, facts: bytes) -> None:
        self.disbursements = disbursements
        self.facts = facts

    def read(self, fold: LedgerFold) -> tuple[dict[str, DisbursementRecord], list[Fact]]:
        disbursements = {record.id: record for record in _DISBURSEMENTS_DECODER.decode(self.disbursements)}
        pledge_ids = list(fold.pledges)
        disbursement_ids = list(disbursements)
        events, columns = FACT_EVENTS, BASE_COLUMNS
        facts = [
            Fact(
                position,
                events[event],
                pledge_ids[pledge],
                columns[column],
                amount,
                effective_on,
                recorded_at,
                year,
                None if disbursement < 0 else disbursement_ids[disbursement],
            )
            for position, event, pledge, column, amount, effective_on, recorded_at, year, disbursement in (
                _FACTS_DECODER.decode(self.facts)
            )
        ]
        return disbursements, facts


def decode_snapshot(payload: bytes) -> LedgerFold:
    """The fold a snapshot holds (its disbursements and facts are decoded when first asked for)."""
    try:
        snapshot = _SNAPSHOT_DECODER.decode(payload)
    except msgspec.DecodeError as error:
        raise ValueError(str(error)) from None
    if snapshot.format != FORMAT:
        raise ValueError(f"format {snapshot.format!r}, not {FORMAT!r}")
    if len(snapshot.lines) != len(snapshot.pledges):
        raise ValueError(f"{len(snapshot.lines)} pledge lines for {len(snapshot.pledges)} pledges")
    fold = LedgerFold()
    fold.position = snapshot.position
    organizations = bytes(snapshot.organizations)
    fold.keep_unread_records(
        "organizations", lambda: {record.id: record for record in _ORGANIZATIONS_DECODER.decode(organizations)}
    )
    fold.projects = {record.id: record for record in snapshot.projects}
    fold.pledges = {record.id: record for record in snapshot.pledges}
    fold.unvalued_pledges = sum(record.unvalued for record in snapshot.pledges)
    fold.lines = {record.id: line for record, line in zip(snapshot.pledges, snapshot.lines, strict=True) if line}
    fold.keep_unread(_Unread(bytes(snapshot.disbursements), bytes(snapshot.facts)), snapshot.fact_count)
    return fold


def projections_digest(fold: LedgerFold) -> str:
    """SHA-256 of the fold's snapshot: what checkpoints record beside the Merkle root."""
    return hashlib.sha256(encode_snapshot(fold)).hexdigest()


def delta_entries(rows: Iterable[StoredRow]) -> Iterator[Entry]:
    """The folded events among ``rows``, decoded."""
    for row in rows:
        decoded = events.decode(row)
        if decoded is not None:
            yield row.position, row.originator_id, decoded[0], decoded[1]


def encode_delta(entries: Sequence[Entry]) -> bytes:
    """A delta's payload."""
    return msgspec.json.encode(
        [
            (position, originator_id, name, msgspec.Raw(events.encode_state(record)))
            for position, originator_id, name, record in entries
        ]
    )


def decode_delta(payload: bytes) -> Iterator[Entry]:
    """The events a delta holds, decoded as the fold reads stored events."""
    for position, originator_id, name, state in _DELTA_DECODER.decode(payload):
        decoded = events.decode_named(name, bytes(state), position)
        yield position, originator_id, name, decoded


def segment_digest(
    previous: str,
    kind: str,
    first: int,
    position: int,
    size: int,
    root: bytes,
    frontier: bytes,
    last_leaf: bytes,
    payload: bytes,
) -> str:
    """SHA-256 over the previous segment's digest, a segment's fields and its payload."""
    header = canonical_json(
        {
            "previous": previous,
            "kind": kind,
            "first_position": first,
            "position": position,
            "size": size,
            "root": root.hex(),
            "frontier": frontier.hex(),
            "last_leaf": last_leaf.hex(),
        }
    )
    digest = hashlib.sha256(header)
    digest.update(payload)
    return digest.hexdigest()


def segment(
    kind: str,
    previous: FoldSegment | None,
    first: int,
    position: int,
    merkle: MerkleAccumulator,
    last_leaf: bytes,
    payload: bytes,
) -> FoldSegment:
    """A segment with its digest (a snapshot's digest does not depend on what came before)."""
    before = previous.digest if previous is not None and kind == "delta" else ""
    root, frontier = merkle.root(), merkle.frontier()
    return FoldSegment(
        kind=kind,
        first_position=first,
        position=position,
        size=merkle.size,
        root=root,
        frontier=frontier,
        last_leaf=last_leaf,
        payload=payload,
        digest=segment_digest(before, kind, first, position, merkle.size, root, frontier, last_leaf, payload),
    )


def check_segment(stored: FoldSegment, previous: FoldSegment | None) -> None:
    """Raise :class:`IntegrityFailure` unless the segment's digest matches its content."""
    before = previous.digest if previous is not None and stored.kind == "delta" else ""
    expected = segment_digest(
        before,
        stored.kind,
        stored.first_position,
        stored.position,
        stored.size,
        stored.root,
        stored.frontier,
        stored.last_leaf,
        stored.payload,
    )
    if expected != stored.digest:
        msg = (
            f"the stored projection state was changed behind the library's back: aidledger_fold segment "
            f"{stored.seq} ({stored.kind} up to log position {stored.position}) does not match its digest; "
            "run `aidledger verify` to see what differs, and `aidledger rebuild` to refold it from the events"
        )
        raise IntegrityFailure(msg)


Difference = tuple[int | None, str]
"""Where the stored state and the events disagree: the first log position concerned, and what."""

_KINDS = (
    ("organizations", "organization"),
    ("projects", "project"),
    ("pledges", "pledge"),
    ("disbursements", "disbursement"),
)


def differences(stored: LedgerFold, events_give: LedgerFold, *, limit: int = 20) -> list[Difference]:
    """What the stored fold holds that a fold of the events does not (both at one position): each
    record and fact that differs, and the grand totals, by name and value, at most ``limit``."""
    found: list[Difference] = []
    if stored.position != events_give.position:
        found.append((None, f"it covers log position {stored.position}, the events {events_give.position}"))
    for collection, kind in _KINDS:
        mine, theirs = getattr(stored, collection), getattr(events_give, collection)
        for record_id in [*mine, *(r for r in theirs if r not in mine)]:
            if len(found) >= limit:
                return found
            if mine.get(record_id) != theirs.get(record_id):
                found.append(_record_difference(kind, record_id, mine.get(record_id), theirs.get(record_id)))
    for index in range(max(len(stored.facts), len(events_give.facts))):
        if len(found) >= limit:
            return found
        mine_fact = stored.facts[index] if index < len(stored.facts) else None
        theirs_fact = events_give.facts[index] if index < len(events_give.facts) else None
        if mine_fact != theirs_fact:
            found.append(_fact_difference(mine_fact, theirs_fact))
            break  # the first differing fact is what an auditor needs; later ones follow from it
    found.extend(_total_differences(stored, events_give))
    return found[:limit]


def _record_difference(kind: str, record_id: str, mine: Any, theirs: Any) -> Difference:
    # Where a record's history first differs is not known: its difference names no position.
    if mine is None:
        return None, f"{kind} {record_id} is missing from the stored state"
    if theirs is None:
        return None, f"{kind} {record_id} is in the stored state but no event made it"
    fields = [name for name in mine.__struct_fields__ if getattr(mine, name) != getattr(theirs, name)]
    shown = ", ".join(
        f"{name}: stored {_shown(getattr(mine, name), name)}, events give {_shown(getattr(theirs, name), name)}"
        for name in fields[:3]
    )
    return None, f"{kind} {record_id} differs ({shown})"


def _fact_difference(mine: Fact | None, theirs: Fact | None) -> Difference:
    if mine is None or theirs is None:
        present = theirs if mine is None else mine
        assert present is not None
        side = "missing from the stored state" if mine is None else "in the stored state but no event gives it"
        return (
            present.position,
            f"fact at log position {present.position} ({present.event}, {present.column}) is {side}",
        )
    if (mine.position, mine.event, mine.pledge_id, mine.column) == (
        theirs.position,
        theirs.event,
        theirs.pledge_id,
        theirs.column,
    ):
        fields = [name for name in mine.__struct_fields__ if getattr(mine, name) != getattr(theirs, name)]
        shown = ", ".join(
            f"{name}: stored {_shown(getattr(mine, name), name)}, events give {_shown(getattr(theirs, name), name)}"
            for name in fields
        )
        return theirs.position, (
            f"fact at log position {theirs.position} ({theirs.event}, {theirs.column} of pledge {theirs.pledge_id}) "
            f"differs ({shown})"
        )
    return min(mine.position, theirs.position), (
        f"the facts part at log position {min(mine.position, theirs.position)}: stored {mine.event} {mine.column} "
        f"{money(mine.amount)}, events give {theirs.event} {theirs.column} {money(theirs.amount)}"
    )


def _total_differences(stored: LedgerFold, events_give: LedgerFold) -> list[Difference]:
    """The grand total of each column and currency, where the two folds' pledge lines disagree."""
    found: list[Difference] = []
    mine, theirs = _grand(stored), _grand(events_give)
    for currency in sorted(mine.keys() | theirs.keys()):
        zero = [0] * len(BASE_COLUMNS)
        for index, column in enumerate(BASE_COLUMNS):
            a, b = mine.get(currency, zero)[index], theirs.get(currency, zero)[index]
            if a != b:
                gives = f"the stored state gives {money(a):,}, the events give {money(b):,}"
                found.append((None, f"figure {column} {currency}: {gives}"))
    return found


def _grand(fold: LedgerFold) -> dict[str, list[int]]:
    sums: dict[str, list[int]] = {}
    for pledge_id, line in fold.lines.items():
        pledge = fold.pledges.get(pledge_id)
        currency = pledge.currency if pledge is not None else "?"
        total = sums.setdefault(currency, [0] * len(BASE_COLUMNS))
        for index, amount in enumerate(line):
            total[index] += amount
    return sums


def _shown(value: Any, name: str = "") -> str:
    if name == "amount" and isinstance(value, int):
        return f"{money(value):,}"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
