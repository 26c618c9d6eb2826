"""Workbook exports, read back with openpyxl (a second library) the way a person would see them.

Headers in Chinese with the key beneath (English with ``lang="en"``), names beside division codes,
credit codes and ids typed as text, money as numbers shown with two decimals, the grand totals on
a sheet of their own, in-kind items on theirs, and a sheet of coordinates naming where the figures
come from.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from tests.ledger_fixtures import make_pledge, register_organization, register_project

import aidledger
from aidledger import AidLedger, projections
from aidledger.cli import main
from aidledger.interchange.export import Export
from aidledger.interchange.workbook import exact_as_number, write_totals_workbook, write_workbook

ALL_DIGITS_CODE = "911100000000000061"  # a valid unified social credit code made of digits only
FORMULA_NAME = "=cmd|' /C calc'!A0"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[AidLedger]:
    """Two donors (one anonymous) to a county project in 张北县, one pledge in kind, and a huge amount."""
    with aidledger.open(tmp_path / "ledger.db", recorded_by="tester") as opened:
        donor = register_organization(opened, name=FORMULA_NAME, credit_code=ALL_DIGITS_CODE, command_id="org-1")
        other = register_organization(opened, name="匿名的捐赠方", command_id="org-2")
        project = register_project(opened, donor, command_id="prj-1")
        make_pledge(opened, donor, project, "1234567.89", command_id="p-1")
        make_pledge(opened, other, project, "100.00", anonymous=True, command_id="p-2")
        items = [{"description": "冬衣", "quantity": "250", "unit": "套"}]
        make_pledge(opened, donor, project, "5000.00", items=items, command_id="p-3")
        make_pledge(opened, other, project, "123456789012345.67", command_id="p-4")
        yield opened


def sheet_rows(sheet: Worksheet) -> list[tuple[Any, ...]]:
    """The values of a sheet's rows."""
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def written(ledger: AidLedger, path: Path, **options: Any) -> openpyxl.Workbook:
    """Export a view as a workbook to ``path`` and read it back."""
    lang = options.pop("lang", "zh")
    write_workbook(Export(ledger, **options), path, lang=lang)
    return openpyxl.load_workbook(path)


def column(sheet: Worksheet, key: str) -> list[Any]:
    """The cells under the column whose key (second header row) is ``key``."""
    keys = [cell.value for cell in sheet[2]]
    index = keys.index(key)
    return [row[index] for row in sheet.iter_rows(min_row=3)]


def test_totals_by_county_put_the_grand_total_on_its_own_sheet_with_names_beside_codes(
    ledger: AidLedger, tmp_path: Path
) -> None:
    book = written(ledger, tmp_path / "t.xlsx", group_by=["county"])
    assert book.sheetnames == ["数据", "合计", "数据坐标"]
    data, totals = book["数据"], book["合计"]
    assert sheet_rows(data)[0][:5] == ("行类型", "资金性质", "县(区)代码", "县(区)", "币种")
    assert sheet_rows(data)[1][:5] == ("row", "flow", "county", "county_name", "currency")
    county = column(data, "county")[0]
    assert (county.value, county.data_type, county.number_format) == ("130722", "s", "@")
    assert column(data, "county_name")[0].value == "张北县"
    # The data sheet holds the groups only: its pledged column adds up to the total, once.
    pledged = [Decimal(str(cell.value)) for cell in column(data, "pledged")]
    total = [Decimal(str(cell.value)) for cell in column(totals, "pledged")]
    assert sum(pledged) == total[0] == Decimal("123456790252013.56")
    assert [cell.value for cell in column(totals, "row")] == ["新增资金合计(只计一次)", "经联合基金转出(不计入合计)"]


