"""The ``import`` and ``export`` commands of the ``aidledger`` command line.

``register(commands)`` adds them to the main parser's subparsers; the main ``cli`` turns
aidledger errors into one line on stderr and an exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

import aidledger
from aidledger.application import AidLedger
from aidledger.errors import InvalidInput
from aidledger.interchange.export import FORMATS, VIEWS, export
from aidledger.interchange.importer import Importer, ImportSummary, refusal
from aidledger.projections.report import Coordinates
from aidledger.projections.totals import DIMENSIONS

__all__ = ["PROGRESS_FROM_BYTES", "cmd_export", "cmd_import", "register"]

PROGRESS_FROM_BYTES = 100_000
"""Files at least this large (some 400 rows) show a progress bar on stderr (unless --json)."""


def register(commands: Any) -> None:
    """Add ``import`` and ``export`` to the main parser's subparsers."""
    imports = commands.add_parser(
        "import", help="import a CSV or JSON Lines file of commands, all or nothing (docs/import.md)"
    )
    imports.add_argument("file", type=Path, help="a .csv or .jsonl file, one command per row")
    imports.add_argument("--format", choices=["csv", "jsonl"], help="the file's format (default: by its extension)")
    imports.add_argument(
        "--skip-invalid", action="store_true", help="store the valid rows and write the others to the rejects file"
    )
    imports.add_argument(
        "--rejects",
        type=Path,
        metavar="FILE",
        help="where rejected rows go (default with --skip-invalid: <file>.rejects.csv or .rejects.jsonl)",
    )
    imports.add_argument("--dry-run", action="store_true", help="check every row; store nothing")
    imports.add_argument(
        "--no-rehearsal",
        action="store_true",
        help="do not run the file on a copy of the ledger first (faster; a rule broken while storing then "
        "stops the import at that row)",
    )
    imports.add_argument(
        "--recorded-by", metavar="NAME", help="who records rows without a recorded_by (default: $AIDLEDGER_USER)"
    )
    _common(imports)
    imports.set_defaults(run=cmd_import)

    exports = commands.add_parser("export", help="export a view as JSON or CSV, or projects as IATI XML")
    exports.add_argument(
        "--format",
        choices=FORMATS,
        default="json",
        dest="export_format",
        help="json (the default), csv, or iati (IATI 2.03 activity XML)",
    )
    exports.add_argument("--view", choices=VIEWS, help="what to export (default: totals; project for iati)")
    exports.add_argument("--by", action="append", default=[], metavar="DIMENSION", help=", ".join(DIMENSIONS))
    exports.add_argument("--subject", help="one project or organization (id or command id) or county code")
    exports.add_argument("--on", metavar="DATE", help="date of the organizations' disclosure record")
    exports.add_argument("--out", type=Path, metavar="FILE", help="write here (default: standard output)")
    exports.add_argument(
        "--reporting-org", metavar="ORG", help="IATI: the publishing organization (its id or command id)"
    )
    exports.add_argument("--position", type=int, metavar="N", help="only events at or before log position N")
    exports.add_argument("--recorded-before", metavar="TIME", help="only events recorded before TIME (ISO, with zone)")
    exports.add_argument("--effective-on", metavar="DATE", help="only what happened on or before DATE")
    _common(exports)
    exports.set_defaults(run=cmd_export)


