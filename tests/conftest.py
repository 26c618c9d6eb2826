"""Fixtures for every suite: the throwaway PostgreSQL server (see tests/support/fixtures.py)."""

from __future__ import annotations

from tests.support.fixtures import postgres_database, postgres_server

__all__ = ["postgres_database", "postgres_server"]
