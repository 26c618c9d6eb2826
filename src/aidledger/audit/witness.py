"""Witnesses and split views: cosign a checkpoint only when it extends the last one cosigned, and
say whether one signed checkpoint extends another.

A *split view* is a log showing two histories: two roots for one tree size, or two checkpoints of
which the larger does not extend the smaller (no consistency proof between them verifies). Anyone
holding two checkpoints signed by the log's key can show it; a witness refuses to cosign one.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict

from aidledger.application.ledger import AidLedger
from aidledger.audit.checkpoint import Checkpoint
from aidledger.audit.notes import COSIGNATURE_V1, SignedCheckpoint, SignedNote, SignerKey, cosign_note, open_note
from aidledger.audit.proofs import ConsistencyProof, prove_consistency, verify_consistency_proof
from aidledger.errors import IntegrityFailure, InvalidInput

__all__ = ["ExtensionCheck", "check_extension", "cosign_checkpoint"]


class ExtensionCheck(BaseModel):
    """Whether the larger of two checkpoints of one log extends the smaller, or the log split its view."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    kind: Literal["consistency"] = "consistency"
    split_view: bool
    """Whether the log showed two histories: two roots for one size, or a failing consistency proof."""
    message: str


EMPTY_ROOT = hashlib.sha256(b"").hexdigest()
"""The root of the empty tree (RFC 9162 §2.1.1)."""


def check_extension(first: Checkpoint, second: Checkpoint, proof: ConsistencyProof | None = None) -> ExtensionCheck:
    """Whether ``second`` extends ``first`` (or the reverse); a proof is needed when their sizes differ."""
    if first.origin != second.origin:
        raise InvalidInput("checkpoints", f"{first.label()}, {second.label()}", "two checkpoints of one log (origin)")
    first, second = sorted((first, second), key=lambda c: c.size)
    if first.size == second.size:
        if first.root == second.root:
            return ExtensionCheck(ok=True, split_view=False, message=f"both checkpoints are {first.label()}, one tree")
        message = (
            f"SPLIT VIEW: log {first.origin} shows two roots for size {first.size}: {first.root} and {second.root}"
        )
        return ExtensionCheck(ok=False, split_view=True, message=message)
    if first.size == 0:  # the empty tree is a prefix of every tree, if its root is the empty tree's
        if first.root != EMPTY_ROOT:
            message = f"checkpoint {first.label()} is of the empty tree but its root is not SHA-256(''): {first.root}"
            return ExtensionCheck(ok=False, split_view=False, message=message)
        return ExtensionCheck(ok=True, split_view=False, message=f"checkpoint {second.label()} extends the empty tree")
    if proof is None:
        raise InvalidInput(
            "proof",
            "none",
            f"a consistency proof file from {first.label()} to {second.label()} (aidledger prove-consistency)",
        )
    check = verify_consistency_proof(proof, first, second)
    if check.ok:
        return ExtensionCheck(ok=True, split_view=False, message=check.message)
    heads = ((proof.first.size, proof.first.root), (proof.second.size, proof.second.root))
    if proof.origin != first.origin or heads != ((first.size, first.root), (second.size, second.root)):
        return ExtensionCheck(ok=False, split_view=False, message=check.message)  # a proof of other trees
    message = f"SPLIT VIEW: checkpoint {second.label()} does not extend {first.label()}: {check.message}"
    return ExtensionCheck(ok=False, split_view=True, message=message)


def cosign_checkpoint(
    source: AidLedger | None,
    new: SignedCheckpoint,
    witness: SignerKey,
    previous: SignedCheckpoint | None,
    timestamp: int,
) -> SignedNote:
    """``new``'s note with the witness's cosignature, once it is shown to extend ``previous``.

    ``new`` has had its log signature checked. ``previous`` is the last checkpoint this witness
    cosigned (it must carry the witness's own cosignature); ``None`` for a witness's first. The
    consistency proof is made from ``source``, the witness's copy of the ledger, and checked (it is
    needed only when the new tree is larger than a non-empty previous one). The witness refuses
    (:class:`IntegrityFailure`) two roots for one size, a smaller tree, and a tree that does not extend
    the previous one.
    """
    if previous is not None:
        _check_previous(new.checkpoint, witness, previous)
        if new.checkpoint.size < previous.checkpoint.size:
            raise IntegrityFailure(
                f"refused: checkpoint {new.checkpoint.label()} is smaller than {previous.checkpoint.label()}, "
                "which this witness cosigned already (a log never shrinks)"
            )
        if previous.checkpoint.size > 0 and previous.checkpoint.size < new.checkpoint.size:
            if source is None:
                raise InvalidInput("--db", "none", "the witness's copy of the ledger, to prove consistency")
            proof = prove_consistency(source, previous.checkpoint, new.checkpoint)
            check = check_extension(previous.checkpoint, new.checkpoint, proof)
        else:
            check = check_extension(previous.checkpoint, new.checkpoint)
        if not check.ok:
            raise IntegrityFailure(f"refused: {check.message}")
    return cosign_note(new.note, witness, timestamp)


def _check_previous(new: Checkpoint, witness: SignerKey, previous: SignedCheckpoint) -> None:
    """The previous checkpoint is of the same log and carries this witness's own cosignature."""
    if previous.checkpoint.origin != new.origin:
        raise InvalidInput("--previous", previous.checkpoint.label(), f"a checkpoint of the log {new.origin}")
    if not open_note(previous.note, [witness.verifier(COSIGNATURE_V1)], "--previous"):
        raise InvalidInput(
            "--previous",
            previous.checkpoint.label(),
            f"the last checkpoint witness {witness.name} cosigned (this one has no cosignature of it)",
        )
