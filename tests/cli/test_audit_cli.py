"""The audit commands: checkpoint, verify, proofs, replay, restatement and history, text and --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.audit_support import add_backdated_reversal, change_byte, known_story, story_ledger

import aidledger
from aidledger.audit.verification import PROJECTION_KINDS
from aidledger.cli import main

EXIT_INTEGRITY = 5


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A closed ledger file holding the small audit story (11 events)."""
    path = tmp_path / "ledger.db"
    ledger, _ = story_ledger(path)
    ledger.close()
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return its exit code, stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    """Run with --json; return the exit code and the parsed output."""
    code, out, _ = run(capsys, *argv, "--json")
    return code, json.loads(out)


def checkpoint(capsys: pytest.CaptureFixture[str], db: str, path: Path, *options: str) -> dict[str, object]:
    """Write a checkpoint with the CLI and return what it printed."""
    code, data = run_json(capsys, "--db", db, "checkpoint", "--out", str(path), *options)
    assert code == 0
    return data


def test_checkpoint_then_verify_passes_and_prints_the_root(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An untouched file verifies against its checkpoint: exit 0, the root printed."""
    written = checkpoint(capsys, db, tmp_path / "cp.json")
    assert written["size"] == 11
    assert Path(str(written["sidecar"])).stat().st_size == 11 * 32
    code, out, _ = run(capsys, "--db", db, "verify", "--checkpoint", str(tmp_path / "cp.json"))
    assert code == 0
    assert f"root {written['root']}" in out
    assert "matches" in out


def test_verify_names_the_changed_position_and_exits_5(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One changed byte in row 7: exit code 5, the position in text and in JSON."""
    checkpoint(capsys, db, tmp_path / "cp.json")
    change_byte(Path(db), 7)
    code, out, _ = run(capsys, "--db", db, "verify", "--checkpoint", str(tmp_path / "cp.json"))
    assert code == EXIT_INTEGRITY
    assert "changed at position 7" in out
    code, data = run_json(capsys, "--db", db, "verify", "--checkpoint", str(tmp_path / "cp.json"))
    assert code == EXIT_INTEGRITY
    assert data["ok"] is False
    found = [(f["kind"], f["position"]) for f in data["findings"]]  # type: ignore[attr-defined]
    assert [(kind, at) for kind, at in found if kind not in PROJECTION_KINDS] == [("changed", 7)]
    assert ("frontier", 11) in found  # the stored projections were computed from the event as it was


def test_verify_of_two_checkpoints_checks_the_later_extends_the_earlier(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checkpoints at 5 and 11 both match and extend one another."""
    checkpoint(capsys, db, tmp_path / "early.json", "--size", "5")
    checkpoint(capsys, db, tmp_path / "late.json", "--no-leaves")
    assert not (tmp_path / "late.json.leaves").exists()
    code, data = run_json(
        capsys, "--db", db, "verify", "--checkpoint", str(tmp_path / "late.json"), "--checkpoint",
        str(tmp_path / "early.json"),
    )  # fmt: skip
    assert code == 0
    assert [c["size"] for c in data["checkpoints"]] == [5, 11]  # type: ignore[attr-defined]


def test_an_inclusion_proof_verifies_offline_and_fails_for_another_event(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Prove disbursement pay-1, delete the database, check the proof: right event 0, wrong event 5."""
    checkpoint(capsys, db, tmp_path / "cp.json")
    proof = tmp_path / "proof.json"
    code, data = run_json(
        capsys, "--db", db, "prove-inclusion", "--checkpoint", str(tmp_path / "cp.json"), "--aggregate", "pay-1",
        "--out", str(proof),
    )  # fmt: skip
    assert code == 0
    disbursement_id = str(data["event"]["originator_id"])  # type: ignore[index]
    Path(db).unlink()
    code, out, _ = run(capsys, "verify-proof", str(proof), "--checkpoint", str(tmp_path / "cp.json"),
                       "--aggregate", disbursement_id)  # fmt: skip
    assert code == 0
    assert f"is log position {data['position']}" in out
    other = str(known_story().later_disbursement_id)
    code, data = run_json(capsys, "verify-proof", str(proof), "--checkpoint", str(tmp_path / "cp.json"),
                          "--aggregate", other)  # fmt: skip
    assert code == EXIT_INTEGRITY
    assert data["ok"] is False


def test_a_proof_by_position_of_a_tampered_file_is_refused(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No proof is made from rows that no longer give the checkpoint: one-line error, exit 5."""
    checkpoint(capsys, db, tmp_path / "cp.json")
    change_byte(Path(db), 2)
    code, _, err = run(capsys, "--db", db, "prove-inclusion", "--checkpoint", str(tmp_path / "cp.json"),
                       "--position", "3", "--out", str(tmp_path / "proof.json"))  # fmt: skip
    assert code == EXIT_INTEGRITY
    assert "IntegrityFailure" in err
    assert "Traceback" not in err


def test_a_consistency_proof_verifies_between_two_checkpoints(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """prove-consistency then verify-proof with both checkpoints (in any order) passes."""
    checkpoint(capsys, db, tmp_path / "early.json", "--size", "4")
    checkpoint(capsys, db, tmp_path / "late.json")
    proof = tmp_path / "consistency.json"
    code, _, _ = run(capsys, "--db", db, "prove-consistency", "--from", str(tmp_path / "early.json"),
                     "--to", str(tmp_path / "late.json"), "--out", str(proof))  # fmt: skip
    assert code == 0
    code, out, _ = run(capsys, "verify-proof", str(proof), "--checkpoint", str(tmp_path / "late.json"),
                       "--checkpoint", str(tmp_path / "early.json"))  # fmt: skip
    assert code == 0
    assert "extends" in out
    code, _, err = run(capsys, "verify-proof", str(proof), "--checkpoint", str(tmp_path / "late.json"))
    assert code == 2
    assert "two checkpoints" in err


def test_replay_reproduces_a_report_printed_earlier(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report --json` at position 11, a backdated reversal later, `replay --to 11` gives the same bytes."""
    code, published, _ = run(capsys, "--db", db, "--json", "report", "--by", "project", "--effective-on", "2018-05-31")
    assert code == 0
    with aidledger.open(db, recorded_by="auditor-test") as ledger:
        add_backdated_reversal(ledger, known_story())
    code, replayed, _ = run(capsys, "--db", db, "--json", "replay", "--to", "11", "--by", "project",
                            "--effective-on", "2018-05-31")  # fmt: skip
    assert code == 0
    assert replayed == published
    digest = json.loads(published)["digest"]
    code, out, _ = run(capsys, "--db", db, "replay", "--to", "11", "--by", "project", "--effective-on",
                       "2018-05-31", "--expect-digest", f"sha256:{digest}")  # fmt: skip
    assert (code, "matches the expected digest" in out) == (0, True)
    code, _, _ = run(capsys, "--db", db, "replay", "--to", "12", "--by", "project", "--effective-on",
                     "2018-05-31", "--expect-digest", digest)  # fmt: skip
    assert code == EXIT_INTEGRITY
    saved = tmp_path / "published.json"
    saved.write_text(published, encoding="utf-8")
    code, out, _ = run(capsys, "--db", db, "replay", "--report", str(saved))
    assert (code, "reproduced byte for byte" in out) == (0, True)


def test_restatement_names_the_backdated_correction(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The reversal recorded at position 12 restates project 1's net disbursed as of 2018-05-31."""
    with aidledger.open(db, recorded_by="auditor-test") as ledger:
        add_backdated_reversal(ledger, known_story())
    code, data = run_json(capsys, "--db", db, "restatement", "--from", "11", "--effective-on", "2018-05-31")
    assert code == 0
    project = str(known_story().project_id)
    figure = next(f for f in data["figures"] if f["key"] == {"project": project} and f["column"] == "net_disbursed")  # type: ignore[attr-defined]
    assert (figure["before"], figure["after"], figure["change"]) == ("400.00", "0.00", "-400.00")
    assert [(e["position"], e["event"], e["backdated"], e["correction"]) for e in figure["events"]] == [
        (12, "Disbursement.Reversed", True, True)
    ]
    code, out, _ = run(capsys, "--db", db, "restatement", "--from", "11", "--effective-on", "2018-05-31")
    assert code == 0
    assert "12 Disbursement.Reversed -400.00 (backdated correction)" in out
    (reversal,) = figure["events"]
    assert (reversal["effective_on"], reversal["dated_on"]) == ("2018-04-10", "2018-04-25")
    assert "12 Disbursement.Reversed: effective 2018-04-10, dated 2018-04-25, recorded 20" in out
    assert "重复录入：银行未实际转账" in out


def test_history_lists_every_event_oldest_first(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """By creating command id: the disbursement's events with actor, evidence and command."""
    code, data = run_json(capsys, "--db", db, "history", "pay-1")
    assert code == 0
    events = data["events"]
    assert [e["event"] for e in events] == ["Disbursement.Made", "Disbursement.Confirmed"]  # type: ignore[attr-defined]
    assert events[0]["source"]["reference"] == "回单 77"  # type: ignore[index]
    code, out, _ = run(capsys, "--db", db, "history", "pay-1")
    assert code == 0
    assert "confirm_disbursement" in out
    assert "auditor-test" in out


def test_history_shows_a_reversal_s_own_date_the_date_it_counts_from_and_its_reason(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reversal dated 2018-04-25 of the disbursement of 2018-04-10 shows both dates and why."""
    with aidledger.open(db, recorded_by="auditor-test") as ledger:
        add_backdated_reversal(ledger, known_story())
    code, data = run_json(capsys, "--db", db, "history", "pay-1")
    assert code == 0
    reversal = data["events"][-1]  # type: ignore[index]
    assert (reversal["effective_on"], reversal["counts_from"]) == ("2018-04-25", "2018-04-10")
    code, out, _ = run(capsys, "--db", db, "history", "pay-1")
    assert code == 0
    assert "counts from" in out
    (line,) = [line for line in out.splitlines() if "Disbursement.Reversed" in line]
    assert line.index("2018-04-25") < line.index("2018-04-10")
    assert "重复录入：银行未实际转账" in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["verify"], 2, "existing ledger file"),
        (["history", "nobody"], 4, "no aggregate is named"),
        (["replay"], 2, "exactly one of --to"),
        (["replay", "--to", "99"], 2, "it is at 11"),
        (["verify", "--checkpoint", "missing.json"], 2, "checkpoint file"),
    ],
)
def test_user_mistakes_are_one_line_errors(
    db: str, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    """Wrong input exits non-zero with one line naming the problem, never a traceback."""
    database = db if argv != ["verify"] else db + ".missing"
    exit_code, _, err = run(capsys, "--db", database, *argv)
    assert exit_code == code
    assert message in err
    assert "Traceback" not in err
