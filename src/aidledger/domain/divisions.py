"""Official names of China's administrative divisions, read from a vendored code list.

The list is the Ministry of Civil Affairs' 县级以上行政区划代码 from 1981 to the end of 2024, as
collected by the areacodes project (CC0; ``data/areacodes/README.md`` gives the source, commit and
vintage). A code is a presentation key only: events store codes, and names are looked up when a
report, a page or a workbook is written, so a newer list changes names on paper, never a figure or
a digest.

Codes that have since been withdrawn (a county merged into a district, say) keep the name they had
last, marked not current, so a 2018 ledger still prints its county names. A code in no vintage is
accepted by the ledger (the list trails the ministry by up to a year) and earns a warning from
:func:`unknown_code_warning`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Literal

__all__ = [
    "SOURCE",
    "VINTAGE",
    "Division",
    "counties",
    "division",
    "name_of",
    "place",
    "unknown_code_warning",
]

VINTAGE = date(2024, 12, 31)
"""The date the newest list in the vendored data is current to (the ministry's 2024 list)."""

SOURCE = "民政部 中华人民共和国县级以上行政区划代码 1981–2024 (via github.com/yescallop/areacodes, CC0)"
"""Where the names come from, as printed beside them in exports."""

Level = Literal["province", "city", "county"]
_LEVELS: dict[str, Level] = {"省级": "province", "地级": "city", "县级": "county"}


@dataclass(frozen=True)
class Division:
    """One administrative division: its 6-digit code, official name and level.

    ``current`` is false for a code the ministry has withdrawn; ``name`` is then the name it had
    when last in use, and ``until`` the first year it was no longer listed.
    """

    code: str
    name: str
    level: Level
    current: bool
    until: int | None = None


@cache
def _table() -> dict[str, Division]:
    text = files("aidledger.domain").joinpath("data/areacodes/result.csv").read_text(encoding="utf-8-sig")
    table: dict[str, Division] = {}
    for row in csv.DictReader(io.StringIO(text)):
        current = row["状态"] == "在用"
        until = None if current else int(row["变更/弃用时间"])
        entry = Division(row["代码"], row["名称"], _LEVELS[row["级别"]], current, until)
        known = table.get(entry.code)
        # A code used more than once keeps its current name, or else the one it had last.
        if known is None or (not known.current and (entry.current or (entry.until or 0) > (known.until or 0))):
            table[entry.code] = entry
    return table


def division(code: str) -> Division | None:
    """The division with this code (its current name, or its last name if withdrawn); None if unknown."""
    return _table().get(code)


@cache
def counties() -> list[Division]:
    """The county-level divisions in use in the newest list, sorted by code."""
    return sorted((d for d in _table().values() if d.level == "county" and d.current), key=lambda d: d.code)


def place(code: str) -> tuple[Division | None, Division | None, Division | None]:
    """The province, city (prefecture) and county a code lies in; None where there is none or it is unknown.

    A province code gives only the province; a city code the province and city; a county directly
    under a province (a municipality's district, a 省直辖县) has no city.
    """
    own = division(code)
    province = division(code[:2] + "0000")
    city = None if code.endswith("0000") else division(code[:4] + "00")
    if city is not None and city.level != "city":
        city = None
    county = own if own is not None and own.level == "county" else None
    return province, city, county


def name_of(code: str | None) -> str | None:
    """The name of a division code (its last name if withdrawn); None if unknown or not a code."""
    found = _table().get(code) if code else None
    return found.name if found is not None else None


def unknown_code_warning(code: str) -> str | None:
    """A warning to show when ``code`` is in no list from 1981 to the vintage; None when it is known."""
    if division(code) is not None:
        return None
    return (
        f"region {code!r} is not in the ministry's list of division codes (1981 to {VINTAGE.isoformat()}); "
        "it is kept as given, but check it: a new code may be missing from the list, a typing slip is not"
    )
