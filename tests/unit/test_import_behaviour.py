"""Import behaviour: idempotent by command id, resumable, all or nothing, or skipping the invalid rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.ledger_fixtures import OpenStore

import aidledger
from aidledger import AidLedger, projections
from aidledger.domain.pledge import Pledge
from aidledger.errors import InvalidInput, OverDisbursement
from aidledger.interchange import importer as importer_module
from aidledger.interchange.commands import COMMAND_CLASSES
from aidledger.interchange.importer import Importer, derived_command_id, import_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TEMPLATE_CSV = EXAMPLES / "import-template.csv"
TEMPLATE_JSONL = EXAMPLES / "import-template.jsonl"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "import"


@pytest.fixture
def ledger() -> Iterator[AidLedger]:
    """An empty in-memory ledger whose default recorder is 'tester'."""
    with aidledger.open(":memory:", recorded_by="tester") as opened:
        yield opened


def stored_log(ledger: AidLedger) -> list[tuple[str, str]]:
    """The log as (event type, payload without the transaction time): equal for equal histories."""
    log = []
    for _, event in ledger.read_log():
        payload = event.model_dump(mode="json", exclude={"timestamp"})
        log.append((type(event).__qualname__, json.dumps(payload, sort_keys=True)))
    return log


def figures(ledger: AidLedger) -> dict[str, Any]:
    """A totals report body without its coordinates."""
    body = projections.totals(ledger, ["project", "donor", "year"]).body()
    body.pop("coordinates")
    return body


def test_running_the_same_import_twice_changes_nothing(ledger: AidLedger) -> None:
    """The second run finds every row already present and stores no event."""
    first = import_file(ledger, TEMPLATE_CSV)
    position = ledger.position()
    second = import_file(ledger, TEMPLATE_CSV)
    assert (first.rows_read, first.stored, first.already_present, first.rejected) == (35, 35, 0, 0)
    assert (second.rows_read, second.stored, second.already_present, second.rejected) == (35, 0, 35, 0)
    assert ledger.position() == position == second.position_after


def test_an_import_is_all_or_nothing_idempotent_and_resumable_on_every_store(
    open_store: OpenStore, tmp_path: Path
) -> None:
    """On each store: a bad file stores nothing; half then whole equals one clean run; again changes nothing."""
    bad = open_store()
    with pytest.raises(InvalidInput):
        import_file(bad, CORPUS / "over-disbursement.csv")
    assert bad.position() == 0
    clean = open_store()
    import_file(clean, TEMPLATE_JSONL)
    lines = TEMPLATE_JSONL.read_text(encoding="utf-8").splitlines()
    half = tmp_path / "half.jsonl"
    half.write_text("\n".join(lines[: len(lines) // 2]) + "\n", encoding="utf-8")
    resumed = open_store()
    import_file(resumed, half)
    import_file(resumed, TEMPLATE_JSONL)
    assert stored_log(resumed) == stored_log(clean)
    assert import_file(resumed, TEMPLATE_JSONL).already_present == len(lines)


def test_another_clerk_running_the_import_again_changes_nothing(ledger: AidLedger) -> None:
    """Rows without command_id or recorded_by get the same derived ids whoever imports them."""
    import_file(ledger, TEMPLATE_CSV, recorded_by="alice")
    again = import_file(ledger, TEMPLATE_CSV, recorded_by="bob")
    assert (again.stored, again.already_present) == (0, 35)


def test_the_csv_and_json_lines_templates_record_the_same_history(tmp_path: Path) -> None:
    """The two templates are the same commands; derived ids do not depend on the format."""
    logs = []
    for template in (TEMPLATE_CSV, TEMPLATE_JSONL):
        with aidledger.open(":memory:", recorded_by="tester") as ledger:
            import_file(ledger, template)
            logs.append(stored_log(ledger))
    assert logs[0] == logs[1]
    assert len(logs[0]) == 44


def test_an_import_stopped_half_way_and_run_again_ends_as_a_clean_run(tmp_path: Path) -> None:
    """First half, then the whole file: the same log, event for event, as one clean run."""
    lines = TEMPLATE_CSV.read_text(encoding="utf-8-sig").splitlines()
    half = tmp_path / "half.csv"
    half.write_text("\n".join(lines[:18]) + "\n", encoding="utf-8")
    with aidledger.open(":memory:", recorded_by="tester") as clean:
        import_file(clean, TEMPLATE_CSV)
        expected = stored_log(clean)
    with aidledger.open(":memory:", recorded_by="tester") as resumed:
        assert import_file(resumed, half).stored == 17
        summary = import_file(resumed, TEMPLATE_CSV)
        assert (summary.stored, summary.already_present) == (18, 17)
        assert stored_log(resumed) == expected


def test_an_import_killed_while_storing_finishes_when_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run interrupted after some batches were stored: running it again stores the rest, once."""
    with aidledger.open(":memory:", recorded_by="tester") as clean:
        import_file(clean, TEMPLATE_JSONL)
        expected = stored_log(clean)
    monkeypatch.setattr(importer_module, "BATCH_EVENTS", 4)  # transactions of at most 4 events
    stored_rows: list[int] = []

    def kill_after_ten(phase: str, done: int, total: int) -> None:
        if phase == "storing" and done >= 10:
            stored_rows.append(done)
            raise KeyboardInterrupt

    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        with pytest.raises(KeyboardInterrupt):
            import_file(ledger, TEMPLATE_JSONL, progress=kill_after_ten)
        assert 0 < ledger.position() < len(expected)
        summary = import_file(ledger, TEMPLATE_JSONL)
        assert (summary.stored, summary.already_present) == (35 - stored_rows[0], stored_rows[0])
        assert stored_log(ledger) == expected


