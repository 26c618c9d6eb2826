"""Keep the fold up to date incrementally, persisted beside the events with its tracking position.

The fold's state (descriptive records and facts) lives in two tables in the ledger's own
database, written in one transaction with ``eventsourcing``'s tracking record. The tracking
record only moves forward, so a batch of events can never be counted twice: a second writer of
the same batch fails and reloads. Loading the state reads those tables, not the events; folding
new events costs in proportion to the new events only. ``rebuild`` folds from scratch, and must
give byte-identical reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder
from pydantic import TypeAdapter

from aidledger.audit.roots import LogRoots
from aidledger.projections.fold import (
    DisbursementRecord,
    Fact,
    LedgerFold,
    OrganizationRecord,
    PledgeRecord,
    ProjectRecord,
)
from aidledger.projections.report import name_roots

if TYPE_CHECKING:
    from aidledger.application import AidLedger

__all__ = ["FoldRecorder", "FoldStore", "Projections", "fold_store_for"]

TRACKING_NAME = "aidledger-fold"
FACTS_TABLE = "aidledger_facts"
RECORDS_TABLE = "aidledger_records"

_RECORD_TYPES: dict[str, Any] = {
    "organization": OrganizationRecord,
    "project": ProjectRecord,
    "pledge": PledgeRecord,
    "disbursement": DisbursementRecord,
}
_ADAPTERS = {kind: TypeAdapter(cls) for kind, cls in _RECORD_TYPES.items()}
_COLLECTIONS = {
    "organization": "organizations",
    "project": "projects",
    "pledge": "pledges",
    "disbursement": "disbursements",
}


FACTS_COLUMNS = (
    "position BIGINT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, pledge_id TEXT NOT NULL, "
    "column_name TEXT NOT NULL, amount TEXT NOT NULL, effective_on TEXT NOT NULL, "
    "recorded_at TEXT NOT NULL, year INTEGER NOT NULL, disbursement_id TEXT, PRIMARY KEY (position, seq)"
)
RECORDS_COLUMNS = "kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id)"


class FoldStore:
    """The fold's facts and records beside ``eventsourcing``'s tracking table, for any store.

    Mixed into a tracking recorder of ``eventsourcing`` (SQLite or PostgreSQL), whose
    ``_insert_tracking`` only moves forward: that is what makes a batch impossible to store twice.
    """

    placeholder = "?"
    tracking_table = "tracking"
    datastore: Any

    if TYPE_CHECKING:  # provided by the eventsourcing tracking recorder this is mixed into

        def _insert_tracking(self, c: Any, tracking: Tracking) -> None: ...

        def _max_tracking_id(self, application_name: str, c: Any) -> int | None: ...

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.placeholder)

    def save(self, position: int, facts: list[Fact], records: list[tuple[str, Any]]) -> None:
        """Store a batch and move the tracking position, atomically; fails if already stored."""
        with self.datastore.transaction(commit=True) as c:
            self._insert_tracking(c, Tracking(TRACKING_NAME, position))
            if facts:
                c.executemany(self._sql(f"INSERT INTO {FACTS_TABLE} VALUES (?,?,?,?,?,?,?,?,?,?)"), _fact_rows(facts))
            if records:
                c.executemany(
                    self._sql(
                        f"INSERT INTO {RECORDS_TABLE} VALUES (?,?,?) "
                        "ON CONFLICT (kind, id) DO UPDATE SET data=excluded.data"
                    ),
                    [(kind, str(record.id), _ADAPTERS[kind].dump_json(record).decode()) for kind, record in records],
                )

    def position(self) -> int:
        """The tracked position (0 when nothing was folded)."""
        with self.datastore.transaction(commit=False) as c:
            return int(self._max_tracking_id(TRACKING_NAME, c) or 0)

    def load(self) -> LedgerFold:
        """Rebuild the in-memory fold from the stored facts and records (no events are read)."""
        fold = LedgerFold()
        with self.datastore.transaction(commit=False) as c:
            fold.position = int(self._max_tracking_id(TRACKING_NAME, c) or 0)
            c.execute(f"SELECT kind, data FROM {RECORDS_TABLE} ORDER BY kind, id")
            for row in c.fetchall():
                record = _ADAPTERS[row["kind"]].validate_json(row["data"])
                getattr(fold, _COLLECTIONS[row["kind"]])[record.id] = record
            c.execute(
                self._sql(f"SELECT * FROM {FACTS_TABLE} WHERE position <= ? ORDER BY position, seq"), (fold.position,)
            )
            fold.facts = [_fact_from_row(row) for row in c.fetchall()]
        return fold

    def clear(self) -> None:
        """Forget the stored fold (for a rebuild in place)."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {FACTS_TABLE}")
            c.execute(f"DELETE FROM {RECORDS_TABLE}")
            c.execute(self._sql(f"DELETE FROM {self.tracking_table} WHERE application_name = ?"), (TRACKING_NAME,))


