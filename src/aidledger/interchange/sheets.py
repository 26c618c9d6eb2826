"""Reading workbooks (.xlsx, .xlsm) as import rows, with python-calamine (.xls, .ods: see check_extent).

Each sheet of commands gives rows as a CSV file does: its first non-empty row is the header
(English or Chinese column names, :mod:`aidledger.interchange.vocabulary`), each later row one
command. A sheet names its command in a ``command`` (命令) column, or by its own name (the
template's sheet ``认捐 make_pledge`` holds pledges). Sheets named as the template's aids
(instructions, county codes, lists) and sheets whose name starts with ``#`` are skipped.

Cells are read as the values the workbook stores, never as what a formula would compute now:
calamine gives a formula cell's cached value (a formula never calculated reads as empty), and
nothing is evaluated. Each cell becomes the text a CSV cell would hold, so the rest of the import
is the CSV import's:

- text as written; a number as its shortest exact decimal (``3780000``, ``1234.5``), never
  through a rounded float display; a whole number in a text column (a county code typed as a
  number, 130722) as its digits, but a number of 16 digits or more (a credit code Excel shows as
  9.1E+17) is refused: Excel keeps 15 significant digits, so the others are already lost;
- a date cell as ``YYYY-MM-DD``; a date with a time of day, a bare time, and a number in a date
  column are refused;
- TRUE/FALSE cells as ``true``/``false``.
"""

from __future__ import annotations

import datetime
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from python_calamine import CalamineError, CalamineWorkbook

from aidledger.errors import InvalidInput
from aidledger.interchange.commands import COMMAND_CLASSES
from aidledger.interchange.csvformat import (
    COLUMNS,
    DATE_COLUMNS,
    INTEGER_COLUMNS,
    MONEY_COLUMNS,
    CellProblem,
    record_from_cells,
)
from aidledger.interchange.reading import SourceRow, file_error, header_keys
from aidledger.interchange.vocabulary import COMMAND_NAMES, command_named, header_label

__all__ = [
    "AID_SHEETS",
    "EXAMPLE_MARKS",
    "REJECTS_SHEET",
    "Place",
    "WorkbookReader",
    "cell_text",
    "write_rejects_workbook",
]

REJECTS_SHEET = "退回 rejects"

AID_SHEETS = frozenset(
    {"说明", "instructions", "填表说明", "县级区划", "counties", "区划代码", "选项", "lists", "数据坐标", "coordinates"}
)
"""Sheet names (or their first word) that hold help, not commands: skipped on import."""
EXAMPLE_MARKS = ("示例", "example")
"""A row whose first note cell (a ``#`` column) starts with one of these is an example: skipped."""
EXCEL_DIGITS = 15
"""Excel keeps numbers to 15 significant digits."""


@dataclass(frozen=True)
class Place:
    """Where a row is: its sheet (``None`` in CSV and JSON Lines) and its row number as the spreadsheet
    shows it (the line in CSV and JSON Lines)."""

    sheet: str | None
    row: int


