"""Edits made to a real SQLite ledger file behind the library's back are caught by ``verify``.

Each test checkpoints a real history, closes the ledger, edits ``stored_events`` with a plain
sqlite3 connection (one changed byte, a deleted row, an inserted row, two swapped rows) and checks
that verification fails naming the first log position that differs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.audit_support import change_byte, checkpoint_file, edit, rows, story_ledger, verify_file

from aidledger.audit.checkpoint import sidecar_path, write_checkpoint
from aidledger.audit.verification import Finding, Verification
from aidledger.errors import IntegrityFailure


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    """A closed ledger file holding a small history (about 15 events)."""
    path = tmp_path / "ledger.db"
    ledger, _ = story_ledger(path)
    ledger.close()
    return path


@pytest.fixture
def checkpoint(ledger_file: Path, tmp_path: Path) -> Path:
    """A checkpoint of the whole untouched file, with its leaf sidecar, kept apart from it."""
    kept_apart = tmp_path / "auditor"
    kept_apart.mkdir()
    path = kept_apart / "checkpoint.json"
    made, leaves = checkpoint_file(ledger_file)
    write_checkpoint(made, path, leaves)
    return path


PROJECTION_KINDS = frozenset({"projections", "projection_state", "frontier", "projection"})
"""Findings about the stored projections: an edit of the events also makes them differ from the log."""


def log_findings(result: Verification) -> list[Finding]:
    """The findings about the events themselves."""
    return [f for f in result.findings if f.kind not in PROJECTION_KINDS]


def failed(result: Verification, kind: str, position: int) -> None:
    """Assert verification failed with a finding of ``kind`` at ``position``, the first one named."""
    assert not result.ok
    assert (kind, position) in [(f.kind, f.position) for f in result.findings], result.findings
    assert min(f.position for f in log_findings(result) if f.position is not None) == position
    assert result.first_position == position, result.findings
    with pytest.raises(IntegrityFailure, match=f"position {position}"):
        result.check()


def test_an_untouched_file_verifies(ledger_file: Path, checkpoint: Path) -> None:
    """No edit, no finding: the checkpoint matches and verification passes."""
    result = verify_file(ledger_file, [checkpoint], deep=True)
    assert result.ok, result.findings
    assert result.check() is result
    assert [c.matches for c in result.checkpoints] == [True]


def test_one_changed_byte_of_a_payload_is_named_by_position(ledger_file: Path, checkpoint: Path) -> None:
    """A single changed digit in one stored state is caught at that event's position."""
    change_byte(ledger_file, 7)
    failed(verify_file(ledger_file, [checkpoint]), "changed", 7)


def test_a_changed_amount_is_caught_even_without_the_sidecar(ledger_file: Path, checkpoint: Path) -> None:
    """From the checkpoint alone the mismatch is reported; the sidecar is what names the position."""
    edit(ledger_file, "UPDATE stored_events SET state=CAST(replace(CAST(state AS TEXT), '400.00', '40.00') AS BLOB)")
    sidecar_path(checkpoint).unlink()
    result = verify_file(ledger_file, [checkpoint])
    assert not result.ok
    assert [(f.kind, f.position) for f in log_findings(result)] == [("mismatch", None)]
    assert "checkpoint.json.leaves" in log_findings(result)[0].message
    with pytest.raises(IntegrityFailure):
        result.check()


def test_a_deleted_row_is_named_by_position(ledger_file: Path, checkpoint: Path) -> None:
    """Deleting a row leaves a gap in the log positions and shifts the leaves: both name it."""
    edit(ledger_file, "DELETE FROM stored_events WHERE rowid=5")
    result = verify_file(ledger_file, [checkpoint])
    failed(result, "removed", 5)
    assert ("gap", 5) in [(f.kind, f.position) for f in result.findings]


def test_a_deleted_row_is_named_even_when_the_positions_are_renumbered(ledger_file: Path, checkpoint: Path) -> None:
    """Closing the gap by renumbering the later rows hides it from a count, not from the tree."""
    edit(ledger_file, "DELETE FROM stored_events WHERE rowid=5; UPDATE stored_events SET rowid=rowid-1 WHERE rowid>5;")
    failed(verify_file(ledger_file, [checkpoint]), "removed", 5)


def test_a_deleted_last_row_is_named(ledger_file: Path, checkpoint: Path) -> None:
    """Cutting the end off the log is caught: the checkpoint covers events the store lacks."""
    last = rows(ledger_file)[-1][0]
    edit(ledger_file, f"DELETE FROM stored_events WHERE rowid={last}")
    failed(verify_file(ledger_file, [checkpoint]), "removed", last)


def test_an_inserted_row_is_named_by_position(ledger_file: Path, checkpoint: Path) -> None:
    """A row slipped in at position 4 (the later rows moved down one) is named at position 4."""
    edit(
        ledger_file,
        "UPDATE stored_events SET rowid=rowid+1000 WHERE rowid>=4;"
        "UPDATE stored_events SET rowid=rowid-999 WHERE rowid>1000;"
        "INSERT INTO stored_events(rowid, originator_id, originator_version, topic, state) "
        "SELECT 4, originator_id, originator_version+1, topic, state FROM stored_events WHERE rowid=3;",
    )
    failed(verify_file(ledger_file, [checkpoint]), "inserted", 4)


