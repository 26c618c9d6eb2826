"""Tests of the throwaway PostgreSQL server used by the integration tests."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from tests.support import fixtures as pg_fixtures
from tests.support import postgres_server as postgres_server_module
from tests.support.fixtures import REQUIRE_ENV, start_or_skip
from tests.support.postgres_server import (
    BINDIR_ENV,
    PostgresBinaries,
    PostgresServer,
    PostgresUnavailable,
    find_binaries,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

# The shared fixtures, made visible here (harmless when a conftest imports them too:
# the server itself is shared through ``config.stash``).
postgres_server = pg_fixtures.postgres_server
postgres_database = pg_fixtures.postgres_database


def _accepts_connections(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# -- against the shared server ------------------------------------------------


@pytest.mark.postgres
def test_roundtrip_and_second_database(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.url) as conn:
        conn.execute("CREATE TABLE grants (id serial PRIMARY KEY, payee text, cents bigint)")
        conn.execute(
            "INSERT INTO grants (payee, cents) VALUES (%s, %s), (%s, %s)",
            ("Ana", 1250, "Bo", 99),
        )
        rows = conn.execute("SELECT payee, cents FROM grants ORDER BY id").fetchall()
    assert rows == [("Ana", 1250), ("Bo", 99)]

    url = postgres_server.create_database("second_db")
    assert url == postgres_server.url_for("second_db")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("second_db",)
        assert conn.execute("SELECT to_regclass('grants')").fetchone() == (None,)


@pytest.mark.postgres
def test_server_settings(postgres_server: PostgresServer) -> None:
    port = postgres_server.port
    assert postgres_server.url == f"postgresql://postgres@127.0.0.1:{port}/postgres"
    with psycopg.connect(postgres_server.url) as conn:
        settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('listen_addresses', 'fsync', 'unix_socket_directories', 'TimeZone')"
            ).fetchall()
        )
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
    assert settings["listen_addresses"] == "127.0.0.1"
    assert settings["fsync"] == "off"
    assert settings["TimeZone"] == "UTC"
    assert postgres_server.root is not None
    assert settings["unix_socket_directories"] == str(postgres_server.root / "sock")
    if os.geteuid() == 0:
        assert postgres_server.os_user != "root"
        assert postgres_server.data_dir is not None
        assert postgres_server.data_dir.stat().st_uid != 0


@pytest.mark.postgres
def test_create_database_without_psycopg(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError
    url = postgres_server.create_database('via cli "quoted"')
    monkeypatch.undo()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ('via cli "quoted"',)


@pytest.mark.postgres
def test_create_database_rejects_bad_names(postgres_server: PostgresServer) -> None:
    for name in ("", "x" * 64, "nul\0byte"):
        with pytest.raises(ValueError, match="invalid database name"):
            postgres_server.create_database(name)


@pytest.mark.postgres
def test_postgres_database_fixture(postgres_database: str) -> None:
    with psycopg.connect(postgres_database) as conn:
        (name,) = conn.execute("SELECT current_database()").fetchone() or ("",)
    assert name.startswith("t_test_postgres_database_fixture_")


# -- own servers ------------------------------------------------------------------


@pytest.mark.postgres
def test_start_and_stop_are_fast_and_clean() -> None:
    server = PostgresServer()
    began = time.monotonic()
    with start_or_skip(server):
        started = time.monotonic()
        port, root = server.port, server.root
        assert root is not None
        assert (root / "data" / "PG_VERSION").is_file()
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        stopping = time.monotonic()
    stopped = time.monotonic()
    assert not server.running
    assert not root.exists()
    assert not _accepts_connections(port)
    assert started - began < 20, f"start took {started - began:.1f}s"
    assert stopped - stopping < 10, f"stop took {stopped - stopping:.1f}s"
    server.stop()  # idempotent


@pytest.mark.postgres
def test_failed_start_reports_server_log(postgres_server: PostgresServer) -> None:
    # Depends on the shared server only to skip/fail like it when there is no server.
    server = PostgresServer(postgres_server.binaries, settings={"shared_buffers": "lots"})
    with pytest.raises(PostgresUnavailable, match="failed to start") as info:
        server.start()
    message = str(info.value)
    # The reason comes from the tail of the server log.
    assert 'invalid value for parameter "shared_buffers"' in message
    assert not server.running
    log = re.search(r"server log \((.+)/server\.log\)", message)
    assert log is not None, message
    assert not Path(log.group(1)).exists()  # the temporary directory was removed


@pytest.mark.postgres
def test_port_clash_is_retried(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken, postgres_server_module._free_port()])
        monkeypatch.setattr(postgres_server_module, "_free_port", lambda: next(ports))
        with PostgresServer(postgres_server.binaries) as server:
            assert server.port != taken
            with psycopg.connect(server.url) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            assert "could not bind" in server.log_tail()


# -- binary discovery (no server needed) ------------------------------------------


def _fake_bin_dir(directory: Path) -> Path:
    directory.mkdir(parents=True)
    for tool in ("initdb", "pg_ctl", "postgres"):
        (directory / tool).write_text("#!/bin/sh\necho 'fake tool broke' >&2\nexit 3\n")
        (directory / tool).chmod(0o755)
    return directory


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    """A directory the server's unprivileged account can enter (unlike tmp_path)."""
    directory = Path(tempfile.mkdtemp(prefix="aidledger-test-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_find_binaries_prefers_path_then_highest_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BINDIR_ENV, raising=False)
    lib_root = tmp_path / "lib"
    for version in ("9.6", "15", "16", "devel"):
        _fake_bin_dir(lib_root / version / "bin")
    assert find_binaries(path="", lib_root=lib_root).bin_dir == lib_root / "16" / "bin"
    on_path = _fake_bin_dir(tmp_path / "onpath")
    assert find_binaries(path=str(on_path), lib_root=lib_root).bin_dir == on_path


def test_find_binaries_reports_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BINDIR_ENV, raising=False)
    with pytest.raises(PostgresUnavailable, match="no PostgreSQL server binaries"):
        find_binaries(path=str(tmp_path), lib_root=tmp_path)
    monkeypatch.setenv(BINDIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(PostgresUnavailable, match=BINDIR_ENV):
        find_binaries()


def test_broken_initdb_is_reported(world_readable_dir: Path) -> None:
    server = PostgresServer(PostgresBinaries(_fake_bin_dir(world_readable_dir / "bin")))
    with pytest.raises(PostgresUnavailable, match=r"initdb failed \(exit 3\)") as info:
        server.start()
    assert "fake tool broke" in str(info.value)
    assert not server.running


# -- the fixture's skip / fail policy, in a nested pytest run -------------------


@pytest.mark.parametrize("required", [False, True], ids=["optional", "required"])
def test_fixture_skips_or_fails_without_binaries(tmp_path: Path, required: bool) -> None:
    (tmp_path / "conftest.py").write_text("from tests.support.fixtures import postgres_server  # noqa: F401\n")
    (tmp_path / "test_needs_pg.py").write_text("def test_needs_pg(postgres_server):\n    raise AssertionError('ran')\n")
    env = {k: v for k, v in os.environ.items() if k not in (REQUIRE_ENV, BINDIR_ENV)}
    env[BINDIR_ENV] = str(tmp_path / "no-such-dir")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    if required:
        env[REQUIRE_ENV] = "1"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rsE",
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert "no PostgreSQL server binaries" in output, output
    if required:
        assert result.returncode == 1, output
        assert "1 error" in output, output
        assert "PostgreSQL is required" in output, output
    else:
        assert result.returncode == 0, output
        assert "1 skipped" in output, output
        assert "PostgreSQL unavailable" in output, output
