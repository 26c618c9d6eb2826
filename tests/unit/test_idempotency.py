"""Idempotency by command id: repeating a command is a no-op that returns the first receipt.

The same command id with a different payload, or for a different command, is refused with
``IdempotencyConflict`` and stores nothing. Commands are accepted as models or keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.ledger_fixtures import OpenStore, Pledged, disburse, refused, register_organization, set_up_pledge

import aidledger
from aidledger import AidLedger, Money, Receipt, derive_id, errors
from aidledger.application.commands import Disburse, MakePledge, RegisterOrganization

ORGANIZATION: dict[str, Any] = {
    "name": "北京市扶贫基金会",
    "kind": "foundation",
    "level": "provincial",
    "home_region": "110000",
    "effective_on": "2018-01-02",
}

Send = Callable[[AidLedger, Pledged, dict[str, Any]], Receipt]
"""Sends one kind of command with the given fields, using the parties of an existing pledge."""


def register(ledger: AidLedger, fields: dict[str, Any]) -> Receipt:
    """Register the organization above, with ``fields`` changed."""
    return ledger.register_organization(**(ORGANIZATION | fields))


def _register(ledger: AidLedger, _: Pledged, fields: dict[str, Any]) -> Receipt:
    return register(ledger, fields)


def _pledge(ledger: AidLedger, pledged: Pledged, fields: dict[str, Any]) -> Receipt:
    base = {"donor_id": pledged.organization_id, "project_id": pledged.project_id, "effective_on": "2018-03-05"}
    return ledger.make_pledge(**(base | {"amount": "500.00"} | fields))


def _disburse(ledger: AidLedger, pledged: Pledged, fields: dict[str, Any]) -> Receipt:
    base = {"pledge_id": pledged.pledge_id, "effective_on": "2018-04-10"}
    return ledger.disburse(**(base | {"amount": "500.00"} | fields))


def _amend(ledger: AidLedger, pledged: Pledged, fields: dict[str, Any]) -> Receipt:
    base = {"pledge_id": pledged.pledge_id, "reason": "more", "effective_on": "2018-04-10"}
    return ledger.amend_pledge(**(base | {"amount": "500.00"} | fields))


SENDERS = [
    pytest.param(_register, id="register_organization"),
    pytest.param(_pledge, id="make_pledge"),
    pytest.param(_disburse, id="disburse"),
    pytest.param(_amend, id="amend_pledge"),
]


@pytest.mark.parametrize("send", SENDERS)
def test_repeating_a_command_stores_nothing_and_returns_an_equal_receipt(ledger: AidLedger, send: Send) -> None:
    """Same command id and payload: no new events, the first receipt again."""
    pledged = set_up_pledge(ledger)
    first = send(ledger, pledged, {"command_id": "cmd-1"})
    position = ledger.position()
    again = send(ledger, pledged, {"command_id": "cmd-1"})
    assert again == first
    assert ledger.position() == position


@pytest.mark.parametrize("send", SENDERS)
def test_the_same_command_id_with_a_different_payload_is_refused(ledger: AidLedger, send: Send) -> None:
    """Same command id, different amount or name: IdempotencyConflict naming the id, nothing stored."""
    pledged = set_up_pledge(ledger)
    send(ledger, pledged, {"command_id": "cmd-1"})
    changed = {"name": "另一个名字"} if send is _register else {"amount": "499.99"}
    with refused(ledger, errors.IdempotencyConflict, "'cmd-1'"):
        send(ledger, pledged, {"command_id": "cmd-1"} | changed)


def test_equivalent_spellings_of_a_command_are_the_same_payload(ledger: AidLedger) -> None:
    """ "500", "500.00" and Decimal("500.00"), or a date and its ISO string, are one command repeated."""
    pledged = set_up_pledge(ledger)
    first = _disburse(ledger, pledged, {"command_id": "cmd-1", "amount": "500"})
    position = ledger.position()
    again = _disburse(ledger, pledged, {"command_id": "cmd-1", "amount": Decimal("500.00")})
    once_more = _disburse(
        ledger, pledged, {"command_id": "cmd-1", "amount": "500.00", "effective_on": date(2018, 4, 10)}
    )
    assert first == again == once_more
    assert ledger.position() == position


def test_a_changed_effective_date_is_a_different_payload(ledger: AidLedger) -> None:
    """The effective date is part of what a command says."""
    register(ledger, {"command_id": "cmd-1"})
    with refused(ledger, errors.IdempotencyConflict, "cmd-1"):
        register(ledger, {"command_id": "cmd-1", "effective_on": "2018-01-03"})


def test_another_recorder_repeating_a_command_gets_the_first_receipt(ledger: AidLedger) -> None:
    """Who records is audit metadata, not the command: a second clerk re-running it stores nothing."""
    first = register(ledger, {"command_id": "cmd-1"})
    position = ledger.position()
    again = register(ledger, {"command_id": "cmd-1", "recorded_by": "someone-else"})
    assert again == first
    assert ledger.position() == position
    assert next(event for _, event in ledger.read_log()).recorded_by == "tester"


def test_a_command_id_used_for_another_kind_of_command_is_refused(ledger: AidLedger) -> None:
    """A command id names one command, whatever its type; the message names the first command."""
    pledged = set_up_pledge(ledger)
    disburse(ledger, pledged.pledge_id, "100.00", command_id="cmd-1")
    with refused(ledger, errors.IdempotencyConflict, "cmd-1", "disburse"):
        ledger.sign_pledge(command_id="cmd-1", pledge_id=pledged.pledge_id, effective_on="2018-04-11")
    with refused(ledger, errors.IdempotencyConflict, "cmd-1", "disburse"):
        register_organization(ledger, command_id="cmd-1")


def test_a_refused_command_does_not_use_up_its_command_id(ledger: AidLedger) -> None:
    """Nothing was stored, so the corrected command may use the same id."""
    pledged = set_up_pledge(ledger, "100.00")
    with refused(ledger, errors.OverDisbursement, "100.01"):
        disburse(ledger, pledged.pledge_id, "100.01", command_id="cmd-1")
    receipt = ledger.disburse(
        command_id="cmd-1", pledge_id=pledged.pledge_id, amount="100.00", effective_on="2018-04-10"
    )
    assert receipt.aggregate_id == derive_id("disbursement", "cmd-1")


def test_a_repeat_returns_the_first_receipt_even_after_later_changes(ledger: AidLedger) -> None:
    """A retried disbursement is not refused because the pledge was paid out meanwhile."""
    pledged = set_up_pledge(ledger, "100.00")
    first = ledger.disburse(command_id="cmd-1", pledge_id=pledged.pledge_id, amount="100.00", effective_on="2018-04-10")
    assert ledger.pledge(pledged.pledge_id).outstanding == Decimal("0.00")
    position = ledger.position()
    again = ledger.disburse(command_id="cmd-1", pledge_id=pledged.pledge_id, amount="100.00", effective_on="2018-04-10")
    assert again == first
    assert ledger.position() == position


def test_a_command_without_an_id_gets_a_generated_one(ledger: AidLedger) -> None:
    """Each call without a command id is a new command, with a fresh id the object's id derives from."""
    first = register(ledger, {})
    second = register(ledger, {})
    assert first.command_id and second.command_id
    assert first.command_id != second.command_id
    assert first.aggregate_id == derive_id("organization", first.command_id)
    assert ledger.organization(first.aggregate_id).profile == ledger.organization(second.aggregate_id).profile
    repeated = register(ledger, {"command_id": first.command_id})
    assert repeated == first