def test_a_row_appended_after_the_checkpoint_is_not_a_finding_but_extends_it(
    ledger_file: Path, checkpoint: Path
) -> None:
    """Growth after a checkpoint is what logs do; the checkpoint still matches its prefix."""
    edit(
        ledger_file,
        "INSERT INTO stored_events(originator_id, originator_version, topic, state) "
        "SELECT originator_id, originator_version+100, topic, state FROM stored_events WHERE rowid=3;",
    )
    result = verify_file(ledger_file, [checkpoint])
    assert result.ok
    assert result.size == result.checkpoints[0].size + 1


def test_two_rows_swapped_by_renumbering_are_named(ledger_file: Path, checkpoint: Path) -> None:
    """Swapping the rowids of two events reorders the log; the first of the two is named."""
    edit(
        ledger_file,
        "UPDATE stored_events SET rowid=-1 WHERE rowid=6; UPDATE stored_events SET rowid=6 WHERE rowid=9;"
        "UPDATE stored_events SET rowid=9 WHERE rowid=-1;",
    )
    result = verify_file(ledger_file, [checkpoint])
    failed(result, "reordered", 6)
    assert "position 9" in log_findings(result)[0].message


def test_two_rows_swapped_by_their_content_are_named(ledger_file: Path, checkpoint: Path) -> None:
    """Swapping the identity, topic and state of two rows (rowids kept) is the same reordering."""
    sixth, ninth = (next(r for r in rows(ledger_file) if r[0] == n) for n in (6, 9))
    edit(ledger_file, "DELETE FROM stored_events WHERE rowid IN (6, 9)")
    for rowid, row in ((6, ninth), (9, sixth)):
        edit(
            ledger_file,
            "INSERT INTO stored_events(rowid, originator_id, originator_version, topic, state) VALUES (?,?,?,?,?)",
            (rowid, *row[1:]),
        )
    failed(verify_file(ledger_file, [checkpoint]), "reordered", 6)


def test_an_earlier_checkpoint_narrows_a_mismatch_without_sidecars(ledger_file: Path, tmp_path: Path) -> None:
    """With checkpoints at 5 and at the end and no sidecars, a change at 8 is placed after 5."""
    early, late = tmp_path / "early.json", tmp_path / "late.json"
    write_checkpoint(checkpoint_file(ledger_file, size=5)[0], early)
    write_checkpoint(checkpoint_file(ledger_file)[0], late)
    change_byte(ledger_file, 8)
    result = verify_file(ledger_file, [late, early])
    assert [c.matches for c in result.checkpoints] == [True, False]
    assert "from 6 to" in log_findings(result)[0].message


def test_a_rewritten_history_breaks_the_extension_of_an_earlier_checkpoint(
    ledger_file: Path, checkpoint: Path, tmp_path: Path
) -> None:
    """A checkpoint taken after a rewrite matches the store but does not extend the earlier one."""
    change_byte(ledger_file, 3)
    later = tmp_path / "later.json"
    made, leaves = checkpoint_file(ledger_file)
    write_checkpoint(made, later, leaves)
    result = verify_file(ledger_file, [checkpoint, later])
    kinds = {(f.kind, f.position) for f in log_findings(result)}
    assert ("changed", 3) in kinds
    assert ("fork", 3) in kinds


def test_the_deep_check_names_a_state_that_is_not_canonical_json(ledger_file: Path) -> None:
    """Even with no checkpoint, a state the library could not have written is named."""
    state = next(r[4] for r in rows(ledger_file) if r[0] == 2)
    edit(ledger_file, "UPDATE stored_events SET state=? WHERE rowid=2", (state.replace(b'{"', b'{ "', 1),))
    result = verify_file(ledger_file, deep=True)
    assert [(f.kind, f.position) for f in log_findings(result)] == [("not_canonical", 2)]


def test_the_deep_check_names_versions_out_of_order(ledger_file: Path) -> None:
    """Two events of one aggregate swapped in the log break its version order."""
    pledge_rows = [r for r in rows(ledger_file) if r[3].endswith("Pledge.Made")]
    first = pledge_rows[0]
    later = next(r for r in rows(ledger_file) if r[1] == first[1] and r[2] == 2)
    edit(
        ledger_file,
        f"UPDATE stored_events SET rowid=-1 WHERE rowid={first[0]};"
        f"UPDATE stored_events SET rowid={first[0]} WHERE rowid={later[0]};"
        f"UPDATE stored_events SET rowid={later[0]} WHERE rowid=-1;",
    )
    result = verify_file(ledger_file, deep=True)
    assert ("version_order", first[0]) in [(f.kind, f.position) for f in result.findings]
