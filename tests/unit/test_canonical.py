"""The fast canonical encoder writes exactly the bytes of the reference one.

Command digests and stored event states are canonical JSON. Version 0.1 wrote them with
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` over pydantic's JSON
form; the fast path (msgspec, sorted keys) must give the same bytes, or a command imported again
by a newer version would not be recognised as a repeat, and stored events would change form.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

import aidledger
from aidledger.application.mapper import LedgerMapper
from aidledger.canonical import canonical_bytes, canonical_json
from aidledger.demo import history
from aidledger.interchange.commands import COMMAND_CLASSES, resolve_references, run_command

SCALARS = (
    st.text()  # every code point, control characters and lone surrogates' neighbours included
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.booleans()
    | st.none()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.dates()
    | st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]))
    | st.uuids()
)
DATA = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20
)


def reference(data: Any) -> bytes:
    """What version 0.1 wrote: the JSON form of the data, through ``json.dumps`` with sorted keys."""
    return canonical_json(to_jsonable_python(data))


@settings(max_examples=500)
@given(DATA)
def test_the_fast_encoder_writes_the_reference_bytes(data: Any) -> None:
    assert canonical_bytes(data) == reference(data)


@pytest.mark.parametrize(
    "text",
    ["\x00\x01\x1f\x7f", '"\\/', "\u2028\u2029", "中文 捐赠", "\U0001f600", "\b\f\n\r\t", "=SUM(A1)"],
)
def test_awkward_strings_are_written_as_the_reference_writes_them(text: str) -> None:
    assert canonical_bytes({text: [text]}) == reference({text: [text]})


def _models(base: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for model in base.__subclasses__():
        yield model
        yield from _models(model)


def test_no_command_event_or_value_holds_a_float() -> None:
    """Floats are never written: every field of every aidledger model is of an exact type."""
    importlib.import_module("aidledger.application.commands")
    for package in ("aidledger.domain",):
        for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
            importlib.import_module(f"{package}.{module.name}")
    models = {m for m in _models(BaseModel) if m.__module__.startswith("aidledger.")}
    assert len(models) > 30, sorted(m.__name__ for m in models)
    for model in models:
        for name, field in model.model_fields.items():
            assert "float" not in repr(field.annotation), f"{model.__name__}.{name}: {field.annotation}"


def test_every_demo_command_digest_and_event_state_is_the_reference_bytes() -> None:
    """The real data: each demo command's digest input and each stored event's state."""
    records = list(history())
    for record in records:
        fields = dict(record)
        command = COMMAND_CLASSES[fields.pop("command")].model_validate(resolve_references(fields))
        payload = command.model_dump(exclude={"command_id", "recorded_by"})
        json_payload = command.model_dump(mode="json", exclude={"command_id", "recorded_by"})
        assert canonical_bytes(payload) == canonical_json(json_payload), record
    mapper = LedgerMapper()
    with aidledger.open(":memory:", recorded_by="test") as ledger:
        for record in records:
            run_command(ledger, record)
        events = [event for _, event in ledger.read_log()]
    assert len(events) > len(records) / 2
    for event in events:
        json_state = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
        stored = mapper.to_stored_event(event).state
        assert stored == canonical_json(json_state | ({"class_version": 2} if b"class_version" in stored else {}))


def test_the_reference_form_of_a_sample() -> None:
    """Spelled out once, so the format itself is pinned, not only the agreement of two writers."""
    sample = {
        "b": Decimal("1000.50"),
        "a": [date(2025, 1, 2), datetime(2025, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)],
        "c": UUID("00000000-0000-0000-0000-000000000001"),
        "d": "捐",
    }
    assert canonical_bytes(sample) == (
        b'{"a":["2025-01-02","2025-01-02T03:04:05.600000Z"],"b":"1000.50",'
        b'"c":"00000000-0000-0000-0000-000000000001","d":"\xe6\x8d\x90"}'
    )
