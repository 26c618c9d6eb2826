"""The vendored division code list: names, levels, withdrawn codes and unknown codes."""

from __future__ import annotations

import csv
import io
from importlib.resources import files

from aidledger.domain import divisions


def test_a_current_county_has_its_name_city_and_province() -> None:
    province, city, county = divisions.place("130722")
    assert (province and province.name, city and city.name, county and county.name) == ("河北省", "张家口市", "张北县")
    assert county is not None and county.current and county.level == "county"


def test_a_withdrawn_county_keeps_the_name_it_had_last() -> None:
    """宣化县 (130721) was merged into 宣化区 in 2016; a ledger of 2015 still prints its name."""
    old = divisions.division("130721")
    assert old is not None
    assert (old.name, old.current, old.until) == ("宣化县", False, 2016)
    assert divisions.unknown_code_warning("130721") is None


def test_a_district_of_a_municipality_has_no_city() -> None:
    province, city, county = divisions.place("110105")
    assert province is not None and province.name == "北京市"
    assert city is None
    assert county is not None and county.name == "朝阳区"


def test_a_province_code_names_only_the_province() -> None:
    assert divisions.place("130000") == (divisions.division("130000"), None, None)


def test_an_unknown_code_is_warned_about_naming_the_code_and_the_vintage() -> None:
    warning = divisions.unknown_code_warning("139999")
    assert warning is not None
    assert "'139999'" in warning and divisions.VINTAGE.isoformat() in warning
    assert divisions.division("139999") is None
    assert divisions.place("139999") == (divisions.division("130000"), None, None)


def test_counties_are_the_current_county_level_codes_sorted() -> None:
    listed = divisions.counties()
    assert [d.code for d in listed] == sorted(d.code for d in listed)
    assert all(d.current and d.level == "county" for d in listed)
    assert "130722" in {d.code for d in listed}
    assert "130721" not in {d.code for d in listed}
    assert 2800 < len(listed) < 2900  # about 2,850 county-level divisions in the 2024 list


def test_every_current_code_in_the_file_is_found_under_its_own_name() -> None:
    """A reading of the vendored file with a plain CSV reader agrees with the module for every code in use."""
    text = files("aidledger.domain").joinpath("data/areacodes/result.csv").read_text(encoding="utf-8-sig")
    in_use = [row for row in csv.DictReader(io.StringIO(text)) if row["状态"] == "在用"]
    assert len(in_use) > 3000
    for row in in_use:
        found = divisions.division(row["代码"])
        assert found is not None and found.name == row["名称"] and found.current
