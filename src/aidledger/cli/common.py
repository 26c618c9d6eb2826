"""What every command of the command line shares: opening the ledger, options, printing, exit codes.

A user's mistake prints one line on stderr and exits non-zero, never a traceback; the exit code
says which kind of problem it was (docs/errors.md).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO, cast

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

import aidledger
from aidledger.application.ledger import AidLedger
from aidledger.canonical import json_text
from aidledger.errors import AidLedgerError, InvalidInput, NotFound, RuleViolation

__all__ = [
    "EXIT_INTEGRITY",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_NOT_FOUND",
    "EXIT_RULE",
    "Handler",
    "add_command",
    "as_of_options",
    "cell",
    "coordinates",
    "default_db",
    "exit_code",
    "for_terminal",
    "is_url",
    "open_ledger",
    "print_json",
    "printable",
    "progress_bars",
    "replacing_file",
    "say",
    "yuan",
]

EXIT_INVALID = 2
EXIT_RULE = 3
EXIT_NOT_FOUND = 4
EXIT_INTEGRITY = 5
EXIT_INTERRUPTED = 130
"""Exit codes: bad input, a broken rule, something not found, an integrity failure, and Ctrl-C (128 + SIGINT,
as shells report it) (docs/errors.md)."""

Handler = Callable[[argparse.Namespace, Console], int]


def default_db() -> str:
    """``$AIDLEDGER_DB``, else ``aidledger.db``."""
    return os.environ.get("AIDLEDGER_DB", "aidledger.db")


def is_url(db: str) -> bool:
    """Whether ``db`` names a PostgreSQL database."""
    return str(db).startswith(("postgres://", "postgresql://"))


def open_ledger(args: argparse.Namespace, *, create: bool = False, read_only: bool = False) -> AidLedger:
    """The ledger ``--db`` names; unless ``create``, it must exist already."""
    db = str(args.db)
    if not create and not is_url(db):
        if db == ":memory:" and read_only:
            raise InvalidInput("--db", db, "a ledger file (an in-memory ledger is gone when its process ends)")
        if db != ":memory:" and not Path(db).is_file():
            raise InvalidInput("--db", db, "an existing ledger file (run `aidledger import` or `aidledger demo` first)")
    recorded_by = os.environ.get("AIDLEDGER_USER", "cli")
    return aidledger.open(db, recorded_by=recorded_by, read_only=read_only, create=create)


def add_command(commands: Any, name: str, help_text: str, run: Handler) -> argparse.ArgumentParser:
    """A subcommand that also takes ``--db`` and ``--json`` after its name."""
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text, description=help_text)
    # SUPPRESS keeps the main parser's value when the option is not given again after the command.
    parser.add_argument("--db", default=argparse.SUPPRESS, help="as before the command")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for scripts")
    parser.set_defaults(run=run)
    return parser


def as_of_options(parser: argparse.ArgumentParser, *, effective: bool = True) -> None:
    """``--position``, ``--recorded-before`` and (unless not ``effective``) ``--effective-on``."""
    parser.add_argument("--position", type=int, metavar="N", help="only events at or before log position N")
    parser.add_argument("--recorded-before", metavar="TIME", help="only events recorded before TIME (ISO, with zone)")
    if effective:
        parser.add_argument("--effective-on", metavar="DATE", help="only what happened on or before DATE")


def coordinates(args: argparse.Namespace) -> dict[str, Any]:
    """The as-of options given, as keyword arguments of the projections."""
    return {
        "position": args.position,
        "recorded_before": args.recorded_before,
        **({"effective_on": args.effective_on} if hasattr(args, "effective_on") else {}),
    }


def print_json(data: Any) -> None:
    """Print a report, view or plain data as sorted, indented JSON."""
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json")
    sys.stdout.write(json_text(data, indent=2) + "\n")


_SHOWN_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character but the newline spelled out as Python does (``\\x1b``).

    A terminal obeys control characters: an escape sequence in a stored name could clear the
    screen or hide what follows. New input refuses them (domain/values.py); text stored before
    that is still printed, but shown, never obeyed.
    """
    return _SHOWN_CONTROLS.sub(lambda match: repr(match.group())[1:-1], text)


class _SpelledOut(io.TextIOBase):
    """A text stream that writes to ``stream`` with control characters spelled out and CRLF as LF."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def writable(self) -> bool:
        """A stream to write to."""
        return True

    def write(self, text: str) -> int:
        """Write ``text``, spelled out; returns its length as given."""
        self._stream.write(printable(text.replace("\r\n", "\n")))
        return len(text)

    def flush(self) -> None:
        """Flush the terminal's stream."""
        self._stream.flush()


def for_terminal(stream: TextIO) -> TextIO:
    """``stream`` itself, or, when it is a terminal, ``stream`` with control characters spelled out.

    Data printed (CSV, XML) is exact in a file or a pipe; on a terminal it is text for people, and
    a control character in it would be obeyed (``ls`` makes the same choice for file names).
    """
    return cast(TextIO, _SpelledOut(stream)) if stream.isatty() else stream


def cell(text: str) -> Text:
    """Stored text for a table cell or a line: control characters spelled out, never read as markup."""
    return Text(printable(text))


def say(console: Console, text: str, style: str | None = None) -> None:
    """Print text as it is (never read as markup; control characters spelled out)."""
    shown = escape(printable(text))
    console.print(f"[{style}]{shown}[/{style}]" if style else shown)


def yuan(value: Decimal) -> str:
    """An amount with thousands separators and two places."""
    return f"{value:,.2f}"


def exit_code(error: BaseException) -> int:
    """The exit code of an error (docs/errors.md)."""
    if isinstance(error, InvalidInput | OSError):
        return EXIT_INVALID
    if isinstance(error, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, RuleViolation):
        return EXIT_RULE
    assert isinstance(error, AidLedgerError)
    return EXIT_INTEGRITY


@contextmanager
def progress_bars(show: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress callback drawing bars on stderr, or ``None`` when not shown."""
    if not show:
        yield None
        return
    amount = TextColumn("{task.fields[amount]}")
    columns = (TextColumn("{task.description:<8}"), BarColumn(), amount, TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bars:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int, total: int) -> None:
            shown = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if phase == "checking" else f"{done}/{total} rows"
            if phase not in tasks:
                tasks[phase] = bars.add_task(phase, total=total, amount=shown)
            bars.update(tasks[phase], completed=done, total=total, amount=shown)

        yield update


@contextmanager
def replacing_file(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``, moved into place only when the block completes."""
    if path.is_dir():
        raise InvalidInput("--out", str(path), "a file path, not a directory")
    partial = path.with_name(path.name + ".partial")
    try:
        yield partial
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
