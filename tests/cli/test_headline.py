"""The headline counts money once, where it enters (DESIGN §3 rule 7, issue 11 item 1).

Five donors give 100,000 each to a support organization's pooled fund, which regrants 450,000 of
it to three county projects. 500,000 entered; 450,000 was passed on. No headline may say 950,000.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from tests.ledger_fixtures import disburse, make_pledge, register_organization, register_pooled_fund, register_project

import aidledger
from aidledger.cli import main

REGRANTS = (
    (0, 0, "100000.00"),
    (1, 0, "50000.00"),
    (1, 1, "50000.00"),
    (2, 1, "100000.00"),
    (3, 2, "100000.00"),
    (4, 2, "50000.00"),
)
"""(source pledge, county project, amount): 450,000 passed on from the pool to three counties."""


@pytest.fixture(scope="module")
def pooled_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("headline") / "pooled.db")
    with aidledger.open(db, recorded_by="tester") as ledger:
        hub = register_organization(ledger, name="张家口市社会组织服务中心", kind="social_service_agency")
        fund = register_pooled_fund(ledger, hub)
        donors = [register_organization(ledger, name=f"捐赠企业{n}", kind="enterprise") for n in range(5)]
        sources = [make_pledge(ledger, donor, fund, "100000.00") for donor in donors]
        for pledge in sources:
            disburse(ledger, pledge, "100000.00", effective_on="2018-03-20")
        counties = [
            register_project(ledger, hub, title=f"项目{n}", region=region)
            for n, region in enumerate(("130722", "130723", "130724"))
        ]
        for source, county, amount in REGRANTS:
            make_pledge(ledger, hub, counties[county], amount, funded_from=sources[source], effective_on="2018-04-01")
    return db


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def lines_with(out: str, word: str) -> list[str]:
    return [line for line in out.splitlines() if word in line]


def test_the_ungrouped_report_leads_with_new_money_and_shows_pass_through_apart(
    pooled_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "--db", pooled_db, "report")
    assert code == 0
    assert "950,000" not in out
    (new,) = lines_with(out, "new money")
    assert "500,000.00" in new and "counted once" in new
    (passed,) = lines_with(out, "passed through")
    assert "450,000.00" in passed
    assert out.index("new money") < out.index("passed through")


def test_a_grouped_report_totals_new_money_and_names_what_the_rows_pass_on(
    pooled_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "--db", pooled_db, "report", "--by", "county")
    assert code == 0
    assert "950,000" not in out
    (total,) = lines_with(out, "total new money")
    assert "500,000.00" in total
    (passed,) = lines_with(out, "passed through")
    assert "450,000.00" in passed


@pytest.mark.parametrize(
    "argv", [("report", "--csv"), ("report", "--csv", "--by", "county"), ("export", "--format", "csv")]
)
def test_csv_grand_totals_say_which_row_is_new_money(
    pooled_db: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    code, out = run(capsys, "--db", pooled_db, *argv)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    totals = {row["row"]: row for row in rows if row["row"] != "group"}
    assert list(totals) == ["total_new_money", "total_passed_through"]
    assert whole_yuan(totals["total_new_money"]["pledged"]) == 500_000
    assert whole_yuan(totals["total_passed_through"]["pledged"]) == 450_000
    groups = [row for row in rows if row["row"] == "group"]
    assert sum(whole_yuan(row["pledged"]) for row in groups) == (950_000 if "--by" in argv else 0)


def whole_yuan(text: str) -> int:
    yuan, cents = text.split(".")
    assert cents == "00"
    return int(yuan)


def test_the_json_report_names_its_headline(pooled_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--db", pooled_db, "report", "--json")
    assert code == 0
    (grand,) = json.loads(out)["totals"]
    assert grand["new_money"]["pledged"] == "500000.00"
    assert grand["passed_through"]["pledged"] == "450000.00"


def test_the_demo_summary_line_counts_new_money(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "demo", "--db", str(tmp_path / "d.db"))
    assert code == 0
    (total,) = lines_with(out, "Total:")
    assert "new money" in total and "counted once" in total
