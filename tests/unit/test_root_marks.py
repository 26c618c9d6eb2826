"""As-of reports name the Merkle root of the log prefix they read. ``root_of`` hashes a prefix on
from the nearest frontier it kept while hashing an earlier one; the roots must be those of the
events themselves, in any order of asking."""

from __future__ import annotations

import random

import pytest

import aidledger
from aidledger.demo import history
from aidledger.interchange.commands import run_command
from aidledger.merkle import MerkleAccumulator, leaf_hash_of
from aidledger.projections import projections_of, runner


def test_roots_hashed_on_from_kept_frontiers_are_the_roots_of_the_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "MARK_EVERY", 16)  # many marks in a small ledger
    with aidledger.open(":memory:", recorded_by="clerk") as ledger:
        for record in list(history())[:400]:
            run_command(ledger, record)
        rows = list(ledger.store.read_rows())
        expected = {}
        accumulator = MerkleAccumulator()
        for row in rows:
            accumulator.append(leaf_hash_of(row))
            expected[row.position] = accumulator.root().hex()
        last = rows[-1].position
        asked = [last // 2, 3, last - 1, 1, last // 2 + 17, *random.Random(7).sample(range(1, last), 40)]
        found = {position: projections_of(ledger).root_of(position) for position in asked}
    assert found == {position: expected[position] for position in asked}
    assert len(asked) > 40 and last > 300
