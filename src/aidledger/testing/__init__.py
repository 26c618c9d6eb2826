"""Property-testing support for aidledger and for the tools that use it (docs/testing.md).

- :mod:`aidledger.testing.strategies` — hypothesis strategies for command records and whole
  histories, valid and invalid, with amounts at the edges, regrant chains, corrections,
  backdated events and idempotent repeats (needs ``hypothesis``, in the ``dev`` extra);
- :mod:`aidledger.testing.model` — :class:`~aidledger.testing.model.LedgerModel`, a deliberately
  simple reference model that predicts each command's outcome and every total;
- :mod:`aidledger.testing.invariants` — reusable checks (bounds, group sums, conservation of
  new money, incremental = rebuild = reload, replay determinism, agreement with the model).

``strategies`` needs hypothesis; without it, ``aidledger.testing.model`` and
``aidledger.testing.invariants`` still work.
"""

from __future__ import annotations

from aidledger.testing import invariants, model
from aidledger.testing.invariants import InvariantViolation, check_all, run_history
from aidledger.testing.model import LedgerModel, Outcome

try:
    from aidledger.testing import strategies
except ImportError:  # hypothesis (the ``dev`` extra) is not installed
    strategies = None  # type: ignore[assignment]

__all__ = [
    "InvariantViolation",
    "LedgerModel",
    "Outcome",
    "check_all",
    "invariants",
    "model",
    "run_history",
    "strategies",
]
