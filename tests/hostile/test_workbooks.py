"""Hostile workbooks (issue 12): each entry builds one .xlsx file (or a file posing as one) in a
temporary folder, imports it into an empty ledger with the real command line, in-process, and checks
the exit code, that the error is one line holding every expected word, that no traceback is
printed, and that nothing was stored. Workbooks are built by the test rather than kept as binary
files, so that what each one holds is read here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import xlsxwriter
from tests.hostile.support import run, stored_events, the_error_line

EXIT_INVALID = 2
HEADER = ["命令", "命令编号", "日期", "记录人", "名称", "类型", "登记级别", "所在地区代码", "统一社会信用代码"]
ROW = ["登记组织", "org-1", "2018-01-02", "录入员", "示例基金会（虚构）", "基金会", "省级", "130000", ""]


def _book(
    path: Path, rows: Sequence[Sequence[object]], extra: Callable[[xlsxwriter.worksheet.Worksheet], None] | None = None
) -> None:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    sheet = book.add_worksheet("台账")
    for number, row in enumerate(rows):
        for col, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(number, col, value)
            elif value is not None:
                sheet.write_number(number, col, float(value))  # type: ignore[arg-type]
    if extra is not None:
        extra(sheet)
    book.close()


def far_cell(path: Path) -> None:
    """One stray cell at the sheet's last row and column: the reader would ask for 17 billion cells."""
    _book(path, [HEADER, ROW], lambda sheet: sheet.write_string(1_048_575, 16_383, "x"))


def duplicate_headers(path: Path) -> None:
    """The same column headed once in Chinese and once in English."""
    _book(path, [[*HEADER, "name"], [*ROW, "另一个名称"]])


def control_characters(path: Path) -> None:
    """An escape sequence that would clear a terminal, in a name."""
    _book(path, [HEADER, [*ROW[:4], "Evil\x1b[2J基金会", *ROW[5:]]])


def shortened_credit_code(path: Path) -> None:
    """An 18-digit credit code typed as a number: Excel kept 15 digits."""
    _book(path, [HEADER, [*ROW[:8], 911100001234567890]])


def not_a_zip(path: Path) -> None:
    """A text file named .xlsx."""
    path.write_text("command,command_id\n", encoding="utf-8")


def unknown_header(path: Path) -> None:
    """A header the vocabulary does not know."""
    _book(path, [[*HEADER, "金钱"], [*ROW, "100"]])


def no_command(path: Path) -> None:
    """A sheet with neither a command column nor a command's name."""
    _book(path, [HEADER[1:], ROW[1:]])


Entry = tuple[Callable[[Path], None], str, tuple[str, ...]]

TABLE: list[Entry] = [
    (far_cell, "far.xlsx",
     ("error: InvalidInput:", "spans 1,048,576 rows by 16,384 columns", "at most 20,000,000 cells", "Ctrl+End")),
    (duplicate_headers, "dup.xlsx",
     ("error: InvalidInput:", "sheet '台账', row 1 names these columns twice", "name ('名称' and 'name')",
      "in English or in Chinese, not both")),
    (control_characters, "ctrl.xlsx",
     ("error: InvalidInput:", "sheet '台账', row 2, column name", "control character U+001B", "nothing was stored")),
    (shortened_credit_code, "code.xlsx",
     ("error: InvalidInput:", "row 2, column credit_code", "Excel keeps only 15", "format the column as Text")),
    (not_a_zip, "text.xlsx", ("error: InvalidInput:", "cannot be read as a workbook", "accepted:")),
    (unknown_header, "unknown.xlsx",
     ("error: InvalidInput:", "sheet '台账', row 1, column '金钱': unknown column", "in English or Chinese")),
    (no_command, "nocommand.xlsx",
     ("error: InvalidInput:", "sheet '台账' has no 'command' (命令) column", "a sheet named for its command")),
]  # fmt: skip


@pytest.mark.parametrize(("build", "name", "words"), TABLE, ids=[entry[1] for entry in TABLE])
def test_a_hostile_workbook_is_refused_in_one_line_and_stores_nothing(
    build: Callable[[Path], None],
    name: str,
    words: tuple[str, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The import exits 2 with one ``error:`` line naming the sheet, row and column, and stores nothing."""
    source = tmp_path / name
    build(source)
    db = tmp_path / "ledger.db"
    code, out, err = run(capsys, "--db", str(db), "import", str(source))
    assert code == EXIT_INVALID, err
    the_error_line(out, err, words)
    assert stored_events(db) == 0


@pytest.mark.parametrize("suffix", [".xls", ".ods"])
def test_a_workbook_whose_size_cannot_be_checked_first_is_refused_with_advice(
    suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """.xls and .ods are not read: their extent cannot be measured before the reader loads them."""
    source = tmp_path / f"台账{suffix}"
    source.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)
    code, out, err = run(capsys, "--db", str(tmp_path / "ledger.db"), "import", str(source))
    assert code == EXIT_INVALID
    the_error_line(out, err, (f"an {suffix} workbook's size cannot be checked", "Save As > 'Excel Workbook"))
