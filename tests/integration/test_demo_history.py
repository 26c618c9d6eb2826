"""The bundled synthetic demo history, loaded into a real SQLite file, reproduces DESIGN §9.

DESIGN §9 (seed 001): as of August 2018 the campaign reported 403 projects and 446 million yuan,
counting signed and intended pledges together, by category and by donor level. The figures
below are copied from DESIGN §9, not from ``aidledger.demo``, so the two are checked against
each other. Every figure is explained by events whose contributions add up to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import aidledger
from aidledger import AidLedger, projections
from aidledger.canonical import canonical_json
from aidledger.demo import history
from aidledger.interchange.commands import run_command

AS_OF = "2018-08-31"
"""DESIGN §9's "as of August 2018": effective on the last day of that month."""

BY_CATEGORY = {
    "direct_aid": (118, Decimal("37000000.00")),
    "capacity": (192, Decimal("284000000.00")),
    "public_welfare": (93, Decimal("125000000.00")),
}
BY_DONOR_LEVEL = {
    "national": (18, Decimal("50000000.00")),
    "provincial": (380, Decimal("336000000.00")),
    "municipal": (5, Decimal("60000000.00")),
}
GRAND_TOTAL = (403, Decimal("446000000.00"))

EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "examples" / "campaign-2018" / "history.jsonl"

MONEY_EVENTS = {"Pledge.Made", "Pledge.Signed", "Pledge.Amended", "Pledge.Withdrawn"}
"""The events that can move the pledged figure."""


@dataclass(frozen=True)
class LoadedDemo:
    """The demo history loaded into an SQLite file."""

    path: Path
    ledger: AidLedger
    records: int


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedDemo]:
    """The demo history, loaded once into an SQLite file for this module."""
    path = tmp_path_factory.mktemp("demo") / "campaign-2018.db"
    ledger = aidledger.open(path)
    count = 0
    for record in history():
        run_command(ledger, record)
        count += 1
    yield LoadedDemo(path=path, ledger=ledger, records=count)
    ledger.close()


def table(ledger: AidLedger, dimension: str) -> dict[str, tuple[int, Decimal]]:
    """Projects and pledged yuan per value of ``dimension``, as of DESIGN §9's date.

    §9 counts every pledge under its donor's level, anonymous ones too: the keeper's view.
    """
    report = projections.totals(ledger, (dimension,), effective_on=AS_OF, keeper_view=True)
    assert {row.currency for row in report.rows} == {"CNY"}
    return {row.key[dimension]: (row.projects, row.columns["pledged"]) for row in report.rows}


def test_demo_totals_by_category_reproduce_design_section_9(demo: LoadedDemo) -> None:
    """Projects and pledged yuan by category equal DESIGN §9's first table exactly."""
    assert table(demo.ledger, "category") == BY_CATEGORY


def test_demo_totals_by_donor_level_reproduce_design_section_9(demo: LoadedDemo) -> None:
    """Projects and pledged yuan by donor level equal DESIGN §9's second table exactly."""
    assert table(demo.ledger, "donor_level") == BY_DONOR_LEVEL


def test_demo_grand_total_is_403_projects_and_446_million_yuan(demo: LoadedDemo) -> None:
    """The grand total counts 403 projects and 446,000,000 yuan pledged (signed and intended together)."""
    report = projections.totals(demo.ledger, effective_on=AS_OF)
    (grand,) = report.totals
    assert (grand.currency, grand.projects, grand.columns["pledged"]) == ("CNY", *GRAND_TOTAL)
    assert grand.columns["pledged"] == grand.columns["intended"] + grand.columns["signed"]
    assert report.coordinates.effective_on == date(2018, 8, 31)
    assert report.coordinates.position == demo.ledger.position()


def test_demo_reports_carry_their_coordinates_and_a_digest_of_their_canonical_json(demo: LoadedDemo) -> None:
    """The §9 report names its effective date and log position, and its digest is SHA-256 of its body."""
    report = projections.totals(demo.ledger, ("category",), effective_on=AS_OF)
    assert report.digest == hashlib.sha256(canonical_json(report.body())).hexdigest()
    again = projections.totals(demo.ledger, ("category",), effective_on=AS_OF)
    assert again.canonical() == report.canonical()


