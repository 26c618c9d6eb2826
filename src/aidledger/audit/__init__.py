"""The audit trail: a tamper-evident Merkle log of the stored events (DESIGN §5).

- :mod:`~aidledger.audit.leaves` — canonical leaf bytes of each stored event, read from the table;
- :mod:`~aidledger.audit.checkpoint` — ``(origin, size, root)`` files kept apart from the database;
- :mod:`~aidledger.audit.verification` — recompute the tree and name the first position that differs;
- :mod:`~aidledger.audit.proofs` — inclusion and consistency proofs, verifiable without the database;
- :mod:`~aidledger.audit.replays` — recompute a published report byte for byte;
- :mod:`~aidledger.audit.restatements` — the figures that changed between two as-of points, and why;
- :mod:`~aidledger.audit.histories` — who recorded what, when and why, for one aggregate.

Names are imported on first use: the projections import :mod:`aidledger.audit.roots` while replay
and restatement import the projections, and lazy loading keeps that from being a cycle.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aidledger.audit.checkpoint import Checkpoint, make_checkpoint, read_checkpoint, write_checkpoint
    from aidledger.audit.histories import AggregateHistory, HistoryEntry, history
    from aidledger.audit.leaves import leaf_bytes, read_rows
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

__all__ = [
    "AggregateHistory",
    "Checkpoint",
    "CheckpointResult",
    "ConsistencyProof",
    "EventChange",
    "FigureChange",
    "Finding",
    "HistoryEntry",
    "InclusionProof",
    "ProofCheck",
    "Replay",
    "Restatement",
    "Verification",
    "history",
    "leaf_bytes",
    "make_checkpoint",
    "prove_consistency",
    "prove_inclusion",
    "read_checkpoint",
    "read_proof",
    "read_rows",
    "replay",
    "replay_report",
    "restatement",
    "verify",
    "verify_consistency_proof",
    "verify_inclusion_proof",
    "write_checkpoint",
    "write_proof",
]

_HOMES = {
    "checkpoint": ("Checkpoint", "make_checkpoint", "read_checkpoint", "write_checkpoint"),
    "histories": ("AggregateHistory", "HistoryEntry", "history"),
    "leaves": ("leaf_bytes", "read_rows"),
    "proofs": (
        "ConsistencyProof",
        "InclusionProof",
        "ProofCheck",
        "prove_consistency",
        "prove_inclusion",
        "read_proof",
        "verify_consistency_proof",
        "verify_inclusion_proof",
        "write_proof",
    ),
    "replays": ("Replay", "replay", "replay_report"),
    "restatements": ("EventChange", "FigureChange", "Restatement", "restatement"),
    "verification": ("CheckpointResult", "Finding", "Verification", "verify"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'aidledger.audit' has no attribute {name!r}")
    value = getattr(import_module(f"aidledger.audit.{module}"), name)
    globals()[name] = value
    return value
