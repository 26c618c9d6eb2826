"""The leaves of the audit tree, read from a ledger's store: every stored event as it is.

Rows are read with plain SQL by the store, in short batches, so that whatever is in the table is
what is hashed: rows edited behind the library's back included. Leaf bytes and hashes are defined
in :mod:`aidledger.merkle`; the event at log position ``p`` is leaf ``p - 1`` when positions have
no gaps (SQLite), and the ``n``-th stored event is leaf ``n - 1`` in any store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from aidledger.application.ledger import AidLedger
from aidledger.application.ports import StoredRow
from aidledger.canonical import canonical_json
from aidledger.errors import IntegrityFailure, NotFound
from aidledger.merkle import leaf_bytes, leaf_hash_of

__all__ = [
    "StoredRow",
    "event_object",
    "first_originator_id",
    "leaf_bytes",
    "leaf_hash_of",
    "read_rows",
]


def read_rows(
    ledger: AidLedger, start: int = 1, stop: int | None = None, *, originator_id: UUID | None = None
) -> Iterator[StoredRow]:
    """The stored rows in log order, from position ``start`` to ``stop`` (inclusive).

    With ``originator_id`` only that aggregate's rows are read.
    """
    if originator_id is None:
        yield from ledger.store.read_rows(start, stop)
        return
    for row in ledger.store.read_aggregate_rows(str(originator_id)):
        if row.position >= start and (stop is None or row.position <= stop):
            yield row


def event_object(row: StoredRow) -> dict[str, Any]:
    """The leaf as a JSON object (for proofs); refuses rows whose leaf is not canonical JSON."""
    raw = leaf_bytes(row)
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict) or canonical_json(data) != raw:
        msg = f"the event at log position {row.position} is not canonical JSON; run `aidledger verify`"
        raise IntegrityFailure(msg)
    return data


def first_originator_id(ledger: AidLedger) -> str:
    """The originator id of the first stored event (what a default origin is named after)."""
    for row in ledger.store.read_rows(1, None):
        return row.originator_id
    raise NotFound("the ledger is empty: there is no first event to name it after")


_ = leaf_hash_of  # re-exported for the audit modules
