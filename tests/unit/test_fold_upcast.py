"""The fold reads older versions of an event as the mapper does: a row without ``class_version`` is
version 1, and is brought up to date by the event class's upcasters before it is folded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aidledger.application import mapper
from aidledger.application.ports import StoredRow
from aidledger.domain.project import Project
from aidledger.projections import events

STATE = (
    b'{"command_id":"prj-1-start","effective_on":"2018-02-01","recorded_by":"clerk","source":null,'
    b'"timestamp":"2018-02-01T08:00:00Z"}'
)


@pytest.fixture
def started_at_version_2(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Project.Started as if it had changed once: version 2, with an upcaster that notes its calls."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(Project.Started, "class_version", 2, raising=False)
    monkeypatch.setattr(
        Project.Started, "upcast_v1_v2", staticmethod(lambda state: calls.append(dict(state))), raising=False
    )
    mapper.class_version.cache_clear()
    yield calls
    mapper.class_version.cache_clear()


def row(state: bytes) -> StoredRow:
    return StoredRow(7, "00000000-0000-0000-0000-000000000001", 2, "aidledger.domain.project:Project.Started", state)


def test_a_version_1_row_is_upcast_before_it_is_folded(started_at_version_2: list[dict[str, Any]]) -> None:
    decoded = events.decode(row(STATE))
    assert decoded is not None and decoded[0] == "Project.Started"
    assert len(started_at_version_2) == 1 and "class_version" not in started_at_version_2[0]


def test_a_row_of_the_current_version_is_not_upcast(started_at_version_2: list[dict[str, Any]]) -> None:
    decoded = events.decode(row(STATE[:-1] + b',"class_version":2}'))
    assert decoded is not None and decoded[0] == "Project.Started"
    assert started_at_version_2 == []
