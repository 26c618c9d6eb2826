"""The audit trail: a tamper-evident Merkle log of the stored events (DESIGN §5).

- :mod:`~aidledger.audit.leaves` — canonical leaf bytes of each stored event, read from the table;
- :mod:`~aidledger.audit.checkpoint` — ``(origin, size, root)`` files kept apart from the database;
- :mod:`~aidledger.audit.verification` — recompute the tree and name the first position that differs;
- :mod:`~aidledger.audit.proofs` — inclusion and consistency proofs, verifiable without the database;
- :mod:`~aidledger.audit.notes` — checkpoints as C2SP signed notes, Ed25519 keys, witness cosignatures;
- :mod:`~aidledger.audit.witness` — cosign only what extends the last cosigned; detect a split view;
- :mod:`~aidledger.audit.replays` — recompute a published report byte for byte;
- :mod:`~aidledger.audit.restatements` — the figures that changed between two as-of points, and why;
- :mod:`~aidledger.audit.histories` — who recorded what, when and why, for one aggregate.
"""

from __future__ import annotations

from aidledger.audit.checkpoint import Checkpoint, make_checkpoint, read_checkpoint, write_checkpoint
from aidledger.audit.histories import AggregateHistory, HistoryEntry, history
from aidledger.audit.leaves import leaf_bytes, read_rows
from aidledger.audit.notes import SignedCheckpoint, open_checkpoint, render_note, sign_checkpoint
from aidledger.audit.proofs import (
    ConsistencyProof,
    InclusionProof,
    ProofCheck,
    prove_consistency,
    prove_inclusion,
    read_proof,
    verify_consistency_proof,
    verify_inclusion_proof,
    write_proof,
)
from aidledger.audit.replays import Replay, replay, replay_report
from aidledger.audit.restatements import EventChange, FigureChange, Restatement, restatement
from aidledger.audit.verification import CheckpointResult, Finding, Verification, verify
from aidledger.audit.witness import ExtensionCheck, check_extension, cosign_checkpoint

__all__ = [
    "AggregateHistory",
    "Checkpoint",
    "CheckpointResult",
    "ConsistencyProof",
    "EventChange",
    "ExtensionCheck",
    "FigureChange",
    "Finding",
    "HistoryEntry",
    "InclusionProof",
    "ProofCheck",
    "Replay",
    "Restatement",
    "SignedCheckpoint",
    "Verification",
    "check_extension",
    "cosign_checkpoint",
    "history",
    "leaf_bytes",
    "make_checkpoint",
    "open_checkpoint",
    "prove_consistency",
    "prove_inclusion",
    "read_checkpoint",
    "read_proof",
    "read_rows",
    "render_note",
    "replay",
    "replay_report",
    "restatement",
    "sign_checkpoint",
    "verify",
    "verify_consistency_proof",
    "verify_inclusion_proof",
    "write_checkpoint",
    "write_proof",
]
