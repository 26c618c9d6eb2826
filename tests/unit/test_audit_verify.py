"""Verification logic: locating the first difference, checkpoint extension and origins."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.audit_support import record_story
from tests.ledger_fixtures import connect_raw

import aidledger
from aidledger import AidLedger
from aidledger.audit.checkpoint import Checkpoint, make_checkpoint, root_of_hashes, sidecar_path, write_checkpoint
from aidledger.audit.verification import locate_difference, verify
from aidledger.errors import IntegrityFailure


def leaves(*names: str) -> bytes:
    """Concatenated stand-in leaf hashes, one per name."""
    return b"".join(hashlib.sha256(name.encode()).digest() for name in names)


def test_a_log_that_only_grew_has_no_difference() -> None:
    """The checkpointed leaves being a prefix of the stored ones is no finding."""
    assert locate_difference(leaves("a", "b", "c"), leaves("a", "b", "c")) is None
    assert locate_difference(leaves("a", "b"), leaves("a", "b", "c", "d")) is None
    assert locate_difference(b"", leaves("a")) is None


@pytest.mark.parametrize(
    ("stored", "kind", "position"),
    [
        (("a", "B", "c", "d"), "changed", 2),
        (("a", "c", "d"), "removed", 2),
        (("a", "b", "c"), "removed", 4),
        (("a",), "removed", 2),
        (("a", "x", "b", "c", "d"), "inserted", 2),
        (("x", "a", "b", "c", "d"), "inserted", 1),
        (("b", "a", "c", "d"), "reordered", 1),
        (("a", "d", "c", "b"), "reordered", 2),
        (("a", "b", "c", "D"), "changed", 4),
        (("a", "B", "c", "D"), "changed", 2),
    ],
)
def test_the_first_difference_is_named_and_classified(stored: tuple[str, ...], kind: str, position: int) -> None:
    """Against the checkpointed a, b, c, d each kind of edit is told apart, at its 1-based position."""
    located = locate_difference(leaves("a", "b", "c", "d"), leaves(*stored))
    assert located is not None
    assert located[:2] == (kind, position)


def test_a_hash_straddling_two_leaves_is_not_taken_for_a_moved_leaf() -> None:
    """Searching for a moved leaf only counts whole, aligned leaves."""
    old = leaves("a", "b")
    straddle = old[16:48]  # the back half of a and the front half of b, as if one leaf
    new = leaves("x") + straddle
    located = locate_difference(old + straddle, new)
    assert located is not None
    assert located[:2] == ("changed", 1)


def test_verify_compares_with_checkpoint_objects_too(ledger: AidLedger) -> None:
    """A Checkpoint held in memory is checked like a file, without the locating sidecar."""
    record_story(ledger)
    good, _ = make_checkpoint(ledger)
    bad = good.model_copy(update={"root": "0" * 64})
    assert verify(ledger, [good]).ok
    result = verify(ledger, [good, bad])
    assert not result.ok
    assert [f.kind for f in result.findings] == ["mismatch"]


@pytest.fixture(params=["memory", "sqlite-file"])
def sqlite_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AidLedger]:
    """An open ledger on each SQLite store, which ``connect_raw`` can edit behind its back."""
    location = ":memory:" if request.param == "memory" else tmp_path / "ledger.db"
    with aidledger.open(location, recorded_by="tester") as ledger:
        yield ledger


def test_verify_reads_rows_changed_through_another_connection(sqlite_ledger: AidLedger) -> None:
    """An open ledger's rows are re-read from the table, so an edit behind its back is seen."""
    ledger = sqlite_ledger
    record_story(ledger)
    checkpoint, _ = make_checkpoint(ledger)
    with connect_raw(ledger) as connection:
        connection.execute(
            "UPDATE stored_events SET state=CAST(replace(CAST(state AS TEXT),'1000.00','9000.00') AS BLOB)"
        )
    result = verify(ledger, [checkpoint])
    assert not result.ok
    with pytest.raises(IntegrityFailure, match="differs from checkpoint"):
        result.check()


def test_checkpoints_of_different_ledgers_are_a_finding(ledger: AidLedger) -> None:
    """All checkpoints must name one ledger; an expected origin is checked when given."""
    record_story(ledger)
    mine, _ = make_checkpoint(ledger, size=3)
    theirs = make_checkpoint(ledger, origin="another-ledger")[0]
    result = verify(ledger, [mine, theirs])
    assert [(f.kind, f.checkpoint) for f in result.findings] == [("origin", theirs.label())]
    result = verify(ledger, [mine], origin="hebei-campaign")
    assert [f.kind for f in result.findings] == ["origin"]
    assert "'hebei-campaign'" in result.findings[0].message


