"""Investment is not a donation (DESIGN §3 rule 8, issue 11 item 3).

An industry association's member company invests ¥300,000,000 in a county's pig farm, and gives
¥1,000,000 to the same project. Donation totals say 1,000,000; the investment is shown apart.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from tests.ledger_fixtures import make_pledge, register_organization, register_pooled_fund, register_project

import aidledger
from aidledger import projections
from aidledger.cli import main
from aidledger.errors import InvalidInput, PooledFundTakesDonations


@pytest.fixture(scope="module")
def farm_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("flows") / "farm.db")
    with aidledger.open(path, recorded_by="tester") as ledger:
        company = register_organization(ledger, name="某畜牧集团（虚构）", kind="enterprise", level="provincial")
        association = register_organization(ledger, name="河北省畜牧业协会（虚构）", kind="social_group")
        farm = register_project(ledger, association, title="生猪养殖基地（虚构）", region="130722")
        make_pledge(ledger, company, farm, "300000000.00", flow="investment")
        make_pledge(ledger, company, farm, "1000000.00")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_donation_totals_leave_an_investment_out_and_show_it_apart(farm_db: str) -> None:
    with aidledger.open(farm_db) as ledger:
        (grand,) = projections.totals(ledger).totals
        (row,) = projections.totals(ledger, ["county"]).rows
    assert grand.columns["pledged"] == grand.new_money["pledged"] == Decimal("1000000.00")
    assert grand.other_flows["investment"]["pledged"] == Decimal("300000000.00")
    assert grand.pledges == 1 and grand.projects == 1
    assert row.columns["pledged"] == Decimal("1000000.00")
    assert row.other_flows == {"investment": grand.other_flows["investment"]}


def test_the_report_shows_the_investment_on_its_own_labelled_row(
    farm_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", farm_db, "report")
    assert code == 0
    (new,) = [line for line in out.splitlines() if "new money" in line]
    assert "1,000,000.00" in new and "300,000,000" not in new
    (investment,) = [line for line in out.splitlines() if "investment" in line]
    assert "not a donation" in investment and "300,000,000.00" in investment
    assert "301,000,000" not in out


@pytest.mark.parametrize(
    "argv", [("report", "--csv", "--by", "county"), ("export", "--format", "csv", "--by", "county")]
)
def test_csv_names_each_rows_flow(farm_db: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    code, out, _ = run(capsys, "--db", farm_db, *argv)
    assert code == 0
    rows = [(r["row"], r["flow"], r["pledged"]) for r in csv.DictReader(io.StringIO(out.lstrip("\ufeff")))]
    assert rows == [
        ("group", "donation", "1000000.00"),
        ("group", "investment", "300000000.00"),
        ("total_new_money", "donation", "1000000.00"),
        ("total_passed_through", "donation", "0.00"),
        ("total_other_flow", "investment", "300000000.00"),
    ]


def test_the_json_report_keeps_other_flows_apart(farm_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", farm_db, "--json", "report")
    assert code == 0
    (grand,) = json.loads(out)["totals"]
    assert grand["columns"]["pledged"] == "1000000.00"
    assert grand["other_flows"]["investment"]["pledged"] == "300000000.00"


def test_a_pooled_fund_takes_donations_only_and_a_regrant_is_a_donation(tmp_path: Path) -> None:
    with aidledger.open(str(tmp_path / "p.db"), recorded_by="tester") as ledger:
        hub = register_organization(ledger)
        fund = register_pooled_fund(ledger, hub)
        county = register_project(ledger, hub)
        before = ledger.position()
        with pytest.raises(PooledFundTakesDonations, match="a pooled fund takes and passes on donations only"):
            make_pledge(ledger, hub, fund, "100.00", flow="loan")
        with pytest.raises(InvalidInput, match="flow: a regrant"):
            make_pledge(ledger, hub, county, "100.00", funded_from=fund, flow="loan")
        with pytest.raises(InvalidInput, match="flow"):
            make_pledge(ledger, hub, fund, "100.00", flow="gift")
        assert ledger.position() == before


def test_an_import_file_names_the_flow_of_a_pledge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = tmp_path / "flows.jsonl"
    records = [
        {"command": "register_organization", "command_id": "org-1", "effective_on": "2018-01-02",
         "name": "某畜牧集团（虚构）", "kind": "enterprise", "level": "provincial", "home_region": "130000"},
        {"command": "register_project", "command_id": "prj-1", "effective_on": "2018-01-03", "title": "生猪养殖基地",
         "implementing_organization_id": "org-1", "region": "130722", "category": "capacity", "field": "industry",
         "planned_start": "2018-02-01", "planned_end": "2018-12-31"},
        {"command": "make_pledge", "command_id": "pl-1", "effective_on": "2018-01-04", "donor_id": "org-1",
         "project_id": "prj-1", "amount": "300000000", "flow": "investment"},
    ]  # fmt: skip
    rows.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    db = str(tmp_path / "i.db")
    assert run(capsys, "--db", db, "import", "--recorded-by", "clerk", str(rows))[0] == 0
    code, out, _ = run(capsys, "--db", db, "export", "--view", "events", "--format", "csv")
    assert code == 0
    (pledge,) = [r for r in csv.DictReader(io.StringIO(out.lstrip("\ufeff"))) if r["command"] == "make_pledge"]
    assert pledge["flow"] == "investment"
    records[2]["flow"] = "grant"
    rows.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    code, _, err = run(capsys, "--db", str(tmp_path / "j.db"), "import", "--recorded-by", "clerk", str(rows))
    assert code == 2 and "flow" in err and "'grant'" in err and "investment" in err
