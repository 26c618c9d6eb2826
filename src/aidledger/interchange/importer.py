"""Import a CSV or JSON Lines file of commands: decided as a whole first, stored idempotently.

An import goes through the ledger's one command pipeline (:mod:`aidledger.application.pipeline`)
in two passes (docs/import.md explains the choices):

1. **Check.** Every row is read and validated with its command model; its references are looked
   up (among the objects earlier rows create, or in the ledger); its command id is compared with
   the ledger's commands index (one read per command, a thousand at a time) and with the file's
   other rows; and, by default, the command is *decided*: its rules are checked against the
   ledger's aggregates as the rows before it leave them, in one decision session for the whole
   file. So a rule only a run can check (a disbursement above its pledge, a pledge to a completed
   project) is found before anything is stored, at a cost in proportion to the file and the
   aggregates it touches, never to the history before it. Rows, their problems and the events
   each decided command stores go to a staging database on disk, so memory stays bounded by what
   the file touches.
2. **Store.** Only when no row has a problem (or with ``skip_invalid``, for the rows that have
   none) the decided events are stored, in file order, in transactions of at most
   ``BATCH_EVENTS`` events, each with its commands-index rows and derived state. Nothing is
   decided twice. If another writer changed an aggregate the file touches in between, the rest
   of the file is decided again against the ledger as it is then, batch by batch.

Each row carries a command id or gets one derived from its content (see :func:`derived_command_id`),
so running the same file again stores nothing new, and a run that was stopped half way finishes
where it stopped when it is run again.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from stdnum.cn import uscc

from aidledger.application.commands import Command, check_label, locate_error
from aidledger.application.ledger import MAX_ATTEMPTS, AidLedger
from aidledger.application.pipeline import Decided, DecisionSession, Repeated
from aidledger.application.ports import CommandEntry, StagedCommand, Staging
from aidledger.canonical import canonical_json
from aidledger.errors import (
    AidLedgerError,
    AlreadyExists,
    ConcurrencyConflict,
    CurrencyMismatch,
    DisbursementAlreadyConfirmed,
    DisbursementAlreadyReversed,
    DisbursementHasReturns,
    DuplicateCreditCode,
    EffectiveDateOutOfOrder,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    NotAPooledFund,
    OrganizationDeregistered,
    OverDisbursement,
    PledgeAlreadySigned,
    PledgeBelowDisbursed,
    PledgeHasDisbursements,
    PledgeNotSigned,
    PledgeWithdrawn,
    PooledFundTakesDonations,
    ProjectClosed,
    RegrantDonorMismatch,
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
    SpreadsheetWriter,
    check_amount_text,
    check_date_text,
    columns_of,
    restore_cell,
)
from aidledger.interchange.messages import (
    check_language,
    in_file,
    problem_cell,
    problem_line,
    problem_message,
    rule_name,
    say,
    warning_line,
    where,
)
from aidledger.interchange.reading import FileFormat, RowReader, SourceRow, detect_format, text_encoding
from aidledger.interchange.sheets import Place, WorkbookReader, write_rejects_workbook

__all__ = [
    "BATCH_EVENTS",
    "STAGING_PREFIX",
    "ImportInterrupted",
    "ImportSummary",
    "Importer",
    "Progress",
    "RowProblem",
    "derived_command_id",
    "import_file",
    "refusal",
    "remove_abandoned_staging",
]

LISTED_PROBLEMS = 1000
"""At most this many problems are kept in a summary; the rejects file has them all."""
PROBLEMS_IN_MESSAGE = 100
"""At most this many problems are spelled out in the error a refused import raises."""
BATCH_EVENTS = 10_000
"""At most this many events are stored in one transaction (the default, and the most allowed)."""
LOOKUP_ROWS = 1000
"""Rows whose command ids are looked up in the commands index with one query."""
STAGING_PREFIX = "aidledger-import-"
"""An import stages its rows in ``<temporary folder>/aidledger-import-<process id>-<random>``."""
ABANDONED_AFTER = 86_400
"""Seconds after which a staging folder without a process id (from an older version) counts as abandoned."""

Progress = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``: phase ``"checking"`` counts bytes of the file (a
workbook's share of rows read), ``"storing"`` counts commands (a disbursement row with
``confirmed_on`` holds two)."""


class ImportInterrupted(KeyboardInterrupt):
    """An import stopped by Ctrl-C (SIGINT); the message says what was stored and how to finish.

    A ``KeyboardInterrupt``, so code that stops on one still stops; the transactions committed
    before it stay, and running the same import again stores the rest.
    """


class RowProblem(BaseModel):
    """A problem of one row: the line it starts on, the column, the value given, what is accepted."""

    model_config = ConfigDict(frozen=True)

    line: int
    """The line of a CSV or JSON Lines file; in a workbook, the row number of :attr:`sheet`."""
    column: str
    value: str | None
    message: str
    """What is wrong and what is accepted, in :attr:`lang`."""
    sheet: str | None = None
    """The workbook sheet the row is on (``None`` in CSV and JSON Lines)."""
    lang: str = Field(default="en", exclude=True)
    """The language :attr:`message` is in and ``str()`` speaks (``en`` or ``zh``); not part of the
    JSON form, whose fields stay the same in either language."""

    def __str__(self) -> str:
        return problem_line(self.lang, self.sheet, self.line, self.column, self.value, self.message)

    def cell(self) -> str:
        """The problem without its line: ``column amount: '¥100' has a currency sign ...``."""
        return problem_cell(self.lang, self.column, self.value, self.message)


