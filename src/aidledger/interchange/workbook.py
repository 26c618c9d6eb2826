"""Workbook (.xlsx) exports: the views as a person reads them in Excel or WPS (docs/export.md).

A workbook is written for reading, not for re-import (the events view excepted, which keeps the
import columns): headers in Chinese (English with ``lang="en"``), the ministry's names beside
every division code, ids and codes as text so a spreadsheet never turns ``91110000…`` into
``9.1E+17``, money as numbers shown with two decimals, and the grand totals on a sheet of their
own so that no sum over a data sheet counts them twice. A last sheet states the coordinates the
figures come from (log position, Merkle root, digests, as-of), and how to check them.

Money is exact: a spreadsheet number is a binary double shown to 15 significant digits, so an
amount is written as a number only when it has at most 15 significant digits and the double reads
back as the same decimal (every amount below 10^13 with cents does); any other amount is written
as text, exactly, with a cell note saying why. Text that a
spreadsheet could take for a formula (``=``, ``+``, ``-``, ``@``, tab, CR) is stored as text with
Excel's quote prefix: shown and kept as written, never evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any, BinaryIO

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from aidledger.domain import divisions
from aidledger.errors import InvalidInput
from aidledger.interchange.csvformat import COLUMNS, FORMULA_STARTS, cells_from_record
from aidledger.interchange.export import Export
from aidledger.interchange.history import history_records
from aidledger.projections.columns import COLUMNS as STAGE_COLUMNS
from aidledger.projections.report import Coordinates
from aidledger.projections.totals import TOTAL_KEYS, TotalsReport, published_rows
from aidledger.projections.transparency import CountyPage, CurrencyTotals, OrganizationPage, PledgeLine, ProjectPage

__all__ = ["LABELS", "LANGUAGES", "exact_as_number", "write_totals_workbook", "write_workbook"]

LANGUAGES = ("zh", "en")

LABELS: dict[str, str] = {
    # stage columns (docs/concepts.md)
    "intended": "意向",
    "signed": "签约",
    "pledged": "认捐(意向+签约)",
    "withdrawn": "撤回",
    "disbursed": "拨付",
    "confirmed": "确认到位",
    "reversed": "冲销",
    "returned": "退回",
    "net_disbursed": "净拨付",
    "outstanding": "未到位(签约−净拨付)",
    "fulfilment_rate": "到位率",
    # counts
    "pledges": "认捐笔数",
    "projects": "项目数",
    "organizations": "组织数",
    "counties": "县数",
    "person_times": "受益人次",
    "households": "受益户数",
    "persons": "受益人数",
    "disclosures": "信息公开次数",
    # totals rows
    "row": "行类型",
    "flow": "资金性质",
    "currency": "币种",
    "donor": "捐赠方",
    "donor_level": "捐赠方层级",
    "donor_kind": "捐赠方类型",
    "donor_province": "捐赠方所在省",
    "channel": "渠道组织",
    "implementer": "实施组织",
    "project": "项目",
    "category": "类别",
    "field": "领域",
    "campaign": "活动",
    "county": "县(区)代码",
    "city": "市代码",
    "province": "省代码",
    "year": "年度",
    "form": "形式",
    "origin": "来源",
    "destination": "去向",
    "county_name": "县(区)",
    "city_name": "市",
    "province_name": "省",
    "donor_province_name": "捐赠方所在省名称",
    "donor_name": "捐赠方名称",
    "channel_name": "渠道组织名称",
    "implementer_name": "实施组织名称",
    "project_name": "项目名称",
    # pages
    "project_id": "项目编号",
    "title": "项目名称",
    "region": "地区代码",
    "region_name": "地区",
    "pooled_fund": "联合基金",
    "campaigns": "活动",
    "planned_start": "计划开始",
    "planned_end": "计划结束",
    "status": "状态",
    "organization_id": "组织编号",
    "name": "名称",
    "kind": "类型",
    "level": "层级",
    "home_region": "所在地代码",
    "home_region_name": "所在地",
    "charity": "慈善组织",
    "public_fundraising": "公开募捐资格",
    "deregistered_on": "注销日期",
    "disclosure_record": "信息公开记录",
    "digest": "报告摘要(SHA-256)",
    # in-kind items
    "pledge_id": "认捐编号",
    "stage": "阶段",
    "description": "物资或服务",
    "quantity": "数量",
    "unit": "单位",
    "value": "认捐价值",
}
"""Chinese headers of workbook columns, by the column's key (its English header is the key)."""

