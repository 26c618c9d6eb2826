"""Workbook and Chinese input (issue 12): cells, the vocabulary, amounts and dates as clerks write
them, GB 18030 CSV, workbooks written by a second library (openpyxl), and rule violations told in
the clerk's own ids."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

import aidledger
from aidledger import AidLedger
from aidledger.domain import values
from aidledger.errors import InvalidInput
from aidledger.interchange.commands import resolve_reference
from aidledger.interchange.csvformat import check_amount_text, check_date_text, record_from_cells
from aidledger.interchange.importer import Importer, import_file
from aidledger.interchange.sheets import cell_text
from aidledger.interchange.vocabulary import (
    COLUMN_NAMES,
    COMMAND_NAMES,
    ENUM_VALUES,
    column_key,
    command_key,
    enum_key,
)

HEADER = ["命令", "命令编号", "日期", "记录人", "名称", "类型", "登记级别", "所在地区代码", "统一社会信用代码"]


@pytest.fixture
def ledger() -> Iterator[AidLedger]:
    """An empty in-memory ledger whose default recorder is 'tester'."""
    with aidledger.open(":memory:", recorded_by="tester") as opened:
        yield opened


# -- cells ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "column", "text"),
    [
        (3780000.0, "amount", "3780000"),
        (1234.5, "amount", "1234.5"),
        (0.1, "amount", "0.1"),
        (130722.0, "region", "130722"),
        (130722, "home_region", "130722"),
        (True, "charity", "true"),
        (datetime.datetime(2020, 1, 1), "effective_on", "2020-01-01"),
        (datetime.date(2020, 1, 1), "effective_on", "2020-01-01"),
        ("  示例  ", "name", "  示例  "),
        (None, "name", ""),
    ],
)
def test_a_cell_reads_as_the_text_a_csv_cell_would_hold(value: object, column: str, text: str) -> None:
    """Numbers as their shortest exact decimal (never 130722.0), dates as YYYY-MM-DD."""
    assert cell_text(value, column) == (text, None)


@pytest.mark.parametrize(
    ("value", "column", "words"),
    [
        (9.1110000123456e17, "credit_code", "Excel keeps only 15"),
        (datetime.datetime(2020, 1, 1, 9, 30), "effective_on", "a date with a time of day"),
        (datetime.time(9, 30), "effective_on", "is a time"),
        (43831.0, "effective_on", "is a number, not a date"),
    ],
)
def test_a_cell_that_lost_its_meaning_is_refused_with_advice(value: object, column: str, words: str) -> None:
    """A credit code Excel shortened, a time of day, a serial number in a date column."""
    text, problem = cell_text(value, column)
    assert text == ""
    assert problem is not None and words in problem[1]


# -- the vocabulary ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("金额", "amount"),
        ("amount", "amount"),
        ("AMOUNT", "amount"),
        ("金额\namount", "amount"),
        ("金额（amount）", "amount"),
        ("金额 amount", "amount"),
        ("ｃｏｍｍａｎｄ", "command"),
        ("日期", "effective_on"),
        ("#备注 note", "#备注 note"),
        ("金额 budget", None),
        ("金钱", None),
    ],
)
def test_a_header_names_its_column_in_chinese_english_or_both(header: str, key: str | None) -> None:
    """Both names of one column are one column; two names of different columns are none."""
    assert column_key(header) == key


def test_every_column_command_and_value_has_one_chinese_name() -> None:
    """The mapping is one to one, so a Chinese word never names two things in one column."""
    assert len(set(COLUMN_NAMES.values())) == len(COLUMN_NAMES)
    assert len(set(COMMAND_NAMES.values())) == len(COMMAND_NAMES)
    for column, names in ENUM_VALUES.items():
        assert len(set(names.values())) == len(names), column
        for key, chinese in names.items():
            assert enum_key(column, chinese) == key
            assert enum_key(column, f"{chinese} {key}") == key


@pytest.mark.parametrize(
    ("column", "text", "key"),
    [("level", "市级", "municipal"), ("kind", "社会团体", "social_group"), ("kind", "基金会", "foundation"),
     ("kind", "民非", "social_service_agency"), ("stage", "签约", "signed"), ("method", "Cash", "cash"),
     ("flow", "借款", "loan"), ("level", "镇级", "镇级")],
)  # fmt: skip
def test_enum_values_are_read_in_chinese_or_english(column: str, text: str, key: str) -> None:
    """An unknown value is passed on as written, for the command model to list what is accepted."""
    assert enum_key(column, text) == key


def test_commands_are_read_in_chinese_or_english() -> None:
    """认捐 is make_pledge; the template's drop-down entry names both."""
    assert command_key("认捐") == "make_pledge"
    assert command_key("拨付 disburse") == "disburse"
    assert command_key("MAKE_PLEDGE") == "make_pledge"


