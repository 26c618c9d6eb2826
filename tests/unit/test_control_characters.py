"""Control characters (escape, tab, carriage return, C1 ...) are refused in every name, title and
free-text field at input, and escaped wherever the command line prints stored text.

A terminal obeys the escape sequences it is sent: an organization named ``"\\x1b[2J"`` would clear
the screen of whoever runs ``aidledger report --by donor``. New input is refused (a newline only
where it means something: in a reason); text stored before that refusal existed is still read,
and printed with its control characters spelled out (``\\x1b``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from tests.ledger_fixtures import disburse, refused, register_organization, register_project, set_up_pledge

import aidledger
from aidledger import AidLedger, errors
from aidledger.application.pipeline import Decided
from aidledger.cli import main
from aidledger.interchange.commands import COMMAND_CLASSES
from aidledger.interchange.importer import Importer

ESCAPE = "\x1b[2J"
"""Clears a terminal's screen."""


@pytest.fixture
def ledger_file(tmp_path: Path) -> Iterator[AidLedger]:
    """A new ledger in an SQLite file."""
    with aidledger.open(tmp_path / "ledger.db", recorded_by="tester") as ledger:
        yield ledger


# -- refused at input -------------------------------------------------------------------------------


def _commands(ledger: AidLedger) -> dict[str, tuple[str, dict[str, Any]]]:
    """For each text field: the command method and its valid fields, keyed by the field's name."""
    pledged = set_up_pledge(ledger)
    disbursement = disburse(ledger, pledged.pledge_id, "100.00")
    organization = {"kind": "foundation", "level": "provincial", "home_region": "130000", "effective_on": "2018-01-02"}
    project = {
        "implementing_organization_id": pledged.organization_id,
        "region": "130722",
        "category": "capacity",
        "field": "industry",
        "planned_start": "2018-03-01",
        "planned_end": "2018-12-31",
        "effective_on": "2018-02-01",
    }
    later = {"effective_on": "2018-06-01"}
    disclosure = {
        "project_id": pledged.project_id,
        "kind": "progress",
        "period_start": "2018-03-01",
        "period_end": "2018-05-31",
        "channel": "慈善中国",
        **later,
    }
    return {
        "name": ("register_organization", {"name": "基金会", **organization}),
        "update.name": ("update_organization", {"organization_id": pledged.organization_id, "name": "新名", **later}),
        "title": ("register_project", {"title": "项目", **project}),
        "campaigns": ("register_project", {"title": "项目", "campaigns": ["百县千社"], **project}),
        "channel": ("record_disclosure", disclosure),
        "url": ("record_disclosure", {**disclosure, "url": "https://example.org/report"}),
        "items": (
            "make_pledge",
            {
                "donor_id": pledged.organization_id,
                "project_id": pledged.project_id,
                "amount": "10.00",
                "items": [{"description": "棉被", "quantity": "1", "unit": "床"}],
                "effective_on": "2018-03-05",
            },
        ),
        "amend.reason": ("amend_pledge", {"pledge_id": pledged.pledge_id, "amount": "900.00", "reason": "r", **later}),
        "reverse.reason": ("reverse_disbursement", {"disbursement_id": disbursement, "reason": "r", **later}),
        "return.reason": (
            "return_disbursement",
            {"disbursement_id": disbursement, "amount": "1.00", "reason": "r", **later},
        ),
        "cancel.reason": ("cancel_project", {"project_id": pledged.project_id, "reason": "r", **later}),
        "deregister.reason": (
            "deregister_organization",
            {"organization_id": pledged.organization_id, "reason": "r", **later},
        ),
        "command_id": ("register_organization", {"name": "基金会", "command_id": "org-9", **organization}),
        "recorded_by": ("register_organization", {"name": "基金会", "recorded_by": "clerk", **organization}),
        "source.reference": (
            "register_organization",
            {"name": "基金会", "source": {"reference": "A-1"}, **organization},
        ),
    }