class ImportSummary(BaseModel):
    """What an import read, stored, found already present and rejected."""

    model_config = ConfigDict(frozen=True)

    file: str
    format: str
    dry_run: bool
    rows_read: int
    """Rows of the file (a workbook's example rows and blank rows are not rows). Each row counts
    once in ``stored``, ``already_present`` or ``rejected`` (all three add up to ``rows_read``,
    except in a refused import, where the rows that have no problem count nowhere)."""
    stored: int
    """Rows that stored something now (in a dry run: rows that would); a disbursement row with
    ``confirmed_on`` stores two commands and counts once, here if either is new."""
    already_present: int
    """Rows whose every command the ledger already held (the same command id and content), and
    repeats of an earlier row of the file."""
    rejected: int
    """Rows with a problem (each is in the rejects file), including a disbursement row whose
    confirmation alone was rejected: with ``skip_invalid`` its disbursement is stored."""
    problems: tuple[RowProblem, ...]
    problems_not_listed: int = 0
    rejects_file: str | None = None
    position_before: int
    position_after: int
    warnings: tuple[str, ...] = ()
    """Rows stored (or that would be) whose values deserve a second look, such as a region code
    in none of the ministry's lists: ``line 7: region: ...``; the first ``LISTED_PROBLEMS``."""
    warnings_not_listed: int = 0


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