def test_a_rule_broken_only_at_run_time_refuses_the_whole_file(ledger: AidLedger) -> None:
    """Deciding the whole file before storing finds the over-disbursement; nothing is stored."""
    rule = r"line 6, column amount: '50000' breaks a rule of the ledger: OverDisbursement"
    with pytest.raises(InvalidInput, match=rule):
        import_file(ledger, CORPUS / "over-disbursement.csv")
    assert ledger.position() == 0


def test_without_rehearsal_a_run_time_rule_stops_at_its_row_and_the_rerun_finishes(
    ledger: AidLedger, tmp_path: Path
) -> None:
    """--no-rehearsal: rows before the bad one stay stored; after fixing it, the rerun stores the rest."""
    with pytest.raises(OverDisbursement, match=r"^line 6: disbursing 50000.00 CNY .* \(4 earlier rows of the file"):
        import_file(ledger, CORPUS / "over-disbursement.csv", rehearse=False)
    stored = ledger.position()
    assert stored > 0
    fixed = tmp_path / "fixed.csv"
    text = (CORPUS / "over-disbursement.csv").read_text(encoding="utf-8")
    fixed.write_text(text.replace(",50000,", ",30000,").replace(",40000,", ",10000,"), encoding="utf-8")
    summary = import_file(ledger, fixed, rehearse=False)
    assert (summary.stored, summary.already_present) == (2, 4)
    assert ledger.pledge(aidledger.derive_id("pledge", "pl-1")).net_disbursed == 100000


def test_skip_invalid_stores_the_valid_rows_and_writes_the_rejects(ledger: AidLedger) -> None:
    """Rejected rows go to <file>.rejects.csv with their line and problems before the original cells."""
    source = CORPUS / "amounts.csv"
    rejects = source.with_suffix(".rejects.csv")
    try:
        summary = import_file(ledger, source, skip_invalid=True)
        assert (summary.rows_read, summary.stored, summary.rejected) == (9, 4, 5)
        assert summary.rejects_file == str(rejects)
        with rejects.open(encoding="utf-8-sig", newline="") as stream:
            rows = list(csv.reader(stream))
    finally:
        rejects.unlink(missing_ok=True)
    header = source.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert rows[0] == ["#line", "#problems", *header]
    assert [row[0] for row in rows[1:]] == ["5", "6", "7", "8", "9"]
    assert rows[1][1].startswith("column amount: '1.234,50' has a comma that is not a thousands separator")
    assert rows[1][2:4] == ["disburse", "d-1"]


