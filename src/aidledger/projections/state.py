"""The fold as stored beside the events: snapshots and deltas, bound to the log by the Merkle tree.

A *snapshot* is the whole fold at a log position, as JSON: the organizations, projects, pledges
and disbursements in the order they entered the log, then every fact. The same history always
gives the same bytes, so the SHA-256 of a snapshot — the *projections digest* — names the figures
of a log prefix as the Merkle root names its events; checkpoints record it beside the root.

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
from typing import Any

import msgspec

from aidledger.application.ports import FoldSegment, StoredRow
from aidledger.canonical import canonical_json
from aidledger.errors import IntegrityFailure
from aidledger.merkle import MerkleAccumulator
from aidledger.projections import events
from aidledger.projections.fold import (
    COLUMN_INDEX,
    DisbursementRecord,
    Fact,
    LedgerFold,
    OrganizationRecord,
    PledgeRecord,
    ProjectRecord,
)

__all__ = [
    "FORMAT",
    "Entry",
    "decode_delta",
    "decode_snapshot",
    "delta_entries",
    "encode_delta",
    "encode_snapshot",
    "projections_digest",
    "segment",
    "segment_digest",
]

FORMAT = "aidledger-fold/1"

Entry = tuple[int, str, str, Any]
"""A folded event as a delta keeps it: log position, aggregate id, event name, decoded record."""


class Snapshot(msgspec.Struct, array_like=True, gc=False):
    """The whole fold at ``position``."""

    format: str
    position: int
    organizations: list[OrganizationRecord]
    projects: list[ProjectRecord]
    pledges: list[PledgeRecord]
    disbursements: list[DisbursementRecord]
    facts: list[Fact]


_SNAPSHOT_ENCODER = msgspec.json.Encoder()
_SNAPSHOT_DECODER = msgspec.json.Decoder(Snapshot)
_DELTA_DECODER = msgspec.json.Decoder(list[tuple[int, str, str, msgspec.Raw]])


def encode_snapshot(fold: LedgerFold) -> bytes:
    """The fold as snapshot bytes (the same fold always gives the same bytes)."""
    snapshot = Snapshot(
        FORMAT,
        fold.position,
        list(fold.organizations.values()),
        list(fold.projects.values()),
        list(fold.pledges.values()),
        list(fold.disbursements.values()),
        fold.facts,
    )
    return _SNAPSHOT_ENCODER.encode(snapshot)


def decode_snapshot(payload: bytes) -> LedgerFold:
    """The fold a snapshot holds; its running lines are summed again from its facts."""
    snapshot = _SNAPSHOT_DECODER.decode(payload)
    if snapshot.format != FORMAT:
        raise ValueError(f"format {snapshot.format!r}, not {FORMAT!r}")
    fold = LedgerFold()
    fold.position = snapshot.position
    fold.organizations = {record.id: record for record in snapshot.organizations}
    fold.projects = {record.id: record for record in snapshot.projects}
    fold.pledges = {record.id: record for record in snapshot.pledges}
    fold.disbursements = {record.id: record for record in snapshot.disbursements}
    fold.facts = snapshot.facts
    lines, year_lines, index = fold.lines, fold.year_lines, COLUMN_INDEX
    for fact in fold.facts:
        line = lines.get(fact.pledge_id)
        if line is None:
            line = lines[fact.pledge_id] = [0, 0, 0, 0, 0, 0, 0]
        line[index[fact.column]] += fact.amount
        key = (fact.pledge_id, fact.year)
        line = year_lines.get(key)
        if line is None:
            line = year_lines[key] = [0, 0, 0, 0, 0, 0, 0]
        line[index[fact.column]] += fact.amount
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
