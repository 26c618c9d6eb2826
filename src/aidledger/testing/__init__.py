"""Property-testing support for aidledger and for the tools that use it (docs/testing.md).

- :mod:`aidledger.testing.strategies` — hypothesis strategies for command records and whole
  histories, valid and invalid, with amounts at the edges, regrant chains, corrections,
  backdated events and idempotent repeats (needs ``hypothesis``, in the ``dev`` extra);
- :mod:`aidledger.testing.model` — :class:`~aidledger.testing.model.LedgerModel`, a deliberately
  simple reference model that predicts each command's outcome and every total;
- :mod:`aidledger.testing.invariants` — reusable checks (bounds, group sums, conservation of
  new money, incremental = rebuild = reload, replay determinism, agreement with the model).

The submodules load on first use, so ``aidledger.testing.model`` and
``aidledger.testing.invariants`` work without hypothesis installed.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aidledger.testing import invariants, model, strategies
    from aidledger.testing.invariants import InvariantViolation, check_all, run_history
    from aidledger.testing.model import LedgerModel, Outcome

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

_LOCATIONS = {
    "invariants": "aidledger.testing.invariants",
    "model": "aidledger.testing.model",
    "strategies": "aidledger.testing.strategies",
    "InvariantViolation": "aidledger.testing.invariants",
    "check_all": "aidledger.testing.invariants",
    "run_history": "aidledger.testing.invariants",
    "LedgerModel": "aidledger.testing.model",
    "Outcome": "aidledger.testing.model",
}


def __getattr__(name: str) -> Any:
    """Load a submodule, or one of the names re-exported here, on first use."""
    location = _LOCATIONS.get(name)
    if location is None:
        msg = f"module 'aidledger.testing' has no attribute {name!r}"
        raise AttributeError(msg)
    module = import_module(location)
    return module if location.endswith(f".{name}") else getattr(module, name)
