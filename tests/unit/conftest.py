"""Unit-suite fixtures: the ledger on every store, from :mod:`tests.ledger_fixtures`."""

from __future__ import annotations

from tests.ledger_fixtures import ledger, open_store

__all__ = ["ledger", "open_store"]
