"""The IATI rulesets runner (tests/support/iati_rulesets.py) finds what each rule kind forbids.

Each test breaks one rule of IATI's standard.json in a copy of a valid export and expects exactly
that rule to fail, so a runner that passed everything would fail here.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from tests.support.iati_rulesets import RULE_KINDS, UnknownRule, load_ruleset, org_id_prefixes, run_ruleset

import aidledger
from aidledger.interchange.export import export
from aidledger.interchange.importer import import_file

TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "import-template.csv"
RULESET = load_ruleset()
PREFIXES = org_id_prefixes()

Breakage = Callable[[etree._Element], None]


@pytest.fixture(scope="module")
def valid() -> etree._Element:
    """The import template's export: passes every rule."""
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        import_file(ledger, TEMPLATE)
        out = io.StringIO()
        export(ledger, out, file_format="iati", reporting_org="org-hub")
    document = etree.fromstring(out.getvalue().encode("utf-8"))
    assert run_ruleset(document, RULESET, prefixes=PREFIXES) == []
    return document


def every(document: etree._Element, path: str) -> list[etree._Element]:
    found = document.xpath(path)
    assert isinstance(found, list) and found, path
    return [element for element in found if isinstance(element, etree._Element)]


def first(document: etree._Element, path: str) -> etree._Element:
    return every(document, path)[0]


def add(parent: etree._Element, xml: str, before: str | None = None) -> None:
    element = etree.fromstring(xml)
    if before is None:
        parent.append(element)
    else:
        first(parent, before).addprevious(element)


def set_text(path: str, text: str) -> Breakage:
    def breaking(document: etree._Element) -> None:
        first(document, path).text = text

    return breaking


def set_attribute(path: str, name: str, value: str) -> Breakage:
    def breaking(document: etree._Element) -> None:
        first(document, path).set(name, value)

    return breaking


def remove(path: str) -> Breakage:
    def breaking(document: etree._Element) -> None:
        for element in every(document, path):
            parent = element.getparent()
            assert parent is not None
            parent.remove(element)

    return breaking


def remove_attribute(path: str, name: str) -> Breakage:
    def breaking(document: etree._Element) -> None:
        for element in every(document, path):
            del element.attrib[name]

    return breaking


def both(*breakages: Breakage) -> Breakage:
    def breaking(document: etree._Element) -> None:
        for breakage in breakages:
            breakage(document)

    return breaking


def sectors(*xml: str) -> Breakage:
    def breaking(document: etree._Element) -> None:
        activity = first(document, ACTIVITY)
        for element in activity.findall("sector"):
            activity.remove(element)
        for one in xml:
            add(activity, one, before="default-flow-type")

    return breaking


def two_default_aid_types(document: etree._Element) -> None:
    for code in ("A01", "B01"):
        add(first(document, ACTIVITY), f'<default-aid-type code="{code}"/>', before="budget")


ACTIVITY = "iati-activity[title/narrative='张北县乡村小学助学项目（虚构）']"
"""The school: it has a budget, dates, transactions and a narrative in English."""
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
BREAKAGES: list[tuple[str, str, Breakage]] = [
    ("1.1.3 unique", "1.1.3", set_text(f"{ACTIVITY}/iati-identifier", "CN-USCI-52130000MA0D4E5F6Y")),
    ("1.1.21 startswith", "1.1.21", set_text(f"{ACTIVITY}/iati-identifier", "CN-USCI-1-x")),
    (
        "1.14.8 startswith ORG-ID-PREFIX",
        "1.14.8",
        both(
            set_attribute(f"{ACTIVITY}/reporting-org", "ref", "XX-AIDLEDGER"),
            set_text(f"{ACTIVITY}/iati-identifier", "XX-AIDLEDGER-1"),
        ),
    ),
    ("6.11.1 atleast_one", "6.11.1", remove(f"{ACTIVITY}/activity-date[@type='1' or @type='2']")),
    (
        "4.1.1 one_or_all lang",
        "4.1.1",
        remove_attribute(ACTIVITY, LANG),  # its title's narrative has no language of its own
    ),
    (
        "7.8.1 one_or_all currency",
        "7.8.1",
        both(remove_attribute(ACTIVITY, "default-currency"), remove_attribute(f"{ACTIVITY}/budget/value", "currency")),
    ),
    ("11.1.1 date_now", "11.1.1", set_attribute(ACTIVITY, "last-updated-datetime", "2999-01-01T00:00:00+00:00")),
    ("11.1.2 date_order", "11.1.2", set_attribute(f"{ACTIVITY}/activity-date[@type='1']", "iso-date", "2019-06-01")),
    (
        "11.2.1 date_order NOW",
        "11.2.1",
        set_attribute(f"{ACTIVITY}/transaction/transaction-date", "iso-date", "2999-01-01"),
    ),
    ("1.3.1 no_spaces", "1.3.1", set_text(f"{ACTIVITY}/iati-identifier", "CN-USCI-52130000MA0D4E5F6Y-x ")),
    ("1.3.13 regex_matches", "1.3.13", set_text(f"{ACTIVITY}/iati-identifier", "CN-USCI-52130000MA0D4E5F6Y-a/b")),
    (
        "2.1.2 loop strict_sum",
        "2.1.2",
        sectors(
            '<sector vocabulary="99" code="a" percentage="50"><narrative>a</narrative></sector>',
            '<sector vocabulary="99" code="b" percentage="40"><narrative>b</narrative></sector>',
            '<sector vocabulary="1" code="11120"/>',
        ),
    ),
    (
        "2.1.4 loop if_then",
        "2.1.4",
        sectors(
            '<sector vocabulary="99" code="a" percentage="90"><narrative>a</narrative></sector>',
            '<sector vocabulary="1" code="11120"/>',
        ),
    ),
    (
        "12.3.1 range",
        "12.3.1",
        sectors('<sector vocabulary="1" code="11120" percentage="150"/>'),
    ),
    (
        "2.2.1 if_then",
        "2.2.1",
        sectors('<sector vocabulary="99" code="a"/>', '<sector vocabulary="1" code="11120"/>'),
    ),
    ("107.1.2 no_more_than_one", "107.1.2", two_default_aid_types),
    ("7.5.3 time_limit", "7.5.3", set_attribute(f"{ACTIVITY}/budget/period-end", "iso-date", "2020-03-01")),
    ("8.6.3 date_order", "8.6.3", set_attribute(f"{ACTIVITY}/budget/period-end", "iso-date", "2018-01-01")),
    ("4.3.1 atleast_one //title", "4.3.1", remove(f"{ACTIVITY}/title/narrative")),
]


