"""Inclusion and consistency proofs: made from the store, checked with nothing but the files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.audit_support import Story, edit, reading, record_story, story_ledger

from aidledger import AidLedger
from aidledger.audit.checkpoint import Checkpoint, make_checkpoint
from aidledger.audit.proofs import (
    ConsistencyProof,
    InclusionProof,
    prove_consistency,
    prove_inclusion,
    read_proof,
    verify_consistency_proof,
    verify_inclusion_proof,
    write_proof,
)
from aidledger.errors import IntegrityFailure, InvalidInput, NotFound


@pytest.fixture
def story(ledger: AidLedger) -> Story:
    """The small history (11 events) on each store."""
    return record_story(ledger)


def test_every_event_has_a_proof_in_every_checkpoint_that_holds_it(ledger: AidLedger, story: Story) -> None:
    """For each checkpoint size and each position within it, the proof verifies."""
    total = ledger.position()
    for size in range(1, total + 1):
        checkpoint, _ = make_checkpoint(ledger, size=size)
        for position in range(1, size + 1):
            check = verify_inclusion_proof(prove_inclusion(ledger, checkpoint, position=position), checkpoint)
            assert check.ok, (size, position, check.message)


def test_a_disbursement_is_proved_by_its_id_and_version(ledger: AidLedger, story: Story) -> None:
    """Naming the aggregate and version finds the same leaf as naming its position."""
    checkpoint, _ = make_checkpoint(ledger)
    proof = prove_inclusion(ledger, checkpoint, aggregate_id=story.disbursement_id, version=2)
    assert proof.event["topic"].endswith("Disbursement.Confirmed")
    assert proof == prove_inclusion(ledger, checkpoint, position=proof.position)
    check = verify_inclusion_proof(proof, checkpoint, aggregate_id=story.disbursement_id, version=2)
    assert check.ok
    assert f"log position {proof.position}" in check.message


def test_a_proof_for_another_event_fails(ledger: AidLedger, story: Story) -> None:
    """Asked about disbursement 1, a proof of disbursement 2 fails, though it is a valid proof."""
    checkpoint, _ = make_checkpoint(ledger)
    proof = prove_inclusion(ledger, checkpoint, aggregate_id=story.later_disbursement_id)
    assert verify_inclusion_proof(proof, checkpoint).ok
    check = verify_inclusion_proof(proof, checkpoint, aggregate_id=story.disbursement_id)
    assert not check.ok
    assert str(story.disbursement_id) in check.message
    assert not verify_inclusion_proof(proof, checkpoint, version=2).ok
    assert not verify_inclusion_proof(proof, checkpoint, position=proof.position + 1).ok


def test_a_proof_with_another_event_swapped_in_fails(ledger: AidLedger, story: Story) -> None:
    """Showing one event with another event's path and leaf hash fails: the event is hashed."""
    checkpoint, _ = make_checkpoint(ledger)
    first = prove_inclusion(ledger, checkpoint, position=6)
    second = prove_inclusion(ledger, checkpoint, position=9)
    swapped_event = first.model_copy(update={"event": second.event})
    assert "does not hash" in verify_inclusion_proof(swapped_event, checkpoint).message
    claimed_elsewhere = second.model_copy(update={"position": 6, "path": first.path})
    assert not verify_inclusion_proof(claimed_elsewhere, checkpoint).ok


def test_an_edited_event_or_path_fails(ledger: AidLedger, story: Story) -> None:
    """Changing an amount in the shown event, or one hash of the path, fails the proof."""
    checkpoint, _ = make_checkpoint(ledger)
    proof = prove_inclusion(ledger, checkpoint, aggregate_id=story.disbursement_id)
    event = json.loads(json.dumps(proof.event).replace("400.00", "40.00"))
    assert event != proof.event
    assert not verify_inclusion_proof(proof.model_copy(update={"event": event}), checkpoint).ok
    path = (proof.path[0][:-1] + ("0" if proof.path[0][-1] != "0" else "1"), *proof.path[1:])
    check = verify_inclusion_proof(proof.model_copy(update={"path": path}), checkpoint)
    assert not check.ok
    assert "audit path" in check.message


def test_a_proof_checked_against_another_checkpoint_fails(ledger: AidLedger, story: Story) -> None:
    """A proof names its tree; a checkpoint of another size or origin is not that tree."""
    checkpoint, _ = make_checkpoint(ledger)
    proof = prove_inclusion(ledger, checkpoint, position=2)
    assert not verify_inclusion_proof(proof, make_checkpoint(ledger, size=5)[0]).ok
    assert not verify_inclusion_proof(proof, checkpoint.model_copy(update={"origin": "elsewhere"})).ok