def refusal(summary: ImportSummary, lang: str = "en") -> InvalidInput:
    """The error a refused import raises: every bad row (the first 100 spelled out), in ``lang``
    (the problems are in the language the import was run in)."""
    shown = [str(problem) for problem in summary.problems[:PROBLEMS_IN_MESSAGE]]
    hidden = len(summary.problems) - len(shown) + summary.problems_not_listed
    if hidden:
        where = (
            say(lang, "all_in", rejects_file=summary.rejects_file)
            if summary.rejects_file
            else say(lang, "pass_rejects")
        )
        shown.append(say(lang, "more_problems", hidden=hidden) + where)
    head = say(lang, "refused", file=summary.file, rejected=summary.rejected, rows_read=summary.rows_read)
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
    batch_events: int | None = None,
    encoding: str = "utf-8",
    lang: str = "en",
) -> ImportSummary:
    """Import a CSV or JSON Lines file of command records into ``ledger``.

    By default the file is all or nothing: if any row has a problem — a bad value, a reference to
    nothing, a broken rule — :class:`InvalidInput` names every one (line, column, value, what is
    accepted) and nothing is stored. With ``skip_invalid`` the valid rows are stored and the
    others written to ``rejects`` (default ``<file>.rejects.csv`` or ``.rejects.jsonl``).
    ``dry_run`` checks without storing. ``rehearse=False`` skips deciding the rules while
    checking: memory then stays bounded however many objects the file touches, and a rule broken
    half way stops the import at that row (the rows before it stay stored). ``batch_events`` caps
    the events of one transaction (1 to ``BATCH_EVENTS``, the default). ``lang`` (``en``, the
    default, or ``zh``) is the language of the problems, warnings and refusal (docs/import.md).
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
        batch_events=batch_events,
        encoding=encoding,
        lang=lang,
    )
    summary = importer.run()
    if importer.refused(summary):
        raise refusal(summary, lang)
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
        batch_events: int | None = None,
        encoding: str = "utf-8",
        lang: str = "en",
    ) -> None:
        self.ledger = ledger
        self.lang = check_language(lang)
        """The language of the problems and warnings: ``en`` or ``zh`` (:mod:`~aidledger.interchange.messages`)."""
        if batch_events is not None and (
            isinstance(batch_events, bool) or not isinstance(batch_events, int) or not 1 <= batch_events <= BATCH_EVENTS
        ):
            raise InvalidInput("batch_events", batch_events, f"a whole number of events from 1 to {BATCH_EVENTS}")
        self.batch_events = batch_events
        self.path = Path(path)
        if not self.path.is_file():
            raise InvalidInput("file", str(path), "an existing CSV, JSON Lines or workbook (.xlsx) file")
        self.format = detect_format(self.path, file_format)
        self.encoding = text_encoding(encoding)
        if self.format is FileFormat.xlsx and self.encoding != "utf-8":
            raise InvalidInput("--encoding", encoding, "no encoding for a workbook (it names its own)")
        self._sheet_names: list[str | None] = [None]
        self._place_sheets = array("l")
        self._place_rows = array("q")
        """Where each staged command's row is, by its key (1, 2, ...): the index of its sheet name in
        ``_sheet_names`` (``None``: a CSV or JSON Lines file) and its line or sheet row. A
        disbursement row with ``confirmed_on`` stages two commands from one place."""
        self._outcomes = bytearray()
        """What became of each staged command, by its key: ``_PRESENT``, ``_NEW`` or ``_REJECTED``."""
        self.skip_invalid = skip_invalid
        self.dry_run = dry_run
        self.rehearse = rehearse
        self.recorded_by = recorded_by if recorded_by is not None else ledger.default_recorded_by
        if self.recorded_by is not None and not 1 <= len(self.recorded_by) <= 200:
            raise InvalidInput("recorded_by", self.recorded_by, "1 to 200 characters naming who records the file")
        if self.recorded_by is not None:
            check_label("recorded_by", self.recorded_by)
        self.rejects_path = Path(rejects) if rejects is not None else None
        if self.rejects_path is None and skip_invalid:
            self.rejects_path = self.path.with_suffix(f".rejects.{self.format.value}")
        if self.rejects_path is not None and self.format is FileFormat.xlsx:
            self.rejects_path = self.rejects_path.with_suffix(".xlsx")
        self.progress = progress
        self.header: list[str] = []
        self.csv_like = self.format is not FileFormat.jsonl
        """Whether rows are cells under column names (CSV, workbooks), not JSON records."""
        self.session: DecisionSession = ledger.session()
        self.creators: dict[UUID, tuple[int, str, str, str]] = {}
        """Objects the file's rows create: line, status, kind and the command id that names it in
        messages (kept in memory: small per row)."""
        self.credit_codes: dict[str, UUID] = {}
        """The organizations the file's rows register, by credit code (a reference may give one)."""
        self.first_lines: dict[str, int] = {}
        """The first line of each command id of the file."""
        self._known: dict[UUID, str | None] = {}
        self._created_by: dict[UUID, str | None] = {}
        self._storing = False
        """Whether the store pass began (an interruption then may have stored some rows)."""
        self._commands_stored = 0
        self.warnings: list[str] = []
        """Warnings about the file's new rows, in line order: the first ``LISTED_PROBLEMS``."""
        self.warnings_not_listed = 0

    def warn(self, warning: str) -> None:
        """Keep a warning for the summary (only a count once ``LISTED_PROBLEMS`` are kept)."""
        if len(self.warnings) < LISTED_PROBLEMS:
            self.warnings.append(warning)
        else:
            self.warnings_not_listed += 1

    def refused(self, summary: ImportSummary) -> bool:
        """Whether the import stored nothing because rows had problems (the default mode)."""
        return summary.rejected > 0 and not self.skip_invalid

    def run(self) -> ImportSummary:
        """Check (and decide) every row, then store the valid ones (unless refused or a dry run)."""
        position_before = self.ledger.position()
        with _staging_folder() as directory:
            staging: Staging | None = None
            try:  # from the staging folder's first moment: Ctrl-C while it opens is an interruption too
                staging = self.ledger.store.open_staging(directory)
                rows_read = self._check_all(staging)
                refused = staging.count("rejected") > 0 and not self.skip_invalid
                if not refused and not self.dry_run:
                    self._storing = True
                    self._store_all(staging)
                stored, present, rejected = self._row_counts(refused)
                rejects_file = self._write_rejects(staging)
                listed, hidden = staging.problems(LISTED_PROBLEMS)
                return ImportSummary(
                    file=str(self.path),
                    format=self.format.value,
                    dry_run=self.dry_run,
                    rows_read=rows_read,
                    stored=stored,
                    already_present=present,
                    rejected=rejected,
                    problems=tuple(self._row_problem(*r) for r in listed),
                    problems_not_listed=hidden,
                    rejects_file=rejects_file,
                    position_before=position_before,
                    position_after=self.ledger.position(),
                    warnings=tuple(self.warnings),
                    warnings_not_listed=self.warnings_not_listed,
                )
            except KeyboardInterrupt:
                raise self._interrupted(position_before) from None
            finally:
                if staging is not None:
                    staging.close()

    def _add_place(self, sheet: str | None, row: int) -> int:
        """Remember where the next staged command comes from; its key."""
        if sheet != self._sheet_names[-1]:
            self._sheet_names.append(sheet)
        self._place_sheets.append(len(self._sheet_names) - 1)
        self._place_rows.append(row)
        self._outcomes.append(_PRESENT)
        return len(self._place_rows)

    def stage(self, staging: Staging, key: int, status: str, raw: str, **kept: Any) -> None:
        """Stage the command ``key`` with its status (``new``, ``present``, ``repeat``, ``rejected``)."""
        staging.add_row(key, status, raw, **kept)
        self._outcomes[key - 1] = _OUTCOMES[status]

    def _rows_of_stored(self, commands: int) -> int:
        """The rows the first ``commands`` stored commands come from (commands are stored in file
        order; a row whose second command is not stored yet counts)."""
        rows, last = 0, (-1, -1)
        for index, outcome in enumerate(self._outcomes):
            if commands == 0:
                break
            if outcome != _NEW:
                continue
            commands -= 1
            place = (self._place_sheets[index], self._place_rows[index])
            rows, last = rows + (place != last), place
        return rows

    def _row_counts(self, refused: bool) -> tuple[int, int, int]:
        """Rows stored (in a dry run: to be stored), already present, and rejected. Each row of the
        file counts once: a row whose commands (a disbursement and the confirmation its
        ``confirmed_on`` records) fared differently counts as rejected if one was rejected, else as
        stored if one was stored. When the file is refused, no row counts as stored."""
        counts = [0, 0, 0]
        last, outcome = (-1, -1), -1
        for index, now in enumerate(self._outcomes):
            place = (self._place_sheets[index], self._place_rows[index])
            if place != last:
                if outcome >= 0:
                    counts[outcome] += 1
                last, outcome = place, now
            else:
                outcome = max(outcome, now)
        if outcome >= 0:
            counts[outcome] += 1
        present, stored, rejected = counts
        return (0 if refused else stored), present, rejected

    def place(self, key: int) -> Place:
        """Where the staged command ``key`` was written: its sheet (``None`` in CSV and JSON Lines)
        and its line or row."""
        return Place(self._sheet_names[self._place_sheets[key - 1]], self._place_rows[key - 1])

    def _row_problem(self, key: int, column: str, value: str | None, message: str) -> RowProblem:
        place = self.place(key)
        return RowProblem(
            line=place.row,
            column=column,
            value=value,
            message=problem_message(self.lang, column, message),
            sheet=place.sheet,
            lang=self.lang,
        )

    def where(self, key: int) -> str:
        """A row as the clerk finds it: ``line 5``, or ``sheet '认捐 make_pledge', row 5`` in a workbook."""
        place = self.place(key)
        return where("en", place.sheet, place.row)

    def _interrupted(self, position_before: int) -> ImportInterrupted:
        """What an interrupted import says: what was stored, and how to finish."""
        if not self._storing:
            return ImportInterrupted(
                say(self.lang, "interrupted_checking", file=self.path, position_before=position_before)
            )
        try:
            after = str(self.ledger.position())
        except (AidLedgerError, KeyboardInterrupt):
            after = "?"
        rows = self._rows_of_stored(self._commands_stored)
        return ImportInterrupted(
            say(
                self.lang,
                "interrupted_storing",
                file=self.path,
                rows=rows,
                position_before=position_before,
                position_after=after,
            )
        )

    # -- pass 1: check ------------------------------------------------------------------------

    def _check_all(self, staging: Staging) -> int:
        total = self.path.stat().st_size
        try:
            if self.format is FileFormat.xlsx:
                workbook = WorkbookReader(self.path)
                try:
                    return self._check_rows(staging, workbook, lambda: int(total * workbook.done), total)
                finally:
                    workbook.close()
            with self.path.open("rb") as stream:
                reader = RowReader(stream, self.format, self.encoding)
                return self._check_rows(staging, reader, lambda: reader.bytes_read, total)
        except InvalidInput as error:
            raise _in_file(self.path, error, self.lang) from None

    def _check_rows(
        self, staging: Staging, reader: RowReader | WorkbookReader, done: Callable[[], int], total: int
    ) -> int:
        chunk: list[_RowCheck] = []
        for row in reader:
            self.header = reader.header
            place = Place(reader.sheet if isinstance(reader, WorkbookReader) else None, row.line)
            for part in _parts(row):
                part.line = self._add_place(place.sheet, place.row)
                chunk.append(_RowCheck(self, part))
            if len(chunk) >= LOOKUP_ROWS:
                self._finish(chunk, staging)
                chunk = []
            if self.progress is not None:
                self.progress("checking", done(), total)
        self._finish(chunk, staging)
        return reader.rows_read

    def _finish(self, chunk: list[_RowCheck], staging: Staging) -> None:
        """Look up the chunk's command ids at once, then finish each row in file order."""
        self.session.look_up(
            [check.command.command_id for check in chunk if check.command and check.command.command_id]
        )
        for check in chunk:
            check.finish(staging)
        self.session.forget_lookups()

    def known_kind(self, object_id: UUID) -> str | None:
        """The kind of object ``object_id`` is in the ledger, or ``None`` (cached, bounded)."""
        if object_id not in self._known:
            if len(self._known) > 100_000:
                self._known.clear()
            self._known[object_id] = self.ledger.kind_of(object_id)
        return self._known[object_id]

    def created_by(self, object_id: UUID) -> str | None:
        """The command id that created ``object_id`` in the ledger (how a file names it), or
        ``None`` (cached, bounded: read only to word a broken rule's message)."""
        if object_id not in self._created_by:
            if len(self._created_by) > 100_000:
                self._created_by.clear()
            self._created_by[object_id] = self.ledger.created_by(object_id)
        return self._created_by[object_id]

    # -- pass 2: store ------------------------------------------------------------------------

    def _store_all(self, staging: Staging) -> None:
        """Store the decided rows in batches; if another writer got in the way, decide the rest again."""
        if not self.rehearse:
            self._store_deciding(staging, 0, 0)
            return
        total, stored = staging.count("new"), 0
        batch: list[StagedCommand] = []
        events: list[StoredEvent] = []
        for staged in staging.commands():
            if len(events) + len(staged.events) > self._batch_limit() and batch:
                if not self._store_batch(batch, events):
                    self._store_deciding(staging, batch[0].line, stored)
                    return
                stored += len(batch)
                self._report_storing(stored, total)
                batch, events = [], []
            batch.append(staged)
            events.extend(staged.events)
        if batch:
            if not self._store_batch(batch, events):
                self._store_deciding(staging, batch[0].line, stored)
                return
            stored += len(batch)
            self._report_storing(stored, total)

    def _batch_limit(self) -> int:
        return self.batch_events if self.batch_events is not None else BATCH_EVENTS

    def _store_batch(self, batch: list[StagedCommand], events: list[StoredEvent]) -> bool:
        """Store decided commands as they were decided; ``False`` if another writer got there first."""
        try:
            self.ledger.store_batch([staged.entry for staged in batch], events)
        except IntegrityError:
            return False
        return True

    def _store_deciding(self, staging: Staging, from_line: int, stored: int) -> None:
        """Decide and store the rows from ``from_line`` on, batch by batch, against the ledger as it is
        (``stored`` commands of the file are stored already)."""
        total = staging.count("new")
        session = self.ledger.session()
        batch: list[tuple[StagedCommand, Decided]] = []
        size = 0
        for staged in staging.commands(from_line):
            command = COMMAND_CLASSES[staged.entry.name].model_validate_json(staged.payload)
            try:
                outcome = session.decide(command)
            except AidLedgerError as error:
                stored += self._save_deciding(batch)
                batch, size = [], 0
                session = self.ledger.session()
                if not self.skip_invalid:
                    place = self.place(staged.line)
                    row = where(self.lang, place.sheet, place.row)
                    raise _stopped_at(row, self._rows_of_stored(stored), error, self.lang) from None
                staging.reject(staged.line, [("", None, f"was refused by the ledger: {error}")])
                self._outcomes[staged.line - 1] = _REJECTED
                continue
            if isinstance(outcome, Repeated):
                self._outcomes[staged.line - 1] = _PRESENT
                continue
            if size + len(outcome.events) > self._batch_limit() and batch:
                stored += self._save_deciding(batch)
                self._report_storing(stored, total)
                batch, size = [], 0
                session = self.ledger.session()
                outcome = session.decide(command)
                assert isinstance(outcome, Decided)
            batch.append((staged, outcome))
            size += len(outcome.events)
        stored += self._save_deciding(batch)
        self._report_storing(stored, total)

    def _save_deciding(self, batch: list[tuple[StagedCommand, Decided]]) -> int:
        """Save a batch decided during the store pass; decide it again if another writer got in first."""
        if not batch:
            return 0
        decided = list(batch)
        for _ in range(MAX_ATTEMPTS):
            try:
                self.ledger.save_decided([outcome for _, outcome in decided])
            except IntegrityError:
                session = self.ledger.session()
                again: list[tuple[StagedCommand, Decided]] = []
                for staged, outcome in decided:
                    redecided = session.decide(outcome.command)
                    if isinstance(redecided, Decided):
                        again.append((staged, redecided))
                    else:  # another writer stored the same command meanwhile
                        self._outcomes[staged.line - 1] = _PRESENT
                decided = again
                continue
            return len(decided)
        raise ConcurrencyConflict(
            f"{self.where(batch[0][0].line)}: the import kept conflicting with concurrent writers"
        )

    def _report_storing(self, done: int, total: int) -> None:
        self._commands_stored = done
        if self.progress is not None:
            self.progress("storing", done, total)

    # -- rejects ------------------------------------------------------------------------------

    def _rejected_rows(self, staging: Staging) -> Iterator[tuple[Place, str, list[str]]]:
        """Each rejected row once, with its problems: a disbursement and the confirmation its
        ``confirmed_on`` records are one row of the file."""
        last: tuple[Place, str, list[str]] | None = None
        for key, raw, problems in staging.rejected():
            place = self.place(key)
            if last is not None and last[0] == place:
                last[2].extend(_cell(p, self.lang) for p in problems)
                continue
            if last is not None:
                yield last
            last = (place, raw, [_cell(p, self.lang) for p in problems])
        if last is not None:
            yield last

    def _write_rejects(self, staging: Staging) -> str | None:
        if self.rejects_path is None or not staging.count("rejected"):
            return None
        if self.format is FileFormat.xlsx:
            write_rejects_workbook(
                self.rejects_path,
                ((place, problems, json.loads(raw) or []) for place, raw, problems in self._rejected_rows(staging)),
            )
        elif self.format is FileFormat.csv:
            with self.rejects_path.open("w", encoding="utf-8-sig", newline="") as out:
                writer = SpreadsheetWriter(out)
                writer.writerow(["#line", "#problems", *self.header])
                for place, raw, problems in self._rejected_rows(staging):
                    # Cells as the import read them, quoted again: imported, the file gives the same values.
                    cells = [restore_cell(cell) for cell in json.loads(raw) or []]
                    writer.writerow([place.row, "; ".join(problems), *cells])
        else:
            with self.rejects_path.open("w", encoding="utf-8") as out:
                for place, raw, problems in self._rejected_rows(staging):
                    record = _rejected_record(place.row, json.loads(raw), problems)
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return str(self.rejects_path)


