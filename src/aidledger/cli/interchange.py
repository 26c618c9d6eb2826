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
from aidledger.interchange.importer import LISTED_PROBLEMS, Importer, ImportSummary, refusal
from aidledger.interchange.messages import say as words
from aidledger.interchange.template import write_csv_template, write_template
from aidledger.interchange.workbook import LANGUAGES, write_workbook
from aidledger.projections.report import Coordinates
from aidledger.projections.totals import DIMENSIONS

__all__ = ["PROGRESS_FROM_BYTES", "cmd_export", "cmd_import", "cmd_template", "register"]

PROGRESS_FROM_BYTES = 100_000
"""Files at least this large (some 400 rows) show a progress bar on stderr (unless --json)."""


def register(commands: Any) -> None:
    """Add ``import`` and ``export`` to the main parser's subparsers."""
    for name in ("import", "load"):
        _import_options(
            add_command(
                commands,
                name,
                "import a workbook, CSV or JSON Lines file of commands, all or nothing (docs/import.md)"
                + (" (the same as import)" if name == "load" else ""),
                cmd_import,
            )
        )
    template = add_command(
        commands,
        "template",
        "write the bilingual import template: a workbook to fill in, one sheet per kind of record (docs/import.md)",
        cmd_template,
    )
    template.add_argument("--out", type=Path, required=True, metavar="FILE", help="where to write it, e.g. 台账.xlsx")
    template.add_argument(
        "--csv", action="store_true", help="write a CSV header line instead (every column, Chinese and English)"
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
    imports.add_argument("file", type=Path, help="a .csv, .jsonl or .xlsx/.xls/.ods file, one command per row")
    imports.add_argument(
        "--format", choices=["csv", "jsonl", "xlsx"], help="the file's format (default: by its extension)"
    )
    imports.add_argument(
        "--encoding",
        default="utf-8",
        help="a CSV or JSON Lines file's encoding: utf-8 (the default) or gb18030 (also gbk), as Chinese Excel saves",
    )
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
        "--lang",
        choices=LANGUAGES,
        default="en",
        help="the language of the problems and the summary: en (the default) or zh (中文)",
    )
    imports.add_argument(
        "--batch-events",
        type=int,
        metavar="N",
        help="store at most N events per transaction (1 to 10000, the default)",
    )


# -- import ---------------------------------------------------------------------------------------


def cmd_template(args: argparse.Namespace, console: Console) -> int:
    """Write the import template (a workbook, or with ``--csv`` a CSV header line)."""
    out: Path = args.out
    if not args.csv and out.suffix.lower() != ".xlsx":
        raise InvalidInput("--out", str(out), "a file name ending in .xlsx (or --csv for a CSV template)")
    with replacing_file(out) as partial:
        (write_csv_template if args.csv else write_template)(partial)
    if args.json:
        print_json({"template": str(out), "format": "csv" if args.csv else "xlsx"})
    else:
        say(console, f"Wrote the import template to {out}")
    return 0


def cmd_import(args: argparse.Namespace, console: Console) -> int:
    """Import a file; print the summary (and raise, naming every bad row, when it is refused)."""
    path: Path = args.file
    if not path.is_file():
        raise InvalidInput("file", str(path), "an existing .csv, .jsonl or .xlsx file")
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
            encoding=args.encoding,
            lang=args.lang,
        )
        summary = importer.run()
    if args.json:
        print_json(summary.model_dump(mode="json"))
    if importer.refused(summary):
        raise refusal(summary, args.lang)
    if not args.json:
        lang = args.lang
        say(console, _import_line(summary, lang))
        for problem in summary.problems[:20]:
            say(console, words(lang, "rejected", problem=problem))
        for warning in summary.warnings[:20]:
            say(console, words(lang, "warning", warning=warning))
        hidden = len(summary.warnings) - min(len(summary.warnings), 20) + summary.warnings_not_listed
        if hidden:
            say(console, words(lang, "more_warnings", hidden=hidden, listed=LISTED_PROBLEMS))
    return 0


def _import_line(summary: ImportSummary, lang: str) -> str:
    fields = summary.model_dump()
    line = words(lang, "checked" if summary.dry_run else "imported", **fields)
    if summary.rejects_file:
        line += words(lang, "rejects_written", **fields)
    return line + words(lang, "positions", **fields)


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