# -- amounts and dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "plain"),
    [("3,780,000", "3780000"), ("3,780,000.50", "3780000.50"), ("３７８０", "3780"), ("378万", "3780000"),
     ("3.78万", "37800.00"), ("1.23456789亿", "123456789.00000000"), ("１，２３４.５", "1234.5")],
)  # fmt: skip
def test_amounts_are_read_exactly_as_clerks_write_them(text: str, plain: str) -> None:
    """Separators and 万/亿 are exact: a power of ten times a decimal, never a float."""
    assert check_amount_text(text) == plain


def test_a_ten_thousands_amount_keeps_its_decimal_places_check() -> None:
    """3.780001万 is 37800.01 exactly; 3.7800001万 has three decimal places and is refused, not rounded."""
    record, problems = record_from_cells({"command": "disburse", "amount": "3.7800001万"})
    assert not problems and record["amount"] == "37800.0010000"


@pytest.mark.parametrize(
    ("text", "words"),
    [("1,23,000", "not a thousands separator"), ("1.234,50", "not a thousands separator"),
     ("¥100", "currency sign"), ("100元", "currency sign"), ("1e3", "scientific notation")],
)  # fmt: skip
def test_ambiguous_amounts_are_refused_with_advice(text: str, words: str) -> None:
    """A decimal comma or an Indian grouping could mean two numbers: refused."""
    with pytest.raises(ValueError, match=words):
        check_amount_text(text)


@pytest.mark.parametrize(
    ("text", "day"),
    [("2020/1/1", "2020-01-01"), ("2020.1.1", "2020-01-01"), ("2020年1月1日", "2020-01-01"),
     ("２０２０/１/１", "2020-01-01"), ("2020/1/1 0:00", "2020-01-01"), ("2020-01-01", "2020-01-01")],
)  # fmt: skip
def test_dates_are_read_as_excel_writes_them(text: str, day: str) -> None:
    """Slashes, dots, 年月日 and full-width digits; whether the day exists is checked later."""
    assert check_date_text(text) == day


# -- GB 18030 ------------------------------------------------------------------------------------

GBK_ROWS = (
    "命令,命令编号,日期,记录人,名称,类型,登记级别,所在地区代码\r\n"
    "登记组织,org-1,2018/1/2,录入员,示例基金会（虚构）,基金会,省级,130000\r\n"
    "登记组织,org-2,2018/1/3,录入员,示例商会（虚构）,社会团体,市级,130700\r\n"
)


def test_a_gb18030_csv_imports_with_its_encoding_named(ledger: AidLedger, tmp_path: Path) -> None:
    """Chinese Windows Excel's CSV (GBK bytes, Chinese headers, commands and values)."""
    source = tmp_path / "台账.csv"
    source.write_bytes(GBK_ROWS.encode("gb18030"))
    with pytest.raises(InvalidInput, match="--encoding gb18030"):
        import_file(ledger, source)
    assert ledger.position() == 0
    summary = import_file(ledger, source, encoding="gbk")
    assert summary.stored == 2
    assert ledger.organization(resolve_reference("organization", "org-2")).profile.name == "示例商会（虚构）"


