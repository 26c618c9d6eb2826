"""The ``aidledger`` command line: parses, calls the library, prints.

Every command takes ``--db`` (default ``$AIDLEDGER_DB`` or ``aidledger.db``) and ``--json``. A
user's mistake prints one line on stderr and exits non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import aidledger
from aidledger import demo as demo_history
from aidledger import projections
from aidledger.application import AidLedger
from aidledger.audit import cli as audit_cli
from aidledger.errors import AidLedgerError, InvalidInput, NotFound, RuleViolation
from aidledger.interchange import cli as interchange_cli
from aidledger.interchange.commands import read_jsonl, resolve_references, run_command
from aidledger.projections.report import Report
from aidledger.projections.totals import COLUMNS, DIMENSIONS, TotalsReport

__all__ = ["main"]

EXIT_INVALID = 2
EXIT_RULE = 3
EXIT_NOT_FOUND = 4
EXIT_INTEGRITY = 5


def _default_db() -> str:
    return os.environ.get("AIDLEDGER_DB", "aidledger.db")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aidledger", description="The tamper-evident ledger of aid to poor regions.")
    parser.add_argument(
        "--db",
        default=_default_db(),
        help="SQLite file, ':memory:' or postgresql:// URL (default: $AIDLEDGER_DB or aidledger.db)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument("--version", action="version", version=f"aidledger {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="load the SYNTHETIC example campaign and print its figures")
    demo.set_defaults(run=cmd_demo)

    report = commands.add_parser("report", help="totals of every stage column, grouped and as of any point")
    report.add_argument("--by", action="append", default=[], metavar="DIMENSION", help=", ".join(DIMENSIONS))
    report.add_argument("--csv", action="store_true", help="print CSV")
    report.add_argument(
        "--columns", default="pledged,signed,intended,net_disbursed,outstanding", help="columns to show"
    )
    _as_of_options(report)
    report.set_defaults(run=cmd_report)

    disclosure = commands.add_parser("disclosure", help="disclosure obligations and their status on a date")
    disclosure.add_argument("--on", required=True, metavar="DATE", help="evaluate on this date (YYYY-MM-DD)")
    disclosure.add_argument("--status", action="append", default=[], help="only these statuses (repeatable)")
    disclosure.add_argument("--campaign", help="apply a campaign policy that binds every participant of CAMPAIGN")
    _as_of_options(disclosure, effective=False)
    disclosure.set_defaults(run=cmd_disclosure)

    explain = commands.add_parser("explain", help="the events that add up to one figure")
    explain.add_argument("column", choices=COLUMNS)
    explain.add_argument("--key", action="append", default=[], metavar="DIMENSION=VALUE", help="the report row")
    explain.add_argument("--currency", default="CNY")
    _as_of_options(explain)
    explain.set_defaults(run=cmd_explain)

    show = commands.add_parser("show", help="a public transparency page: project, organization or county")
    show.add_argument("kind", choices=["project", "organization", "county"])
    show.add_argument("subject", help="a project or organization id (or its creating command id), or a county code")
    show.add_argument("--on", metavar="DATE", help="date for an organization's disclosure record")
    _as_of_options(show)
    show.set_defaults(run=cmd_show)

    load = commands.add_parser("load", help="run a JSON Lines file of command records (see docs/cli.md)")
    load.add_argument("file", type=Path)
    load.set_defaults(run=cmd_load)
    audit_cli.register(commands)
    interchange_cli.register(commands)
    for subcommand in commands.choices.values():  # `aidledger demo --db X` as well as `aidledger --db X demo`
        _accept_common_options(subcommand)
    return parser


def _accept_common_options(parser: argparse.ArgumentParser) -> None:
    """Let ``--db`` and ``--json`` follow the command too; SUPPRESS keeps the main parser's value."""
    known = parser._option_string_actions
    if "--db" not in known:
        parser.add_argument("--db", default=argparse.SUPPRESS, help="as before the command")
    if "--json" not in known:
        parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="as before the command")


