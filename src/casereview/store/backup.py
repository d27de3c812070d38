"""Copying a SQLite database file consistently, and checking a copy's pages.

A live database cannot be copied with `cp`: a writer may be half-way through a
transaction, and the committed part of the log may still sit in the `-wal` file beside
it. SQLite's online backup API copies one consistent snapshot, whatever other
connections are doing, and leaves the source untouched. Both directions use it: taking
a backup (live file → new file) and restoring one (checked copy → live file, which
other connections then see as one committed change).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from casereview.errors import Refused
from casereview.store import location
from casereview.store.errors import StoreError
from casereview.store.sqlite_file import BUSY_TIMEOUT_MS, sqlite_file_kind

_OPEN_MODES = {
    "write": "",
    "read": "?mode=ro",
    # A file nobody else is using (a backup): read without creating `-wal` or `-shm`
    # files beside it, so checking or restoring a backup leaves its folder as it was.
    "still": "?mode=ro&immutable=1",
}


def file_to_copy(url: str, what: str) -> Path:
    """The database file `url` names, or the refusal for a server database, which is
    backed up with the server's own tools."""
    path = location.file_of(url)
    if path is None:
        raise Refused(
            f"{what} works on a SQLite file; a PostgreSQL database is backed up and restored "
            "with the server's own tools (pg_dump and pg_restore, see docs/backup.md)"
        )
    return path


def url_of(path: Path) -> str:
    """The database URL of the copy at `path`."""
    return location.sqlite_url(path)


def is_casereview_backup(path: Path) -> bool:
    """Whether the file at `path` (not in use) is a casereview database."""
    return sqlite_file_kind(path, in_use=False) == "casereview"


def check_integrity(path: Path) -> None:
    """Refuse a copy whose pages SQLite's own check finds damaged."""
    problems = _integrity_problems(path)
    if problems:
        raise StoreError(
            f"the copy failed SQLite's integrity check ({problems[0]}); nothing was kept"
        )


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    uri = path.resolve().as_uri() + _OPEN_MODES[mode]
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    return conn


def copy_database(source: Path, target: Path, *, source_in_use: bool = True) -> None:
    """Copy the database at `source` into `target` (created, or overwritten page by
    page), as one consistent snapshot, while other processes may be writing to either.
    `source_in_use=False` says nobody writes to the source (a backup file)."""
    src = _connect(source, "read" if source_in_use else "still")
    try:
        dst = _connect(target, "write")
        try:
            src.backup(dst)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot copy {source} to {target}: {exc}") from None
        finally:
            dst.close()
    finally:
        src.close()


def _integrity_problems(path: Path) -> list[str]:
    """What SQLite's own page-by-page check finds wrong with the file (empty: none)."""
    conn = _connect(path, "read")
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        conn.close()
    # A finding may span lines under a "*** in database main ***" heading: keep each
    # line that says something, so a message built from one stays on one line.
    found = [
        line.strip()
        for row in rows
        for line in str(row[0]).splitlines()
        if line.strip() and not line.startswith("***")
    ]
    return [] if found == ["ok"] else found
