"""Hostile input for the JSON Lines reader and for checkpoint files (issue 11, items 13 and 14).

Each entry of :data:`TABLE` runs the real command line in-process on one file of
``tests/hostile/audit_input/`` and checks the exit code, that one line of the output holds every
expected word, that no traceback is printed, and that nothing was stored.

JSON Lines files (``*.jsonl``, ``*.csv``) are imported into an empty ledger. Checkpoint inputs are
applied to a checkpoint the test writes of a ledger holding the shipped template (its root depends
on when the events were recorded, so no checkpoint file can be kept in the corpus): a ``*.json``
file's keys replace the checkpoint's own (an edited ``origin``), a ``*.leaves`` file replaces the
leaf-hash sidecar.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.hostile.support import run, stored_events

CORPUS = Path(__file__).resolve().parent / "audit_input"
TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "import-template.jsonl"
TEMPLATE_EVENTS = 44

EXIT_OK, EXIT_INVALID, EXIT_INTEGRITY = 0, 2, 5

Entry = tuple[str, tuple[str, ...], int, tuple[str, ...]]
"""(input file, arguments after ``--db DB`` with ``{input}``/``{checkpoint}`` placeholders, exit code,
words one line of the output must hold)."""

IMPORT = ("import", "{input}")
VERIFY = ("verify", "--checkpoint", "{checkpoint}")

TABLE: list[Entry] = [
    # -- item 13: a key given twice in one JSON object is refused, never the last one kept ----------
    ("duplicate-amount.jsonl", IMPORT, EXIT_INVALID,
     ("line 3", "column amount", "'200'", "key given twice", "first value '100'", "each key once",
      "nothing was stored")),
    ("duplicate-amount-numbers.jsonl", IMPORT, EXIT_INVALID, ("line 3", "column amount", "given twice")),
    ("duplicate-nested-key.jsonl", IMPORT, EXIT_INVALID,
     ("line 3", "column reference", "'协议 2'", "given twice", "'协议 1'")),
    ("duplicate-command-key.jsonl", IMPORT, EXIT_INVALID, ("line 3", "column command", "given twice")),
    # -- item 13: a JSON number is read as its text: exponents, NaN and Infinity are refused as in CSV --
    ("amount-exponent.jsonl", IMPORT, EXIT_INVALID,
     ("line 3", "column amount", "'1e3'", "exponent", "accepted", "1234.50", "nothing was stored")),
    ("amount-exponent-fraction.jsonl", IMPORT, EXIT_INVALID, ("line 3", "column amount", "'1.5E+2'", "exponent")),
    ("amount-exponent-string.jsonl", IMPORT, EXIT_INVALID, ("line 3", "column amount", "'1e3'", "scientific notation")),
    ("amount-exponent.csv", IMPORT, EXIT_INVALID, ("line 4", "column amount", "'1e3'", "scientific notation")),
    ("amount-nan.jsonl", IMPORT, EXIT_INVALID, ("line 3", "column amount", "'NaN'", "not a JSON number", "accepted")),
    ("amount-infinity.jsonl", IMPORT, EXIT_INVALID, ("line 3", "column amount", "'Infinity'", "not a JSON number")),
    ("amount-three-places.jsonl", IMPORT, EXIT_INVALID, ("line 3", "amount", "100.125", "rounded")),
    ("person-times-exponent.jsonl", IMPORT, EXIT_INVALID, ("line 3", "column person_times", "'3.2e2'", "exponent")),
    # -- item 14: a checkpoint's origin is always compared with the ledger's name -------------------
    ("origin-edited.json", VERIFY, EXIT_INTEGRITY,
     ("verification failed", "names ledger 'aidledger/00000000-0000-0000-0000-000000000000'", "--origin")),
    ("origin-renamed.json", VERIFY, EXIT_INTEGRITY, ("verification failed", "names ledger 'hebei-campaign'")),
    ("origin-renamed.json", (*VERIFY, "--origin", "hebei-campaign"), EXIT_OK, ("verified", "1 checkpoint(s) match")),
    # -- item 14: a damaged leaf sidecar is ignored, and verify says so ------------------------------
    ("truncated.leaves", VERIFY, EXIT_OK, ("note:", "cp.json.leaves ignored", "0.96875 leaf hashes, not 44")),
    ("text.leaves", VERIFY, EXIT_OK, ("note:", "cp.json.leaves ignored", "not 44")),
]  # fmt: skip

IDS = [name + ("+origin" if "--origin" in argv else "") for name, argv, _, _ in TABLE]


def checkpointed_ledger(capsys: pytest.CaptureFixture[str], db: Path, hostile: Path, checkpoint: Path) -> None:
    """A ledger holding the template and a checkpoint of it, with ``hostile`` applied to the checkpoint."""
    assert run(capsys, "--db", str(db), "import", str(TEMPLATE))[0] == EXIT_OK
    assert run(capsys, "--db", str(db), "checkpoint", "--out", str(checkpoint))[0] == EXIT_OK
    if hostile.suffix == ".json":
        data = json.loads(checkpoint.read_text(encoding="utf-8"))
        checkpoint.write_text(json.dumps(data | json.loads(hostile.read_text(encoding="utf-8"))), encoding="utf-8")
    else:
        shutil.copyfile(hostile, checkpoint.with_name(checkpoint.name + ".leaves"))


@pytest.mark.parametrize(("name", "argv", "code", "words"), TABLE, ids=IDS)
def test_hostile_input_gets_its_exit_code_and_one_line_naming_it_and_stores_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    argv: tuple[str, ...],
    code: int,
    words: tuple[str, ...],
) -> None:
    """Each entry: the exit code, one line holding every word, no traceback, the ledger as it was."""
    db, hostile, checkpoint = tmp_path / "ledger.db", CORPUS / name, tmp_path / "cp.json"
    if argv[0] == "verify":
        checkpointed_ledger(capsys, db, hostile, checkpoint)
    before = stored_events(db)
    filled = [part.format(input=hostile, checkpoint=checkpoint) for part in argv]
    exit_code, out, err = run(capsys, "--db", str(db), *filled)
    lines = (out + err).splitlines()
    assert exit_code == code, out + err
    assert any(all(word in line for word in words) for line in lines), out + err
    assert "Traceback" not in out + err
    if code == EXIT_INVALID:
        assert err.count("\n") == 1 and err.startswith("error: InvalidInput: ")
    assert stored_events(db) == before == (TEMPLATE_EVENTS if argv[0] == "verify" else 0)
