"""Quickstart: record a pledge and its payments, then read the figures and their provenance.

Run with ``python examples/quickstart.py [LEDGER_FILE]`` (default: an in-memory ledger).
"""

from __future__ import annotations

import sys

import aidledger
from aidledger import projections


def main(argv: list[str] | None = None) -> int:
    """Record a small history and print the county's totals and where they come from."""
    args = sys.argv[1:] if argv is None else argv
    with aidledger.open(args[0] if args else ":memory:", recorded_by="quickstart") as ledger:
        chamber = ledger.register_organization(
            command_id="qs-org", name="张家口市某商会（示例）", kind="social_group", level="municipal",
            home_region="130700", effective_on="2018-02-01",
        ).aggregate_id  # fmt: skip
        school = ledger.register_project(
            command_id="qs-school", title="康保县希望小学修缮（示例）", implementing_organization_id=chamber,
            region="130723", category="public_welfare", field="education", planned_start="2018-04-01",
            planned_end="2018-10-31", effective_on="2018-03-01",
        ).aggregate_id  # fmt: skip
        pledge = ledger.make_pledge(
            command_id="qs-pledge", donor_id=chamber, project_id=school, amount="300000.00", effective_on="2018-03-05"
        ).aggregate_id
        first = ledger.disburse(command_id="qs-pay-1", pledge_id=pledge, amount="100000.00", effective_on="2018-04-02")
        ledger.confirm_disbursement(disbursement_id=first.aggregate_id, effective_on="2018-04-09")
        ledger.disburse(command_id="qs-pay-2", pledge_id=pledge, amount="50000.00", effective_on="2018-06-15")

        report = projections.totals(ledger, ["county"])
        row = report.rows[0]
        print(f"county {row.key['county']}: pledged {row.columns['pledged']}, net disbursed "
              f"{row.columns['net_disbursed']}, confirmed {row.columns['confirmed']}, "
              f"outstanding {row.columns['outstanding']} {row.currency}")  # fmt: skip
        explanation = projections.explain(ledger, "net_disbursed", {"county": "130723"})
        for part in explanation.contributions:
            print(f"  position {part.position}: {part.event} {part.amount}")
        print(f"report at position {report.coordinates.position}, digest {report.digest[:16]}…")
        assert explanation.value == row.columns["net_disbursed"]
    return 0


if __name__ == "__main__":
    sys.exit(main())
