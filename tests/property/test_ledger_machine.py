"""The ledger against its reference model, step by step, on a real SQLite file.

A hypothesis ``RuleBasedStateMachine`` runs random command records (valid and invalid, at the
amount edges, backdated, repeated, corrected) on an :class:`aidledger.AidLedger` stored in an
SQLite file in a temporary folder, and on :class:`aidledger.testing.model.LedgerModel`. After
every step it checks that

- the ledger made the model's decision (accepted, repeated, or refused with the same error
  class), and a refused command stored nothing (the log position did not move);
- every column of every pledge and every row of several groupings equal the model's;
- 0 ≤ net disbursed ≤ pledged for every pledge; every grouping sums to the grand total; new money
  is conserved; no pool regrants more than it received;
- the incremental fold, a rebuild from scratch and a reload from the SQLite file agree byte for
  byte; reports published at earlier positions recompute to the same digest.

At the end of each run the whole history is replayed into a new ledger, which must report the same.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from tests.property.budget import examples

import aidledger
from aidledger import projections
from aidledger.application.views import Receipt
from aidledger.testing import invariants, strategies
from aidledger.testing.model import LedgerModel, resolve

PUBLISHED_GROUPINGS: tuple[tuple[str, ...], ...] = ((), ("county",), ("donor", "year"))


class LedgerMachine(RuleBasedStateMachine):
    """Drives a ledger on an SQLite file and the reference model with the same commands."""

    kinds: tuple[str, ...] = strategies.KINDS
    """What the ``command`` rule draws (a subclass may aim at fewer kinds)."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="aidledger-property-"))
        self.path = self.folder / "ledger.db"
        self.ledger = aidledger.open(self.path)
        self.model = LedgerModel()
        self.receipts: dict[str, Receipt] = {}
        self.published: list[tuple[int, tuple[str, ...], str]] = []

    def _run(self, record: dict[str, Any]) -> None:
        outcome = self.model.run(record)
        result = invariants.check_outcome(self.ledger, record, outcome)
        if isinstance(result, Receipt):
            if outcome.status == "repeated":
                assert result == self.receipts[result.command_id], "a repeat returns the first receipt"
            elif outcome.accepted:
                self.receipts[result.command_id] = result

    @initialize(data=st.data())
    def a_donor_and_a_pooled_fund(self, data: st.DataObject) -> None:
        """Start with an organization and a pooled fund it holds, so regrant chains come early."""
        organization = data.draw(strategies.organizations(command_id="org-0", effective_on="2018-01-01"))
        self._run(organization)
        pool = data.draw(strategies.projects("org-0", pooled_fund=True, command_id="pool-0", effective_on="2018-01-01"))
        self._run(pool)

    @rule(data=st.data())
    def command(self, data: st.DataObject) -> None:
        """Any command the strategies draw for the current state."""
        self._run(data.draw(strategies.commands(self.model, kinds=self.kinds), label="record"))

    @precondition(lambda self: bool(self.model.created["pledge"]))
    @rule(data=st.data())
    def disbursement_at_the_edge(self, data: st.DataObject) -> None:
        """A disbursement of exactly the outstanding amount, or one fen more, on a live pledge."""
        pledge_cid = data.draw(st.sampled_from(self.model.created["pledge"]), label="pledge")
        pledge = self.model.pledges[resolve(pledge_cid, "pledge")]
        unit = strategies.unit_of(pledge.currency)
        amount = data.draw(st.sampled_from([pledge.outstanding + unit, pledge.outstanding, unit]), label="amount")
        record = {
            "command": "disburse",
            "command_id": f"edge-{len(self.model.records) + 1}",
            "recorded_by": strategies.RECORDED_BY,
            "effective_on": max(self.model.dates).isoformat(),
            "pledge_id": pledge_cid,
            "amount": strategies.amount_field(amount, pledge.currency),
        }
        self._run(record)

    @rule()
    def reopen(self) -> None:
        """Close the ledger and open the SQLite file again; work goes on with the reopened ledger."""
        self.ledger.close()
        self.ledger = aidledger.open(self.path)

    @rule(grouping=st.sampled_from(PUBLISHED_GROUPINGS))
    def publish(self, grouping: tuple[str, ...]) -> None:
        """Keep the digest of a totals report, to recompute it at its position later."""
        report = projections.totals(self.ledger, grouping)
        self.published.append((report.coordinates.position, grouping, report.digest))

    @precondition(lambda self: bool(self.model.dates))
    @rule(data=st.data())
    def figures_as_of_a_date(self, data: st.DataObject) -> None:
        """As of any date (backdated events included) the ledger's figures are the model's."""
        day: date = data.draw(st.sampled_from(sorted(set(self.model.dates))), label="as of")
        invariants.check_agrees_with_model(self.ledger, self.model, effective_on=day)
        invariants.check_group_sums(self.ledger, effective_on=day)
        invariants.check_conservation(self.ledger, effective_on=day)

    @invariant()
    def figures_agree_with_the_model(self) -> None:
        """Each pledge's columns and views, and the grouped totals, are the model's."""
        invariants.check_agrees_with_model(self.ledger, self.model)
        invariants.check_pledge_views(self.ledger, self.model)

    @invariant()
    def figures_keep_their_invariants(self) -> None:
        """Bounds per pledge, sums per grouping, conservation of new money, pools cover regrants."""
        invariants.check_pledge_bounds(self.ledger)
        invariants.check_group_sums(self.ledger)
        invariants.check_conservation(self.ledger)
        invariants.check_pools_cover_regrants(self.ledger)

    @invariant()
    def every_path_to_the_figures_agrees(self) -> None:
        """Incremental = rebuild = reload from the SQLite file; published reports recompute exactly."""
        invariants.check_projection_paths(self.ledger)
        invariants.check_published(self.ledger, self.published[-4:])

    def teardown(self) -> None:
        """Replay the whole history into a new ledger, then remove the folder."""
        try:
            invariants.check_published(self.ledger, self.published)
            invariants.check_replay(self.ledger, self.model.records)
        finally:
            self.ledger.close()
            shutil.rmtree(self.folder, ignore_errors=True)


LedgerMachine.TestCase.settings = settings(max_examples=examples(ci=100, deep=500))
TestLedgerMachine = LedgerMachine.TestCase