_ROW_KINDS = {
    "group": ("分组", "group"),
    "total_new_money": ("新增资金合计(只计一次)", "total new money (counted once)"),
    "total_passed_through": ("经联合基金转出(不计入合计)", "passed through pools (not in the total)"),
    "total_other_flow": ("非捐赠资金合计(不计入捐赠)", "total of a flow that is not a donation (not added)"),
}
_SHEETS = {
    "data": ("数据", "data"),
    "totals": ("合计", "totals"),
    "items": ("实物捐赠", "in-kind items"),
    "events": ("事件", "events"),
    "coordinates": ("数据坐标", "coordinates"),
}
_YES_NO = {"zh": ("是", "否"), "en": ("yes", "no")}
_MONEY_FORMAT = "#,##0.00"
REGION_DIMENSIONS = {
    "county": "county_name",
    "city": "city_name",
    "province": "province_name",
    "donor_province": "donor_province_name",
}
"""Totals dimensions whose keys are division codes, and the column giving their names."""
_LABELLED = ("donor", "channel", "implementer", "project")


SPREADSHEET_DIGITS = 15
"""Significant digits a spreadsheet shows and keeps of a number (Excel: 15)."""


def exact_as_number(value: Decimal) -> bool:
    """Whether a spreadsheet number shows ``value`` exactly: at most 15 significant digits, and the
    binary double reads back as the same decimal."""
    if not value.is_finite():
        return False
    digits = len(value.normalize().as_tuple().digits)
    return digits <= SPREADSHEET_DIGITS and Decimal(repr(float(value))) == value


def write_workbook(job: Export, target: Path | BinaryIO, *, lang: str = "zh") -> None:
    """Write ``job``'s view (totals, project, organization, county or events pages) as a workbook."""
    book = _Book(target, lang, job.coordinates)
    if job.view == "totals":
        book.totals(job.totals())
    elif job.view == "events":
        book.events(history_records(job.ledger, position=job.coordinates.position))
    else:
        book.pages(job.view, [job.page(job.subject)] if job.subject is not None else job.pages())
    book.close()


def write_totals_workbook(report: TotalsReport, target: Path | BinaryIO, *, lang: str = "zh") -> None:
    """Write one totals report (as ``aidledger report`` computed it) as a workbook."""
    book = _Book(target, lang, report.coordinates)
    book.totals(report)
    book.close()


@dataclass(frozen=True)
class _Column:
    key: str
    cell: Callable[[Any], Any]
    kind: str = "text"  # text, money, rate, number, date, flag