def _parts(row: SourceRow) -> list[SourceRow]:
    """The commands a row records: itself, and for a disbursement row with ``confirmed_on`` also
    the confirmation, whose command id is the row's command id followed by ``:confirmed``."""
    confirmed = row.record.get("confirmed_on")
    if row.record.get("command") != "disburse" or confirmed is None or confirmed == "":
        return [row]
    record = {key: value for key, value in row.record.items() if key != "confirmed_on"}
    disbursement = SourceRow(row.line, record, list(row.problems), row.raw)
    command_id = record.get("command_id")
    if not isinstance(command_id, str) or not command_id.strip():
        disbursement.problems.append(
            CellProblem(
                "confirmed_on",
                confirmed,
                "needs the row's command_id: the confirmation refers to the disbursement by it; "
                "accepted: a command_id in this row, or the confirmation on a confirm_disbursement row",
            )
        )
        return [disbursement]
    confirmation = {
        "command": "confirm_disbursement",
        "command_id": f"{command_id.strip()}:confirmed",
        "disbursement_id": command_id.strip(),
        "effective_on": confirmed,
    }
    if row.record.get("recorded_by") is not None:
        confirmation["recorded_by"] = row.record["recorded_by"]
    return [disbursement, SourceRow(row.line, confirmation, [], row.raw, confirmation=True)]