def _poisoned(fields: dict[str, Any], which: str, bad: str) -> tuple[dict[str, Any], str]:
    """``fields`` with the text field ``which`` given ``bad`` appended; returns them and the field's name."""
    fields = dict(fields)
    name = which.rsplit(".", 1)[-1]
    if which == "campaigns":
        fields["campaigns"] = ["百县千社" + bad]
    elif which == "items":
        fields["items"] = [{"description": "棉被" + bad, "quantity": "1", "unit": "床"}]
        name = "description"
    elif which == "source.reference":
        fields["source"] = {"reference": "A-1" + bad}
        name = "reference"
    else:
        fields[name] = fields[name] + bad
    return fields, name


FIELDS = [
    "name",
    "update.name",
    "title",
    "campaigns",
    "channel",
    "url",
    "items",
    "amend.reason",
    "reverse.reason",
    "return.reason",
    "cancel.reason",
    "deregister.reason",
    "command_id",
    "recorded_by",
    "source.reference",
]


@pytest.mark.parametrize("which", FIELDS)
@pytest.mark.parametrize(
    "bad", [ESCAPE, "\t", "\r", "\x07", "\x00", "\x7f", "\x9b31m"], ids=["ESC", "TAB", "CR", "BEL", "NUL", "DEL", "CSI"]
)
def test_a_control_character_in_any_text_field_is_refused_naming_field_and_value(
    ledger_file: AidLedger, which: str, bad: str
) -> None:
    """Escape, tab, carriage return, bell, NUL, DEL and the C1 CSI are refused in every text field."""
    method, fields = _commands(ledger_file)[which]
    poisoned, name = _poisoned(fields, which, bad + "x")  # "x": not at the end, where trimming would drop it
    with refused(ledger_file, errors.InvalidInput, name, "control character", f"U+{ord(bad[0]):04X}") as caught:
        getattr(ledger_file, method)(**poisoned)
    assert repr(bad[0])[1:-1] in str(caught.value)  # the value is shown escaped, never raw
    assert bad[0] not in str(caught.value)


def test_a_newline_is_accepted_in_a_reason_but_not_in_a_name_or_title(ledger_file: AidLedger) -> None:
    """A reason may run over several lines; a name, a title or an identifier is one line."""
    pledged = set_up_pledge(ledger_file)
    ledger_file.amend_pledge(
        pledge_id=pledged.pledge_id, amount="900.00", reason="第一行\n第二行", effective_on="2018-06-01"
    )
    with refused(ledger_file, errors.InvalidInput, "name", "U+000A", "one line"):
        register_organization(ledger_file, name="第一行\n第二行")
    with refused(ledger_file, errors.InvalidInput, "title", "U+000A"):
        register_project(ledger_file, pledged.organization_id, title="第一行\n第二行")
    with refused(ledger_file, errors.InvalidInput, "reason", "U+000D"):
        ledger_file.withdraw_pledge(pledge_id=pledged.pledge_id, reason="第一行\r\n第二行", effective_on="2018-06-02")


def test_printable_text_of_any_script_is_accepted(ledger_file: AidLedger) -> None:
    """The refusal is of control characters only: Chinese, symbols and spaces inside a name pass."""
    register_organization(ledger_file, name="河北省 扶贫基金会 · (¥) ☺ =+-@")


def test_a_default_recorder_with_a_control_character_is_refused(tmp_path: Path) -> None:
    """The recorder given to ``open`` or to an import is checked like the field."""
    with pytest.raises(errors.InvalidInput, match=r"recorded_by.*control character U\+001B"):
        aidledger.open(tmp_path / "a.db", recorded_by="clerk" + ESCAPE)
    path = tmp_path / "rows.jsonl"
    path.write_text('{"command": "sign_pledge", "pledge_id": "p", "effective_on": "2018-01-01"}\n', encoding="utf-8")
    with (
        aidledger.open(tmp_path / "b.db", recorded_by="tester") as ledger,
        pytest.raises(errors.InvalidInput, match=r"recorded_by.*control character U\+001B"),
    ):
        Importer(ledger, path, recorded_by="clerk" + ESCAPE)


# -- escaped on output ------------------------------------------------------------------------------


