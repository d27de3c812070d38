"""Read-only snapshots through the database driver alone, for commands that only read.

`due`, `case show`, `timeline` and `explain` read a few rows, so on SQLite they read
through the standard library's `sqlite3` rather than SQLAlchemy, with the same file checks
and pragmas as `store.database` and a deferred `BEGIN` snapshot, always rolled back; on
PostgreSQL the snapshot is a SQLAlchemy connection from `Database.reading()`. A database
whose schema is behind is first opened through `Database.open`, which migrates it. See
docs/storage.md ("SQLite rules, and why").
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from casereview.store import location
from casereview.store.errors import StoreError, describe
from casereview.store.sqlite_file import PRAGMAS, check_sqlite_file, share_companions

if TYPE_CHECKING:
    from sqlalchemy import Connection

ROWS_AT_ONCE = 2000
"""Rows a streamed read holds in memory at a time (`each`, `dialect.stream_dicts`)."""

MIGRATION_NAMES = (
    "0001_initial",
    "0002_postgres_roles",
    "0003_due_covering_index",
    "0004_entry_hash_not_unique",
    "0005_voided_cases",
    "0006_event_signatures",
    "0007_installed_workflows",
    "0008_write_functions",
    "0009_case_overlays",
    "0010_case_links_processes",
    "0011_recommendations",
    "0015_clock_workflows",
    "0016_identity_links",
    "0017_calendar_feeds",
    "0018_clock_due_index",
)
"""Every migration's name, in order; `store.migrations` checks that it agrees."""


class NewerDatabase(StoreError):
    """The database records a migration this casereview does not know: a newer
    casereview wrote it, so this one must neither write to it nor vouch for it."""


def refuse_unknown(applied: Iterable[str], where: str) -> None:
    """Raise `NewerDatabase` if `applied` (the names in `schema_migrations`) holds one
    this casereview does not know. Checked on every open, before anything is migrated
    or written: a schema this code has never seen could hold rules it would break."""
    unknown = sorted(set(applied) - set(MIGRATION_NAMES))
    if unknown:
        raise NewerDatabase(
            f"{where} was written by a newer casereview (it records migration "
            f"{unknown[0]!r}, which this casereview does not know); use that casereview "
            "or a newer one. Nothing was changed"
        )


class Reader(Protocol):
    """One read-only snapshot of the database. Queries are plain SQL text with `:name`
    parameters, which both `sqlite3` and SQLAlchemy's `text()` accept; rows come back as
    dicts keyed by column name."""

    dialect: str
    """"sqlite" or "postgresql", for the few queries that read JSON, whose functions differ."""

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every row of the query."""
        ...

    def first(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The first row, or None."""
        ...

    def each(self, sql: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every row of the query, one at a time: a long list (every open clock of a
        national database) is never held as dicts all at once."""
        ...


class SqliteReader:
    """A `Reader` over a `sqlite3` connection inside a deferred transaction."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, where: str) -> None:
        self._conn = conn
        self._where = where

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return list(self.each(sql, params))

    def first(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def each(self, sql: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        try:
            cursor = self._conn.execute(sql, dict(params or {}))
            names = [d[0] for d in cursor.description]
            while batch := cursor.fetchmany(ROWS_AT_ONCE):
                for row in batch:
                    yield dict(zip(names, row, strict=True))
        except sqlite3.DatabaseError as exc:
            raise StoreError(describe(_first_line(exc), self._where)) from None


class AlchemyReader:
    """A `Reader` over a SQLAlchemy connection (PostgreSQL)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect.name

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        from sqlalchemy import text

        result = self._conn.execute(text(sql), dict(params or {}))
        keys = list(result.keys())
        return [dict(zip(keys, row, strict=True)) for row in result.all()]

    def first(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def each(self, sql: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        from sqlalchemy import text

        # A server-side cursor, as `dialect.stream_dicts` reads: memory stays flat.
        statement = text(sql).execution_options(stream_results=True, max_row_buffer=ROWS_AT_ONCE)
        result = self._conn.execute(statement, dict(params or {}))
        keys = list(result.keys())
        for partition in result.partitions(ROWS_AT_ONCE):
            for row in partition:
                yield dict(zip(keys, row, strict=True))


@contextmanager
def snapshot(url: str) -> Iterator[Reader]:
    """A read-only snapshot of the database at `url` (see the module docstring)."""
    path = location.file_of(url)
    if path is None:
        from casereview.store.database import Database

        db = Database.open(url)
        try:
            with db.reading() as conn:
                yield AlchemyReader(conn)
        finally:
            db.dispose()
        return
    with _sqlite_snapshot(url, path) as reader:
        yield reader


@contextmanager
def _sqlite_snapshot(url: str, path: Path) -> Iterator[SqliteReader]:
    where = str(path)
    _check_file(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None)
    except sqlite3.DatabaseError as exc:
        raise StoreError(describe(_first_line(exc), where)) from None
    try:
        try:
            for pragma in PRAGMAS:
                conn.execute(pragma)
            share_companions(path)
            if _pending(conn, where):
                from casereview.store.database import Database

                Database.open(url).dispose()
            conn.execute("BEGIN DEFERRED")
        except sqlite3.DatabaseError as exc:
            raise StoreError(describe(_first_line(exc), where)) from None
        yield SqliteReader(conn, where)
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


class SnapshotPool:
    """Read snapshots of one SQLite file for a long-running server (`snapshot`, as
    `snapshot(url)` gives a command): the file is checked once, when the pool is made;
    connections, their pragmas applied, are kept and reused by later snapshots instead
    of opened for each. Each snapshot is still a deferred `BEGIN`, always rolled back,
    that first checks the schema as a command's does (a migration a newer casereview
    recorded is refused; one missing is applied). Safe to share between threads: a
    connection serves one snapshot at a time."""

    def __init__(self, url: str) -> None:
        path = location.file_of(url)
        if path is None:
            raise ValueError(f"not a SQLite file: {url}")
        _check_file(path)
        self._url = url
        self._path = path
        self._where = str(path)
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            for pragma in PRAGMAS:
                conn.execute(pragma)
        except sqlite3.DatabaseError as exc:
            raise StoreError(describe(_first_line(exc), self._where)) from None
        share_companions(self._path)
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[Reader]:
        conn = self._take()
        reusable = False
        try:
            try:
                conn.execute("BEGIN DEFERRED")
                if _pending(conn, self._where):
                    conn.execute("ROLLBACK")
                    from casereview.store.database import Database

                    Database.open(self._url).dispose()
                    conn.execute("BEGIN DEFERRED")
            except sqlite3.DatabaseError as exc:
                raise StoreError(describe(_first_line(exc), self._where)) from None
            yield SqliteReader(conn, self._where)
        finally:
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                reusable = True
            except sqlite3.Error:
                reusable = False
            with self._lock:
                keep = reusable and not self._closed
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    def close(self) -> None:
        """Close every connection (when the server stops): the idle ones now, one in
        use when its snapshot ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _check_file(path: Path) -> None:
    """The refusals `Database.open` makes for a file that is missing or not ours."""
    try:
        check_sqlite_file(path)
    except OSError as exc:
        raise StoreError(f"could not use {path}: {exc.strerror or exc}") from None


def _pending(conn: sqlite3.Connection, where: str) -> bool:
    done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
    refuse_unknown(done, where)
    return any(name not in done for name in MIGRATION_NAMES)


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()
    return text[0] if text else type(exc).__name__
