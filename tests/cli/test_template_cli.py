"""``aidledger template`` and workbook import through the command line (issue 12): the template is
written by xlsxwriter, read and filled by openpyxl (a second library, as a clerk's spreadsheet
program would), and imported back."""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path

import openpyxl
import pytest

from aidledger.cli import main
from aidledger.interchange.csvformat import COLUMNS
from aidledger.interchange.template import EXAMPLES, OTHER_SHEET, RECORD_SHEETS, sheet_name
from aidledger.interchange.vocabulary import column_key


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line in-process; returns the exit code, stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _keys(sheet: openpyxl.worksheet.worksheet.Worksheet) -> list[str | None]:
    return [column_key(str(cell.value)) if cell.value else None for cell in sheet[1]]


def test_the_template_is_bilingual_with_drop_downs_text_codes_and_counties(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sheet per kind of record, Chinese above English, enum drop-downs, codes as text, the counties."""
    out = tmp_path / "台账.xlsx"
    code, said, _ = run(capsys, "template", "--out", str(out))
    assert code == 0 and "台账.xlsx" in said
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[0] == "说明 instructions"
    assert [sheet_name(command) for command in RECORD_SHEETS] + [OTHER_SHEET] == book.sheetnames[1:9]
    assert {"县级区划 counties", "选项 lists"} <= set(book.sheetnames)
    organizations = book[sheet_name("register_organization")]
    heads = [cell.value for cell in organizations[1]]
    assert heads[0] == "#备注 note"
    assert "登记级别\nlevel" in heads and "统一社会信用代码\ncredit_code" in heads
    validated = {str(rule.sqref).split(":")[0] for rule in organizations.data_validations.dataValidation}
    level = heads.index("登记级别\nlevel") + 1
    assert f"{openpyxl.utils.get_column_letter(level)}2" in validated
    assert organizations.cell(row=2, column=1).value.startswith("示例")
    code_column = heads.index("统一社会信用代码\ncredit_code") + 1
    assert organizations.cell(row=2, column=code_column).number_format == "@"
    counties = {row[0]: row[1] for row in book["县级区划 counties"].iter_rows(min_row=2, values_only=True)}
    assert counties["130722"] == "张北县"
    other = book[OTHER_SHEET]
    assert _keys(other)[1:] == list(COLUMNS)


def test_a_filled_template_imports_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As written, the template's rows are examples and nothing is imported; with the marks removed
    and rows added by another program (date cells, numbers, Chinese drop-down values), it imports,
    and a second import stores nothing."""
    out = tmp_path / "台账.xlsx"
    db = str(tmp_path / "ledger.db")
    assert run(capsys, "template", "--out", str(out))[0] == 0
    code, _, err = run(capsys, "--db", db, "import", str(out))
    assert code == 2 and "the workbook has no command rows" in err
    book = openpyxl.load_workbook(out)
    for command in RECORD_SHEETS:
        sheet = book[sheet_name(command)]
        for row in range(2, 2 + len(EXAMPLES.get(command, []))):
            sheet.cell(row=row, column=1).value = None
    disbursements = book[sheet_name("disburse")]
    keys = _keys(disbursements)
    row = disbursements.max_row + 1
    filled = {
        "command_id": "d-2",
        "effective_on": datetime.datetime(2018, 3, 1),
        "recorded_by": "录入员",
        "pledge_id": "pl-1",
        "amount": 2500.5,
        "method": "现金 cash",
    }
    for key, value in filled.items():
        disbursements.cell(row=row, column=keys.index(key) + 1).value = value
    other = book[OTHER_SHEET]
    keys = _keys(other)
    for key, value in {
        "command": "启动项目 start_project",
        "command_id": "start-1",
        "effective_on": datetime.date(2018, 2, 1),
        "recorded_by": "录入员",
        "project_id": "prj-1",
    }.items():
        other.cell(row=2, column=keys.index(key) + 1).value = value
    book.save(out)
    code, said, err = run(capsys, "--db", db, "--json", "import", str(out))
    assert code == 0, err
    summary = json.loads(said)
    # 8 rows: 6 examples and 2 added (the example disbursement's confirmed_on is a 9th command,
    # of the same row: the summary counts rows).
    assert (summary["rows_read"], summary["stored"], summary["rejected"]) == (8, 8, 0)
    code, said, _ = run(capsys, "--db", db, "--json", "import", str(out))
    again = json.loads(said)
    assert (again["rows_read"], again["stored"], again["already_present"]) == (8, 0, 8)


def test_a_workbook_with_bad_rows_and_skip_invalid_writes_a_rejects_workbook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The summary names the sheet and row; the rejects file is a workbook beside the input."""
    out = tmp_path / "台账.xlsx"
    db = str(tmp_path / "ledger.db")
    run(capsys, "template", "--out", str(out))
    book = openpyxl.load_workbook(out)
    sheet = book[sheet_name("register_organization")]
    sheet.cell(row=2, column=1).value = None
    keys = _keys(sheet)
    filled = {"command_id": "org-2", "effective_on": "2018/1/5", "recorded_by": "录入员", "name": "示例商会（虚构）",
              "kind": "商会", "level": "市级", "home_region": "130700"}  # fmt: skip
    for key, value in filled.items():
        sheet.cell(row=3, column=keys.index(key) + 1).value = value
    book.save(out)
    code, said, _ = run(capsys, "--db", db, "import", str(out), "--skip-invalid")
    assert code == 0
    assert "1 stored" in said and "1 rejected" in said
    assert "sheet '登记组织 register_organization', row 3, column kind: '商会'" in " ".join(said.split())
    rejects = tmp_path / "台账.rejects.xlsx"
    assert openpyxl.load_workbook(rejects).worksheets[0].cell(row=2, column=2).value == "3"


def test_the_csv_template_is_one_bilingual_header_line_that_imports_once_filled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``template --csv``: every column, Chinese and English, UTF-8 with a byte-order mark."""
    out = tmp_path / "台账.csv"
    assert run(capsys, "template", "--csv", "--out", str(out))[0] == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as source:
        header = next(csv.reader(source))
    assert [column_key(cell) for cell in header] == list(COLUMNS)
    cells = dict.fromkeys(COLUMNS, "")
    cells.update(command="登记组织", command_id="org-1", effective_on="2018/1/2", recorded_by="录入员",
                 name="示例基金会（虚构）", kind="基金会", level="省级", home_region="130000")  # fmt: skip
    with out.open("a", encoding="utf-8", newline="") as target:
        csv.writer(target).writerow([cells[column] for column in COLUMNS])
    code, said, err = run(capsys, "--db", str(tmp_path / "ledger.db"), "import", str(out))
    assert code == 0, err
    assert "1 stored" in said


def test_the_template_needs_an_xlsx_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A workbook named .csv would open wrongly; the error says what is accepted."""
    code, _, err = run(capsys, "template", "--out", str(tmp_path / "台账.csv"))
    assert code == 2 and "a file name ending in .xlsx (or --csv" in err


def test_an_events_workbook_export_imports_into_another_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The export's events sheet keeps the import columns; its coordinates sheet is skipped."""
    source = str(Path(__file__).resolve().parents[2] / "examples" / "import-template.csv")
    first, second = str(tmp_path / "first.db"), str(tmp_path / "second.db")
    workbook = tmp_path / "events.xlsx"
    assert run(capsys, "--db", first, "import", source)[0] == 0
    assert run(capsys, "--db", first, "export", "--view", "events", "--format", "xlsx", "--out", str(workbook))[0] == 0
    code, said, err = run(capsys, "--db", second, "--json", "import", str(workbook))
    assert code == 0, err
    assert (
        json.loads(said)["position_after"]
        == json.loads(run(capsys, "--db", first, "--json", "import", source)[1])["position_after"]
    )