class _Book:
    """A workbook being written: its formats, its sheets, and the coordinates sheet last."""

    def __init__(self, target: Path | BinaryIO, lang: str, coordinates: Coordinates) -> None:
        if lang not in LANGUAGES:
            raise InvalidInput("--lang", lang, "zh (Chinese headers, the default) or en")
        self.lang = lang
        self.coordinates = coordinates
        self.digests: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self.book = xlsxwriter.Workbook(
            target if isinstance(target, Path) is False else str(target),
            {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
        )
        add = self.book.add_format
        self.formats: dict[str, Format] = {
            "header": add({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}),
            "key": add({"italic": True, "font_color": "#595959", "font_size": 9}),
            "text": add({"num_format": "@"}),
            "quoted": add({"num_format": "@", "quote_prefix": True}),
            "money": add({"num_format": _MONEY_FORMAT}),
            "rate": add({"num_format": "0.00%"}),
            "number": add({"num_format": "0"}),
            "date": add({"num_format": "yyyy-mm-dd"}),
            "total": add({"bold": True, "top": 2, "num_format": _MONEY_FORMAT}),
            "total_text": add({"bold": True, "top": 2, "num_format": "@"}),
            "title": add({"bold": True, "font_size": 13}),
        }

    def label(self, key: str) -> str:
        return LABELS.get(key, key) if self.lang == "zh" else key.replace("_", " ")

    def sheet_name(self, key: str) -> str:
        zh, en = _SHEETS[key]
        return zh if self.lang == "zh" else en

    # -- views ----------------------------------------------------------------------------

    def totals(self, report: TotalsReport) -> None:
        labelled = [name for name in report.group_by if name in _LABELLED]
        regions = [name for name in report.group_by if name in REGION_DIMENSIONS]
        counts = ("pledges", "projects", "organizations", "counties", "person_times", "households", "persons")
        columns = [
            _Column("row", lambda p: self.row_kind(p.kind)),
            _Column("flow", lambda p: p.flow),
            *(_Column(name, _key_cell(name)) for name in report.group_by),
            *(_Column(f"{name}_name", _label_cell(report, name)) for name in labelled),
            *(_Column(REGION_DIMENSIONS[name], _region_cell(name)) for name in regions),
            _Column("currency", lambda p: p.row.currency),
            *(_Column(c, _figure_cell(c), "money") for c in STAGE_COLUMNS),
            *(_Column(c, _count_cell(c), "number") for c in counts),
        ]
        published = list(published_rows(report))
        groups = [p for p in published if p.kind == "group"]
        totals = [p for p in published if p.kind != "group"]
        if report.keeper_view:
            self.notes.append(
                "keeper's view: anonymous pledges are filed under their donors' attributes — not for publication"
                if self.lang == "en"
                else "管理者视图：匿名认捐按捐赠方属性归类——不得公开发布"
            )
        if report.group_by:
            self.table(self.sheet_name("data"), columns, groups)
        self.table(self.sheet_name("totals"), columns, totals, total=True)
        self.digests.append(("totals", report.digest))

    def pages(self, view: str, pages: Sequence[ProjectPage | OrganizationPage | CountyPage]) -> None:
        columns = [*_PAGE_COLUMNS[view], _Column("digest", lambda row: row[0].digest)]
        columns += [
            _Column("currency", lambda row: row[1].currency if row[1] else None),
            *(_Column(c, _currency_figure(c), "money") for c in STAGE_COLUMNS),
            _Column("fulfilment_rate", lambda row: row[1].fulfilment_rate if row[1] else None, "rate"),
        ]
        rows = [(page, totals) for page in pages for totals in (page.totals or (None,))]
        self.table(self.sheet_name("data"), columns, rows)
        lines = [line for page in pages if isinstance(page, ProjectPage | OrganizationPage) for line in page.pledges]
        if view in ("project", "organization"):
            self.items(lines)
        for page in pages[:1] if len(pages) == 1 else ():
            self.digests.append((view, page.digest))

    def items(self, lines: Iterable[PledgeLine]) -> None:
        columns = [
            _Column("project_id", lambda r: str(r[0].project_id)),
            _Column("title", lambda r: r[0].project),
            _Column("pledge_id", lambda r: str(r[0].pledge_id)),
            _Column("donor", lambda r: r[0].donor),
            _Column("stage", lambda r: r[0].stage),
            _Column("description", lambda r: r[1].description),
            _Column("quantity", lambda r: Decimal(r[1].quantity), "money_or_text"),
            _Column("unit", lambda r: r[1].unit),
            _Column("value", lambda r: r[0].columns["pledged"], "money"),
            _Column("currency", lambda r: r[0].currency),
        ]
        rows = [(line, item) for line in lines for item in line.items]
        self.table(self.sheet_name("items"), columns, rows)

    def events(self, records: Iterable[dict[str, Any]]) -> None:
        """The history in the import columns (English keys: the import format), every cell text."""
        sheet = self.book.add_worksheet(self.sheet_name("events"))
        for index, column in enumerate(COLUMNS):
            sheet.write_string(0, index, column, self.formats["header"])
        sheet.freeze_panes(1, 0)
        for number, record in enumerate(records, start=1):
            cells = cells_from_record(record)
            for index, column in enumerate(COLUMNS):
                if cells.get(column):
                    self.text(sheet, number, index, cells[column])

    # -- writing ----------------------------------------------------------------------------

    def table(self, name: str, columns: Sequence[_Column], rows: Sequence[Any], *, total: bool = False) -> None:
        sheet = self.book.add_worksheet(name)
        for index, column in enumerate(columns):
            sheet.write_string(0, index, self.label(column.key), self.formats["header"])
            if self.lang == "zh":
                sheet.write_string(1, index, column.key, self.formats["key"])
            sheet.set_column(index, index, 16 if column.kind in ("money", "rate") else 14)
        first = 2 if self.lang == "zh" else 1
        sheet.freeze_panes(first, 0)
        for offset, row in enumerate(rows):
            for index, column in enumerate(columns):
                self.cell(sheet, first + offset, index, column.kind, column.cell(row), total=total)

    def cell(self, sheet: Worksheet, row: int, col: int, kind: str, value: Any, *, total: bool = False) -> None:
        if value is None or value == "":
            return
        if isinstance(value, bool):
            yes, no = _YES_NO[self.lang]
            self.text(sheet, row, col, yes if value else no)
        elif isinstance(value, Decimal):
            self.decimal(sheet, row, col, value, kind, total=total)
        elif isinstance(value, int):
            sheet.write_number(row, col, value, self.formats["number"])
        elif isinstance(value, date):
            sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), self.formats["date"])
        else:
            self.text(sheet, row, col, str(value), total=total)

    def decimal(self, sheet: Worksheet, row: int, col: int, value: Decimal, kind: str, *, total: bool) -> None:
        if exact_as_number(value):
            style = "rate" if kind == "rate" else ("total" if total else "money")
            if kind == "money_or_text":
                style = "number" if value == value.to_integral_value() else "money"
            sheet.write_number(row, col, float(value), self.formats[style])
            return
        self.text(sheet, row, col, str(value), total=total)
        sheet.write_comment(
            row,
            col,
            "exact amount kept as text: a spreadsheet number cannot hold it"
            if self.lang == "en"
            else "金额精确保留为文本：电子表格数字无法精确表示该值",
        )

    def text(self, sheet: Worksheet, row: int, col: int, value: str, *, total: bool = False) -> None:
        quoted = value[:1] in FORMULA_STARTS
        style = "quoted" if quoted else ("total_text" if total else "text")
        sheet.write_string(row, col, value, self.formats[style])

    def row_kind(self, kind: str) -> str:
        zh, en = _ROW_KINDS[kind]
        return zh if self.lang == "zh" else en

    def close(self) -> None:
        self.coordinates_sheet()
        self.book.close()

    def coordinates_sheet(self) -> None:
        sheet = self.book.add_worksheet(self.sheet_name("coordinates"))
        c = self.coordinates
        zh = self.lang == "zh"
        rows: list[tuple[str, Any]] = [
            ("日志位置 log position" if zh else "log position", c.position),
            ("默克尔根 Merkle root" if zh else "Merkle root", c.root or ""),
            ("记录时间早于 recorded before" if zh else "recorded before", c.recorded_before or ""),
            ("生效日期不晚于 effective on" if zh else "effective on", c.effective_on or ""),
            *((f"报告摘要 digest ({view})" if zh else f"digest ({view})", digest) for view, digest in self.digests),
            ("区划名称来源 division names" if zh else "division names", divisions.SOURCE),
            ("区划代码版本 vintage" if zh else "division code vintage", divisions.VINTAGE),
            ("生成工具 written by" if zh else "written by", f"aidledger {version('aidledger')}"),
            (
                "如何核验 how to check" if zh else "how to check",
                "aidledger verify --checkpoint <published checkpoint>; "
                "aidledger report --position <log position> gives the same figures and digest",
            ),
            *(("注意 note" if zh else "note", note) for note in self.notes),
        ]
        title = "本工作簿数据的来源坐标" if zh else "Where these figures come from"
        sheet.write_string(0, 0, title, self.formats["title"])
        sheet.set_column(0, 0, 34)
        sheet.set_column(1, 1, 70)
        for number, (name, value) in enumerate(rows, start=2):
            sheet.write_string(number, 0, name, self.formats["header"])
            if isinstance(value, date):
                sheet.write_datetime(number, 1, datetime(value.year, value.month, value.day), self.formats["date"])
            elif isinstance(value, int):
                sheet.write_number(number, 1, value, self.formats["number"])
            elif isinstance(value, datetime):
                self.text(sheet, number, 1, value.isoformat())
            else:
                self.text(sheet, number, 1, str(value))


