"""The audit commands: checkpoint, verify, prove, replay, restatement, history, rebuild.

Handlers return the exit code: 0 when all is well, 5 (as for any integrity failure) when
verification, a proof or a replay fails. User mistakes raise aidledger errors, which the main
command line prints as one line. The commands that only read open the ledger read-only.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from aidledger import projections
from aidledger.application.ledger import AidLedger
from aidledger.audit.checkpoint import Checkpoint, make_checkpoint, sidecar_path, write_checkpoint, write_sidecar
from aidledger.audit.histories import history, resolve_aggregate
from aidledger.audit.notes import (
    SignerKey,
    load_checkpoint,
    read_signer_key,
    read_verifier_keys,
    render_note,
    sign_checkpoint,
    write_note,
)
from aidledger.audit.proofs import (
    ConsistencyProof,
    ProofCheck,
    prove_consistency,
    prove_inclusion,
    read_proof,
    verify_inclusion_proof,
    write_proof,
)
from aidledger.audit.replays import replay, replay_report
from aidledger.audit.restatements import EventChange, FigureChange, restatement
from aidledger.audit.verification import verify
from aidledger.audit.witness import ExtensionCheck, check_extension
from aidledger.cli.common import EXIT_INTEGRITY, add_command, cell, open_ledger, print_json, say
from aidledger.errors import InvalidInput
from aidledger.projections.totals import DIMENSIONS

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the audit subcommands to ``commands`` (the main parser's ``add_subparsers()`` object)."""
    _checkpoint(commands)
    _verify(commands)
    _prove(commands)
    _replay(commands)
    _restatement(commands)
    rebuild = add_command(
        commands, "rebuild", "refold the projections from the events, replacing what is stored", cmd_rebuild
    )
    rebuild.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="first verify the events against these checkpoints (repeatable)",
    )
    _history(commands)


def _checkpoint(commands: Any) -> None:
    parser = add_command(
        commands, "checkpoint", "write a checkpoint (origin, size, Merkle root), or sign it", cmd_checkpoint
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="the checkpoint file to write (with --sign: optional)")
    parser.add_argument("--sign", type=Path, metavar="KEY", help="write a C2SP signed note, signed with this key file")
    parser.add_argument("--size", type=int, metavar="N", help="cover only the first N events (default: all)")
    parser.add_argument("--origin", metavar="NAME", help="the ledger's name (default: aidledger/<first event id>)")
    parser.add_argument("--no-leaves", action="store_true", help="do not write the FILE.leaves sidecar")


def _verify(commands: Any) -> None:
    parser = add_command(commands, "verify", "recompute the Merkle tree from the stored rows and check it", cmd_verify)
    parser.add_argument("--checkpoint", action="append", default=[], type=Path, metavar="FILE", help="repeatable")
    parser.add_argument("--origin", metavar="NAME", help="the ledger name every checkpoint must carry")
    parser.add_argument("--deep", action="store_true", help="also check every row is canonical and readable")
    _key_options(parser)
    parser.add_argument("--witness", action="append", default=[], metavar="VKEY", help="a witness's key (repeatable)")
    parser.add_argument(
        "--witnesses-required", type=int, metavar="N", help="cosignatures each signed checkpoint needs (default: all)"
    )


def _key_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key", action="append", default=[], metavar="VKEY", help="the log's verifier key or FILE.pub (repeatable)"
    )


