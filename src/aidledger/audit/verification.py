"""Verify the stored history against checkpoints kept apart from the database.

One pass reads every stored row in log order, hashes it into the Merkle tree and notes the root at
each checkpoint's size. Each checkpoint must equal the recomputed root of its prefix; a later
checkpoint must extend an earlier one. When a checkpoint's leaf sidecar is at hand, the first leaf
that differs is found and classified (changed, removed, inserted, reordered) and its log position
named. Without one the mismatch is still reported, narrowed to the positions after the last
checkpoint that matched.

Problems found are returned as :class:`Finding` records in a :class:`Verification`; call
:meth:`Verification.check` to raise :class:`~aidledger.errors.IntegrityFailure` instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from pydantic import BaseModel, ConfigDict

from aidledger.application.ledger import AidLedger
from aidledger.application.mapper import LedgerMapper
from aidledger.audit.checkpoint import (
    Checkpoint,
    default_origin,
    read_checkpoint,
    read_sidecar,
    root_of_hashes,
    sidecar_path,
)
from aidledger.audit.leaves import StoredRow, leaf_bytes, read_rows
from aidledger.canonical import canonical_json
from aidledger.errors import IntegrityFailure, UnreadableEvent
from aidledger.merkle import HASH_SIZE, MerkleAccumulator, leaf_hash
from aidledger.projections import projections_of
from aidledger.projections.events import decode
from aidledger.projections.fold import LedgerFold
from aidledger.projections.runner import Inspection
from aidledger.projections.state import decode_snapshot, differences, encode_snapshot, projections_digest

__all__ = ["PROJECTION_KINDS", "CheckpointResult", "Finding", "Verification", "locate_difference", "verify"]

PROJECTION_KINDS = frozenset({"projections", "projection_state", "frontier", "projection"})
"""Kinds of finding about the stored projections rather than the events (an edited event makes them too)."""

MAX_DEEP_FINDINGS = 100
"""Deep checks stop listing after this many problems: the first ones are what an auditor needs."""


class Finding(BaseModel):
    """One problem found in the stored history.

    ``kind`` is one of ``changed``, ``removed``, ``inserted``, ``reordered`` (located against a
    checkpoint's leaves), ``mismatch`` (a checkpoint's root differs but no sidecar locates it),
    ``fork`` (a later checkpoint does not extend an earlier one), ``origin`` (checkpoints name
    different ledgers), ``gap`` (log positions missing from the table), ``projections`` (a
    checkpoint's projections digest is not that of its events), ``projection_state`` (a segment of
    the stored projections does not match its digest or cannot be read), ``frontier`` (the Merkle
    tree stored with the projections is not that of the stored events), ``projection`` (a record,
    fact or figure of the stored projections differs from what the events give), and with ``deep``
    checks ``not_canonical``, ``unreadable`` and ``version_order``.
    """

    model_config = ConfigDict(frozen=True)

    kind: str
    position: int | None
    """The first log position concerned, when it is known."""
    message: str
    checkpoint: str | None = None
    """The checkpoint file (or ``origin@size``) the finding is against."""


class CheckpointResult(BaseModel):
    """How one checkpoint compares with the stored rows."""

    model_config = ConfigDict(frozen=True)

    name: str
    origin: str
    size: int
    root: str
    matches: bool
    sidecar: bool
    """Whether a leaf sidecar lies beside the file (checked against the stored leaves when the checkpoint
    matches, against the checkpoint's root when it is needed to locate a difference)."""


class Verification(BaseModel):
    """The outcome of :func:`verify`: the recomputed tree, each checkpoint, and the findings."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    size: int
    """Events in the store."""
    root: str
    """Merkle root of all of them."""
    checkpoints: tuple[CheckpointResult, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()
    """Things that did not fail verification but limited it (an ignored sidecar, say)."""

    @property
    def first_position(self) -> int | None:
        """The earliest log position any finding names."""
        positions = [f.position for f in self.findings if f.position is not None]
        return min(positions) if positions else None

    def summary(self) -> str:
        """One line: verified, or the number of findings and the first of them."""
        if self.ok and not self.checkpoints:
            unchecked = "no checkpoint given: the root was compared with none"
            return f"verified: {self.size} events, root {self.root} ({unchecked})"
        if self.ok:
            return f"verified: {self.size} events, root {self.root}, {len(self.checkpoints)} checkpoint(s) match"
        # The events first: a changed event also makes the projections differ, as a consequence.
        first = min(self.findings, key=lambda f: (f.kind in PROJECTION_KINDS, f.position is None, f.position or 0))
        return f"verification failed with {len(self.findings)} finding(s); first: {first.message}"

    def check(self) -> Verification:
        """Return self when verified; otherwise raise :class:`IntegrityFailure` with the summary."""
        if not self.ok:
            raise IntegrityFailure(self.summary())
        return self


@dataclass
class _Given:
    """A checkpoint to compare, with its name and where its sidecar would be."""

    name: str
    checkpoint: Checkpoint
    path: Path | None = None
    notes: list[str] = field(default_factory=list)
    _leaves: bytes | None = None
    _read: bool = False

    @property
    def has_sidecar(self) -> bool:
        """Whether a sidecar file lies beside the checkpoint file."""
        return self.path is not None and sidecar_path(self.path).is_file()

    @property
    def leaves(self) -> bytes | None:
        """The sidecar's leaf hashes when it matches the checkpoint; read (and checked) on first use.

        Lazily, because checking a sidecar costs a Merkle tree of its own and is only needed to
        locate a difference.
        """
        if not self._read and self.path is not None:
            self._leaves, note = read_sidecar(self.path, self.checkpoint)
            if note:
                self.notes.append(note)
        self._read = True
        return self._leaves

    def check_sidecar(self, stored: bytes | bytearray | memoryview) -> None:
        """Compare the sidecar of a checkpoint the store matches with the stored leaves ``stored``:
        one that differs is noted (never silently ignored), though nothing needs it."""
        if not self._read and self.path is not None:
            self._leaves, note = read_sidecar(self.path, self.checkpoint, stored)
            if note:
                self.notes.append(note)
        self._read = True


@dataclass
class _Scan:
    """What one pass over the rows collects."""

    size: int = 0
    roots: dict[int, bytes] = field(default_factory=dict)
    leaves: bytearray = field(default_factory=bytearray)
    findings: list[Finding] = field(default_factory=list)
    fold: LedgerFold | None = None
    """The fold of every row, when the projections are verified too (``None`` if a row cannot be folded)."""
    snapshots: dict[int, bytes] = field(default_factory=dict)
    """The fold's snapshot after the first ``size`` rows, for each size asked for before the end."""


def verify(
    source: AidLedger,
    checkpoints: Iterable[Path | str | Checkpoint | tuple[Path, Checkpoint]] = (),
    *,
    origin: str | None = None,
    deep: bool = False,
    projections_state: bool = True,
) -> Verification:
    """Recompute the Merkle tree from the stored rows and compare it with ``checkpoints``.

    ``checkpoints`` are checkpoint files (their ``.leaves`` sidecars are used when valid),
    :class:`Checkpoint` objects, or ``(file, checkpoint)`` pairs: a checkpoint read from a signed
    note file (:mod:`aidledger.audit.notes`), whose sidecar lies beside that file. Every checkpoint
    must carry the name ``origin``, or when it is not given, the ledger's default name
    (``aidledger/<id of its first event>``). A sidecar that cannot be used is ignored with a note.
    ``deep`` also checks that each row is canonical JSON the library can read, and that each
    aggregate's versions follow each other in log order. With ``projections_state`` (the default)
    the stored projections are compared with a fold of the events: their segments, their Merkle
    tree, and every record, fact and figure; and each checkpoint's projections digest with that of
    its events.
    """
    notes: list[str] = []
    given = sorted((_load(item, notes) for item in checkpoints), key=lambda g: g.checkpoint.size)
    inspection = projections_of(source).inspect() if projections_state else None
    state_size = inspection.head.size if inspection is not None and inspection.head is not None else None
    digest_sizes = {g.checkpoint.size for g in given if g.checkpoint.projections is not None}
    fold_sizes = digest_sizes | ({state_size} if state_size is not None else set())
    sizes = {g.checkpoint.size for g in given} | fold_sizes
    scan = _scan(source, sizes, deep=deep, fold=inspection is not None or bool(digest_sizes), fold_sizes=fold_sizes)
    findings = list(scan.findings)
    results = [_compare(g, scan, given, findings) for g in given]
    for g, result in zip(given, results, strict=True):
        if result.matches and result.sidecar:
            g.check_sidecar(memoryview(scan.leaves)[: g.checkpoint.size * HASH_SIZE])
    findings += _origins(given, origin, default_origin(source) if scan.size else None)
    findings += _extensions(given, results, notes)
    findings += _checkpoint_projections(given, scan, notes)
    if inspection is not None:
        findings += _state_findings(inspection, scan, notes)
    return Verification(
        ok=not findings,
        size=scan.size,
        root=scan.roots[scan.size].hex(),
        checkpoints=tuple(results),
        findings=tuple(findings),
        notes=tuple(notes),
    )


def _load(item: Path | str | Checkpoint | tuple[Path, Checkpoint], notes: list[str]) -> _Given:
    if isinstance(item, Checkpoint):
        return _Given(item.label(), item, notes=notes)
    if isinstance(item, tuple):
        return _Given(str(item[0]), item[1], Path(item[0]), notes)
    path = Path(item)
    return _Given(str(path), read_checkpoint(path), path, notes)


# -- the pass over the rows -----------------------------------------------------------------------


def _scan(source: AidLedger, sizes: set[int], *, deep: bool, fold: bool, fold_sizes: set[int]) -> _Scan:
    """Hash every row into the tree, noting the root at each size in ``sizes``; with ``fold``, fold
    the rows too, keeping a snapshot of the fold at each size in ``fold_sizes`` short of the end."""
    scan = _Scan(fold=LedgerFold() if fold else None)
    accumulator = MerkleAccumulator()
    append, leaves = accumulator.append, scan.leaves
    contiguous = source.store.contiguous_positions
    expected = 1
    deep_check = _DeepCheck(scan.findings) if deep else None
    if 0 in sizes:
        scan.roots[0] = accumulator.root()
    for row in read_rows(source):
        leaf = leaf_hash(leaf_bytes(row))
        append(leaf)
        leaves += leaf
        if row.position != expected and contiguous:
            scan.findings.append(_gap(expected, row.position))
        expected = row.position + 1
        if scan.fold is not None:
            _fold_row(scan, row)
        if accumulator.size in sizes:
            scan.roots[accumulator.size] = accumulator.root()
            if scan.fold is not None and accumulator.size in fold_sizes:
                scan.snapshots[accumulator.size] = encode_snapshot(scan.fold)
        if deep_check is not None:
            deep_check(row)
    scan.size = accumulator.size
    scan.roots[scan.size] = accumulator.root()
    return scan


def _fold_row(scan: _Scan, row: StoredRow) -> None:
    """Fold one row into the scan's fold; a row that cannot be folded ends the folding, as a finding."""
    assert scan.fold is not None
    try:
        decoded = decode(row)
        if decoded is None:
            scan.fold.position = row.position
        else:
            scan.fold.apply(row.position, row.originator_id, decoded[0], decoded[1])
    except UnreadableEvent as error:
        scan.fold = None
        message = f"the events cannot be folded into projections: {error}"
        scan.findings.append(Finding(kind="projection", position=row.position, message=message))


def _gap(expected: int, found: int) -> Finding:
    missing = f"{expected}" if found == expected + 1 else f"{expected} to {found - 1}"
    return Finding(
        kind="gap",
        position=expected,
        message=f"log position {missing} is missing from the table (the event was deleted): "
        f"the stored positions jump from {expected - 1} to {found}",
    )


class _DeepCheck:
    """Per-row checks that need the row's content: canonical JSON, readable, versions in order."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        self.count = 0
        self.mapper = LedgerMapper()
        self.versions: dict[str, int] = {}

    def __call__(self, row: StoredRow) -> None:
        problem = self._content(row) or self._order(row)
        if problem is not None and self.count < MAX_DEEP_FINDINGS:
            self.findings.append(problem)
            self.count += 1

    def _content(self, row: StoredRow) -> Finding | None:
        state = row.state if isinstance(row.state, bytes) else str(row.state).encode()
        try:
            parsed = json.loads(state)
        except ValueError as error:
            return Finding(kind="unreadable", position=row.position, message=f"{_where(row)}: not JSON ({error})")
        if canonical_json(parsed) != state:
            return Finding(kind="not_canonical", position=row.position, message=f"{_where(row)}: not canonical JSON")
        try:
            stored = StoredEvent(UUID(row.originator_id), row.originator_version, str(row.topic), state)
            self.mapper.to_domain_event(stored)
        except (IntegrityFailure, ValueError) as error:
            return Finding(kind="unreadable", position=row.position, message=str(error))
        return None

    def _order(self, row: StoredRow) -> Finding | None:
        previous = self.versions.get(row.originator_id, 0)
        self.versions[row.originator_id] = row.originator_version if isinstance(row.originator_version, int) else 0
        if row.originator_version == previous + 1:
            return None
        return Finding(
            kind="version_order",
            position=row.position,
            message=f"{_where(row)} follows version {previous} of the same aggregate in log order",
        )


def _where(row: StoredRow) -> str:
    return f"log position {row.position} ({row.originator_id} v{row.originator_version}, {row.topic})"


# -- comparing with checkpoints -------------------------------------------------------------------


def _compare(given: _Given, scan: _Scan, everyone: Sequence[_Given], findings: list[Finding]) -> CheckpointResult:
    checkpoint = given.checkpoint
    recomputed = scan.roots.get(checkpoint.size)
    matches = recomputed == checkpoint.root_bytes
    if not matches:
        findings.append(_mismatch(given, scan, everyone))
    return CheckpointResult(
        name=given.name,
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=checkpoint.root,
        matches=matches,
        sidecar=given.has_sidecar,
    )


def _mismatch(given: _Given, scan: _Scan, everyone: Sequence[_Given]) -> Finding:
    checkpoint = given.checkpoint
    if given.leaves is not None:
        located = locate_difference(given.leaves, scan.leaves)
        if located is not None:
            kind, position, message = located
            return Finding(kind=kind, position=position, message=message, checkpoint=given.name)
    after = max(
        (g.checkpoint.size for g in everyone if g.checkpoint.size < checkpoint.size and _holds(g, scan)), default=0
    )
    if scan.size < checkpoint.size:
        detail = f"the store holds {scan.size} events but checkpoint {given.name} covers {checkpoint.size}"
    else:
        detail = f"the root of the first {checkpoint.size} stored events differs from checkpoint {given.name}"
    hint = ""
    if given.path is not None and given.leaves is None:
        hint = f"; keep {sidecar_path(given.path).name} beside it to name the position"
    return Finding(
        kind="mismatch",
        position=None,
        message=f"{detail}: an event at a position from {after + 1} to {checkpoint.size} was changed, "
        f"removed, inserted or reordered{hint}",
        checkpoint=given.name,
    )


def _holds(given: _Given, scan: _Scan) -> bool:
    return scan.roots.get(given.checkpoint.size) == given.checkpoint.root_bytes


def _origins(given: Sequence[_Given], origin: str | None, default: str | None) -> list[Finding]:
    """Every checkpoint must name this ledger: ``origin`` when given, else its default name.

    The root does not cover the origin, so an edited origin is found only here. An empty ledger has
    no default name; its checkpoints must then agree with each other.
    """
    expected = origin if origin is not None else default
    if expected is None:
        expected = given[0].checkpoint.origin if given else None
    hint = "" if origin is not None or default is None else " (this ledger's default name; --origin NAME names another)"
    return [
        Finding(
            kind="origin",
            position=None,
            message=f"checkpoint {g.name} names ledger {g.checkpoint.origin!r}, not {expected!r}{hint}",
            checkpoint=g.name,
        )
        for g in given
        if g.checkpoint.origin != expected
    ]


def _extensions(given: Sequence[_Given], results: Sequence[CheckpointResult], notes: list[str]) -> list[Finding]:
    """Each checkpoint must extend the one before it (by size)."""
    findings = []
    for index in range(1, len(given)):
        earlier, later = given[index - 1], given[index]
        verdict = _extends(earlier, later, results[index - 1].matches, results[index].matches)
        if verdict is None:
            notes.append(
                f"could not check that {later.name} extends {earlier.name}: "
                f"{later.name} does not match the store and has no leaf sidecar"
            )
        elif not verdict:
            findings.append(_fork(earlier, later))
    return findings


def _extends(earlier: _Given, later: _Given, earlier_matches: bool, later_matches: bool) -> bool | None:
    """Whether ``later`` extends ``earlier``; ``None`` when neither the store nor a sidecar can tell."""
    if later_matches:  # the store holds the later tree, so the earlier one must be its prefix
        return earlier_matches
    if later.leaves is not None:
        return root_of_hashes(later.leaves, earlier.checkpoint.size) == earlier.checkpoint.root_bytes
    return None


def _fork(earlier: _Given, later: _Given) -> Finding:
    size = earlier.checkpoint.size
    position = None
    if earlier.leaves is not None and later.leaves is not None:
        located = locate_difference(earlier.leaves, later.leaves)
        position = located[1] if located else None
    where = f" (first difference at log position {position})" if position else ""
    return Finding(
        kind="fork",
        position=position,
        message=f"checkpoint {later.name} (size {later.checkpoint.size}) does not extend checkpoint "
        f"{earlier.name} (size {size}): the first {size} events were rewritten between them{where}",
        checkpoint=later.name,
    )


# -- the projections --------------------------------------------------------------------------------


def _fold_at(scan: _Scan, size: int) -> LedgerFold | None:
    """The fold of the first ``size`` rows, if the scan folded that far."""
    if size == scan.size:
        return scan.fold
    snapshot = scan.snapshots.get(size)
    return decode_snapshot(snapshot) if snapshot is not None else None


def _checkpoint_projections(given: Sequence[_Given], scan: _Scan, notes: list[str]) -> list[Finding]:
    """Each checkpoint's projections digest must be that of the fold of its events."""
    findings = []
    for g in given:
        recorded = g.checkpoint.projections
        if recorded is None:
            continue
        fold = _fold_at(scan, g.checkpoint.size)
        if fold is None:
            notes.append(f"could not check the projections digest of {g.name}: its events could not all be folded")
            continue
        computed = projections_digest(fold)
        if computed != recorded:
            findings.append(
                Finding(
                    kind="projections",
                    position=None,
                    message=f"checkpoint {g.name} records projections digest {recorded}, but its first "
                    f"{g.checkpoint.size} events give {computed}: the figures published with it are not theirs",
                    checkpoint=g.name,
                )
            )
    return findings


def _state_findings(inspection: Inspection, scan: _Scan, notes: list[str]) -> list[Finding]:
    """The stored projections against the events: digests, Merkle tree, and content."""
    findings = [Finding(kind=kind, position=position, message=m) for kind, position, m in inspection.problems]
    head = inspection.head
    if head is None:
        notes.append("no projections are stored beside the events (they are folded when a report needs them)")
        return findings
    if scan.size < head.size:
        message = f"the stored projections cover {head.size} events, but the log holds only {scan.size}"
        return [*findings, Finding(kind="frontier", position=None, message=message)]
    root = scan.roots.get(head.size)
    leaf = bytes(scan.leaves[(head.size - 1) * HASH_SIZE : head.size * HASH_SIZE]) if head.size else b""
    if root != head.root or leaf != head.last_leaf:
        findings.append(
            Finding(
                kind="frontier",
                position=head.position,
                message=f"the Merkle tree stored with the projections at log position {head.position} (root "
                f"{head.root.hex()}) is not that of the stored events (root {root.hex() if root else '-'}): "
                "the events or the stored frontier were changed",
            )
        )
    events_give = _fold_at(scan, head.size)
    if inspection.fold is None or events_give is None:
        notes.append("the stored projections were not compared with the events: one side could not be folded")
        return findings
    for position, message in differences(inspection.fold, events_give):
        findings.append(Finding(kind="projection", position=position, message=f"aidledger_fold: {message}"))
    return findings


# -- naming the first difference ------------------------------------------------------------------


def locate_difference(old: bytes | bytearray, new: bytes | bytearray) -> tuple[str, int, str] | None:
    """Compare checkpointed leaf hashes ``old`` with stored ones ``new``.

    Returns ``None`` when ``old`` is a prefix of ``new`` (the log only grew), else
    ``(kind, position, message)`` for the first log position that differs.
    """
    leaves_old, leaves_new = _Leaves(old), _Leaves(new)
    index = _first_difference(old, new)
    if index == leaves_old.count:
        return None
    position = index + 1
    if index == leaves_new.count:
        return (
            "removed",
            position,
            (
                f"log position {position} and after are missing: the store ends after {leaves_new.count} events, "
                f"the checkpoint covers {leaves_old.count}"
            ),
        )
    moved_to = leaves_new.find(leaves_old[index], index + 1)
    moved_from = leaves_old.find(leaves_new[index], index + 1)
    if moved_to is not None and moved_from is not None:
        return (
            "reordered",
            position,
            (
                f"log position {position} holds the event that was at position {moved_from + 1}, "
                f"and its own event now stands at position {moved_to + 1}"
            ),
        )
    if leaves_new[index] == leaves_old[index + 1]:
        return "removed", position, f"the event at log position {position} was removed; later events moved up"
    if leaves_new[index + 1] == leaves_old[index]:
        return "inserted", position, f"an event was inserted at log position {position}; later events moved down"
    return "changed", position, f"the event at log position {position} was changed"


class _Leaves:
    """Indexed view of concatenated leaf hashes; out-of-range reads give ``b""``."""

    def __init__(self, data: bytes | bytearray) -> None:
        self.data = data
        self.count = len(data) // HASH_SIZE

    def __getitem__(self, index: int) -> bytes:
        return bytes(self.data[index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def find(self, leaf: bytes, start: int) -> int | None:
        offset = self.data.find(leaf, start * HASH_SIZE)
        while offset >= 0 and offset % HASH_SIZE:  # a match straddling two hashes is no match
            offset = self.data.find(leaf, offset + 1)
        return offset // HASH_SIZE if offset >= 0 else None


def _first_difference(old: bytes | bytearray, new: bytes | bytearray) -> int:
    """Index of the first leaf where ``old`` and ``new`` differ (or the shorter one's length)."""
    common = min(len(old), len(new)) // HASH_SIZE
    chunk = 4096 * HASH_SIZE  # compare big slices first: memcmp, not a Python loop per leaf
    first, second = memoryview(old), memoryview(new)
    for start in range(0, common * HASH_SIZE, chunk):
        end = min(start + chunk, common * HASH_SIZE)
        if first[start:end] != second[start:end]:
            for offset in range(start, end, HASH_SIZE):
                if first[offset : offset + HASH_SIZE] != second[offset : offset + HASH_SIZE]:
                    return offset // HASH_SIZE
    return common
