"""Signed notes and signed checkpoints (C2SP signed-note, tlog-checkpoint, tlog-cosignature)."""

from __future__ import annotations

import base64

import pytest

from aidledger.audit.checkpoint import Checkpoint
from aidledger.audit.notes import (
    COSIGNATURE_V1,
    MAX_NOTE_BYTES,
    NoteSignature,
    SignedNote,
    SignerKey,
    VerifierKey,
    checkpoint_of_text,
    checkpoint_text,
    cosign_note,
    generate_key,
    open_checkpoint,
    open_note,
    parse_note,
    render_note,
    sign_checkpoint,
)
from aidledger.errors import IntegrityFailure, InvalidInput

# The example of Go's golang.org/x/mod/sumdb/note package documentation (package doc of note.go).
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_NOTE = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

CHECKPOINT = Checkpoint(
    origin="aidledger/c416c426-cd65-5dd5-b944-3ec29dd1c0a4",
    size=2941,
    root="130f3ede05f3bb34b2da288c429d2e8528f113511c3a796e854e654face40d46",
    projections="6caed60fb753606afdaf6ac723832087719c283d04f2cb6ddd713eb73f4d869e",
)


def test_go_note_packages_example_verifies_with_its_verifier_key() -> None:
    """The signed note of Go's sumdb/note documentation checks out with PeterNeumann's key."""
    key = VerifierKey.parse(GO_VERIFIER)
    verified = open_note(parse_note(GO_NOTE), [key])
    assert [v.key.name for v in verified] == ["PeterNeumann"]
    assert f"{key.key_hash:08x}" == "c74f20a3"


def test_go_note_packages_example_with_one_changed_byte_fails() -> None:
    """Changing one byte of the text makes the known key's signature fail the whole note."""
    changed = GO_NOTE.replace("answer", "answeR", 1)
    with pytest.raises(IntegrityFailure, match="does not check out"):
        open_note(parse_note(changed), [VerifierKey.parse(GO_VERIFIER)])


def test_signing_with_go_packages_private_key_gives_the_same_bytes() -> None:
    """Go's private key string reads back to its verifier key and signs the example byte for byte."""
    key = SignerKey.parse(GO_SIGNER)
    assert key.encode() == GO_SIGNER
    assert key.verifier().encode() == GO_VERIFIER
    text = parse_note(GO_NOTE).text
    assert render_note(SignedNote(text, (key.sign(text.encode()),))) == GO_NOTE


def test_checkpoint_text_is_the_tlog_checkpoint_body_with_the_projections_extension() -> None:
    """Origin, decimal size, base64 root, then the projections digest line; it reads back equal."""
    text = checkpoint_text(CHECKPOINT)
    root = base64.b64encode(bytes.fromhex(CHECKPOINT.root)).decode()
    assert text == f"{CHECKPOINT.origin}\n2941\n{root}\naidledger-projections {CHECKPOINT.projections}\n"
    assert checkpoint_of_text(text) == CHECKPOINT
    without = CHECKPOINT.model_copy(update={"projections": None})
    assert checkpoint_of_text(checkpoint_text(without)) == without
    assert checkpoint_of_text(checkpoint_text(without) + "other-extension 1\n") == without  # opaque: ignored


def test_sign_then_open_returns_the_checkpoint() -> None:
    """A checkpoint signed by the log's key opens with its verifier key."""
    key = generate_key("hebei.mca.example/aid-ledger")
    note = render_note(sign_checkpoint(CHECKPOINT, key))
    opened = open_checkpoint(note, [VerifierKey.parse(key.verifier().encode())])
    assert opened.checkpoint == CHECKPOINT
    assert opened.signed_by.name == "hebei.mca.example/aid-ledger"


def test_a_note_signed_by_another_key_of_the_same_name_is_refused_naming_both_hashes() -> None:
    """A signature by an unknown key (same name, other hash) is ignored, so nothing known signed it."""
    signer, other = generate_key("log.example"), generate_key("log.example")
    note = render_note(sign_checkpoint(CHECKPOINT, other))
    with pytest.raises(IntegrityFailure, match=r"is not signed by the log key log\.example"):
        open_checkpoint(note, [signer.verifier()])


def test_cosignatures_count_towards_the_witnesses_required() -> None:
    """Two witnesses cosign; requiring 2 of 3 passes, 3 of 3 fails with a one-line message."""
    log = generate_key("log.example")
    witnesses = [generate_key(f"witness{n}.example") for n in range(3)]
    note = sign_checkpoint(CHECKPOINT, log)
    for witness in witnesses[:2]:
        note = cosign_note(note, witness, 1_700_000_000)
    keys = [w.verifier(COSIGNATURE_V1) for w in witnesses]
    opened = open_checkpoint(render_note(note), [log.verifier()], witnesses=keys, witnesses_required=2)
    assert [v.timestamp for v in opened.cosigned_by] == [1_700_000_000, 1_700_000_000]
    with pytest.raises(IntegrityFailure, match="cosigned by 2 of the 3 witnesses"):
        open_checkpoint(render_note(note), [log.verifier()], witnesses=keys, witnesses_required=3)