def _as_of_options(parser: argparse.ArgumentParser, *, effective: bool = True) -> None:
    parser.add_argument("--position", type=int, metavar="N", help="only events at or before log position N")
    parser.add_argument("--recorded-before", metavar="TIME", help="only events recorded before TIME (ISO, with zone)")
    if effective:
        parser.add_argument("--effective-on", metavar="DATE", help="only what happened on or before DATE")


def _version() -> str:
    from importlib.metadata import version

    return version("aidledger")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    tty = sys.stdout.isatty()  # pipes and files get whole lines and wide tables
    console = Console(highlight=False, width=None if tty else 200, soft_wrap=not tty)
    try:
        result: int = args.run(args, console)
    except InvalidInput as error:
        return _fail(console, error, EXIT_INVALID)
    except NotFound as error:
        return _fail(console, error, EXIT_NOT_FOUND)
    except RuleViolation as error:
        return _fail(console, error, EXIT_RULE)
    except AidLedgerError as error:
        return _fail(console, error, EXIT_INTEGRITY)
    except OSError as error:
        return _fail(console, error, EXIT_INVALID)
    return result


def _fail(console: Console, error: BaseException, code: int) -> int:
    message = " ".join(str(error).split())  # one line, whatever the terminal's width
    sys.stderr.write(f"error: {type(error).__name__}: {message}\n")
    return code


def _open(args: argparse.Namespace, *, create: bool = False) -> AidLedger:
    is_url = str(args.db).startswith(("postgres://", "postgresql://"))
    if not create and not is_url and args.db != ":memory:" and not Path(args.db).exists():
        raise InvalidInput("--db", args.db, "an existing ledger file (run `aidledger demo` or `aidledger load` first)")
    return aidledger.open(args.db, recorded_by=os.environ.get("AIDLEDGER_USER", "cli"))


def _coordinates(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "position": args.position,
        "recorded_before": args.recorded_before,
        **({"effective_on": args.effective_on} if hasattr(args, "effective_on") else {}),
    }


def _print_json(report: Report | Any) -> None:
    data = report.model_dump(mode="json") if hasattr(report, "model_dump") else report
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


# -- demo ---------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    """Load the synthetic history (idempotently) and print DESIGN §9's tables."""
    records = list(demo_history.history())
    with _open(args, create=True) as ledger:
        before = ledger.position()
        _load_with_progress(ledger, records, console, quiet=args.json)
        by_category = projections.totals(ledger, ["category"], effective_on=demo_history.AS_OF)
        by_level = projections.totals(ledger, ["donor_level"], effective_on=demo_history.AS_OF)
        disclosure = projections.disclosure_status(ledger, demo_history.DISCLOSURE_ON)
        position = ledger.position()
    matches = _matches_design(by_category, "category") and _matches_design(by_level, "donor_level")
    if args.json:
        _print_json(
            {
                "position": position,
                "new_events": position - before,
                "reproduces_design": matches,
                "by_category": by_category.model_dump(mode="json"),
                "by_donor_level": by_level.model_dump(mode="json"),
                "disclosure_summary": disclosure.summary,
            }
        )
        return 0 if matches else 1
    console.print(
        "[bold]aidledger demo[/bold] — a [bold yellow]SYNTHETIC[/bold yellow] campaign history "
        "(invented organizations and amounts; real Hebei county codes)"
    )
    console.print(f"{len(records)} commands; {position - before} new events stored in {args.db}\n")
    console.print(_design_table(by_category, "category", "By category, as of 2018-08-31 (signed + intended)"))
    console.print(_design_table(by_level, "donor_level", "By donor level, as of 2018-08-31 (signed + intended)"))
    grand = by_category.totals[0]
    console.print(
        f"Total: {grand.projects} projects, {_yuan(grand.columns['pledged'])} yuan pledged "
        f"({_yuan(grand.columns['signed'])} signed, {_yuan(grand.columns['intended'])} intended)"
    )
    verdict = "[green]reproduces DESIGN §9 exactly[/green]" if matches else "[red]DOES NOT match DESIGN §9[/red]"
    console.print(f"Check: {verdict}\n")
    summary = ", ".join(f"{status} {count}" for status, count in disclosure.summary.items())
    console.print(f"Disclosure obligations on {demo_history.DISCLOSURE_ON}: {summary}")
    console.print(f"Log position: {position}   by-category report digest: sha256:{by_category.digest}\n")
    db = args.db
    console.print("Try next:")
    for line in (
        f"aidledger --db {db} report --by category --by year --effective-on 2018-08-31",
        f"aidledger --db {db} report --by county --columns pledged,net_disbursed,confirmed",
        f"aidledger --db {db} explain pledged --key category=direct_aid --effective-on 2018-08-31",
        f"aidledger --db {db} disclosure --on 2018-12-31 --status overdue",
        f"aidledger --db {db} show county 130722",
    ):
        console.print(f"  {line}")
    return 0 if matches else 1