def _prove(commands: Any) -> None:
    inclusion = add_command(commands, "prove-inclusion", "prove one event is in a checkpoint", cmd_prove_inclusion)
    inclusion.add_argument("--checkpoint", required=True, type=Path, metavar="FILE")
    which = inclusion.add_mutually_exclusive_group(required=True)
    which.add_argument("--position", type=int, metavar="N", help="the event at log position N")
    which.add_argument("--aggregate", metavar="ID", help="an aggregate's UUID or creating command id")
    inclusion.add_argument("--version", type=int, default=1, metavar="V", help="with --aggregate (default 1)")
    inclusion.add_argument("--out", required=True, type=Path, metavar="FILE")
    consistency = add_command(
        commands, "prove-consistency", "prove a later checkpoint extends an earlier one", cmd_prove_consistency
    )
    consistency.add_argument("--from", dest="first", required=True, type=Path, metavar="FILE")
    consistency.add_argument("--to", dest="second", required=True, type=Path, metavar="FILE")
    consistency.add_argument("--out", required=True, type=Path, metavar="FILE")
    check = add_command(
        commands, "verify-proof", "check a proof, or a split view, without the database", cmd_verify_proof
    )
    check.add_argument("proof", nargs="?", type=Path, metavar="FILE", help="without it: two checkpoints of one size")
    check.add_argument("--checkpoint", action="append", required=True, type=Path, metavar="FILE", help="1 or 2")
    _key_options(check)
    check.add_argument("--aggregate", metavar="UUID", help="the event must be of this aggregate")
    check.add_argument("--version", type=int, metavar="V", help="the event must be this version")
    check.add_argument("--position", type=int, metavar="N", help="the event must be at this log position")


def _replay(commands: Any) -> None:
    parser = add_command(commands, "replay", "recompute a past report byte for byte", cmd_replay)
    parser.add_argument("--to", type=int, metavar="POSITION", help="the totals report as of log position POSITION")
    parser.add_argument("--by", action="append", default=[], metavar="DIMENSION", help=", ".join(DIMENSIONS))
    parser.add_argument("--effective-on", metavar="DATE", help="only what happened on or before DATE")
    parser.add_argument("--recorded-before", metavar="TIME", help="only events recorded before TIME")
    parser.add_argument("--expect-digest", metavar="SHA256", help="fail unless the replay has this digest")
    parser.add_argument("--report", type=Path, metavar="FILE", help="a published report (JSON) to compare")


def _restatement(commands: Any) -> None:
    parser = add_command(
        commands, "restatement", "figures that changed between two as-of points, and why", cmd_restatement
    )
    parser.add_argument("--from", dest="first", type=int, metavar="A", help="log position of the first point")
    parser.add_argument("--to", dest="second", type=int, metavar="B", help="log position of the second (default: now)")
    parser.add_argument("--by", action="append", default=[], metavar="DIMENSION", help="default: project")
    parser.add_argument("--effective-on", metavar="DATE", help="effective-on date of both points")
    parser.add_argument("--from-effective-on", metavar="DATE")
    parser.add_argument("--to-effective-on", metavar="DATE")
    parser.add_argument("--from-recorded-before", metavar="TIME")
    parser.add_argument("--to-recorded-before", metavar="TIME")


def _history(commands: Any) -> None:
    parser = add_command(commands, "history", "every event of one aggregate: who, when, why", cmd_history)
    parser.add_argument("subject", metavar="AGGREGATE", help="a UUID, or the id of a command that created it")


# -- handlers ---------------------------------------------------------------------------------------


def cmd_checkpoint(args: argparse.Namespace, console: Console) -> int:
    """Write a checkpoint file (and its leaf sidecar)."""
    if args.out is None and args.sign is None:
        raise InvalidInput("--out", "none", "the checkpoint file to write (optional with --sign KEY)")
    key = read_signer_key(args.sign) if args.sign is not None else None
    with open_ledger(args, read_only=True) as source:
        checkpoint, leaves = make_checkpoint(source, size=args.size, origin=args.origin)
    if key is not None:
        return _signed_checkpoint(args, console, checkpoint, leaves, key)
    write_checkpoint(checkpoint, args.out, None if args.no_leaves else leaves)
    sidecar = None if args.no_leaves else str(sidecar_path(args.out))
    if args.json:
        print_json({**checkpoint.model_dump(), "file": str(args.out), "sidecar": sidecar})
        return 0
    say(console, f"checkpoint {args.out}: {checkpoint.origin}, size {checkpoint.size}, root {checkpoint.root}")
    if sidecar:
        say(console, f"leaf hashes in {sidecar} (lets verify name the exact position that differs)")
    return 0


