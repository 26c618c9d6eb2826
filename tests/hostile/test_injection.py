"""Hostile input, injection: control characters (terminal escapes), lone surrogates, ids with
spaces around them, markup in names, and spreadsheet formulas.

``TABLE`` holds inputs the command line must refuse: an import file (under ``injection/``) or an
argv, the exit code, and the words its one-line message must contain. Each runs through the CLI
in-process into a new ledger file, which must hold nothing afterwards; the message is one line
and shows every control character escaped, never raw.

``FORMULAS`` holds inputs that are accepted — a name may start with ``=`` — with a CSV export and
the cells it must hold: each formula-like text behind a leading apostrophe.

``MARKUP`` holds names that look like ``rich`` markup or emoji codes; every table prints them as
written.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from tests.hostile.support import run
from tests.ledger_fixtures import ledger, open_store, refused, register_organization

import aidledger
from aidledger import AidLedger
from aidledger.errors import InvalidInput

__all__ = ["ledger", "open_store"]  # fixtures, for pytest

HERE = Path(__file__).resolve().parent / "injection"

ESCAPES_SHOWN = "accepted: text on one line without control characters (U+0000-U+001F, U+007F-U+009F)"

TABLE: list[tuple[str | list[str], int, list[str]]] = [
    # (an import file, or the argv after --db; expected exit; words of the message)
    ("organizations.csv", 2, ["6 of 7 rows have problems; nothing was stored"]),
    ("organizations.csv", 2, ["line 3, column name: 'Evil\\x1b[2J基金会' contains the control character U+001B"]),
    ("organizations.csv", 2, ["line 4, column name: '示例\\t基金会' contains the control character U+0009"]),
    ("organizations.csv", 2, ["line 5, column name: '第一行\\n第二行' contains the control character U+000A"]),
    ("organizations.csv", 2, ["line 7, column recorded_by: 'clerk\\x1b[8m'", "U+001B", ESCAPES_SHOWN]),
    ("organizations.csv", 2, ["line 8, column command_id: 'org\\x07-6'", "U+0007"]),
    ("organizations.csv", 2, ["line 9, column source_reference: '协议-1\\x9b31m'", "U+009B"]),
    ("projects.jsonl", 2, ["6 of 10 rows have problems; nothing was stored"]),
    ("projects.jsonl", 2, ["line 3, column title: '+SUM\\x1b]0;pwned\\x07(1)'", "U+001B"]),
    ("projects.jsonl", 2, ["line 4, column campaigns.0: '百县\\x9b千社'", "U+009B"]),
    ("projects.jsonl", 2, ["line 5, column channel: '慈善中国\\x1b[2J'", "U+001B"]),
    ("projects.jsonl", 2, ["line 6, column url: 'https://example.org/\\x1b[2J'", "U+001B"]),
    ("projects.jsonl", 2, ["line 7, column items.0.description: '棉被\\x1b[5m'", "U+001B"]),
    (
        "projects.jsonl",
        2,
        ["line 9, column reason: '改变主意\\r已撤回' contains the control character U+000D", "other than the newline"],
    ),
    ("pledges.csv", 2, ["2 of 5 rows have problems; nothing was stored"]),
    ("pledges.csv", 2, ["line 4, column items: '棉被\\x1b[5m|1|床'", "U+001B"]),
    ("pledges.csv", 2, ["line 6, column reason: 'why\\x1b[1A hidden'", "U+001B"]),
    ("unencodable.jsonl", 2, ["5 of 7 rows have problems; nothing was stored"]),
    ("unencodable.jsonl", 2, ["line 2, column name:", "contains a lone surrogate, which UTF-8 cannot encode, U+D800"]),
    ("unencodable.jsonl", 2, ["line 3, column command_id: ' org-3' has spaces at an end"]),
    ("unencodable.jsonl", 2, ["line 4, column campaigns.0:", "unable to parse raw data as a unicode string"]),
    ("unencodable.jsonl", 2, ["line 5, column title:", "U+DC00"]),
    ("unencodable.jsonl", 2, ["line 6, column command_id: 'prj-3 ' has spaces at an end"]),
    (
        ["import", "--recorded-by", "clerk\x1b[2J", str(HERE / "valid.jsonl")],
        2,
        ["InvalidInput: recorded_by: 'clerk\\x1b[2J' contains the control character U+001B"],
    ),
]

FORMULAS: list[tuple[str, list[str], list[str]]] = [
    # (an import file that is accepted, the export argv, cells the CSV must hold)
    ("formulas.csv", ["--view", "organization"], ["'=cmd|' /C calc'!A0", "'@SUM(1+1)"]),
    ("formulas.csv", ["--view", "project"], ["'+SUM(1+1)", "'-2+3", "'@SUM(1+1)"]),
    ("formulas.csv", ["--view", "totals", "--by", "donor"], ["'=cmd|' /C calc'!A0", "90.00"]),
    ("formulas.csv", ["--view", "totals", "--by", "campaign"], ["'-2+3"]),
    ("formulas.csv", ["--view", "events"], ["'=cmd|' /C calc'!A0", '\'=HYPERLINK("http://example.org","x")']),
]

CONTROLS = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]} - {"\n"}


def _label(entry: str | list[str]) -> str:
    if isinstance(entry, str):
        return entry
    return " ".join(Path(part).name for part in entry).encode("unicode_escape").decode()


@pytest.mark.parametrize(
    ("given", "exit_code", "words"), TABLE, ids=[f"{_label(g)}:{i}" for i, (g, _, _) in enumerate(TABLE)]
)
def test_hostile_input_is_refused_with_one_escaped_line_and_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str | list[str], exit_code: int, words: list[str]
) -> None:
    """The exit code and message of docs/errors.md; the ledger holds no event afterwards."""
    db = tmp_path / "ledger.db"
    argv = ["import", str(HERE / given)] if isinstance(given, str) else given
    code, out, err = run(capsys, "--db", str(db), *argv)
    assert code == exit_code, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not CONTROLS & set(out + err), "a control character was printed raw"
    for word in words:
        assert word in err
    if db.exists():
        with aidledger.open(db, read_only=True) as ledger:
            assert ledger.position() == 0


@pytest.mark.parametrize(("given", "view", "cells"), FORMULAS, ids=[" ".join(f[1]) for f in FORMULAS])
def test_formula_like_text_is_stored_as_given_and_exported_behind_an_apostrophe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str, view: list[str], cells: list[str]
) -> None:
    """Accepted and stored unchanged; every CSV export quotes it; no exported cell starts a formula."""
    db = str(tmp_path / "ledger.db")
    assert run(capsys, "--db", db, "import", str(HERE / given))[0] == 0
    code, out, err = run(capsys, "--db", db, "export", "--format", "csv", *view)
    assert code == 0, err
    written = [cell for row in csv.reader(io.StringIO(out)) for cell in row]
    for cell in cells:
        assert cell in written
    for cell in written:
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
            assert cell.lstrip("-").replace(".", "", 1).isdigit(), f"a cell starts a formula: {cell!r}"
    code, out, _ = run(capsys, "--db", db, "show", "organization", "org-1")
    assert code == 0 and json.loads(out)["name"] == "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(("name", "code"), [("半个\ud800代理", "U+D800"), ("\udfff", "U+DFFF"), ("前\ud83d", "U+D83D")])
def test_a_lone_surrogate_is_refused_alike_on_every_store(ledger: AidLedger, name: str, code: str) -> None:
    """InvalidInput naming the character; it used to raise UnicodeEncodeError from the canonical encoder."""
    with refused(ledger, InvalidInput, "lone surrogate", code):
        register_organization(ledger, name=name)


def test_a_checkpoint_origin_with_a_control_character_is_refused_written_or_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`checkpoint --origin` refuses ESC and writes nothing; `verify` refuses a checkpoint file that carries one."""
    db = str(tmp_path / "ledger.db")
    assert run(capsys, "--db", db, "import", str(HERE / "valid.jsonl"))[0] == 0
    path = tmp_path / "checkpoint.json"
    code, _, err = run(capsys, "--db", db, "checkpoint", "--out", str(path), "--origin", "evil\x1b[2J")
    assert code == 2, err
    assert not CONTROLS & set(err)
    assert not path.exists()
    assert run(capsys, "--db", db, "checkpoint", "--out", str(path))[0] == 0
    forged = json.loads(path.read_text(encoding="utf-8")) | {"origin": "evil\x1b]0;owned\x07"}
    path.write_text(json.dumps(forged), encoding="utf-8")
    code, out, err = run(capsys, "--db", db, "verify", "--checkpoint", str(path))
    assert code == 2, err
    assert "U+001B" in err
    assert not CONTROLS & set(out + err)


