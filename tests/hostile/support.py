"""What every table of the hostile corpus runs through: the CLI in-process, its one error line, and a
count of what was stored."""

from __future__ import annotations

from pathlib import Path

import pytest

import aidledger
from aidledger.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return its exit code, stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def stored_events(db: Path) -> int:
    """How many events the ledger file holds (0 when there is none)."""
    if not db.exists():
        return 0
    with aidledger.open(db, read_only=True) as ledger:
        return ledger.position()


def the_error_line(out: str, err: str, words: tuple[str, ...]) -> str:
    """The one ``error:`` line a refused command printed, checked to name every word; no traceback anywhere."""
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    missing = [word for word in words if word not in lines[0]]
    assert not missing, f"{missing} not in {lines[0]!r}"
    return lines[0]