def test_creation_ids_are_derived_from_the_command_id(ledger: AidLedger) -> None:
    """An import can refer to an object by the command id that created it."""
    pledged = set_up_pledge(ledger, command_id="pledge-2018-001")
    assert pledged.pledge_id == derive_id("pledge", "pledge-2018-001")


def test_a_command_model_is_accepted_like_keyword_arguments(ledger: AidLedger) -> None:
    """A MakePledge model and the same fields as keywords are one command: the second is a repeat."""
    pledged = set_up_pledge(ledger)
    command = MakePledge(
        command_id="cmd-model",
        donor_id=pledged.organization_id,
        project_id=pledged.project_id,
        amount=Money.of("250.00"),
        effective_on=date(2018, 3, 5),
    )
    receipt = ledger.make_pledge(command)
    assert ledger.pledge(receipt.aggregate_id).amount.value == Decimal("250.00")
    position = ledger.position()
    again = ledger.make_pledge(
        command_id="cmd-model",
        donor_id=pledged.organization_id,
        project_id=pledged.project_id,
        amount="250.00",
        effective_on="2018-03-05",
    )
    assert again == receipt
    assert ledger.position() == position


def test_models_of_other_commands_are_accepted(ledger: AidLedger) -> None:
    """Register and Disburse models work as well."""
    organization = ledger.register_organization(RegisterOrganization.model_validate(ORGANIZATION))
    assert ledger.organization(organization.aggregate_id).profile.name == ORGANIZATION["name"]
    pledged = set_up_pledge(ledger)
    command = Disburse.model_validate({"pledge_id": pledged.pledge_id, "amount": "1.00", "effective_on": "2018-04-10"})
    receipt = ledger.disburse(command)
    assert ledger.disbursement(receipt.aggregate_id).amount.value == Decimal("1.00")


