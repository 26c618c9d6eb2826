"""Workbooks out and back in (issue 12): the demo history and a filled template, exported as an
events workbook (written by xlsxwriter) and imported into a fresh ledger (read by python-calamine),
give the same figures; and a 100,000-row workbook is checked in bounded memory."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

import aidledger
from aidledger import projections
from aidledger.cli import main
from aidledger.demo import history
from aidledger.interchange.commands import run_command
from aidledger.interchange.template import EXAMPLES, RECORD_SHEETS, sheet_name
from aidledger.interchange.vocabulary import column_key

GROUPINGS = ((), ("county",), ("project",), ("donor_level", "category"), ("donor", "year"), ("campaign", "origin"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def figures(db: Path) -> list[str]:
    """The figures digests (no log position or root: two ledgers of the same commands) of several reports."""
    with aidledger.open(str(db), read_only=True) as ledger:
        return [projections.totals(ledger, list(group_by)).figures_digest() for group_by in GROUPINGS]


def round_trip(capsys: pytest.CaptureFixture[str], source: Path, tmp_path: Path) -> Path:
    """Export ``source``'s events as a workbook and import it into a new ledger; that ledger's path."""
    workbook, copy = tmp_path / "events.xlsx", tmp_path / "copy.db"
    code, _, err = run(capsys, "--db", str(source), "export", "--view", "events", "--format", "xlsx",
                       "--out", str(workbook))  # fmt: skip
    assert code == 0, err
    code, said, err = run(capsys, "--db", str(copy), "--json", "import", str(workbook))
    assert code == 0, err
    summary = json.loads(said)
    assert summary["rejected"] == 0 and summary["stored"] == summary["rows_read"] > 0
    return copy


def test_the_demo_history_exported_to_a_workbook_imports_into_a_fresh_ledger_with_the_same_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "demo.db"
    with aidledger.open(str(source), recorded_by="roundtrip-tests") as ledger:
        for record in history():
            run_command(ledger, record)
    copy = round_trip(capsys, source, tmp_path)
    assert figures(copy) == figures(source)
    with aidledger.open(str(source), read_only=True) as a, aidledger.open(str(copy), read_only=True) as b:
        assert a.position() == b.position()


def test_a_filled_template_round_trips_through_an_events_workbook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The template filled by another program (openpyxl) is imported; its ledger's events, exported
    and imported into a fresh ledger, give the same figures."""
    template, db = tmp_path / "台账.xlsx", tmp_path / "ledger.db"
    assert run(capsys, "template", "--out", str(template))[0] == 0
    book = openpyxl.load_workbook(template)
    for command in RECORD_SHEETS:  # keep the example rows, as records: clear their example marks
        sheet = book[sheet_name(command)]
        for row in range(2, 2 + len(EXAMPLES.get(command, []))):
            sheet.cell(row=row, column=1).value = None
    disbursements = book[sheet_name("disburse")]
    keys = [column_key(str(cell.value)) if cell.value else None for cell in disbursements[1]]
    row = disbursements.max_row + 1
    for key, value in {
        "command_id": "d-2", "effective_on": datetime.datetime(2018, 3, 1), "recorded_by": "录入员",
        "pledge_id": "pl-1", "amount": 2500.5, "method": "现金 cash",
    }.items():  # fmt: skip
        disbursements.cell(row=row, column=keys.index(key) + 1).value = value
    book.save(template)
    code, said, err = run(capsys, "--db", str(db), "--json", "import", str(template))
    assert code == 0 and json.loads(said)["rejected"] == 0, err
    copy = round_trip(capsys, db, tmp_path)
    assert figures(copy) == figures(db)
    with aidledger.open(str(db), read_only=True) as ledger:  # the figures are not those of nothing
        assert projections.totals(ledger).rows[0].columns["net_disbursed"] > 2500


ROWS = 100_000
ALLOWED_GROWTH_MB = 250
"""Peak memory may grow by this much while the 100,000 rows are read and checked: 2.5 KB a row.
python-calamine cannot read a sheet lazily (it holds one whole sheet at a time; see
dimastbk/python-calamine#42), so memory grows with the largest sheet, about 1.4 KB a row of
eight cells here (141 MB measured), and ``check_extent`` refuses a sheet of more than 20 million
cells before loading it: that is the bound. Rows are staged on disk; the importer keeps a small
per-row index in memory besides (where each command came from, each command id's first line)."""

CHILD = """
import json, resource, sys
import xlsxwriter
import aidledger
from aidledger.interchange.importer import import_file

def write(path, rows):
    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = book.add_worksheet("登记组织")
    header = ["命令", "命令编号", "日期", "记录人", "名称", "类型", "登记级别", "所在地区代码"]
    for column, text in enumerate(header):
        sheet.write_string(0, column, text)
    for row in range(1, rows + 1):
        values = ["登记组织", f"org-{row:07d}", "2018/1/5", "录入员", f"示例基金会{row:07d}（虚构）",
                  "基金会", "省级", "130000"]
        for column, value in enumerate(values):
            sheet.write_string(row, column, value)
    book.close()

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux

big, small, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
write(small, 1_000)
with aidledger.open(":memory:", recorded_by="tester") as ledger:
    import_file(ledger, small, dry_run=True, rehearse=False)  # warm up: imports, caches
    write(big, rows)  # xlsxwriter's constant-memory mode: writing adds little
    before = peak_mb()
    summary = import_file(ledger, big, dry_run=True, rehearse=False)
    after = peak_mb()
print(json.dumps({"rows": summary.rows_read, "valid": summary.stored, "growth": after - before}))
"""


def test_a_100000_row_workbook_is_checked_in_bounded_memory(tmp_path: Path) -> None:
    """Every row of a 100,000-row workbook (written by xlsxwriter) is read and checked (the validate-only
    streaming of docs/import.md: no rehearsal, no storing, which would take minutes) in a child process,
    whose peak resident memory grows by at most ALLOWED_GROWTH_MB."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "big.xlsx"), str(tmp_path / "small.xlsx"), str(ROWS)],
        capture_output=True, text=True, check=True, timeout=900,
    )  # fmt: skip
    measured = json.loads(result.stdout)
    assert measured["rows"] == measured["valid"] == ROWS
    assert measured["growth"] < ALLOWED_GROWTH_MB, measured
