"""How records refer to objects: by UUID, or by the command id of the command that created them.

Commands that create an object give it an id derived from the command id (``derive_id``), so a
file of command records can name a pledge by ``"pl-1"`` instead of its UUID.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import UUID

from aidledger.domain.base import derive_id

__all__ = ["CREATES", "REFERENCE_KINDS", "resolve_reference", "resolve_references"]

REFERENCE_KINDS = {
    "organization_id": "organization",
    "implementing_organization_id": "organization",
    "donor_id": "organization",
    "channel_id": "organization",
    "project_id": "project",
    "pledge_id": "pledge",
    "funded_from": "pledge",
    "funded_from_pool": "project",
    "disbursement_id": "disbursement",
}
"""Reference fields and the kind of object each names."""

CREATES = {
    "register_organization": "organization",
    "register_project": "project",
    "make_pledge": "pledge",
    "disburse": "disbursement",
}
"""Commands that create an object, and the kind of object each creates (its id is
``derive_id(kind, command_id)``)."""


@lru_cache(maxsize=65536)
def resolve_reference(kind: str, value: str) -> UUID:
    """The id a reference names: the UUID itself, or the id the command ``value`` gave a ``kind``."""
    text = value.strip()
    try:
        return UUID(text)
    except ValueError:
        return derive_id(kind, text)


def resolve_references(fields: dict[str, Any]) -> dict[str, Any]:
    """Turn command-id references into the ids those commands gave their objects."""
    resolved = dict(fields)
    for name, kind in REFERENCE_KINDS.items():
        value = resolved.get(name)
        if isinstance(value, str) and value.strip():
            resolved[name] = str(resolve_reference(kind, value))
    return resolved
