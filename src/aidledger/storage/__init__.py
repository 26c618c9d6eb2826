"""Storage: every table and SQL statement of a ledger, for SQLite and PostgreSQL.

A store implements :class:`aidledger.application.ports.Store`. Only ``aidledger.open()`` creates
one (with :func:`open_store`) and hands it to the application; the layers above never import this
package, and nothing above it writes SQL.
"""

from __future__ import annotations

import importlib
import uuid
from pathlib import Path

from aidledger.application.ports import Store
from aidledger.errors import InvalidInput
from aidledger.storage.sqlite import SQLiteStore, admit_file

__all__ = ["open_store"]

ACCEPTED = "an SQLite file path, ':memory:' or a postgresql:// URL"


def open_store(db: str | Path, *, read_only: bool = False, create: bool = True) -> Store:
    """The store at ``db``: an SQLite file path (created when missing), ``":memory:"`` (a private
    in-memory database), or a ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME[?schema=NAME]`` URL.

    A file or database that is not an aidledger ledger is refused without writing anything to it,
    unless ``create`` (and not ``read_only``) lets an empty one become a ledger; another
    application's SQLite database is always refused.
    """
    if not isinstance(db, str | Path):
        raise TypeError(f"db must be {ACCEPTED}, not {type(db).__name__}")
    create = create and not read_only
    location = str(db).strip()
    if not location:
        raise InvalidInput("db", db, ACCEPTED)
    if location.startswith(("postgres://", "postgresql://")):
        # Loaded only for a PostgreSQL ledger: psycopg is an optional extra, and loading it would cost
        # every command on an embedded ledger a sixth of a second.
        try:
            postgres = importlib.import_module("aidledger.storage.postgres")
        except ImportError:
            accepted = "an SQLite file: install aidledger[postgres] for PostgreSQL"
            raise InvalidInput("db", location.split("@")[-1], accepted) from None
        store: Store = postgres.PostgresStore(location, read_only=read_only, create=create)
        return store
    if location == ":memory:":
        name = f"file:aidledger-{uuid.uuid4().hex}?mode=memory&cache=shared"
        return SQLiteStore(name, location=name, read_only=read_only)
    if location.startswith("file:") and "mode=memory" in location:  # reopening a shared in-memory ledger
        return SQLiteStore(location, location=location, read_only=read_only)
    path = Path(location).expanduser()
    if path.is_dir():
        raise InvalidInput("db", location, "a file path, not a directory")
    if not path.parent.exists():
        raise InvalidInput("db", location, f"a path whose folder exists ({path.parent} does not)")
    if read_only and not path.is_file():
        raise InvalidInput("db", location, "an existing SQLite ledger file")
    admit_file(path, location=str(path), create=create)
    return SQLiteStore(str(path), location=str(path), read_only=read_only)
