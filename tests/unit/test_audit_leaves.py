"""Leaf bytes: canonical JSON of each stored event, the same whatever store holds the history."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from tests.audit_support import copy_rows, edit, reading, record_story, rows, story_ledger
from tests.ledger_fixtures import connect_raw
from tests.support.postgres_server import PostgresServer

import aidledger
from aidledger import AidLedger
from aidledger.audit.checkpoint import make_checkpoint
from aidledger.audit.leaves import StoredRow, event_object, leaf_bytes, read_rows
from aidledger.canonical import canonical_json
from aidledger.errors import IntegrityFailure, InvalidInput
from aidledger.storage.rows import canonical_id


def test_leaf_bytes_are_canonical_json_of_id_version_state_and_topic(ledger: AidLedger) -> None:
    """Every leaf is the canonical JSON of exactly four fields, the state parsed; no store detail."""
    record_story(ledger)
    events = dict(ledger.read_log())
    for row in read_rows(ledger):
        leaf = json.loads(leaf_bytes(row))
        assert set(leaf) == {"originator_id", "originator_version", "state", "topic"}
        assert canonical_json(leaf) == leaf_bytes(row)
        event = events[row.position]
        assert leaf["originator_id"] == str(event.originator_id)  # hyphenated, not SQLite's hex
        assert leaf["originator_version"] == event.originator_version
        assert leaf["topic"].endswith(type(event).__qualname__)
        assert leaf["state"]["command_id"] == event.command_id


def test_rows_come_in_log_order_with_their_positions(ledger: AidLedger) -> None:
    """Positions are the notification ids, 1 to n, the order ``read_log`` gives."""
    record_story(ledger)
    assert [row.position for row in read_rows(ledger)] == [p for p, _ in ledger.read_log()]
    assert [row.position for row in read_rows(ledger, 3, 5)] == [3, 4, 5]


def test_the_same_rows_in_another_file_give_the_same_root(tmp_path: Path) -> None:
    """Copying the stored rows into a fresh ledger file reproduces the root exactly."""
    original, copy = tmp_path / "original.db", tmp_path / "copy.db"
    ledger, _ = story_ledger(original)
    ledger.close()
    copy_rows(original, copy)
    with reading(copy) as copied, reading(original) as first:
        assert make_checkpoint(copied)[0] == make_checkpoint(first)[0]


def test_the_same_rows_in_an_in_memory_ledger_give_the_same_root(tmp_path: Path) -> None:
    """A file and a private in-memory database holding the same rows agree on the root."""
    original = tmp_path / "original.db"
    ledger, _ = story_ledger(original)
    ledger.close()
    with aidledger.open(":memory:") as memory:
        with connect_raw(memory) as connection:
            connection.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", [r[1:] for r in rows(original)])
        with reading(original) as first:
            assert make_checkpoint(memory)[0] == make_checkpoint(first)[0]


def test_an_sqlite_and_a_postgresql_copy_of_one_history_give_the_same_root(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """The leaves hold no store detail: PostgreSQL's uuid ids and SQLite's hex ids hash alike."""
    original = tmp_path / "original.db"
    ledger, _ = story_ledger(original)
    ledger.close()
    copied = [StoredEvent(UUID(r[1]), r[2], r[3], r[4]) for r in rows(original)]
    with aidledger.open(postgres_server.create_database("audit_copy")) as postgres:
        postgres.recorder.insert_events(copied)
        assert [row.position for row in read_rows(postgres)] == [r[0] for r in rows(original)]
        with reading(original) as first:
            assert make_checkpoint(postgres)[0] == make_checkpoint(first)[0]


def test_a_history_recorded_again_has_another_root_because_timestamps_are_state(tmp_path: Path) -> None:
    """The library's timestamp is part of each event, so a re-recorded history is a different log."""
    first, _ = story_ledger(tmp_path / "first.db")
    second, _ = story_ledger(tmp_path / "second.db")
    assert make_checkpoint(first)[0].root != make_checkpoint(second)[0].root
    first.close()
    second.close()


def test_rows_edited_behind_the_library_are_what_is_read(tmp_path: Path) -> None:
    """Reading goes to the table itself: an edit made with plain SQL shows in the leaf."""
    path = tmp_path / "ledger.db"
    ledger, _ = story_ledger(path)
    ledger.close()
    with reading(path) as read:
        before = [leaf_bytes(row) for row in read_rows(read)]
    edit(path, "UPDATE stored_events SET topic=topic || ' ' WHERE rowid=2")
    with reading(path) as read:
        after = [leaf_bytes(row) for row in read_rows(read)]
    assert [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b] == [1]


@pytest.mark.parametrize(
    ("stored", "canonical"),
    [
        ("c416c426cd655dd5b9443ec29dd1c0a4", "c416c426-cd65-5dd5-b944-3ec29dd1c0a4"),
        (UUID("c416c426cd655dd5b9443ec29dd1c0a4"), "c416c426-cd65-5dd5-b944-3ec29dd1c0a4"),
        ("C416C426CD655DD5B9443EC29DD1C0A4", "!C416C426CD655DD5B9443EC29DD1C0A4"),
        ("c416c426cd655dd5b9443ec29dd1c0a", "!c416c426cd655dd5b9443ec29dd1c0a"),
        ("c416c426-cd65-5dd5-b944-3ec29dd1c0a4", "!c416c426-cd65-5dd5-b944-3ec29dd1c0a4"),
    ],
)
def test_ids_take_one_form_and_hand_edited_forms_stay_visible(stored: object, canonical: str) -> None:
    """SQLite hex and UUID objects map to the hyphenated form; anything else is marked with ``!``.

    The mark matters for the last case: an id rewritten into another spelling of the same UUID
    would hide from the library (which looks rows up by their hex form) while hashing alike.
    """
    assert canonical_id(stored) == canonical


def test_a_leaf_that_is_not_canonical_json_is_refused_as_a_proof_event() -> None:
    """A proof must show canonical bytes; a state with a space in it cannot be one."""
    good = StoredRow(1, "c416c426-cd65-5dd5-b944-3ec29dd1c0a4", 1, "m:E.Done", b'{"a":1}')
    assert event_object(good)["state"] == {"a": 1}
    with pytest.raises(IntegrityFailure, match="position 1"):
        event_object(good._replace(state=b'{"a": 1}'))


def test_reading_a_missing_or_foreign_file_is_refused(tmp_path: Path) -> None:
    """A path that is not a ledger file is a user mistake, named as such."""
    with pytest.raises(InvalidInput, match="existing SQLite ledger file"):
        aidledger.open(tmp_path / "nowhere.db", read_only=True)
    foreign = tmp_path / "foreign.db"
    foreign.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InvalidInput, match="aidledger SQLite file"):
        aidledger.open(foreign, read_only=True)
