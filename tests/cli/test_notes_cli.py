"""keygen, checkpoint --sign, verify --key/--witness, cosign and verify-proof on signed checkpoints."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.audit_support import story_ledger

from aidledger.cli import main

EXIT_INVALID = 2
EXIT_INTEGRITY = 5


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return its exit code, stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A closed ledger file holding the small audit story (11 events)."""
    path = tmp_path / "ledger.db"
    ledger, _ = story_ledger(path)
    ledger.close()
    return str(path)


@pytest.fixture
def other_db(tmp_path: Path) -> str:
    """Another ledger with the same commands recorded at other times: same origin, other roots."""
    path = tmp_path / "other.db"
    ledger, _ = story_ledger(path)
    ledger.close()
    return str(path)


@pytest.fixture
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    """A log key and two witness keys, made with keygen."""
    made = {}
    for name, options in (("log", ()), ("w1", ("--witness",)), ("w2", ("--witness",))):
        code, _, _ = run(capsys, "keygen", "--name", f"{name}.example", "--out", str(tmp_path / name), *options)
        assert code == 0
        made[name] = tmp_path / name
    return made


def pub(key: Path) -> str:
    """The verifier key file keygen wrote beside ``key``."""
    return str(key) + ".pub"


def sign(capsys: pytest.CaptureFixture[str], db: str, key: Path, out: Path, *options: str) -> None:
    """Write a signed checkpoint with the CLI."""
    code, _, err = run(capsys, "--db", db, "checkpoint", "--sign", str(key), "--out", str(out), *options)
    assert code == 0, err


def test_keygen_writes_a_private_file_of_mode_0600_prints_only_the_verifier_key_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The private key file is 0600 and not printed; FILE.pub holds the printed verifier key."""
    code, out, _ = run(capsys, "keygen", "--name", "bureau.example/ledger", "--out", str(tmp_path / "k"))
    assert code == 0
    private = (tmp_path / "k").read_text()
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600
    assert private.startswith("PRIVATE+KEY+bureau.example/ledger+")
    assert private.strip() not in out and private.strip().split("+")[-1] not in out
    assert (tmp_path / "k.pub").read_text().strip() in out
    code, _, err = run(capsys, "keygen", "--name", "bureau.example/ledger", "--out", str(tmp_path / "k"))
    assert code == EXIT_INVALID and "never overwritten" in err
    assert (tmp_path / "k").read_text() == private


def test_keygen_refuses_a_name_with_a_space(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A key name may not contain spaces (C2SP signed-note); nothing is written."""
    code, _, err = run(capsys, "keygen", "--name", "my bureau", "--out", str(tmp_path / "k"))
    assert code == EXIT_INVALID and "without spaces" in err and "Traceback" not in err
    assert not (tmp_path / "k").exists()


