"""Canonical JSON: the one byte form of a JSON value that aidledger hashes and stores.

Keys sorted, no whitespace, UTF-8, no floats (amounts are decimal strings). The same value always
gives the same bytes, whatever the store or the platform, which is what event storage, report
digests and the audit trail rely on.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

__all__ = ["canonical_bytes", "canonical_json", "json_text"]

_UNESCAPED_CONTROLS = re.compile("[\x7f-\x9f]")


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


def json_text(data: Any, *, indent: int | None = None) -> str:
    """JSON for people and scripts, never hashed: sorted keys, UTF-8 text, no control character.

    JSON itself escapes U+0000-U+001F; DEL and the C1 controls (U+007F-U+009F, among them the
    escape sequence introducer U+009B) are written as ``\\u`` escapes too, so that printing the
    text to a terminal sends it no control character. The value read back is the same.
    """
    text = json.dumps(data, ensure_ascii=False, indent=indent, sort_keys=True)
    return _UNESCAPED_CONTROLS.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
