"""Hostile input for in-kind quantities (issue 11, item 4: a quantity of 0 gets its own message).

Each entry of :data:`TABLE` imports one file of ``tests/hostile/unvalued/`` into an empty ledger with
the real command line, in-process, and checks the exit code, that the error is one line holding
every expected word and none of the words it must not hold, that no traceback is printed, and that
nothing was stored (an import decides every row before it stores any).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.hostile.support import run, stored_events, the_error_line

CORPUS = Path(__file__).resolve().parent / "unvalued"

EXIT_INVALID = 2

Entry = tuple[str, int, tuple[str, ...], tuple[str, ...]]
"""(input file, exit code, words the one error line must hold, words it must not hold)."""

TABLE: list[Entry] = [
    ("zero-quantity-pledged.csv", EXIT_INVALID,
     ("error: InvalidInput:", "line 4", "column items", "'0' is zero", "a quantity is a positive decimal",
      "at most 6 decimal places", "leave out an item", "nothing was stored"),
     ("amounts are greater than zero",)),
    ("zero-quantity-delivered.jsonl", EXIT_INVALID,
     ("error: InvalidInput:", "line 4", "items.0.quantity", "'0.000' is zero", "a quantity is a positive decimal",
      "nothing was stored"),
     ("amounts are greater than zero",)),
    ("negative-quantity-pledged.jsonl", EXIT_INVALID,
     ("error: InvalidInput:", "line 3", "items.0.quantity", "'-5' is negative", "a quantity is a positive decimal"),
     ("amounts are greater than zero",)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "exit_code", "words", "absent"), TABLE, ids=[entry[0] for entry in TABLE])
def test_a_hostile_quantity_is_refused_in_one_line_of_its_own_and_stores_nothing(
    name: str,
    exit_code: int,
    words: tuple[str, ...],
    absent: tuple[str, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The import exits with the table's code and one ``error:`` line with the quantity's own message."""
    db = tmp_path / "ledger.db"
    code, out, err = run(capsys, "--db", str(db), "import", str(CORPUS / name))
    assert code == exit_code, err
    line = the_error_line(out, err, words)
    present = [word for word in absent if word in line]
    assert not present, f"{present} in {line!r}"
    assert stored_events(db) == 0
