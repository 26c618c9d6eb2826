"""Start a real, throwaway PostgreSQL server for tests.

``PostgresServer`` runs ``initdb`` into a fresh temporary directory, starts the
server with ``pg_ctl -w`` on a free TCP port of 127.0.0.1 (trust
authentication, ``fsync`` off), and on exit stops it with
``pg_ctl stop -m immediate`` and deletes the directory::

    with PostgresServer() as server:
        url = server.create_database("ledger")
        # url == "postgresql://postgres@127.0.0.1:PORT/ledger"

PostgreSQL refuses to run as root.  When the tests run as root, ``initdb``,
``pg_ctl`` and the server run as the unprivileged account ``nobody`` (or the
account named by ``AIDLEDGER_PG_OS_USER``); the temporary directory is handed
to that account.  The switch of user is done by :mod:`subprocess` itself
(``user=``/``group=``/``extra_groups=``), so neither ``runuser``, ``su`` nor
``setpriv`` is needed and no PAM session is opened.  The database superuser is
always ``postgres``, whatever the operating-system account.

Binaries are looked up in ``AIDLEDGER_PG_BINDIR`` when that is set (and only
there), otherwise on ``PATH`` first, then in ``/usr/lib/postgresql/*/bin``
(highest version first).  Whenever the server cannot be provided,
:class:`PostgresUnavailable` is raised with the reason (and the tail of the
server log when the server itself failed).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Self
from urllib.parse import quote

__all__ = [
    "BINDIR_ENV",
    "OS_USER_ENV",
    "PostgresBinaries",
    "PostgresServer",
    "PostgresUnavailable",
    "find_binaries",
]

BINDIR_ENV: Final = "AIDLEDGER_PG_BINDIR"
"""Environment variable naming the one directory to take the server binaries from."""

OS_USER_ENV: Final = "AIDLEDGER_PG_OS_USER"
"""Environment variable naming the account the server runs as when we are root."""

DEFAULT_LIB_ROOT: Final = Path("/usr/lib/postgresql")
DEFAULT_OS_USER: Final = "nobody"
HOST: Final = "127.0.0.1"

_REQUIRED_TOOLS: Final = ("initdb", "pg_ctl", "postgres")
_INITDB_TIMEOUT: Final = 120.0
_START_TIMEOUT: Final = 60
_STOP_TIMEOUT: Final = 15
_CLIENT_TIMEOUT: Final = 30.0
_PORT_ATTEMPTS: Final = 3
_LOG_TAIL_LINES: Final = 40
# sun_path holds 108 bytes; the server appends "/.s.PGSQL.<port>" (+ ".lock").
_MAX_SOCKET_DIR_LEN: Final = 107 - len("/.s.PGSQL.65535.lock")
_PORT_IN_USE = re.compile(
    r"could not bind|address already in use|could not create any TCP/IP sockets",
    re.IGNORECASE,
)

SettingValue = str | int | float | bool
"""A value of a ``postgresql.conf`` setting."""


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be provided; ``str(exc)`` says why."""


@dataclass(frozen=True)
class PostgresBinaries:
    """A directory holding ``initdb``, ``pg_ctl`` and ``postgres``."""

    bin_dir: Path

    @property
    def initdb(self) -> Path:
        """Path of ``initdb``."""
        return self.bin_dir / "initdb"

    @property
    def pg_ctl(self) -> Path:
        """Path of ``pg_ctl``."""
        return self.bin_dir / "pg_ctl"

    def tool(self, name: str) -> str | None:
        """Path of client tool ``name`` (``createdb``…): in bin_dir, else on PATH."""
        candidate = self.bin_dir / name
        if _is_executable(candidate):
            return str(candidate)
        return shutil.which(name)


@dataclass(frozen=True)
class _Account:
    """The operating-system account the server processes run as."""

    name: str
    uid: int
    gid: int


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _has_server_tools(directory: Path) -> bool:
    return all(_is_executable(directory / tool) for tool in _REQUIRED_TOOLS)


def _version_key(directory: Path) -> tuple[int, ...]:
    """Sort key of ``/usr/lib/postgresql/<version>/bin``; non-numeric ones sort last."""
    try:
        return tuple(int(part) for part in directory.parent.name.split("."))
    except ValueError:
        return (-1,)


