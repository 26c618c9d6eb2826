"""The bilingual import template (``aidledger template``): a workbook a clerk fills in.

One sheet per kind of record, named for its command in Chinese and English
(``登记组织 register_organization``), so its rows need no ``command`` column; a last sheet
(``其他命令 other_commands``) takes any command, named in its ``命令 command`` column. Every header
is the column's Chinese name above its English key (:func:`vocabulary.header_label`), the same
mapping the reader uses. Enumerated columns and yes/no columns have drop-downs (from the
``选项 lists`` sheet), code and id columns are formatted as text (a county code stays ``130722``, a
credit code never becomes ``9.1E+17``), date columns as dates. The first column, ``#备注 note``, is
a note; a row whose note starts with ``示例``/``example`` is an example and is skipped on import,
so the template imports as it is written (nothing stored) and a filled one without deleting them.
Sheets ``说明 instructions``, ``县级区划 counties`` and ``选项 lists`` are help, skipped on import.

Records refer to each other by the ids the clerk gives them in ``命令编号 command_id``
(``org-1``, ``pl-2018-001``), as in CSV (docs/import.md).
"""

from __future__ import annotations

import csv
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from aidledger.domain import divisions
from aidledger.interchange.csvformat import (
    BOOLEAN_COLUMNS,
    COLUMNS,
    DATE_COLUMNS,
    INTEGER_COLUMNS,
    MONEY_COLUMNS,
    columns_of,
)
from aidledger.interchange.vocabulary import COLUMN_NAMES, COMMAND_NAMES, ENUM_VALUES, enum_choices, header_label

__all__ = [
    "EXAMPLES",
    "NOTE_COLUMN",
    "OTHER_SHEET",
    "RECORD_SHEETS",
    "sheet_name",
    "write_csv_template",
    "write_template",
]

NOTE_COLUMN = "#备注 note"
EXAMPLE_NOTE = "示例 example (skipped on import; delete or overwrite)"
OTHER_SHEET = "其他命令 other_commands"
LISTS_SHEET = "选项 lists"
RECORD_SHEETS = (
    "register_organization",
    "register_project",
    "make_pledge",
    "disburse",
    "confirm_disbursement",
    "record_disclosure",
    "report_beneficiaries",
)
"""The commands that get a sheet of their own, in the order a clerk records them."""

_DISCLOSURE_KINDS = ("progress", "final")
_LIMIT_ROWS = 10_000
"""Drop-downs and formats reach this many rows of each sheet."""

EXAMPLES: dict[str, list[dict[str, str]]] = {
    "register_organization": [
        {
            "command_id": "org-1",
            "effective_on": "2018-01-05",
            "recorded_by": "示例录入员",
            "name": "河北省示例慈善基金会（虚构）",
            "kind": "基金会 foundation",
            "level": "省级 provincial",
            "home_region": "130000",
            "credit_code": "53130000MA0A1B2C3R",
            "charity": "是",
        }
    ],
    "register_project": [
        {
            "command_id": "prj-1",
            "effective_on": "2018-01-10",
            "recorded_by": "示例录入员",
            "title": "张北县示例助学项目（虚构）",
            "implementing_organization_id": "org-1",
            "region": "130722",
            "category": "能力建设 capacity",
            "field": "教育 education",
            "planned_start": "2018-02-01",
            "planned_end": "2018-12-31",
            "budget": "3,780,000",
        }
    ],
    "make_pledge": [
        {
            "command_id": "pl-1",
            "effective_on": "2018-01-12",
            "recorded_by": "示例录入员",
            "donor_id": "org-1",
            "project_id": "prj-1",
            "amount": "378万",
            "stage": "签约 signed",
        }
    ],
    "disburse": [
        {
            "command_id": "d-1",
            "effective_on": "2018-02-01",
            "recorded_by": "示例录入员",
            "pledge_id": "pl-1",
            "amount": "1,000,000.00",
            "method": "银行转账 bank_transfer",
            "source_reference": "银付字2018-001",
            "confirmed_on": "2018-02-03",
        }
    ],
    "record_disclosure": [
        {
            "command_id": "pub-1",
            "effective_on": "2018-07-01",
            "recorded_by": "示例录入员",
            "project_id": "prj-1",
            "kind": "进展报告 progress",
            "period_start": "2018-02-01",
            "period_end": "2018-06-30",
            "channel": "慈善中国",
        }
    ],
    "report_beneficiaries": [
        {
            "command_id": "ben-1",
            "effective_on": "2018-07-01",
            "recorded_by": "示例录入员",
            "project_id": "prj-1",
            "person_times": "1,200",
            "households": "300",
        }
    ],
}
"""The example rows (SYNTHETIC: an invented foundation, a real county code), marked as examples."""

