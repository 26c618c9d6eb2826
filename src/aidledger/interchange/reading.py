"""Streaming readers for import files: CSV and JSON Lines, one command record per row.

The readers take a binary stream and decode each physical line as UTF-8 themselves, so a byte
that is not UTF-8 is reported at its line (and the row it belongs to) instead of stopping the
whole file, and the number of bytes read is known for a progress bar. Whole-file problems (an
empty file, a wrong delimiter, an unknown column) raise :class:`InvalidInput`; problems of one
row come back with the row as :class:`CellProblem` s. Memory stays bounded by the longest row.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

from aidledger.errors import InvalidInput
from aidledger.interchange.commands import is_note, without_notes
from aidledger.interchange.csvformat import COLUMNS, CellProblem, record_from_cells
from aidledger.interchange.vocabulary import COLUMN_NAMES, column_key

__all__ = [
    "ENCODINGS",
    "WORKBOOK_SUFFIXES",
    "FileFormat",
    "RowReader",
    "SourceRow",
    "detect_format",
    "file_error",
    "header_keys",
    "text_encoding",
]

UTF8_ADVICE = (
    "save the file as UTF-8 (in Excel: Save As > 'CSV UTF-8 (Comma delimited)'), or import it with --encoding gb18030"
)


class FileFormat(StrEnum):
    """The import formats."""

    csv = "csv"
    jsonl = "jsonl"
    xlsx = "xlsx"
    """A workbook: .xlsx, .xlsm, .xls or .ods (read by python-calamine)."""


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


def detect_format(path: Path, given: str | None = None) -> FileFormat:
    """The format named by ``given``, or by the file's extension (.csv, .jsonl, .ndjson; .xlsx,
    .xlsm, .xls, .ods are workbooks)."""
    if given is not None:
        try:
            return FileFormat(given.lower())
        except ValueError:
            raise InvalidInput("--format", given, "csv, jsonl or xlsx") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return FileFormat.csv
    if suffix in (".jsonl", ".ndjson"):
        return FileFormat.jsonl
    if suffix in WORKBOOK_SUFFIXES:
        return FileFormat.xlsx
    raise InvalidInput(
        "file",
        str(path),
        "a .csv, .jsonl, .xlsx, .xls or .ods file (or name the format with --format csv|jsonl|xlsx)",
    )


@dataclass
class SourceRow:
    """One row of an import file: where it starts, the record read from it, and its problems."""

    line: int
    record: dict[str, Any]
    problems: list[CellProblem] = field(default_factory=list)
    raw: Any = None
    """The row as written (CSV cells or the JSON line's text), for the rejects file."""
    confirmation: bool = False
    """Whether this is the confirmation a disbursement row records in its ``confirmed_on`` cell
    (a second command read from the same row)."""


class RowReader:
    """Iterate the rows of an import file; ``header`` is the CSV header (empty for JSON Lines)."""

    def __init__(self, stream: BinaryIO, file_format: FileFormat, encoding: str = "utf-8") -> None:
        self.stream = stream
        self.format = file_format
        self.encoding = text_encoding(encoding)
        self.header: list[str] = []
        self.bytes_read = 0
        self.rows_read = 0
        self._bad_lines: dict[int, bytes] = {}

    def __iter__(self) -> Iterator[SourceRow]:
        rows = self._csv_rows() if self.format is FileFormat.csv else self._jsonl_rows()
        for row in rows:
            self.rows_read += 1
            yield row
        if self.rows_read == 0:
            what = "the file has a header but no rows" if self.header else "the file has no rows"
            raise file_error(what, "at least one command row (see docs/import.md and the templates)")

    # -- lines --------------------------------------------------------------------------------

    def _lines(self) -> Iterator[tuple[int, str]]:
        """Decoded physical lines with their numbers; undecodable lines are remembered."""
        for number, raw in enumerate(self._raw_lines(), start=1):
            self.bytes_read += len(raw)
            if number == 1:
                raw = self._strip_bom(raw)
            try:
                text = raw.decode(self.encoding)
            except UnicodeDecodeError:
                if self.encoding != "utf-8":
                    raise file_error(
                        f"line {number} is not valid {self.encoding.upper()} text (hex bytes {_shown_bytes(raw)})",
                        f"a file saved in the encoding --encoding names; {_utf8_guess(raw)}or save the sheet as "
                        "'CSV UTF-8 (Comma delimited)' and import it without --encoding",
                    ) from None
                if number == 1:
                    raise file_error(
                        f"line 1 is not UTF-8 text (hex bytes {_shown_bytes(raw)}); {_encoding_guess(raw)}", UTF8_ADVICE
                    ) from None
                self._bad_lines[number] = raw
                text = raw.decode("utf-8", errors="replace")
            yield number, text

    def _raw_lines(self) -> Iterator[bytes]:
        """The stream's lines as bytes. A CSV line may end in LF, CRLF or a lone CR, as the classic
        Mac OS and "CSV (Macintosh)" exports end them; Latin-1 maps bytes to characters one to one,
        so the bytes come back unchanged."""
        if self.format is not FileFormat.csv:
            yield from self.stream
            return
        text = io.TextIOWrapper(self.stream, encoding="latin-1", newline="")
        try:
            for line in text:
                yield line.encode("latin-1")
        finally:
            with contextlib.suppress(ValueError):  # already closed by its owner
                text.detach()  # the caller owns the stream: closing the wrapper must not close it

    def _strip_bom(self, raw: bytes) -> bytes:
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise file_error("the file is UTF-16 text (as Excel's 'Unicode Text' writes)", UTF8_ADVICE)
        return raw.removeprefix(codecs.BOM_UTF8) if self.encoding == "utf-8" else raw

    def _encoding_problem(self, first: int, last: int, cells: list[str]) -> CellProblem | None:
        bad = [number for number in range(first, last + 1) if number in self._bad_lines]
        if not bad:
            return None
        raw = b"".join(self._bad_lines.pop(number) for number in bad)
        index = next((i for i, text in enumerate(cells) if "\ufffd" in text), None)
        if index is None or self.format is not FileFormat.csv:
            return CellProblem(
                "", _shown_bytes(raw), f"(hex bytes) is not UTF-8 text; {_encoding_guess(raw)}{UTF8_ADVICE}"
            )
        # Latin-1 maps bytes to characters one to one: parse the raw bytes to find the cell's own.
        raw_cells = next(csv.reader([raw.decode("latin-1")]), [])
        cell = raw_cells[index].encode("latin-1") if index < len(raw_cells) else raw
        column = self.header[index] if index < len(self.header) else ""
        return CellProblem(
            column, _shown_bytes(cell), f"(hex bytes) is not UTF-8 text; {_encoding_guess(cell)}{UTF8_ADVICE}"
        )

    # -- CSV ----------------------------------------------------------------------------------

    def _csv_rows(self) -> Iterator[SourceRow]:
        reader = csv.reader((text for _, text in self._lines()), strict=False)
        self.header = self._read_header(reader)
        last = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                first, last = last + 1, reader.line_num
                for number in range(first, last + 1):
                    self._bad_lines.pop(number, None)
                yield SourceRow(first, {}, [CellProblem("", "", f"cannot be read as CSV: {error}")], [])
                continue
            first, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                self._bad_lines.pop(first, None)
                continue  # blank lines and rows of empty cells, as spreadsheets leave at the end
            yield self._csv_row(first, last, cells)

    def _read_header(self, reader: Any) -> list[str]:
        try:
            header = [cell.strip() for cell in next(reader)]
        except StopIteration:
            raise file_error(
                "the file is empty",
                "a header line naming the columns (command,command_id,...), then one row per command",
            ) from None
        except csv.Error as error:
            raise file_error(
                f"line 1 cannot be read as CSV ({error})",
                "a header line naming the columns (command,command_id,...), then one row per command",
            ) from None
        if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
            delimiter = "semicolons" if ";" in header[0] else "tabs"
            raise file_error(
                f"line 1 separates its columns with {delimiter}: {header[0][:80]!r}",
                "comma-separated columns (save the sheet as 'CSV UTF-8 (Comma delimited)', or set the list "
                "separator to ',')",
            )
        keys = header_keys(header)
        if "command" not in keys:
            raise file_error(
                f"line 1 has no 'command' column: {','.join(header)[:200]!r}",
                "a 'command' (命令) column naming each row's command",
            )
        return keys

    def _csv_row(self, first: int, last: int, cells: list[str]) -> SourceRow:
        named = {column: cell for column, cell in zip(self.header, cells, strict=False) if column}
        problems: list[CellProblem] = []
        encoding = self._encoding_problem(first, last, cells)
        if encoding is not None:
            return SourceRow(first, {}, [encoding], cells)
        if len(cells) != len(self.header):
            problems.append(
                CellProblem(
                    "",
                    f"{len(cells)} cells",
                    f"the header has {len(self.header)} columns; every row needs exactly that many cells "
                    "(a cell that contains a comma must be in double quotes)",
                )
            )
            return SourceRow(first, {}, problems, cells)
        unnamed = [cell for column, cell in zip(self.header, cells, strict=True) if not column and cell.strip()]
        if unnamed:
            problems.append(CellProblem("", unnamed[0], "is in a column with no name; name the column or empty it"))
        record, cell_problems = record_from_cells({c: v for c, v in named.items() if not is_note(c)})
        return SourceRow(first, record, problems + cell_problems, cells)

    # -- JSON Lines ---------------------------------------------------------------------------

    def _jsonl_rows(self) -> Iterator[SourceRow]:
        seen_any = False
        for number, text in self._lines():
            if not text.strip():
                continue
            seen_any = True
            encoding = self._encoding_problem(number, number, [])
            if encoding is not None:
                yield SourceRow(number, {}, [encoding], text.strip())
                continue
            decoder = _StrictJson()
            try:
                record = decoder.loads(text)
            except json.JSONDecodeError as error:
                problem = CellProblem("", text.strip()[:80], f"is not JSON ({error.msg}); accepted: one JSON object")
                yield SourceRow(number, {}, [problem], text.strip())
                continue
            if not isinstance(record, dict):
                yield SourceRow(number, {}, [CellProblem("", record, "is not a JSON object")], text.strip())
                continue
            fields = without_notes(record)
            if fields or not record:
                yield SourceRow(number, fields, decoder.problems, text.strip())
        if not seen_any:
            raise file_error("the file is empty", "one JSON object per line, one command per object")


JSON_NUMBER_ACCEPTED = 'a number written out in digits, e.g. 1234 or 1234.50 (or the string "1234.50"), as in CSV'


class _NumberText(str):
    """A JSON number kept as the text it was written in, because reading it would change it."""

    __slots__ = ()


class _StrictJson:
    """Decode one JSON object without silently changing what was written, listing what was not
    accepted as problems of the row's fields.

    ``json.loads`` keeps the last of two equal keys; here the second is a problem. A number with a
    fraction is read as its exact ``Decimal``, as the same digits are in CSV; a number with an
    exponent (``1e3``) and the non-standard ``NaN`` and ``Infinity`` are kept as their text and
    refused, as CSV refuses ``1e3``: exponents are how floats are written, and an amount is never a
    float.
    """

    def __init__(self) -> None:
        self.problems: list[CellProblem] = []

    def loads(self, text: str) -> Any:
        """The decoded value; raises :class:`json.JSONDecodeError` for text that is not JSON."""
        return json.loads(text, parse_float=self._number, parse_constant=_NumberText, object_pairs_hook=self._object)

    @staticmethod
    def _number(text: str) -> Decimal | _NumberText:
        return _NumberText(text) if "e" in text.lower() else Decimal(text)

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value in pairs:
            if isinstance(value, _NumberText):
                self.problems.append(CellProblem(key, str(value), _number_problem(value)))
            if key in found:
                message = (
                    f"comes from a key given twice in one JSON object (first value {_shown(found[key])}); "
                    "accepted: each key once"
                )
                self.problems.append(CellProblem(key, _shown_value(value), message))
                continue
            found[key] = value
        return found


def _number_problem(text: str) -> str:
    if "e" in text.lower() and text[-1:].isdigit():
        return f"is a JSON number with an exponent (how floats are written); accepted: {JSON_NUMBER_ACCEPTED}"
    return f"is not a JSON number (JSON has no NaN or Infinity); accepted: {JSON_NUMBER_ACCEPTED}"


def _shown(value: Any) -> str:
    return repr(_shown_value(value))


def _shown_value(value: Any) -> Any:
    return str(value) if isinstance(value, (Decimal, int, _NumberText)) and not isinstance(value, bool) else value


def header_keys(header: list[str], where: str = "line 1") -> list[str]:
    """The column keys a header row names (English or Chinese, see :mod:`vocabulary`), checked:
    unknown columns, a column named twice (also once in English and once in Chinese) and a missing
    ``command`` column refuse the file, naming the headers as written."""
    keys = [column_key(cell) if cell else "" for cell in header]
    unknown = [cell for cell, key in zip(header, keys, strict=True) if cell and key is None]
    _check_unknown(unknown, where)
    named = [key for key in keys if key and not is_note(key)]
    duplicates = sorted({key for key in named if named.count(key) > 1})
    if duplicates:
        pairs = list(zip(header, keys, strict=True))
        written = [
            f"{duplicate} ({' and '.join(repr(cell) for cell, key in pairs if key == duplicate)})"
            for duplicate in duplicates
        ]
        raise file_error(
            f"{where} names these columns twice: {', '.join(written)}",
            "each column named once (in English or in Chinese, not both)",
        )
    return [key or "" for key in keys]


def _check_unknown(unknown: list[str], where: str) -> None:
    if unknown:
        problems = tuple(
            f"{where}, column {column!r}: unknown column{_suggestion(column)}; accepted: the columns of "
            "docs/import.md, in English or Chinese (columns starting with # are notes and are ignored)"
            for column in unknown
        )
        raise InvalidInput("header", ", ".join(unknown), "known column names", problems=problems)


def file_error(what: str, accepted: str) -> InvalidInput:
    """A problem of the whole file: nothing in it can be imported."""
    return InvalidInput("file", what, accepted, problems=(f"{what}; accepted: {accepted}",))


def _suggestion(column: str) -> str:
    close = difflib.get_close_matches(column.lower(), COLUMNS, n=1) or difflib.get_close_matches(
        column, list(COLUMN_NAMES.values()), n=1
    )
    return f" (did you mean {close[0]!r}?)" if close else ""


ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "gb18030": "gb18030",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "cp936": "gb18030",
}
"""The encodings a CSV or JSON Lines file may be read in (``--encoding``): UTF-8, and GB 18030,
which contains GBK and GB 2312 (Excel on Chinese Windows saves CSV as GBK). Their bytes for line
ends and commas are never part of another character, so a file is split into lines and cells safely."""


def text_encoding(name: str) -> str:
    """The codec an ``--encoding`` name reads with, or :class:`InvalidInput`."""
    codec = ENCODINGS.get(name.strip().lower().replace("_", "-"))
    if codec is None:
        raise InvalidInput("--encoding", name, "utf-8 (the default) or gb18030 (also named gbk, gb2312, cp936)")
    return codec


def _utf8_guess(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return ""
    return f"it reads as UTF-8 text ({text[:40]!r}): import it without --encoding; "


def _encoding_guess(raw: bytes) -> str:
    try:
        text = raw.decode("gb18030").strip()
    except UnicodeDecodeError:
        return ""
    return f"it reads as GBK/GB18030 text ({text[:40]!r}), as Excel saves CSV on Chinese Windows; "


def _shown_bytes(raw: bytes) -> str:
    """Bytes as hex, e.g. ``d5 c5 b1 b1``."""
    return raw.strip()[:40].hex(" ")
