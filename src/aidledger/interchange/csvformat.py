"""The CSV form of command records: one command per row, one column per field (docs/import.md).

A row names its command in the ``command`` column and fills the columns of that command's
fields; an empty cell is an absent field. Nested values are flattened:

- ``amount`` and ``budget`` hold a plain decimal; ``currency`` (empty = CNY) applies to them, or,
  on a row of goods (``items``) with no amount — an unvalued gift — to the gift;
- ``source_reference``, ``source_url``, ``source_sha256`` make up the evidence ``source``;
- ``items`` holds in-kind items as ``description|quantity|unit``, separated by ``;``
  (write ``\\|``, ``\\;`` and ``\\\\`` for a literal ``|``, ``;`` or backslash);
- ``campaigns`` holds campaign tags separated by ``;`` (same escapes), and ``clear`` the profile
  fields an ``update_organization`` clears, likewise;
- booleans are ``true``/``false`` (also ``TRUE``/``FALSE``, ``yes``/``no``, ``1``/``0``, ``是``/``否``).

Columns whose header starts with ``#`` are notes and are ignored. :func:`record_from_cells` reads
a row into a record and :func:`cells_from_record` writes one; they are inverse to each other on
every record the ledger can export.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from aidledger.interchange.commands import COMMAND_CLASSES
from aidledger.interchange.vocabulary import COLUMN_NAMES, ENUM_COLUMNS, command_key, enum_key

__all__ = [
    "BOOLEAN_COLUMNS",
    "COLUMNS",
    "DATE_COLUMNS",
    "FORMULA_STARTS",
    "INTEGER_COLUMNS",
    "MONEY_COLUMNS",
    "SOURCE_COLUMNS",
    "CellProblem",
    "SpreadsheetWriter",
    "cells_from_record",
    "check_amount_text",
    "check_date_text",
    "columns_of",
    "neutralise_cell",
    "record_from_cells",
    "restore_cell",
]

COLUMNS: tuple[str, ...] = (
    "command",
    "command_id",
    "effective_on",
    "recorded_by",
    # organizations
    "name",
    "kind",
    "level",
    "home_region",
    "credit_code",
    "charity",
    "charity_since",
    "public_fundraising",
    "public_fundraising_from",
    "public_fundraising_until",
    "organization_id",
    "clear",
    # projects
    "title",
    "implementing_organization_id",
    "region",
    "pooled_fund",
    "category",
    "field",
    "campaigns",
    "planned_start",
    "planned_end",
    "budget",
    "project_id",
    "person_times",
    "households",
    "persons",
    "period_start",
    "period_end",
    "channel",
    "url",
    "content_sha256",
    # pledges and disbursements
    "donor_id",
    "amount",
    "currency",
    "items",
    "stage",
    "channel_id",
    "funded_from",
    "funded_from_pool",
    "anonymous",
    "flow",
    "pledge_id",
    "method",
    "disbursement_id",
    "reason",
    "confirmed_on",
    # evidence
    "source_reference",
    "source_url",
    "source_sha256",
)
"""Every column the CSV format knows, in the order templates and exports use."""

assert set(COLUMNS) == set(COLUMN_NAMES), sorted(set(COLUMNS) ^ set(COLUMN_NAMES))

BOOLEAN_COLUMNS = frozenset({"charity", "public_fundraising", "pooled_fund", "anonymous"})
INTEGER_COLUMNS = frozenset({"person_times", "households", "persons"})
DATE_COLUMNS = frozenset(
    {
        "effective_on",
        "charity_since",
        "public_fundraising_from",
        "public_fundraising_until",
        "planned_start",
        "planned_end",
        "period_start",
        "period_end",
        "confirmed_on",
    }
)
MONEY_COLUMNS = ("amount", "budget")
SOURCE_COLUMNS = {"source_reference": "reference", "source_url": "url", "source_sha256": "sha256"}
LIST_COLUMNS = frozenset({"campaigns", "clear"})

_TRUE = frozenset({"true", "yes", "y", "1", "是", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "f"})
BOOLEAN_ACCEPTED = "true or false (also TRUE/FALSE, yes/no, 1/0, 是/否)"
AMOUNT_ACCEPTED = (
    "a positive decimal number with at most 2 decimal places, e.g. 1234.50, 1,234.50 or 378万 (exactly 3780000)"
)
DATE_ACCEPTED = "a date written YYYY-MM-DD, e.g. 2018-08-01 (also 2018/8/1 or 2018年8月1日)"
ITEMS_ACCEPTED = "items as description|quantity|unit, several separated by ';', e.g. 棉被|400|床;冬衣|250|套"


@dataclass(frozen=True)
class CellProblem:
    """A cell (or record field) that cannot be read: where, what was given, what is accepted."""

    column: str
    value: Any
    message: str


@cache
def columns_of(command: str) -> frozenset[str]:
    """The CSV columns a command takes (``command`` included)."""
    columns = {"command"}
    for name, field in COMMAND_CLASSES[command].model_fields.items():
        key = field.alias or name
        if key == "source":
            columns.update(SOURCE_COLUMNS)
        elif key in MONEY_COLUMNS:
            columns.update((key, "currency"))
        else:
            columns.add(key)
    return frozenset(columns)


# -- reading ------------------------------------------------------------------------------------


def record_from_cells(cells: dict[str, str]) -> tuple[dict[str, Any], list[CellProblem]]:
    """Read one row (column -> cell text) into a command record.

    Empty cells are left out. Cells that cannot be read are left out too and reported; the rest
    of the record is returned so that every problem of the row can be found at once.
    """
    given = {column: restore_cell(text.strip()) for column, text in cells.items() if text.strip()}
    record: dict[str, Any] = {}
    problems: list[CellProblem] = []
    currency = given.pop("currency", None)
    source = {SOURCE_COLUMNS[c]: given.pop(c) for c in list(given) if c in SOURCE_COLUMNS}
    if source:
        record["source"] = source
    for column, text in given.items():
        try:
            record[column] = _read_cell(column, text)
        except ValueError as error:
            problems.append(CellProblem(column, text, str(error)))
    if currency is not None:
        money = [c for c in MONEY_COLUMNS if c in record]
        if not money and "items" in given:  # goods with no amount: the currency of the rows counting them
            record["currency"] = currency
        elif not money and not any(p.column in MONEY_COLUMNS for p in problems):
            problems.append(CellProblem("currency", currency, "applies to an amount or budget; fill that column too"))
        for column in money:
            record[column] = {"value": record[column], "currency": currency}
    return record, problems


def _read_cell(column: str, text: str) -> Any:
    if column == "command":
        return command_key(text)
    if column in BOOLEAN_COLUMNS:
        return _boolean(text)
    if column in INTEGER_COLUMNS:
        digits = unicodedata.normalize("NFKC", text).replace(",", "")
        if not re.fullmatch(r"\d+", digits) or ("," in text and not _THOUSANDS.fullmatch(text)):
            msg = "is not a whole number; accepted: digits only, e.g. 1200 or 1,200 (no decimals)"
            raise ValueError(msg)
        return int(digits)
    if column in MONEY_COLUMNS:
        return check_amount_text(text)
    if column in DATE_COLUMNS:
        return check_date_text(text)
    if column in ENUM_COLUMNS:
        return enum_key(column, text)
    if column == "items":
        return [_item(part) for part in _split_list(text)]
    if column in LIST_COLUMNS:
        return [_unescape(part) for part in _split_list(text)]
    return text


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    msg = f"is not a yes/no value; accepted: {BOOLEAN_ACCEPTED}"
    raise ValueError(msg)


def check_amount_text(text: str) -> str:
    """The plain decimal an amount cell means, or ``ValueError`` saying why it cannot be read.

    Accepted as well as plain decimals: full-width digits (１２３), thousands separators in their
    places (3,780,000.50 — also the full-width ，), and a count of 万 (ten thousand) or 亿 (a
    hundred million) written after the number (378万 = 3780000, 3.78万 = 37800.00): multiplying by
    a power of ten is exact, so nothing is rounded. Refused with advice: currency signs and units,
    a decimal comma, misplaced separators, scientific notation. Range and decimal places are
    checked by the command model.
    """
    normal = unicodedata.normalize("NFKC", text).strip()
    scale = {"万": 10_000, "亿": 100_000_000}.get(normal[-1:])
    if scale is not None:
        normal = normal[:-1].strip()
    if re.search(r"[¥$€£]|RMB|CNY|元", normal, flags=re.IGNORECASE):
        reason = "has a currency sign or unit; write the number only (the currency column names the currency)"
    elif "," in normal and not _THOUSANDS.fullmatch(normal):
        reason = (
            "has a comma that is not a thousands separator (a decimal comma, or digits grouped other than "
            "by three); write 1234.50 or 1,234.50"
        )
    elif re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+", normal):
        reason = (
            "is in scientific notation (as spreadsheets display long numbers); "
            "format the column as Number or Text so the digits are written out"
        )
    else:
        plain = normal.replace(",", "")
        if scale is None or not _DECIMAL.fullmatch(plain):
            return plain if scale is None else text
        return format(Decimal(plain) * scale, "f")
    msg = f"{reason}; accepted: {AMOUNT_ACCEPTED}"
    raise ValueError(msg)


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
_SPELLED_DATE = re.compile(r"(\d{4})\s*[/.\-年]\s*(\d{1,2})\s*[/.\-月]\s*(\d{1,2})\s*日?(\s+0{1,2}:00(:00)?)?")


def check_date_text(text: str) -> str:
    """The ``YYYY-MM-DD`` a date cell means: also read as Excel and clerks write dates
    (``2020/1/1``, ``2020.1.1``, ``2020年1月1日``, full-width digits, a time of ``0:00`` after it).
    Whether it is a real calendar date is checked by the command model."""
    normal = unicodedata.normalize("NFKC", text).strip()
    match = _SPELLED_DATE.fullmatch(normal)
    if match is None:
        return text
    year, month, day = match.group(1), match.group(2), match.group(3)
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _item(text: str) -> dict[str, str]:
    parts = [_unescape(part).strip() for part in _split(text, "|")]
    if len(parts) != 3 or not all(parts):
        msg = f"item {_unescape(text)!r} does not have 3 parts; accepted: {ITEMS_ACCEPTED}"
        raise ValueError(msg)
    description, quantity, unit = parts
    return {"description": description, "quantity": quantity, "unit": unit}


def _split_list(text: str) -> list[str]:
    """Split a ``;``-separated cell at unescaped ``;``; parts keep their escapes, empty ones are dropped."""
    return [part.strip() for part in _split(text, ";") if part.strip()]


def _split(text: str, separator: str) -> list[str]:
    """Split at each ``separator`` not escaped by a backslash; escapes are kept in the parts."""
    parts, start, index = [], 0, 0
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == separator:
            parts.append(text[start:index])
            start = index + 1
        index += 1
    parts.append(text[start:])
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


# -- spreadsheets: formula injection -----------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP's list)."""

