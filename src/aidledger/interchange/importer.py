"""Import a CSV or JSON Lines file of commands: checked as a whole first, stored idempotently.

An import runs in two passes (docs/import.md explains the choices):

1. **Check.** Every row is read, validated with its command model, its references are looked up
   (in the ledger, or among the objects earlier rows create), its command id is compared with the
   ledger's and the file's other rows, and, by default, the row is *rehearsed*: run against a
   throwaway copy of the ledger, so that a rule only a run can check (a disbursement above the
   pledge, a pledge to a completed project) is found before anything is stored. Rows and their
   problems go to a staging database on disk, so memory stays bounded however long the file.
2. **Store.** Only when no row has a problem (or with ``skip_invalid``, for the rows that have
   none) the staged commands run against the ledger, in file order.

Each row carries a command id or gets one derived from its content (see :func:`derived_command_id`),
so running the same file again stores nothing new, and a run that was stopped half way finishes
where it stopped when it is run again.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from pydantic import BaseModel, ConfigDict, ValidationError

from aidledger.application import AidLedger, open_ledger
from aidledger.commands import Command
from aidledger.errors import (
    AidLedgerError,
    CurrencyMismatch,
    InvalidInput,
    OverDisbursement,
    PledgeBelowDisbursed,
    RegrantExceedsPool,
    ReturnExceedsDisbursement,
)
from aidledger.interchange.commands import (
    COMMAND_CLASSES,
    CREATES,
    REFERENCE_KINDS,
    is_note,
    resolve_reference,
    resolve_references,
)
from aidledger.interchange.csvformat import (
    AMOUNT_ACCEPTED,
    DATE_COLUMNS,
    MONEY_COLUMNS,
    SOURCE_COLUMNS,
    CellProblem,
    check_amount_text,
    check_date_text,
    columns_of,
)
from aidledger.interchange.reading import FileFormat, RowReader, SourceRow, detect_format
from aidledger.persistence import SQLiteLedgerRecorder, canonical_json

__all__ = [
    "ImportSummary",
    "Importer",
    "Progress",
    "RowProblem",
    "derived_command_id",
    "import_file",
    "refusal",
]

LISTED_PROBLEMS = 1000
"""At most this many problems are kept in a summary; the rejects file has them all."""
PROBLEMS_IN_MESSAGE = 100
"""At most this many problems are spelled out in the error a refused import raises."""
COMMIT_EVERY = 5000
"""Staged rows are committed in batches of this many."""

Progress = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``: phase ``"checking"`` counts bytes of the file,
``"storing"`` counts rows."""


class RowProblem(BaseModel):
    """A problem of one row: the line it starts on, the column, the value given, what is accepted."""

    model_config = ConfigDict(frozen=True)

    line: int
    column: str
    value: str | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}{', ' if self.column else ': '}{self.cell()}"

    def cell(self) -> str:
        """The problem without its line: ``column amount: '¥100' has a currency sign ...``."""
        where = f"column {self.column}:" if self.column else ":"
        shown = "" if self.value is None else f" {self.value!r}"
        return f"{where}{shown} {self.message}".removeprefix(":").strip()


class ImportSummary(BaseModel):
    """What an import read, stored, found already present and rejected."""

    model_config = ConfigDict(frozen=True)

    file: str
    format: str
    dry_run: bool
    rows_read: int
    stored: int
    """Rows whose command was stored now (in a dry run: rows that would be stored)."""
    already_present: int
    """Rows whose command the ledger already held (the same command id and content), and
    repeats of an earlier row of the file."""
    rejected: int
    problems: tuple[RowProblem, ...]
    problems_not_listed: int = 0
    rejects_file: str | None = None
    position_before: int
    position_after: int


def derived_command_id(command: Command) -> str:
    """The command id of a row that gives none: ``auto-`` and 32 hex digits of a SHA-256.

    The hash covers the command's name and its validated fields as JSON (by their column
    names, references resolved to ids, fields at their default value left out), without the
    command id and without ``recorded_by``: the same row gets the same id whoever imports it,
    from CSV or JSON Lines. (Who recorded a command is not part of it: see ``Command.digest``.)
    """
    payload = command.model_dump(
        mode="json", by_alias=True, exclude={"command_id", "recorded_by"}, exclude_defaults=True
    )
    digest = hashlib.sha256(canonical_json({"command": command.command_name, "fields": payload})).hexdigest()
    return f"auto-{digest[:32]}"


