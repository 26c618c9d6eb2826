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
from aidledger.errors import InvalidInput
from aidledger.interchange.export import Export
from aidledger.interchange.workbook import exact_as_number, write_totals_workbook, write_workbook
from aidledger.projections.columns import COLUMNS as STAGE_COLUMNS
from aidledger.projections.totals import published_rows

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
        items = [
            {"description": "冬衣", "quantity": "250", "unit": "套"},
            {"description": "大米", "quantity": "2.5", "unit": "吨"},
        ]
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
    assert book.sheetnames == ["数据", "合计", "实物捐赠", "数据坐标"]
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
    # The pledge's value stands on its first item's row only, so the column adds up to it once.
    assert [row[5:10] for row in items[2:]] == [("冬衣", 250, "套", 5000, "CNY"), ("大米", 2.5, "吨", None, "CNY")]
    rice = next(row for row in book["实物捐赠"].iter_rows(min_row=3) if row[5].value == "大米")
    assert rice[6].number_format == "General"  # 2.5 shown as 2.5, a quantity is never shown to two places
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
    county = openpyxl.load_workbook(out)
    assert sheet_rows(county["数据"])[1][:4] == ("county", "county_name", "city_name", "province_name")
    assert sheet_rows(county["数据"])[2][:4] == ("130722", "张北县", "张家口市", "河北省")
    assert [row[5] for row in sheet_rows(county["实物捐赠"])[2:]] == ["冬衣", "大米"]
    assert main(["--db", db, "report", "--by", "county", "--xlsx", str(tmp_path / "r.xlsx")]) == 0
    report = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert report.sheetnames == ["数据", "合计", "实物捐赠", "数据坐标"]
    assert [row[5] for row in sheet_rows(report["实物捐赠"])[2:]] == ["冬衣", "大米"]
    capsys.readouterr()
    assert main(["--db", db, "export", "--format", "xlsx"]) != 0
    assert "--out" in capsys.readouterr().err
    assert main(["--db", db, "export", "--format", "csv", "--lang", "en"]) != 0
    assert "--lang" in capsys.readouterr().err
    assert main(["--db", db, "report", "--lang", "en"]) == 2
    assert "--lang" in capsys.readouterr().err


def test_a_cell_longer_than_a_spreadsheet_holds_is_refused_never_cut_short(tmp_path: Path) -> None:
    """One pledge of 200 long items: the events sheet's items cell would pass 32,767 characters."""
    with aidledger.open(tmp_path / "long.db", recorded_by="tester") as ledger:
        donor = register_organization(ledger)
        project = register_project(ledger, donor)
        items = [{"description": f"{n:03d}" + "物" * 190, "quantity": "1", "unit": "件"} for n in range(200)]
        make_pledge(ledger, donor, project, "2000.00", items=items)
        target = tmp_path / "events.xlsx"
        with pytest.raises(InvalidInput) as refused:
            write_workbook(Export(ledger, view="events"), target)
        assert "32,767" in str(refused.value) and "'事件', row 4" in str(refused.value)
        assert not target.exists()
        # The project view lists the same items one per row, and is written.
        book = written(ledger, tmp_path / "project.xlsx", view="project")
        assert len(sheet_rows(book["实物捐赠"])) == 2 + 200


def test_every_money_cell_reads_back_as_the_exact_figure_of_the_report(ledger: AidLedger, tmp_path: Path) -> None:
    """Each stage figure of each row, number or text, is the report's decimal exactly (never rounded)."""
    report = projections.totals(ledger, ["donor"])
    path = tmp_path / "exact.xlsx"
    write_totals_workbook(report, path, lang="en")
    book = openpyxl.load_workbook(path)
    header = sheet_rows(book["data"])[0]
    read = [
        dict(zip(header, row, strict=True))
        for sheet in ("data", "totals")
        for row in book[sheet].iter_rows(min_row=2)
    ]
    published = list(published_rows(report))
    assert len(read) == len(published)
    for cells, row in zip(read, published, strict=True):
        for column in STAGE_COLUMNS:
            cell = cells[column.replace("_", " ")]
            value = Decimal(cell.value) if cell.data_type == "s" else Decimal(repr(cell.value))
            assert value == row.figures[column], (column, cell.value)


def test_the_coordinates_sheet_keeps_the_recorded_before_time_and_zone(ledger: AidLedger, tmp_path: Path) -> None:
    book = written(ledger, tmp_path / "then.xlsx", view="county", recorded_before="2099-01-01T08:30:00+08:00")
    facts = {row[0]: row[1] for row in sheet_rows(book["数据坐标"])[2:]}
    assert facts["记录时间早于 recorded before"] == "2099-01-01T08:30:00+08:00"
    assert facts["生效日期不晚于 effective on"] is None


FORMULAS_FILE = Path(__file__).resolve().parents[1] / "hostile" / "injection" / "formulas.csv"


@pytest.mark.parametrize("view", ["totals", "project", "organization", "county", "events"])
def test_no_workbook_cell_is_a_formula_and_formula_like_text_reads_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], view: str
) -> None:
    """The hostile corpus's formula-like names, titles, campaigns and reasons, in every view."""
    db = str(tmp_path / "ledger.db")
    assert main(["--db", db, "import", str(FORMULAS_FILE), "--recorded-by", "tester"]) == 0
    out = tmp_path / f"{view}.xlsx"
    by = ["--by", "donor", "--by", "campaign"] if view == "totals" else []
    assert main(["--db", db, "export", "--format", "xlsx", "--view", view, *by, "--out", str(out)]) == 0
    capsys.readouterr()
    cells = [cell for sheet in openpyxl.load_workbook(out).worksheets for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    risky = [cell for cell in cells if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@")]
    assert all(cell.quotePrefix for cell in risky)
    expected = {
        "totals": "=cmd|' /C calc'!A0",
        "project": "+SUM(1+1)",
        "organization": "@SUM(1+1)",
        "county": None,  # a county's sheet holds codes, names of places and figures only
        "events": '=HYPERLINK("http://example.org","x")',
    }[view]
    assert expected is None or expected in {cell.value for cell in risky}
