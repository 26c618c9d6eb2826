"""Organizations: clearing a profile field with ``update_organization``, and one credit code per organization."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from stdnum.cn import uscc
from tests.ledger_fixtures import refused, register_organization

import aidledger
from aidledger import AidLedger, errors
from aidledger.application.commands import UpdateOrganization
from aidledger.application.pipeline import CODES_LOOKED_UP_ONE_BY_ONE
from aidledger.canonical import canonical_bytes
from aidledger.interchange import import_file
from aidledger.interchange.history import history_records
from aidledger.projections import fold_of

CODE = "91110000600037341L"
"""A unified social credit code with a valid check digit."""


def coded_organization(ledger: AidLedger) -> aidledger.Receipt:
    """A charity with a credit code and a charity date."""
    return ledger.register_organization(
        command_id="org-coded", name="有代码的基金会（虚构）", kind="foundation", level="provincial",
        home_region="130000", credit_code=CODE, charity=True, charity_since="2017-01-01", effective_on="2018-01-02",
    )  # fmt: skip


def test_update_organization_clears_the_fields_named_in_clear_and_keeps_the_others(ledger: AidLedger) -> None:
    """``clear=["credit_code"]`` sets the code to none in the aggregate and in the projections' record."""
    organization_id = coded_organization(ledger).aggregate_id
    ledger.update_organization(organization_id=organization_id, clear=["credit_code"], effective_on="2018-03-01")
    profile = ledger.organization(organization_id).profile
    assert profile.credit_code is None
    assert profile.charity_since == date(2017, 1, 1) and profile.name == "有代码的基金会（虚构）"
    folded = fold_of(ledger).organizations[str(organization_id)].history[-1].profile
    assert folded.credit_code is None and folded.charity_since == date(2017, 1, 1)


def test_clearing_a_field_that_is_also_given_or_cannot_be_cleared_is_invalid_input(ledger: AidLedger) -> None:
    """A field given a value and cleared, or a required field named in ``clear``, is refused naming it."""
    organization_id = coded_organization(ledger).aggregate_id
    with refused(ledger, errors.InvalidInput, "credit_code", "both given a value and cleared"):
        ledger.update_organization(
            organization_id=organization_id, credit_code=CODE, clear=["credit_code"], effective_on="2018-03-01"
        )
    with refused(ledger, errors.InvalidInput, "clear", "name", "charity_since"):
        ledger.update_organization(organization_id=organization_id, clear=["name"], effective_on="2018-03-01")
    assert ledger.organization(organization_id).profile.credit_code == CODE


def test_an_update_without_clear_keeps_the_digest_it_had_before_clear_existed() -> None:
    """Stored update_organization commands repeat as before: an empty ``clear`` is not in the digest."""
    organization_id = aidledger.derive_id("organization", "org-1")
    command = UpdateOrganization.model_validate(
        {"organization_id": organization_id, "level": "national", "effective_on": "2018-03-01"}
    )
    payload = command.model_dump(exclude={"command_id", "recorded_by", "clear"})
    expected = hashlib.sha256(canonical_bytes({"command": "update_organization", "payload": payload})).hexdigest()
    assert command.digest() == expected
    assert command.model_copy(update={"clear": ("credit_code",)}).digest() != expected


def test_a_cleared_field_survives_the_history_export_and_the_csv_import(ledger: AidLedger, tmp_path: Path) -> None:
    """The history record of the update says ``clear``; a CSV ``clear`` column clears as the API does."""
    organization_id = coded_organization(ledger).aggregate_id
    ledger.update_organization(
        organization_id=organization_id, clear=["credit_code", "charity_since"], effective_on="2018-03-01"
    )
    update = list(history_records(ledger))[-1]
    assert update["command"] == "update_organization"
    assert update["clear"] == ["charity_since", "credit_code"]

    sheet = tmp_path / "clear.csv"
    sheet.write_text(
        "command,command_id,effective_on,recorded_by,name,kind,level,home_region,credit_code,organization_id,clear\n"
        f"register_organization,org-1,2018-01-02,clerk,示例协会（虚构）,social_group,provincial,130000,{CODE},,\n"
        "update_organization,upd-1,2018-03-01,clerk,,,,,,org-1,credit_code\n",
        encoding="utf-8",
    )
    with aidledger.open(":memory:") as other:
        import_file(other, str(sheet))
        assert other.organization(aidledger.derive_id("organization", "org-1")).profile.credit_code is None


