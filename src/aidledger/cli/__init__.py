"""The ``aidledger`` command line: parses, calls the library, prints.

Every command takes ``--db`` (default ``$AIDLEDGER_DB`` or ``aidledger.db``) and ``--json``, before
or after its name. A user's mistake prints one line on stderr and exits non-zero, never a traceback
(exit codes in docs/errors.md).

- :mod:`~aidledger.cli.common` — what every command shares: opening the ledger, options, printing;
- :mod:`~aidledger.cli.ledger` — demo, report, disclosure, explain, show;
- :mod:`~aidledger.cli.interchange` — import (and its alias load), export;
- :mod:`~aidledger.cli.audit` — checkpoint (signed or not), verify, proofs, replay, restatement, history, rebuild;
- :mod:`~aidledger.cli.notes` — keygen, cosign.
- :mod:`~aidledger.cli.site` — site.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import version

from rich.console import Console

from aidledger.cli import audit, interchange, ledger, notes, site
from aidledger.cli.common import EXIT_INTERRUPTED, EXIT_INVALID, default_db, exit_code, printable
from aidledger.errors import AidLedgerError

__all__ = ["main"]


def parser() -> argparse.ArgumentParser:
    """The command line's parser, with every command."""
    main_parser = argparse.ArgumentParser(
        prog="aidledger", description="The tamper-evident ledger of aid to poor regions."
    )
    main_parser.add_argument(
        "--db",
        default=default_db(),
        help="SQLite file, ':memory:' or postgresql:// URL (default: $AIDLEDGER_DB or aidledger.db)",
    )
    main_parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    main_parser.add_argument("--version", action="version", version=f"aidledger {version('aidledger')}")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ledger.register(commands)
    interchange.register(commands)
    audit.register(commands)
    notes.register(commands)
    site.register(commands)
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = parser().parse_args(argv)
    tty = sys.stdout.isatty()  # pipes and files get whole lines and wide tables
    console = Console(highlight=False, width=None if tty else 200, soft_wrap=not tty)
    try:
        result: int = args.run(args, console)
    except (AidLedgerError, OSError) as error:
        message = printable(" ".join(str(error).split()))  # one line, whatever the terminal's width
        sys.stderr.write(f"error: {type(error).__name__}: {message}\n")
        return exit_code(error) if isinstance(error, AidLedgerError) else EXIT_INVALID
    except KeyboardInterrupt as error:  # Ctrl-C: what was stored stays (an import says what and how to finish)
        message = printable(" ".join(str(error).split())) or "interrupted (Ctrl-C)"
        sys.stderr.write(f"error: {type(error).__name__}: {message}\n")
        return EXIT_INTERRUPTED
    return result