def test_a_fixed_rejects_file_imports_as_it_is(ledger: AidLedger, tmp_path: Path) -> None:
    """The #line and #problems columns are notes: fix the cells and import the rejects file itself."""
    source = tmp_path / "sheet.csv"
    source.write_text((CORPUS / "amounts.csv").read_text(encoding="utf-8"), encoding="utf-8")
    import_file(ledger, source, skip_invalid=True)
    rejects = tmp_path / "sheet.rejects.csv"
    text = rejects.read_text(encoding="utf-8-sig")
    for bad in ('"1.234,50"', "¥100", "1e3", "12.345", "-0,"):
        text = text.replace(bad, "100," if bad == "-0," else "100")
    rejects.write_text(text, encoding="utf-8-sig")
    summary = import_file(ledger, rejects)
    assert (summary.stored, summary.rejected) == (5, 0)


def test_rows_that_depend_on_a_rejected_row_are_rejected_too(ledger: AidLedger, tmp_path: Path) -> None:
    """With --skip-invalid a rejected organization takes its project and pledge with it."""
    summary = import_file(ledger, CORPUS / "missing-columns.csv", skip_invalid=True, rejects=tmp_path / "r.csv")
    assert (summary.stored, summary.rejected) == (0, 3)
    assert ledger.position() == 0


def test_json_lines_rejects_keep_the_record_and_its_problems(ledger: AidLedger, tmp_path: Path) -> None:
    """A JSON Lines file's rejects file is JSON Lines; unreadable lines keep their text under #raw."""
    out = tmp_path / "bad.rejects.jsonl"
    summary = import_file(ledger, CORPUS / "bad.jsonl", skip_invalid=True, rejects=out)
    assert summary.stored == 2
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["#line"] for r in records] == [3, 4, 5, 6, 7, 9, 10]
    assert records[0]["#raw"].startswith('{"command": "make_pledge"')
    assert records[2]["command_id"] == "pl-2" and "colour" in records[2]["#problems"][0]


def test_a_dry_run_checks_everything_and_stores_nothing(ledger: AidLedger) -> None:
    """stored counts what would be stored."""
    summary = import_file(ledger, TEMPLATE_CSV, dry_run=True)
    assert (summary.dry_run, summary.stored, summary.rejected) == (True, 35, 0)
    assert ledger.position() == 0


def test_note_columns_blank_rows_and_a_missing_byte_order_mark_are_fine(ledger: AidLedger, tmp_path: Path) -> None:
    """Columns starting with # are ignored, as are blank lines and rows of empty cells."""
    path = tmp_path / "notes.csv"
    path.write_text(
        "#remark,command,command_id,effective_on,recorded_by,name,kind,level,home_region\n"
        "first,register_organization,org-1,2018-01-02,clerk,示例（虚构）,foundation,national,110000\n"
        "\n"
        ",,,,,,,,\n",
        encoding="utf-8",
    )
    summary = import_file(ledger, path)
    assert (summary.rows_read, summary.stored) == (1, 1)


def test_a_row_repeated_with_its_command_id_is_already_present(ledger: AidLedger, tmp_path: Path) -> None:
    """duplicate-ids.csv line 8 repeats line 4 exactly: counted as already present, not rejected."""
    summary = Importer(ledger, CORPUS / "duplicate-ids.csv", skip_invalid=True, rejects=tmp_path / "r.csv").run()
    assert summary.already_present == 1
    assert 8 not in {p.line for p in summary.problems}