@pytest.mark.parametrize(("name", "rule_id", "breakage"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_breaking_one_rule_of_standard_json_fails_that_rule(
    valid: etree._Element, name: str, rule_id: str, breakage: Breakage
) -> None:
    """The broken copy fails the rule it breaks, and the runner names it."""
    document = copy.deepcopy(valid)
    breakage(document)
    failed = {failure.rule_id for failure in run_ruleset(document, RULESET, prefixes=PREFIXES)}
    assert rule_id in failed, name


CUSTOM: list[tuple[str, dict[str, Any], bool]] = [
    ("dependent", {"paths": ["budget", "planned-disbursement"]}, False),
    ("dependent", {"paths": ["budget", "title"]}, True),
    ("sum", {"paths": ["budget/value"], "sum": 300000}, True),
    ("sum", {"paths": ["budget/value"], "sum": 1}, False),
    ("sum", {"paths": ["planned-disbursement/value"], "sum": 1}, True),
    ("only_one_of", {"excluded": ["sector"], "paths": ["transaction/sector"]}, True),
    ("only_one_of", {"excluded": ["sector"], "paths": ["title"]}, False),
    ("regex_no_matches", {"paths": ["iati-identifier"], "regex": "^CN-"}, False),
    ("regex_no_matches", {"paths": ["iati-identifier"], "regex": "/"}, True),
    ("between_dates", {"date": "activity-date[@type='2']/@iso-date", "start": "activity-date[@type='1']/@iso-date",
                       "end": "activity-date[@type='3']/@iso-date"}, True),
    ("between_dates", {"date": "activity-date[@type='3']/@iso-date", "start": "activity-date[@type='2']/@iso-date",
                       "end": "activity-date[@type='1']/@iso-date"}, False),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "case", "passes"), CUSTOM)
def test_rule_kinds_standard_json_does_not_use_for_activities_pass_and_fail(
    valid: etree._Element, rule: str, case: dict[str, Any], passes: bool
) -> None:
    """The spec's other kinds, on the school activity (it has a budget, dates, sectors)."""
    school = "/iati-activities/iati-activity[title/narrative='张北县乡村小学助学项目（虚构）']"
    failures = run_ruleset(valid, {school: {rule: {"cases": [case]}}}, prefixes=PREFIXES)
    assert (failures == []) == passes


def test_every_rule_kind_of_standard_json_is_implemented() -> None:
    """standard.json uses no kind the runner lacks (it would raise UnknownRule)."""

    def kinds(rules: dict[str, Any]) -> set[str]:
        found = set(rules)
        for case in rules.get("loop", {}).get("cases", []):
            found |= kinds(case["do"])
        return found

    used = set().union(*(kinds(rules) for rules in RULESET.values()))
    assert used <= set(RULE_KINDS)


def test_an_unknown_case_key_is_refused(valid: etree._Element) -> None:
    """A key the runner does not read would change what the rule means: refused, not ignored."""
    ruleset = {"/iati-activities/iati-activity": {"atleast_one": {"cases": [{"paths": ["title"], "eval": "1"}]}}}
    with pytest.raises(UnknownRule, match="eval"):
        run_ruleset(valid, ruleset, prefixes=PREFIXES)