_QUOTED_FORMULA = re.compile("'*[=+\\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def neutralise_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading apostrophe.

    Text that starts with ``= + - @``, a tab or a carriage return, after any apostrophes, is
    written with one more apostrophe in front (``=1+1`` -> ``'=1+1``, ``'=1`` -> ``''=1``), so
    :func:`restore_cell` can always take it off again. Plain numbers (``-5.00``) and anything not
    text are written as they are: a spreadsheet reads them as numbers, never as formulas.
    """
    if not isinstance(value, str) or _PLAIN_NUMBER.fullmatch(value) or not _QUOTED_FORMULA.match(value):
        return value
    return "'" + value


def restore_cell(text: str) -> str:
    """The text :func:`neutralise_cell` was given: one leading apostrophe off a quoted formula start."""
    return text[1:] if text.startswith("'") and _QUOTED_FORMULA.match(text) else text


class SpreadsheetWriter:
    """A ``csv.writer`` whose every cell goes through :func:`neutralise_cell`."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, cells: Iterable[Any]) -> None:
        """Write one row, formula-like text quoted."""
        self._writer.writerow([neutralise_cell(cell) for cell in cells])


# -- writing ------------------------------------------------------------------------------------


def cells_from_record(record: dict[str, Any]) -> dict[str, str]:
    """Write a command record (as exported, or as a JSON Lines file holds it) as CSV cells."""
    cells: dict[str, str] = {}
    for key, value in record.items():
        if value is None:
            continue
        if key == "source":
            for column, part in SOURCE_COLUMNS.items():
                if value.get(part) is not None:
                    cells[column] = str(value[part])
        elif key in MONEY_COLUMNS and isinstance(value, dict):
            cells[key] = str(value["value"])
            if value.get("currency", "CNY") != "CNY":
                cells["currency"] = str(value["currency"])
        elif key == "items":
            cells[key] = ";".join(
                "|".join(_escape(str(item[part]), "|;") for part in ("description", "quantity", "unit"))
                for item in value
            )
        elif key in LIST_COLUMNS:
            cells[key] = ";".join(_escape(str(v), ";") for v in value)
        elif isinstance(value, bool):
            cells[key] = "true" if value else "false"
        else:
            cells[key] = str(value)
    return cells


def _escape(text: str, specials: str) -> str:
    escaped = text.replace("\\", "\\\\")
    for char in specials:
        escaped = escaped.replace(char, "\\" + char)
    return escaped
