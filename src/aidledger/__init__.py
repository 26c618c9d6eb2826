"""aidledger: the append-only, tamper-evident ledger of social organizations' aid to poor regions.

Every figure it reports is a deterministic fold of immutable history. Start with
:func:`aidledger.open`.
"""

from __future__ import annotations

from aidledger.application import AidLedger, DisbursementView, OrganizationView, PledgeView, ProjectView, Receipt
from aidledger.bootstrap import open_ledger
from aidledger.domain.base import derive_id
from aidledger.domain.values import Money

open = open_ledger  # noqa: A001 - ``aidledger.open(db)`` is the documented entry point

__all__ = [
    "AidLedger",
    "DisbursementView",
    "Money",
    "OrganizationView",
    "PledgeView",
    "ProjectView",
    "Receipt",
    "derive_id",
    "open",
]
