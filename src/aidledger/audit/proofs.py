"""Inclusion and consistency proofs as JSON files, and their verifiers, which need no database.

An inclusion proof carries the event itself (the leaf as a JSON object), so the verifier hashes
the event it is shown and checks that hash against the checkpoint's root with the RFC 9162 audit
path: it proves *this* event, not merely some leaf. A consistency proof carries the two trees'
sizes and roots and the RFC 9162 consistency path between them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aidledger import merkle
from aidledger.application.ledger import AidLedger
from aidledger.audit.checkpoint import Checkpoint, Hex256
from aidledger.audit.leaves import StoredRow, event_object, leaf_hash_of, read_rows
from aidledger.canonical import canonical_json
from aidledger.errors import IntegrityFailure, InvalidInput, NotFound

__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "ProofCheck",
    "prove_consistency",
    "prove_inclusion",
    "read_proof",
    "verify_consistency_proof",
    "verify_inclusion_proof",
    "write_proof",
]

INCLUSION = "aidledger-inclusion-proof/1"
CONSISTENCY = "aidledger-consistency-proof/1"


class InclusionProof(BaseModel):
    """Proof that one event is the leaf at ``position`` of the tree ``(origin, tree_size, root)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["aidledger-inclusion-proof/1"] = "aidledger-inclusion-proof/1"
    origin: str
    tree_size: Annotated[int, Field(ge=1)]
    root: Hex256
    position: Annotated[int, Field(ge=1)]
    """1-based log position: the leaf index plus one."""
    event: dict[str, Any]
    """The leaf as JSON: ``originator_id``, ``originator_version``, ``state``, ``topic``."""
    leaf_hash: Hex256
    path: tuple[Hex256, ...]


class TreeHead(BaseModel):
    """A tree size and root, as a consistency proof names them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    size: Annotated[int, Field(ge=0)]
    root: Hex256


class ConsistencyProof(BaseModel):
    """Proof that the tree ``second`` extends the tree ``first`` (same origin)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["aidledger-consistency-proof/1"] = "aidledger-consistency-proof/1"
    origin: str
    first: TreeHead
    second: TreeHead
    path: tuple[Hex256, ...]