def _signed_checkpoint(
    args: argparse.Namespace, console: Console, checkpoint: Checkpoint, leaves: bytearray, key: SignerKey
) -> int:
    """Write (or print, without ``--out``) the checkpoint as a signed note, and its sidecar."""
    note = sign_checkpoint(checkpoint, key)
    if args.out is None:
        console.file.write(render_note(note))
        return 0
    write_note(note, args.out)
    write_sidecar(checkpoint, args.out, None if args.no_leaves else leaves)
    if args.json:
        print_json({**checkpoint.model_dump(), "file": str(args.out), "signed_by": key.verifier().encode()})
        return 0
    say(console, f"signed checkpoint {args.out}: {checkpoint.origin}, size {checkpoint.size}, root {checkpoint.root}")
    say(console, f"signed by {key.verifier().encode()}")
    return 0


def _checkpoints(args: argparse.Namespace) -> tuple[list[Path | tuple[Path, Checkpoint]], list[str]]:
    """The ``--checkpoint`` files for verify: JSON files as they are, signed notes checked and read."""
    keys = read_verifier_keys(args.key)
    witnesses = read_verifier_keys(args.witness, "--witness")
    required = len(witnesses) if args.witnesses_required is None else args.witnesses_required
    given: list[Path | tuple[Path, Checkpoint]] = []
    lines = []
    for path in args.checkpoint:
        checkpoint, signed = load_checkpoint(path, keys, witnesses=witnesses, witnesses_required=required)
        if signed is None:
            given.append(path)
            continue
        given.append((path, checkpoint))
        key = signed.signed_by
        cosigners = ", ".join(v.key.name for v in signed.cosigned_by)
        witnessed = f"; cosigned by {cosigners} ({required} of {len(witnesses)} required)" if witnesses else ""
        lines.append(f"signed checkpoint {path}: signed by {key.name} {key.key_hash:08x}{witnessed}")
    return given, lines


def cmd_verify(args: argparse.Namespace, console: Console) -> int:
    """Check signed checkpoints' signatures, then verify the stored rows against the checkpoints; exit 5 on
    any finding."""
    given, signed = _checkpoints(args)
    with open_ledger(args, read_only=True) as source:
        result = verify(source, given, origin=args.origin, deep=args.deep)
    if args.json:
        print_json({**result.model_dump(mode="json"), "signed": signed} if signed else result)
        return 0 if result.ok else EXIT_INTEGRITY
    for line in signed:
        say(console, line)
    for checkpoint in result.checkpoints:
        verdict = "matches" if checkpoint.matches else "DOES NOT MATCH"
        say(console, f"checkpoint {checkpoint.name} (size {checkpoint.size}): {verdict}")
    for finding in result.findings:
        where = f"position {finding.position}" if finding.position is not None else "position unknown"
        say(console, f"{finding.kind} at {where}: {finding.message}", "red")
    for note in result.notes:
        say(console, f"note: {note}", "yellow")
    say(console, result.summary(), "green" if result.ok else "red")
    return 0 if result.ok else EXIT_INTEGRITY


def cmd_prove_inclusion(args: argparse.Namespace, console: Console) -> int:
    """Write an inclusion proof of one event in a checkpoint."""
    checkpoint = load_checkpoint(args.checkpoint, None)[0]
    if args.aggregate is None:
        with open_ledger(args, read_only=True) as source:
            proof = prove_inclusion(source, checkpoint, position=args.position)
    else:
        with open_ledger(args, read_only=True) as ledger:
            aggregate_id = resolve_aggregate(ledger, args.aggregate)
            proof = prove_inclusion(ledger, checkpoint, aggregate_id=aggregate_id, version=args.version)
    write_proof(proof, args.out)
    if args.json:
        print_json(proof)
    else:
        event = proof.event
        say(console, f"{args.out}: {event['topic']} {event['originator_id']} v{event['originator_version']}")
        say(console, f"is log position {proof.position} of {checkpoint.label()} ({len(proof.path)} hashes)")
    return 0


