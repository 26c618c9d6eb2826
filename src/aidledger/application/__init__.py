"""The application layer: commands, the one pipeline that decides and stores them, and views.

- :mod:`~aidledger.application.commands` — command models: validated input, idempotency digests;
- :mod:`~aidledger.application.decisions` — one decision per command: rules checked, aggregates changed;
- :mod:`~aidledger.application.pipeline` — the decision session (unit of work) every command goes through;
- :mod:`~aidledger.application.ledger` — :class:`AidLedger`: command and query methods, ``save``;
- :mod:`~aidledger.application.ports` — what it needs of a store (implemented by :mod:`aidledger.storage`);
- :mod:`~aidledger.application.mapper` — pydantic events to canonical JSON and back;
- :mod:`~aidledger.application.views` — views and receipts.
"""

from __future__ import annotations

from aidledger.application.ledger import AidLedger
from aidledger.application.views import DisbursementView, OrganizationView, PledgeView, ProjectView, Receipt

__all__ = ["AidLedger", "DisbursementView", "OrganizationView", "PledgeView", "ProjectView", "Receipt"]
