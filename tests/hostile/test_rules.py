"""Hostile input for the regrant and organization rules (issue 11, items 19 and 20).

Each entry of :data:`TABLE` imports one file of ``tests/hostile/rules/`` into an empty ledger with
the real command line, in-process, and checks the exit code, that the error is one line holding
every expected word, that no traceback is printed, and how many events were stored: none, since
an import decides every row before it stores any (with ``--no-rehearsal`` the rows before the
refused one stay stored, and the table says how many events they hold).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.hostile.support import run, stored_events, the_error_line

CORPUS = Path(__file__).resolve().parent / "rules"

EXIT_INVALID, EXIT_RULE = 2, 3

Entry = tuple[str, tuple[str, ...], int, tuple[str, ...], int]
"""(input file, options of ``import`` before the file, exit code, words the one error line must hold,
events stored)."""

TABLE: list[Entry] = [
    # -- item 19: a regrant draws only on money that reached its pool by the regrant's own date --------
    ("regrant-before-the-money.jsonl", (), EXIT_INVALID,
     ("line 7", "RegrantExceedsPool", "on 2018-02-01", "as of 2018-02-01", "0.00 disbursed into the pool",
      "more arrives from 2018-03-01", "at most 0.00", "nothing was stored"), 0),
    ("regrant-before-the-money.jsonl", ("--no-rehearsal",), EXIT_RULE,
     ("error: RegrantExceedsPool: line 7", "as of 2018-02-01", "6 earlier rows of the file were stored"), 7),
    ("regrant-beyond-the-first-payment.jsonl", (), EXIT_INVALID,
     ("line 8", "RegrantExceedsPool", "600.01", "as of 2018-02-20", "600.00 disbursed", "at most 600.00"), 0),
    ("reversal-under-a-regrant.jsonl", (), EXIT_INVALID,
     ("line 9", "RegrantExceedsPool", "reversing 500.00", "from 2018-03-01", "as of 2018-04-01",
      "less than the 500.00 regranted"), 0),
    # -- item 20: a regrant is made by the organization that holds the pool --------------------------
    ("regrant-by-another-donor.jsonl", (), EXIT_INVALID,
     ("line 7", "RegrantDonorMismatch", "column donor_id: 'org-other'", "implementing organization 'org-hub'",
      "from pledge 'pl-pool'", "nothing was stored"), 0),
    # -- item 20: clear names fields an update may clear, and never one it also gives ------------------
    ("clear-and-give-credit-code.jsonl", (), EXIT_INVALID,
     ("line 2", "column clear", "credit_code is both given a value and cleared", "accepted"), 0),
    ("clear-the-name.csv", (), EXIT_INVALID,
     ("line 3", "column clear", "'credit_code;name'", "'credit_code'", "'public_fundraising_until'"), 0),
    # -- item 20: one unified social credit code per organization, for life --------------------------
    ("one-credit-code-two-organizations.csv", (), EXIT_INVALID,
     ("line 3", "DuplicateCreditCode", "91110000600037341L", "'org-a'",
      "甲协会（虚构）", "accepted", "nothing was stored"), 0),
    ("one-credit-code-two-organizations.csv", ("--no-rehearsal",), EXIT_RULE,
     ("error: DuplicateCreditCode: line 3", "91110000600037341L", "1 earlier rows of the file were stored"), 1),
    ("credit-code-of-a-deregistered-organization.jsonl", (), EXIT_INVALID,
     ("line 4", "DuplicateCreditCode", "deregistered on 2018-06-01", "never given to another"), 0),
    ("credit-code-of-a-deregistered-organization.jsonl", ("--no-rehearsal",), EXIT_RULE,
     ("error: DuplicateCreditCode: line 4", "deregistered on 2018-06-01", "3 earlier rows"), 3),
]  # fmt: skip

IDS = [name + "".join(options) for name, options, _, _, _ in TABLE]


@pytest.mark.parametrize(("name", "options", "exit_code", "words", "stored"), TABLE, ids=IDS)
def test_hostile_rule_input_is_refused_in_one_line_and_stores_what_the_table_says(
    name: str,
    options: tuple[str, ...],
    exit_code: int,
    words: tuple[str, ...],
    stored: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The import exits with the table's code and one ``error:`` line naming every expected word."""
    db = tmp_path / "ledger.db"
    code, out, err = run(capsys, "--db", str(db), "import", *options, str(CORPUS / name))
    assert code == exit_code, err
    the_error_line(out, err, words)
    assert stored_events(db) == stored