def cmd_prove_consistency(args: argparse.Namespace, console: Console) -> int:
    """Write a consistency proof between two checkpoints."""
    first, second = load_checkpoint(args.first, None)[0], load_checkpoint(args.second, None)[0]
    with open_ledger(args, read_only=True) as source:
        proof = prove_consistency(source, first, second)
    write_proof(proof, args.out)
    if args.json:
        print_json(proof)
    else:
        say(console, f"{args.out}: {second.label()} extends {first.label()} ({len(proof.path)} hashes)")
    return 0


def cmd_verify_proof(args: argparse.Namespace, console: Console) -> int:
    """Check a proof file against checkpoint files, or two checkpoints against each other (a split
    view); reads no database. Signed checkpoints are checked with ``--key`` first."""
    keys = read_verifier_keys(args.key)
    proof = read_proof(args.proof) if args.proof is not None else None
    checkpoints = sorted((load_checkpoint(path, keys)[0] for path in args.checkpoint), key=lambda c: c.size)
    check: ProofCheck | ExtensionCheck
    if proof is None or isinstance(proof, ConsistencyProof):
        if len(checkpoints) != 2:
            raise InvalidInput("--checkpoint", len(checkpoints), "two checkpoints, to check one extends the other")
        check = check_extension(checkpoints[0], checkpoints[1], proof)
    else:
        if len(checkpoints) != 1:
            raise InvalidInput("--checkpoint", len(checkpoints), "one checkpoint for an inclusion proof")
        check = verify_inclusion_proof(
            proof, checkpoints[0], aggregate_id=args.aggregate, version=args.version, position=args.position
        )
    if args.json:
        print_json(check)
    else:
        say(console, check.message, "green" if check.ok else "red")
    return 0 if check.ok else EXIT_INTEGRITY


def cmd_replay(args: argparse.Namespace, console: Console) -> int:
    """Recompute a past report; compare it with a published one or an expected digest."""
    if (args.report is None) == (args.to is None):
        raise InvalidInput("replay", "--to/--report", "exactly one of --to POSITION or --report FILE")
    with open_ledger(args, read_only=True) as ledger:
        if args.report is not None:
            return _replay_published(ledger, args, console)
        report = replay(ledger, args.to, args.by, recorded_before=args.recorded_before, effective_on=args.effective_on)
    matches = args.expect_digest is None or args.expect_digest.removeprefix("sha256:") == report.digest
    if args.json:
        print_json(report)
    else:
        say(console, f"totals at position {report.coordinates.position}, root {report.coordinates.root}")
        say(console, f"digest sha256:{report.digest}")
        if args.expect_digest is not None:
            say(console, "matches the expected digest" if matches else "DIFFERS from the expected digest")
    return 0 if matches else EXIT_INTEGRITY


def _replay_published(ledger: AidLedger, args: argparse.Namespace, console: Console) -> int:
    result = replay_report(ledger, args.report)
    if args.json:
        print_json(result)
        return 0 if result.ok else EXIT_INTEGRITY
    verdict = "reproduced byte for byte" if result.ok else "NOT reproduced"
    say(console, f"{result.report} report at position {result.position}: {verdict}", "green" if result.ok else "red")
    say(console, f"published digest sha256:{result.published_digest}, replayed sha256:{result.replayed_digest}")
    if not result.digest_valid:
        say(console, "the published digest does not match the published content (the file was edited)", "red")
    for difference in result.differences:
        say(console, f"  {difference}")
    return 0 if result.ok else EXIT_INTEGRITY


