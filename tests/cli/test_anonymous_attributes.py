"""An anonymous donor's level, kind and home province are never published (issue 11, item 18).

The only national-level donor gives once, anonymously: a report by donor level would say "national"
beside that pledge, and `--by donor --by donor_level` would put the two side by side.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from tests.ledger_fixtures import make_pledge, register_organization, register_project

import aidledger
from aidledger import projections
from aidledger.cli import main
from aidledger.projections.totals import ANONYMOUS

DONOR_ATTRIBUTES = ("donor_level", "donor_kind", "donor_province")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("anonymous") / "a.db")
    with aidledger.open(path, recorded_by="tester") as ledger:
        charity = register_organization(ledger)
        project = register_project(ledger, charity)
        secret = register_organization(
            ledger, name="某全国性商会", kind="social_group", level="national", home_region="110000"
        )
        make_pledge(ledger, secret, project, "5000.00", anonymous=True)
        make_pledge(ledger, charity, project, "1000.00")
    return path


@pytest.mark.parametrize("dimension", DONOR_ATTRIBUTES)
def test_totals_file_anonymous_pledges_under_anonymous_in_every_donor_attribute(db: str, dimension: str) -> None:
    with aidledger.open(db, recorded_by="tester") as ledger:
        report = projections.totals(ledger, [dimension, "donor"])
    keys = {tuple(row.key.values()): row.columns["pledged"] for row in report.rows}
    assert (ANONYMOUS, ANONYMOUS) in keys and keys[(ANONYMOUS, ANONYMOUS)] == 5000
    assert not any(value in ("national", "social_group", "110000") for key in keys for value in key)


@pytest.mark.parametrize(
    "argv",
    [
        ("report", "--by", "donor_level", "--by", "donor_kind", "--by", "donor_province"),
        ("report", "--json", "--by", "donor_level", "--by", "donor_kind", "--by", "donor_province"),
        ("export", "--format", "csv", "--by", "donor_level", "--by", "donor_kind", "--by", "donor_province"),
        ("export", "--by", "donor_level", "--by", "donor_kind", "--by", "donor_province"),
    ],
)
def test_published_reports_and_exports_never_say_what_kind_of_donor_gave_anonymously(
    db: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    assert main(["--db", db, *argv]) == 0
    out = capsys.readouterr().out
    assert "national" not in out and "social_group" not in out and "110000" not in out
    assert "匿名" in out


def test_the_keepers_view_files_them_under_their_donors_attributes(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The ledger's keeper may see levels (DESIGN §9 counts them so); names stay hidden even there."""
    assert main(["--db", db, "report", "--csv", "--keeper-view", "--by", "donor_level", "--by", "donor"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {(row["donor_level"], row["donor"]) for row in rows if row["row"] == "group"} >= {("national", ANONYMOUS)}
    assert main(["--db", db, "--json", "report", "--keeper-view", "--by", "donor_level"]) == 0
    assert json.loads(capsys.readouterr().out)["keeper_view"] is True