_INSTRUCTIONS = (
    ("填表说明 How to fill in this workbook", ""),
    ("", ""),
    (
        "每张表是一类记录：组织、项目、认捐、拨付、确认到账、信息公开、受益人；其他命令填在“其他命令”表并在“命令”列选择命令。",
        "Each sheet is one kind of record; any other command goes on the 'other_commands' sheet, "
        "named in its 'command' column.",
    ),
    (
        "表头为中文名称，下方为英文键；列可以删除或调整顺序，但不要改名。",
        "Headers: the Chinese name above the English key. Columns may be removed or reordered, not renamed.",
    ),
    (
        "“命令编号”是本行记录的编号（如 org-1、pl-2018-001）；"
        "其他行用它引用该记录（组织编号、项目编号、认捐编号、拨付编号）。",
        "command_id is your own id for the row's record; other rows refer to it by that id.",
    ),
    (
        "同一文件可以重复导入：已导入的行会被跳过。",
        "Importing the same file again stores nothing twice: rows already stored are skipped.",
    ),
    (
        "“备注”列以“示例”开头的行是示例，导入时跳过；可以删除或覆盖。",
        "Rows whose note starts with 示例/example are examples and are skipped on import.",
    ),
    (
        "金额：可写 3780000、3,780,000 或 378万（精确换算，不四舍五入）；最多两位小数。",
        "Amounts: 3780000, 3,780,000 or 378万 (exact); at most 2 decimal places, never rounded.",
    ),
    (
        "日期：日期格式单元格，或 2018-08-01、2018/8/1、2018年8月1日。",
        "Dates: a date cell, or 2018-08-01, 2018/8/1, 2018年8月1日.",
    ),
    (
        "地区代码为6位行政区划代码（见“县级区划”表），统一社会信用代码为18位，均按文本填写。",
        "Region codes are 6-digit division codes (see the 'counties' sheet); credit codes 18 characters; both as text.",
    ),
    (
        "带下拉框的列请从下拉框选择（中文或英文均可）。不要使用公式。",
        "Columns with a drop-down take one of its values (Chinese or English). Do not use formulas.",
    ),
    (
        "导入：aidledger import 台账.xlsx（详见 docs/import.md）。",
        "Import: aidledger import 台账.xlsx (see docs/import.md).",
    ),
)


def sheet_name(command: str) -> str:
    """The template's sheet for ``command``: ``认捐 make_pledge``."""
    return f"{COMMAND_NAMES[command]} {command}"


def _sheet_columns(command: str | None) -> list[str]:
    """The columns of a command's sheet (all of them on the other commands' sheet), in the format's order."""
    if command is None:
        return list(COLUMNS)
    taken = columns_of(command) | ({"confirmed_on"} if command == "disburse" else set())
    return [column for column in COLUMNS if column in taken and column != "command"]


