"""Canonical JSON: the one byte form of a JSON value that aidledger hashes and stores.

Keys sorted, no whitespace, UTF-8, no floats (amounts are decimal strings). The same value always
gives the same bytes, whatever the store or the platform, which is what event storage, report
digests and the audit trail rely on.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical_json"]


def canonical_json(data: Any) -> bytes:
    """Serialise JSON-ready data canonically: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
