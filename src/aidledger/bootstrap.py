"""``aidledger.open()``: the one place that wires the layers together.

It opens the store (:mod:`aidledger.storage`), gives it to the application with the projections
that keep the derived state current (:mod:`aidledger.projections`), and returns the ledger. The
layers never construct each other: each gets what it needs handed in here.
"""

from __future__ import annotations

from pathlib import Path

from aidledger.application import AidLedger
from aidledger.projections import Projections
from aidledger.storage import open_store

__all__ = ["open_ledger"]


def open_ledger(
    db: str | Path = ":memory:",
    *,
    recorded_by: str | None = None,
    allow_disbursing_intended: bool = False,
    read_only: bool = False,
    create: bool = True,
) -> AidLedger:
    """Open a ledger on an SQLite file path (created when missing), ``":memory:"``, or a
    ``postgresql://`` URL (with the ``postgres`` extra installed).

    ``read_only`` opens an existing ledger without changing it: no table is created and nothing
    is stored, not even derived state. ``create=False`` opens only an existing ledger: an empty file
    or database is refused instead of becoming one. A file or database that is not an aidledger ledger
    (another application's SQLite file, say) is always refused, and left as it was.
    """
    store = open_store(db, read_only=read_only, create=create)
    try:
        return AidLedger(
            store,
            follower=Projections(store),
            recorded_by=recorded_by,
            allow_disbursing_intended=allow_disbursing_intended,
        )
    except BaseException:
        store.close()
        raise
