"""The demo ledger, with a donor who only ever gave anonymously and some hostile text, and its site.

Built once per test session into real files: an SQLite ledger loaded from the bundled SYNTHETIC
history, then the site written by the command line exactly as docs/site.md shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import aidledger
from aidledger.cli import main
from aidledger.demo import DISCLOSURE_ON, history
from aidledger.interchange.commands import run_command

HIDDEN_NAME = "只以匿名捐赠的基金会（测试）"
"""An organization whose only part in the ledger is anonymous pledges: it must never be named."""
HOSTILE_URL = 'https://example.org/a"onmouseover="alert(1)'
HOSTILE_TITLE = '<script>alert("x")</script> 县级项目（测试）'


@dataclass(frozen=True)
class DemoSite:
    """The ledger file, the site folder and the anonymous donor's identity."""

    db: Path
    out: Path
    hidden_id: str
    hostile_project: str


def _extra(ledger: aidledger.AidLedger) -> tuple[str, str]:
    hidden = ledger.register_organization(
        command_id="test-hidden-donor", name=HIDDEN_NAME, kind="foundation", level="provincial",
        home_region="130000", effective_on="2018-01-02",
    ).aggregate_id  # fmt: skip
    implementer = ledger.register_organization(
        command_id="test-implementer", name="公开的实施机构（测试）", kind="social_group", level="municipal",
        home_region="130700", effective_on="2018-01-02",
    ).aggregate_id  # fmt: skip
    project = ledger.register_project(
        command_id="test-hostile-project", title=HOSTILE_TITLE, implementing_organization_id=implementer,
        region="130722", category="public_welfare", field="education", planned_start="2018-03-01",
        planned_end="2018-12-31", campaigns=["jjj-2018"], effective_on="2018-02-01",
    ).aggregate_id  # fmt: skip
    for number, amount in enumerate(("12345.67", "7654.33")):
        pledge = ledger.make_pledge(
            command_id=f"test-hidden-pledge-{number}", donor_id=hidden, project_id=project, amount=amount,
            stage="signed", anonymous=True, effective_on="2018-03-02",
        ).aggregate_id  # fmt: skip
        ledger.disburse(command_id=f"test-hidden-paid-{number}", pledge_id=pledge, amount="1000.00",
                        effective_on="2018-04-02")  # fmt: skip
    ledger.record_disclosure(
        command_id="test-hostile-disclosure", project_id=project, kind="progress", period_start="2018-03-01",
        period_end="2018-05-31", channel="<b>channel</b>", url=HOSTILE_URL, effective_on="2018-06-01",
    )  # fmt: skip
    return str(hidden), str(project)


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> DemoSite:
    """The demo ledger with the extra records, and its Chinese site as of the demo's disclosure date."""
    folder = tmp_path_factory.mktemp("site")
    db = folder / "demo.db"
    with aidledger.open(str(db), recorded_by="site-tests") as ledger:
        for record in history():
            run_command(ledger, record)
        hidden, project = _extra(ledger)
    out = folder / "site"
    assert main(["--db", str(db), "site", "--out", str(out), "--on", DISCLOSURE_ON.isoformat()]) == 0
    return DemoSite(db=db, out=out, hidden_id=hidden, hostile_project=project)
