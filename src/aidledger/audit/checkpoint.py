"""Checkpoints: (origin, size, root) of the log, kept in a small JSON file apart from the database.

A checkpoint file looks like this (keys sorted, one trailing newline)::

    {
      "format": "aidledger-checkpoint/1",
      "hash": "sha256-rfc9162",
      "origin": "aidledger/c416c426-cd65-5dd5-b944-3ec29dd1c0a4",
      "root": "5f1c…",
      "size": 2941
    }

``origin`` names the ledger (by default after the id of its first event), ``size`` is the number of
events (leaves) covered and ``root`` the hex RFC 9162 Merkle Tree Hash of those leaves. ``projections``,
when present, is the projections digest of those events: the SHA-256 of the fold of the first
``size`` events (see :mod:`aidledger.projections.state`), so the figures published with the
checkpoint are bound to it as the events are; checkpoints written before it existed leave it out
and still verify.

Beside ``FILE`` a *sidecar* ``FILE.leaves`` may hold the leaf hashes themselves: ``size`` × 32 raw
bytes, leaf 0 first. It is optional and untrusted: it is used only when its own root equals the
checkpoint's, and it lets ``verify`` name the exact first position that differs. A sidecar that
cannot be used (unreadable, of the wrong length, or not the checkpoint's leaves) is ignored with a
note in the verification's result, never silently; it fails nothing, as the checkpoint's root is
the claim.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aidledger.application.ledger import AidLedger
from aidledger.audit.leaves import first_originator_id, leaf_hash_of, read_rows
from aidledger.domain.values import OneLine
from aidledger.errors import InvalidInput
from aidledger.merkle import HASH_SIZE, MerkleAccumulator
from aidledger.projections import projections_of
from aidledger.projections.runner import fold_rows
from aidledger.projections.state import projections_digest

__all__ = [
    "FORMAT",
    "SIDECAR_SUFFIX",
    "Checkpoint",
    "CheckpointFile",
    "default_origin",
    "leaf_hashes",
    "make_checkpoint",
    "read_checkpoint",
    "read_sidecar",
    "root_of_hashes",
    "sidecar_path",
    "write_checkpoint",
    "write_sidecar",
]

FORMAT = "aidledger-checkpoint/1"
HASH_NAME = "sha256-rfc9162"
SIDECAR_SUFFIX = ".leaves"

Hex256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Checkpoint(BaseModel):
    """The claim "the first ``size`` events of ledger ``origin`` have Merkle root ``root``"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    origin: Annotated[str, Field(min_length=1, max_length=200), OneLine]
    size: Annotated[int, Field(ge=0)]
    root: Hex256
    projections: Hex256 | None = None
    """SHA-256 of the projections (the fold) of the first ``size`` events, when recorded."""

    @property
    def root_bytes(self) -> bytes:
        """The root as 32 bytes."""
        return bytes.fromhex(self.root)

    def label(self) -> str:
        """A short name for messages: ``origin@size``."""
        return f"{self.origin}@{self.size}"


@dataclass(frozen=True)
class CheckpointFile:
    """A checkpoint already read (and, for a signed note, checked) from ``path``: ``verify`` uses the
    leaf sidecar beside that file and names the checkpoint by it."""

    path: Path
    checkpoint: Checkpoint


def default_origin(source: AidLedger) -> str:
    """The origin a ledger is named by when none is given: ``aidledger/<id of its first event>``."""
    return f"aidledger/{first_originator_id(source)}"


def leaf_hashes(source: AidLedger, count: int | None = None) -> bytearray:
    """The leaf hashes of the first ``count`` events (all when ``None``), concatenated."""
    hashes = bytearray()
    if count == 0:
        return hashes
    for index, row in enumerate(read_rows(source), start=1):
        hashes += leaf_hash_of(row)
        if index == count:
            break
    return hashes


def root_of_hashes(hashes: bytes | bytearray, count: int | None = None) -> bytes:
    """The Merkle root of the first ``count`` concatenated leaf hashes (all when ``None``)."""
    count = len(hashes) // HASH_SIZE if count is None else count
    accumulator = MerkleAccumulator()
    view = memoryview(hashes)
    for offset in range(0, count * HASH_SIZE, HASH_SIZE):
        accumulator.append(bytes(view[offset : offset + HASH_SIZE]))
    return accumulator.root()


