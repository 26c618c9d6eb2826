"""A regrant that names its pooled fund, on the command line (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aidledger.cli import main

HEADER = (
    "command,command_id,effective_on,recorded_by,name,kind,level,home_region,title,implementing_organization_id,"
    "region,pooled_fund,category,field,planned_start,planned_end,donor_id,project_id,amount,funded_from_pool,pledge_id"
)
SETUP = [
    "register_organization,hub,2018-01-02,录入员,示例枢纽（虚构）,foundation,provincial,130000,,,,,,,,,,,,,",
    "register_project,fund,2018-01-03,录入员,,,,,示例联合基金（虚构）,hub,,true,direct_aid,other,2018-01-01,"
    "2018-12-31,,,,,",
    "register_project,leaf,2018-01-03,录入员,,,,,示例项目（虚构）,hub,130721,,direct_aid,other,2018-01-01,"
    "2018-12-31,,,,,",
    "make_pledge,in-1,2018-02-01,录入员,,,,,,,,,,,,,hub,fund,400.00,,",
    "make_pledge,in-2,2018-02-01,录入员,,,,,,,,,,,,,hub,fund,100.00,,",
    "disburse,pay-2,2018-02-05,录入员,,,,,,,,,,,,,,,100.00,,in-2",
    "disburse,pay-1,2018-02-10,录入员,,,,,,,,,,,,,,,400.00,,in-1",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path: Path, name: str, rows: list[str]) -> str:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return str(path)


def test_a_regrant_from_the_pool_is_imported_and_reported_as_passed_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "ledger.db")
    regrant = "make_pledge,out-1,2018-03-01,录入员,,,,,,,,,,,,,hub,leaf,250.00,fund,"
    code, _, err = run(capsys, "--db", db, "import", write(tmp_path, "pool.csv", [*SETUP, regrant]))
    assert code == 0, err
    code, out, _ = run(capsys, "--db", db, "report", "--json")
    (grand,) = json.loads(out)["totals"]
    assert grand["new_money"]["pledged"] == "500.00"
    assert grand["passed_through"]["pledged"] == "250.00"
    assert grand["pledges"] == 3


def test_a_regrant_for_more_than_the_pool_holds_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "ledger.db")
    too_much = "make_pledge,out-1,2018-02-07,录入员,,,,,,,,,,,,,hub,leaf,100.01,fund,"
    code, out, err = run(capsys, "--db", db, "import", write(tmp_path, "pool.csv", [*SETUP, too_much]))
    assert code != 0
    (line,) = [line for line in err.splitlines() if "RegrantExceedsPool" in line]
    assert "示例联合基金（虚构）" in line and "100.00 CNY" in line and "asked 100.01" in line
    assert "Traceback" not in out + err