def _key_cell(name: str) -> Callable[[Any], Any]:
    return lambda p: p.row.key.get(name, TOTAL_KEYS[p.kind])


def _label_cell(report: TotalsReport, name: str) -> Callable[[Any], Any]:
    return lambda p: report.labels.get(p.row.key.get(name, ""), "")


def _region_cell(name: str) -> Callable[[Any], Any]:
    return lambda p: divisions.name_of(p.row.key.get(name))


def _figure_cell(column: str) -> Callable[[Any], Any]:
    return lambda p: p.figures[column]


def _count_cell(column: str) -> Callable[[Any], Any]:
    return lambda p: getattr(p.row, column) if p.counted else None


def _currency_figure(column: str) -> Callable[[Any], Any]:
    return lambda row: row[1].columns[column] if row[1] else None




def _place_names(code: str | None) -> str | None:
    """``河北省 张家口市 张北县`` for a county code: the names a reader looks for beside it."""
    if not code:
        return None
    names = [d.name for d in divisions.place(code) if d is not None]
    return " ".join(dict.fromkeys(names)) or None


def _page(field: str) -> Callable[[Any], Any]:
    return lambda row: getattr(row[0], field)


def _beneficiaries(name: str) -> Callable[[Any], Any]:
    return lambda row: (row[0].beneficiaries or {}).get(name)


