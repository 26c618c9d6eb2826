"""CSV formula injection: no CSV the ledger writes starts a text cell with ``= + - @``, tab or CR.

A spreadsheet runs a cell that starts with one of them as a formula (``=cmd|' /C calc'!A0``
starts a program on some setups). As OWASP recommends, such a cell is written with a leading
apostrophe; the stored value is unchanged, numbers the ledger writes stay numbers, and an import
of the CSV removes the apostrophe again, so an exported history imports back to the same events.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

import aidledger
from aidledger import AidLedger
from aidledger.cli import main
from aidledger.interchange.csvformat import neutralise_cell, restore_cell
from aidledger.interchange.export import export
from aidledger.interchange.importer import import_file

FORMULAS = {
    "donor": "=cmd|' /C calc'!A0",
    "title": "+SUM(1+1)",
    "campaign": "@camp",
    "implementer": "-2+3",
    "quoted": "'=already quoted",
    "reason": "=1+1",
    "item": '=HYPERLINK("http://x")',
}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[AidLedger]:
    """A ledger whose names, title, campaign, reason and item start like formulas."""
    with aidledger.open(tmp_path / "ledger.db", recorded_by="tester") as ledger:
        region = {"kind": "foundation", "level": "provincial", "home_region": "130000", "effective_on": "2018-01-02"}
        donor = ledger.register_organization(name=FORMULAS["donor"], command_id="org-1", **region).aggregate_id
        implementer = ledger.register_organization(name=FORMULAS["implementer"], command_id="org-2", **region)
        ledger.register_organization(name=FORMULAS["quoted"], command_id="org-3", **region)
        project = ledger.register_project(
            title=FORMULAS["title"],
            implementing_organization_id=implementer.aggregate_id,
            region="130722",
            category="capacity",
            field="industry",
            campaigns=[FORMULAS["campaign"]],
            planned_start="2018-03-01",
            planned_end="2018-12-31",
            effective_on="2018-02-01",
            command_id="prj-1",
        ).aggregate_id
        items = [{"description": FORMULAS["item"], "quantity": "2", "unit": "床"}]
        pledge = ledger.make_pledge(
            donor_id=donor, project_id=project, amount="100.00", items=items, effective_on="2018-03-05"
        ).aggregate_id
        ledger.amend_pledge(pledge_id=pledge, amount="50.00", reason=FORMULAS["reason"], effective_on="2018-04-01")
        yield ledger


def rows(text: str) -> list[list[str]]:
    """The cells of a CSV text."""
    return list(csv.reader(io.StringIO(text)))


def assert_no_formula(text: str) -> None:
    """No cell starts with a trigger unless it is a plain number; the formulas are there, quoted."""
    cells = [cell for row in rows(text) for cell in row]
    for cell in cells:
        if cell.startswith(TRIGGERS):
            assert cell.lstrip("-").replace(".", "", 1).isdigit(), f"a cell starts a formula: {cell!r}"


def exported(ledger: AidLedger, view: str, **options: object) -> str:
    """The CSV export of ``view``."""
    out = io.StringIO()
    export(ledger, out, file_format="csv", view=view, **options)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize(
    ("view", "options", "shown"),
    [
        ("totals", {"group_by": ["donor"]}, ["'" + FORMULAS["donor"]]),
        ("totals", {"group_by": ["project", "campaign"]}, ["'" + FORMULAS["title"], "'" + FORMULAS["campaign"]]),
        ("totals", {"group_by": ["implementer"]}, ["'" + FORMULAS["implementer"]]),
        ("project", {}, ["'" + FORMULAS["title"], "'" + FORMULAS["campaign"], "'" + FORMULAS["implementer"]]),
        ("organization", {}, ["'" + FORMULAS["donor"], "''=already quoted"]),
        ("events", {}, ["'" + FORMULAS["donor"], "'" + FORMULAS["reason"], '\'=HYPERLINK("http://x")|2|床']),
    ],
)
def test_every_csv_export_writes_formula_like_text_with_a_leading_apostrophe(
    hostile: AidLedger, view: str, options: dict[str, object], shown: list[str]
) -> None:
    """Totals, project, organization and events CSV: each hostile cell is quoted, none starts a formula."""
    text = exported(hostile, view, **options)
    assert_no_formula(text)
    cells = {cell for row in rows(text) for cell in row}
    for cell in shown:
        assert cell in cells


def test_report_csv_writes_formula_like_text_with_a_leading_apostrophe(
    hostile: AidLedger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``aidledger report --csv`` is a CSV export too."""
    hostile.close()
    assert main(["--db", str(tmp_path / "ledger.db"), "report", "--by", "campaign", "--csv"]) == 0
    text = capsys.readouterr().out
    assert_no_formula(text)
    assert "'" + FORMULAS["campaign"] in {cell for row in rows(text) for cell in row}


def test_numbers_the_ledger_writes_stay_numbers() -> None:
    """Amounts, counts and a negative change are not text: they are never quoted."""
    for number in ("-5.00", "-5", "100.00", "0", "12"):
        assert neutralise_cell(number) == number
    assert neutralise_cell("-5.00 CNY") == "'-5.00 CNY"
    assert neutralise_cell("+5") == "'+5"


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-x", "@a", "\tx", "\rx", "'=1", "''=1", "'plain'", "plain", "", "'", "-5.00", "'-5"]
)
def test_an_import_reads_back_exactly_what_was_exported(text: str) -> None:
    """restore_cell undoes neutralise_cell on any text; a cell never quoted is read as it is."""
    assert restore_cell(neutralise_cell(text)) == text
    assert not neutralise_cell(text).startswith(TRIGGERS) or neutralise_cell(text) == text


def test_an_exported_history_imports_back_to_the_same_events(hostile: AidLedger, tmp_path: Path) -> None:
    """Events CSV out, import into an empty ledger, events out again: identical, formulas and all."""
    first = exported(hostile, "events")
    path = tmp_path / "history.csv"
    path.write_text(first, encoding="utf-8", newline="")
    with aidledger.open(tmp_path / "copy.db", recorded_by="tester") as copy:
        import_file(copy, path)
        organization = copy.organization(aidledger.derive_id("organization", "org-3"))
        assert organization.profile.name == FORMULAS["quoted"]
        second = exported(copy, "events")
    body = [row[:-5] for row in rows(first)]  # without the coordinate notes (the roots differ only by time)
    assert body == [row[:-5] for row in rows(second)]


def test_a_rejects_file_quotes_formulas_and_imports_back_as_the_original(hostile: AidLedger, tmp_path: Path) -> None:
    """The rejects file of a CSV import is opened in a spreadsheet to be fixed: it is quoted too."""
    source = tmp_path / "rows.csv"
    source.write_text(
        "command,command_id,effective_on,name,kind,level,home_region\n"
        "register_organization,org-9,2018-01-02,=evil()+1,foundation,provincial,13000\n",
        encoding="utf-8",
    )
    summary = import_file(hostile, source, skip_invalid=True)
    assert summary.rejected == 1
    rejects = Path(str(summary.rejects_file)).read_text(encoding="utf-8-sig")
    assert_no_formula(rejects)
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(rejects.replace(",13000", ",130000"), encoding="utf-8")
    import_file(hostile, fixed)
    assert hostile.organization(aidledger.derive_id("organization", "org-9")).profile.name == "=evil()+1"
