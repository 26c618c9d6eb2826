"""IATI's published rulesets, run on an IATI XML document (a test helper, not part of the library).

The rules are IATI-Rulesets' ``standard.json`` for IATI 2.03, vendored with its licence in
``tests/data/iati-rulesets/`` (its README names the commit). Each rule kind follows the
specification (SPEC.rst of the same commit) and, where the specification is silent, IATI's
reference implementation (IATI/js-validator-api, ``services/rulesValidator.js``), with four
deliberate differences, each stricter than the reference:

- a date rule compares every date its paths match, not only the first one;
- a date that cannot be read fails its rule instead of being skipped;
- ``if_then``'s ``then`` is an XPath boolean (the reference returns a node set, which never fails);
- a ``loop`` puts its value for ``$1`` in every key of a case, not only the keys ``subs`` lists:
  rule 2.1.2 lists only ``paths``, so in the reference its ``condition`` keeps a literal ``$1`` and
  the rule never applies to a vocabulary other than DAC's.

A rule kind, a case key, a ``one_or_all`` keyword or an ``idCondition`` this runner does not know
raises ``UnknownRule``: a rule is never skipped silently.

Two rules need lists from outside the file. ``ORG-ID-PREFIX`` is the org-id.guide register's
confirmed prefixes (vendored as ``org-id-prefixes.txt``). ``idCondition`` asks whether an id is a
publisher registered with IATI; we have no copy of the registry, so the set is empty by default,
which makes every such rule apply (the stricter reading).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

__all__ = [
    "ORG_ID_PREFIXES",
    "RULE_KINDS",
    "STANDARD",
    "Failure",
    "UnknownRule",
    "load_ruleset",
    "org_id_prefixes",
    "run_ruleset",
]

DATA = Path(__file__).resolve().parents[1] / "data" / "iati-rulesets"
STANDARD = DATA / "standard.json"
ORG_ID_PREFIXES = DATA / "org-id-prefixes.txt"

Node = Any
"""An lxml element, or an attribute or text result (a string that knows its parent)."""


class UnknownRule(Exception):
    """The ruleset uses a rule kind, key or keyword this runner does not implement."""


@dataclass(frozen=True)
class Failure:
    """One rule case that failed on one element."""

    rule_id: str
    severity: str
    rule: str
    context: str
    activity: str
    element: str
    message: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule_id} ({self.severity}, {self.rule}) in {self.activity} at {self.element}: {self.detail}"


def load_ruleset(path: Path = STANDARD) -> dict[str, Any]:
    """The ruleset JSON."""
    ruleset: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return ruleset


def org_id_prefixes(path: Path = ORG_ID_PREFIXES) -> frozenset[str]:
    """The org-id.guide register's confirmed prefixes (``CN-USCI``, ``GB-COH``, ...)."""
    return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def run_ruleset(
    document: etree._Element,
    ruleset: Mapping[str, Any],
    *,
    prefixes: frozenset[str],
    registered_org_ids: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> list[Failure]:
    """Every failed rule case of the ruleset on the document (an ``iati-activities`` element)."""
    failures: list[Failure] = []
    tree = document.getroottree()
    for context, rules in ruleset.items():
        for element in _nodes(document, context):
            for rule, body in rules.items():
                for case in body["cases"]:
                    runner = _Case(element, prefixes, registered_org_ids, now or datetime.now(UTC))
                    for name, one, detail in runner.run(rule, case):
                        failures.append(_failure(tree, context, element, name, one, detail))
    return failures


RULE_KINDS = (
    "atleast_one",
    "between_dates",
    "date_now",
    "date_order",
    "dependent",
    "if_then",
    "loop",
    "no_more_than_one",
    "no_spaces",
    "one_or_all",
    "only_one_of",
    "range",
    "regex_matches",
    "regex_no_matches",
    "startswith",
    "strict_sum",
    "sum",
    "time_limit",
    "unique",
)
"""Every rule kind of IATI-Rulesets' SPEC.rst (2.03); ``loop`` runs the others."""

_KEYS: dict[str, frozenset[str]] = {
    "atleast_one": frozenset({"condition", "paths"}),
    "between_dates": frozenset({"condition", "date", "start", "end"}),
    "date_now": frozenset({"condition", "date"}),
    "date_order": frozenset({"condition", "less", "more"}),
    "dependent": frozenset({"condition", "paths"}),
    "if_then": frozenset({"condition", "if", "then", "paths"}),
    "loop": frozenset({"foreach", "do", "subs"}),
    "no_more_than_one": frozenset({"condition", "paths"}),
    "no_spaces": frozenset({"condition", "paths"}),
    "one_or_all": frozenset({"condition", "one", "all"}),
    "only_one_of": frozenset({"condition", "excluded", "paths"}),
    "range": frozenset({"condition", "paths", "min", "max"}),
    "regex_matches": frozenset({"condition", "idCondition", "paths", "regex"}),
    "regex_no_matches": frozenset({"condition", "idCondition", "paths", "regex"}),
    "startswith": frozenset({"condition", "idCondition", "paths", "prefix", "separator"}),
    "strict_sum": frozenset({"condition", "paths", "sum"}),
    "sum": frozenset({"condition", "paths", "sum"}),
    "time_limit": frozenset({"condition", "start", "end"}),
    "unique": frozenset({"condition", "paths"}),
}
_METADATA = frozenset({"ruleInfo"})

Outcome = tuple[str, Mapping[str, Any], str]
"""A failed case: the rule kind, the case, what was wrong."""


class _Case:
    """Runs rule cases on one context element."""

    def __init__(self, element: Node, prefixes: frozenset[str], registered: frozenset[str], now: datetime) -> None:
        self.element = element
        self.prefixes = prefixes
        self.registered = registered
        self.now = now

    def run(self, rule: str, case: Mapping[str, Any]) -> list[Outcome]:
        if rule not in _KEYS:
            raise UnknownRule(f"rule kind {rule!r} is not implemented (known: {', '.join(RULE_KINDS)})")
        unknown = set(case) - _KEYS[rule] - _METADATA
        if unknown:
            raise UnknownRule(f"rule {rule!r} has keys this runner does not know: {sorted(unknown)}")
        if rule == "loop":
            return self._loop(case)
        if "condition" in case and not self._true(case["condition"]):
            return []
        if "idCondition" in case and not self._id_condition(case["idCondition"], case["paths"]):
            return []
        check: Callable[[Mapping[str, Any]], str | None] = getattr(self, f"_{rule}")
        problem = check(case)
        return [] if problem is None else [(rule, case, problem)]

    # -- XPath ---------------------------------------------------------------------------------

    def _matches(self, paths: Iterable[str]) -> list[Node]:
        return [node for path in paths for node in _nodes(self.element, path)]

    def _texts(self, paths: Iterable[str]) -> list[str]:
        return [_text(node) for node in self._matches(paths)]

    def _true(self, expression: str) -> bool:
        return bool(self.element.xpath(f"boolean({expression})"))

    def _id_condition(self, condition: str, paths: list[str]) -> bool:
        texts = self._texts(paths)
        if condition == "NOT_EXISTING_ORG_ID":
            return all(text not in self.registered for text in texts)
        if condition == "NOT_EXISTING_ORG_ID_PREFIX":
            return all(not text.startswith(f"{org}-") for text in texts for org in self.registered)
        raise UnknownRule(f"idCondition {condition!r} is not implemented")

    def _dates(self, path: str) -> list[datetime] | str:
        if path == "NOW":
            return [self.now]
        found = []
        for text in self._texts([path]):
            parsed = _date(text)
            if parsed is None:
                return f"{path} = {text!r} is not a date"
            found.append(parsed)
        return found

    # -- the rule kinds ------------------------------------------------------------------------

    def _loop(self, case: Mapping[str, Any]) -> list[Outcome]:
        values = list(dict.fromkeys(_text(node) for node in _nodes(self.element, case["foreach"])))
        outcomes: list[Outcome] = []
        for rule, body in case["do"].items():
            for sub_case in body["cases"]:
                for value in values:
                    outcomes += self.run(rule, _substitute(sub_case, case["subs"], value))
        return outcomes

    def _atleast_one(self, case: Mapping[str, Any]) -> str | None:
        return None if self._matches(case["paths"]) else f"none of {case['paths']} found"

    def _no_more_than_one(self, case: Mapping[str, Any]) -> str | None:
        found = len(self._matches(case["paths"]))
        return None if found <= 1 else f"{found} of {case['paths']} found"

    def _dependent(self, case: Mapping[str, Any]) -> str | None:
        present = [path for path in case["paths"] if _nodes(self.element, path)]
        if present and len(present) != len(case["paths"]):
            return f"{present} present without {[p for p in case['paths'] if p not in present]}"
        return None

    def _only_one_of(self, case: Mapping[str, Any]) -> str | None:
        found = len(self._matches(case["paths"]))
        for excluded in case["excluded"]:
            if _nodes(self.element, excluded) and found:
                return f"{case['paths']} present beside {excluded}"
            if not _nodes(self.element, excluded) and found != 1:
                return f"{found} of {case['paths']} found, exactly one expected"
        return None

    def _one_or_all(self, case: Mapping[str, Any]) -> str | None:
        if _nodes(self.element, case["one"]):
            return None
        keyword = case["all"]
        if keyword == "lang":
            missing = [n for n in _nodes(self.element, "descendant::narrative") if not n.xpath("@xml:lang")]
        elif keyword == "sector":
            missing = [t for t in _nodes(self.element, "transaction") if not t.xpath("sector")]
        elif keyword == "recipient-country|recipient-region":
            missing = [t for t in _nodes(self.element, "transaction") if not t.xpath(keyword)]
        elif keyword == "currency":
            amounts = _nodes(self.element, "descendant::value | descendant::forecast | descendant::loan-status")
            missing = [n for n in amounts if not n.xpath("@currency")]
        else:
            raise UnknownRule(f"one_or_all keyword {keyword!r} is not implemented")
        return None if not missing else f"no {case['one']} and {len(missing)} elements without {keyword}"

    def _unique(self, case: Mapping[str, Any]) -> str | None:
        texts = self._texts(case["paths"])
        return None if len(texts) == len(set(texts)) else f"{case['paths']} repeat a value: {texts}"

    def _sum(self, case: Mapping[str, Any]) -> str | None:
        return self._strict_sum(case) if self._matches(case["paths"]) else None

    def _strict_sum(self, case: Mapping[str, Any]) -> str | None:
        try:
            total = sum((Decimal(text) for text in self._texts(case["paths"])), Decimal(0))
        except InvalidOperation:
            return f"{case['paths']} are not all numbers"
        expected = Decimal(str(case["sum"]))
        return None if total.quantize(Decimal("0.0001")) == expected else f"the sum is {total}, not {expected}"

    def _range(self, case: Mapping[str, Any]) -> str | None:
        for text in self._texts(case["paths"]):
            try:
                value = Decimal(text)
            except InvalidOperation:
                return f"{text!r} is not a number"
            low = Decimal(str(case.get("min", value)))
            high = Decimal(str(case.get("max", value)))
            if not low <= value <= high:
                return f"{value} is outside {low}..{high}"
        return None

    def _no_spaces(self, case: Mapping[str, Any]) -> str | None:
        spaced = [text for text in self._texts(case["paths"]) if text != text.strip()]
        return None if not spaced else f"leading or trailing space in {spaced}"

    def _regex_matches(self, case: Mapping[str, Any]) -> str | None:
        pattern = re.compile(case["regex"])
        bad = [text for text in self._texts(case["paths"]) if text and not pattern.search(text)]
        return None if not bad else f"{bad} do not match {case['regex']}"

    def _regex_no_matches(self, case: Mapping[str, Any]) -> str | None:
        pattern = re.compile(case["regex"])
        bad = [text for text in self._texts(case["paths"]) if text and pattern.search(text)]
        return None if not bad else f"{bad} match {case['regex']}"

    def _startswith(self, case: Mapping[str, Any]) -> str | None:
        texts = self._texts(case["paths"])
        if case["prefix"] == ["ORG-ID-PREFIX"]:
            bad = [text for text in texts if "-".join(text.split("-")[:2]) not in self.prefixes]
            return None if not bad else f"{bad} do not start with an org-id.guide prefix"
        separator = case.get("separator", "")
        starts = [start + separator for start in self._texts(case["prefix"])]
        bad = [text for text in texts if not any(text.startswith(start) for start in starts)]
        return None if not bad else f"{bad} do not start with any of {starts}"

    def _if_then(self, case: Mapping[str, Any]) -> str | None:
        if self._true(case["if"]) and not self._true(case["then"]):
            return f"{case['if']} holds but {case['then']} does not"
        return None

    def _date_order(self, case: Mapping[str, Any]) -> str | None:
        less, more = self._dates(case["less"]), self._dates(case["more"])
        if isinstance(less, str) or isinstance(more, str):
            return less if isinstance(less, str) else str(more)
        late = [(a, b) for a in less for b in more if a > b]
        return None if not late else f"{case['less']} {late[0][0]} is after {case['more']} {late[0][1]}"

    def _date_now(self, case: Mapping[str, Any]) -> str | None:
        dates = self._dates(case["date"])
        if isinstance(dates, str):
            return dates
        future = [day for day in dates if day > self.now]
        return None if not future else f"{case['date']} {future[0]} is in the future"

    def _time_limit(self, case: Mapping[str, Any]) -> str | None:
        starts, ends = self._dates(case["start"]), self._dates(case["end"])
        if isinstance(starts, str) or isinstance(ends, str):
            return starts if isinstance(starts, str) else str(ends)
        long = [(a, b) for a in starts for b in ends if (b - a).days > 365]
        return None if not long else f"{long[0][0].date()}..{long[0][1].date()} is longer than a year"

    def _between_dates(self, case: Mapping[str, Any]) -> str | None:
        days, starts, ends = self._dates(case["date"]), self._dates(case["start"]), self._dates(case["end"])
        for found in (days, starts, ends):
            if isinstance(found, str):
                return found
        assert not isinstance(days, str) and not isinstance(starts, str) and not isinstance(ends, str)
        outside = [day for day in days if not all(s <= day for s in starts) or not all(day <= e for e in ends)]
        return None if not outside else f"{case['date']} {outside[0]} is outside {case['start']}..{case['end']}"


def _nodes(element: Node, path: str) -> list[Node]:
    found = element.xpath(path)
    if not isinstance(found, list):
        raise UnknownRule(f"{path!r} is not a node-set expression")
    return found


def _text(node: Node) -> str:
    if isinstance(node, etree._Element):
        return "".join(str(text) for text in node.itertext())
    return str(node)


def _date(text: str) -> datetime | None:
    """An ``xs:date`` or ``xs:dateTime`` as an aware time (a date is midnight UTC, as the reference reads it)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _substitute(case: Mapping[str, Any], keys: list[str], value: str) -> dict[str, Any]:
    done = dict(case)
    for key in set(keys) | {k for k, v in case.items() if k not in _METADATA and "$1" in json.dumps(v)}:
        if key not in done:
            continue
        if isinstance(done[key], str):
            done[key] = done[key].replace("$1", value)
        else:
            done[key] = [item.replace("$1", value) for item in done[key]]
    return done


def _failure(
    tree: etree._ElementTree, context: str, element: Node, rule: str, case: Mapping[str, Any], detail: str
) -> Failure:
    info = case.get("ruleInfo", {})
    activity = element.xpath("string(ancestor-or-self::iati-activity/iati-identifier)") or "(file)"
    return Failure(
        rule_id=str(info.get("id", "?")),
        severity=str(info.get("severity", "?")),
        rule=rule,
        context=context,
        activity=str(activity),
        element=tree.getpath(element),
        message=str(info.get("message", "")),
        detail=detail,
    )