def stored_before_the_fix(ledger: AidLedger, command_name: str, fields: dict[str, Any], texts: dict[str, str]) -> UUID:
    """Store a command whose events hold ``texts``, as an aidledger older than the refusal did.

    ``fields`` hold a placeholder (a key of ``texts``) where each text goes; the command is
    decided with them, the placeholders are replaced in the events' stored bytes, and those are
    saved through the ledger's one storing path, so that the log, its Merkle tree and the
    projections agree, as they did for the older version.
    """
    command = ledger.command(COMMAND_CLASSES[command_name], None, fields)
    decided = ledger.session().decide(command)
    assert isinstance(decided, Decided)
    events = []
    for event in decided.events:
        state = event.state.decode()
        for placeholder, text in texts.items():
            state = state.replace(json.dumps(placeholder), json.dumps(text))
        events.append(dataclasses.replace(event, state=state.encode()))
    ledger.save_decided([dataclasses.replace(decided, events=tuple(events))])
    return decided.aggregate_id


@pytest.fixture
def old_ledger(tmp_path: Path) -> str:
    """A ledger file holding a name, a title, a campaign, a reason and a recorder with control characters."""
    db = tmp_path / "old.db"
    with aidledger.open(db, recorded_by="tester") as ledger:
        donor = stored_before_the_fix(
            ledger,
            "register_organization",
            {"command_id": "org-1", "effective_on": "2018-01-02", "name": "NAME"}
            | {"kind": "foundation", "level": "provincial", "home_region": "130000"},
            {"NAME": "Evil" + ESCAPE + "\x9b31mRed"},
        )
        project = stored_before_the_fix(
            ledger,
            "register_project",
            {"command_id": "prj-1", "effective_on": "2018-02-01", "title": "TITLE", "campaigns": ["CAMPAIGN"]}
            | {"implementing_organization_id": donor, "region": "130722", "category": "capacity"}
            | {"field": "industry", "planned_start": "2018-03-01", "planned_end": "2018-12-31"},
            {"TITLE": "Title\x1b]0;pwned\x07", "CAMPAIGN": "camp\x1b[5m"},
        )
        pledge = ledger.make_pledge(
            donor_id=donor, project_id=project, amount="100.00", effective_on="2018-03-05", command_id="pl-1"
        ).aggregate_id
        stored_before_the_fix(
            ledger,
            "withdraw_pledge",
            {"command_id": "w-1", "effective_on": "2018-04-01", "pledge_id": pledge}
            | {"reason": "REASON", "recorded_by": "CLERK"},
            {"REASON": "why\x1b[1A\rhidden", "CLERK": "clerk\x1b[8m"},
        )
        ledger.register_organization(  # publishes the IATI export (a reporting org needs a credit code)
            command_id="bureau", name="示例民政厅（虚构）", kind="other", level="provincial", home_region="130000",
            credit_code="11130000MB0A12345Q", effective_on="2018-01-01",
        )  # fmt: skip
    return str(db)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return its exit code, stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


CONTROLS = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) != "\n"]


def assert_no_control_characters(text: str) -> None:
    """No control character but the newline ending each line."""
    found = sorted({repr(c) for c in text if c in CONTROLS})
    assert not found, f"control characters printed raw: {found}"


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["report", "--by", "donor"], "Evil\\x1b[2J\\x9b31mRed"),
        (["report", "--by", "project"], "Title\\x1b]0;pwned\\x07"),
        (["report", "--by", "campaign"], "camp\\x1b[5m"),
        (["report", "--by", "implementer", "--by", "project"], "Evil\\x1b[2J"),
        (["history", "w-1"], "why\\x1b[1A\\rhidden"),
        (["history", "w-1"], "clerk\\x1b[8m"),
        (["restatement", "--from", "0", "--by", "donor"], "Evil\\x1b[2J"),
        (["disclosure", "--on", "2019-12-31", "--campaign", "camp\x1b[5m"], "Title\\x1b]0;pwned\\x07"),
        (["show", "organization", "org-1"], "\\u001b[2J\\u009b31mRed"),
        (["show", "project", "prj-1"], "\\u001b]0;pwned\\u0007"),
        (["--json", "report", "--by", "donor"], "\\u009b31mRed"),
        (["export", "--view", "organization"], "\\u009b31mRed"),
        (["export", "--view", "events"], "\\u009b31mRed"),
    ],
)
def test_stored_control_characters_are_printed_escaped(
    old_ledger: str, capsys: pytest.CaptureFixture[str], argv: list[str], shown: str
) -> None:
    """Tables, lines and JSON show ``\\x1b`` (or JSON's ``\\u001b``) where the stored text has an escape."""
    code, out, err = run(capsys, "--db", old_ledger, *argv)
    assert code == 0, err
    assert_no_control_characters(out + err)
    assert shown in out


