"""Import → export → import of the SYNTHETIC example history gives identical totals.

The history file examples/campaign-2018/history.jsonl is imported (all or nothing, rehearsed)
into a real SQLite file; its events view is exported as JSON Lines and as CSV; each export is
imported into a fresh ledger. Every totals report, the disclosure status and the public pages
are then the same apart from their coordinates, and the two logs hold the same events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import aidledger
from aidledger import AidLedger, demo, projections
from aidledger.interchange.export import export
from aidledger.interchange.importer import import_file

HISTORY = Path(__file__).resolve().parents[2] / "examples" / "campaign-2018" / "history.jsonl"
GROUPINGS = [(), ("category",), ("donor_level",), ("county",), ("year", "form"), ("donor", "project"), ("origin",)]


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AidLedger]:
    """The example history imported into an SQLite file."""
    path = tmp_path_factory.mktemp("original") / "ledger.db"
    with aidledger.open(path, recorded_by="tester") as ledger:
        summary = import_file(ledger, HISTORY)
        assert (summary.rows_read, summary.stored, summary.rejected) == (2627, 2627, 0)
        yield ledger


def without_coordinates(report: Any) -> dict[str, Any]:
    body: dict[str, Any] = report.body()
    body.pop("coordinates")
    return body


def events(ledger: AidLedger) -> list[tuple[str, str]]:
    return [
        (type(event).__qualname__, json.dumps(event.model_dump(mode="json", exclude={"timestamp"}), sort_keys=True))
        for _, event in ledger.read_log()
    ]


def test_the_imported_history_reproduces_design_section_9(original: AidLedger) -> None:
    """The history file is the demo: its folds give DESIGN §9's tables."""
    for dimension, expected in demo.EXPECTED.items():
        report = projections.totals(original, [dimension], effective_on=demo.AS_OF, keeper_view=True)
        found = {row.key[dimension]: (row.projects, row.columns["pledged"]) for row in report.rows}
        assert found == {key: (projects, Decimal(yuan)) for key, (projects, yuan) in expected.items()}


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_import_export_import_round_trips_to_identical_totals(
    original: AidLedger, file_format: str, tmp_path: Path
) -> None:
    """The events view re-imported into a fresh ledger: same reports, same events."""
    exported = tmp_path / ("history.jsonl" if file_format == "json" else "history.csv")
    with exported.open("w", encoding="utf-8", newline="") as out:
        export(original, out, file_format=file_format, view="events")
    with aidledger.open(":memory:", recorded_by="someone else") as copy:
        summary = import_file(copy, exported, rehearse=False)
        assert (summary.rows_read, summary.stored) == (2627, 2627)
        for group_by in GROUPINGS:
            assert without_coordinates(projections.totals(copy, group_by)) == without_coordinates(
                projections.totals(original, group_by)
            ), group_by
        assert without_coordinates(projections.disclosure_status(copy, "2019-06-30")) == without_coordinates(
            projections.disclosure_status(original, "2019-06-30")
        )
        assert without_coordinates(projections.transparency(copy, "county", "130722")) == without_coordinates(
            projections.transparency(original, "county", "130722")
        )
        assert copy.position() == original.position()
        assert events(copy) == events(original)


def test_an_export_imported_into_its_own_ledger_is_already_present(original: AidLedger, tmp_path: Path) -> None:
    """Exported commands are the stored commands: every row is a repeat, nothing is stored."""
    exported = tmp_path / "history.csv"
    with exported.open("w", encoding="utf-8-sig", newline="") as out:
        export(original, out, file_format="csv", view="events")
    position = original.position()
    summary = import_file(original, exported, rehearse=False)
    assert (summary.stored, summary.already_present, summary.rejected) == (0, 2627, 0)
    assert original.position() == position