def find_binaries(path: str | None = None, lib_root: Path = DEFAULT_LIB_ROOT) -> PostgresBinaries:
    """Locate a directory with ``initdb``, ``pg_ctl`` and ``postgres``.

    ``AIDLEDGER_PG_BINDIR``, when set, is the only place looked at.  Otherwise
    ``path`` (default: ``$PATH``) is searched first, then ``lib_root/*/bin``
    from the highest version down.

    Raises:
        PostgresUnavailable: when no such directory exists.
    """
    override = os.environ.get(BINDIR_ENV, "")
    candidates: list[Path] = []
    if override:
        candidates.append(Path(override))
        searched = f"{BINDIR_ENV}={override}"
    else:
        for tool in _REQUIRED_TOOLS[:2]:
            found = shutil.which(tool, path=path)
            if found is not None:
                # Follow symlinks: /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin
                candidates += [Path(found).resolve().parent, Path(found).parent]
        candidates += sorted(lib_root.glob("*/bin"), key=_version_key, reverse=True)
        searched = f"PATH and {lib_root}/*/bin"
    for directory in candidates:
        if _has_server_tools(directory):
            return PostgresBinaries(directory)
    raise PostgresUnavailable(
        f"no PostgreSQL server binaries ({', '.join(_REQUIRED_TOOLS)}) "
        f"found in {searched}; "
        "install them with .ci/install-postgres (Debian: apt-get install postgresql)"
    )


def _service_account() -> _Account:
    """The unprivileged account to run the server as when the tests run as root."""
    name = os.environ.get(OS_USER_ENV, "") or DEFAULT_OS_USER
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root and account {name!r} does not exist; "
            f"set {OS_USER_ENV} to an existing unprivileged account"
        ) from None
    if entry.pw_uid == 0:
        raise PostgresUnavailable(f"account {name!r} is root; PostgreSQL refuses to run as root")
    return _Account(name=name, uid=entry.pw_uid, gid=entry.pw_gid)


def _traversable_by_others(directory: Path) -> bool:
    """Whether every directory from ``/`` down to ``directory`` has the ``o+x`` bit."""
    try:
        return all(os.stat(part).st_mode & stat.S_IXOTH for part in (directory, *directory.parents))
    except OSError:
        return False


