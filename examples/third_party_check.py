"""A third-party tool checks its own figures against aidledger on generated histories.

The tool here is a small "county dashboard" (县级看板) that a campaign's support organization
might write: for every recipient county it shows the signed amount, the net amount disbursed and
the fulfilment rate (到位率 = net disbursed / signed). It reads the ledger only through its
public views (``ledger.pledge``, ``ledger.project``) and the event log's pledge ids — not through
aidledger's projections — so it is an independent computation of the same figures.

``main()`` property-tests the dashboard with ``aidledger.testing``:

1. draw random histories (valid and invalid commands, corrections, regrants, backdated events)
   with :func:`aidledger.testing.strategies.histories`;
2. run each on a fresh ledger with :func:`aidledger.testing.invariants.run_history`, which also
   checks that the ledger decides every command as the reference model predicts;
3. check the ledger's own invariants with :func:`aidledger.testing.invariants.check_all`;
4. compare the dashboard with aidledger's totals by county, and with the reference model.

Run it: ``python examples/third_party_check.py [--examples N]`` (prints a one-line verdict; exit
status 0; a disagreement raises with the smallest history that shows it).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from contextlib import closing
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings

import aidledger
from aidledger import projections
from aidledger.testing import invariants, strategies
from aidledger.testing.model import LedgerModel

ZERO = Decimal("0.00")
POOLED = "(pooled fund)"

Figures = dict[tuple[str, str], tuple[Decimal, Decimal]]
"""(county, currency) -> (signed, net disbursed)."""


def county_dashboard(ledger: aidledger.AidLedger) -> Figures:
    """The tool under test: signed and net disbursed per county and currency, from the views."""
    figures: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    pledge_ids = {event.originator_id for _, event in ledger.read_log() if type(event).__qualname__ == "Pledge.Made"}
    for pledge_id in sorted(pledge_ids):
        pledge = ledger.pledge(pledge_id)
        if pledge.flow != "donation":  # an investment or a loan is not counted with donations
            continue
        plan = ledger.project(pledge.project_id).plan
        county = POOLED if plan.pooled_fund or plan.region is None else plan.region
        signed = pledge.amount.value if pledge.stage.value == "signed" and not pledge.withdrawn else ZERO
        key = (county, pledge.amount.currency)
        old_signed, old_net = figures.get(key, (ZERO, ZERO))
        figures[key] = (old_signed + signed, old_net + pledge.net_disbursed)
    return {key: value for key, value in figures.items() if any(value)}


def fulfilment_rate(signed: Decimal, net_disbursed: Decimal) -> Decimal | None:
    """到位率: the share of the signed amount actually handed over (``None`` when nothing was signed)."""
    return None if signed == 0 else net_disbursed / signed


def aidledger_by_county(ledger: aidledger.AidLedger) -> Figures:
    """The same figures from aidledger's own totals projection."""
    report = projections.totals(ledger, ("county",))
    figures = {
        (row.key["county"], row.currency): (row.columns["signed"], row.columns["net_disbursed"]) for row in report.rows
    }
    return {key: value for key, value in figures.items() if any(value)}


def model_by_county(model: LedgerModel) -> Figures:
    """The same figures from the reference model of aidledger.testing."""
    figures = {
        (dict(key)["county"], currency): (row.columns["signed"], row.columns["net_disbursed"])
        for (key, currency), row in model.totals(("county",)).items()
    }
    return {key: value for key, value in figures.items() if any(value)}


def check_history(history: list[dict[str, Any]]) -> None:
    """Run one generated history and check the dashboard against aidledger and the model."""
    with closing(aidledger.open(":memory:")) as ledger:
        model = invariants.run_history(ledger, history)
        invariants.check_all(ledger, model)
        dashboard = county_dashboard(ledger)
        assert dashboard == aidledger_by_county(ledger), "the dashboard disagrees with aidledger"
        assert dashboard == model_by_county(model), "the dashboard disagrees with the reference model"
        for signed, net in dashboard.values():
            rate = fulfilment_rate(signed, net)
            assert rate is None or ZERO <= rate <= 1, f"fulfilment rate {rate} out of [0, 1]"


def main(argv: Sequence[str] | None = None) -> int:
    """Property-test the dashboard on generated histories (``--examples N``, default 25)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25, help="how many histories to generate")
    arguments = parser.parse_args(argv)
    checked = 0

    @settings(
        max_examples=arguments.examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(history=strategies.histories(max_size=30))
    def dashboard_matches_aidledger(history: list[dict[str, Any]]) -> None:
        nonlocal checked
        check_history(history)
        checked += 1

    dashboard_matches_aidledger()
    print(f"county dashboard agrees with aidledger and its reference model on {checked} generated histories")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