def test_signed_checkpoint_verifies_with_the_log_key_and_a_changed_byte_fails(
    db: str, keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """verify checks the signature, then the log; an edited note is exit 5; no --key is exit 2."""
    note = tmp_path / "cp.note"
    sign(capsys, db, keys["log"], note)
    text = note.read_text()
    assert text.split("\n")[1] == "11" and "\n\n— log.example " in text and "aidledger-projections " in text
    code, out, _ = run(capsys, "--db", db, "verify", "--checkpoint", str(note), "--key", pub(keys["log"]))
    assert code == 0, out
    assert "signed by log.example" in out and "1 checkpoint(s) match" in out
    code, _, err = run(capsys, "--db", db, "verify", "--checkpoint", str(note))
    assert code == EXIT_INVALID and "--key" in err
    note.write_text(text.replace("\n11\n", "\n10\n"))
    code, _, err = run(capsys, "--db", db, "verify", "--checkpoint", str(note), "--key", pub(keys["log"]))
    assert code == EXIT_INTEGRITY and "does not check out" in err


def test_signing_without_out_prints_the_note(
    db: str, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """checkpoint --sign without --out prints the signed note and nothing else."""
    code, out, _ = run(capsys, "--db", db, "checkpoint", "--sign", str(keys["log"]))
    assert code == 0 and out.count("\n— log.example ") == 1 and out.endswith("=\n")


def test_witness_cosigns_an_extension_and_verify_counts_witnesses(
    db: str, keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """w1 cosigns size 5, then size 11 (proved from its copy); verify needs 1 of 2, not 2 of 2."""
    early, late = tmp_path / "cp5.note", tmp_path / "cp11.note"
    sign(capsys, db, keys["log"], early, "--size", "5")
    sign(capsys, db, keys["log"], late)
    log = ("--log-key", pub(keys["log"]))
    assert run(capsys, "cosign", "--note", str(early), "--key", str(keys["w1"]), *log)[0] == 0
    code, out, err = run(capsys, "--db", db, "cosign", "--note", str(late), "--key", str(keys["w1"]), *log,
                         "--previous", str(early))
    assert code == 0, err
    assert "consistent with" in out and late.read_text().count("\n— ") == 2
    witnesses = ("--witness", pub(keys["w1"]), "--witness", pub(keys["w2"]))
    verify = ("--db", db, "verify", "--checkpoint", str(late), "--key", pub(keys["log"]), *witnesses)
    code, out, _ = run(capsys, *verify, "--witnesses-required", "1")
    assert code == 0 and "cosigned by w1.example (1 of 2 required)" in out
    code, _, err = run(capsys, *verify)
    assert code == EXIT_INTEGRITY and "cosigned by 1 of the 2 witnesses" in err


def test_witness_refuses_two_roots_for_one_size(
    db: str, other_db: str, keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Having cosigned size 11 of one history, the witness refuses size 11 of another: a split view."""
    seen, forked = tmp_path / "seen.note", tmp_path / "forked.note"
    sign(capsys, db, keys["log"], seen)
    sign(capsys, other_db, keys["log"], forked)
    log = ("--log-key", pub(keys["log"]))
    assert run(capsys, "cosign", "--note", str(seen), "--key", str(keys["w1"]), *log)[0] == 0
    before = forked.read_text()
    code, _, err = run(capsys, "--db", other_db, "cosign", "--note", str(forked), "--key", str(keys["w1"]), *log,
                       "--previous", str(seen))
    assert code == EXIT_INTEGRITY and "refused: SPLIT VIEW" in err and "two roots for size 11" in err
    assert forked.read_text() == before


def test_witness_refuses_a_tree_that_does_not_extend_the_one_it_cosigned(
    db: str, other_db: str, keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A larger tree of another history is refused (no consistency proof), and so is a smaller tree."""
    seen, forked = tmp_path / "seen5.note", tmp_path / "forked11.note"
    sign(capsys, db, keys["log"], seen, "--size", "5")
    sign(capsys, other_db, keys["log"], forked)
    log = ("--log-key", pub(keys["log"]))
    assert run(capsys, "cosign", "--note", str(seen), "--key", str(keys["w1"]), *log)[0] == 0
    code, _, err = run(capsys, "--db", other_db, "cosign", "--note", str(forked), "--key", str(keys["w1"]), *log,
                       "--previous", str(seen))
    assert code == EXIT_INTEGRITY and "does not extend" in err
    assert run(capsys, "cosign", "--note", str(forked), "--key", str(keys["w1"]), *log)[0] == 0
    code, _, err = run(capsys, "cosign", "--note", str(seen), "--key", str(keys["w1"]), *log,
                       "--previous", str(forked))
    assert code == EXIT_INTEGRITY and "smaller" in err


def test_cosign_refuses_a_previous_checkpoint_the_witness_did_not_cosign(
    db: str, keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--previous must carry the witness's own cosignature (its record of what it saw)."""
    early, late = tmp_path / "cp5.note", tmp_path / "cp11.note"
    sign(capsys, db, keys["log"], early, "--size", "5")
    sign(capsys, db, keys["log"], late)
    code, _, err = run(capsys, "--db", db, "cosign", "--note", str(late), "--key", str(keys["w1"]),
                       "--log-key", pub(keys["log"]), "--previous", str(early))
    assert code == EXIT_INVALID and "no cosignature of it" in err


def test_verify_proof_states_a_split_view_of_two_signed_checkpoints(
    db: str, other_db: str, keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two signed roots for size 11 are a split view (exit 5); one root twice is one tree (exit 0)."""
    ours, theirs = tmp_path / "ours.note", tmp_path / "theirs.note"
    sign(capsys, db, keys["log"], ours)
    sign(capsys, other_db, keys["log"], theirs)
    key = ("--key", pub(keys["log"]))
    code, out, _ = run(capsys, "verify-proof", "--checkpoint", str(ours), "--checkpoint", str(theirs), *key)
    assert code == EXIT_INTEGRITY and "SPLIT VIEW" in out and "two roots for size 11" in out
    code, out, _ = run(capsys, "verify-proof", "--checkpoint", str(ours), "--checkpoint", str(ours), *key)
    assert code == 0 and "one tree" in out


def test_verify_proof_says_a_signed_checkpoint_extends_another_with_a_consistency_proof(
    db: str, other_db: str, keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """prove-consistency between two notes, then verify-proof with --key: extends (exit 0, JSON)."""
    early, late, proof = tmp_path / "cp5.note", tmp_path / "cp11.note", tmp_path / "proof.json"
    sign(capsys, db, keys["log"], early, "--size", "5")
    sign(capsys, db, keys["log"], late)
    code, _, err = run(capsys, "--db", db, "prove-consistency", "--from", str(early), "--to", str(late),
                       "--out", str(proof))
    assert code == 0, err
    code, out, _ = run(capsys, "verify-proof", str(proof), "--checkpoint", str(early), "--checkpoint", str(late),
                       "--key", pub(keys["log"]), "--json")
    assert code == 0 and json.loads(out)["split_view"] is False and "extends" in json.loads(out)["message"]
    code, _, err = run(capsys, "verify-proof", "--checkpoint", str(early), "--checkpoint", str(late),
                       "--key", pub(keys["log"]))
    assert code == EXIT_INVALID and "prove-consistency" in err


@pytest.mark.parametrize(
    ("edit", "code", "message"),
    [
        (lambda text: text.replace("\n\n", "\n\x1b[2J\n\n", 1), EXIT_INVALID, "U+001B"),
        (lambda text: text + text.split("\n\n")[1], EXIT_INVALID, "signed twice"),
        (lambda text: text.replace("=\n", "!\n"), EXIT_INVALID, "base64"),
        (lambda text: text + "x" * 70_000, EXIT_INVALID, "at most 65536 bytes"),
        (lambda text: text.replace("— log.example ", "— other.example "), EXIT_INTEGRITY, "not signed by the log"),
        (lambda text: text.replace("log.example", "log.example\u2003"), EXIT_INVALID, "without spaces"),
    ],
)
def test_hostile_signed_checkpoints_are_one_line_errors(
    db: str,
    keys: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Callable[[str], str],
    code: int,
    message: str,
) -> None:
    """Control characters, duplicate lines, bad base64, oversize, an unknown signer: one line, no traceback."""
    note = tmp_path / "cp.note"
    sign(capsys, db, keys["log"], note)
    note.write_text(edit(note.read_text(encoding="utf-8")), encoding="utf-8")
    exit_code, _, err = run(capsys, "--db", db, "verify", "--checkpoint", str(note), "--key", pub(keys["log"]))
    assert exit_code == code and message in err
    assert err.count("\n") == 1 and "Traceback" not in err and "\x1b" not in err


def test_a_verifier_key_with_a_wrong_hash_is_refused(
    db: str, keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A verifier key whose hash is not that of its name and key: exit 2, naming the right hash."""
    note = tmp_path / "cp.note"
    sign(capsys, db, keys["log"], note)
    name, key_hash, data = Path(pub(keys["log"])).read_text().strip().split("+", 2)
    wrong = f"{name}+{(int(key_hash, 16) ^ 1):08x}+{data}"
    code, _, err = run(capsys, "--db", db, "verify", "--checkpoint", str(note), "--key", wrong)
    assert code == EXIT_INVALID and f"({key_hash}, not" in err