@pytest.mark.parametrize("rehearsal", [[], ["--no-rehearsal"]], ids=["refused-row", "rule-error"])
def test_a_stored_control_character_in_an_error_line_is_escaped(
    old_ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], rehearsal: list[str]
) -> None:
    """The one-line error quoting a stored title (a disbursement to a cancelled project) shows it escaped."""
    with aidledger.open(old_ledger, recorded_by="tester") as ledger:
        project = aidledger.derive_id("project", "prj-1")
        ledger.cancel_project(project_id=project, reason="停", effective_on="2018-05-01")
    rows = tmp_path / "pay.jsonl"
    record = {"command": "disburse", "pledge_id": "pl-1", "amount": "1.00", "effective_on": "2018-06-01"}
    rows.write_text(json.dumps(record) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "--db", old_ledger, "import", *rehearsal, str(rows))
    assert code in (2, 3)
    assert_no_control_characters(out + err)
    assert err.startswith("error: ") and "is cancelled" in err and "Title\\x1b]0;pwned\\x07" in err


def test_json_output_keeps_the_stored_text_exactly(old_ledger: str, capsys: pytest.CaptureFixture[str]) -> None:
    """JSON escapes control characters in its own way, so a script reads back the exact stored name."""
    code, out, _ = run(capsys, "--db", old_ledger, "show", "organization", "org-1")
    assert code == 0
    assert json.loads(out)["name"] == "Evil" + ESCAPE + "\x9b31mRed"


def on_a_terminal(*argv: str) -> str:
    """Run the command line in a child process whose standard output is a terminal (a pty); its output."""
    main_end, child_end = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "aidledger", *argv], stdout=child_end, stderr=subprocess.DEVNULL
    ) as child:
        os.close(child_end)
        chunks = []
        while True:
            try:
                chunk = os.read(main_end, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert child.wait(timeout=60) == 0
    os.close(main_end)
    return b"".join(chunks).decode().replace("\r\n", "\n")  # the terminal turns each \n into \r\n


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["report", "--by", "campaign", "--csv"], "camp\\x1b[5m"),
        (["export", "--format", "csv", "--view", "organization"], "Evil\\x1b[2J\\x9b31mRed"),
        (["export", "--format", "csv", "--view", "events"], "why\\x1b[1A\\rhidden"),
        (["export", "--format", "iati", "--reporting-org", "bureau"], "Title\\x1b]0;pwned\\x07"),
    ],
    ids=["report-csv", "export-csv", "export-events-csv", "export-iati"],
)
def test_csv_and_xml_printed_on_a_terminal_spell_control_characters_out(
    old_ledger: str, argv: list[str], shown: str
) -> None:
    """Data printed to a terminal is printed text too: ``\\x1b`` there, the exact bytes in a file or a pipe."""
    printed = on_a_terminal("--db", old_ledger, *argv)
    assert_no_control_characters(printed)
    assert shown in printed


def test_an_export_to_a_file_keeps_the_stored_text_exactly(old_ledger: str, tmp_path: Path) -> None:
    """Only a terminal gets the spelled-out form; a file gets the value as stored."""
    out = tmp_path / "organizations.csv"
    assert main(["--db", old_ledger, "export", "--format", "csv", "--view", "organization", "--out", str(out)]) == 0
    assert "Evil" + ESCAPE + "\x9b31mRed" in out.read_text(encoding="utf-8-sig")


def test_stored_text_is_never_read_as_markup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A name like ``[/bold]`` prints as written (it used to stop the report with rich's MarkupError)."""
    db = tmp_path / "ledger.db"
    with aidledger.open(db, recorded_by="tester") as ledger:
        donor = register_organization(ledger, name="[/bold]示例基金会")
        project = register_project(ledger, donor, title="[red]示例项目")
        ledger.make_pledge(donor_id=donor, project_id=project, amount="100.00", effective_on="2018-03-05")
    for dimension, shown in (("donor", "[/bold]示例基金会"), ("project", "[red]示例项目")):
        code, out, err = run(capsys, "--db", str(db), "report", "--by", dimension)
        assert code == 0, err
        assert shown in out