def test_a_forged_cosignature_fails_the_note() -> None:
    """A known witness's cosignature over another time than it signed does not check out."""
    log, witness = generate_key("log.example"), generate_key("witness.example")
    note = cosign_note(sign_checkpoint(CHECKPOINT, log), witness, 1_700_000_000)
    line = note.signatures[-1]
    restamped = NoteSignature(line.name, line.key_hash, (5).to_bytes(8, "big") + line.signature[8:])
    forged = SignedNote(note.text, (note.signatures[0], restamped))
    with pytest.raises(IntegrityFailure, match=r"cosignature/v1 signature of witness\.example"):
        open_checkpoint(render_note(forged), [log.verifier()], witnesses=[witness.verifier(COSIGNATURE_V1)])


@pytest.mark.parametrize(
    ("note", "problem"),
    [
        ("a\n1\nroot\n\n— k AAAA\x07AAAA\n", "line 5 has U+0007"),
        ("a\n\n— k " + "A" * 1200 + "\n", "lines of at most 1000 characters"),
        ("a\n\n— k AAAAAAA=\n— k AAAAAAA=\n", "signed twice"),
        ("a\n\n— k AAAA$AAA\n", "standard base64"),
        ("a\n\n— k AAAAAAB=\n", "canonical standard base64"),
        ("a\n\n— k AAAA\n", "a 4-byte key hash and a signature"),
        ("a\n\n- k AAAAAAA=\n", "must start with an em dash"),
        ("a\n— k AAAAAAA=\n", "a blank line between the text and the signatures"),
        ("a\n\n— k AAAAAAA=", "must end with a newline"),
        ("a\n\n— k+x AAAAAAA=\n", "without spaces, '+'"),
        ("a\n\n" + "— k AAAAAAA=\n" * 101, "at most 100 signature lines"),
    ],
)
def test_hostile_notes_are_refused_with_one_line(note: str, problem: str) -> None:
    """Each malformed note gives InvalidInput naming the note and the problem, on one line."""
    with pytest.raises(InvalidInput) as refusal:
        parse_note(note, "cp.note")
    assert problem in str(refusal.value)
    assert "cp.note" in str(refusal.value) and "\n" not in str(refusal.value)


def test_an_oversized_note_is_refused_by_its_size() -> None:
    """A note over the size limit is refused before anything else is read."""
    with pytest.raises(InvalidInput, match=f"at most {MAX_NOTE_BYTES} bytes"):
        parse_note(b"a" * (MAX_NOTE_BYTES + 1))


def test_bad_utf8_is_refused() -> None:
    """Bytes that are not UTF-8 are refused."""
    with pytest.raises(InvalidInput, match="UTF-8"):
        parse_note(b"a\xff\n\n\xe2\x80\x94 k AAAAAAA=\n")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("o\n01\nAAAA\n", "without leading zeros"),
        ("o\n1\n", "at least three non-empty lines"),
        ("o\n1\nAAAA\n", "32-byte SHA-256 root hash"),
        ("o\n1\n" + "A" * 43 + "=\n\nx\n", "three non-empty lines"),
        ("o\n1\n" + "A" * 43 + "=\naidledger-projections 12\n", "64 hex digits"),
    ],
)
def test_malformed_checkpoint_bodies_are_refused(text: str, problem: str) -> None:
    """The body must be origin, size, root and non-empty extension lines."""
    with pytest.raises(InvalidInput, match=problem):
        checkpoint_of_text(text)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "matches the key"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64"),
        ("PeterNeumann+c74f20a3+AhpjAQ==", "type 0x01"),
        ("PeterNeumann+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8-digit"),
        (GO_SIGNER, "never a private key"),
    ],
)
def test_bad_verifier_keys_are_refused(key: str, problem: str) -> None:
    """A wrong key hash, bad base64, an unknown type or a private key given as a verifier key."""
    with pytest.raises(InvalidInput, match=problem):
        VerifierKey.parse(key)


def test_a_bad_private_key_is_refused_without_showing_it() -> None:
    """The private key's text never appears in the error."""
    changed = GO_SIGNER.replace("c74f20a3", "c74f20a4")
    with pytest.raises(InvalidInput, match="matches the key") as refusal:
        SignerKey.parse(changed)
    assert "AYEKFALV" not in str(refusal.value)