def refusal(summary: ImportSummary) -> InvalidInput:
    """The error a refused import raises: every bad row (the first 100 spelled out)."""
    shown = [str(problem) for problem in summary.problems[:PROBLEMS_IN_MESSAGE]]
    hidden = len(summary.problems) - len(shown) + summary.problems_not_listed
    if hidden:
        where = (
            f" (all are in {summary.rejects_file})" if summary.rejects_file else " (pass --rejects FILE to list all)"
        )
        shown.append(f"... and {hidden} more problems{where}")
    head = (
        f"{summary.file}: {summary.rejected} of {summary.rows_read} rows have problems; nothing was stored "
        "(fix them, or import with --skip-invalid to store the other rows)"
    )
    return InvalidInput("file", summary.file, "a file whose every row is valid", problems=(head, *shown))


def import_file(
    ledger: AidLedger,
    path: str | Path,
    *,
    file_format: str | None = None,
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    dry_run: bool = False,
    rehearse: bool = True,
    recorded_by: str | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import a CSV or JSON Lines file of command records into ``ledger``.

    By default the file is all or nothing: if any row has a problem, :class:`InvalidInput`
    names every one (line, column, value, what is accepted) and nothing is stored. With
    ``skip_invalid`` the valid rows are stored and the others written to ``rejects`` (default
    ``<file>.rejects.csv`` or ``.rejects.jsonl``). ``dry_run`` checks without storing.
    """
    importer = Importer(
        ledger,
        path,
        file_format=file_format,
        skip_invalid=skip_invalid,
        rejects=rejects,
        dry_run=dry_run,
        rehearse=rehearse,
        recorded_by=recorded_by,
        progress=progress,
    )
    summary = importer.run()
    if importer.refused(summary):
        raise refusal(summary)
    return summary


class Importer:
    """One import of one file; :meth:`run` does it and returns the summary."""

    def __init__(
        self,
        ledger: AidLedger,
        path: str | Path,
        *,
        file_format: str | None = None,
        skip_invalid: bool = False,
        rejects: str | Path | None = None,
        dry_run: bool = False,
        rehearse: bool = True,
        recorded_by: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.ledger = ledger
        self.path = Path(path)
        if not self.path.is_file():
            raise InvalidInput("file", str(path), "an existing CSV or JSON Lines file")
        self.format = detect_format(self.path, file_format)
        self.skip_invalid = skip_invalid
        self.dry_run = dry_run
        self.rehearse = rehearse
        self.recorded_by = recorded_by if recorded_by is not None else ledger.default_recorded_by
        if self.recorded_by is not None and not 1 <= len(self.recorded_by) <= 200:
            raise InvalidInput("recorded_by", self.recorded_by, "1 to 200 characters naming who records the file")
        self.rejects_path = Path(rejects) if rejects is not None else None
        if self.rejects_path is None and skip_invalid:
            self.rejects_path = self.path.with_suffix(f".rejects.{self.format.value}")
        self.progress = progress
        self.header: list[str] = []
        self._known: dict[UUID, str | None] = {}

    def refused(self, summary: ImportSummary) -> bool:
        """Whether the import stored nothing because rows had problems (the default mode)."""
        return summary.rejected > 0 and not self.skip_invalid

    def run(self) -> ImportSummary:
        """Check every row, then store the valid ones (unless refused or a dry run)."""
        position_before = self.ledger.position()
        with (
            tempfile.TemporaryDirectory(prefix="aidledger-import-") as directory,
            _Staging(Path(directory) / "staging.sqlite3") as staging,
        ):
            rehearsal = _Rehearsal(self.ledger, Path(directory)) if self.rehearse else None
            try:
                rows_read = self._check_all(staging, rehearsal)
            finally:
                if rehearsal is not None:
                    rehearsal.close()
            stored, present = staging.count("new"), staging.count("present", "repeat")
            if staging.count("rejected") and not self.skip_invalid:
                stored = 0
            elif not self.dry_run:
                stored, present = self._store_all(staging, present)
            rejects_file = self._write_rejects(staging)
            problems, hidden = staging.problems(LISTED_PROBLEMS)
            return ImportSummary(
                file=str(self.path),
                format=self.format.value,
                dry_run=self.dry_run,
                rows_read=rows_read,
                stored=stored,
                already_present=present,
                rejected=staging.count("rejected"),
                problems=problems,
                problems_not_listed=hidden,
                rejects_file=rejects_file,
                position_before=position_before,
                position_after=self.ledger.position(),
            )

    # -- pass 1: check ------------------------------------------------------------------------

    def _check_all(self, staging: _Staging, rehearsal: _Rehearsal | None) -> int:
        total = self.path.stat().st_size
        with self.path.open("rb") as stream:
            reader = RowReader(stream, self.format)
            try:
                for row in reader:
                    self.header = reader.header
                    _RowCheck(self, row, staging, rehearsal).run()
                    if self.progress is not None:
                        self.progress("checking", reader.bytes_read, total)
            except InvalidInput as error:
                raise _in_file(self.path, error) from None
            return reader.rows_read

    def known_kind(self, object_id: UUID) -> str | None:
        """The kind of object ``object_id`` is in the ledger, or ``None`` (cached, bounded)."""
        if object_id not in self._known:
            if len(self._known) > 100_000:
                self._known.clear()
            events = self.ledger.recorder.select_events(object_id, limit=1)
            self._known[object_id] = _kind_of_topic(events[0].topic) if events else None
        return self._known[object_id]

    # -- pass 2: store ------------------------------------------------------------------------

    def _store_all(self, staging: _Staging, present: int) -> tuple[int, int]:
        stored = 0
        total = staging.count("new")
        for done, (line, name, command_id, payload) in enumerate(staging.runnable(), start=1):
            if self.ledger.ledger_recorder.select_command(command_id) is not None:
                present += 1  # stored meanwhile, e.g. by a run of the same file
            else:
                command = COMMAND_CLASSES[name].model_validate(json.loads(payload))
                try:
                    getattr(self.ledger, name)(command)
                except AidLedgerError as error:
                    if not self.skip_invalid:
                        raise _stopped_at(line, stored, error) from None
                    staging.reject(line, [CellProblem("", None, f"was refused by the ledger: {error}")])
                    continue
                stored += 1
            if self.progress is not None:
                self.progress("storing", done, total)
        return stored, present

    # -- rejects ------------------------------------------------------------------------------

    def _write_rejects(self, staging: _Staging) -> str | None:
        if self.rejects_path is None or not staging.count("rejected"):
            return None
        if self.format is FileFormat.csv:
            with self.rejects_path.open("w", encoding="utf-8-sig", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(["#line", "#problems", *self.header])
                for line, raw, messages in staging.rejected():
                    writer.writerow([line, "; ".join(messages), *(raw or [])])
        else:
            with self.rejects_path.open("w", encoding="utf-8") as out:
                for line, raw, messages in staging.rejected():
                    out.write(json.dumps(_rejected_record(line, raw, messages), ensure_ascii=False) + "\n")
        return str(self.rejects_path)


class _RowCheck:
    """The checks of one row, in order; each problem found is kept and the checks go on."""

    def __init__(self, importer: Importer, row: SourceRow, staging: _Staging, rehearsal: _Rehearsal | None) -> None:
        self.importer = importer
        self.row = row
        self.staging = staging
        self.rehearsal = rehearsal
        self.problems: list[CellProblem] = list(row.problems)
        self.csv = importer.format is FileFormat.csv
        self.cells = dict(zip(importer.header, row.raw, strict=False)) if self.csv and row.raw else {}

    def run(self) -> None:
        record = dict(self.row.record)
        name = None if self.problems and not record else self._command_name(record.pop("command", None))
        if name is None:
            self.staging.add(self.row.line, "rejected", raw=self.row.raw, problems=self.problems)
            return
        record = self._applicable(name, record)
        if not self.csv:
            record = self._check_spellings(record)
        self._check_references(record)
        command = self._command(name, record)
        explicit_id = record.get("command_id") if isinstance(record.get("command_id"), str) else None
        creates = self._creates(name, command.command_id if command else explicit_id)
        if command is None or self.problems:
            self.staging.add(self.row.line, "rejected", raw=self.row.raw, problems=self.problems, creates=creates)
            return
        digest = command.digest()
        status = self._status(command, digest, derived=explicit_id is None)
        if status == "new" and self.rehearsal is not None:
            self._rehearse(command)
        if self.problems:
            status = "rejected"
        self.staging.add(
            self.row.line,
            status,
            raw=self.row.raw,
            problems=self.problems,
            creates=creates,
            command=command,
            digest=digest,
            keep_payload=not self.importer.dry_run,
        )

    def _problem(self, column: str, value: Any, message: str) -> None:
        if column and any(p.column == column for p in self.problems):
            return  # one problem per cell is enough
        self.problems.append(CellProblem(column, value, message))

    def _command_name(self, given: Any) -> str | None:
        if any(p.column == "command" for p in self.problems):
            return None
        if given is None or given == "":
            self._problem("command", None, "is empty; accepted: one of " + ", ".join(COMMAND_CLASSES))
            return None
        if not isinstance(given, str) or given not in COMMAND_CLASSES:
            close = difflib.get_close_matches(str(given), COMMAND_CLASSES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self._problem("command", given, f"is not a command{hint}; accepted: one of " + ", ".join(COMMAND_CLASSES))
            return None
        return given

    def _applicable(self, name: str, record: dict[str, Any]) -> dict[str, Any]:
        """Drop (and report) fields the command does not take."""
        if self.csv:
            accepted = columns_of(name)
            given = [c for c, text in self.cells.items() if c and not is_note(c) and text.strip()]
            for column in given:
                if column not in accepted:
                    self._problem(column, self.cells[column], f"does not apply to {name}; leave the cell empty")
            stray = {c for c in given if c not in accepted}  # every command takes source_*: keys are columns
            return {k: v for k, v in record.items() if k not in stray}
        accepted = _field_keys(name)
        for key in [k for k in record if k not in accepted]:
            close = difflib.get_close_matches(key, sorted(accepted), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self._problem(
                key, record.pop(key), f"is not a field of {name}{hint}; accepted: " + ", ".join(sorted(accepted))
            )
        return record

    def _check_spellings(self, record: dict[str, Any]) -> dict[str, Any]:
        """In JSON Lines, give amount and date strings the same advice a CSV cell gets."""
        checked = dict(record)
        for key, value in record.items():
            check = check_amount_text if key in MONEY_COLUMNS else check_date_text if key in DATE_COLUMNS else None
            if check is None or not isinstance(value, str):
                continue
            try:
                check(value.strip())
            except ValueError as error:
                self._problem(key, value, str(error))
                del checked[key]
        return checked

    def _check_references(self, record: dict[str, Any]) -> None:
        for field, kind in REFERENCE_KINDS.items():
            value = record.get(field)
            if not isinstance(value, str) or not value.strip():
                continue
            object_id = resolve_reference(kind, value)
            creator = self.staging.creator(object_id)
            if creator is not None:
                line, status, created = creator
                if created != kind:
                    self._problem(field, value, f"names the {created} that line {line} creates, not {_a(kind)}")
                elif status == "rejected":
                    self._problem(field, value, f"names the {kind} that line {line} creates, but that row is rejected")
                continue
            found = self.importer.known_kind(object_id)
            if found == kind:
                continue
            if found is not None:
                self._problem(field, value, f"names {_a(found)}, not {_a(kind)}")
            else:
                self._problem(
                    field,
                    value,
                    f"names no {kind} in the ledger or in an earlier row of the file; accepted: the command id "
                    f"(or UUID) of {_a(kind)} created in the ledger or in a row above this one",
                )

    def _command(self, name: str, record: dict[str, Any]) -> Command | None:
        """Validate the row with its command model; report each field problem at its column."""
        fields = resolve_references(record)
        bad_columns = {p.column for p in self.problems}
        try:
            command = COMMAND_CLASSES[name].model_validate(fields)
            command.domain_value()
        except ValidationError as error:
            for item in error.errors():
                column, value, message = self._locate(name, item, fields)
                if column not in bad_columns:
                    self._problem(column, value, message)
                    bad_columns.add(column)
            return None
        if command.recorded_by is None and self.importer.recorded_by is None:
            self._problem("recorded_by", None, "is required: fill the column, or name who records the file")
            return None
        updates: dict[str, Any] = {}
        if command.command_id is None:
            updates["command_id"] = derived_command_id(command)
        if command.recorded_by is None:
            updates["recorded_by"] = self.importer.recorded_by
        return command.model_copy(update=updates) if updates else command

    def _locate(self, name: str, item: Any, fields: dict[str, Any]) -> tuple[str, Any, str]:
        location = [str(part) for part in item["loc"]]
        message = str(item["msg"]).removeprefix("Value error, ")
        if not location and ": " in message:
            head, message = message.split(": ", 1)
            location = [head]
        column = self._column(location)
        value = self.cells.get(column) if self.csv else _dig(fields, location)
        given = item.get("input")
        if isinstance(given, str) and given.strip() == str(value).strip():
            message = message.removeprefix(f"{given!r} ")  # the value is shown beside the message
        if item["type"] == "missing":
            message = f"is required for {name}" + self._missing_hint(column)
            value = None
        elif location and location[0] in MONEY_COLUMNS and "accepted" not in message:
            message += "; accepted: " + AMOUNT_ACCEPTED
        elif value is None and item.get("input") is not None and not isinstance(item["input"], dict):
            value = item["input"]
        return column, value, message

    def _column(self, location: list[str]) -> str:
        if not location:
            return "command"
        if not self.csv:
            return ".".join(location)
        head = location[0]
        if head == "source":
            part = location[1] if len(location) > 1 else "reference"
            return next((c for c, p in SOURCE_COLUMNS.items() if p == part), "source_reference")
        if head in MONEY_COLUMNS and len(location) > 1 and location[1] == "currency":
            return "currency"
        return {"organization_name": "name"}.get(head, head)

    def _missing_hint(self, column: str) -> str:
        if not self.csv:
            return f" (the record has no {column!r})"
        if column not in self.importer.header:
            return f" (the file has no {column!r} column)"
        return " (the cell is empty)"

    @staticmethod
    def _creates(name: str, command_id: str | None) -> tuple[str, str] | None:
        """The id and kind of the object the row creates, if it creates one."""
        kind = CREATES.get(name)
        if kind is None or command_id is None:
            return None
        return str(resolve_reference(kind, command_id)), kind

    def _status(self, command: Command, digest: str, *, derived: bool) -> str:
        """``new``, ``repeat`` (of an earlier row) or ``present`` (in the ledger); or a problem."""
        assert command.command_id is not None
        earlier = self.staging.by_command_id(command.command_id)
        if earlier is not None:
            line, earlier_digest = earlier
            if earlier_digest != digest:
                self._problem(
                    "command_id",
                    command.command_id,
                    f"is also the command id of line {line}, which is a different command; "
                    "accepted: a command id used by one command only",
                )
            elif derived:
                self._problem(
                    "",
                    None,
                    f"is the same command as line {line} and neither row has a command_id, so it would be stored once; "
                    "give each row its own command_id to record both, or delete the repeat",
                )
            return "repeat"
        stored = self.importer.ledger.ledger_recorder.select_command(command.command_id)
        if stored is None:
            return "new"
        if stored.name != command.command_name or stored.digest != digest:
            self._problem(
                "command_id",
                command.command_id,
                f"is already in the ledger for a different {stored.name} command; accepted: a new "
                "command id, or exactly the stored command",
            )
        return "present"

    def _rehearse(self, command: Command) -> None:
        assert self.rehearsal is not None
        try:
            getattr(self.rehearsal.ledger, command.command_name)(command)
        except AidLedgerError as error:
            column = "amount" if isinstance(error, _AMOUNT_ERRORS) else ""
            value = self.cells.get(column) if column else None
            self._problem(column, value, f"breaks a rule of the ledger: {type(error).__name__}: {error}")


_AMOUNT_ERRORS = (
    OverDisbursement,
    ReturnExceedsDisbursement,
    PledgeBelowDisbursed,
    RegrantExceedsPool,
    CurrencyMismatch,
)
"""Rule violations about the row's amount: reported at its ``amount`` column."""


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _field_keys(name: str) -> frozenset[str]:
    return frozenset({"command"} | {f.alias or n for n, f in COMMAND_CLASSES[name].model_fields.items()})


def _dig(data: Any, location: list[str]) -> Any:
    for part in location:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _kind_of_topic(topic: str) -> str:
    """``aidledger.domain.pledge:Pledge.Made`` -> ``pledge``."""
    return topic.rsplit(":", 1)[-1].split(".")[0].lower()


def _in_file(path: Path, error: InvalidInput) -> InvalidInput:
    problems = tuple(f"{path}: {problem}" for problem in error.problems)
    return InvalidInput(error.field, error.value, error.accepted, problems=problems)


def _stopped_at(line: int, stored: int, error: AidLedgerError) -> AidLedgerError:
    note = (
        f"line {line}: {error} ({stored} earlier rows of the file were stored and stay; run the import "
        "again after fixing: rows already stored are skipped)"
    )
    if isinstance(error, InvalidInput):
        return InvalidInput(error.field, error.value, error.accepted, problems=(note,))
    return type(error)(note)


def _rejected_record(line: int, raw: Any, messages: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {"#line": line, "#problems": messages}
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        record.update(parsed)
    else:
        record["#raw"] = raw
    return record


class _Staging:
    """The rows of the file, their status and problems, in a temporary SQLite database."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(
            "CREATE TABLE rows (line INTEGER PRIMARY KEY, status TEXT NOT NULL, name TEXT, command_id TEXT, "
            "digest TEXT, creates TEXT, creates_kind TEXT, payload TEXT, raw TEXT);"
            "CREATE INDEX rows_command_id ON rows (command_id);"
            "CREATE INDEX rows_creates ON rows (creates);"
            "CREATE TABLE problems (line INTEGER NOT NULL, column_name TEXT NOT NULL, value TEXT, "
            "message TEXT NOT NULL);"
            "CREATE INDEX problems_line ON problems (line);"
        )
        self.pending = 0

    def __enter__(self) -> _Staging:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.db.close()

    def add(
        self,
        line: int,
        status: str,
        *,
        raw: Any,
        problems: list[CellProblem],
        creates: tuple[str, str] | None = None,
        command: Command | None = None,
        digest: str | None = None,
        keep_payload: bool = True,
    ) -> None:
        """Stage one row; the command's payload is kept when it is to be stored."""
        keep = command is not None and status == "new" and keep_payload
        payload = command.model_dump_json(by_alias=True) if keep and command is not None else None
        self.db.execute(
            "INSERT INTO rows VALUES (?,?,?,?,?,?,?,?,?)",
            (
                line,
                status,
                command.command_name if command else None,
                command.command_id if command else None,
                digest,
                creates[0] if creates else None,
                creates[1] if creates else None,
                payload,
                json.dumps(raw, ensure_ascii=False),
            ),
        )
        self._add_problems(line, problems)
        self.pending += 1
        if self.pending >= COMMIT_EVERY:
            self.db.commit()
            self.pending = 0

    def _add_problems(self, line: int, problems: list[CellProblem]) -> None:
        self.db.executemany(
            "INSERT INTO problems VALUES (?,?,?,?)",
            [(line, p.column, None if p.value is None else str(p.value), p.message) for p in problems],
        )

    def reject(self, line: int, problems: list[CellProblem]) -> None:
        """Mark a staged row rejected (when the ledger refused it while storing)."""
        self.db.execute("UPDATE rows SET status='rejected' WHERE line=?", (line,))
        self._add_problems(line, problems)

    def by_command_id(self, command_id: str) -> tuple[int, str] | None:
        """The first valid earlier row with this command id: its line and digest."""
        found = self.db.execute(
            "SELECT line, digest FROM rows WHERE command_id=? AND status!='rejected' ORDER BY line LIMIT 1",
            (command_id,),
        ).fetchone()
        return None if found is None else (int(found[0]), str(found[1]))

    def creator(self, object_id: UUID) -> tuple[int, str, str] | None:
        """The earlier row that creates ``object_id``: its line, status and the kind it creates."""
        found = self.db.execute(
            "SELECT line, status, creates_kind FROM rows WHERE creates=? ORDER BY status='rejected', line LIMIT 1",
            (str(object_id),),
        ).fetchone()
        return None if found is None else (int(found[0]), str(found[1]), str(found[2]))

    def count(self, *statuses: str) -> int:
        """How many rows have one of ``statuses``."""
        marks = ",".join("?" * len(statuses))
        return int(self.db.execute(f"SELECT count(*) FROM rows WHERE status IN ({marks})", statuses).fetchone()[0])

    def runnable(self) -> Iterator[tuple[int, str, str, str]]:
        """The new rows to store, in file order: line, command name, command id, payload."""
        self.db.commit()
        cursor = self.db.cursor()
        cursor.execute("SELECT line, name, command_id, payload FROM rows WHERE status='new' ORDER BY line")
        for line, name, command_id, payload in cursor:
            yield int(line), str(name), str(command_id), str(payload)

    def rejected(self) -> Iterator[tuple[int, Any, list[str]]]:
        """Rejected rows in file order: line, the row as written, its problems as text."""
        cursor = self.db.cursor()
        cursor.execute("SELECT line, raw FROM rows WHERE status='rejected' ORDER BY line")
        for line, raw in cursor:
            messages = [p.cell() for p in self._problems_of(int(line))]
            yield int(line), json.loads(raw), messages

    def _problems_of(self, line: int) -> list[RowProblem]:
        rows = self.db.execute(
            "SELECT line, column_name, value, message FROM problems WHERE line=? ORDER BY rowid", (line,)
        ).fetchall()
        return [RowProblem(line=r[0], column=r[1], value=r[2], message=r[3]) for r in rows]

    def problems(self, limit: int) -> tuple[tuple[RowProblem, ...], int]:
        """The first ``limit`` problems in file order, and how many more there are."""
        rows = self.db.execute(
            "SELECT line, column_name, value, message FROM problems ORDER BY line, rowid LIMIT ?", (limit,)
        ).fetchall()
        total = int(self.db.execute("SELECT count(*) FROM problems").fetchone()[0])
        listed = tuple(RowProblem(line=r[0], column=r[1], value=r[2], message=r[3]) for r in rows)
        return listed, total - len(listed)


class _Rehearsal:
    """A throwaway SQLite copy of the ledger's events, to run the file on before the ledger."""

    def __init__(self, ledger: AidLedger, directory: Path) -> None:
        self.ledger = open_ledger(
            directory / "rehearsal.sqlite3", allow_disbursing_intended=ledger.allow_disbursing_intended
        )
        recorder = self.ledger.recorder
        assert isinstance(recorder, SQLiteLedgerRecorder), type(recorder)
        # A throwaway copy needs no durability: without an fsync per command it runs several
        # times faster, and it stays on disk so memory stays bounded however large the file.
        with recorder.datastore.get_connection(commit=True) as connection:
            connection.cursor().execute("PRAGMA synchronous=OFF")
        try:
            self._copy_events(ledger)
        except BaseException:
            self.ledger.close()
            raise

    def _copy_events(self, ledger: AidLedger) -> None:
        """Copy the stored events as they are, in batches (the commands index is not needed)."""
        start = 1
        while True:
            notifications = ledger.recorder.select_notifications(start, 1000)
            if not notifications:
                return
            self.ledger.recorder.insert_events(
                [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]
            )
            start = notifications[-1].id + 1

    def close(self) -> None:
        """Close the copy (its directory is removed by the caller)."""
        self.ledger.close()
