"""The bad-input corpus: every bad row gets a message naming line, column, value and what is accepted,
and no file with a bad row stores anything.

The files are in tests/data/import/; the ones that need exact bytes (a GBK file, UTF-16) or a
ledger that already holds something are made in tmp_path.
"""

from __future__ import annotations

import codecs
from functools import cache
from pathlib import Path

import pytest

import aidledger
from aidledger.errors import InvalidInput
from aidledger.interchange.importer import Importer, ImportSummary, RowProblem, import_file

CORPUS = Path(__file__).resolve().parents[1] / "data" / "import"

HEADER = (
    "command,command_id,effective_on,recorded_by,name,kind,level,home_region,title,implementing_organization_id,"
    "region,category,field,planned_start,planned_end,donor_id,project_id,amount,pledge_id,reason"
)
ORGANIZATION = "register_organization,org-1,2018-01-02,clerk,示例基金会（虚构）,foundation,provincial,130000" + "," * 12


@cache
def checked(name: str) -> tuple[ImportSummary, int]:
    """The summary of checking a corpus file against an empty ledger, and the ledger's position after."""
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        summary = Importer(ledger, CORPUS / name).run()
        return summary, ledger.position()


def file_error(path: Path) -> str:
    """The message of the whole-file error importing ``path`` raises."""
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        with pytest.raises(InvalidInput) as raised:
            import_file(ledger, path)
        assert ledger.position() == 0
    return str(raised.value)


# (file, line, column, value, words the message must contain)
BAD_ROWS = [
    ("amounts.csv", 5, "amount", "1.234,50", "not a thousands separator"),
    ("amounts.csv", 6, "amount", "¥100", "currency sign"),
    ("amounts.csv", 7, "amount", "1e3", "scientific notation"),
    ("amounts.csv", 8, "amount", "12.345", "more than 2 decimal places; it is never rounded silently"),
    ("amounts.csv", 9, "amount", "-0", "is not positive"),
    ("dates.csv", 5, "effective_on", "2018/8/32", "not a real calendar date"),
    ("dates.csv", 6, "effective_on", "2018-02-30", "not a real calendar date in the form YYYY-MM-DD"),
    ("far-dates.csv", 5, "effective_on", "0001-01-01", "outside the accepted dates 1900-01-01 to 2199-12-31"),
    ("far-dates.csv", 6, "planned_end", "9999-12-31", "outside the accepted dates 1900-01-01 to 2199-12-31"),
    ("unknown-references.csv", 5, "donor_id", "org-404", "names no organization in the ledger or in an earlier row"),
    ("unknown-references.csv", 6, "pledge_id", "pl-404", "names no pledge in the ledger or in an earlier row"),
    ("unknown-references.csv", 7, "pledge_id", "prj-1", "names no pledge"),
    ("unknown-references.csv", 8, "pledge_id", "d-0", "names no pledge"),
    (
        "unknown-references.csv",
        10,
        "pledge_id",
        "41b96737-0836-509e-b470-af8657a2d4b0",
        "names the project that line 3 creates, not a pledge",
    ),
    ("duplicate-ids.csv", 5, "command_id", "org-1", "is also the command id of line 2, which is a different command"),
    ("duplicate-ids.csv", 7, "", None, "is the same command as line 6 and neither row has a command_id"),
    ("over-disbursement.csv", 6, "amount", "50000", "OverDisbursement: disbursing 50000.00 CNY"),
    ("missing-columns.csv", 2, "name", None, "is required for register_organization (the file has no 'name' column)"),
    ("missing-columns.csv", 3, "title", None, "is required for register_project (the cell is empty)"),
    ("missing-columns.csv", 3, "implementing_organization_id", "org-1", "line 2 creates, but that row is rejected"),
    ("missing-columns.csv", 4, "amount", None, "value was not assessed (the file has no 'amount' column)"),
    ("cells.csv", 5, "", "21 cells", "the header has 20 columns; every row needs exactly that many cells"),
    ("cells.csv", 6, "", "14 cells", "the header has 20 columns"),
    ("cells.csv", 7, "amount", "500", "does not apply to register_organization; leave the cell empty"),
    ("cells.csv", 8, "command", "pay", "is not a command; accepted: one of register_organization"),
    ("bad.jsonl", 3, "", None, "is not JSON (Expecting ',' delimiter); accepted: one JSON object"),
    ("bad.jsonl", 4, "", "[1, 2]", "is not a JSON object"),
    ("bad.jsonl", 5, "colour", "red", "is not a field of make_pledge; accepted: amount, anonymous"),
    ("bad.jsonl", 5, "amount", "¥100", "currency sign"),
    ("bad.jsonl", 6, "person_times", "120", "valid integer"),
    ("bad.jsonl", 7, "category", "aid", "Input should be 'direct_aid', 'capacity' or 'public_welfare'"),
    ("bad.jsonl", 10, "planned_end", "2018-02-01", "is before planned_start 2018-12-01"),
    ("bad.jsonl", 9, "items.0.quantity", "abc", "is not a plain decimal number"),
]

BAD_LINES = {
    "amounts.csv": [5, 6, 7, 8, 9],
    "dates.csv": [5, 6],
    "far-dates.csv": [5, 6],
    "unknown-references.csv": [5, 6, 7, 8, 10],
    "duplicate-ids.csv": [5, 7],
    "over-disbursement.csv": [6],
    "missing-columns.csv": [2, 3, 4],
    "cells.csv": [5, 6, 7, 8],
    "bad.jsonl": [3, 4, 5, 6, 7, 9, 10],
}
"""Every bad line of each corpus file; the other rows are valid, yet nothing is stored."""