def _list(field: str) -> Callable[[Any], Any]:
    return lambda row: ";".join(getattr(row[0], field)) or None


_PAGE_COLUMNS: dict[str, list[_Column]] = {
    "project": [
        _Column("project_id", lambda row: str(row[0].project_id)),
        _Column("title", _page("title")),
        _Column("implementer", _page("implementer")),
        _Column("region", _page("region")),
        _Column("region_name", lambda row: _place_names(row[0].region)),
        _Column("pooled_fund", _page("pooled_fund")),
        _Column("category", _page("category")),
        _Column("field", _page("field")),
        _Column("campaigns", _list("campaigns")),
        _Column("planned_start", _page("planned_start")),
        _Column("planned_end", _page("planned_end")),
        _Column("status", _page("status")),
        _Column("pledges", lambda row: len(row[0].pledges)),
        *(_Column(name, _beneficiaries(name)) for name in ("person_times", "households", "persons")),
        _Column("disclosures", lambda row: len(row[0].disclosures)),
    ],
    "organization": [
        _Column("organization_id", lambda row: str(row[0].organization_id)),
        _Column("name", _page("name")),
        _Column("kind", _page("kind")),
        _Column("level", _page("level")),
        _Column("home_region", _page("home_region")),
        _Column("home_region_name", lambda row: _place_names(row[0].home_region)),
        _Column("charity", _page("charity")),
        _Column("public_fundraising", _page("public_fundraising")),
        _Column("deregistered_on", _page("deregistered_on")),
        _Column("pledges", lambda row: len(row[0].pledges)),
        _Column(
            "disclosure_record",
            lambda row: ";".join(f"{s}:{n}" for s, n in row[0].disclosure_record.items()) or None,
        ),
    ],
    "county": [
        _Column("county", _page("county")),
        _Column("county_name", lambda row: divisions.name_of(row[0].county)),
        _Column("city_name", lambda row: divisions.name_of(row[0].county[:4] + "00")),
        _Column("province_name", lambda row: divisions.name_of(row[0].county[:2] + "0000")),
        _Column("projects", lambda row: len(row[0].projects)),
    ],
}
"""Per page view: the columns a page's rows start with (a row is ``(page, currency totals)``)."""

_ = CurrencyTotals  # the second element of a page row