def test_money_is_a_number_with_two_decimals_unless_a_double_cannot_hold_it(ledger: AidLedger, tmp_path: Path) -> None:
    book = written(ledger, tmp_path / "p.xlsx", view="organization")
    data = book["数据"]
    pledged = {row[1].value: row for row in data.iter_rows(min_row=3)}
    keys = [cell.value for cell in data[2]]
    named = pledged[FORMULA_NAME][keys.index("pledged")]
    assert named.data_type == "n" and named.number_format == "#,##0.00"
    assert Decimal(repr(named.value)) == Decimal("1239567.89")
    huge = pledged["匿名的捐赠方"][keys.index("pledged")]
    assert huge.data_type == "s" and huge.value == "123456789012345.67"  # 17 digits: kept exact, as text
    assert huge.comment is not None and "精确" in huge.comment.text
    assert not exact_as_number(Decimal("123456789012445.67"))
    assert exact_as_number(Decimal("9999999999999.99"))
    assert not exact_as_number(Decimal("99999999999999.99"))


def test_formula_like_names_are_text_with_a_quote_prefix_never_formulas(ledger: AidLedger, tmp_path: Path) -> None:
    book = written(ledger, tmp_path / "o.xlsx", view="organization")
    cell = next(row[1] for row in book["数据"].iter_rows(min_row=3) if row[1].value == FORMULA_NAME)
    assert cell.data_type == "s"  # openpyxl reads a formula as data_type "f"
    assert cell.quotePrefix or cell.style_array.quotePrefix


def test_project_pages_list_in_kind_items_and_keep_anonymous_donors_unnamed(ledger: AidLedger, tmp_path: Path) -> None:
    book = written(ledger, tmp_path / "prj.xlsx", view="project")
    assert book.sheetnames == ["数据", "实物捐赠", "数据坐标"]
    items = sheet_rows(book["实物捐赠"])
    assert items[0][:4] == ("项目编号", "项目名称", "认捐编号", "捐赠方")
    assert items[0][4:] == ("阶段", "物资或服务", "数量", "单位", "认捐价值", "币种")
    assert [row[5:10] for row in items[2:]] == [("冬衣", 250, "套", 5000, "CNY")]
    everything = [value for sheet in book.worksheets for row in sheet_rows(sheet) for value in row]
    assert "匿名的捐赠方" not in everything
    region = column(book["数据"], "region_name")[0].value
    assert region == "河北省 张家口市 张北县"


def test_the_coordinates_sheet_names_position_root_digest_and_vintage(ledger: AidLedger, tmp_path: Path) -> None:
    report = projections.totals(ledger, ["category"])
    path = tmp_path / "r.xlsx"
    write_totals_workbook(report, path, lang="en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["data", "totals", "coordinates"]
    facts = {row[0]: row[1] for row in sheet_rows(book["coordinates"])[2:]}
    assert facts["log position"] == report.coordinates.position
    assert facts["Merkle root"] == report.coordinates.root
    assert facts["digest (totals)"] == report.digest
    assert "areacodes" in facts["division names"]
    assert sheet_rows(book["data"])[0][:3] == ("row", "flow", "category")  # English: one header row


def test_credit_codes_in_the_events_workbook_stay_text(ledger: AidLedger, tmp_path: Path) -> None:
    book = written(ledger, tmp_path / "e.xlsx", view="events")
    rows = sheet_rows(book["事件"])
    codes = [row[rows[0].index("credit_code")] for row in rows[1:] if row[rows[0].index("credit_code")]]
    assert codes == [ALL_DIGITS_CODE]


def test_the_command_line_writes_workbooks_and_refuses_one_without_a_file(
    ledger: AidLedger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "ledger.db")
    out = tmp_path / "汇总.xlsx"
    assert main(["--db", db, "export", "--format", "xlsx", "--view", "county", "--out", str(out)]) == 0
    assert sheet_rows(openpyxl.load_workbook(out)["数据"])[2][:2] == ("130722", "张北县")
    assert main(["--db", db, "report", "--by", "county", "--xlsx", str(tmp_path / "r.xlsx")]) == 0
    assert openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames == ["数据", "合计", "数据坐标"]
    capsys.readouterr()
    assert main(["--db", db, "export", "--format", "xlsx"]) != 0
    assert "--out" in capsys.readouterr().err
    assert main(["--db", db, "export", "--format", "csv", "--lang", "en"]) != 0
    assert "--lang" in capsys.readouterr().err
