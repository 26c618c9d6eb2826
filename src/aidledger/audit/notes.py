"""Signed checkpoints: C2SP ``tlog-checkpoint`` bodies in C2SP ``signed-note`` form, with Ed25519 keys.

A signed checkpoint reads::

    aidledger/c416c426-cd65-5dd5-b944-3ec29dd1c0a4
    2941
    Ew8+3gXzuzSy2iiMQp0uhSjxE1EcOnluhU5lT6zkDUY=
    aidledger-projections 6caed60fb753606afdaf6ac723832087719c283d04f2cb6ddd713eb73f4d869e

    — hebei.mca.example/aid-ledger Gx0fZq6i…

The body (the note *text*) is the origin, the tree size in decimal, the base64 root hash, then one
extension line carrying the projections digest when the checkpoint has one. A blank line separates
it from one signature line per key: an em dash, a space, the key name, a space, and the base64 of
the 4-byte key hash followed by the signature. Two kinds of signature are made and checked:

- ``0x01`` Ed25519 over the text (the log's own signature), as Go's ``golang.org/x/mod/sumdb/note``;
- ``0x04`` ``cosignature/v1`` (C2SP ``tlog-cosignature``): an 8-byte big-endian time, then Ed25519
  over ``"cosignature/v1\\ntime <seconds>\\n" + text``, made by witnesses.

Keys are written as Go's note package writes them: the verifier key
``name+hash+base64(type||public key)``, the private key ``PRIVATE+KEY+name+hash+base64(0x01||seed)``;
the key hash is the first 4 bytes of ``SHA-256(name || 0x0A || type || public key)``, in hex.

Everything read from outside is hostile: a note or key that is not well formed (control characters,
an oversized note or line, bad base64, a duplicate signature, a wrong key hash) raises
:class:`~aidledger.errors.InvalidInput` with one line saying what is wrong; a note whose signature
does not check out raises :class:`~aidledger.errors.IntegrityFailure`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from aidledger.audit.checkpoint import Checkpoint, read_checkpoint
from aidledger.errors import IntegrityFailure, InvalidInput

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "PROJECTIONS_EXTENSION",
    "NoteSignature",
    "SignedCheckpoint",
    "SignedNote",
    "SignerKey",
    "VerifierKey",
    "checkpoint_of_text",
    "checkpoint_text",
    "cosign_note",
    "generate_key",
    "is_note_file",
    "load_checkpoint",
    "open_checkpoint",
    "open_note",
    "parse_note",
    "read_note_bytes",
    "read_signer_key",
    "read_verifier_keys",
    "render_note",
    "sign_checkpoint",
    "write_key_files",
    "write_note",
]

ED25519 = 0x01
"""Signature type of a plain Ed25519 note signature (C2SP signed-note)."""
COSIGNATURE_V1 = 0x04
"""Signature type of a timestamped Ed25519 witness cosignature (C2SP tlog-cosignature)."""
KEY_KINDS = {ED25519: "Ed25519", COSIGNATURE_V1: "cosignature/v1"}

MAX_NOTE_BYTES = 64 * 1024
"""A note longer than this is refused unread: a checkpoint with 100 cosignatures is under 20 KiB."""
MAX_LINE_CHARACTERS = 1000
MAX_SIGNATURES = 100
"""As Go's note package: more signature lines than this and the note is refused (C2SP asks for 16 at least)."""
MAX_TIMESTAMP = 2**63 - 1
PROJECTIONS_EXTENSION = "aidledger-projections"
"""The extension line's first word; the projections digest (64 hex digits) follows after a space."""

EM_DASH = "\u2014"
SIGNATURE_PREFIX = EM_DASH + " "
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


def _refuse(what: str, value: object, problem: str) -> InvalidInput:
    """The one error for a malformed note or key: what was read, and what is wrong with it."""
    return InvalidInput(what, value, problem)