def write_template(path: Path) -> None:
    """Write the bilingual template workbook to ``path``."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    try:
        heading = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7"})
        note = book.add_format({"italic": True, "font_color": "#808080", "num_format": "@"})
        text = book.add_format({"num_format": "@"})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        money = book.add_format({"num_format": "#,##0.00"})
        instructions = book.add_worksheet("说明 instructions")
        instructions.set_column(0, 1, 90)
        for row, (chinese, english) in enumerate(_INSTRUCTIONS):
            instructions.write_string(row, 0, chinese, heading if row == 0 else None)
            instructions.write_string(row, 1, english)
        entries = _list_entries()
        lists = _list_sources(entries)
        for command in (*RECORD_SHEETS, None):
            sheet = book.add_worksheet(OTHER_SHEET if command is None else sheet_name(command))
            columns = _sheet_columns(command)
            sheet.write_string(0, 0, NOTE_COLUMN, heading)
            sheet.set_column(0, 0, 16, note)
            sheet.freeze_panes(1, 1)
            sheet.set_row(0, 32)
            for col, column in enumerate(columns, start=1):
                sheet.write_string(0, col, header_label(column), heading)
                cell_format = day if column in DATE_COLUMNS else money if column in MONEY_COLUMNS else text
                if column in INTEGER_COLUMNS:
                    cell_format = None
                sheet.set_column(col, col, max(12, len(COLUMN_NAMES.get(column, column)) * 2 + 2), cell_format)
                source = lists.get(_list_key(command, column))
                if source is not None:
                    sheet.data_validation(
                        1,
                        col,
                        _LIMIT_ROWS,
                        col,
                        {"validate": "list", "source": source, "error_type": "warning"},
                    )
            for number, example in enumerate(EXAMPLES.get(command or "", []), start=1):
                sheet.write_string(number, 0, EXAMPLE_NOTE, note)
                for col, column in enumerate(columns, start=1):
                    if example.get(column):
                        sheet.write_string(number, col, example[column], text)
        _write_counties(book, heading, text)
        _write_lists(book, entries)
    finally:
        book.close()


def _list_key(command: str | None, column: str) -> str:
    if column == "kind" and command is not None:
        return "disclosure_kind" if command == "record_disclosure" else "kind"
    return column


def _list_entries() -> dict[str, list[str]]:
    """The drop-downs' entries, by list key."""
    kinds = ENUM_VALUES["kind"]
    entries: dict[str, list[str]] = {
        "command": [f"{chinese} {key}" for key, chinese in COMMAND_NAMES.items()],
        **{column: enum_choices(column) for column in ENUM_VALUES},
        "kind": [f"{chinese} {key}" for key, chinese in kinds.items() if key not in _DISCLOSURE_KINDS],
        "disclosure_kind": [f"{kinds[key]} {key}" for key in _DISCLOSURE_KINDS],
    }
    for column in sorted(BOOLEAN_COLUMNS):
        entries[column] = ["是", "否"]
    return entries


def _list_sources(entries: dict[str, list[str]]) -> dict[str, str]:
    """Each list's cell range on the ``选项 lists`` sheet (one column a list, entries from row 2)."""
    sources: dict[str, str] = {}
    for col, (key, values) in enumerate(entries.items()):
        letter = xlsxwriter.utility.xl_col_to_name(col)
        sources[key] = f"='{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
    return sources


def _write_lists(book: xlsxwriter.Workbook, entries: dict[str, list[str]]) -> None:
    sheet = book.add_worksheet(LISTS_SHEET)
    for col, (key, values) in enumerate(entries.items()):
        sheet.write_string(0, col, key)
        for row, value in enumerate(values, start=1):
            sheet.write_string(row, col, value)


def _write_counties(book: xlsxwriter.Workbook, heading: object, text: object) -> None:
    sheet: Worksheet = book.add_worksheet("县级区划 counties")
    for col, head in enumerate(("代码 code", "名称 name", "省 province", "市 city")):
        sheet.write_string(0, col, head, heading)
    sheet.set_column(0, 0, 10, text)
    sheet.set_column(1, 3, 20)
    for row, county in enumerate(divisions.counties(), start=1):
        province, city, _ = divisions.place(county.code)
        sheet.write_string(row, 0, county.code, text)
        sheet.write_string(row, 1, county.name)
        sheet.write_string(row, 2, province.name if province else "")
        sheet.write_string(row, 3, city.name if city else "")
    sheet.freeze_panes(1, 0)


def write_csv_template(path: Path) -> None:
    """Write the CSV variant: one header line naming every column in Chinese and English
    (``金额 amount``), UTF-8 with a byte-order mark so Excel shows the Chinese; no rows."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerow([f"{COLUMN_NAMES[column]} {column}" for column in COLUMNS])