MARKUP = (
    "[/]",  # a closing tag with nothing to close: rich raised MarkupError
    "Hebei Rural Fund [archived branch] 2018",  # read as a style, the bracketed words vanished
    "[link=https://evil.example]河北乡村发展基金会[/link]",  # a name hiding a link
    "[white on white]hidden[/]",  # a name styled invisible
    "扶贫 :warning: 基金会",  # an emoji code
)


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--by", "donor"],
        ["report", "--by", "implementer"],
        ["report", "--by", "campaign"],
        ["report", "--by", "project"],
        ["disclosure", "--on", "2019-06-30"],
        ["explain", "pledged", "--key", "campaign=[/]"],
    ],
    ids=" ".join,
)
def test_names_that_look_like_markup_print_as_written_in_every_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Each text is an organization's name, a project's title and a campaign tag; every table shows it."""
    db = tmp_path / "ledger.db"
    with aidledger.open(db, recorded_by="tester") as book:
        for index, text in enumerate(MARKUP):
            donor = register_organization(book, name=text, charity=True, public_fundraising=True)
            project = book.register_project(
                title=text, implementing_organization_id=donor, region="130722", category="capacity",
                field="industry", campaigns=[text], planned_start="2018-03-01", planned_end="2018-12-31",
                effective_on="2018-02-01", command_id=f"prj-{index}",
            ).aggregate_id  # fmt: skip
            book.make_pledge(donor_id=donor, project_id=project, amount="100.00", effective_on="2018-03-05")
    code, out, err = run(capsys, "--db", str(db), *argv)
    assert (code, err) == (0, "")
    for text in MARKUP[:1] if argv[0] == "explain" else MARKUP:
        assert text in out, f"{text!r} not printed as written"
