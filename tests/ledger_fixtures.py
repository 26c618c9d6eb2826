"""Fixtures and helpers shared by the ledger's behaviour tests.

The fixtures are defined here and made visible to a suite by importing them into its conftest
(pytest sees fixtures only in conftests and in the test module itself)::

    from tests.ledger_fixtures import ledger, open_store  # noqa: F401

``ledger`` is parametrised over the real stores: a private in-memory SQLite database
(``"memory"``) and an SQLite file (``"sqlite-file"``). The helpers register objects with valid
defaults and return the ids from each :class:`aidledger.Receipt`'s ``aggregate_id``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest

import aidledger
from aidledger import AidLedger

__all__ = [
    "STORES",
    "OpenStore",
    "Pledged",
    "Pool",
    "connect_raw",
    "disburse",
    "ledger",
    "make_pledge",
    "open_store",
    "refused",
    "register_organization",
    "register_pooled_fund",
    "register_project",
    "set_up_pledge",
    "set_up_pool",
]

STORES = ("memory", "sqlite-file", "postgres")
"""Ids of the stores every behaviour test runs against."""

TError = TypeVar("TError", bound=BaseException)

OpenStore = Callable[..., AidLedger]
"""Opens another ledger on the parametrised kind of store (keyword arguments go to ``open``)."""


@pytest.fixture(params=STORES)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """A factory of ledgers on the parametrised store; every ledger it opened is closed after the test."""
    opened: list[AidLedger] = []

    def open_one(**options: Any) -> AidLedger:
        options.setdefault("recorded_by", "tester")
        if request.param == "memory":
            location: str | Path = ":memory:"
        elif request.param == "postgres":
            server = request.getfixturevalue("postgres_server")
            location = server.create_database(f"ledger_{uuid4().hex}")
        else:
            location = tmp_path / ("ledger.db" if not opened else f"ledger-{len(opened)}.db")
        opened.append(aidledger.open(location, **options))
        return opened[-1]

    yield open_one
    for one in opened:
        one.close()


@pytest.fixture
def ledger(open_store: OpenStore) -> AidLedger:
    """A new, empty ledger recording as ``tester``, on each store (``memory``, ``sqlite-file``, ``postgres``)."""
    return open_store()


def connect_raw(ledger: AidLedger) -> sqlite3.Connection:
    """A plain sqlite3 connection to the ledger's own database (file or shared-cache memory)."""
    name = ledger.store.address
    assert not name.startswith("postgres"), name
    return sqlite3.connect(name, uri=name.startswith("file:"))


@contextmanager
def refused(ledger: AidLedger, error: type[TError], *mentions: object) -> Iterator[pytest.ExceptionInfo[TError]]:
    """Expect ``error`` whose message mentions each of ``mentions``, and that nothing was stored."""
    before = ledger.position()
    with pytest.raises(error) as caught:
        yield caught
    message = str(caught.value)
    for mention in mentions:
        assert str(mention) in message, f"{mention!r} not named in {message!r}"
    assert ledger.position() == before, "a refused command stored events"


def register_organization(ledger: AidLedger, **overrides: Any) -> UUID:
    """Register a provincial foundation in Hebei (or as overridden); return its id."""
    fields: dict[str, Any] = {
        "name": "河北省扶贫基金会",
        "kind": "foundation",
        "level": "provincial",
        "home_region": "130000",
        "effective_on": "2018-01-02",
    }
    return ledger.register_organization(**(fields | overrides)).aggregate_id


def register_project(ledger: AidLedger, organization_id: UUID, **overrides: Any) -> UUID:
    """Register a 2018 industry project in county 130722 implemented by ``organization_id``."""
    fields: dict[str, Any] = {
        "title": "张北县马铃薯产业帮扶",
        "implementing_organization_id": organization_id,
        "region": "130722",
        "category": "capacity",
        "field": "industry",
        "campaigns": ("百县千社",),
        "planned_start": "2018-03-01",
        "planned_end": "2018-12-31",
        "effective_on": "2018-02-01",
    }
    return ledger.register_project(**(fields | overrides)).aggregate_id


def register_pooled_fund(ledger: AidLedger, organization_id: UUID, **overrides: Any) -> UUID:
    """Register a pooled fund (no recipient region) held by ``organization_id``."""
    fields: dict[str, Any] = {"title": "扶贫联合基金", "region": None, "pooled_fund": True, "category": "direct_aid"}
    return register_project(ledger, organization_id, **(fields | overrides))


def make_pledge(ledger: AidLedger, donor_id: UUID, project_id: UUID, amount: Any = "1000.00", **overrides: Any) -> UUID:
    """Make a signed pledge of ``amount`` yuan (or as overridden); return its id."""
    fields: dict[str, Any] = {
        "donor_id": donor_id,
        "project_id": project_id,
        "amount": amount,
        "effective_on": "2018-03-05",
    }
    return ledger.make_pledge(**(fields | overrides)).aggregate_id


def disburse(ledger: AidLedger, pledge_id: UUID, amount: Any, **overrides: Any) -> UUID:
    """Disburse ``amount`` yuan against ``pledge_id``; return the disbursement's id."""
    fields: dict[str, Any] = {"pledge_id": pledge_id, "amount": amount, "effective_on": "2018-04-10"}
    return ledger.disburse(**(fields | overrides)).aggregate_id


@dataclass(frozen=True)
class Pledged:
    """The ids of a donor, a project and a pledge from the one to the other."""

    organization_id: UUID
    project_id: UUID
    pledge_id: UUID


def set_up_pledge(ledger: AidLedger, amount: Any = "1000.00", **pledge_overrides: Any) -> Pledged:
    """Register an organization and a project, and pledge ``amount`` from the one to the other."""
    organization_id = register_organization(ledger)
    project_id = register_project(ledger, organization_id)
    pledge_id = make_pledge(ledger, organization_id, project_id, amount, **pledge_overrides)
    return Pledged(organization_id, project_id, pledge_id)


@dataclass(frozen=True)
class Pool:
    """A pledge into a pooled fund with money disbursed into it, and a leaf project to regrant to."""

    organization_id: UUID
    fund_id: UUID
    pool_pledge_id: UUID
    pool_disbursement_id: UUID
    leaf_project_id: UUID


def set_up_pool(ledger: AidLedger, pledged: str = "1000.00", disbursed: str = "600.00") -> Pool:
    """Pledge ``pledged`` into a pooled fund and disburse ``disbursed`` of it into the pool."""
    organization_id = register_organization(ledger)
    fund_id = register_pooled_fund(ledger, organization_id)
    leaf_project_id = register_project(ledger, organization_id)
    pool_pledge_id = make_pledge(ledger, organization_id, fund_id, pledged)
    pool_disbursement_id = disburse(ledger, pool_pledge_id, disbursed)
    return Pool(organization_id, fund_id, pool_pledge_id, pool_disbursement_id, leaf_project_id)