def problem_at(summary: ImportSummary, line: int, column: str) -> RowProblem:
    found = [p for p in summary.problems if p.line == line and p.column == column]
    assert found, f"no problem at line {line}, column {column!r}: {[str(p) for p in summary.problems]}"
    return found[0]


@pytest.mark.parametrize(
    ("name", "line", "column", "value", "words"), BAD_ROWS, ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in BAD_ROWS]
)
def test_each_bad_row_is_reported_at_its_line_and_column_with_its_value(
    name: str, line: int, column: str, value: str | None, words: str
) -> None:
    """The problem names the line, the column, the value given, and says what is wrong or accepted."""
    summary, _ = checked(name)
    problem = problem_at(summary, line, column)
    if value is not None:
        assert problem.value is not None and value in problem.value
    assert words in problem.message
    assert str(problem).startswith(f"line {line}")


@pytest.mark.parametrize("name", sorted(BAD_LINES))
def test_a_file_with_bad_rows_stores_nothing_and_reports_exactly_its_bad_lines(name: str) -> None:
    """All or nothing: the valid rows of the file are not stored either."""
    summary, position = checked(name)
    assert position == 0
    assert summary.stored == 0
    assert sorted({p.line for p in summary.problems}) == BAD_LINES[name]
    assert summary.rejected == len(BAD_LINES[name])


def test_amount_messages_say_what_is_accepted() -> None:
    """Every amount problem ends with the accepted form."""
    summary, _ = checked("amounts.csv")
    for problem in summary.problems:
        assert "accepted: a positive decimal number with at most 2 decimal places" in problem.message


def test_the_refusal_names_every_bad_row_and_that_nothing_was_stored() -> None:
    """import_file raises one InvalidInput that lists each problem."""
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        with pytest.raises(InvalidInput) as raised:
            import_file(ledger, CORPUS / "amounts.csv")
        assert ledger.position() == 0
    message = str(raised.value)
    assert "5 of 9 rows have problems; nothing was stored" in message
    for line in (5, 6, 7, 8, 9):
        assert f"line {line}, column amount:" in message


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("empty.csv", "the file is empty; accepted: a header line naming the columns"),
        ("header-only.csv", "the file has a header but no rows; accepted: at least one command row"),
        ("semicolon.csv", "line 1 separates its columns with semicolons"),
        ("tab.csv", "line 1 separates its columns with tabs"),
        ("unknown-columns.csv", "line 1, column 'amout': unknown column (did you mean 'amount'?)"),
        ("unknown-columns.csv", "line 1, column 'notes': unknown column"),
    ],
)
def test_whole_file_problems_are_one_clear_error(name: str, words: str) -> None:
    """Problems of the file itself are refused before any row is read."""
    assert words in file_error(CORPUS / name)


def test_an_empty_json_lines_file_is_refused(tmp_path: Path) -> None:
    """No rows at all."""
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    assert "the file is empty; accepted: one JSON object per line" in file_error(path)


def test_a_gbk_encoded_file_is_reported_per_row_with_its_gbk_reading(tmp_path: Path) -> None:
    """Excel on Chinese Windows saves CSV as GBK: each such row is named, with the text it would read as."""
    path = tmp_path / "gbk.csv"
    rows = [HEADER, ORGANIZATION, ORGANIZATION.replace("org-1", "org-2").replace("示例", "张北")]
    path.write_bytes("\n".join(rows).encode("gbk") + b"\n")
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        summary = Importer(ledger, path).run()
        assert ledger.position() == 0
    first = problem_at(summary, 2, "name")
    assert first.value == "ca be c0 fd bb f9 bd f0 bb e1 a3 a8 d0 e9 b9 b9 a3 a9"
    assert "is not UTF-8 text" in first.message
    assert "GBK/GB18030 text ('示例基金会（虚构）')" in first.message
    assert "CSV UTF-8" in first.message
    assert {p.line for p in summary.problems} == {2, 3}


def test_a_gbk_header_is_a_whole_file_error(tmp_path: Path) -> None:
    """When line 1 itself is not UTF-8 nothing can be read."""
    path = tmp_path / "gbk-header.csv"
    path.write_bytes("命令,金额\n".encode("gbk"))
    message = file_error(path)
    assert "line 1 is not UTF-8 text" in message
    assert "'命令,金额'" in message


def test_a_utf16_file_is_refused_with_advice(tmp_path: Path) -> None:
    """Excel's 'Unicode Text' is UTF-16."""
    path = tmp_path / "utf16.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + f"{HEADER}\n{ORGANIZATION}\n".encode("utf-16-le"))
    assert "the file is UTF-16 text" in file_error(path)


def test_a_command_id_already_in_the_ledger_for_different_content_is_refused(tmp_path: Path) -> None:
    """The same command id with another payload is an idempotency conflict, named at its cell."""
    path = tmp_path / "again.csv"
    path.write_text(f"{HEADER}\n{ORGANIZATION}\n", encoding="utf-8")
    changed = tmp_path / "changed.csv"
    changed.write_text(f"{HEADER}\n{ORGANIZATION.replace('示例基金会', '改名基金会')}\n", encoding="utf-8")
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        import_file(ledger, path)
        position = ledger.position()
        summary = Importer(ledger, changed).run()
        assert ledger.position() == position
    problem = problem_at(summary, 2, "command_id")
    assert problem.value == "org-1"
    assert "is already in the ledger for a different register_organization command" in problem.message
