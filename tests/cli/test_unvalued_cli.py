"""An unvalued gift on the command line (issue 11 item 4): 370,000 items of clothing, no value assessed.

The report counts it as one gift, says it is unvalued, and shows no money for it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from aidledger.cli import main

HEADER = (
    "command,command_id,effective_on,recorded_by,name,kind,level,home_region,title,implementing_organization_id,"
    "region,category,field,planned_start,planned_end,donor_id,project_id,amount,items"
)
CLOTHING = "\n".join(
    [
        HEADER,
        "register_organization,org-1,2018-01-02,录入员,示例服装商会（虚构）,social_group,provincial,130000,,,,,,,,,,,",
        "register_project,prj-1,2018-01-03,录入员,,,,,围场县冬衣捐赠（虚构）,org-1,130828,direct_aid,other,"
        "2018-01-01,2018-12-31,,,,",
        "make_pledge,pl-1,2018-02-01,录入员,,,,,,,,,,,,org-1,prj-1,,冬衣（虚构）|370000|件",
        "",
    ]
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def clothing_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    source = tmp_path / "clothing.csv"
    source.write_text(CLOTHING, encoding="utf-8")
    db = str(tmp_path / "ledger.db")
    code, _, err = run(capsys, "--db", db, "import", str(source))
    assert code == 0, err
    return db


def test_the_report_counts_one_unvalued_gift_and_shows_no_money(
    clothing_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", clothing_db, "report", "--json")
    assert code == 0
    (grand,) = json.loads(out)["totals"]
    assert (grand["pledges"], grand["projects"], grand["counties"], grand["unvalued_gifts"]) == (1, 1, 1, 1)
    assert set(grand["columns"].values()) == {"0.00"}
    code, out, _ = run(capsys, "--db", clothing_db, "report")
    assert code == 0 and "unvalued gifts" in out
    (new_money,) = [line for line in out.splitlines() if "new money" in line]
    cells = [cell.strip() for cell in new_money.split("│") if cell.strip()]
    assert cells[-2:] == ["1", "1"]  # projects, unvalued gifts
    assert "370,000" not in out and "370000" not in out  # a quantity is never shown as money


def test_the_csv_report_has_an_unvalued_gifts_column(clothing_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", clothing_db, "report", "--csv", "--by", "county")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert [(r["row"], r["county"], r["pledged"], r["unvalued_gifts"]) for r in rows[:2]] == [
        ("group", "130828", "0.00", "1"),
        ("total_new_money", "(total new money)", "0.00", "1"),
    ]


def test_money_against_the_unvalued_gift_is_refused_in_one_line(
    clothing_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "money.jsonl"
    record = {"command": "disburse", "command_id": "d-1", "effective_on": "2018-03-01", "recorded_by": "录入员",
              "pledge_id": "pl-1", "amount": "100.00"}  # fmt: skip
    source.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "--db", clothing_db, "import", str(source))
    assert code != 0
    assert "UnvaluedGiftMismatch" in err and "370000 件 冬衣（虚构）" in err and "Traceback" not in err + out