def _cell(problem: tuple[str, str | None, str], lang: str) -> str:
    column, value, message = problem
    return problem_cell(lang, column, value, problem_message(lang, column, message))


class _RowCheck:
    """The checks of one row, in order; each problem found is kept and the checks go on."""

    def __init__(self, importer: Importer, row: SourceRow) -> None:
        self.importer = importer
        self.row = row
        self.problems: list[CellProblem] = list(row.problems)
        self.csv = importer.csv_like
        self.cells = dict(zip(importer.header, row.raw, strict=False)) if self.csv and row.raw else {}
        self.renamed: dict[str, str] = {}
        """Columns a problem is told at instead (the confirmation of a ``confirmed_on`` cell)."""
        if row.confirmation:
            self.cells = {key: str(value) for key, value in row.record.items()} if self.csv else {}
            self.renamed = {"effective_on": "confirmed_on", "disbursement_id": "command_id", "command_id": "command_id"}
        self.name: str | None = None
        self.record: dict[str, Any] = {}
        self.command: Command | None = None
        self.command_problems: list[CellProblem] = []
        self.explicit_id: str | None = None
        self.written: dict[str, str] = {}
        """References the row gives as a credit code, as written (the record holds the UUID)."""
        self._prepare()

    def _prepare(self) -> None:
        """Read the row into a validated command (references are checked in file order, later)."""
        record = dict(self.row.record)
        self.name = None if self.problems and not record else self._command_name(record.pop("command", None))
        if self.name is None:
            return
        record = self._applicable(self.name, record)
        if not self.csv:
            record = self._check_spellings(record)
        record = self._by_credit_code(record)
        self.record = record
        self.explicit_id = record.get("command_id") if isinstance(record.get("command_id"), str) else None
        # Validated now, for its command id; its problems are told after the references' (as they read).
        before = len(self.problems)
        self.command = self._command(self.name, record)
        self.command_problems = self.problems[before:]
        del self.problems[before:]
        code = record.get("credit_code")
        created = self._creates(self.name, self.command.command_id if self.command else None)
        if self.name == "register_organization" and isinstance(code, str) and created is not None:
            self.importer.credit_codes.setdefault(code.strip().upper(), created[0])

    def _by_credit_code(self, record: dict[str, Any]) -> dict[str, Any]:
        """An organization reference written as a unified social credit code (18 characters with a
        valid check character) names the organization that holds it: one registered by an earlier
        row of the file, else one in the ledger. A code no organization holds is left as written,
        to be refused as naming no organization."""
        resolved = dict(record)
        for field, kind in REFERENCE_KINDS.items():
            value = record.get(field)
            if kind != "organization" or not isinstance(value, str) or not _CREDIT_CODE.fullmatch(value.strip()):
                continue
            code = value.strip().upper()
            if not uscc.is_valid(code):
                continue
            holder = self.importer.credit_codes.get(code)
            if holder is None:
                found = self.importer.session.credit_code_holder(code, _NO_ORGANIZATION)
                holder = found.id if found is not None else None
            if holder is not None:
                resolved[field] = str(holder)
                self.written[field] = value.strip()
        return resolved

    def finish(self, staging: Staging) -> None:
        """Check references against the rows before, classify or decide, and stage the row."""
        raw = json.dumps(self.row.raw, ensure_ascii=False)
        if self.name is None:
            self.importer.stage(staging, self.row.line, "rejected", raw, problems=self._problem_rows())
            return
        self._check_references(self.record)
        for problem in self.command_problems:
            self._problem(problem.column, problem.value, problem.message)
        command = self.command
        creates = self._creates(self.name, command.command_id if command else self.explicit_id)
        if command is None or self.problems:
            self._stage_rejected(staging, raw, creates)
            return
        status, outcome = self._outcome(command)
        if self.problems:
            self._stage_rejected(staging, raw, creates)
            return
        assert command.command_id is not None
        self.importer.first_lines.setdefault(command.command_id, self.row.line)
        if creates is not None:
            self.importer.creators.setdefault(creates[0], (self.row.line, status, creates[1], command.command_id))
        if status != "new":
            self.importer.stage(staging, self.row.line, status, raw)
            return
        for warning in command.warnings():
            place = self.importer.place(self.row.line)
            self.importer.warn(warning_line(self.importer.lang, place.sheet, place.row, warning))
        events = outcome.events if isinstance(outcome, Decided) else ()
        entry = CommandEntry(
            command_id=command.command_id,
            name=command.command_name,
            digest=command.digest() if not isinstance(outcome, Decided) else outcome.digest,
            aggregate_id=str(outcome.aggregate_id) if isinstance(outcome, Decided) else "",
            events=len(events),
        )
        payload = command.model_dump_json(by_alias=True) if not self.importer.dry_run else None
        self.importer.stage(staging, self.row.line, "new", raw, command=entry, payload=payload, events=events)

    def _stage_rejected(self, staging: Staging, raw: str, creates: tuple[UUID, str] | None) -> None:
        if creates is not None:
            named = self.command.command_id if self.command is not None else self.explicit_id
            self.importer.creators.setdefault(creates[0], (self.row.line, "rejected", creates[1], named or ""))
        self.importer.stage(staging, self.row.line, "rejected", raw, problems=self._problem_rows())

    def _problem_rows(self) -> list[tuple[str, str | None, str]]:
        return [(p.column, None if p.value is None else str(p.value), p.message) for p in self.problems]

    def _outcome(self, command: Command) -> tuple[str, Decided | Repeated | None]:
        """``new`` (decided, when rehearsing), ``repeat`` (of an earlier row) or ``present`` (in the
        ledger), as the pipeline finds it; a problem when the id or a rule says no."""
        assert command.command_id is not None
        session = self.importer.session
        try:
            outcome = session.decide(command) if self.importer.rehearse else session.classify(command)
        except IdempotencyConflict as error:
            self._conflict(command, str(error))
            return "rejected", None
        except AidLedgerError as error:
            self._rule_problem(command, error)
            return "rejected", None
        if isinstance(outcome, Repeated):
            earlier = self.importer.first_lines.get(command.command_id)
            if outcome.receipt is None and earlier is not None and self.explicit_id is None:
                self._problem(
                    "",
                    None,
                    f"is the same command as {self.importer.where(earlier)} and neither row has a command_id, "
                    "so it would be stored once; give each row its own command_id to record both, or delete the repeat",
                )
            return ("repeat" if outcome.receipt is None else "present"), outcome
        return "new", outcome

    def _rule_problem(self, command: Command, error: AidLedgerError) -> None:
        """A rule the decision found broken, told as the clerk wrote the row: at the column it is
        about (the amount; else the reference the message names first), with the ids the file
        gives instead of the UUIDs the ledger uses, and what is accepted."""
        message = str(error)
        names = self._clerk_names(command, message)
        lead = re.match(r"(\w+): ", message)
        if lead is not None and lead.group(1) in REFERENCE_KINDS:
            column = lead.group(1)
            message = message[lead.end() :]
        elif isinstance(error, _AMOUNT_ERRORS):
            column = "amount"
        elif type(error) in _RULE_COLUMNS:
            column = _RULE_COLUMNS[type(error)]
        else:
            named = sorted((message.find(str(uuid)), field) for uuid, (field, _) in names.items() if field)
            column = next((field for at, field in named if at >= 0), "command_id")
        for uuid, (_, written) in names.items():
            message = message.replace(str(uuid), repr(written))
        value = self.cells.get(column) if self.csv else self.record.get(column)
        if value is None and column == "command_id":
            value = command.command_id
        advice = _RULE_ADVICE.get(type(error))
        if advice and "accepted" not in message:
            message += "; accepted: " + advice
        self._problem(column, value, f"breaks a rule of the ledger: {type(error).__name__}: {message}")

    def _clerk_names(self, command: Command, message: str) -> dict[UUID, tuple[str, str]]:
        """The UUIDs ``message`` may name, each with its column and the id as the clerk writes it:
        the row's references, the object it creates, objects earlier rows create, and objects an
        earlier file (or any command) created, by the command id that created them."""
        names: dict[UUID, tuple[str, str]] = {}
        for text in _UUID.findall(message):
            creator = self.importer.creators.get(UUID(text))
            named = creator[3] if creator is not None else self.importer.created_by(UUID(text))
            if named:
                names[UUID(text)] = ("", named)
        created = self._creates(command.command_name, command.command_id)
        if created is not None and command.command_id is not None:
            names[created[0]] = ("", command.command_id)
        for field, kind in REFERENCE_KINDS.items():
            value = self.record.get(field)
            if isinstance(value, str) and value.strip():
                names[resolve_reference(kind, value)] = (field, self.written.get(field, value.strip()))
        return names

    def _conflict(self, command: Command, message: str) -> None:
        assert command.command_id is not None
        earlier = self.importer.first_lines.get(command.command_id)
        if earlier is not None:
            self._problem(
                "command_id",
                command.command_id,
                f"is also the command id of {self.importer.where(earlier)}, which is a different command; "
                "accepted: a command id used by one command only",
            )
            return
        stored = message.split("for a different ", 1)[-1].split(" command", 1)[0]
        self._problem(
            "command_id",
            command.command_id,
            f"is already in the ledger for a different {stored} command; accepted: a new "
            "command id, or exactly the stored command",
        )

    def _problem(self, column: str, value: Any, message: str) -> None:
        if self.row.confirmation:
            column = self.renamed.get(column, column or "confirmed_on")
            message = f"(the confirmation this row records) {message}"
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
            accepted = columns_of(name) | ({"confirmed_on"} if name == "disburse" else set())
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
        """In JSON Lines, read amount and date strings as a CSV cell is read (same spellings, same advice)."""
        checked = dict(record)
        for key, value in record.items():
            check = check_amount_text if key in MONEY_COLUMNS else check_date_text if key in DATE_COLUMNS else None
            if check is None or not isinstance(value, str):
                continue
            try:
                checked[key] = check(value.strip())
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
            value = self.written.get(field, value)  # a credit code as written, not the UUID it named
            creator = self.importer.creators.get(object_id)
            if creator is not None:
                line, status, created, _ = creator
                if created != kind:
                    self._problem(
                        field, value, f"names the {created} that {self.importer.where(line)} creates, not {_a(kind)}"
                    )
                elif status == "rejected":
                    self._problem(
                        field,
                        value,
                        f"names the {kind} that {self.importer.where(line)} creates, but that row is rejected",
                    )
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
                    f"(or UUID) of {_a(kind)} created in the ledger or in a row above this one"
                    + (", or the credit code of an organization there" if kind == "organization" else ""),
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
        field, _, message = locate_error(item)
        location = [] if field == "command" else field.split(".")
        column = self._column(location)
        value = self.cells.get(column) if self.csv else _dig(fields, location)
        given = item.get("input")
        if isinstance(given, str) and given.strip() == str(value).strip():
            message = message.removeprefix(f"{given!r} ")  # the value is shown beside the message
        if item["type"] == "missing":
            message = f"is required for {name}" + self._missing_hint(column)
            value = None
        elif value is None and location and " required " in message:  # required unless ...: say where it is absent
            message += self._missing_hint(column)
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
    def _creates(name: str, command_id: str | None) -> tuple[UUID, str] | None:
        """The id and kind of the object the row creates, if it creates one."""
        kind = CREATES.get(name)
        if kind is None or command_id is None:
            return None
        return resolve_reference(kind, command_id), kind