def cmd_restatement(args: argparse.Namespace, console: Console) -> int:
    """Print every figure that changed between two as-of points, with the events that changed it."""
    before = projections.as_of(args.first, args.from_recorded_before, args.from_effective_on or args.effective_on)
    after = projections.as_of(args.second, args.to_recorded_before, args.to_effective_on or args.effective_on)
    with open_ledger(args, read_only=True) as ledger:
        report = restatement(ledger, before, after, args.by or ["project"])
    if args.json:
        print_json(report)
        return 0
    table = Table(title=f"Restatement from {_point(report.restated_from)} to {_point(report.coordinates)}")
    for name in ("figure", "column", "currency", "before", "after", "change", "events"):
        table.add_column(name, justify="right" if name in ("before", "after", "change") else "left")
    for figure in report.figures:
        group = ", ".join(report.labels.get(v, v) for v in figure.key.values()) or "(grand total)"
        events = "; ".join(_event_line(e) for e in figure.events)
        row = (figure.column, figure.currency, str(figure.before), str(figure.after), str(figure.change), events)
        table.add_row(cell(group), *(cell(text) for text in row))
    console.print(table)
    for change in _distinct_events(report.figures):
        say(console, _event_dates(change))
    say(console, f"{len(report.figures)} figures changed; digest sha256:{report.digest}")
    return 0


def _event_line(change: EventChange) -> str:
    flags = [name for name, on in (("backdated", change.backdated), ("correction", change.correction)) if on]
    amount = f" {change.amount:+}" if change.amount is not None else ""
    return f"{change.position} {change.event}{amount}" + (f" ({' '.join(flags)})" if flags else "")


def _distinct_events(figures: Sequence[FigureChange]) -> list[EventChange]:
    """Each event of the figures once per date it counts from, in log order."""
    found = {(e.position, e.effective_on): e for figure in figures for e in figure.events}
    return [found[key] for key in sorted(found)]


def _event_dates(change: EventChange) -> str:
    """An event's dates: counted from, its own date when that differs (a reversal's), recorded; its reason."""
    dated = f", dated {change.dated_on}" if change.dated_on not in (None, change.effective_on) else ""
    recorded = change.recorded_at.isoformat(timespec="seconds")
    reason = f": {change.reason}" if change.reason else ""
    return f"{change.position} {change.event}: effective {change.effective_on}{dated}, recorded {recorded}{reason}"


def _point(coordinates: projections.Coordinates) -> str:
    parts = [f"position {coordinates.position}"]
    if coordinates.recorded_before:
        parts.append(f"recorded before {coordinates.recorded_before.isoformat()}")
    if coordinates.effective_on:
        parts.append(f"effective on {coordinates.effective_on}")
    return ", ".join(parts)


def cmd_history(args: argparse.Namespace, console: Console) -> int:
    """Print every event of one aggregate, oldest first."""
    with open_ledger(args, read_only=True) as ledger:
        found = history(ledger, args.subject)
    if args.json:
        print_json(found)
        return 0
    table = Table(title=f"History of {found.kind} {found.aggregate_id}")
    names = ("position", "event", "recorded at", "by", "effective on", "counts from", "evidence", "command", "reason")
    for name in names:
        table.add_column(name, min_width=25 if name == "recorded at" else None)
    for entry in found.events:
        evidence = ", ".join(f"{k}={v}" for k, v in (entry.source or {}).items() if v) or "-"
        command = f"{entry.command or '?'} {entry.command_id}"
        counts_from = str(entry.counts_from) if entry.counts_from else "-"
        recorded_at = entry.recorded_at.isoformat(timespec="seconds")
        cells = (entry.event, recorded_at, entry.recorded_by, str(entry.effective_on), counts_from)
        table.add_row(str(entry.position), *(cell(c) for c in (*cells, evidence, command, entry.reason or "-")))
    console.print(table)
    return 0


def cmd_rebuild(args: argparse.Namespace, console: Console) -> int:
    """Refold the whole log and store the result as a new snapshot of the projections."""
    with open_ledger(args) as ledger:
        if args.checkpoint:
            result = verify(ledger, args.checkpoint, projections_state=False)
            if not result.ok:
                say(console, result.summary(), "red")
                return EXIT_INTEGRITY
        folded = projections.projections_of(ledger).replace_state()
        digest = projections.projections_digest(folded.fold)
    if args.json:
        print_json({"position": folded.fold.position, "root": folded.merkle.root().hex(), "projections": digest})
        return 0
    say(console, f"projections refolded from {folded.merkle.size} events up to position {folded.fold.position}")
    say(console, f"root {folded.merkle.root().hex()}  projections digest {digest}")
    return 0
