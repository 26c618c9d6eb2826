"""The running grand totals equal the totals folded the slow way, after every command."""

from __future__ import annotations

import random
from pathlib import Path

import aidledger
from aidledger import projections
from aidledger.errors import AidLedgerError
from aidledger.projections import projections_of
from aidledger.projections.totals import totals


def random_history(ledger: aidledger.AidLedger, rng: random.Random, steps: int) -> None:
    """Random commands over two currencies, a pooled fund, regrants and corrections; refusals allowed."""
    ids: dict[str, list[str]] = {"org": [], "prj": [], "pool": [], "pl": [], "pool_pl": [], "d": []}
    for step in range(steps):
        choice = rng.randrange(10)
        if choice >= 5 and not ids["pl"]:
            choice = 3  # nothing to pay or correct yet: pledge first
        cid = f"c{step}"
        try:
            if choice == 0 or not ids["org"]:
                ids["org"].append(ledger.register_organization(
                    command_id=cid, name=f"org {step}", kind="foundation", level=rng.choice(["national", "provincial"]),
                    home_region="130000", effective_on="2018-01-01").aggregate_id.hex)  # fmt: skip
            elif choice in (1, 2):
                pooled = rng.random() < 0.3
                receipt = ledger.register_project(
                    command_id=cid, title=f"p {step}", implementing_organization_id=rng.choice(ids["org"]),
                    region=None if pooled else rng.choice(["130722", "130723", "130821"]), pooled_fund=pooled,
                    category="capacity", field="industry", planned_start="2018-02-01", planned_end="2018-12-31",
                    effective_on="2018-01-02")  # fmt: skip
                ids["pool" if pooled else "prj"].append(receipt.aggregate_id.hex)
            elif choice in (3, 4) and ids["pool_pl"] and ids["prj"] and rng.random() < 0.4:
                regrant = ledger.make_pledge(  # a small regrant from a pool's pledge to a project
                    command_id=cid, donor_id=rng.choice(ids["org"]), project_id=rng.choice(ids["prj"]), amount="10",
                    funded_from=rng.choice(ids["pool_pl"]), effective_on="2018-03-02",
                )  # fmt: skip
                ids["pl"].append(regrant.aggregate_id.hex)
            elif choice in (3, 4) and (ids["prj"] or ids["pool"]):
                project = rng.choice(ids["prj"] + ids["pool"])
                pledge = ledger.make_pledge(
                    command_id=cid, donor_id=rng.choice(ids["org"]), project_id=project,
                    amount={"value": str(rng.randrange(1, 500) * 10), "currency": rng.choice(["CNY", "CNY", "USD"])},
                    stage="intended", effective_on="2018-03-01").aggregate_id.hex  # fmt: skip
                ids["pl"].append(pledge)
                if project in ids["pool"]:  # pay into the pool so that regrants can draw on it
                    ids["pool_pl"].append(pledge)
                    ledger.sign_pledge(command_id=f"{cid}-sign", pledge_id=pledge, effective_on="2018-03-01")
                    ledger.disburse(command_id=f"{cid}-pay", pledge_id=pledge, amount="10", effective_on="2018-03-01")
            elif choice in (3, 4):
                choice = 1  # no project yet
                continue
            elif choice in (5, 6):
                ids["d"].append(ledger.disburse(
                    command_id=cid, pledge_id=rng.choice(ids["pl"]), amount={"value": str(rng.randrange(1, 200) * 10),
                    "currency": rng.choice(["CNY", "USD"])}, effective_on="2018-04-01").aggregate_id.hex)  # fmt: skip
            elif choice == 7 and ids["d"]:
                ledger.reverse_disbursement(
                    disbursement_id=rng.choice(ids["d"]), reason="error", effective_on="2018-05-01"
                )
            elif choice == 8 and rng.random() < 0.3:
                ledger.withdraw_pledge(
                    pledge_id=rng.choice(ids["pl"]), reason="changed mind", effective_on="2018-05-02"
                )
            elif choice == 8:
                ledger.sign_pledge(pledge_id=rng.choice(ids["pl"]), effective_on="2018-03-15")
            elif choice == 9 and ids["prj"]:
                ledger.report_beneficiaries(
                    project_id=rng.choice(ids["prj"]), person_times=rng.randrange(0, 900),
                    households=rng.choice([None, rng.randrange(0, 90)]), effective_on=f"2018-0{rng.randrange(5, 9)}-01",
                )  # fmt: skip
        except AidLedgerError:
            pass
        fold = projections.fold_of(ledger)
        assert totals(fold).canonical() == totals(fold, fast=False).canonical(), f"step {step}"
    fold = projections.fold_of(ledger)
    assert len({fold.pledges[f.pledge_id].currency for f in fold.facts}) == 2  # both currencies
    assert {f.column for f in fold.facts} >= {"signed", "intended", "disbursed", "reversed", "withdrawn"}
    assert any(p.funded_from for p in fold.pledges.values()) and fold.beneficiary_log


def test_running_totals_equal_the_slow_fold_after_every_command(tmp_path: Path) -> None:
    """300 random commands: after each, the fast grand totals are byte-identical to the slow ones."""
    with aidledger.open(tmp_path / "ledger.db", recorded_by="tester") as ledger:
        random_history(ledger, random.Random(7), 300)


def test_running_totals_of_a_fold_loaded_from_its_store_equal_the_slow_fold(tmp_path: Path) -> None:
    """A fold loaded from the tracking tables (no beneficiary log) still gives the same totals."""
    path = tmp_path / "ledger.db"
    with aidledger.open(path, recorded_by="tester") as ledger:
        random_history(ledger, random.Random(11), 200)
    with aidledger.open(path) as reopened:
        fold = projections_of(reopened).fold
        assert totals(fold).canonical() == totals(fold, fast=False).canonical()
        assert totals(fold).totals[0].person_times == totals(fold, fast=False).totals[0].person_times