_AMOUNT_ERRORS = (
    OverDisbursement,
    ReturnExceedsDisbursement,
    PledgeBelowDisbursed,
    RegrantExceedsPool,
    CurrencyMismatch,
)
"""Rule violations about the row's amount: reported at its ``amount`` column."""

_PRESENT, _NEW, _REJECTED = 0, 1, 2
"""What became of a staged command, in the order a row's commands decide how the row counts."""
_OUTCOMES = {"present": _PRESENT, "repeat": _PRESENT, "new": _NEW, "rejected": _REJECTED}

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CREDIT_CODE = re.compile(r"[0-9A-Za-z]{18}")
_NO_ORGANIZATION = UUID(int=0)

_RULE_COLUMNS: dict[type[AidLedgerError], str] = {
    DuplicateCreditCode: "credit_code",
    EffectiveDateOutOfOrder: "effective_on",
}
"""Rule violations about one column that no reference of the row names."""

_RULE_ADVICE: dict[type[AidLedgerError], str] = {
    NotAPooledFund: "funded_from left empty, or the id of a pledge to a project whose pooled_fund is true",
    PooledFundTakesDonations: "a pledge to a pooled fund with flow donation (or empty)",
    RegrantDonorMismatch: "a regrant whose donor_id is the organization that implements the pooled fund",
    DisbursementAlreadyReversed: "a disbursement that has not been reversed (it accepts nothing more)",
    DisbursementAlreadyConfirmed: "one confirmation per disbursement (delete the repeated row)",
    DisbursementHasReturns: "a disbursement with no returns (reverse only what came back in full)",
    PledgeWithdrawn: "a pledge that has not been withdrawn",
    PledgeNotSigned: "a pledge signed first (a sign_pledge row above this one)",
    PledgeAlreadySigned: "one signature per pledge (delete the repeated row)",
    PledgeHasDisbursements: "withdrawing a pledge nothing was disbursed against (return or reverse first)",
    ProjectClosed: "a project that is not completed or cancelled",
    OrganizationDeregistered: "an organization that is not deregistered",
    EffectiveDateOutOfOrder: "a date on or after the dates of what it refers to",
    InvalidTransition: "the steps in order: register, start, complete (or cancel)",
    DuplicateCreditCode: "a credit code no other organization has",
    AlreadyExists: "a new command id for a new object",
}
"""What a clerk can do about a rule the decision found broken."""


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


