"""pytest fixtures providing a throwaway PostgreSQL server.

Import them into a conftest (the names must be imported to be seen by pytest)::

    from tests.support.fixtures import postgres_database, postgres_server  # noqa: F401

``postgres_server`` (session scope) yields a started :class:`PostgresServer`.
When no server can be provided the tests using it are skipped with the
reason, unless ``AIDLEDGER_REQUIRE_POSTGRES=1`` is set (as CI does), in which
case they fail with that reason instead.

The server is shared per pytest run even if several modules import the
fixture (it is kept in ``config.stash``) and is stopped when pytest exits.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Final, NoReturn

import pytest

from .postgres_server import PostgresServer, PostgresUnavailable

__all__ = [
    "REQUIRE_ENV",
    "postgres_database",
    "postgres_required",
    "postgres_server",
    "postgres_unavailable",
    "start_or_skip",
]

REQUIRE_ENV: Final = "AIDLEDGER_REQUIRE_POSTGRES"
"""Set to ``1`` to turn "PostgreSQL unavailable" from a skip into a failure."""

_SERVER: Final = pytest.StashKey["PostgresServer | PostgresUnavailable"]()


def postgres_required() -> bool:
    """Whether ``AIDLEDGER_REQUIRE_POSTGRES`` asks for PostgreSQL to be mandatory."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def postgres_unavailable(reason: str) -> NoReturn:
    """Skip the current test, or fail it when PostgreSQL is required."""
    if postgres_required():
        pytest.fail(
            f"PostgreSQL is required ({REQUIRE_ENV}=1) but unavailable: {reason}",
            pytrace=False,
        )
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def start_or_skip(server: PostgresServer) -> PostgresServer:
    """Start ``server``; if impossible, skip the test (or fail it when required)."""
    try:
        return server.start()
    except PostgresUnavailable as exc:
        reason = str(exc)
    postgres_unavailable(reason)  # outside the except: no chained traceback


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> PostgresServer:
    """A started throwaway PostgreSQL server, shared by the whole test run."""
    config = request.config
    state = config.stash.get(_SERVER, None)
    if state is None:
        try:
            state = PostgresServer().start()
        except PostgresUnavailable as exc:
            state = exc  # remembered, so a failed start is not retried by every test
        else:
            config.add_cleanup(state.stop)
        config.stash[_SERVER] = state
    if isinstance(state, PostgresUnavailable):
        postgres_unavailable(str(state))
    return state


@pytest.fixture
def postgres_database(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """URL of a new, empty database (named after the test) on ``postgres_server``."""
    stem = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    return postgres_server.create_database(f"t_{stem}_{uuid.uuid4().hex[:8]}")
