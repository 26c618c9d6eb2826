"""Export of every view as JSON and CSV, each naming the coordinates it was taken at."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import aidledger
from aidledger import AidLedger, projections
from aidledger.errors import InvalidInput
from aidledger.interchange.export import COORDINATE_COLUMNS, VIEWS, export
from aidledger.interchange.importer import import_file

TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "import-template.csv"
COMPANY = "示例科技有限公司（虚构）"
"""The template's donor that pledged once anonymously (to the school) and once by name."""


@pytest.fixture(scope="module")
def ledger() -> Iterator[AidLedger]:
    """The import template, loaded once."""
    with aidledger.open(":memory:", recorded_by="tester") as opened:
        import_file(opened, TEMPLATE)
        yield opened


def exported(ledger: AidLedger, file_format: str, view: str, **options: Any) -> str:
    out = io.StringIO()
    export(ledger, out, file_format=file_format, view=view, **options)
    return out.getvalue()


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_exports_as_json_naming_its_log_position_and_merkle_root(ledger: AidLedger, view: str) -> None:
    """The JSON carries the coordinates: position and the checkpoint root."""
    text = exported(ledger, "json", view)
    if view == "events":
        head = json.loads(text.splitlines()[0])["#export"]
        coordinates = head["coordinates"]
    else:
        coordinates = json.loads(text)["coordinates"]
    assert coordinates["position"] == ledger.position() == 44
    assert len(coordinates["root"]) == 64


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_exports_as_csv_with_coordinate_note_columns(ledger: AidLedger, view: str) -> None:
    """Each CSV row ends with #as_of_position, #as_of_root... columns an import ignores."""
    rows = csv_rows(exported(ledger, "csv", view))
    assert rows
    assert list(rows[0])[-len(COORDINATE_COLUMNS) :] == list(COORDINATE_COLUMNS)
    for row in rows:
        assert row["#as_of_position"] == "44"
        assert len(row["#as_of_root"]) == 64


def test_totals_csv_has_the_figures_of_the_totals_report(ledger: AidLedger) -> None:
    """Rows per group with names for id dimensions, then the grand total, with the report's digest."""
    report = projections.totals(ledger, ["donor", "category"])
    rows = csv_rows(exported(ledger, "csv", "totals", group_by=["donor", "category"]))
    grand = [row for row in rows if row["donor"] == "(total new money)"]
    assert len(grand) == 1 and grand[0]["row"] == "total_new_money"
    assert Decimal(grand[0]["pledged"]) == report.totals[0].new_money["pledged"]
    assert Decimal(grand[0]["net_disbursed"]) == report.totals[0].new_money["net_disbursed"]
    assert [row["row"] for row in rows if row["donor"] == "(passed through)"] == ["total_passed_through"]
    assert {row["#report_digest"] for row in rows} == {report.digest}
    assert "河北省示例慈善基金会（虚构）" in {row["donor_name"] for row in rows}


def test_page_views_export_one_page_per_subject(ledger: AidLedger) -> None:
    """Four projects, four organizations, three counties (the pooled fund has none)."""
    counts = {view: len(json.loads(exported(ledger, "json", view))["pages"]) for view in ("project", "organization")}
    counties = [page["county"] for page in json.loads(exported(ledger, "json", "county"))["pages"]]
    assert counts == {"project": 4, "organization": 4}
    assert counties == ["130722", "130821", "130828"]


def test_a_single_page_by_command_id(ledger: AidLedger) -> None:
    """--subject takes a project's creating command id."""
    page = json.loads(exported(ledger, "json", "project", subject="prj-school"))
    assert page["title"] == "张北县乡村小学助学项目（虚构）"
    rows = csv_rows(exported(ledger, "csv", "project", subject="prj-school"))
    assert [row["title"] for row in rows] == ["张北县乡村小学助学项目（虚构）"]
    assert rows[0]["fulfilment_rate"] == "0.7391"  # (120000 + 50000.50) / (180000 + 50000.50)


def test_an_anonymous_donor_is_not_named_on_the_project_it_gave_to_anonymously(ledger: AidLedger) -> None:
    """The school's page shows the company's pledge as anonymous, in JSON and CSV."""
    page = exported(ledger, "json", "project", subject="prj-school")
    assert COMPANY not in page
    assert "anonymous" in page
    assert COMPANY not in exported(ledger, "csv", "project", subject="prj-school")


def test_totals_by_donor_do_not_reveal_an_anonymous_pledge(ledger: AidLedger) -> None:
    """The company's named row holds only its named pledge (8,000), not its anonymous 50,000.50."""
    rows = csv_rows(exported(ledger, "csv", "totals", group_by=["donor"]))
    company = [row for row in rows if row["donor_name"] == COMPANY]
    assert [Decimal(row["pledged"]) for row in company] == [Decimal("8000.00")]


def test_events_export_is_the_import_format_up_to_a_position(ledger: AidLedger) -> None:
    """Command records referring by command id; --position cuts the history at a command boundary."""
    lines = exported(ledger, "json", "events", position=4).splitlines()
    assert json.loads(lines[0])["#export"]["coordinates"]["position"] == 4
    records = [json.loads(line) for line in lines[1:]]
    assert [r["command_id"] for r in records] == ["org-foundation", "org-chamber", "org-hub", "org-company"]
    later = [json.loads(line) for line in exported(ledger, "json", "events").splitlines()[1:]]
    pledge = next(r for r in later if r["command_id"] == "pl-company")
    assert (pledge["donor_id"], pledge["channel_id"], pledge["amount"]) == ("org-company", "org-hub", "50000.50")


def test_csv_exports_name_effective_on_coordinates(ledger: AidLedger) -> None:
    """As-of options are carried into the note columns."""
    rows = csv_rows(exported(ledger, "csv", "county", effective_on="2018-03-01"))
    assert {row["#as_of_effective_on"] for row in rows} == {"2018-03-01"}


def test_the_county_csv_names_the_county_its_city_and_province(ledger: AidLedger) -> None:
    """Names from the ministry's list stand beside the code, one column each."""
    rows = csv_rows(exported(ledger, "csv", "county"))
    named = {(r["county"], r["county_name"], r["city_name"], r["province_name"]) for r in rows}
    assert ("130722", "张北县", "张家口市", "河北省") in named


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"view": "project", "group_by": ["donor"]}, "grouping only with --view totals"),
        ({"view": "totals", "subject": "prj-school"}, "a subject only with --view project"),
        ({"view": "events", "effective_on": "2018-03-01"}, "only --position"),
        ({"view": "ledger"}, "one of totals, project, organization, county, events"),
        ({"view": "totals", "group_by": ["colour"]}, "one of"),
        ({"view": "totals", "file_format": "xlsx"}, "one of json, csv, iati"),
        ({"view": "organization", "file_format": "iati"}, "project (IATI activities are projects)"),
        ({"view": "totals", "file_format": "iati"}, "project (IATI activities are projects)"),
        ({"view": "totals", "reporting_org": "org-hub"}, "only with --format iati"),
    ],
)
def test_impossible_export_options_are_refused(ledger: AidLedger, options: dict[str, Any], words: str) -> None:
    """Each names the option and what would be accepted."""
    options.setdefault("file_format", "json")
    with pytest.raises(InvalidInput, match=words.replace("(", r"\(").replace(")", r"\)")):
        export(ledger, io.StringIO(), **options)
