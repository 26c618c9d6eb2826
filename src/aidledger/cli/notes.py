"""The signing commands: keygen (a bureau's or a witness's key) and cosign (a witness's cosignature).

Signing a checkpoint is ``aidledger checkpoint --sign KEY``; checking one is ``aidledger verify
--checkpoint NOTE --key VKEY`` and ``aidledger verify-proof`` (both in :mod:`~aidledger.cli.audit`).
A private key is read from a file only, never from the command line, and never printed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from aidledger.audit.notes import (
    COSIGNATURE_V1,
    ED25519,
    SignedCheckpoint,
    VerifierKey,
    generate_key,
    load_checkpoint,
    read_signer_key,
    read_verifier_keys,
    write_key_files,
    write_note,
)
from aidledger.audit.witness import cosign_checkpoint
from aidledger.cli.common import add_command, open_ledger, print_json, say
from aidledger.errors import InvalidInput

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add keygen and cosign to ``commands`` (the main parser's ``add_subparsers()`` object)."""
    keygen = add_command(commands, "keygen", "make an Ed25519 key to sign or cosign checkpoints", cmd_keygen)
    keygen.add_argument("--name", required=True, help="the key's name, e.g. hebei.mca.example/aid-ledger")
    keygen.add_argument("--out", required=True, type=Path, metavar="FILE", help="the private key file (mode 0600)")
    keygen.add_argument("--witness", action="store_true", help="a witness's key: FILE.pub checks cosignatures")
    cosign = add_command(
        commands, "cosign", "as a witness, cosign a signed checkpoint that extends the last one cosigned", cmd_cosign
    )
    cosign.add_argument("--note", required=True, type=Path, metavar="NOTE", help="the log's signed checkpoint")
    cosign.add_argument("--key", required=True, type=Path, metavar="FILE", help="the witness's private key file")
    cosign.add_argument("--log-key", required=True, action="append", metavar="VKEY", help="the log's verifier key")
    cosign.add_argument("--previous", type=Path, metavar="NOTE", help="the last checkpoint this witness cosigned")
    cosign.add_argument("--out", type=Path, metavar="NOTE", help="where to write the cosigned note (default: NOTE)")


def cmd_keygen(args: argparse.Namespace, console: Console) -> int:
    """Write a new private key (mode 0600) and its verifier key (``FILE.pub``, also printed)."""
    key = generate_key(args.name)
    public = key.verifier(COSIGNATURE_V1 if args.witness else ED25519)
    public_path = write_key_files(key, args.out, public)
    if args.json:
        print_json(
            {"verifier_key": public.encode(), "private_key_file": str(args.out), "public_key_file": str(public_path)}
        )
        return 0
    say(console, public.encode())
    say(console, f"private key in {args.out} (mode 0600: keep it secret); verifier key in {public_path}")
    return 0


def _signed(path: Path, keys: list[VerifierKey], option: str) -> SignedCheckpoint:
    """The signed checkpoint in ``path``, its log signature checked; a JSON checkpoint is refused."""
    _, signed = load_checkpoint(path, keys)
    if signed is None:
        raise InvalidInput(option, str(path), "a signed checkpoint (`aidledger checkpoint --sign`), not a JSON one")
    return signed


def cmd_cosign(args: argparse.Namespace, console: Console) -> int:
    """Check the log's signature and the consistency with the last cosigned checkpoint, then cosign."""
    witness = read_signer_key(args.key)
    log_keys = read_verifier_keys(args.log_key, "--log-key")
    new = _signed(args.note, log_keys, "--note")
    previous = None if args.previous is None else _signed(args.previous, log_keys, "--previous")
    if previous is not None and 0 < previous.checkpoint.size < new.checkpoint.size:
        with open_ledger(args, read_only=True) as source:  # the witness's copy of the ledger gives the proof
            note = cosign_checkpoint(source, new, witness, previous, int(time.time()))
    else:
        note = cosign_checkpoint(None, new, witness, previous, int(time.time()))
    out = args.out or args.note
    write_note(note, out)
    checkpoint = new.checkpoint
    if args.json:
        print_json(
            {
                "file": str(out),
                "origin": checkpoint.origin,
                "size": checkpoint.size,
                "root": checkpoint.root,
                "witness": witness.verifier(COSIGNATURE_V1).encode(),
            }
        )
        return 0
    since = f", consistent with {previous.checkpoint.label()}" if previous is not None else " (first cosignature)"
    say(console, f"cosigned {checkpoint.label()} as {witness.name}{since}: {out}", "green")
    return 0