def test_a_utf8_file_read_as_gb18030_is_refused_not_misread(ledger: AidLedger, tmp_path: Path) -> None:
    """UTF-8 bytes that are not GB 18030 text say so, and how to import the file."""
    source = tmp_path / "台账.csv"
    source.write_text(GBK_ROWS.replace("示例商会", "示例商会𠀀"), encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        import_file(ledger, source, encoding="gb18030")
    assert ledger.position() == 0
    assert "reads as UTF-8" in str(refused.value) or "GB18030" in str(refused.value)


def test_an_unknown_encoding_is_refused(ledger: AidLedger, tmp_path: Path) -> None:
    """Only UTF-8 and GB 18030 (with its older names)."""
    source = tmp_path / "a.csv"
    source.write_text(GBK_ROWS, encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"utf-8 \(the default\) or gb18030"):
        import_file(ledger, source, encoding="latin-1")


# -- workbooks written by another library --------------------------------------------------------


def _workbook(path: Path, rows: Sequence[Sequence[object]], title: str = "台账") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_a_workbook_of_chinese_headers_numbers_and_dates_imports(ledger: AidLedger, tmp_path: Path) -> None:
    """Numeric cells, date cells and codes typed as numbers; trailing empty rows skipped; idempotent."""
    rows: list[Sequence[object]] = [
        [*HEADER, "项目名称", "实施组织编号", "受助地区代码", "项目类别", "领域", "计划开始日期", "计划结束日期",
         "捐赠方编号", "项目编号", "金额", "认捐编号"],
        ["登记组织", "org-1", datetime.datetime(2018, 1, 2), "录入员", "示例基金会（虚构）", "基金会", "省级", 130000,
         "53130000MA0A1B2C3R"],
        ["登记项目", "prj-1", "2018/1/3", "录入员", None, None, None, None, None, "张北县示例项目（虚构）", "org-1",
         130722, "能力建设", "教育", datetime.date(2018, 2, 1), "2018年12月31日"],
        ["认捐", "pl-1", "2018-01-04", "录入员", *[None] * 12, "org-1", "prj-1", 3780000, None],
        ["拨付", "d-1", "2018-02-01", "录入员", *[None] * 14, "1,234.5", "pl-1"],
        [None] * 5,
        [""] * 5,
    ]  # fmt: skip
    source = _workbook(tmp_path / "台账.xlsx", rows)
    summary = import_file(ledger, source)
    assert (summary.rows_read, summary.stored) == (4, 4)
    assert ledger.project(resolve_reference("project", "prj-1")).plan.region == "130722"
    assert str(ledger.pledge(resolve_reference("pledge", "pl-1")).amount.value) == "3780000.00"
    assert str(ledger.pledge(resolve_reference("pledge", "pl-1")).net_disbursed) == "1234.50"
    assert import_file(ledger, source).already_present == 4


def test_a_bad_workbook_row_names_its_sheet_row_column_and_value(ledger: AidLedger, tmp_path: Path) -> None:
    """Problems in a workbook say 'sheet …, row N', as the spreadsheet numbers rows."""
    rows: list[Sequence[object]] = [
        HEADER,
        ["登记组织", "org-1", "2018-01-02", "录入员", "示例基金会（虚构）", "基金会", "镇级", "130000"],
    ]
    source = _workbook(tmp_path / "台账.xlsx", rows)
    summary = Importer(ledger, source).run()
    assert summary.rejected == 1
    problem = summary.problems[0]
    assert (problem.sheet, problem.line, problem.column, problem.value) == ("台账", 2, "level", "镇级")
    assert str(problem).startswith("sheet '台账', row 2, column level: '镇级'")
    assert "national" in problem.message


def test_skip_invalid_writes_the_rejects_as_a_workbook_that_imports_once_fixed(
    ledger: AidLedger, tmp_path: Path
) -> None:
    """The rejects file of a workbook is a workbook: where each row was, its problems, its cells."""
    rows: list[Sequence[object]] = [
        HEADER,
        ["登记组织", "org-1", "2018-01-02", "录入员", "示例基金会（虚构）", "基金会", "省级", "130000"],
        ["登记组织", "org-2", "2018-01-02", "录入员", "示例商会（虚构）", "社会团体", "镇级", "130700"],
    ]
    source = _workbook(tmp_path / "台账.xlsx", rows)
    summary = import_file(ledger, source, skip_invalid=True)
    assert (summary.stored, summary.rejected) == (1, 1)
    rejects = tmp_path / "台账.rejects.xlsx"
    assert summary.rejects_file == str(rejects)
    book = openpyxl.load_workbook(rejects)
    sheet = book.worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["#sheet 工作表", "#row 行", "#problems 问题"]
    assert values[1][:2] == ["台账", "3"]
    assert "column level: '镇级'" in str(values[1][2])
    level = [str(head).split("\n")[-1] for head in values[0]].index("level")
    sheet.cell(row=2, column=level + 1).value = "市级"
    book.save(rejects)
    assert import_file(ledger, rejects).stored == 1


def test_a_formula_cell_is_read_as_its_cached_value_never_evaluated(ledger: AidLedger, tmp_path: Path) -> None:
    """Excel saves what a formula showed; that is what is read. A formula never calculated has no
    value, and a required column then says it is required."""
    source = tmp_path / "formulas.xlsx"
    book = xlsxwriter.Workbook(str(source))
    sheet = book.add_worksheet("台账")
    for col, head in enumerate(HEADER):
        sheet.write_string(0, col, head)
    for col, value in enumerate(["登记组织", "org-1", "2018-01-02", "录入员"]):
        sheet.write_string(1, col, value)
    sheet.write_formula(1, 4, '="示例"&"基金会（虚构）"', None, "示例基金会（虚构）")
    for col, value in enumerate(["基金会", "省级", "130000"], start=5):
        sheet.write_string(1, col, value)
    book.close()
    assert import_file(ledger, source).stored == 1
    assert ledger.organization(resolve_reference("organization", "org-1")).profile.name == "示例基金会（虚构）"
    uncalculated = tmp_path / "uncalculated.xlsx"
    _workbook(uncalculated, [HEADER, ["登记组织", "org-2", "=TODAY()", "录入员", "示例商会（虚构）", "社会团体", "市级",
                                      "130700"]])  # fmt: skip
    with pytest.raises(InvalidInput, match="row 2, column effective_on: is required"):
        import_file(ledger, uncalculated)


def test_merged_header_cells_and_a_sheet_named_for_its_command(ledger: AidLedger, tmp_path: Path) -> None:
    """A title row merged across the top is skipped only if empty: the header is the first non-empty
    row; a sheet named for a command needs no command column."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "登记组织 register_organization"
    sheet.append([None, None])
    sheet.append(["命令编号", "日期", "记录人", "名称\nname", "类型", "登记级别", "所在地区代码"])
    sheet.append(["org-1", "2018-01-02", "录入员", "示例基金会（虚构）", "基金会", "省级", "130000"])
    sheet.merge_cells("A1:C1")
    source = tmp_path / "orgs.xlsx"
    book.save(source)
    assert import_file(ledger, source).stored == 1


# -- rule violations in the clerk's ids ----------------------------------------------------------

RULES_CSV = (
    "command,command_id,effective_on,recorded_by,name,kind,level,home_region,title,"
    "implementing_organization_id,region,category,field,planned_start,planned_end,donor_id,project_id,"
    "amount,pledge_id,funded_from,disbursement_id,reason\n"
    "register_organization,org-1,2018-01-02,clerk,示例基金会（虚构）,foundation,provincial,130000,,,,,,,,,,,,,,\n"
    "register_project,prj-1,2018-01-03,clerk,,,,,张北县示例项目（虚构）,org-1,130722,capacity,education,"
    "2018-02-01,2018-12-31,,,,,,,\n"
    "make_pledge,pl-1,2018-01-04,clerk,,,,,,,,,,,,org-1,prj-1,100000,,,,\n"
    "make_pledge,pl-2,2018-01-05,clerk,,,,,,,,,,,,org-1,prj-1,100,,pl-1,,\n"
    "disburse,d-1,2018-02-01,clerk,,,,,,,,,,,,,,500,pl-1,,,\n"
    "reverse_disbursement,r-1,2018-02-02,clerk,,,,,,,,,,,,,,,,,d-1,wrong\n"
    "reverse_disbursement,r-2,2018-02-03,clerk,,,,,,,,,,,,,,,,,d-1,again\n"
)


def test_a_broken_rule_names_its_column_and_the_clerks_ids(ledger: AidLedger, tmp_path: Path) -> None:
    """A regrant from a pledge that is not a pooled fund, a disbursement already reversed: the
    column, the id as written, no UUID, and what is accepted."""
    source = tmp_path / "rules.csv"
    source.write_text(RULES_CSV, encoding="utf-8")
    summary = Importer(ledger, source).run()
    problems = {problem.line: problem for problem in summary.problems}
    regrant, reversed_twice = problems[5], problems[8]
    assert (regrant.column, regrant.value) == ("funded_from", "pl-1")
    assert "pledge 'pl-1' is to project 'prj-1', which is not a pooled fund" in regrant.message
    assert "accepted: funded_from left empty" in regrant.message
    assert (reversed_twice.column, reversed_twice.value) == ("disbursement_id", "d-1")
    assert "disbursement 'd-1' was reversed" in reversed_twice.message
    for problem in summary.problems:
        assert re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", problem.message) is None, problem.message
        assert "accepted" in problem.message
    assert ledger.position() == 0


EARLIER_CSV = (
    "command,command_id,effective_on,recorded_by,name,kind,level,home_region,title,"
    "implementing_organization_id,region,pooled_fund,category,field,planned_start,planned_end,donor_id,"
    "project_id,amount,reason\n"
    "register_organization,org-1,2018-01-02,clerk,示例基金会（虚构）,foundation,provincial,130000,,,,,,,,,,,,\n"
    "register_organization,org-2,2018-01-02,clerk,示例协会（虚构）,social_group,municipal,130700,,,,,,,,,,,,\n"
    "register_project,prj-1,2018-01-03,clerk,,,,,张北县示例项目（虚构）,org-1,130722,,capacity,education,"
    "2018-02-01,2018-12-31,,,,\n"
    "register_project,prj-2,2018-01-03,clerk,,,,,沽源县示例项目（虚构）,org-1,130724,,capacity,education,"
    "2018-02-01,2018-12-31,,,,\n"
    "register_project,pool-1,2018-01-03,clerk,,,,,示例联合基金（虚构）,org-1,,true,capacity,education,"
    "2018-02-01,2018-12-31,,,,\n"
    "make_pledge,pl-1,2018-01-04,clerk,,,,,,,,,,,,,org-2,prj-1,1000,\n"
    "make_pledge,pl-in,2018-01-04,clerk,,,,,,,,,,,,,org-2,pool-1,5000,\n"
    "cancel_project,c-1,2018-01-20,clerk,,,,,,,,,,,,,,prj-1,,plans changed\n"
)

LATER_CSV = (
    "command,command_id,effective_on,recorded_by,donor_id,project_id,amount,pledge_id,funded_from_pool\n"
    "disburse,d-1,2018-02-01,clerk,,,500,pl-1,\n"
    "make_pledge,re-1,2018-02-01,clerk,org-2,prj-2,100,,pool-1\n"
)


def test_a_broken_rule_names_objects_an_earlier_file_created_by_their_clerks_ids(
    ledger: AidLedger, tmp_path: Path
) -> None:
    """The project of a pledge imported yesterday, the holder of a pooled fund imported yesterday:
    named in the message by the command ids the earlier file gave them, never by a UUID."""
    earlier, later = tmp_path / "earlier.csv", tmp_path / "later.csv"
    earlier.write_text(EARLIER_CSV, encoding="utf-8")
    later.write_text(LATER_CSV, encoding="utf-8")
    assert import_file(ledger, earlier).stored == 8
    summary = Importer(ledger, later).run()
    problems = {problem.line: problem for problem in summary.problems}
    closed, mismatch = problems[2], problems[3]
    assert (closed.column, closed.value) == ("command_id", "d-1")
    assert "ProjectClosed: project 'prj-1' (张北县示例项目（虚构）) is cancelled" in closed.message
    assert mismatch.column == "donor_id"
    assert "pooled fund 'pool-1'" in mismatch.message
    assert "implementing organization 'org-1'; got 'org-2'" in mismatch.message
    for problem in summary.problems:
        assert re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", problem.message) is None, problem.message
    assert ledger.created_by(resolve_reference("project", "prj-1")) == "prj-1"
    assert ledger.created_by(resolve_reference("project", "prj-404")) is None


def test_import_md_prints_the_one_vocabulary() -> None:
    """docs/import.md's tables are the vocabulary module's: every column, command and value."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "import.md").read_text(encoding="utf-8")
    for key, chinese in COLUMN_NAMES.items():
        assert f"| `{key}` | {chinese} |" in text, key
    for key, chinese in COMMAND_NAMES.items():
        assert f"| `{key}` | {chinese} |" in text, key
    for column, names in ENUM_VALUES.items():
        assert f"| `{column}` | " + ", ".join(f"`{k}` = {v}" for k, v in names.items()) + " |" in text, column


CREDIT_CODE = "53130000MA0A1B2C3R"


def test_an_organization_is_referred_to_by_its_credit_code(ledger: AidLedger, tmp_path: Path) -> None:
    """In an earlier row of the file or in the ledger, in any case; an unknown code is refused with
    the code as written."""
    first = tmp_path / "first.csv"
    first.write_text(
        "command,command_id,effective_on,recorded_by,name,kind,level,home_region,credit_code,title,"
        "implementing_organization_id,region,category,field,planned_start,planned_end\n"
        f"登记组织,org-1,2018-01-02,录入员,示例基金会（虚构）,基金会,省级,130000,{CREDIT_CODE},,,,,,,\n"
        f"登记项目,prj-1,2018-01-03,录入员,,,,,,示例项目（虚构）,{CREDIT_CODE.lower()},130722,能力建设,教育,"
        "2018-02-01,2018-12-31\n",
        encoding="utf-8",
    )
    assert import_file(ledger, first).stored == 2
    organization = resolve_reference("organization", "org-1")
    assert ledger.project(resolve_reference("project", "prj-1")).plan.implementing_organization_id == organization
    later = tmp_path / "later.csv"
    later.write_text(
        "command,effective_on,recorded_by,donor_id,project_id,amount\n"
        f"认捐,2018-01-05,录入员,{CREDIT_CODE},prj-1,500\n"
        "认捐,2018-01-05,录入员,91110000600037341L,prj-1,500\n",
        encoding="utf-8",
    )
    summary = Importer(ledger, later).run()
    (problem,) = summary.problems
    assert (problem.line, problem.column, problem.value) == (3, "donor_id", "91110000600037341L")
    assert "or the credit code of an organization there" in problem.message
    assert import_file(ledger, later, skip_invalid=True).stored == 1
    assert import_file(ledger, later, skip_invalid=True).already_present == 1


CONFIRMED_CSV = (
    "command,command_id,effective_on,recorded_by,name,kind,level,home_region,title,implementing_organization_id,"
    "region,category,field,planned_start,planned_end,donor_id,project_id,amount,pledge_id,confirmed_on\n"
    "register_organization,org-1,2018-01-02,clerk,示例基金会（虚构）,foundation,provincial,130000,,,,,,,,,,,,\n"
    "register_project,prj-1,2018-01-03,clerk,,,,,张北县示例项目（虚构）,org-1,130722,capacity,education,"
    "2018-02-01,2018-12-31,,,,,\n"
    "make_pledge,pl-1,2018-01-04,clerk,,,,,,,,,,,,org-1,prj-1,100000,,\n"
    "disburse,d-1,2018-02-01,clerk,,,,,,,,,,,,,,500,pl-1,2018/2/3\n"
    "disburse,d-2,2018-02-01,clerk,,,,,,,,,,,,,,500,pl-1,2018-01-03\n"
    "disburse,,2018-02-01,clerk,,,,,,,,,,,,,,700,pl-1,2018-02-05\n"
    "make_pledge,pl-2,2018-01-04,clerk,,,,,,,,,,,,org-1,prj-1,100000,,2018-01-01\n"
)


def test_a_disbursement_row_records_its_confirmation(ledger: AidLedger, tmp_path: Path) -> None:
    """confirmed_on adds a confirm_disbursement with the command id 'd-1:confirmed' (idempotent);
    its problems are told at confirmed_on; a row whose confirmation alone is rejected stores the
    disbursement, and its rejects row, fixed, stores the confirmation."""
    source = tmp_path / "confirmed.csv"
    source.write_text(CONFIRMED_CSV, encoding="utf-8")
    summary = import_file(ledger, source, skip_invalid=True)
    assert (summary.rows_read, summary.stored, summary.already_present, summary.rejected) == (7, 4, 0, 3)
    assert ledger.disbursement(resolve_reference("disbursement", "d-1")).confirmed
    assert not ledger.disbursement(resolve_reference("disbursement", "d-2")).confirmed
    problems = {problem.line: problem for problem in summary.problems}
    assert (problems[6].column, problems[6].value) == ("confirmed_on", "2018-01-03")
    assert "(the confirmation this row records)" in problems[6].message
    assert "EffectiveDateOutOfOrder" in problems[6].message and "disbursement 'd-2'" in problems[6].message
    assert problems[7].column == "confirmed_on" and "needs the row's command_id" in problems[7].message
    assert problems[8].column == "confirmed_on" and "does not apply to make_pledge" in problems[8].message
    rerun = import_file(ledger, source, skip_invalid=True)
    assert (rerun.rows_read, rerun.stored, rerun.already_present, rerun.rejected) == (7, 0, 4, 3)
    rejects = tmp_path / "confirmed.rejects.csv"
    lines = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["6", "7", "8"]  # each row once
    fixed = rejects.read_text(encoding="utf-8-sig").replace(",2018-01-03\n", ",2018-02-03\n")
    rejects.write_text(fixed, encoding="utf-8-sig")
    again = import_file(ledger, rejects, skip_invalid=True)
    assert (again.rows_read, again.stored, again.already_present, again.rejected) == (3, 1, 0, 2)
    assert ledger.disbursement(resolve_reference("disbursement", "d-2")).confirmed


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_the_summary_counts_rows_not_the_commands_a_confirmed_on_cell_adds(
    ledger: AidLedger, tmp_path: Path, suffix: str
) -> None:
    """Five rows, two of them disbursements with confirmed_on (seven commands): five rows stored,
    then five already present on a re-run; a dry run counts the same way."""
    lines = [line.split(",") for line in CONFIRMED_CSV.splitlines()[:6]]
    lines[5][-1] = "2018-02-05"  # d-2 confirmed after it was made
    if suffix == "csv":
        source = tmp_path / "confirmed.csv"
        source.write_text("\n".join(",".join(line) for line in lines) + "\n", encoding="utf-8")
    else:
        source = tmp_path / "confirmed.xlsx"
        with xlsxwriter.Workbook(source) as book:
            sheet = book.add_worksheet("台账")
            for number, line in enumerate(lines):
                sheet.write_row(number, 0, line)
    rehearsal = import_file(ledger, source, dry_run=True)
    assert (rehearsal.rows_read, rehearsal.stored, rehearsal.already_present, rehearsal.rejected) == (5, 5, 0, 0)
    first = import_file(ledger, source)
    assert (first.rows_read, first.stored, first.already_present, first.rejected) == (5, 5, 0, 0)
    assert first.position_after - first.position_before == 9  # 7 commands: a disbursement is 2 events
    assert ledger.disbursement(resolve_reference("disbursement", "d-2")).confirmed
    again = import_file(ledger, source)
    assert (again.rows_read, again.stored, again.already_present, again.rejected) == (5, 0, 5, 0)
    assert again.position_after == first.position_after


def test_a_workbook_import_reports_progress_by_rows(ledger: AidLedger, tmp_path: Path) -> None:
    """The progress bar moves while a workbook is checked (its rows, not its bytes), then stored."""
    rows: list[Sequence[object]] = [HEADER]
    rows += [
        ["登记组织", f"org-{n}", "2018-01-02", "录入员", f"示例基金会{n}（虚构）", "基金会", "省级", "130000"]
        for n in range(50)
    ]
    source = _workbook(tmp_path / "台账.xlsx", rows)
    calls: list[tuple[str, int, int]] = []
    summary = Importer(ledger, source, progress=lambda stage, done, total: calls.append((stage, done, total))).run()
    assert summary.stored == 50
    checking = [done for stage, done, _ in calls if stage == "checking"]
    assert len(checking) == 50 and checking == sorted(checking) and checking[-1] > checking[0]
    assert any(stage != "checking" for stage, _, _ in calls)


def test_every_enumerated_value_of_the_domain_has_a_chinese_name() -> None:
    """The vocabulary covers each enumeration of domain/values.py, and nothing else."""
    expected = {
        "kind": {*values.OrganizationKind, *values.DisclosureKind},
        "level": set(values.Level),
        "category": set(values.Category),
        "field": set(values.Field_),
        "flow": set(values.PledgeFlow),
        "stage": set(values.PledgeStage),
        "method": set(values.DisbursementMethod),
    }
    assert {column: set(names) for column, names in ENUM_VALUES.items()} == {
        column: {str(member) for member in members} for column, members in expected.items()
    }
