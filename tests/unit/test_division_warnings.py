"""A region code in none of the ministry's lists is stored as given, with a warning, never refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.ledger_fixtures import register_organization, register_project

import aidledger
from aidledger import AidLedger
from aidledger.cli import main
from aidledger.interchange.importer import import_file

UNLISTED = "139999"  # a Hebei prefix, in no list of the ministry's from 1981 to the vintage


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[AidLedger]:
    """An empty ledger in a file."""
    with aidledger.open(tmp_path / "ledger.db", recorded_by="tester") as opened:
        yield opened


def test_a_project_in_an_unlisted_county_is_registered_with_a_warning_its_repeat_repeats(ledger: AidLedger) -> None:
    organization = register_organization(ledger)
    fields = {
        "title": "未列入代码的县",
        "implementing_organization_id": organization,
        "region": UNLISTED,
        "category": "capacity",
        "field": "industry",
        "planned_start": "2018-03-01",
        "planned_end": "2018-12-31",
        "effective_on": "2018-02-01",
        "command_id": "prj-unlisted",
    }
    receipt = ledger.register_project(**fields)
    assert receipt.positions  # stored
    (warning,) = receipt.warnings
    assert warning.startswith("region: ") and repr(UNLISTED) in warning
    assert ledger.register_project(**fields) == receipt  # a repeat: same receipt, same warning


def test_listed_and_withdrawn_codes_earn_no_warning(ledger: AidLedger) -> None:
    organization = register_organization(ledger, home_region="130700")
    assert ledger.register_project(
        title="宣化县 (withdrawn 2016)",
        implementing_organization_id=organization,
        region="130721",
        category="capacity",
        field="industry",
        planned_start="2015-03-01",
        planned_end="2015-12-31",
        effective_on="2015-02-01",
    ).warnings == ()
    assert register_project(ledger, organization) is not None


def test_an_import_lists_the_line_of_an_unlisted_code_and_the_cli_prints_it(
    ledger: AidLedger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {
            "command": "register_organization",
            "command_id": "org-x",
            "effective_on": "2018-01-05",
            "name": "示例基金会（虚构）",
            "kind": "foundation",
            "level": "provincial",
            "home_region": "130000",
        },
        {
            "command": "register_organization",
            "command_id": "org-y",
            "effective_on": "2018-01-05",
            "name": "示例商会（虚构）",
            "kind": "social_group",
            "level": "county",
            "home_region": UNLISTED,
        },
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    checked = import_file(ledger, path, dry_run=True)
    assert len(checked.warnings) == 1 and checked.warnings[0].startswith("line 2: home_region: ")
    ledger.close()
    assert main(["--db", str(tmp_path / "ledger.db"), "import", str(path), "--recorded-by", "tester"]) == 0
    shown = capsys.readouterr().out
    assert "2 stored" in shown and "warning line 2: home_region:" in shown and UNLISTED in shown
