"""Merkle roots of log prefixes, kept incrementally so that every report can name its checkpoint.

The projections runner asks :meth:`LogRoots.root_at` for the root of the events at or before the
position a report was computed at. The newest root is extended leaf by leaf as the log grows (cost
in proportion to new events); a root at an earlier position is recomputed from the stored rows.
Nothing is cached on disk: the first report after opening a ledger hashes the log once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aidledger.audit.leaves import leaf_hash_of, read_rows
from aidledger.audit.merkle import MerkleAccumulator

if TYPE_CHECKING:
    from aidledger.application import AidLedger

__all__ = ["LogRoots", "root_at"]


def root_at(ledger: AidLedger, position: int) -> str:
    """The hex Merkle root of the events at or before log ``position``, from the stored rows."""
    accumulator = MerkleAccumulator(leaf_hash_of(row) for row in read_rows(ledger, 1, position))
    return accumulator.root().hex()


class LogRoots:
    """Roots of a ledger's log prefixes, with the newest kept incrementally."""

    def __init__(self, ledger: AidLedger) -> None:
        self.ledger = ledger
        self._accumulator = MerkleAccumulator()
        self._position = 0

    def root_at(self, position: int) -> str:
        """The hex Merkle root of the events at or before log ``position``."""
        if position < self._position:
            return root_at(self.ledger, position)
        if position > self._position:
            for row in read_rows(self.ledger, self._position + 1, position):
                self._accumulator.append(leaf_hash_of(row))
            self._position = position
        return self._accumulator.root().hex()