@cache
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


@contextmanager
def _staging_folder() -> Iterator[str]:
    """A new staging folder in the temporary folder, named after this process, removed at the end;
    first, the folders of imports that were killed before they could remove theirs are removed."""
    folder = Path(tempfile.gettempdir())
    remove_abandoned_staging(folder)
    with tempfile.TemporaryDirectory(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=folder) as directory:
        yield directory


def remove_abandoned_staging(folder: Path) -> list[Path]:
    """Remove the staging folders in ``folder`` of imports that no longer run, and return them.

    Ctrl-C removes an import's staging folder, but a killed import (SIGKILL, a power cut) cannot:
    the next import removes it if the process named in it is gone (or, for a folder an older version
    named without a process id, if it was not changed for a day). Only this user's folders; only
    where process ids can be checked without side effects (POSIX).
    """
    if os.name != "posix":
        return []
    removed = []
    for path in folder.glob(f"{STAGING_PREFIX}*"):
        try:
            info = path.stat()
        except OSError:
            continue
        if not path.is_dir() or info.st_uid != os.getuid() or not _abandoned(path.name, info.st_mtime):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _abandoned(name: str, changed: float) -> bool:
    owner, _, rest = name.removeprefix(STAGING_PREFIX).partition("-")
    if not rest or not owner.isdigit():
        return time.time() - changed > ABANDONED_AFTER
    try:
        os.kill(int(owner), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists (another user's process may hold the id)
    return False


def _kind_of_topic(topic: str) -> str:
    """``aidledger.domain.pledge:Pledge.Made`` -> ``pledge``."""
    return topic.rsplit(":", 1)[-1].split(".")[0].lower()


def _in_file(path: Path, error: InvalidInput, lang: str) -> InvalidInput:
    problems = tuple(in_file(lang, path, problem) for problem in error.problems)
    return InvalidInput(error.field, error.value, error.accepted, problems=problems)


def _stopped_at(row: str, stored: int, error: AidLedgerError, lang: str) -> AidLedgerError:
    rule = rule_name(type(error).__name__)
    note = say(lang, "stopped_at", where=row, error=error, stored=stored, rule=rule)
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
