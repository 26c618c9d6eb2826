"""Hostile input around opening a ledger (issue #11, items 9, 10, 16 and 17).

Files that are not ledgers, damaged ledgers, a ledger the user may not write, databases that do not
answer, an import interrupted or killed half way, and a ledger used after it was closed: each ends
in one line ``error: <Class>: <message>`` and the exit code of docs/errors.md, never a traceback,
and nothing opened only to be read is changed.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.hostile.support import run

import aidledger
from aidledger.application import AidLedger
from aidledger.cli import main
from aidledger.errors import AidLedgerError, IntegrityFailure, InvalidInput, LedgerClosed
from aidledger.projections import Projections, fold_of, projections_of, totals
from aidledger.storage.sqlite import SQLiteStore

HERE = Path(__file__).resolve().parent / "opening"
SRC = Path(aidledger.__file__).resolve().parents[1]
"""Where the aidledger under test is: the child processes run the same code."""
EXIT_INTERRUPTED = 130

ORGANIZATION_COLUMNS = ["command", "command_id", "effective_on", "recorded_by", "name", "kind", "level", "home_region"]


def one_error_line(err: str) -> str:
    """The one line a refused command prints (and check it is one line, without a traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def fingerprint(path: Path) -> tuple[str, int]:
    """The file's content digest and modification time."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def tables(path: Path) -> list[str]:
    """The tables of an SQLite file, read without writing it."""
    with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        return sorted(row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'"))


def write_organizations(path: Path, rows: int, prefix: str = "org") -> Path:
    """A CSV file registering ``rows`` organizations."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(ORGANIZATION_COLUMNS)
        for n in range(rows):
            writer.writerow(
                ["register_organization", f"{prefix}-{n}", "2018-01-02", "clerk", f"Org {n}", "foundation",
                 "provincial", "130000"]
            )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def small_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger file holding 300 organizations (copy it before changing it)."""
    folder = tmp_path_factory.mktemp("opening")
    db = folder / "small.db"
    assert main(["--db", str(db), "import", str(write_organizations(folder / "orgs.csv", 300))]) == 0
    return db


def damaged_copy(ledger: Path, target: Path, *, first_page: bool) -> Path:
    """A copy of ``ledger`` with garbage over its first page (after the header) or over every later page."""
    data = bytearray(ledger.read_bytes())
    if first_page:
        data[100:4096] = b"\xff" * 3996
    else:
        for offset in range(8192, len(data), 4096):
            data[offset + 16 : offset + 4000] = b"\x5a" * 3984
    target.write_bytes(bytes(data))
    return target


def given_file(tmp_path: Path, name: str) -> Path:
    """A copy of one of the hostile input files, in the test's own folder."""
    copy = tmp_path / name
    shutil.copyfile(HERE / name, copy)
    return copy


# -- the table: --db files that are not ledgers, damaged ledgers, CSV line endings -------------------

Prepare = Callable[[Path, Path], list[str]]
"""Builds the argv of one entry from the test's folder and the small ledger."""


def _db(name: str, command: str) -> Prepare:
    def prepare(tmp_path: Path, ledger: Path) -> list[str]:
        db = given_file(tmp_path, name)
        if command == "import":
            return ["--db", str(db), "import", str(write_organizations(tmp_path / "one.csv", 1))]
        return ["--db", str(db), command]

    return prepare


def _damaged(command: str, *, first_page: bool) -> Prepare:
    def prepare(tmp_path: Path, ledger: Path) -> list[str]:
        db = damaged_copy(ledger, tmp_path / "damaged.db", first_page=first_page)
        if command == "import":
            return ["--db", str(db), "import", str(write_organizations(tmp_path / "more.csv", 1, "more"))]
        return ["--db", str(db), command]

    return prepare


def _import_file(name: str) -> Prepare:
    def prepare(tmp_path: Path, ledger: Path) -> list[str]:
        return ["--db", str(tmp_path / "new.db"), "import", str(given_file(tmp_path, name))]

    return prepare


def _huge_header_cell(tmp_path: Path, ledger: Path) -> list[str]:
    path = tmp_path / "huge.csv"
    path.write_text("command," + "x" * 140_000 + "\nregister_organization,x\n", encoding="utf-8")
    return ["--db", str(tmp_path / "new.db"), "import", str(path)]


TABLE: list[tuple[str, Prepare, int, tuple[str, ...]]] = [
    # (what, how to build argv, exit code, words the error line (or, on success, the output) contains)
    ("report on a text file", _db("not-sqlite.db", "report"), 2, ("InvalidInput", "not-sqlite.db", "not an SQLite")),
    ("import into a text file", _db("not-sqlite.db", "import"), 2, ("InvalidInput", "not-sqlite.db", "not an SQLite")),
    ("report on an SQLite header and nothing else", _db("sqlite-header-only.db", "report"), 5,
     ("IntegrityFailure", "sqlite-header-only.db", "cannot be read", "backup")),
    ("import into an SQLite header and nothing else", _db("sqlite-header-only.db", "import"), 5,
     ("IntegrityFailure", "sqlite-header-only.db", "cannot be read")),
    ("report on a ledger with a damaged first page", _damaged("report", first_page=True), 5,
     ("IntegrityFailure", "damaged.db", "malformed", "backup")),
    ("import into a ledger with a damaged first page", _damaged("import", first_page=True), 5,
     ("IntegrityFailure", "damaged.db", "malformed")),
    ("report on a ledger damaged after its first page", _damaged("report", first_page=False), 5,
     ("IntegrityFailure", "damaged.db", "malformed")),
    ("import into a ledger damaged after its first page", _damaged("import", first_page=False), 5,
     ("IntegrityFailure", "damaged.db", "malformed")),
    ("report on another application's SQLite file", _db("other-application.db", "report"), 2,
     ("InvalidInput", "other-application.db", "not an aidledger ledger", "customers")),
    ("verify on another application's SQLite file", _db("other-application.db", "verify"), 2,
     ("InvalidInput", "other-application.db", "not an aidledger ledger")),
    ("import into another application's SQLite file", _db("other-application.db", "import"), 2,
     ("InvalidInput", "other-application.db", "customers", "another application")),
    ("report on an empty file", _db("empty.db", "report"), 2, ("InvalidInput", "empty.db", "empty")),
    ("export from an empty file", _db("empty.db", "export"), 2, ("InvalidInput", "empty.db", "empty")),
    ("report on an SQLite database without tables", _db("no-tables.db", "report"), 2,
     ("InvalidInput", "no-tables.db", "no tables")),
    ("import into an empty file makes it a ledger", _db("empty.db", "import"), 0, ("Imported", "1 stored")),
    ("import into an SQLite database without tables", _db("no-tables.db", "import"), 0, ("Imported", "1 stored")),
    ("import a CSV with CR line endings", _import_file("cr-line-endings.csv"), 0,
     ("Imported", "2 rows read", "2 stored")),
    ("import a CSV with CRLF line endings", _import_file("crlf-line-endings.csv"), 0, ("1 rows read", "1 stored")),
    ("import a CSV whose header cell is too long", _huge_header_cell, 2,
     ("InvalidInput", "line 1", "cannot be read as CSV")),
]  # fmt: skip


@pytest.mark.parametrize(("what", "prepare", "expected", "words"), TABLE, ids=[entry[0] for entry in TABLE])
def test_each_hostile_open_ends_in_one_line_and_its_exit_code(
    what: str,
    prepare: Prepare,
    expected: int,
    words: tuple[str, ...],
    small_ledger: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every entry of the table exits with its code; a refusal prints one line naming what is wrong."""
    code, out, err = run(capsys, *prepare(tmp_path, small_ledger))
    assert code == expected, (what, out, err)
    shown = one_error_line(err) if expected else out
    for word in words:
        assert word in shown, (what, word, shown)


UNTOUCHED = [
    (name, command)
    for name in ("other-application.db", "empty.db", "no-tables.db")
    for command in ("report", "verify", "export", "import")
    if command != "import" or name == "other-application.db"  # an import makes an empty file a ledger, on purpose
]


@pytest.mark.parametrize(("name", "command"), UNTOUCHED)
def test_a_file_that_is_not_a_ledger_is_left_byte_for_byte_as_it_was(
    name: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Commands that only read never create tables or change the file (bytes, mtime, tables); import
    refuses another application's database just as unchangingly."""
    db = given_file(tmp_path, name)
    before = fingerprint(db)
    tables_before = tables(db) if db.stat().st_size else []
    argv = ["--db", str(db), command]
    if command == "import":
        argv.append(str(write_organizations(tmp_path / "one.csv", 1)))
    code, _, err = run(capsys, *argv)
    assert code == 2
    one_error_line(err)
    assert fingerprint(db) == before
    assert (tables(db) if db.stat().st_size else []) == tables_before
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


@pytest.mark.parametrize("command", [["report"], ["verify"], ["export"], ["history", "org-1"]], ids=str)
def test_commands_that_only_read_leave_a_ledger_byte_for_byte_as_it_was(
    command: list[str], small_ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a ledger whose stored projections are current, reading changes neither bytes nor mtime."""
    db = tmp_path / "ledger.db"
    shutil.copyfile(small_ledger, db)
    before = fingerprint(db)
    code, _, err = run(capsys, "--db", str(db), *command)
    assert code == 0, err
    assert fingerprint(db) == before


def test_the_library_refuses_a_file_that_is_not_a_ledger_for_reading_and_changes_nothing(tmp_path: Path) -> None:
    """``aidledger.open(path, read_only=True)`` on another application's file raises InvalidInput."""
    db = given_file(tmp_path, "other-application.db")
    before = fingerprint(db)
    with pytest.raises(InvalidInput, match="not an aidledger ledger"):
        aidledger.open(db, read_only=True)
    with pytest.raises(InvalidInput, match="another application"):
        aidledger.open(db)
    assert fingerprint(db) == before


def test_reading_a_ledger_damaged_after_its_first_page_raises_integrity_failure(
    small_ledger: Path, tmp_path: Path
) -> None:
    """The library raises IntegrityFailure (not sqlite3's or eventsourcing's error) for a damaged file."""
    db = damaged_copy(small_ledger, tmp_path / "damaged.db", first_page=False)
    with aidledger.open(db, read_only=True) as ledger:
        with pytest.raises(IntegrityFailure, match="malformed"):
            totals(ledger)
        with pytest.raises(IntegrityFailure, match="malformed"):
            list(ledger.read_log())


# -- a ledger the user may not write ----------------------------------------------------------------


@contextlib.contextmanager
def read_only_file(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable for this process: chmod for a user, the immutable flag for root."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("running as root, where chmod does not stop writes, and chattr +i is not available here")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_importing_into_a_read_only_ledger_says_so_in_one_line(
    small_ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ledger file the user may not write: import exits 2 naming the file; report still works."""
    db = tmp_path / "read-only.db"
    shutil.copyfile(small_ledger, db)
    csv_file = write_organizations(tmp_path / "more.csv", 3, "more")
    with read_only_file(db):
        code, _, err = run(capsys, "--db", str(db), "import", str(csv_file))
        line = one_error_line(err)
        assert code == 2
        for word in ("InvalidInput", str(db), "read-only"):
            assert word in line
        code, out, _ = run(capsys, "--db", str(db), "--json", "report")
        assert code == 0 and '"position": 300' in out


def test_a_store_opened_read_only_by_sqlite_itself_refuses_writes_as_invalid_input(
    small_ledger: Path, tmp_path: Path
) -> None:
    """The same translation, on a database SQLite itself opened read-only (``mode=ro``: works as root too)."""
    db = tmp_path / "ro.db"
    shutil.copyfile(small_ledger, db)
    store = SQLiteStore(f"{db.resolve().as_uri()}?mode=ro", location=str(db))
    with AidLedger(store, follower=Projections(store), recorded_by="clerk") as ledger:
        with pytest.raises(InvalidInput, match="read-only") as caught:
            ledger.register_organization(
                name="X", kind="other", level="county", home_region="130722", effective_on="2018-01-02"
            )
        assert str(db) in str(caught.value)
        assert ledger.position() == 300


# -- PostgreSQL that does not answer ----------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the socket is


def test_a_closed_postgres_port_fails_at_once_naming_host_and_database(capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing listens: one line naming host, port and database, in well under the connect timeout."""
    port = _closed_port()
    started = time.monotonic()
    code, _, err = run(capsys, "--db", f"postgresql://clerk:secret@127.0.0.1:{port}/ledger", "report")
    elapsed = time.monotonic() - started
    line = one_error_line(err)
    assert code == 2
    for word in ("InvalidInput", f"127.0.0.1:{port}", "ledger", "refused"):
        assert word in line
    assert "secret" not in line
    assert elapsed < 3


def test_a_connect_timeout_in_the_url_is_used_and_checked(capsys: pytest.CaptureFixture[str]) -> None:
    """``?connect_timeout=`` must be a whole number of seconds from 1 to 600."""
    code, _, err = run(capsys, "--db", "postgresql://clerk@127.0.0.1:1/ledger?connect_timeout=soon", "report")
    line = one_error_line(err)
    assert code == 2 and "connect_timeout" in line and "1 to 600" in line


def test_a_postgres_host_that_does_not_answer_fails_after_the_connect_timeout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An address nothing answers at (a blackhole, or no route): one line after ``connect_timeout`` s."""
    started = time.monotonic()
    code, _, err = run(capsys, "--db", "postgresql://clerk@10.255.255.1:5432/ledger?connect_timeout=1", "report")
    line = one_error_line(err)
    assert code == 2
    assert "10.255.255.1:5432" in line and "'ledger'" in line and "within 1 s" in line
    assert time.monotonic() - started < 4


def test_a_postgres_database_that_does_not_exist_is_named(
    postgres_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real server, a database that is not there: one line naming it, at once."""
    missing = postgres_database.rsplit("/", 1)[0] + "/no_such_ledger"
    started = time.monotonic()
    code, _, err = run(capsys, "--db", missing, "report")
    line = one_error_line(err)
    assert code == 2
    assert "no_such_ledger" in line and "does not exist" in line
    assert time.monotonic() - started < 5


def test_a_postgres_database_without_a_ledger_is_refused_for_reading_and_left_empty(
    postgres_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """report on an existing database holding no ledger: refused, and no table is created in it."""
    code, _, err = run(capsys, "--db", postgres_database, "report")
    line = one_error_line(err)
    assert code == 2 and "not an aidledger ledger" in line
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(postgres_database) as connection:
        count = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert count == (0,)


# -- the library after close() ----------------------------------------------------------------------

USES: list[tuple[str, Callable[[Any], object]]] = [
    ("position", lambda ledger: ledger.position()),
    ("read_log", lambda ledger: list(ledger.read_log())),
    ("kind_of", lambda ledger: ledger.kind_of(aidledger.derive_id("organization", "org-1"))),
    ("organization", lambda ledger: ledger.organization(aidledger.derive_id("organization", "org-1"))),
    ("project", lambda ledger: ledger.project(aidledger.derive_id("project", "prj-1"))),
    ("pledge", lambda ledger: ledger.pledge(aidledger.derive_id("pledge", "p-1"))),
    ("disbursement", lambda ledger: ledger.disbursement(aidledger.derive_id("disbursement", "d-1"))),
    ("register_organization", lambda ledger: ledger.register_organization(
        name="X", kind="other", level="county", home_region="130722", effective_on="2018-01-02")),
    ("session", lambda ledger: ledger.session().look_up(["org-1"])),
    ("store_batch", lambda ledger: ledger.store_batch([], [])),
    ("totals", lambda ledger: totals(ledger)),
    ("repository.get", lambda ledger: ledger.repository.get(aidledger.derive_id("organization", "org-1"))),
]  # fmt: skip


@pytest.mark.parametrize(("what", "use"), USES, ids=[use[0] for use in USES])
def test_using_a_closed_ledger_raises_ledger_closed(
    what: str, use: Callable[[Any], object], small_ledger: Path, tmp_path: Path
) -> None:
    """Every way into a closed ledger raises LedgerClosed (an AidLedgerError and a ValueError)."""
    db = tmp_path / "closed.db"
    shutil.copyfile(small_ledger, db)
    ledger = aidledger.open(db, recorded_by="clerk")
    ledger.close()
    ledger.close()  # closing twice is harmless
    with pytest.raises(LedgerClosed, match="closed") as caught:
        use(ledger)
    assert isinstance(caught.value, AidLedgerError) and isinstance(caught.value, ValueError)


FOLD_USES: list[tuple[str, Callable[[Any, Any], object]]] = [
    ("totals of the fold at an earlier position", lambda ledger, fold: totals(fold, position=10)),
    ("the projections' root_of", lambda ledger, fold: projections_of(ledger).root_of(10)),
    ("the projections' inspect", lambda ledger, fold: projections_of(ledger).inspect()),
    ("the projections' rebuild", lambda ledger, fold: projections_of(ledger).rebuild()),
    ("fold_of the closed ledger", lambda ledger, fold: fold_of(ledger)),
]


@pytest.mark.parametrize(("what", "use"), FOLD_USES, ids=[use[0] for use in FOLD_USES])
def test_a_fold_taken_before_close_reads_nothing_after_it_but_says_ledger_closed(
    what: str, use: Callable[[Any, Any], object], small_ledger: Path, tmp_path: Path
) -> None:
    """A fold (or the projections) of a closed ledger raise LedgerClosed when they need the log."""
    db = tmp_path / "closed.db"
    shutil.copyfile(small_ledger, db)
    ledger = aidledger.open(db, recorded_by="clerk")
    fold = fold_of(ledger)
    ledger.close()
    with pytest.raises(LedgerClosed, match="closed"):
        use(ledger, fold)


@pytest.mark.parametrize("db", [None, 123, 1.5, b"ledger.db"])
def test_open_with_something_that_is_not_a_location_raises_type_error_and_creates_nothing(
    db: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``aidledger.open(None)`` and the like: TypeError, and no file named after the value."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError, match="db must be"):
        aidledger.open(db)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


# -- an import interrupted or killed half way -------------------------------------------------------


def _default_ctrl_c() -> None:
    """In the child: Ctrl-C as a terminal gives it. A shell starts background jobs with SIGINT
    ignored, and Python then never raises KeyboardInterrupt; CI may run the suite that way."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(db: Path, *argv: str, tmpdir: Path) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": str(SRC), "TMPDIR": str(tmpdir), "AIDLEDGER_DB": str(db)}
    return subprocess.Popen(
        [sys.executable, "-m", "aidledger", "--db", str(db), *argv],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_ctrl_c,
    )


def _stored_events(db: Path) -> int:
    try:
        with contextlib.closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1)) as conn:
            return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])
    except sqlite3.Error:
        return 0


def _wait_until_storing(process: subprocess.Popen[str], db: Path) -> None:
    deadline = time.monotonic() + 120
    while _stored_events(db) == 0:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the import never began storing"
        time.sleep(0.02)


def _interrupt(process: subprocess.Popen[str]) -> str:
    """Press Ctrl-C (again if Python swallowed it in a place that ignores exceptions); return stderr."""
    for _ in range(5):
        process.send_signal(signal.SIGINT)
        try:
            return process.communicate(timeout=5)[1]
        except subprocess.TimeoutExpired:
            continue
    process.kill()
    raise AssertionError("the import did not stop on Ctrl-C")


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 rows: long enough to be stopped while storing in batches of 50 events."""
    return write_organizations(tmp_path_factory.mktemp("big") / "big.csv", 20_000, "big")


def test_ctrl_c_while_importing_prints_one_line_exits_130_and_leaves_a_ledger_that_verifies(
    big_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGINT half way: one line saying what was stored and how to finish, exit 130, no traceback,
    no staging files left; the ledger verifies, and running the import again completes it."""
    db = tmp_path / "interrupted.db"
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    process = _cli(db, "--json", "import", "--batch-events", "50", str(big_file), tmpdir=temporary)
    _wait_until_storing(process, db)
    err = _interrupt(process)
    assert process.returncode == EXIT_INTERRUPTED, err
    line = one_error_line(err)
    for word in ("ImportInterrupted", "big.csv", "rows were stored", "log position 0 ->", "run the same import again"):
        assert word in line, line
    assert list(temporary.iterdir()) == []
    stored = _stored_events(db)
    assert 0 < stored < 20_000
    assert run(capsys, "--db", str(db), "verify")[0] == 0
    code, out, _ = run(capsys, "--db", str(db), "import", str(big_file))
    assert code == 0 and f"{20_000 - stored} stored, {stored} already present" in out
    assert _stored_events(db) == 20_000


def test_ctrl_c_while_checking_says_nothing_was_stored(big_file: Path, tmp_path: Path) -> None:
    """SIGINT before any row is stored (a dry run only checks): exit 130, the line says nothing was stored."""
    db = tmp_path / "checking.db"
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    process = _cli(db, "--json", "import", "--dry-run", str(big_file), tmpdir=temporary)
    deadline = time.monotonic() + 60
    while not any(temporary.iterdir()):  # the staging folder appears once checking began
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.01)
    # Let checking get under way: pydantic builds each command's validator on its first row, and an
    # interrupt landing inside that build is reported by pydantic itself ("Exception ignored").
    time.sleep(0.5)
    assert process.poll() is None, process.communicate()
    err = _interrupt(process)
    assert process.returncode == EXIT_INTERRUPTED, err
    line = one_error_line(err)
    assert "interrupted while checking" in line and "nothing was stored" in line
    assert _stored_events(db) == 0
    assert list(temporary.iterdir()) == []


def test_a_killed_import_leaves_staging_files_that_the_next_import_removes(big_file: Path, tmp_path: Path) -> None:
    """SIGKILL cannot be caught: its staging folder stays, until the next import removes it (and
    leaves the staging folder of an import still running alone)."""
    db = tmp_path / "killed.db"
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    process = _cli(db, "import", "--batch-events", "50", str(big_file), tmpdir=temporary)
    _wait_until_storing(process, db)
    process.kill()
    process.communicate(timeout=60)
    left = sorted(temporary.iterdir())
    assert [path.name.startswith("aidledger-import-") for path in left] == [True]
    assert sum(file.stat().st_size for file in left[0].iterdir()) > 1_000_000
    alive = Path(tempfile.mkdtemp(prefix=f"aidledger-import-{os.getpid()}-", dir=temporary))
    second = _cli(db, "import", str(write_organizations(tmp_path / "one.csv", 1, "one")), tmpdir=temporary)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert sorted(temporary.iterdir()) == [alive]