def _decode_base64(text: str, what: str, value: object) -> bytes:
    """Strict standard base64 (RFC 4648 §4): canonical padding, no whitespace."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(what, value, f"standard base64, not {_shorten(text)!r}") from None
    if base64.b64encode(data).decode("ascii") != text:
        raise _refuse(what, value, f"canonical standard base64, not {_shorten(text)!r}")
    return data


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _check_name(name: str, what: str, value: object) -> None:
    """A key name: non-empty, no Unicode space, no ``+``, no control character (C2SP signed-note)."""
    if (
        not name
        or len(name) > 200
        or "+" in name
        or any(c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in name)
    ):
        accepted = "a key name of 1 to 200 characters without spaces, '+' or control characters"
        raise _refuse(what, value, f"{accepted}, not {_shorten(name)!r}")


def key_hash(name: str, kind: int, public: bytes) -> int:
    """The 32-bit key hash: the first 4 bytes of SHA-256(name || 0x0A || type || public key)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([kind]) + public).digest()[:4], "big")


# -- keys -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifierKey:
    """A public key that checks one kind of signature by one named signer."""

    name: str
    kind: int
    """:data:`ED25519` for a log's signature, :data:`COSIGNATURE_V1` for a witness's cosignature."""
    public: bytes

    @property
    def key_hash(self) -> int:
        """The 32-bit key hash that signature lines carry."""
        return key_hash(self.name, self.kind, self.public)

    def encode(self) -> str:
        """``name+hash+base64(type||public key)``."""
        data = base64.b64encode(bytes([self.kind]) + self.public).decode("ascii")
        return f"{self.name}+{self.key_hash:08x}+{data}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Read a verifier key string; a wrong key hash, type or length is refused."""
        what = "verifier key"
        text = text.strip()
        if len(text) > MAX_LINE_CHARACTERS or text.startswith("PRIVATE+"):
            raise _refuse(what, _shorten(text), "a verifier key name+hash+base64 (never a private key)")
        parts = text.split("+", 2)  # base64 has '+' too: the key data is all that follows the hash
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise _refuse(what, _shorten(text), "name+hash+base64 with an 8-digit lower-case hex hash")
        name, hash_text, data_text = parts
        _check_name(name, what, _shorten(text))
        data = _decode_base64(data_text, what, _shorten(text))
        if len(data) != 33 or data[0] not in KEY_KINDS:
            raise _refuse(what, _shorten(text), "type 0x01 (Ed25519) or 0x04 (cosignature/v1) and 32 key bytes")
        key = cls(name=name, kind=data[0], public=data[1:])
        try:
            Ed25519PublicKey.from_public_bytes(key.public)
        except ValueError:
            raise _refuse(what, _shorten(text), "a valid Ed25519 public key") from None
        if key.key_hash != int(hash_text, 16):
            matching = f"a key hash that matches the key ({key.key_hash:08x}, not {hash_text})"
            raise _refuse(what, _shorten(text), matching)
        return key

    def check(self, text: bytes, signature: bytes) -> int | None:
        """Whether ``signature`` (after the key hash) signs ``text``; for a cosignature, its time.

        Returns ``None`` when it does not; 0 for a good plain signature.
        """
        public = Ed25519PublicKey.from_public_bytes(self.public)
        if self.kind == ED25519:
            message, signed, timestamp = text, signature, 0
        else:
            if len(signature) != 8 + 64:
                return None
            timestamp = int.from_bytes(signature[:8], "big")
            if timestamp > MAX_TIMESTAMP:
                return None
            message, signed = cosigned_message(text, timestamp), signature[8:]
        if len(signed) != 64:
            return None
        try:
            public.verify(signed, message)
        except InvalidSignature:
            return None
        return timestamp


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """What a ``cosignature/v1`` signs: a header line, a time line, then the checkpoint's text."""
    return b"cosignature/v1\ntime " + str(timestamp).encode("ascii") + b"\n" + text


