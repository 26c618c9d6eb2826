"""The ``import`` and ``export`` commands of the ``aidledger`` command line.

``register(commands)`` adds them to the main parser's subparsers; the main ``cli`` turns
aidledger errors into one line on stderr and an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console

from aidledger.application.ledger import AidLedger
from aidledger.cli.common import (
    add_command,
    as_of_options,
    for_terminal,
    open_ledger,
    print_json,
    progress_bars,
    replacing_file,
    say,
)
from aidledger.errors import InvalidInput
from aidledger.interchange.export import FORMATS, VIEWS, Export, export
from aidledger.interchange.importer import Importer, ImportSummary, refusal
from aidledger.interchange.workbook import LANGUAGES, write_workbook
from aidledger.projections.report import Coordinates
from aidledger.projections.totals import DIMENSIONS

__all__ = ["PROGRESS_FROM_BYTES", "cmd_export", "cmd_import", "register"]

PROGRESS_FROM_BYTES = 100_000
"""Files at least this large (some 400 rows) show a progress bar on stderr (unless --json)."""


def register(commands: Any) -> None:
    """Add ``import`` and ``export`` to the main parser's subparsers."""
    for name in ("import", "load"):
        _import_options(
            add_command(
                commands,
                name,
                "import a CSV or JSON Lines file of commands, all or nothing (docs/import.md)"
                + (" (the same as import)" if name == "load" else ""),
                cmd_import,
            )
        )
    exports = add_command(commands, "export", "export a view as JSON or CSV, or projects as IATI XML", cmd_export)
    exports.add_argument(
        "--format",
        choices=[*FORMATS, "xlsx"],
        default="json",
        dest="export_format",
        help="json (the default), csv, xlsx (a workbook; needs --out), or iati (IATI 2.03 activity XML)",
    )
    exports.add_argument(
        "--lang", choices=LANGUAGES, default="zh", help="xlsx: headers in Chinese (zh, the default) or English"
    )
    exports.add_argument("--view", choices=VIEWS, help="what to export (default: totals; project for iati)")
    exports.add_argument("--by", action="append", default=[], metavar="DIMENSION", help=", ".join(DIMENSIONS))
    exports.add_argument("--subject", help="one project or organization (id or command id) or county code")
    exports.add_argument("--on", metavar="DATE", help="date of the organizations' disclosure record")
    exports.add_argument("--out", type=Path, metavar="FILE", help="write here (default: standard output)")
    exports.add_argument(
        "--reporting-org",
        metavar="ORG",
        help="IATI, required: the publishing organization (its id or command id; it needs a credit code)",
    )
    as_of_options(exports)


def _import_options(imports: argparse.ArgumentParser) -> None:
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
        help="do not decide the rules while checking (memory stays bounded by the file's rows, not by the "
        "objects it touches; a rule broken while storing then stops the import at that row)",
    )
    imports.add_argument(
        "--recorded-by", metavar="NAME", help="who records rows without a recorded_by (default: $AIDLEDGER_USER)"
    )
    imports.add_argument(
        "--batch-events",
        type=int,
        metavar="N",
        help="store at most N events per transaction (1 to 10000, the default)",
    )


# -- import ---------------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace, console: Console) -> int:
    """Import a file; print the summary (and raise, naming every bad row, when it is refused)."""
    path: Path = args.file
    if not path.is_file():
        raise InvalidInput("file", str(path), "an existing .csv or .jsonl file")
    show = not args.json and path.stat().st_size >= PROGRESS_FROM_BYTES
    with open_ledger(args, create=True) as ledger, progress_bars(show) as progress:
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
            batch_events=args.batch_events,
        )
        summary = importer.run()
    if args.json:
        print_json(summary.model_dump(mode="json"))
    if importer.refused(summary):
        raise refusal(summary)
    if not args.json:
        say(console, _import_line(summary))
        for problem in summary.problems[:20]:
            say(console, f"  rejected {problem}")
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


# -- export ---------------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    """Export a view to --out or standard output."""
    view = args.view or ("project" if args.export_format == "iati" else "totals")
    options: dict[str, Any] = {
        "file_format": args.export_format,
        "view": args.view,
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
    if args.export_format != "xlsx" and args.lang != "zh":
        raise InvalidInput("--lang", args.lang, "a language only with --format xlsx")
    with open_ledger(args) as ledger:
        if args.export_format == "xlsx":
            coordinates = _export_workbook(ledger, args, options)
        elif args.out is None:
            coordinates = export(ledger, for_terminal(sys.stdout), **options)
        else:
            with _replacing(args.out, bom=args.export_format == "csv") as out:
                coordinates = export(ledger, out, **options)
    if args.out is not None:
        if args.json:
            print_json(
                {
                    "file": str(args.out),
                    "format": args.export_format,
                    "view": view,
                    "coordinates": coordinates.model_dump(mode="json"),
                }
            )
        else:
            say(console, f"Exported {view} as {args.export_format} to {args.out} at {_where(coordinates)}")
    return 0


def _export_workbook(ledger: AidLedger, args: argparse.Namespace, options: dict[str, Any]) -> Coordinates:
    if args.out is None:
        raise InvalidInput("--out", "(none)", "a file to write the workbook to, e.g. --out 汇总.xlsx")
    if options.pop("reporting_org") is not None:
        raise InvalidInput("--reporting-org", args.reporting_org, "a reporting organization only with --format iati")
    options.pop("file_format")
    job = Export(ledger, **{**options, "view": options["view"] or "totals"})
    with replacing_file(args.out) as partial:
        write_workbook(job, partial, lang=args.lang)
    return job.coordinates


def _where(coordinates: Coordinates) -> str:
    text = f"log position {coordinates.position}"
    if coordinates.root:
        text += f" (Merkle root {coordinates.root[:16]}…)"
    return text


@contextmanager
def _replacing(path: Path, *, bom: bool) -> Iterator[TextIO]:
    """Write text to a temporary file beside ``path`` and move it into place only when complete."""
    encoding = "utf-8-sig" if bom else "utf-8"
    with replacing_file(path) as partial, partial.open("w", encoding=encoding, newline="") as out:
        yield out