class WorkbookReader:
    """Iterate the command rows of every sheet, a sheet at a time; a row's ``line`` is its row
    number in the sheet, and :attr:`sheet` names the sheet of the row last given."""

    def __init__(self, path: Path) -> None:
        check_extent(path)
        try:
            self.workbook = CalamineWorkbook.from_path(str(path))
        except (CalamineError, OSError, ValueError) as error:
            raise file_error(f"it cannot be read as a workbook ({error})", "an .xlsx or .xlsm file") from None
        except Exception as error:  # calamine's own errors (zip, XML, password) share no base class
            raise file_error(
                f"it cannot be read as a workbook ({type(error).__name__}: {error})",
                "an .xlsx file that Excel, WPS or LibreOffice opens",
            ) from None
        self.header: list[str] = list(COLUMNS)
        self.sheet: str = ""
        """The sheet the last row given is on (its ``line`` is the sheet's row number)."""
        self.rows_read = 0
        self.sheets: list[str] = []
        self._share = (0, 1, 0, 1)  # sheets done, sheets to read, rows done in this sheet, its height

    def close(self) -> None:
        """Close the workbook file."""
        self.workbook.close()

    @property
    def done(self) -> float:
        """The share of the workbook read so far (0 to 1), for a progress bar: sheets read, and the
        share of the rows of the sheet being read."""
        sheets_done, sheets, rows_done, height = self._share
        return (sheets_done + rows_done / max(height, 1)) / max(sheets, 1)

    def __iter__(self) -> Iterator[SourceRow]:
        names = [name for name in self.workbook.sheet_names if not _is_aid(name)]
        for index, name in enumerate(names):
            sheet = self.workbook.get_sheet_by_name(name)  # one sheet in memory at a time
            self._share = (index, len(names), 0, sheet.height)
            yield from self._sheet_rows(name, sheet)
            del sheet
        if self.rows_read == 0:
            raise file_error(
                "the workbook has no command rows"
                + (f" (sheets read: {', '.join(self.sheets)})" if self.sheets else ""),
                "a sheet whose first row names the columns and whose later rows are commands (see docs/import.md)",
            )

    def _sheet_rows(self, name: str, sheet: Any) -> Iterator[SourceRow]:
        first_row = sheet.start[0] + 1 if sheet.start else 1
        rows = iter(sheet.iter_rows())
        header: list[str] | None = None
        for offset, values in enumerate(rows):
            number = first_row + offset
            self._share = (*self._share[:2], offset + 1, self._share[3])
            if header is None:
                if not any(_blank(v) is False for v in values):
                    continue
                header = self._header(name, number, values)
                continue
            row = self._row(name, number, header, values)
            if row is not None:
                self.rows_read += 1
                self.sheet = name
                yield row

    def _header(self, name: str, number: int, values: list[Any]) -> list[str]:
        cells = [cell_text(v, "")[0] for v in values]
        keys = header_keys([cell.strip() for cell in cells], where=f"sheet {name!r}, row {number}")
        self.sheets.append(name)
        if "command" not in keys and command_named(name) is None:
            raise file_error(
                f"sheet {name!r} has no 'command' (命令) column and its name names no command",
                "a 'command' column, or a sheet named for its command, e.g. "
                f"'{COMMAND_NAMES['make_pledge']} make_pledge'",
            )
        return keys

    def _row(self, name: str, line: int, header: list[str], values: list[Any]) -> SourceRow | None:
        cells: dict[str, str] = {}
        problems: list[CellProblem] = []
        notes: list[str] = []
        for column, value in zip(header, values, strict=False):
            text, problem = cell_text(value, column)
            if problem is not None:
                problems.append(CellProblem(column, problem[0], problem[1]))
            if not column:
                if text.strip():
                    problems.append(CellProblem("", text, "is in a column with no name; name the column or empty it"))
                continue
            if column.startswith("#"):
                notes.append(text.strip())
                continue
            cells[column] = text
        if not any(text.strip() for text in cells.values()) and not problems:
            return None  # rows of empty cells, as sheets leave at the end
        if notes and notes[0].lower().startswith(EXAMPLE_MARKS):
            return None
        if not cells.get("command", "").strip():
            named = command_named(name)
            if named is not None:
                cells["command"] = named
        record, cell_problems = record_from_cells(cells)
        raw = [cells.get(column, "") for column in self.header]
        return SourceRow(line, record, problems + cell_problems, raw)


MAX_CELLS = 20_000_000
"""The most cells a sheet may span (from its first used cell to its last, empty ones included):
a reader holds a sheet as one rectangle, so one cell written at XFD1048576 would ask for
17 billion. 20 million is 200,000 rows of 100 columns."""
MAX_PART_BYTES = 1 << 30
"""The most bytes one part of a workbook (a sheet's XML, its shared strings) may unpack to."""
_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\sr=\"([A-Z]{1,3})(\d{1,8})\"")
_CHUNK = 1 << 20


def check_extent(path: Path) -> None:
    """Refuse a workbook whose sheets span more than :data:`MAX_CELLS` cells or whose parts unpack
    to more than :data:`MAX_PART_BYTES`, reading its XML as a stream before the reader loads it.

    Only .xlsx and .xlsm (zip files of XML) can be measured so: .xls and .ods are refused with
    advice to save as .xlsx.
    """
    if path.suffix.lower() in (".xls", ".ods"):
        raise file_error(
            f"an {path.suffix.lower()} workbook's size cannot be checked before it is read",
            "an .xlsx file (in Excel or WPS: Save As > 'Excel Workbook (*.xlsx)'), or a CSV file",
        )
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.file_size > MAX_PART_BYTES:
                    raise file_error(
                        f"the workbook's part {info.filename} unpacks to {info.file_size:,} bytes",
                        f"a workbook whose parts are at most {MAX_PART_BYTES:,} bytes (split the sheet)",
                    )
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    _check_sheet_extent(path, archive, info)
    except InvalidInput:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise file_error(
            f"it cannot be read as a workbook ({error})", "an .xlsx file that Excel or WPS opens"
        ) from None


