"""Commands as plain records: one JSON object per command, references by command id.

A record names its command (``"command": "make_pledge"``) and carries the command's fields.
Reference fields (``donor_id``, ``project_id``, ``pledge_id`` …) take either an object's UUID or
the command id of the command that created it, so a history file reads naturally:
``{"command": "make_pledge", "command_id": "pl-1", "donor_id": "org-1", ...}``.

Keys that start with ``#`` are notes: they are dropped, and a record with nothing but notes (such
as the header line an export writes) is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from aidledger.application import commands as command_models
from aidledger.application.ledger import AidLedger
from aidledger.application.references import CREATES, REFERENCE_KINDS, resolve_reference, resolve_references
from aidledger.application.views import Receipt
from aidledger.errors import InvalidInput

__all__ = [
    "COMMANDS",
    "COMMAND_CLASSES",
    "CREATES",
    "REFERENCE_KINDS",
    "is_note",
    "read_jsonl",
    "resolve_reference",
    "resolve_references",
    "run_command",
    "run_commands",
    "without_notes",
]

COMMANDS = (
    "register_organization",
    "update_organization",
    "deregister_organization",
    "register_project",
    "start_project",
    "report_beneficiaries",
    "record_disclosure",
    "complete_project",
    "cancel_project",
    "make_pledge",
    "sign_pledge",
    "amend_pledge",
    "withdraw_pledge",
    "disburse",
    "confirm_disbursement",
    "reverse_disbursement",
    "return_disbursement",
)
"""Every command a record can name: the ledger's command methods."""

COMMAND_CLASSES: dict[str, type[command_models.Command]] = {
    cls.command_name: cls for cls in command_models.Command.__subclasses__()
}
"""The command model of each command name."""

assert set(COMMAND_CLASSES) == set(COMMANDS), sorted(set(COMMAND_CLASSES) ^ set(COMMANDS))


def is_note(key: str) -> bool:
    """Whether a record key or a CSV column is a note (starts with ``#``) that import ignores."""
    return key.startswith("#")


def without_notes(record: dict[str, Any]) -> dict[str, Any]:
    """The record without its note keys."""
    return {key: value for key, value in record.items() if not is_note(key)}


def run_command(ledger: AidLedger, record: dict[str, Any]) -> Receipt:
    """Run one command record against the ledger."""
    fields = dict(record)
    name = fields.pop("command", None)
    if name not in COMMANDS:
        raise InvalidInput("command", name, "one of " + ", ".join(COMMANDS))
    method: Callable[..., Receipt] = getattr(ledger, name)
    return method(**resolve_references(fields))


def read_jsonl(stream: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    """Records of a JSON Lines stream with their line numbers; blank lines and notes are skipped."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InvalidInput(f"line {number}", line.strip()[:80], f"one JSON object per line ({error.msg})") from None
        if not isinstance(record, dict):
            raise InvalidInput(f"line {number}", record, "a JSON object")
        fields = without_notes(record)
        if fields or not record:
            yield number, fields


def run_commands(
    ledger: AidLedger, records: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None
) -> list[Receipt]:
    """Run command records in order; ``progress`` is called after each with the count so far."""
    receipts = []
    for count, record in enumerate(records, start=1):
        receipts.append(run_command(ledger, record))
        if progress is not None:
            progress(count)
    return receipts
