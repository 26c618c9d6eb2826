"""The ``import`` and ``export`` commands: summaries, --json, one-line errors and exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from aidledger.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TEMPLATE = EXAMPLES / "import-template.csv"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "import"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line in-process; returns the exit code, stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "ledger.db")


def test_import_prints_a_summary_and_a_second_run_stores_nothing(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Rows read, stored, already present, rejected; then the same file again."""
    code, out, _ = run(capsys, "--db", db, "import", str(TEMPLATE))
    assert code == 0
    assert "35 rows read, 35 stored, 0 already present, 0 rejected" in out
    code, out, _ = run(capsys, "--db", db, "import", str(TEMPLATE), "--json")
    summary = json.loads(out)
    assert code == 0
    assert (summary["rows_read"], summary["stored"], summary["already_present"], summary["rejected"]) == (35, 0, 35, 0)


def test_a_bad_file_is_one_error_line_exit_2_and_nothing_stored(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Every bad row in the message; --json still prints the summary with each problem."""
    code, out, err = run(capsys, "--db", db, "--json", "import", str(CORPUS / "amounts.csv"))
    assert code == 2
    assert err.startswith("error: InvalidInput:")
    assert "Traceback" not in err
    assert "nothing was stored" in " ".join(err.split())
    summary = json.loads(out)
    assert [p["line"] for p in summary["problems"]] == [5, 6, 7, 8, 9]
    assert summary["position_after"] == 0


def test_skip_invalid_writes_the_rejects_file(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Valid rows stored; the summary names the rejects file."""
    rejects = tmp_path / "rejects.csv"
    code, out, _ = run(
        capsys, "--db", db, "import", str(CORPUS / "dates.csv"), "--skip-invalid", "--rejects", str(rejects)
    )
    assert code == 0
    assert f"2 rejected (written to {rejects})" in " ".join(out.split())
    assert len(list(csv.reader(rejects.open(encoding="utf-8-sig")))) == 3


def test_a_dry_run_stores_nothing(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--dry-run reports what would be stored."""
    code, out, _ = run(capsys, "--db", db, "import", "--dry-run", str(TEMPLATE))
    assert code == 0
    assert "35 would be stored" in out
    assert "log position 0 -> 0" in out


def test_a_rule_broken_while_storing_without_rehearsal_exits_3(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--no-rehearsal: an OverDisbursement found while storing is a rule violation (exit 3)."""
    code, _, err = run(capsys, "--db", db, "import", "--no-rehearsal", str(CORPUS / "over-disbursement.csv"))
    assert code == 3
    assert err.startswith("error: OverDisbursement: line 6:")


def test_export_writes_every_format_to_a_file_naming_its_coordinates(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out writes the file; --json prints where and at which position and root."""
    run(capsys, "--db", db, "import", str(TEMPLATE))
    for file_format, name in (("json", "t.json"), ("csv", "t.csv"), ("iati", "t.xml")):
        out_file = tmp_path / name
        reporting = ["--reporting-org", "org-hub"] if file_format == "iati" else []
        code, out, _ = run(
            capsys, "--db", db, "--json", "export", "--format", file_format, *reporting, "--out", str(out_file)
        )
        assert code == 0
        summary = json.loads(out)
        assert summary["coordinates"]["position"] == 44
        assert len(summary["coordinates"]["root"]) == 64
        assert summary["view"] == ("project" if file_format == "iati" else "totals")
        assert out_file.stat().st_size > 0
    assert (tmp_path / "t.xml").read_text(encoding="utf-8").startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert (tmp_path / "t.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # a byte-order mark, for Excel
    assert not list(tmp_path.glob("*.partial"))


def test_export_to_standard_output_and_as_of_options(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --out the data goes to stdout; --position picks the point in history."""
    run(capsys, "--db", db, "import", str(TEMPLATE))
    code, out, _ = run(capsys, "--db", db, "export", "--view", "events", "--format", "csv", "--position", "10")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {row["#as_of_position"] for row in rows} == {"10"}
    code, out, _ = run(capsys, "--db", db, "export", "--by", "category", "--effective-on", "2018-03-01")
    assert json.loads(out)["coordinates"]["effective_on"] == "2018-03-01"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["export", "--format", "iati", "--subject", "prj-school"], "--subject"),
        (["export", "--view", "county", "--by", "donor"], "grouping only with --view totals"),
        (["export", "--format", "iati", "--reporting-org", "org-404"], "reporting organization 'org-404'"),
        (["export", "--format", "iati", "--view", "totals"], "--view: got 'totals'; accepted: project"),
    ],
)
def test_export_mistakes_are_one_line_errors(
    db: str, argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 (4 for a missing organization), one line, never a traceback."""
    run(capsys, "--db", db, "import", str(TEMPLATE))
    code, _, err = run(capsys, "--db", db, *argv)
    assert code in (2, 4)
    assert words in " ".join(err.split())
    assert "Traceback" not in err


def test_an_iati_export_without_a_reporting_organization_is_one_line_naming_the_option(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No placeholder publisher: exit 2, the option, what it got and what it accepts; no file written."""
    run(capsys, "--db", db, "import", str(TEMPLATE))
    out_file = tmp_path / "activities.xml"
    code, out, err = run(capsys, "--db", db, "export", "--format", "iati", "--out", str(out_file))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: InvalidInput: --reporting-org: got None; accepted: the publishing organization")
    assert "unified social credit code" in err and "CN-USCI-<code>" in err
    assert not out_file.exists() and not list(tmp_path.glob("*.partial"))


def test_export_needs_an_existing_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing --db file is refused, not created."""
    code, _, err = run(capsys, "--db", str(tmp_path / "none.db"), "export")
    assert code == 2
    assert "an existing ledger" in err
    assert not (tmp_path / "none.db").exists()


def test_load_still_runs_json_lines_and_skips_note_records(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`load` is `import` by another name: the same records, the same checks, idempotent; an export's
    #export line is a note."""
    run(capsys, "--db", db, "import", str(TEMPLATE))
    exported = tmp_path / "events.jsonl"
    run(capsys, "--db", db, "export", "--view", "events", "--out", str(exported))
    code, out, _ = run(capsys, "--db", str(tmp_path / "copy.db"), "load", str(exported))
    assert code == 0
    assert "35 rows read, 35 stored, 0 already present, 0 rejected; log position 0 -> 44" in out
    code, out, _ = run(capsys, "--db", str(tmp_path / "copy.db"), "load", str(exported))
    assert code == 0
    assert "35 rows read, 0 stored, 35 already present, 0 rejected; log position 44 -> 44" in out


@pytest.mark.parametrize("template", ["import-template.csv", "import-template.jsonl"])
def test_loading_the_shipped_template_twice_stores_nothing_the_second_time(
    db: str, template: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 11 item 12 (regression): records without command_id get stable ids, so a second load is a no-op."""
    code, out, _ = run(capsys, "--db", db, "load", str(EXAMPLES / template))
    assert (code, "35 stored, 0 already present, 0 rejected; log position 0 -> 44" in out) == (0, True)
    code, out, err = run(capsys, "--db", db, "load", str(EXAMPLES / template))
    assert (code, err) == (0, "")
    assert "35 rows read, 0 stored, 35 already present, 0 rejected; log position 44 -> 44" in out


def test_the_real_command_fails_cleanly_on_a_semicolon_file(db: str) -> None:
    """As a process: exit status 2, an error line on stderr, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "aidledger", "--db", db, "import", str(CORPUS / "semicolon.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "separates its columns with semicolons" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_a_refused_import_is_one_line_on_stderr(db: str) -> None:
    """DESIGN §8: the command line turns an error into one clear line."""
    result = subprocess.run(
        [sys.executable, "-m", "aidledger", "--db", db, "import", str(CORPUS / "amounts.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