@dataclass(frozen=True)
class SignerKey:
    """A private Ed25519 key and its name: it signs checkpoints (as a log) or cosigns them (as a witness)."""

    name: str
    seed: bytes = field(repr=False)

    @property
    def public(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def verifier(self, kind: int = ED25519) -> VerifierKey:
        """The verifier key of this key for signatures of type ``kind``."""
        return VerifierKey(name=self.name, kind=kind, public=self.public)

    def encode(self) -> str:
        """``PRIVATE+KEY+name+hash+base64(0x01||seed)``, as Go's note package writes it. Keep it secret."""
        data = base64.b64encode(bytes([ED25519]) + self.seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.verifier().key_hash:08x}+{data}"

    @classmethod
    def parse(cls, text: str) -> SignerKey:
        """Read a private key string; the value is never repeated in an error message."""
        what = "private key"
        parts = text.strip().split("+", 4)
        if len(text) > MAX_LINE_CHARACTERS or len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise _refuse(what, "(not shown)", "PRIVATE+KEY+name+hash+base64, as `aidledger keygen` writes it")
        name, hash_text, data_text = parts[2:]
        _check_name(name, what, "(not shown)")
        try:
            data = base64.b64decode(data_text, validate=True)
        except (binascii.Error, ValueError):
            raise _refuse(what, "(not shown)", "standard base64 after the key hash") from None
        if len(data) != 33 or data[0] != ED25519:
            raise _refuse(what, "(not shown)", "type 0x01 (Ed25519) and a 32-byte seed")
        key = cls(name=name, seed=data[1:])
        if not re.fullmatch(r"[0-9a-f]{8}", hash_text) or int(hash_text, 16) != key.verifier().key_hash:
            raise _refuse(what, "(not shown)", "a key hash that matches the key (the file was changed)")
        return key

    def sign(self, text: bytes) -> NoteSignature:
        """The log's signature line of ``text``."""
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(text)
        return NoteSignature(self.name, self.verifier().key_hash, signature)

    def cosign(self, text: bytes, timestamp: int) -> NoteSignature:
        """A witness's ``cosignature/v1`` line of the checkpoint ``text`` at ``timestamp`` (POSIX seconds)."""
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise InvalidInput("timestamp", timestamp, f"POSIX seconds from 0 to {MAX_TIMESTAMP}")
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(cosigned_message(text, timestamp))
        stamped = timestamp.to_bytes(8, "big") + signature
        return NoteSignature(self.name, self.verifier(COSIGNATURE_V1).key_hash, stamped)


def generate_key(name: str) -> SignerKey:
    """A new random key named ``name``."""
    _check_name(name, "--name", name)
    return SignerKey(name=name, seed=secrets.token_bytes(32))


# -- notes ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the signer's name, its key hash, and the signature bytes after the hash."""

    name: str
    key_hash: int
    signature: bytes

    def line(self) -> str:
        """``— name base64(hash||signature)`` without the newline."""
        data = base64.b64encode(self.key_hash.to_bytes(4, "big") + self.signature).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.name} {data}"


