"""Witness cosigning and split-view detection between two diverging ledgers (same origin)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.audit_support import checkpoint_file, reading, story_ledger

from aidledger.audit.checkpoint import Checkpoint
from aidledger.audit.notes import (
    COSIGNATURE_V1,
    SignedCheckpoint,
    generate_key,
    open_checkpoint,
    render_note,
    sign_checkpoint,
)
from aidledger.audit.proofs import ConsistencyProof, TreeHead, prove_consistency
from aidledger.audit.witness import EMPTY_ROOT, check_extension, cosign_checkpoint
from aidledger.errors import IntegrityFailure


@pytest.fixture
def ledgers(tmp_path: Path) -> tuple[Path, Path]:
    """Two ledger files with the same commands recorded at other times: one origin, two histories."""
    paths = (tmp_path / "a.db", tmp_path / "b.db")
    for path in paths:
        ledger, _ = story_ledger(path)
        ledger.close()
    return paths


def heads(path: Path) -> tuple[Checkpoint, Checkpoint]:
    """The checkpoints at sizes 5 and 11 of the ledger file ``path``."""
    return checkpoint_file(path, size=5)[0], checkpoint_file(path)[0]


def test_the_two_ledgers_share_an_origin_but_not_a_root(ledgers: tuple[Path, Path]) -> None:
    """The premise of the tests below: a log operator could show either history under one name."""
    (_a5, a11), (_b5, b11) = heads(ledgers[0]), heads(ledgers[1])
    assert a11.origin == b11.origin and a11.size == b11.size and a11.root != b11.root


def test_two_roots_for_one_size_are_a_split_view(ledgers: tuple[Path, Path]) -> None:
    """Same origin, same size, different roots: split view, whatever the order."""
    a11, b11 = heads(ledgers[0])[1], heads(ledgers[1])[1]
    check = check_extension(b11, a11)
    assert not check.ok and check.split_view and "two roots for size 11" in check.message
    assert check_extension(a11, a11).ok


def test_a_failing_consistency_proof_is_a_split_view(ledgers: tuple[Path, Path]) -> None:
    """B's consistency path presented for A's size-5 tree and B's size-11 tree does not verify."""
    (a5, _), (b5, b11) = heads(ledgers[0]), heads(ledgers[1])
    with reading(ledgers[1]) as ledger:
        honest = prove_consistency(ledger, b5, b11)
    assert check_extension(b5, b11, honest).ok
    bent = ConsistencyProof(
        origin=a5.origin, first=TreeHead(size=5, root=a5.root), second=honest.second, path=honest.path
    )
    check = check_extension(a5, b11, bent)
    assert not check.ok and check.split_view and "does not extend" in check.message


def test_a_proof_of_other_trees_fails_without_claiming_a_split_view(ledgers: tuple[Path, Path]) -> None:
    """A proof whose trees are not the checkpoints' says so; it is no evidence against the log."""
    (a5, a11), (b5, b11) = heads(ledgers[0]), heads(ledgers[1])
    with reading(ledgers[1]) as ledger:
        proof = prove_consistency(ledger, b5, b11)
    check = check_extension(a5, a11, proof)
    assert not check.ok and not check.split_view


def test_the_witness_refuses_to_cosign_the_other_history(ledgers: tuple[Path, Path]) -> None:
    """Having cosigned A at 5, the witness cosigns A at 11 but refuses B at 11 (no consistency)."""
    log, witness = generate_key("log.example"), generate_key("witness.example")
    (a5, a11), (_, b11) = heads(ledgers[0]), heads(ledgers[1])

    def opened(checkpoint: Checkpoint, *, cosigned: bool = False) -> SignedCheckpoint:
        note = sign_checkpoint(checkpoint, log)
        if cosigned:
            note = cosign_checkpoint(None, open_checkpoint(render_note(note), [log.verifier()]), witness, None, 1)
        return open_checkpoint(render_note(note), [log.verifier()])

    previous = opened(a5, cosigned=True)
    with reading(ledgers[0]) as ledger:
        note = cosign_checkpoint(ledger, opened(a11), witness, previous, 2)
    witnessed = open_checkpoint(
        render_note(note), [log.verifier()], witnesses=[witness.verifier(COSIGNATURE_V1)], witnesses_required=1
    )
    assert witnessed.cosigned_by[0].timestamp == 2
    with reading(ledgers[1]) as ledger, pytest.raises(IntegrityFailure, match="does not extend"):
        cosign_checkpoint(ledger, opened(b11), witness, previous, 3)


def test_a_tree_of_size_zero_extends_to_any_tree_only_with_the_empty_root(ledgers: tuple[Path, Path]) -> None:
    """The empty tree is a prefix of every tree; a size-0 checkpoint with another root is no tree at all."""
    _, larger = heads(ledgers[0])
    empty = Checkpoint(origin=larger.origin, size=0, root=EMPTY_ROOT)
    assert check_extension(empty, larger).ok
    bogus = Checkpoint(origin=larger.origin, size=0, root=larger.root)
    check = check_extension(bogus, larger)
    assert not check.ok and not check.split_view
    assert "empty tree" in check.message and larger.root in check.message
