"""The ledger's own commands: demo, report, disclosure, explain, show."""

from __future__ import annotations

import argparse
import io
import sys
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from aidledger import demo as demo_history
from aidledger import projections
from aidledger.application.ledger import AidLedger
from aidledger.application.references import resolve_references
from aidledger.cli.common import (
    add_command,
    as_of_options,
    cell,
    coordinates,
    for_terminal,
    open_ledger,
    print_json,
    printable,
    replacing_file,
    yuan,
)
from aidledger.domain import divisions
from aidledger.errors import InvalidInput
from aidledger.interchange.commands import run_command
from aidledger.interchange.csvformat import SpreadsheetWriter
from aidledger.interchange.workbook import LANGUAGES, REGION_DIMENSIONS, write_totals_workbook
from aidledger.projections.columns import COLUMNS
from aidledger.projections.disclosure_rules import ObligationState
from aidledger.projections.totals import DIMENSIONS, TOTAL_KEYS, TotalsReport, has_other_flows, published_rows

__all__ = ["register", "totals_csv"]


def register(commands: Any) -> None:
    """Add the ledger's commands to the main parser's subcommands."""
    add_command(commands, "demo", "load the SYNTHETIC example campaign and print its figures", cmd_demo)

    report = add_command(commands, "report", "totals of every stage column, grouped and as of any point", cmd_report)
    report.add_argument("--by", action="append", default=[], metavar="DIMENSION", help=", ".join(DIMENSIONS))
    report.add_argument("--csv", action="store_true", help="print CSV")
    report.add_argument(
        "--xlsx", type=Path, metavar="FILE", help="also write the report as a workbook (docs/export.md)"
    )
    report.add_argument("--lang", choices=LANGUAGES, default="zh", help="the workbook's headers: zh (default) or en")
    report.add_argument(
        "--keeper-view",
        action="store_true",
        help="file anonymous pledges under their donor's level, kind and province (not for publication)",
    )
    report.add_argument(
        "--columns", default="pledged,signed,intended,net_disbursed,outstanding", help="columns to show"
    )
    as_of_options(report)

    disclosure = add_command(
        commands, "disclosure", "disclosure obligations and their status on a date", cmd_disclosure
    )
    disclosure.add_argument("--on", required=True, metavar="DATE", help="evaluate on this date (YYYY-MM-DD)")
    disclosure.add_argument("--status", action="append", default=[], help="only these statuses (repeatable)")
    disclosure.add_argument("--campaign", help="apply a campaign policy that binds every participant of CAMPAIGN")
    as_of_options(disclosure, effective=False)

    explain = add_command(commands, "explain", "the events that add up to one figure", cmd_explain)
    explain.add_argument("column", choices=COLUMNS)
    explain.add_argument("--key", action="append", default=[], metavar="DIMENSION=VALUE", help="the report row")
    explain.add_argument("--currency", default="CNY")
    as_of_options(explain)

    show = add_command(commands, "show", "a public transparency page: project, organization or county", cmd_show)
    show.add_argument("kind", choices=["project", "organization", "county"])
    show.add_argument("subject", help="a project or organization id (or its creating command id), or a county code")
    show.add_argument("--on", metavar="DATE", help="date for an organization's disclosure record")
    as_of_options(show)