@dataclass(frozen=True)
class SignedNote:
    """A note's text (ending in a newline) and its signature lines, none of them checked yet."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def with_signature(self, signature: NoteSignature) -> SignedNote:
        """The note with one more signature line (a signer's earlier line is replaced)."""
        kept = tuple(s for s in self.signatures if (s.name, s.key_hash) != (signature.name, signature.key_hash))
        return SignedNote(self.text, (*kept, signature))


def render_note(note: SignedNote) -> str:
    """The note as published: text, a blank line, one signature line each (C2SP signed-note)."""
    return note.text + "\n" + "".join(signature.line() + "\n" for signature in note.signatures)


def parse_note(data: bytes | str, source: str = "note") -> SignedNote:
    """Read a signed note's syntax (no signature is checked); ``source`` names it in errors."""
    raw = data.encode("utf-8") if isinstance(data, str) else data

    def refuse(problem: str) -> InvalidInput:
        return _refuse("note", source, f"a C2SP signed note ({problem})")

    if len(raw) > MAX_NOTE_BYTES:
        raise refuse(f"at most {MAX_NOTE_BYTES} bytes, not {len(raw)}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise refuse(f"UTF-8; byte {error.start} is not") from None
    for number, line in enumerate(text.split("\n"), start=1):
        bad = next((c for c in line if ord(c) < 0x20), None)
        if bad is not None:
            raise refuse(f"no control character; line {number} has U+{ord(bad):04X}")
        if len(line) > MAX_LINE_CHARACTERS:
            raise refuse(f"lines of at most {MAX_LINE_CHARACTERS} characters; line {number} has {len(line)}")
    if not text.endswith("\n"):
        raise refuse("it must end with a newline")
    split = text.rfind("\n\n")
    if split < 0:
        raise refuse("a blank line between the text and the signatures; there is none")
    body, lines = text[: split + 1], text[split + 2 :].removesuffix("\n").split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise refuse(f"at most {MAX_SIGNATURES} signature lines, not {len(lines)}")
    signatures = [_signature(line, number, refuse) for number, line in enumerate(lines, start=1)]
    seen: set[tuple[str, int]] = set()
    for signature in signatures:
        if (signature.name, signature.key_hash) in seen:
            raise refuse(f"one signature per key; {signature.name} {signature.key_hash:08x} signed twice")
        seen.add((signature.name, signature.key_hash))
    return SignedNote(body, tuple(signatures))


def _signature(line: str, number: int, refuse: Callable[[str], InvalidInput]) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise refuse(f"signature line {number} must start with an em dash and a space")
    name, _, data_text = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
    try:
        _check_name(name, "signature", number)
        data = _decode_base64(data_text, "signature", number)
    except InvalidInput as error:
        raise refuse(f"signature line {number}: {error.accepted}") from None
    if len(data) < 5:
        raise refuse(f"signature line {number} must hold a 4-byte key hash and a signature")
    return NoteSignature(name, int.from_bytes(data[:4], "big"), data[4:])


@dataclass(frozen=True)
class Verified:
    """A signature line that a known key checked, and its time when it is a cosignature."""

    key: VerifierKey
    timestamp: int


def open_note(note: SignedNote, keys: Iterable[VerifierKey], source: str = "note") -> list[Verified]:
    """The signatures of ``note`` made by ``keys`` and checked; unknown keys' lines are ignored.

    A line that names a known key (its name and key hash) but does not check out fails the whole
    note, as C2SP advises: :class:`IntegrityFailure`.
    """
    known = {(key.name, key.key_hash): key for key in keys}
    text = note.text.encode("utf-8")
    verified = []
    for signature in note.signatures:
        key = known.get((signature.name, signature.key_hash))
        if key is None:
            continue
        timestamp = key.check(text, signature.signature)
        if timestamp is None:
            msg = f"{source}: the {KEY_KINDS[key.kind]} signature of {key.name} ({key.key_hash:08x}) does not check out"
            raise IntegrityFailure(msg + ": the note was changed after signing, or the signature is forged")
        verified.append(Verified(key, timestamp))
    return verified


# -- checkpoints ------------------------------------------------------------------------------------


def checkpoint_text(checkpoint: Checkpoint) -> str:
    """The C2SP tlog-checkpoint body of ``checkpoint``, with its projections digest as an extension line."""
    root = base64.b64encode(checkpoint.root_bytes).decode("ascii")
    lines = [checkpoint.origin, str(checkpoint.size), root]
    if checkpoint.projections is not None:
        lines.append(f"{PROJECTIONS_EXTENSION} {checkpoint.projections}")
    return "".join(line + "\n" for line in lines)


def checkpoint_of_text(text: str, source: str = "note") -> Checkpoint:
    """The checkpoint a note's text states; unknown extension lines are ignored (C2SP: opaque)."""

    def refuse(problem: str) -> InvalidInput:
        return _refuse("checkpoint", source, f"a C2SP tlog-checkpoint ({problem})")

    lines = text.removesuffix("\n").split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise refuse("at least three non-empty lines: origin, tree size, root hash")
    origin, size, root_text, *extensions = lines
    if not _SIZE.fullmatch(size) or int(size) > MAX_TIMESTAMP:
        raise refuse(f"the tree size in decimal without leading zeros, not {_shorten(size)!r}")
    try:
        root = _decode_base64(root_text, "root", root_text)
    except InvalidInput as error:
        raise refuse(f"root hash: {error.accepted}") from None
    if len(root) != 32:
        raise refuse(f"a 32-byte SHA-256 root hash, not {len(root)} bytes")
    digests = [line.split(" ", 1)[1] for line in extensions if line.startswith(PROJECTIONS_EXTENSION + " ")]
    if len(digests) > 1 or any(not _HEX64.fullmatch(d) for d in digests):
        raise refuse(f"at most one line `{PROJECTIONS_EXTENSION} <64 hex digits>`")
    try:
        return Checkpoint(origin=origin, size=int(size), root=root.hex(), projections=digests[0] if digests else None)
    except ValueError:
        raise refuse("an origin of 1 to 200 characters without control characters") from None


def sign_checkpoint(checkpoint: Checkpoint, key: SignerKey) -> SignedNote:
    """The checkpoint as a note signed by ``key`` (the log's key)."""
    text = checkpoint_text(checkpoint)
    return SignedNote(text, (key.sign(text.encode("utf-8")),))


def cosign_note(note: SignedNote, key: SignerKey, timestamp: int) -> SignedNote:
    """``note`` with the witness ``key``'s cosignature/v1 line at ``timestamp`` appended."""
    return note.with_signature(key.cosign(note.text.encode("utf-8"), timestamp))


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint read from a note whose log signature checked out, and the witnesses that cosigned it."""

    checkpoint: Checkpoint
    note: SignedNote
    signed_by: VerifierKey
    cosigned_by: tuple[Verified, ...] = ()


def open_checkpoint(
    data: bytes | str,
    keys: Sequence[VerifierKey],
    *,
    witnesses: Sequence[VerifierKey] = (),
    witnesses_required: int = 0,
    source: str = "note",
) -> SignedCheckpoint:
    """Parse a signed checkpoint and check it: signed by one of ``keys``, and cosigned by at least
    ``witnesses_required`` of ``witnesses``. Raises :class:`IntegrityFailure` when it is not."""
    if not 0 <= witnesses_required <= len(witnesses):
        raise InvalidInput(
            "--witnesses-required", witnesses_required, f"a number from 0 to the {len(witnesses)} witness key(s) given"
        )
    note = parse_note(data, source)
    checkpoint = checkpoint_of_text(note.text, source)
    logs = [key for key in keys if key.kind == ED25519]
    if not logs:
        raise InvalidInput("--key", ", ".join(k.encode() for k in keys) or "none", "the log's Ed25519 verifier key")
    signed = open_note(note, logs, source)
    if not signed:
        names = ", ".join(f"{s.name} {s.key_hash:08x}" for s in note.signatures)
        wanted = ", ".join(f"{k.name} {k.key_hash:08x}" for k in logs)
        raise IntegrityFailure(f"{source} is not signed by the log key {wanted}; its signatures are by {names}")
    cosigned = tuple(open_note(note, witnesses, source)) if witnesses else ()
    if len(cosigned) < witnesses_required:
        have = ", ".join(v.key.name for v in cosigned) or "none of them"
        raise IntegrityFailure(
            f"{source} is cosigned by {len(cosigned)} of the {len(witnesses)} witnesses given ({have}); "
            f"{witnesses_required} required"
        )
    return SignedCheckpoint(checkpoint, note, signed[0].key, cosigned)


# -- files ------------------------------------------------------------------------------------------


def read_note_bytes(path: Path) -> bytes:
    """A note file's bytes; a file over :data:`MAX_NOTE_BYTES` is refused without reading it all."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_NOTE_BYTES + 1)
    except OSError as error:
        accepted = f"a readable checkpoint file, JSON or signed note ({error.strerror or error})"
        raise InvalidInput("checkpoint", str(path), accepted) from None
    if len(data) > MAX_NOTE_BYTES:
        raise InvalidInput("note", str(path), f"a C2SP signed note (at most {MAX_NOTE_BYTES} bytes)")
    return data


def is_note_file(path: Path) -> bool:
    """Whether ``path`` holds a signed note rather than a JSON checkpoint (which starts with ``{``)."""
    return not read_note_bytes(path).lstrip().startswith(b"{")


def read_key_text(value: str, what: str) -> str:
    """A key given on the command line: the key itself, or the path of a file holding it."""
    path = Path(value)
    if "+" in value and not path.is_file():
        return value
    try:
        with path.open("r", encoding="utf-8") as file:
            return file.read(MAX_LINE_CHARACTERS + 1).strip()
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(what, value, f"a key, or a readable file holding one ({error})") from None


def read_verifier_keys(values: Iterable[str], what: str = "--key") -> list[VerifierKey]:
    """Verifier keys given as strings or files (``FILE.pub`` as :func:`write_key_files` writes them)."""
    return [VerifierKey.parse(read_key_text(value, what)) for value in values]


def read_signer_key(path: Path) -> SignerKey:
    """The private key in ``path`` (a file :func:`write_key_files` wrote)."""
    try:
        with path.open("r", encoding="utf-8") as file:
            text = file.read(MAX_LINE_CHARACTERS + 1)
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput("private key file", str(path), f"a readable key file ({error})") from None
    return SignerKey.parse(text)


def write_key_files(key: SignerKey, path: Path, public: VerifierKey) -> Path:
    """Write the private key to ``path`` (mode 0600, never over an existing file) and ``public`` to
    ``path.pub``; returns the latter."""
    public_path = path.with_name(path.name + ".pub")
    for existing in (path, public_path):
        if existing.exists():
            raise InvalidInput("--out", str(existing), "a file that does not exist yet (a key is never overwritten)")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise InvalidInput("--out", str(path), f"a new file that can be written ({error.strerror or error})") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(key.encode() + "\n")
    public_path.write_text(public.encode() + "\n", encoding="utf-8")
    return public_path


def load_checkpoint(
    path: Path,
    keys: Sequence[VerifierKey] | None,
    *,
    witnesses: Sequence[VerifierKey] = (),
    witnesses_required: int = 0,
) -> tuple[Checkpoint, SignedCheckpoint | None]:
    """The checkpoint in ``path``: a JSON checkpoint, or a signed note checked against ``keys``.

    ``keys=None`` reads a note without checking its signature (to make proofs about it: the reader
    checks signatures). A JSON checkpoint has no cosignature, so it fails any witness requirement.
    """
    if not is_note_file(path):
        if witnesses_required:
            raise InvalidInput("checkpoint", str(path), "a signed checkpoint (a JSON checkpoint has no cosignatures)")
        return read_checkpoint(path), None
    data = read_note_bytes(path)
    if keys is None:
        return checkpoint_of_text(parse_note(data, str(path)).text, str(path)), None
    if not keys:
        raise InvalidInput("--key", "none", f"the log's verifier key, to check the signed checkpoint {path}")
    opened = open_checkpoint(data, keys, witnesses=witnesses, witnesses_required=witnesses_required, source=str(path))
    return opened.checkpoint, opened


def write_note(note: SignedNote, path: Path) -> None:
    """Write a note, replacing the file in one step (a reader never sees half of it)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(render_note(note), encoding="utf-8")
    temporary.replace(path)