def test_a_sound_sidecar_beside_a_matching_checkpoint_gives_no_note(ledger: AidLedger, tmp_path: Path) -> None:
    """The sidecar as written agrees with the stored leaves: nothing to say."""
    record_story(ledger)
    checkpoint, hashes = make_checkpoint(ledger)
    write_checkpoint(checkpoint, tmp_path / "cp.json", hashes)
    result = verify(ledger, [tmp_path / "cp.json"])
    assert (result.ok, result.notes) == (True, ())


def test_an_edited_origin_is_a_finding_without_being_asked_for(ledger: AidLedger, tmp_path: Path) -> None:
    """The root does not cover the origin: it is compared with this ledger's name, given or by default."""
    record_story(ledger)
    checkpoint, _ = make_checkpoint(ledger)
    edited = checkpoint.model_copy(update={"origin": "aidledger/00000000-0000-0000-0000-000000000000"})
    result = verify(ledger, [edited])
    assert (result.ok, [f.kind for f in result.findings]) == (False, ["origin"])
    assert f"not {checkpoint.origin!r}" in result.findings[0].message
    assert "--origin" in result.findings[0].message
    assert verify(ledger, [checkpoint]).ok


def test_a_checkpoint_named_by_choice_verifies_when_the_name_is_given(ledger: AidLedger) -> None:
    """A checkpoint written with origin='hebei-campaign' needs that name; without it, it is a finding."""
    record_story(ledger)
    named, _ = make_checkpoint(ledger, origin="hebei-campaign")
    assert verify(ledger, [named], origin="hebei-campaign").ok
    assert [f.kind for f in verify(ledger, [named]).findings] == ["origin"]


def test_two_checkpoints_of_one_size_with_different_roots_are_a_fork(ledger: AidLedger) -> None:
    """The store matches one of them; the other cannot be the same history."""
    record_story(ledger)
    real, _ = make_checkpoint(ledger)
    forged = Checkpoint(origin=real.origin, size=real.size, root="1" * 64)
    result = verify(ledger, [real, forged])
    assert {f.kind for f in result.findings} >= {"mismatch"}
    assert not result.ok


def test_a_later_checkpoint_that_rewrites_the_earlier_is_a_fork_from_sidecars_alone(
    ledger: AidLedger, tmp_path: Path
) -> None:
    """With both sidecars the fork is found and placed even when the store matches neither."""
    record_story(ledger)
    earlier, later = tmp_path / "earlier.json", tmp_path / "later.json"
    early_checkpoint, early_leaves = make_checkpoint(ledger, size=5)
    write_checkpoint(early_checkpoint, earlier, early_leaves)
    late_checkpoint, late_leaves = make_checkpoint(ledger)
    forged = bytearray(late_leaves)
    forged[2 * 32 : 3 * 32] = hashlib.sha256(b"forged").digest()
    forged_checkpoint = late_checkpoint.model_copy(update={"root": root_of_hashes(forged).hex()})
    write_checkpoint(forged_checkpoint, later, forged)
    result = verify(ledger, [later, earlier])
    assert ("fork", 3) in [(f.kind, f.position) for f in result.findings]
    assert ("changed", 3) in [(f.kind, f.position) for f in result.findings]


def test_a_damaged_sidecar_is_set_aside_with_a_note(ledger: AidLedger, tmp_path: Path) -> None:
    """A damaged sidecar is noted and not believed, beside a matching checkpoint as beside one that differs."""
    record_story(ledger)
    path = tmp_path / "cp.json"
    checkpoint, hashes = make_checkpoint(ledger)
    write_checkpoint(checkpoint, path, hashes)
    sidecar_path(path).write_bytes(b"\0" * len(hashes))
    untouched = verify(ledger, [path])
    assert (untouched.ok, untouched.checkpoints[0].sidecar) == (True, True)
    (note,) = untouched.notes
    assert f"{sidecar_path(path)} ignored" in note
    assert "not those of the 11 checkpointed events" in note
    forged = checkpoint.model_copy(update={"root": "3" * 64})
    write_checkpoint(forged, tmp_path / "forged.json", hashes)
    sidecar_path(tmp_path / "forged.json").write_bytes(b"\0" * len(hashes))
    result = verify(ledger, [tmp_path / "forged.json"])
    assert [f.kind for f in result.findings] == ["mismatch"]
    assert len(result.notes) == 1
    assert "ignored" in result.notes[0]


def test_verify_without_checkpoints_reports_the_current_tree(ledger: AidLedger) -> None:
    """With nothing to compare, verify gives size and root and says only the structure was checked."""
    record_story(ledger)
    result = verify(ledger)
    checkpoint, _ = make_checkpoint(ledger)
    assert (result.ok, result.size, result.root) == (True, checkpoint.size, checkpoint.root)
    assert "no checkpoint given: the root was compared with none" in result.summary()