def _load_with_progress(ledger: AidLedger, records: list[dict[str, Any]], console: Console, *, quiet: bool) -> None:
    columns = (TextColumn("loading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), disable=quiet, transient=False) as progress:
        task = progress.add_task("load", total=len(records))
        for record in records:
            run_command(ledger, record)
            progress.advance(task)


def _matches_design(report: TotalsReport, dimension: str) -> bool:
    expected = demo_history.EXPECTED[dimension]
    found = {row.key[dimension]: (row.projects, row.columns["pledged"]) for row in report.rows}
    return found == {k: (projects, Decimal(yuan)) for k, (projects, yuan) in expected.items()}


def _design_table(report: TotalsReport, dimension: str, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(dimension.replace("_", " "))
    table.add_column("projects", justify="right")
    table.add_column("yuan", justify="right")
    order = list(demo_history.EXPECTED[dimension])
    for row in sorted(report.rows, key=lambda r: order.index(r.key[dimension]) if r.key[dimension] in order else 99):
        table.add_row(row.key[dimension], str(row.projects), _yuan(row.columns["pledged"]))
    return table


# -- report, disclosure, explain, show, load -----------------------------------------------------


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    """Print totals grouped by the --by dimensions."""
    columns = [c.strip() for c in args.columns.split(",") if c.strip()]
    for column in columns:
        if column not in COLUMNS:
            raise InvalidInput("--columns", column, "a comma-separated list of " + ", ".join(COLUMNS))
    with _open(args) as ledger:
        report = projections.totals(ledger, args.by, **_coordinates(args))
    if args.json:
        _print_json(report)
    elif args.csv:
        sys.stdout.write(totals_csv(report, columns))
    else:
        console.print(_totals_table(report, columns))
        console.print(f"position {report.coordinates.position}  digest sha256:{report.digest}")
    return 0


def totals_csv(report: TotalsReport, columns: Iterable[str]) -> str:
    """A totals report as CSV: one line per row, the grand totals last."""
    columns = list(columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*report.group_by, "currency", *columns, "pledges", "projects", "organizations", "counties"])
    for row in [*report.rows, *report.totals]:
        key = [row.key.get(name, "(total)") for name in report.group_by]
        counts = [row.pledges, row.projects, row.organizations, row.counties]
        writer.writerow([*key, row.currency, *(row.columns[c] for c in columns), *counts])
    return out.getvalue()


def _totals_table(report: TotalsReport, columns: list[str]) -> Table:
    coordinates = report.coordinates
    title = f"Totals at position {coordinates.position}"
    if coordinates.effective_on:
        title += f", effective on or before {coordinates.effective_on}"
    table = Table(title=title, title_justify="left")
    for name in [*report.group_by, "currency", *columns, "projects"]:
        table.add_column(name.replace("_", " "), justify="left" if name in report.group_by else "right")
    for row in [*(report.rows if report.group_by else ()), *report.totals]:  # no grouping: the total once
        key = [_label(report, row.key.get(name, "total")) for name in report.group_by]
        table.add_row(*key, row.currency, *(_yuan(row.columns[c]) for c in columns), str(row.projects))
    return table


def _label(report: TotalsReport, value: str) -> str:
    label = report.labels.get(value)
    return f"{label} ({value[:8]})" if label else value


def cmd_disclosure(args: argparse.Namespace, console: Console) -> int:
    """Print obligations and their status on --on."""
    policy = None
    if args.campaign:
        policy = projections.DisclosurePolicy.campaign(args.campaign)
    with _open(args) as ledger:
        report = projections.disclosure_status(
            ledger, args.on, campaign_policy=policy, position=args.position, recorded_before=args.recorded_before
        )
    if args.status:  # a filtered report is another report: its summary and digest are its own
        kept = tuple(row for row in report.rows if row.status in args.status)
        summary = dict(sorted(Counter(row.status for row in kept).items()))
        report = report.model_copy(update={"rows": kept, "summary": summary}).sealed()
    rows = report.rows
    if args.json:
        _print_json(report)
        return 0
    table = Table(title=f"Disclosure obligations on {report.on}", title_justify="left")
    for name in ("project", "kind", "period end", "due on", "status", "days late"):
        table.add_column(name)
    for row in rows:
        table.add_row(row.project, row.kind, str(row.period_end), str(row.due_on), row.status, str(row.days_late))
    console.print(table)
    console.print("summary: " + ", ".join(f"{k} {v}" for k, v in report.summary.items()))
    for finding in report.findings:
        console.print(f"[yellow]finding:[/yellow] {finding}")
    console.print(f"position {report.coordinates.position}  digest sha256:{report.digest}")
    return 0


ID_DIMENSIONS = {
    "donor": "donor_id",
    "channel": "channel_id",
    "implementer": "organization_id",
    "project": "project_id",
}


def _key(pairs: list[str]) -> dict[str, str]:
    """A report row's key; organizations and projects may be named by their creating command id."""
    key = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:
            raise InvalidInput("--key", pair, "DIMENSION=VALUE, e.g. category=capacity")
        name, value = name.strip(), value.strip()
        if name in ID_DIMENSIONS:
            field = ID_DIMENSIONS[name]
            value = resolve_references({field: value})[field]
        key[name] = value
    return key


def cmd_explain(args: argparse.Namespace, console: Console) -> int:
    """Print the contributions to one figure."""
    with _open(args) as ledger:
        explanation = projections.explain(ledger, args.column, _key(args.key), args.currency, **_coordinates(args))
    if args.json:
        _print_json(explanation)
        return 0
    table = Table(
        title=f"{args.column} {explanation.key or '(grand total)'} = {_yuan(explanation.value)} {explanation.currency}",
        title_justify="left",
    )
    for name in ("position", "event", "effective on", "pledge", "amount"):
        table.add_column(name, justify="right" if name in ("position", "amount") else "left")
    for c in explanation.contributions:
        table.add_row(str(c.position), c.event, str(c.effective_on), str(c.pledge_id)[:8], _yuan(c.amount))
    console.print(table)
    console.print(f"{len(explanation.contributions)} contributions; position {explanation.coordinates.position}")
    return 0


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    """Print a public page as JSON (pages are data)."""
    subject = args.subject
    if args.kind in ("project", "organization"):
        subject = resolve_references({f"{args.kind}_id": subject})[f"{args.kind}_id"]
    with _open(args) as ledger:
        page = projections.transparency(ledger, args.kind, subject, on=args.on, **_coordinates(args))
    _print_json(page)
    return 0


def _at_line(number: int, error: AidLedgerError) -> AidLedgerError:
    """The same error, its message prefixed with the file's line number."""
    if isinstance(error, InvalidInput):
        problems = tuple(f"line {number}: {problem}" for problem in error.problems)
        return InvalidInput(error.field, error.value, error.accepted, problems=problems)
    return type(error)(f"line {number}: {error}")


def cmd_load(args: argparse.Namespace, console: Console) -> int:
    """Run every command record of a JSON Lines file, in order (idempotent by command id)."""
    path: Path = args.file
    if not path.is_file():
        raise InvalidInput("file", str(path), "an existing JSON Lines file")
    with path.open(encoding="utf-8-sig") as stream:
        records = list(read_jsonl(stream))
    with _open(args, create=True) as ledger:
        before = ledger.position()
        for number, record in records:
            try:
                run_command(ledger, record)
            except AidLedgerError as error:
                raise _at_line(number, error) from None
        after = ledger.position()
    summary = {"records": len(records), "new_events": after - before, "position": after}
    if args.json:
        _print_json(summary)
    else:
        console.print(f"{len(records)} records run; {after - before} new events; log position {after}")
    return 0