def _temp_base(account: _Account | None) -> str | None:
    """Where to create the server's directory (``None``: :mod:`tempfile`'s default)."""
    if account is None:
        return None
    default = Path(tempfile.gettempdir()).resolve()
    if _traversable_by_others(default):
        return None
    if _traversable_by_others(Path("/tmp")):
        return "/tmp"
    raise PostgresUnavailable(
        f"no temporary directory reachable by account {account.name!r} ({default} and /tmp are not world-searchable)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _child_env(home: Path | None) -> dict[str, str]:
    """The environment for server and client tools: no ``PG*`` variables, C locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C", LANG="C", PGCONNECT_TIMEOUT="10")
    if home is not None:
        env["HOME"] = str(home)
    return env


def _run(
    argv: Sequence[str | Path],
    *,
    account: _Account | None,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (as ``account``), capturing its output; never raises on exit status.

    The switch of user is done by :mod:`subprocess` between fork and exec
    (setgroups/setgid/setuid), so no ``runuser``/``su``/``setpriv`` is needed.
    """
    args = [str(arg) for arg in argv]
    if account is None:
        return subprocess.run(
            args,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    return subprocess.run(
        args,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        user=account.uid,
        group=account.gid,
        extra_groups=[],
    )


def _tail(text: str, lines: int = _LOG_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _read_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        return _tail(path.read_text(errors="replace"), lines)
    except OSError:
        return ""


def _conf_value(value: SettingValue) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return str(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _looks_like_postgres(pid: int) -> bool:
    try:
        return b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _teardown(
    owner_pid: int,
    root: Path,
    pg_ctl: Path,
    account: _Account | None,
    env: Mapping[str, str],
) -> None:
    """Stop the server living in ``root`` (if any) and delete ``root``; never raises.

    Does nothing in a forked child, which must not stop its parent's server.
    """
    if os.getpid() != owner_pid:
        return
    data_dir = root / "data"
    pid_file = data_dir / "postmaster.pid"
    if pid_file.exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            _run(
                [pg_ctl, "stop", f"--pgdata={data_dir}", "--mode=immediate", "--wait", f"--timeout={_STOP_TIMEOUT}"],
                account=account,
                cwd=root,
                env=env,
                timeout=_STOP_TIMEOUT + 5,
            )
        # pg_ctl failed or timed out: kill the postmaster we started, by its pid.
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().splitlines()[0])
            if _looks_like_postgres(pid):
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + 5
                while _looks_like_postgres(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
    shutil.rmtree(root, ignore_errors=True)


class PostgresServer:
    """A throwaway PostgreSQL server in a temporary directory (context manager).

    Args:
        binaries: where the server binaries are; default :func:`find_binaries`.
        user: name of the database superuser created by ``initdb``.
        settings: extra ``postgresql.conf`` settings (they override the defaults).
    """

    def __init__(
        self,
        binaries: PostgresBinaries | None = None,
        *,
        user: str = "postgres",
        settings: Mapping[str, SettingValue] | None = None,
    ) -> None:
        self._binaries = binaries
        self.user: Final = user
        self._settings: dict[str, SettingValue] = dict(settings or {})
        self._port: int | None = None
        self._root: Path | None = None
        self._account: _Account | None = None
        self._finalizer: Callable[[], object] | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> Self:
        """Create the cluster and start the server; return ``self``.

        Raises:
            PostgresUnavailable: no binaries, or ``initdb``/start failed.
        """
        if self.running:
            return self
        binaries = self._binaries or find_binaries()
        self._binaries = binaries
        account = _service_account() if os.geteuid() == 0 else None
        root = Path(tempfile.mkdtemp(prefix="aidledger-pg-", dir=_temp_base(account)))
        env = _child_env(home=root if account is not None else None)
        # Registered at once, so the directory (and a half-started server) is
        # cleaned up on any failure below, on stop(), or at interpreter exit.
        finalizer = weakref.finalize(self, _teardown, os.getpid(), root, binaries.pg_ctl, account, env)
        try:
            if account is not None:
                os.chown(root, account.uid, account.gid)
            self._init_cluster(binaries, root, account, env)
            self._port = self._start_server(binaries, root, account, env)
        except BaseException:
            finalizer()
            self._port = None
            raise
        self._root = root
        self._account = account
        self._finalizer = finalizer
        return self

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m immediate``) and delete its directory.

        Idempotent; never raises.
        """
        if self._finalizer is not None:
            self._finalizer()
        self._finalizer = None
        self._root = None
        self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _init_cluster(
        self,
        binaries: PostgresBinaries,
        root: Path,
        account: _Account | None,
        env: Mapping[str, str],
    ) -> None:
        data_dir = root / "data"
        try:
            result = _run(
                [
                    binaries.initdb,
                    f"--pgdata={data_dir}",
                    f"--username={self.user}",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                account=account,
                cwd=root,
                env=env,
                timeout=_INITDB_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise PostgresUnavailable(f"initdb did not finish within {_INITDB_TIMEOUT:.0f}s") from None
        except OSError as exc:
            raise PostgresUnavailable(f"cannot run {binaries.initdb}: {exc}") from exc
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"initdb failed (exit {result.returncode}):\n" + _tail(result.stdout + "\n" + result.stderr)
            )
        socket_dir = root / "sock"
        if len(str(socket_dir)) <= _MAX_SOCKET_DIR_LEN:
            socket_dir.mkdir(mode=0o700)
            if account is not None:
                os.chown(socket_dir, account.uid, account.gid)
            sockets = str(socket_dir)
        else:  # too long for a unix socket path: TCP only
            sockets = ""
        settings: dict[str, SettingValue] = {
            "listen_addresses": HOST,
            "unix_socket_directories": sockets,
            "fsync": False,
            "synchronous_commit": False,
            "full_page_writes": False,
            "timezone": "UTC",
            "logging_collector": False,
        }
        settings.update(self._settings)
        lines = [f"{key} = {_conf_value(value)}" for key, value in settings.items()]
        # Appending keeps the file's owner (the account the server runs as).
        with (data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# aidledger test server\n" + "\n".join(lines) + "\n")

    def _start_server(
        self,
        binaries: PostgresBinaries,
        root: Path,
        account: _Account | None,
        env: Mapping[str, str],
    ) -> int:
        """Start the server on a free port (retried on a clash); return the port."""
        log = root / "server.log"
        for _attempt in range(_PORT_ATTEMPTS):
            port = _free_port()
            log_size = log.stat().st_size if log.exists() else 0
            try:
                result = _run(
                    [
                        *(binaries.pg_ctl, "start", "--wait", f"--timeout={_START_TIMEOUT}"),
                        *(f"--pgdata={root / 'data'}", f"--log={log}", f"--options=-p {port}"),
                    ],
                    account=account,
                    cwd=root,
                    env=env,
                    timeout=_START_TIMEOUT + 10,
                )
            except subprocess.TimeoutExpired:
                raise PostgresUnavailable(
                    f"pg_ctl start did not return within {_START_TIMEOUT + 10}s; server log:\n" + _read_tail(log)
                ) from None
            if result.returncode == 0:
                return port
            with contextlib.suppress(OSError):
                new_log = log.read_bytes()[log_size:].decode(errors="replace")
                if _PORT_IN_USE.search(new_log):
                    continue
            raise PostgresUnavailable(
                f"PostgreSQL failed to start (pg_ctl exit {result.returncode}): "
                f"{_tail(result.stderr + result.stdout, 5)}\nserver log ({log}):\n" + _read_tail(log)
            )
        raise PostgresUnavailable(
            f"PostgreSQL could not bind a free port after {_PORT_ATTEMPTS} attempts; server log:\n{_read_tail(log)}"
        )

    # -- state -------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether :meth:`start` succeeded and :meth:`stop` was not called yet."""
        return self._port is not None

    def _require_port(self) -> int:
        if self._port is None:
            raise RuntimeError("PostgresServer is not running; call start() or use 'with'")
        return self._port

    @property
    def host(self) -> str:
        """The address the server listens on (always ``127.0.0.1``)."""
        return HOST

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return self._require_port()

    @property
    def url(self) -> str:
        """URL of the ``postgres`` database.

        For example ``postgresql://postgres@127.0.0.1:5433/postgres``.
        """
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        """URL of ``database`` on this server (the database need not exist)."""
        return f"postgresql://{quote(self.user, safe='')}@{HOST}:{self._require_port()}/{quote(database, safe='')}"

    @property
    def binaries(self) -> PostgresBinaries | None:
        """The binaries used (known once :meth:`start` was called)."""
        return self._binaries

    @property
    def root(self) -> Path | None:
        """The temporary directory (data, socket dir, log) while running."""
        return self._root

    @property
    def data_dir(self) -> Path | None:
        """The cluster's data directory while running."""
        return None if self._root is None else self._root / "data"

    @property
    def log_path(self) -> Path | None:
        """The server log while running."""
        return None if self._root is None else self._root / "server.log"

    @property
    def os_user(self) -> str:
        """The operating-system account the server processes run as."""
        if self._account is not None:
            return self._account.name
        return pwd.getpwuid(os.geteuid()).pw_name

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of the server log ("" when not running)."""
        return "" if self.log_path is None else _read_tail(self.log_path, lines)

    # -- databases ---------------------------------------------------------

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its URL.

        Uses psycopg when importable, else the ``createdb`` (or ``psql``) binary.

        Raises:
            ValueError: ``name`` is empty, has a NUL, or exceeds 63 bytes.
            RuntimeError: the server is not running or refused the statement.
        """
        if not name or "\0" in name or len(name.encode()) > 63:
            raise ValueError(f"invalid database name {name!r}")
        port = self._require_port()
        try:
            import psycopg
            from psycopg import sql
        except ImportError:
            self._create_database_cli(name, port)
        else:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def _create_database_cli(self, name: str, port: int) -> None:
        binaries = self._binaries
        assert binaries is not None  # set by start()
        common = ["-h", HOST, "-p", str(port), "-U", self.user]
        createdb = binaries.tool("createdb")
        psql = binaries.tool("psql")
        if createdb is not None:
            argv = [createdb, *common, "--", name]
        elif psql is not None:
            quoted = '"' + name.replace('"', '""') + '"'
            argv = [
                psql,
                *common,
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                "postgres",
                "-c",
                f"CREATE DATABASE {quoted}",
            ]
        else:
            raise RuntimeError("cannot create a database: neither psycopg nor createdb/psql found")
        result = _run(
            argv,
            account=None,
            cwd=self._root or Path("/"),
            env=_child_env(None),
            timeout=_CLIENT_TIMEOUT,
        )
        if result.returncode != 0:
            raise RuntimeError(f"creating database {name!r} failed: " + (result.stderr or result.stdout).strip())