class FoldRecorder(FoldStore, SQLiteTrackingRecorder):
    """The fold store in the ledger's SQLite database."""

    def construct_create_table_statements(self) -> list[str]:
        """Tracking (from ``eventsourcing``), facts and records."""
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {FACTS_TABLE} ({FACTS_COLUMNS})",
            f"CREATE TABLE IF NOT EXISTS {RECORDS_TABLE} ({RECORDS_COLUMNS})",
        ]


def _fact_rows(facts: list[Fact]) -> list[tuple[Any, ...]]:
    seq: dict[int, int] = {}
    rows = []
    for fact in facts:
        seq[fact.position] = seq.get(fact.position, -1) + 1
        rows.append(
            (
                fact.position,
                seq[fact.position],
                fact.event,
                str(fact.pledge_id),
                fact.column,
                str(fact.amount),
                fact.effective_on.isoformat(),
                fact.recorded_at.isoformat(),
                fact.year,
                str(fact.disbursement_id) if fact.disbursement_id else None,
            )
        )
    return rows


def _fact_from_row(row: Any) -> Fact:
    return Fact(
        position=row["position"],
        event=row["event"],
        pledge_id=UUID(row["pledge_id"]),
        column=row["column_name"],
        amount=Decimal(row["amount"]),
        effective_on=date.fromisoformat(row["effective_on"]),
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
        year=row["year"],
        disbursement_id=UUID(row["disbursement_id"]) if row["disbursement_id"] else None,
    )


class Projections:
    """The ledger's fold, kept current incrementally and persisted in the ledger's database."""

    def __init__(self, ledger: AidLedger, *, batch: int = 5000) -> None:
        self.ledger = ledger
        self.batch = batch
        self.recorder = fold_store_for(ledger)
        self.recorder.create_table()
        self.roots = LogRoots(ledger)
        self._fold: LedgerFold | None = None

    @property
    def fold(self) -> LedgerFold:
        """The fold, brought up to the newest event."""
        self.refresh()
        assert self._fold is not None
        return self._fold

    def refresh(self) -> int:
        """Fold the events recorded since the last refresh; returns how many were folded."""
        if self._fold is None or self._fold.position != self.recorder.position():
            self._fold = self._load()
        folded = 0
        while True:
            fold = self._fold
            events = list(self._new_events(fold.position))
            if not events:
                return folded
            facts_before = len(fold.facts)
            changed: dict[tuple[str, UUID], None] = {}
            for position, event in events:
                fold.apply(position, event)
                changed[(_kind_of(event), event.originator_id)] = None
            try:
                self.recorder.save(fold.position, fold.facts[facts_before:], self._records(fold, changed))
            except IntegrityError:  # another process stored this batch first: take its result
                self._fold = self._load()
                continue
            folded += len(events)

    def _load(self) -> LedgerFold:
        """The stored fold; its reports name the Merkle root of the log prefix they read."""
        fold: LedgerFold = self.recorder.load()
        name_roots(fold, self.roots.root_at)
        return fold

    def _new_events(self, after: int) -> Iterator[tuple[int, Any]]:
        last = self.ledger.position()
        if last <= after:
            return iter(())
        return self.ledger.read_log(after + 1, min(last, after + self.batch))

    @staticmethod
    def _records(fold: LedgerFold, changed: dict[tuple[str, UUID], None]) -> list[tuple[str, Any]]:
        records = []
        for kind, aggregate_id in changed:
            record = getattr(fold, _COLLECTIONS[kind]).get(aggregate_id)
            if record is not None:
                records.append((kind, record))
        return records

    def rebuild(self) -> LedgerFold:
        """A fresh fold of the whole log, from scratch (the stored fold is left alone)."""
        fold = LedgerFold()
        fold.apply_all(self.ledger.read_log())
        name_roots(fold, self.roots.root_at)
        return fold


def fold_store_for(ledger: AidLedger) -> Any:
    """The fold store in the ledger's own database (SQLite or PostgreSQL)."""
    datastore = ledger.recorder.datastore  # type: ignore[attr-defined]
    if type(datastore).__module__.startswith("eventsourcing.postgres"):
        from aidledger.postgres import PostgresFoldRecorder

        return PostgresFoldRecorder(datastore=datastore)
    return FoldRecorder(datastore=datastore)


def _kind_of(event: Any) -> str:
    return type(event).__qualname__.split(".")[0].lower()
