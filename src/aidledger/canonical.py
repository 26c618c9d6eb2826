"""Canonical JSON: the one byte form of a JSON value that aidledger hashes and stores.

Keys sorted, no whitespace, UTF-8, no floats (amounts are decimal strings). The same value always
gives the same bytes, whatever the store or the platform, which is what event storage, report
digests and the audit trail rely on.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

__all__ = ["canonical_bytes", "canonical_json"]


def canonical_json(data: Any) -> bytes:
    """Serialise JSON-ready data canonically: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


_ENCODER = msgspec.json.Encoder(order="sorted")


def canonical_bytes(data: Any) -> bytes:
    """The same bytes as :func:`canonical_json` of the JSON form of ``data``, faster, for data made of
    strings, whole numbers, booleans, ``None``, ``Decimal`` (written as its string), dates, aware times,
    UUIDs, string enums, lists, tuples and string-keyed dicts: what commands and events hold.

    Floats would be written as JSON numbers; no command or event field is a float (a test pins it),
    so amounts stay exact decimals written as strings.
    """
    return _ENCODER.encode(data)