# -- one unified social credit code per organization ------------------------------------------------


def test_registering_a_second_organization_with_a_credit_code_in_use_is_refused(ledger: AidLedger) -> None:
    """The code identifies one organization for life: a second registration names the holder and stores nothing."""
    holder = coded_organization(ledger).aggregate_id
    with refused(ledger, errors.DuplicateCreditCode, CODE, holder, "有代码的基金会（虚构）", "credit_code"):
        register_organization(ledger, name="另一个组织", credit_code=CODE.lower())
    register_organization(ledger, name="另一个组织", credit_code="91350100M000100Y43")  # another code: accepted


def test_a_deregistered_organization_keeps_its_credit_code(ledger: AidLedger) -> None:
    """A code is never given to a second organization, even after the first was deregistered."""
    holder = coded_organization(ledger).aggregate_id
    ledger.deregister_organization(organization_id=holder, reason="注销", effective_on="2018-06-01")
    with refused(ledger, errors.DuplicateCreditCode, CODE, holder, "deregistered on 2018-06-01"):
        register_organization(ledger, name="新组织", credit_code=CODE)


def test_updating_to_a_credit_code_in_use_is_refused_and_a_cleared_code_is_free_again(ledger: AidLedger) -> None:
    """An update may not take another organization's code; once that one clears it, the code may move."""
    holder = coded_organization(ledger).aggregate_id
    other = register_organization(ledger, name="另一个组织")
    with refused(ledger, errors.DuplicateCreditCode, CODE, holder):
        ledger.update_organization(organization_id=other, credit_code=CODE, effective_on="2018-03-01")
    ledger.update_organization(organization_id=holder, level="national", effective_on="2018-03-01")  # keeps its own
    ledger.update_organization(organization_id=holder, clear=["credit_code"], effective_on="2018-03-02")
    ledger.update_organization(organization_id=other, credit_code=CODE, effective_on="2018-03-03")
    assert ledger.organization(other).profile.credit_code == CODE


def test_an_import_with_two_rows_of_one_credit_code_is_refused_whole(ledger: AidLedger, tmp_path: Path) -> None:
    """The import decides rows in memory: the second row with the code is a problem and nothing is stored."""
    sheet = tmp_path / "twins.csv"
    sheet.write_text(
        "command,command_id,effective_on,recorded_by,name,kind,level,home_region,credit_code\n"
        f"register_organization,org-a,2018-01-02,clerk,甲协会（虚构）,social_group,provincial,130000,{CODE}\n"
        f"register_organization,org-b,2018-01-02,clerk,乙协会（虚构）,social_group,provincial,130000,{CODE}\n",
        encoding="utf-8",
    )
    with refused(ledger, errors.InvalidInput, "line 3", "DuplicateCreditCode", CODE):
        import_file(ledger, str(sheet))


def codes(count: int, start: int = 0) -> list[str]:
    """``count`` valid unified social credit codes."""
    bodies = [f"91110000600{number:06d}" for number in range(start, start + count)]
    return [body + uscc.calc_check_digit(body) for body in bodies]


def test_an_import_of_many_organizations_finds_a_code_held_in_the_ledger_after_reading_every_profile(
    ledger: AidLedger, tmp_path: Path
) -> None:
    """Past the first codes looked up one by one, the session reads every stored profile once, and
    still finds the holder of a code, and still accepts the codes nobody holds."""
    stored = codes(20)
    for number, code in enumerate(stored):
        register_organization(ledger, command_id=f"org-{number}", name=f"组织{number}", credit_code=code)
    new = codes(CODES_LOOKED_UP_ONE_BY_ONE + 4, start=100)
    lines = ["command,command_id,effective_on,recorded_by,name,kind,level,home_region,credit_code"]
    lines += [
        f"register_organization,new-{n},2018-02-01,clerk,新组织{n},other,county,130722,{c}" for n, c in enumerate(new)
    ]
    sheet = tmp_path / "many.csv"
    sheet.write_text(
        "\n".join([*lines, f"register_organization,late,2018-02-01,clerk,晚到,other,county,130722,{stored[7]}"]) + "\n",
        encoding="utf-8",
    )
    with refused(ledger, errors.InvalidInput, f"line {len(lines) + 1}", "DuplicateCreditCode", "组织7"):
        import_file(ledger, str(sheet))
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert import_file(ledger, str(sheet)).stored == len(new)
