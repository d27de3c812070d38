"""What an existing SQLite file is, found without changing it, and the pragmas every
connection to one gets (the storage rules in docs/storage.md), for both connection
paths."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from casereview.errors import InvalidInput, NotFound, Step
from casereview.store.errors import StoreError

BUSY_TIMEOUT_MS = 10_000

PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
)


def sqlite_file_kind(path: Path, *, in_use: bool = True) -> str:
    """What an existing file is: empty, foreign (not SQLite), other-app, or casereview.

    Looks before anything connects for real: a connection switches the file to WAL,
    which would turn an empty or foreign file into something it was not. A file not
    `in_use` (a backup) is read as immutable, so no `-wal` or `-shm` file appears
    beside it.
    """
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except IsADirectoryError:
        raise InvalidInput(
            "{path} is a directory, not a database file; give the file's path", path=path
        ) from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if not header:
        return "empty"
    if header != b"SQLite format 3\x00":
        return "foreign"
    try:
        mode = "ro" if in_use else "ro&immutable=1"
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True)
        try:
            names = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return "foreign"
    if "schema_migrations" in names:
        return "casereview"
    return "other-app" if names else "empty"


def check_sqlite_file(path: Path, *, create: bool = False) -> None:
    """Refuse a file casereview must not open: missing (unless creating), not SQLite,
    another application's, or empty (unless creating). Both connection paths call it."""
    if path.is_dir():
        raise InvalidInput(
            "{path} is a directory, not a database file; give the file's path", path=path
        )
    if not path.exists():
        if create:
            return
        raise NotFound(
            "no casereview database at {path}; run '{init}' to create one",
            path=path,
            init=Step("init"),
        )
    kind = sqlite_file_kind(path)
    if kind == "foreign":
        raise StoreError(f"{path} is not a casereview database (it is not an SQLite file)")
    if kind == "other-app" and create:
        raise StoreError(
            f"{path} already holds another application's data; choose a new file for casereview"
        )
    if kind in ("empty", "other-app") and not create:
        raise NotFound(
            "{path} is not a casereview database (it has no casereview schema); "
            "run '{init}' to create one",
            path=path,
            init=Step("init"),
        )