@pytest.mark.parametrize(("dimension", "expected"), [("category", BY_CATEGORY), ("donor_level", BY_DONOR_LEVEL)])
def test_explain_of_each_design_section_9_figure_adds_up_to_it(
    demo: LoadedDemo, dimension: str, expected: dict[str, tuple[int, Decimal]]
) -> None:
    """For every row, explain("pledged") lists pledge events dated by 2018-08-31 that sum to the figure."""
    for value, (_, pledged) in expected.items():
        explanation = projections.explain(
            demo.ledger, "pledged", {dimension: value}, effective_on=AS_OF, keeper_view=True
        )
        assert explanation.value == pledged
        assert sum((c.amount for c in explanation.contributions), Decimal("0.00")) == pledged
        assert {c.event for c in explanation.contributions} <= MONEY_EVENTS
        assert all(c.effective_on <= date(2018, 8, 31) for c in explanation.contributions)
        assert all(0 < c.position <= demo.ledger.position() for c in explanation.contributions)
        assert len({c.pledge_id for c in explanation.contributions}) >= expected[value][0]


def test_explain_of_the_grand_total_adds_up_to_446_million_yuan(demo: LoadedDemo) -> None:
    """The grand total's contributions sum to 446,000,000, one Made event per pledge counted."""
    explanation = projections.explain(demo.ledger, "pledged", {}, effective_on=AS_OF)
    assert explanation.value == GRAND_TOTAL[1]
    assert sum((c.amount for c in explanation.contributions), Decimal("0.00")) == GRAND_TOTAL[1]
    made = [c for c in explanation.contributions if c.event == "Pledge.Made"]
    assert len({c.pledge_id for c in made}) == len(made)


def test_demo_category_by_level_cells_add_up_to_both_tables(demo: LoadedDemo) -> None:
    """Grouped by category and donor level together, the cells add up to each §9 row (one donor per project)."""
    report = projections.totals(demo.ledger, ("category", "donor_level"), effective_on=AS_OF, keeper_view=True)
    for dimension, expected in (("category", BY_CATEGORY), ("donor_level", BY_DONOR_LEVEL)):
        for value, (projects, pledged) in expected.items():
            cells = [row for row in report.rows if row.key[dimension] == value]
            assert sum(row.projects for row in cells) == projects
            assert sum((row.columns["pledged"] for row in cells), Decimal("0.00")) == pledged


def test_demo_history_file_equals_the_generator_output_line_by_line() -> None:
    """examples/campaign-2018/history.jsonl is exactly the generator's records, one sorted-key JSON per line."""
    if not EXAMPLE_FILE.exists():
        pytest.skip(f"{EXAMPLE_FILE} is not in the working tree yet (the lead commits it)")
    lines = EXAMPLE_FILE.read_text(encoding="utf-8").splitlines()
    expected = [json.dumps(record, ensure_ascii=False, sort_keys=True) for record in history()]
    assert len(lines) == len(expected)
    for number, (line, wanted) in enumerate(zip(lines, expected, strict=True), start=1):
        assert line == wanted, f"line {number} differs"


def test_demo_generator_is_deterministic_and_labelled_synthetic() -> None:
    """Two runs of the generator give the same records, and every organization and project is labelled synthetic."""
    first = [json.dumps(record, ensure_ascii=False, sort_keys=True) for record in history()]
    second = [json.dumps(record, ensure_ascii=False, sort_keys=True) for record in history()]
    assert first == second
    for record in history():
        if record["command"] in ("register_organization", "register_project"):
            label = str(record.get("name") or record.get("title"))
            assert "虚构示例" in label, label


def test_loading_the_demo_twice_stores_nothing_new(demo: LoadedDemo) -> None:
    """Running every record again is a no-op: same log position, same report bytes."""
    before = demo.ledger.position()
    report = projections.totals(demo.ledger, ("category",), effective_on=AS_OF)
    for record in history():
        run_command(demo.ledger, record)
    assert demo.ledger.position() == before
    assert projections.totals(demo.ledger, ("category",), effective_on=AS_OF).canonical() == report.canonical()


def test_reopened_demo_file_gives_the_same_section_9_tables(demo: LoadedDemo) -> None:
    """A second ledger on the same file reads the persisted fold and prints the same tables."""
    with aidledger.open(demo.path) as reopened:
        assert reopened.position() == demo.ledger.position()
        assert table(reopened, "category") == BY_CATEGORY
        assert table(reopened, "donor_level") == BY_DONOR_LEVEL