class ProofCheck(BaseModel):
    """The verdict on a proof: what it proves, or why it fails."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    kind: Literal["inclusion", "consistency"]
    message: str


# -- making proofs ------------------------------------------------------------------------------


def _tree(source: AidLedger, checkpoint: Checkpoint, wanted: Picker | None = None) -> _Tree:
    """Leaf hashes of the checkpoint's first ``size`` events, checked against its root, and the
    first of them ``wanted`` picks (only that row is kept: a log can be millions of rows)."""
    tree = _Tree()
    for row in read_rows(source):
        if len(tree.hashes) == checkpoint.size:
            break
        if tree.row is None and wanted is not None and wanted(len(tree.hashes), row):
            tree.row, tree.index = row, len(tree.hashes)
        tree.hashes.append(leaf_hash_of(row))
    if len(tree.hashes) < checkpoint.size or merkle.root_from_leaf_hashes(tree.hashes) != checkpoint.root_bytes:
        msg = (
            f"the stored history no longer gives checkpoint {checkpoint.label()}'s root; "
            "run `aidledger verify` to find what changed"
        )
        raise IntegrityFailure(msg)
    return tree


Picker = Callable[[int, StoredRow], bool]
"""Given a leaf index and its row, whether it is the row a proof is about."""


@dataclass
class _Tree:
    hashes: list[bytes] = field(default_factory=list)
    row: StoredRow | None = None
    index: int = -1


def prove_inclusion(
    source: AidLedger,
    checkpoint: Checkpoint,
    *,
    position: int | None = None,
    aggregate_id: UUID | str | None = None,
    version: int = 1,
) -> InclusionProof:
    """Prove that the event at ``position``, or ``aggregate_id`` at ``version``, is in ``checkpoint``."""
    if (position is None) == (aggregate_id is None):
        raise InvalidInput("event", position or aggregate_id, "either a log position or an aggregate id")
    if position is not None and not 1 <= position <= checkpoint.size:
        raise InvalidInput("position", position, f"a log position from 1 to {checkpoint.size}")
    tree = _tree(source, checkpoint, _picker(position, aggregate_id, version))
    if tree.row is None:
        msg = f"event {aggregate_id} version {version} is not among the {checkpoint.size} events of the checkpoint"
        raise NotFound(msg)
    return InclusionProof(
        origin=checkpoint.origin,
        tree_size=checkpoint.size,
        root=checkpoint.root,
        position=tree.index + 1,
        event=event_object(tree.row),
        leaf_hash=tree.hashes[tree.index].hex(),
        path=tuple(h.hex() for h in merkle.inclusion_proof(tree.hashes, tree.index)),
    )


def _picker(position: int | None, aggregate_id: UUID | str | None, version: int) -> Picker:
    """Which row a proof is about: the one at ``position``, or ``aggregate_id`` at ``version``."""
    if position is not None:
        return lambda index, _: index == position - 1
    wanted = str(_uuid(aggregate_id))
    return lambda _, row: row.originator_id == wanted and row.originator_version == version


def _uuid(value: object) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise InvalidInput("aggregate", value, "a UUID") from None


def prove_consistency(source: AidLedger, first: Checkpoint, second: Checkpoint) -> ConsistencyProof:
    """Prove from the stored history that ``second`` extends ``first``."""
    if first.origin != second.origin:
        raise InvalidInput("checkpoints", f"{first.label()}, {second.label()}", "two checkpoints of one ledger")
    if not 0 < first.size <= second.size:
        raise InvalidInput("first", first.size, f"a size from 1 to the second checkpoint's {second.size}")
    hashes = _tree(source, second).hashes
    if merkle.root_from_leaf_hashes(hashes[: first.size]) != first.root_bytes:
        raise IntegrityFailure(f"checkpoint {second.label()} does not extend {first.label()}; run `aidledger verify`")
    return ConsistencyProof(
        origin=first.origin,
        first=TreeHead(size=first.size, root=first.root),
        second=TreeHead(size=second.size, root=second.root),
        path=tuple(h.hex() for h in merkle.consistency_proof(hashes, first.size)),
    )


# -- files ----------------------------------------------------------------------------------------


def write_proof(proof: InclusionProof | ConsistencyProof, path: Path) -> None:
    """Write a proof as indented JSON (keys sorted)."""
    text = json.dumps(proof.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def read_proof(path: Path) -> InclusionProof | ConsistencyProof:
    """Read a proof file of either kind."""
    accepted = "a proof file written by `aidledger prove`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidInput("proof", str(path), f"{accepted} ({error})") from None
    kinds: dict[Any, type[InclusionProof] | type[ConsistencyProof]] = {
        INCLUSION: InclusionProof,
        CONSISTENCY: ConsistencyProof,
    }
    kind = kinds.get(data.get("format") if isinstance(data, dict) else None)
    if kind is None:
        raise InvalidInput("proof", str(path), f"{accepted} (format {INCLUSION} or {CONSISTENCY})")
    try:
        return kind.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise InvalidInput("proof", str(path), f"{accepted} ({where}: {problem['msg']})") from None


# -- verifying proofs (no database) ---------------------------------------------------------------


def verify_inclusion_proof(
    proof: InclusionProof,
    checkpoint: Checkpoint,
    *,
    aggregate_id: UUID | str | None = None,
    version: int | None = None,
    position: int | None = None,
) -> ProofCheck:
    """Check an inclusion proof against a checkpoint the auditor holds; no database is read.

    ``aggregate_id``, ``version`` and ``position`` say which event the auditor expects the proof
    to be about; a proof of any other event fails.
    """
    problem = _tree_problem(proof.origin, proof.tree_size, proof.root, checkpoint) or _event_problem(
        proof, aggregate_id, version, position
    )
    if problem is None:
        try:
            merkle.verify_inclusion(
                bytes.fromhex(proof.leaf_hash),
                proof.position - 1,
                proof.tree_size,
                [bytes.fromhex(h) for h in proof.path],
                checkpoint.root_bytes,
            )
        except merkle.ProofError as error:
            problem = f"the audit path does not lead to the checkpoint's root: {error}"
    event = proof.event
    what = f"{event.get('topic')} {event.get('originator_id')} v{event.get('originator_version')}"
    if problem is not None:
        return ProofCheck(ok=False, kind="inclusion", message=f"inclusion proof of {what} fails: {problem}")
    message = f"{what} is log position {proof.position} of checkpoint {checkpoint.label()}"
    return ProofCheck(ok=True, kind="inclusion", message=message)


def _tree_problem(origin: str, size: int, root: str, checkpoint: Checkpoint) -> str | None:
    if (origin, size, root) != (checkpoint.origin, checkpoint.size, checkpoint.root):
        return f"the proof is for tree {origin}@{size} {root[:16]}…, not checkpoint {checkpoint.label()}"
    return None


def _event_problem(
    proof: InclusionProof, aggregate_id: UUID | str | None, version: int | None, position: int | None
) -> str | None:
    leaf = merkle.leaf_hash(canonical_json(proof.event))
    if leaf.hex() != proof.leaf_hash:
        return "the event shown does not hash to the proof's leaf"
    event = proof.event
    if aggregate_id is not None and event.get("originator_id") != str(_uuid(aggregate_id)):
        return f"it is about aggregate {event.get('originator_id')}, not {_uuid(aggregate_id)}"
    if version is not None and event.get("originator_version") != version:
        return f"it is about version {event.get('originator_version')}, not {version}"
    if position is not None and proof.position != position:
        return f"it is about log position {proof.position}, not {position}"
    return None


def verify_consistency_proof(proof: ConsistencyProof, first: Checkpoint, second: Checkpoint) -> ProofCheck:
    """Check that checkpoint ``second`` extends checkpoint ``first``; no database is read."""
    problem = _tree_problem(proof.origin, proof.first.size, proof.first.root, first) or _tree_problem(
        proof.origin, proof.second.size, proof.second.root, second
    )
    if problem is None:
        try:
            merkle.verify_consistency(
                first.size, second.size, first.root_bytes, second.root_bytes, [bytes.fromhex(h) for h in proof.path]
            )
        except merkle.ProofError as error:
            problem = str(error)
    if problem is not None:
        message = f"consistency proof {first.label()} -> {second.label()} fails: {problem}"
        return ProofCheck(ok=False, kind="consistency", message=message)
    return ProofCheck(ok=True, kind="consistency", message=f"checkpoint {second.label()} extends {first.label()}")
