"""The command line: the demo, reports, explanations and pages, and clear one-line errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from aidledger.cli import main


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A ledger file with the synthetic demo history loaded by `aidledger demo`."""
    db = str(tmp_path_factory.mktemp("cli") / "demo.db")
    assert main(["demo", "--db", db, "--json"]) == 0
    return db


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return its exit code, stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_demo_prints_both_design_tables_and_says_it_reproduces_them(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Running the demo again stores nothing new and prints DESIGN §9's figures and the check."""
    code, out, _ = run(capsys, "--db", demo_db, "demo")
    assert code == 0
    assert "SYNTHETIC" in out
    assert "0 new events" in out
    for figure in ("118", "37,000,000.00", "192", "284,000,000.00", "93", "125,000,000.00", "380", "336,000,000.00"):
        assert figure in out
    assert "reproduces DESIGN §9 exactly" in out
    assert "aidledger --db" in out  # the next commands to try


def test_report_json_groups_by_every_requested_dimension(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--by category --by year gives rows keyed by both, and a grand total of 446 million pledged."""
    code, out, _ = run(capsys, "--db", demo_db, "--json", "report", "--by", "category", "--by", "year",
                       "--effective-on", "2018-08-31")  # fmt: skip
    assert code == 0
    report = json.loads(out)
    assert report["group_by"] == ["category", "year"]
    assert {tuple(row["key"]) for row in report["rows"]} == {("category", "year")}
    assert report["totals"][0]["columns"]["pledged"] == "446000000.00"
    assert len(report["digest"]) == 64


def test_report_csv_has_one_line_per_row_and_the_total_last(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """CSV group rows add up to the total new money plus what passed through (none in the demo)."""
    code, out, _ = run(
        capsys, "--db", demo_db, "report", "--by", "donor_level", "--csv", "--effective-on", "2018-08-31"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    *levels, total, passed = rows
    assert {r["row"] for r in levels} == {"group"}
    assert (total["row"], total["donor_level"]) == ("total_new_money", "(total new money)")
    assert (passed["row"], passed["donor_level"], passed["pledged"]) == (
        "total_passed_through",
        "(passed through)",
        "0.00",
    )
    assert sum(Decimal(r["pledged"]) for r in levels) == Decimal(total["pledged"]) == Decimal("446000000.00")


def test_explain_lists_contributions_that_add_up(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """explain pledged for direct_aid as of 2018-08-31 sums to 37 million."""
    code, out, _ = run(capsys, "--db", demo_db, "--json", "explain", "pledged", "--key", "category=direct_aid",
                       "--effective-on", "2018-08-31")  # fmt: skip
    assert code == 0
    explanation = json.loads(out)
    assert explanation["value"] == "37000000.00"
    assert sum(Decimal(c["amount"]) for c in explanation["contributions"]) == Decimal("37000000.00")


def test_explain_accepts_a_project_by_its_command_id(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--key project=prj-0001 names the project the command prj-0001 registered."""
    code, out, _ = run(capsys, "--db", demo_db, "--json", "explain", "pledged", "--key", "project=prj-0001")
    assert code == 0
    assert Decimal(json.loads(out)["value"]) > 0


def test_disclosure_filtered_by_status_is_a_resealed_report(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--status overdue keeps only overdue rows, and the summary counts just those."""
    code, out, _ = run(capsys, "--db", demo_db, "--json", "disclosure", "--on", "2018-12-31", "--status", "overdue")
    assert code == 0
    report = json.loads(out)
    assert report["rows"] and {row["status"] for row in report["rows"]} == {"overdue"}
    assert report["summary"] == {"overdue": len(report["rows"])}


def test_show_county_page_is_json(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A county's page lists its projects and inflows."""
    code, out, _ = run(capsys, "--db", demo_db, "show", "county", "130722")
    assert code == 0
    page = json.loads(out)
    assert page["county"] == "130722" and page["projects"]


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["report", "--by", "nonsense"], 2, ["group_by", "nonsense", "category"]),
        (["report", "--columns", "pledged,bogus"], 2, ["--columns", "bogus"]),
        (["explain", "pledged", "--key", "category"], 2, ["--key", "DIMENSION=VALUE"]),
        (["disclosure", "--on", "2018-02-30"], 2, ["effective_on", "2018-02-30"]),
        (["report", "--position", "-1"], 2, ["position", "-1"]),
        (["report", "--position", "999999"], 2, ["position", "999999", "from 0 to"]),
        (["restatement", "--from", "999999"], 2, ["position", "999999", "from 0 to"]),
        (["restatement", "--from", "2000", "--to", "1000"], 2, ["from position", "2000", "second point"]),
        (["disclosure", "--on", "2018-12-31", "--status", "bogus"], 2, ["--status", "bogus", "overdue", "met_late"]),
        (["show", "project", "prj-none"], 4, ["project"]),
        (["show", "county", "abc"], 2, ["county", "'abc'", "6-digit"]),
    ],
)
def test_user_mistakes_print_one_line_and_exit_non_zero(
    demo_db: str, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, words: list[str]
) -> None:
    """A user's mistake is one line on stderr naming the field and value, with a non-zero exit."""
    returned, _, err = run(capsys, "--db", demo_db, *argv)
    assert returned == code
    assert err.startswith("error: ") and err.count("\n") == 1
    assert all(word in err for word in words), err
    assert "Traceback" not in err


def test_a_missing_ledger_file_is_a_clear_error_in_a_real_process(tmp_path: Path) -> None:
    """Run as a program, a missing --db file exits 2 with one line and no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "aidledger", "--db", str(tmp_path / "none.db"), "report"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: InvalidInput: --db") and "Traceback" not in result.stderr
    assert not (tmp_path / "none.db").exists()  # nothing was created