def _check_sheet_extent(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    rows = [sys.maxsize, 0]
    columns = [sys.maxsize, 0]
    tail = b""
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            text = tail + chunk
            for match in _CELL_REF.finditer(text):
                letters, digits = match.groups()
                row = int(digits)
                rows[0], rows[1] = min(rows[0], row), max(rows[1], row)
                column = xlsxwriter.utility.xl_cell_to_rowcol(f"{letters.decode()}1")[1] + 1
                columns[0], columns[1] = min(columns[0], column), max(columns[1], column)
            tail = text[-256:]
    if not rows[1]:
        return
    height = rows[1] - rows[0] + 1
    width = columns[1] - columns[0] + 1
    if height * width > MAX_CELLS:
        raise file_error(
            f"a sheet ({info.filename}) spans {height:,} rows by {width:,} columns "
            f"({height * width:,} cells, empty ones included)",
            f"sheets of at most {MAX_CELLS:,} cells from the first used cell to the last; delete the stray "
            "cells far below or to the right (Ctrl+End shows the last one), or split the sheet",
        )


def _is_aid(name: str) -> bool:
    words = name.strip().split()
    return name.startswith("#") or name.strip().lower() in AID_SHEETS or bool(words and words[0] in AID_SHEETS)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any, column: str) -> tuple[str, tuple[str, str] | None]:
    """The CSV text a workbook cell holds in ``column``, and a problem (value shown, message) or ``None``."""
    if value is None or isinstance(value, str):
        return value or "", None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, datetime.datetime):
        if value.time() != datetime.time(0) and column in DATE_COLUMNS:
            return "", (value.isoformat(sep=" "), "is a date with a time of day; accepted: a date, e.g. 2020-01-01")
        return value.date().isoformat(), None
    if isinstance(value, datetime.date):
        return value.isoformat(), None
    if isinstance(value, (datetime.time, datetime.timedelta)):
        return "", (str(value), "is a time, not a date or a number; accepted: " + _accepted(column))
    if isinstance(value, (int, float)):
        return _number_text(value, column)
    return str(value), None


def _number_text(value: float, column: str) -> tuple[str, tuple[str, str] | None]:
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    shown = format(exact.normalize(), "f") if exact == exact.to_integral_value() else format(exact, "f")
    if column in DATE_COLUMNS:
        return "", (shown, "is a number, not a date; format the cell as a date or write 2020-01-01")
    digits = exact.adjusted() + 1 if exact else 1  # digits before the decimal point
    if digits > EXCEL_DIGITS and column not in MONEY_COLUMNS and column not in INTEGER_COLUMNS:
        return "", (
            f"{value:.6g}",
            f"is a number of {digits} digits, of which Excel keeps only {EXCEL_DIGITS}: the rest are lost; "
            "format the column as Text and type the code again",
        )
    return shown, None


def _accepted(column: str) -> str:
    if column in DATE_COLUMNS:
        return "a date, e.g. 2020-01-01"
    if column in MONEY_COLUMNS:
        return "an amount, e.g. 1234.50"
    return "text or a number"


def write_rejects_workbook(path: Path, rejected: Iterable[tuple[Place, list[str], list[str]]]) -> None:
    """Write the rejected rows of a workbook as a workbook: where each was, its problems, its cells.

    One sheet; the ``#`` columns are notes, so the fixed sheet imports as it is. Every cell is
    written as text (never a formula, never a number Excel could shorten), under the template's
    headers (Chinese above English). Only the columns some rejected row fills are written.
    """
    rows = list(rejected)
    used = [i for i, column in enumerate(COLUMNS) if any(i < len(cells) and cells[i] for _, _, cells in rows)]
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    try:
        sheet = book.add_worksheet(REJECTS_SHEET)
        text = book.add_format({"num_format": "@"})
        heads = ["#sheet 工作表", "#row 行", "#problems 问题", *(header_label(COLUMNS[i]) for i in used)]
        for col, head in enumerate(heads):
            sheet.write_string(0, col, head)
        for number, (place, problems, cells) in enumerate(rows, start=1):
            values = [place.sheet or "", str(place.row), "; ".join(problems), *(cells[i] for i in used)]
            for col, value in enumerate(values):
                sheet.write_string(number, col, value, text)
    finally:
        book.close()


assert all(name in COMMAND_CLASSES for name in COMMAND_NAMES)