# -- demo ---------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    """Load the synthetic history (idempotently) and print DESIGN §9's tables."""
    records = list(demo_history.history())
    with open_ledger(args, create=True) as ledger:
        before = ledger.position()
        _load_with_progress(ledger, records, console, quiet=args.json)
        by_category = projections.totals(ledger, ["category"], effective_on=demo_history.AS_OF)
        by_level = projections.totals(ledger, ["donor_level"], effective_on=demo_history.AS_OF, keeper_view=True)
        disclosure = projections.disclosure_status(ledger, demo_history.DISCLOSURE_ON)
        position = ledger.position()
    matches = _matches_design(by_category, "category") and _matches_design(by_level, "donor_level")
    if args.json:
        print_json(
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
    level_title = "By donor level, as of 2018-08-31 (signed + intended; the keeper's view)"
    console.print(_design_table(by_level, "donor_level", level_title))
    grand = by_category.totals[0]
    new_money, passed = grand.new_money, grand.passed_through
    console.print(
        f"Total: {grand.projects} projects, {yuan(new_money['pledged'])} yuan of new money pledged, counted once "
        f"({yuan(new_money['signed'])} signed, {yuan(new_money['intended'])} intended); "
        f"{yuan(passed['pledged'])} passed through pooled funds, not added"
        + "".join(f"; {yuan(f['pledged'])} {flow}, not a donation" for flow, f in grand.other_flows.items())
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
        table.add_row(row.key[dimension], str(row.projects), yuan(row.columns["pledged"]))
    return table


# -- report, disclosure, explain, show, load -----------------------------------------------------


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    """Print totals grouped by the --by dimensions."""
    columns = [c.strip() for c in args.columns.split(",") if c.strip()]
    for column in columns:
        if column not in COLUMNS:
            raise InvalidInput("--columns", column, "a comma-separated list of " + ", ".join(COLUMNS))
    with open_ledger(args) as ledger:
        report = projections.totals(ledger, args.by, keeper_view=args.keeper_view, **coordinates(args))
    if args.xlsx is not None:
        with replacing_file(args.xlsx) as partial:
            write_totals_workbook(report, partial, lang=args.lang)
    if args.json:
        print_json(report)
    elif args.csv:
        for_terminal(sys.stdout).write(totals_csv(report, columns))
    else:
        console.print(_totals_table(report, columns))
        console.print(f"position {report.coordinates.position}  digest sha256:{report.digest}")
    return 0


def totals_csv(report: TotalsReport, columns: Iterable[str]) -> str:
    """A totals report as CSV: one line per group and flow, then the headline (new money) and, apart,
    pass-through and the other flows.

    The ``row`` and ``flow`` columns say which is which (``PUBLISHED_ROWS``): the ``group`` rows of
    one flow add up.
    """
    columns = list(columns)
    out = io.StringIO()
    writer = SpreadsheetWriter(out, lineterminator="\n")
    header = ["row", "flow", *report.group_by, "currency", *columns, "pledges", "projects", "organizations", "counties"]
    writer.writerow(header)
    for published in published_rows(report):
        kind, flow, row, figures = published
        key = [row.key.get(name, TOTAL_KEYS[kind]) for name in report.group_by]
        counts = [row.pledges, row.projects, row.organizations, row.counties] if published.counted else []
        writer.writerow([kind, flow, *key, row.currency, *(figures[c] for c in columns), *counts])
    return out.getvalue()


_TOTAL_LABELS = {
    "total_new_money": "total new money (counted once)",
    "total_passed_through": "passed through (not in total)",
    "total_other_flow": "total {flow} (not a donation)",
}
_HEADLINE_LABELS = {
    "total_new_money": "new money (counted once)",
    "total_passed_through": "passed through pools (not added)",
    "total_other_flow": "{flow} (not a donation, not added)",
}


def _totals_table(report: TotalsReport, columns: list[str]) -> Table:
    coordinates = report.coordinates
    title = f"Totals at position {coordinates.position}"
    if coordinates.effective_on:
        title += f", effective on or before {coordinates.effective_on}"
    if report.keeper_view:
        title += " (keeper's view: anonymous pledges under their donors' attributes; not for publication)"
    table = Table(title=title, title_justify="left")
    keys = list(report.group_by) or ["money"]
    flows = has_other_flows(report) and bool(report.group_by)
    for name in [*keys, *(["flow"] if flows else []), "currency", *columns, "projects"]:
        table.add_column(name.replace("_", " "), justify="left" if name in keys else "right")
    for published in published_rows(report):
        kind, flow, row, figures = published
        key: list[Text | str]
        if kind == "group":
            key = [_label(report, name, row.key[name]) for name in keys]
        else:
            labels = _TOTAL_LABELS if report.group_by else _HEADLINE_LABELS
            key = [labels[kind].format(flow=flow), *([""] * (len(keys) - 1))]
        projects = str(row.projects) if published.counted else ""
        figures_shown = [yuan(figures[c]) for c in columns]
        table.add_row(*key, *([flow] if flows else []), row.currency, *figures_shown, projects)
    return table


def _label(report: TotalsReport, dimension: str, value: str) -> Text:
    label = report.labels.get(value)
    if label:
        return cell(f"{label} ({value[:8]})")
    name = divisions.name_of(value) if dimension in REGION_DIMENSIONS else None
    return cell(f"{value} {name}" if name else value)


def cmd_disclosure(args: argparse.Namespace, console: Console) -> int:
    """Print obligations and their status on --on."""
    statuses = [state.value for state in ObligationState]
    for status in args.status:
        if status not in statuses:
            raise InvalidInput("--status", status, "one of " + ", ".join(statuses))
    policy = None
    if args.campaign:
        policy = projections.DisclosurePolicy.campaign(args.campaign)
    with open_ledger(args) as ledger:
        report = projections.disclosure_status(
            ledger, args.on, campaign_policy=policy, position=args.position, recorded_before=args.recorded_before
        )
    if args.status:  # a filtered report is another report: its summary and digest are its own
        kept = tuple(row for row in report.rows if row.status in args.status)
        summary = dict(sorted(Counter(row.status for row in kept).items()))
        report = report.model_copy(update={"rows": kept, "summary": summary}).sealed()
    rows = report.rows
    if args.json:
        print_json(report)
        return 0
    table = Table(title=f"Disclosure obligations on {report.on}", title_justify="left")
    for name in ("project", "kind", "period end", "due on", "status", "days late"):
        table.add_column(name)
    for row in rows:
        table.add_row(cell(row.project), row.kind, str(row.period_end), str(row.due_on), row.status, str(row.days_late))
    console.print(table)
    console.print("summary: " + ", ".join(f"{k} {v}" for k, v in report.summary.items()))
    for finding in report.findings:
        console.print(f"[yellow]finding:[/yellow] {escape(printable(finding))}")
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
    with open_ledger(args) as ledger:
        explanation = projections.explain(ledger, args.column, _key(args.key), args.currency, **coordinates(args))
    if args.json:
        print_json(explanation)
        return 0
    title = f"{args.column} {explanation.key or '(grand total)'} = {yuan(explanation.value)} {explanation.currency}"
    table = Table(title=escape(printable(title)), title_justify="left")
    for name in ("position", "event", "effective on", "pledge", "amount"):
        table.add_column(name, justify="right" if name in ("position", "amount") else "left")
    for c in explanation.contributions:
        table.add_row(str(c.position), c.event, str(c.effective_on), str(c.pledge_id)[:8], yuan(c.amount))
    console.print(table)
    console.print(f"{len(explanation.contributions)} contributions; position {explanation.coordinates.position}")
    return 0


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    """Print a public page as JSON (pages are data)."""
    subject = args.subject
    if args.kind in ("project", "organization"):
        subject = resolve_references({f"{args.kind}_id": subject})[f"{args.kind}_id"]
    with open_ledger(args) as ledger:
        page = projections.transparency(ledger, args.kind, subject, on=args.on, **coordinates(args))
    print_json(page)
    return 0
