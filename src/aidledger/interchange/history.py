"""The stored history as command records: the events view of an export, re-importable.

Each command stored one *primary* event (``Pledge.Made`` for ``make_pledge``, ...) and perhaps
twins on other aggregates (``Pledge.Disbursed`` beside ``Disbursement.Made``, a pooled-fund
pledge's ``RegrantAllocated``). The primary event holds every field of its command, so the
command record is rebuilt from it; twins are skipped. References are written as the command ids
that created the objects, so the records read like a hand-written import file, and importing them
gives the objects the same ids (they derive from command ids).

A record rebuilt this way is the same command as the original (the same digest), so importing
an export into the ledger it came from finds every row already present; the one exception is
``update_organization``, whose event holds the whole new profile: it is exported with the fields
that changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

from aidledger.application import AidLedger
from aidledger.domain.base import LedgerEvent
from aidledger.domain.values import Money

__all__ = ["SECONDARY_EVENTS", "history_records"]

SECONDARY_EVENTS = frozenset(
    {"Pledge.Disbursed", "Pledge.DisbursementReversed", "Pledge.DisbursementReturned", "Pledge.RegrantAllocated"}
)
"""Twin events a command stores beside its primary event; they hold no field of their own."""

_REFERENCES = (
    "organization_id",
    "implementing_organization_id",
    "donor_id",
    "channel_id",
    "project_id",
    "pledge_id",
    "funded_from",
    "funded_from_pool",
    "disbursement_id",
)


def history_records(ledger: AidLedger, *, position: int | None = None) -> Iterator[dict[str, Any]]:
    """The command records that rebuild the ledger up to ``position`` (all when ``None``), in log order."""
    writer = _RecordWriter()
    for _, event in ledger.read_log(1, position):
        record = writer.record(event)
        if record is not None:
            yield record


class _RecordWriter:
    """Turns primary events into command records; remembers creators and profiles as it goes."""

    def __init__(self) -> None:
        self.creators: dict[UUID, str] = {}
        self.profiles: dict[UUID, dict[str, Any]] = {}

    def record(self, event: LedgerEvent) -> dict[str, Any] | None:
        name = type(event).__qualname__
        if name in SECONDARY_EVENTS:
            return None
        command, fields = _MAPPING[name](self, event)
        if name.endswith((".Registered", ".Made")):
            self.creators[event.originator_id] = event.command_id
        record: dict[str, Any] = {"command": command, "command_id": event.command_id}
        record.update({key: self._reference(value) if key in _REFERENCES else value for key, value in fields.items()})
        record["recorded_by"] = event.recorded_by
        record["effective_on"] = event.effective_on.isoformat()
        if event.source is not None:
            record["source"] = event.source.model_dump(mode="json", exclude_none=True)
        return {key: value for key, value in record.items() if value is not None}

    def _reference(self, value: Any) -> Any:
        """The command id that created the object, unless that id would read as a UUID."""
        if value is None:
            return None
        creator = self.creators.get(UUID(str(value)))
        if creator is None or _looks_like_uuid(creator):
            return str(value)
        return creator

    # -- per event ----------------------------------------------------------------------------

    def organization_registered(self, event: Any) -> tuple[str, dict[str, Any]]:
        profile = event.profile.model_dump(mode="json", exclude_none=True)
        self.profiles[event.originator_id] = profile
        return "register_organization", profile

    def organization_updated(self, event: Any) -> tuple[str, dict[str, Any]]:
        profile = event.profile.model_dump(mode="json", exclude_none=True)
        before = self.profiles.get(event.originator_id, {})
        self.profiles[event.originator_id] = profile
        changes: dict[str, Any] = {key: value for key, value in profile.items() if before.get(key) != value}
        cleared = sorted(key for key in before if key not in profile)
        if cleared:
            changes["clear"] = cleared
        return "update_organization", {"organization_id": event.originator_id, **changes}

    @staticmethod
    def project_registered(event: Any) -> tuple[str, dict[str, Any]]:
        plan = event.plan.model_dump(mode="json", exclude_none=True)
        if event.plan.budget is not None:
            plan["budget"] = money_value(event.plan.budget)
        plan["campaigns"] = list(plan.get("campaigns", ()))
        return "register_project", plan

    @staticmethod
    def pledge_made(event: Any) -> tuple[str, dict[str, Any]]:
        terms = event.terms.model_dump(mode="json", exclude_none=True)
        _amount_or_currency(terms, event.terms.amount)
        terms.pop("drawn_from", None)  # the library's choice: importing the record chooses the same again
        if not terms.get("items"):
            terms.pop("items", None)
        if terms.get("flow") == "donation":  # the default, as the record that made it left it out
            terms.pop("flow")
        return "make_pledge", {**terms, "stage": event.stage.value}

    @staticmethod
    def disbursement_made(event: Any) -> tuple[str, dict[str, Any]]:
        terms = event.terms.model_dump(mode="json", exclude_none=True)
        if event.terms.amount.assessed:
            terms["amount"] = money_value(event.terms.amount)
        else:  # goods with no amount: in the pledge's currency, which the command does not name
            del terms["amount"]
        if not terms.get("items"):
            terms.pop("items", None)
        return "disburse", terms


def _amount_or_currency(terms: dict[str, Any], amount: Money) -> None:
    """Write the amount; an unvalued gift is written as it was given: no amount, its currency unless CNY."""
    if amount.assessed:
        terms["amount"] = money_value(amount)
        return
    del terms["amount"]
    if amount.currency != "CNY":
        terms["currency"] = amount.currency


def money_value(money: Money) -> Any:
    """Money as an import record writes it: a plain string for CNY, else value and currency."""
    if money.currency == "CNY":
        return str(money.value)
    return {"value": str(money.value), "currency": money.currency}


def _looks_like_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def _plain(command: str, own: str, *extra: str) -> Callable[[_RecordWriter, Any], tuple[str, dict[str, Any]]]:
    """A mapping for events whose fields are the aggregate id (as ``own``) and ``extra`` fields."""

    def fields(_: _RecordWriter, event: Any) -> tuple[str, dict[str, Any]]:
        values = {name: getattr(event, name) for name in extra}
        for name, value in values.items():
            if isinstance(value, Money):
                values[name] = money_value(value)
        return command, {own: event.originator_id, **values}

    return fields


def _disclosed(_: _RecordWriter, event: Any) -> tuple[str, dict[str, Any]]:
    disclosure = event.disclosure.model_dump(mode="json", exclude_none=True)
    return "record_disclosure", {"project_id": event.originator_id, **disclosure}


def _beneficiaries(_: _RecordWriter, event: Any) -> tuple[str, dict[str, Any]]:
    counts = {"person_times": event.person_times, "households": event.households, "persons": event.persons}
    return "report_beneficiaries", {"project_id": event.originator_id, **counts}


_MAPPING: dict[str, Callable[[_RecordWriter, Any], tuple[str, dict[str, Any]]]] = {
    "Organization.Registered": _RecordWriter.organization_registered,
    "Organization.Updated": _RecordWriter.organization_updated,
    "Organization.Deregistered": _plain("deregister_organization", "organization_id", "reason"),
    "Project.Registered": lambda writer, event: _RecordWriter.project_registered(event),
    "Project.Started": _plain("start_project", "project_id"),
    "Project.BeneficiariesReported": _beneficiaries,
    "Project.Disclosed": _disclosed,
    "Project.Completed": _plain("complete_project", "project_id"),
    "Project.Cancelled": _plain("cancel_project", "project_id", "reason"),
    "Pledge.Made": lambda writer, event: _RecordWriter.pledge_made(event),
    "Pledge.Signed": _plain("sign_pledge", "pledge_id"),
    "Pledge.Amended": _plain("amend_pledge", "pledge_id", "amount", "reason"),
    "Pledge.Withdrawn": _plain("withdraw_pledge", "pledge_id", "reason"),
    "Disbursement.Made": lambda writer, event: _RecordWriter.disbursement_made(event),
    "Disbursement.Confirmed": _plain("confirm_disbursement", "disbursement_id"),
    "Disbursement.Reversed": _plain("reverse_disbursement", "disbursement_id", "reason"),
    "Disbursement.Returned": _plain("return_disbursement", "disbursement_id", "amount", "reason"),
}
"""Primary event -> (command, fields); every stored event class is here or a secondary event."""