def test_a_proof_file_verifies_without_the_database(tmp_path: Path) -> None:
    """Written to a file and read back after the ledger file is gone, the proof still verifies."""
    ledger, story = story_ledger(tmp_path / "ledger.db")
    checkpoint, _ = make_checkpoint(ledger)
    write_proof(prove_inclusion(ledger, checkpoint, aggregate_id=story.pledge_id), tmp_path / "proof.json")
    ledger.close()
    (tmp_path / "ledger.db").unlink()
    proof = read_proof(tmp_path / "proof.json")
    assert isinstance(proof, InclusionProof)
    assert verify_inclusion_proof(proof, checkpoint, aggregate_id=story.pledge_id, version=1).ok


def test_consistency_proofs_verify_between_every_pair_of_sizes(ledger: AidLedger, story: Story) -> None:
    """Each later checkpoint extends each earlier one, and the proof shows it."""
    total = ledger.position()
    checkpoints = [make_checkpoint(ledger, size=size)[0] for size in range(1, total + 1)]
    for first in checkpoints:
        for second in checkpoints[first.size - 1 :]:
            check = verify_consistency_proof(prove_consistency(ledger, first, second), first, second)
            assert check.ok, (first.size, second.size, check.message)


def test_a_consistency_proof_fails_for_a_rewritten_or_swapped_tree(ledger: AidLedger, story: Story) -> None:
    """A forged later root, swapped checkpoints or a changed path all fail."""
    first, second = make_checkpoint(ledger, size=4)[0], make_checkpoint(ledger)[0]
    proof = prove_consistency(ledger, first, second)
    forged = Checkpoint(origin=second.origin, size=second.size, root="2" * 64)
    assert not verify_consistency_proof(proof, first, forged).ok
    assert not verify_consistency_proof(proof, second, first).ok
    bent = proof.model_copy(update={"path": tuple(reversed(proof.path))})
    assert not verify_consistency_proof(bent, first, second).ok


def test_proof_files_of_both_kinds_round_trip(ledger: AidLedger, story: Story, tmp_path: Path) -> None:
    """Files say which kind they are; a malformed one is refused naming the file."""
    first, second = make_checkpoint(ledger, size=3)[0], make_checkpoint(ledger)[0]
    write_proof(prove_consistency(ledger, first, second), tmp_path / "consistency.json")
    proof = read_proof(tmp_path / "consistency.json")
    assert isinstance(proof, ConsistencyProof)
    assert verify_consistency_proof(proof, first, second).ok
    (tmp_path / "bad.json").write_text('{"format": "aidledger-inclusion-proof/1"}', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad\.json"):
        read_proof(tmp_path / "bad.json")


def test_no_proof_is_made_from_a_store_that_no_longer_gives_the_checkpoint(tmp_path: Path) -> None:
    """Proving from altered rows would prove the alteration: refused with IntegrityFailure."""
    path = tmp_path / "ledger.db"
    ledger, _ = story_ledger(path)
    checkpoint, _ = make_checkpoint(ledger)
    ledger.close()
    edit(path, "UPDATE stored_events SET state=CAST(replace(CAST(state AS TEXT),'400.00','40.00') AS BLOB)")
    with reading(path) as altered, pytest.raises(IntegrityFailure, match="no longer gives"):
        prove_inclusion(altered, checkpoint, position=1)


def test_asking_for_an_event_the_checkpoint_lacks_is_refused(ledger: AidLedger, story: Story) -> None:
    """A position beyond the checkpoint, an unknown event or both ways of naming one are refused."""
    checkpoint, _ = make_checkpoint(ledger, size=5)
    with pytest.raises(InvalidInput, match="from 1 to 5"):
        prove_inclusion(ledger, checkpoint, position=6)
    with pytest.raises(NotFound, match="not among the 5 events"):
        prove_inclusion(ledger, checkpoint, aggregate_id=story.later_disbursement_id)
    with pytest.raises(InvalidInput):
        prove_inclusion(ledger, checkpoint, position=1, aggregate_id=story.pledge_id)
    with pytest.raises(InvalidInput, match="from 1 to the second"):
        prove_consistency(ledger, make_checkpoint(ledger)[0], checkpoint)
