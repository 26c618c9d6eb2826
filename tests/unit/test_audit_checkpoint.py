"""Checkpoint files: (origin, size, root) kept apart from the database, with an optional sidecar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.audit_support import record_story

from aidledger import AidLedger, merkle
from aidledger.audit.checkpoint import (
    Checkpoint,
    default_origin,
    make_checkpoint,
    read_checkpoint,
    read_sidecar,
    sidecar_path,
    write_checkpoint,
)
from aidledger.audit.leaves import leaf_hash_of, read_rows
from aidledger.errors import InvalidInput, NotFound


def test_a_checkpoint_is_the_rfc9162_root_of_the_leaf_hashes(ledger: AidLedger) -> None:
    """The root is the Merkle Tree Hash of the leaves in log order; size counts them."""
    record_story(ledger)
    checkpoint, leaves = make_checkpoint(ledger)
    hashes = [leaf_hash_of(row) for row in read_rows(ledger)]
    assert checkpoint.size == len(hashes) == ledger.position()
    assert checkpoint.root == merkle.root_from_leaf_hashes(hashes).hex()
    assert bytes(leaves) == b"".join(hashes)


def test_a_checkpoint_of_the_first_events_covers_only_them(ledger: AidLedger) -> None:
    """``size`` picks a prefix; its root is that prefix's root."""
    record_story(ledger)
    checkpoint, _ = make_checkpoint(ledger, size=4)
    hashes = [leaf_hash_of(row) for row in read_rows(ledger, 1, 4)]
    assert (checkpoint.size, checkpoint.root) == (4, merkle.root_from_leaf_hashes(hashes).hex())


def test_the_default_origin_names_the_first_event(ledger: AidLedger) -> None:
    """Without a name the ledger is called after the id of its first event."""
    story = record_story(ledger)
    assert default_origin(ledger) == f"aidledger/{story.organization_id}"
    assert make_checkpoint(ledger, origin="hebei-campaign")[0].origin == "hebei-campaign"


def test_an_empty_ledger_needs_a_name_and_has_the_empty_root(ledger: AidLedger) -> None:
    """There is no first event to name it after; with a name, its root is SHA-256 of nothing."""
    with pytest.raises(NotFound, match="empty"):
        make_checkpoint(ledger)
    checkpoint, leaves = make_checkpoint(ledger, origin="new-ledger")
    assert (checkpoint.size, checkpoint.root_bytes, bytes(leaves)) == (0, merkle.EMPTY_ROOT, b"")


@pytest.mark.parametrize("size", [-1, 12, 1000])
def test_a_size_the_ledger_does_not_hold_is_refused(ledger: AidLedger, size: int) -> None:
    """A checkpoint cannot cover events that were never recorded (the story has 11)."""
    record_story(ledger)
    with pytest.raises(InvalidInput, match="size"):
        make_checkpoint(ledger, size=size)


def test_a_checkpoint_file_round_trips_with_its_sidecar(ledger: AidLedger, tmp_path: Path) -> None:
    """The file is small sorted JSON; the sidecar holds size × 32 bytes and is accepted back."""
    record_story(ledger)
    checkpoint, leaves = make_checkpoint(ledger)
    path = tmp_path / "cp.json"
    write_checkpoint(checkpoint, path, leaves)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == {"format": "aidledger-checkpoint/1", "hash": "sha256-rfc9162", **checkpoint.model_dump()}
    assert read_checkpoint(path) == checkpoint
    assert sidecar_path(path).stat().st_size == 32 * checkpoint.size
    assert read_sidecar(path, checkpoint) == (bytes(leaves), None)


def test_writing_without_leaves_removes_a_stale_sidecar(ledger: AidLedger, tmp_path: Path) -> None:
    """A sidecar belongs to one checkpoint; rewriting the file without one leaves none behind."""
    record_story(ledger)
    path = tmp_path / "cp.json"
    checkpoint, leaves = make_checkpoint(ledger, size=3)
    write_checkpoint(checkpoint, path, leaves)
    write_checkpoint(make_checkpoint(ledger)[0], path)
    assert not sidecar_path(path).exists()


def test_a_sidecar_that_does_not_give_the_root_is_ignored_with_a_note(ledger: AidLedger, tmp_path: Path) -> None:
    """The sidecar is untrusted: a wrong one is set aside, never believed."""
    record_story(ledger)
    checkpoint, leaves = make_checkpoint(ledger)
    path = tmp_path / "cp.json"
    write_checkpoint(checkpoint, path, leaves)
    sidecar_path(path).write_bytes(bytes(leaves[32:]) + bytes(leaves[:32]))
    hashes, note = read_sidecar(path, checkpoint)
    assert hashes is None
    assert note is not None and "do not give the checkpoint's root" in note
    sidecar_path(path).write_bytes(bytes(leaves[:-1]))
    assert "not 11" in (read_sidecar(path, checkpoint)[1] or "")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "checkpoint file"),
        ('{"origin": "x", "size": 1, "root": "00"}', "format aidledger-checkpoint/1"),
        (
            '{"format": "aidledger-checkpoint/1", "hash": "sha256-rfc9162", "origin": "x", "size": 1, "root": "00"}',
            "root",
        ),
        (
            '{"format": "aidledger-checkpoint/1", "hash": "sha256-rfc9162", "origin": "x", "size": -1, "root": "'
            + "0" * 64
            + '"}',
            "size",
        ),
    ],
)
def test_a_malformed_checkpoint_file_is_refused_naming_the_problem(tmp_path: Path, content: str, problem: str) -> None:
    """Bad files raise InvalidInput naming the file and what is wrong."""
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput, match=problem) as caught:
        read_checkpoint(path)
    assert str(path) in str(caught.value)


def test_a_checkpoint_rejects_a_root_that_is_not_a_sha256() -> None:
    """Roots are 64 lower-case hex digits."""
    with pytest.raises(ValueError, match="root"):
        Checkpoint(origin="x", size=1, root="AB" * 32)