def test_a_model_and_keyword_arguments_together_are_refused(ledger: AidLedger) -> None:
    """Either a command model or keyword fields, not both."""
    command = RegisterOrganization.model_validate(ORGANIZATION)
    with refused(ledger, errors.InvalidInput, "RegisterOrganization", "not both"):
        ledger.register_organization(command, command_id="cmd-1")


def test_a_model_of_the_wrong_command_is_refused(ledger: AidLedger) -> None:
    """A command method takes its own command model only."""
    pledged = set_up_pledge(ledger)
    command = Disburse.model_validate({"pledge_id": pledged.pledge_id, "amount": "1.00", "effective_on": "2018-04-10"})
    with refused(ledger, errors.InvalidInput, "Disburse", "MakePledge"):
        ledger.make_pledge(command)  # type: ignore[arg-type]


def test_recorded_by_is_required_when_the_ledger_has_no_default(open_store: OpenStore) -> None:
    """Every event says who recorded it; a ledger opened without recorded_by needs it per command."""
    ledger = open_store(recorded_by=None)
    with refused(ledger, errors.InvalidInput, "recorded_by", "required") as caught:
        register(ledger, {})
    assert caught.value.field == "recorded_by"
    receipt = register(ledger, {"recorded_by": "clerk-7"})
    events = [event for _, event in ledger.read_log()]
    assert [event.recorded_by for event in events] == ["clerk-7"]
    assert receipt.positions == (1,)


def test_an_explicit_recorded_by_overrides_the_ledgers_default(ledger: AidLedger) -> None:
    """The ledger's default recorder applies only where a command names none."""
    register(ledger, {"recorded_by": "clerk-7"})
    register(ledger, {})
    assert [event.recorded_by for _, event in ledger.read_log()] == ["clerk-7", "tester"]


def test_repeats_are_recognised_by_a_ledger_reopened_on_the_same_file(tmp_path: Path) -> None:
    """The command index is stored with the events, so a restarted importer does not store twice."""
    path = tmp_path / "ledger.db"
    with aidledger.open(path, recorded_by="tester") as first_run:
        receipt = register(first_run, {"command_id": "import-row-1"})
    with aidledger.open(path, recorded_by="tester") as second_run:
        assert register(second_run, {"command_id": "import-row-1"}) == receipt
        assert second_run.position() == 1