def test_the_currency_column_makes_a_foreign_currency_amount(ledger: AidLedger, tmp_path: Path) -> None:
    """amount 1000 with currency USD is 1000 USD."""
    template = TEMPLATE_CSV.read_text(encoding="utf-8-sig").splitlines()
    rows = [line for line in template if line.startswith(("command,", "register_organization,org-foundation"))]
    header = rows[0].split(",")
    project = dict.fromkeys(header, "")
    project.update(
        command="register_project",
        command_id="prj-usd",
        effective_on="2018-01-10",
        recorded_by="clerk",
        title="示例（虚构）",
        implementing_organization_id="org-foundation",
        region="130722",
        category="capacity",
        field="health",
        planned_start="2018-02-01",
        planned_end="2018-12-31",
    )
    pledge = dict.fromkeys(header, "")
    pledge.update(
        command="make_pledge",
        command_id="pl-usd",
        effective_on="2018-01-11",
        recorded_by="clerk",
        donor_id="org-foundation",
        project_id="prj-usd",
        amount="1000",
        currency="USD",
    )
    path = tmp_path / "usd.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerow(rows[1].split(","))
        writer.writerows([[project[c] for c in header], [pledge[c] for c in header]])
    import_file(ledger, path)
    amount = ledger.pledge(aidledger.derive_id("pledge", "pl-usd")).amount
    assert (str(amount.value), amount.currency) == ("1000.00", "USD")


def test_progress_reports_bytes_checked_and_rows_stored(ledger: AidLedger) -> None:
    """The checking phase ends at the file size; the storing phase counts rows."""
    calls: list[tuple[str, int, int]] = []
    import_file(ledger, TEMPLATE_CSV, progress=lambda *call: calls.append(call))
    checking = [c for c in calls if c[0] == "checking"]
    storing = [c for c in calls if c[0] == "storing"]
    assert checking[-1][1] == checking[-1][2] == TEMPLATE_CSV.stat().st_size
    assert storing[-1][1:] == (35, 35)


def test_a_derived_command_id_is_a_hash_of_the_command_without_who_recorded_it() -> None:
    """Defaults and recorded_by do not change it; any field does."""
    cls = COMMAND_CLASSES["start_project"]
    project = str(aidledger.derive_id("project", "prj-1"))
    plain = cls.model_validate({"project_id": project, "effective_on": "2018-03-01"})
    recorded = cls.model_validate({"project_id": project, "effective_on": "2018-03-01", "recorded_by": "x"})
    later = cls.model_validate({"project_id": project, "effective_on": "2018-03-02"})
    assert derived_command_id(plain) == derived_command_id(recorded)
    assert derived_command_id(plain) != derived_command_id(later)
    assert derived_command_id(plain).startswith("auto-") and len(derived_command_id(plain)) == 37


def test_a_missing_file_and_an_unknown_extension_are_refused(ledger: AidLedger, tmp_path: Path) -> None:
    """The path must exist and name its format; a workbook that is not one is refused as a whole."""
    with pytest.raises(InvalidInput, match="an existing CSV, JSON Lines or workbook"):
        import_file(ledger, tmp_path / "missing.csv")
    other = tmp_path / "ledger.docx"
    other.write_bytes(b"PK")
    with pytest.raises(InvalidInput, match=r"a \.csv, \.jsonl, \.xlsx, \.xls or \.ods file"):
        import_file(ledger, other)
    broken = tmp_path / "ledger.xlsx"
    broken.write_bytes(b"PK")
    with pytest.raises(InvalidInput, match="cannot be read as a workbook"):
        import_file(ledger, broken)
    assert ledger.position() == 0


@pytest.mark.parametrize(("written", "stored"), [("100", "100.00"), ("100.5", "100.50"), ("100.50", "100.50")])
def test_a_json_number_amount_written_in_digits_is_kept_exactly(
    ledger: AidLedger, tmp_path: Path, written: str, stored: str
) -> None:
    """The edge beside the refused 1e3: integers and plain decimals as JSON numbers read as their digits."""
    lines = TEMPLATE_JSONL.read_text(encoding="utf-8").splitlines()
    pledge = json.loads(lines[8])
    assert pledge["command"] == "make_pledge"
    text = json.dumps(pledge | {"amount": "AMOUNT"}, ensure_ascii=False).replace('"AMOUNT"', written)
    source = tmp_path / "numbers.jsonl"
    source.write_text("\n".join([*lines[:8], text]) + "\n", encoding="utf-8")
    assert import_file(ledger, source).stored == 9
    (made,) = [e for _, e in ledger.read_log() if isinstance(e, Pledge.Made)]
    assert str(made.terms.amount.value) == stored