def _common(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps the main parser's values when the option is not repeated after the command.
    parser.add_argument("--db", default=argparse.SUPPRESS, help="SQLite file, ':memory:' or postgresql:// URL")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for scripts")


def _ledger(args: argparse.Namespace, *, create: bool) -> AidLedger:
    db = str(args.db)
    if not create and db != ":memory:" and "://" not in db and not Path(db).exists():
        raise InvalidInput("--db", db, "an existing ledger (run `aidledger import` or `aidledger demo` first)")
    return aidledger.open(db, recorded_by=os.environ.get("AIDLEDGER_USER", "cli"))


# -- import ---------------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace, console: Console) -> int:
    """Import a file; print the summary (and raise, naming every bad row, when it is refused)."""
    path: Path = args.file
    if not path.is_file():
        raise InvalidInput("file", str(path), "an existing .csv or .jsonl file")
    show = not args.json and path.stat().st_size >= PROGRESS_FROM_BYTES
    with _ledger(args, create=True) as ledger, _progress(show) as progress:
        importer = Importer(
            ledger,
            path,
            file_format=args.format,
            skip_invalid=args.skip_invalid,
            rejects=args.rejects,
            dry_run=args.dry_run,
            rehearse=not args.no_rehearsal,
            recorded_by=args.recorded_by,
            progress=progress,
        )
        summary = importer.run()
    if args.json:
        _print_json(summary.model_dump(mode="json"))
    if importer.refused(summary):
        raise refusal(summary)
    if not args.json:
        console.print(_import_line(summary))
        for problem in summary.problems[:20]:
            console.print(f"  rejected {problem}", markup=False)
    return 0


def _import_line(summary: ImportSummary) -> str:
    verb = "Checked (dry run, nothing stored)" if summary.dry_run else "Imported"
    stored = "would be stored" if summary.dry_run else "stored"
    line = (
        f"{verb} {summary.file}: {summary.rows_read} rows read, {summary.stored} {stored}, "
        f"{summary.already_present} already present, {summary.rejected} rejected"
    )
    if summary.rejects_file:
        line += f" (written to {summary.rejects_file})"
    return line + f"; log position {summary.position_before} -> {summary.position_after}"


@contextmanager
def _progress(show: bool) -> Iterator[Any]:
    """A progress callback drawing bars on stderr, or ``None`` when not shown."""
    if not show:
        yield None
        return
    amount = TextColumn("{task.fields[amount]}")
    columns = (TextColumn("{task.description:<8}"), BarColumn(), amount, TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bars:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int, total: int) -> None:
            amount = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if phase == "checking" else f"{done}/{total} rows"
            if phase not in tasks:
                tasks[phase] = bars.add_task(phase, total=total, amount=amount)
            bars.update(tasks[phase], completed=done, total=total, amount=amount)

        yield update


# -- export ---------------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    """Export a view to --out or standard output."""
    view = args.view or ("project" if args.export_format == "iati" else "totals")
    options: dict[str, Any] = {
        "file_format": args.export_format,
        "view": view,
        "group_by": args.by,
        "subject": args.subject,
        "on": args.on,
        "position": args.position,
        "recorded_before": args.recorded_before,
        "effective_on": args.effective_on,
        "reporting_org": args.reporting_org,
    }
    if args.export_format == "iati":
        for name in ("subject", "on"):
            if options.pop(name) is not None:
                raise InvalidInput(f"--{name}", getattr(args, name), "no such option with --format iati")
        if args.by:
            raise InvalidInput("--by", ",".join(args.by), "no grouping with --format iati")
        options.pop("group_by")
    with _ledger(args, create=False) as ledger:
        if args.out is None:
            coordinates = export(ledger, sys.stdout, **options)
        else:
            with _replacing(args.out, bom=args.export_format == "csv") as out:
                coordinates = export(ledger, out, **options)
    if args.out is not None:
        if args.json:
            _print_json(
                {
                    "file": str(args.out),
                    "format": args.export_format,
                    "view": view,
                    "coordinates": coordinates.model_dump(mode="json"),
                }
            )
        else:
            console.print(f"Exported {view} as {args.export_format} to {args.out} at {_where(coordinates)}")
    return 0


def _where(coordinates: Coordinates) -> str:
    text = f"log position {coordinates.position}"
    if coordinates.root:
        text += f" (Merkle root {coordinates.root[:16]}…)"
    return text


@contextmanager
def _replacing(path: Path, *, bom: bool) -> Iterator[TextIO]:
    """Write to a temporary file beside ``path`` and move it into place only when complete."""
    if path.is_dir():
        raise InvalidInput("--out", str(path), "a file path, not a directory")
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
            yield out
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