def make_checkpoint(
    source: AidLedger, *, size: int | None = None, origin: str | None = None, projections: bool = True
) -> tuple[Checkpoint, bytearray]:
    """A checkpoint of the first ``size`` events (all when ``None``) and its leaf hashes.

    With ``projections`` it also records the projections digest of those events: for the whole log,
    of the ledger's fold (checked against the log first); for fewer events, of a fold of just them.
    """
    if size is not None and size < 0:
        raise InvalidInput("size", size, "a number of events, 0 or more")
    hashes = leaf_hashes(source, size)
    available = len(hashes) // HASH_SIZE
    if size is not None and available < size:
        raise InvalidInput("size", size, f"at most the {available} events the ledger holds")
    name = origin if origin is not None else default_origin(source)
    digest = _projections_digest(source, available) if projections and available else None
    try:
        checkpoint = Checkpoint(origin=name, size=available, root=root_of_hashes(hashes).hex(), projections=digest)
    except ValidationError:
        raise InvalidInput(
            "origin", name, "a name of 1 to 200 characters on one line, without control characters"
        ) from None
    return checkpoint, hashes


def _projections_digest(source: AidLedger, size: int) -> str:
    """The projections digest of the first ``size`` events."""
    current = projections_of(source).current()
    if current.merkle.size == size:
        return projections_digest(current.fold)
    return projections_digest(fold_rows(islice(read_rows(source), size)).fold)  # fewer events than the log holds


def sidecar_path(path: Path) -> Path:
    """Where the leaf-hash sidecar of the checkpoint file ``path`` lives."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def write_checkpoint(checkpoint: Checkpoint, path: Path, leaves: bytes | bytearray | None = None) -> None:
    """Write the checkpoint file, and its sidecar when ``leaves`` are given (a stale one is removed)."""
    data = {"format": FORMAT, "hash": HASH_NAME, **checkpoint.model_dump(exclude_none=True)}
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    write_sidecar(checkpoint, path, leaves)


def write_sidecar(checkpoint: Checkpoint, path: Path, leaves: bytes | bytearray | None) -> None:
    """Write the leaf sidecar of the checkpoint file ``path`` (JSON or signed note), or remove a stale one."""
    sidecar = sidecar_path(path)
    if leaves is not None:
        assert len(leaves) == checkpoint.size * HASH_SIZE, (len(leaves), checkpoint.size)
        sidecar.write_bytes(bytes(leaves))
    elif sidecar.exists():  # it belonged to an earlier checkpoint written to the same name
        sidecar.unlink()


def read_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint file written by :func:`write_checkpoint`."""
    accepted = "a checkpoint file written by `aidledger checkpoint`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidInput("checkpoint", str(path), f"{accepted} ({error})") from None
    if not isinstance(data, dict) or data.pop("format", None) != FORMAT or data.pop("hash", None) != HASH_NAME:
        raise InvalidInput("checkpoint", str(path), f"{accepted} (format {FORMAT}, hash {HASH_NAME})")
    try:
        return Checkpoint.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise InvalidInput("checkpoint", str(path), f"{accepted} ({where}: {problem['msg']})") from None


def read_sidecar(
    path: Path, checkpoint: Checkpoint, stored: bytes | bytearray | memoryview | None = None
) -> tuple[bytes | None, str | None]:
    """The sidecar's leaf hashes if it exists and matches the checkpoint; else ``None`` and why.

    ``stored`` are the leaf hashes of the checkpointed events when the store matches the
    checkpoint: the sidecar must then equal them, which is cheaper to check than its root.
    """
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        return None, None
    try:
        hashes = sidecar.read_bytes()
    except OSError as error:
        return None, f"{sidecar} ignored: it cannot be read ({error.strerror or error})"
    if len(hashes) != checkpoint.size * HASH_SIZE:
        return None, f"{sidecar} ignored: it holds {len(hashes) / HASH_SIZE:g} leaf hashes, not {checkpoint.size}"
    if stored is not None and hashes != stored:
        return None, (
            f"{sidecar} ignored: its leaf hashes are not those of the {checkpoint.size} checkpointed events "
            "(it is damaged or belongs to another checkpoint; the checkpoint itself matches)"
        )
    if stored is None and root_of_hashes(hashes) != checkpoint.root_bytes:
        return None, f"{sidecar} ignored: its leaf hashes do not give the checkpoint's root"
    return hashes, None
