"""Opening a database and running units of work against it.

SQLite connections get the pragmas DESIGN.md requires (WAL, synchronous=FULL,
foreign_keys=ON, busy_timeout) on every connect. pysqlite's own transaction handling is
switched off so that casereview issues `BEGIN IMMEDIATE` itself for every write: Python's
default deferred `BEGIN` lets two writers read the same head of the chain and then fail
(or, in autocommit mode, silently interleave). Reads use a deferred `BEGIN`, so they
never wait for a writer under WAL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

from casereview.errors import NotFound
from casereview.store.errors import StoreError, describe
from casereview.store.migrations import MIGRATIONS
from casereview.store.sqlite_file import BUSY_TIMEOUT_MS, PRAGMAS, check_sqlite_file

__all__ = ["BUSY_TIMEOUT_MS", "Database", "StoreError", "UnitOfWork"]
_WRITE = "casereview_write"


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        for pragma in PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


class UnitOfWork:
    """One write transaction. It rolls back unless `commit()` was called."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.committed = False

    def commit(self) -> None:
        self.committed = True


class Database:
    """A casereview database, migrated to the current schema."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        self.path: Path | None = None
        if self.dialect == "sqlite":
            self.path = Path(parsed.database) if parsed.database else None
            # One connection per unit of work keeps the pragmas obviously applied and
            # lets the file be removed or copied between commands in tests.
            self.engine: Engine = create_engine(url, poolclass=NullPool)
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = create_engine(url, poolclass=NullPool)

    @classmethod
    def open(cls, url: str, *, create: bool = False) -> Database:
        """Open (or with `create`, create) the database and apply pending migrations."""
        db = cls(url)
        if db.path is not None:
            if create:
                db.path.parent.mkdir(parents=True, exist_ok=True)
            # Look before connecting: a connection switches the file to WAL, which would
            # turn an empty or foreign file into something it was not.
            check_sqlite_file(db.path, create=create)
        elif db.is_postgres and not create and not db._has_schema():
            raise NotFound(
                "the PostgreSQL database has no casereview schema; "
                "run 'casereview init' to create it"
            )
        db.migrate()
        return db

    def _has_schema(self) -> bool:
        """True if the database has been initialised (an empty file has not)."""
        from sqlalchemy import inspect

        try:
            with self.engine.connect() as conn:
                return inspect(conn).has_table("schema_migrations")
        except DBAPIError as exc:
            raise StoreError(_describe(exc, self)) from None

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def session_user(self) -> str:
        """The database login of this connection (PostgreSQL's recorded actor)."""
        with self.reading() as conn:
            return str(conn.execute(text("SELECT session_user")).scalar_one())

    def pending_migrations(self) -> list[str]:
        """Names of migrations not yet applied (read-only: needs no DDL rights)."""
        from sqlalchemy import inspect

        with self.engine.connect() as conn:
            if not inspect(conn).has_table("schema_migrations"):
                return [m.name for m in MIGRATIONS]
            done = {row[0] for row in conn.execute(text("SELECT name FROM schema_migrations"))}
        return [m.name for m in MIGRATIONS if m.name not in done]

    def migrate(self) -> list[str]:
        """Apply every migration not yet recorded; returns the names applied.

        People's everyday accounts may lack the right to change the schema (on
        PostgreSQL they should), so nothing is attempted when nothing is pending.
        """
        applied: list[str] = []
        try:
            if not self.pending_migrations():
                return applied
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    if self.is_postgres:
                        # Two processes opening a new database at once must not both
                        # migrate it; this lock lasts until the transaction ends.
                        conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))
                    conn.execute(
                        text(
                            "CREATE TABLE IF NOT EXISTS schema_migrations "
                            "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
                        )
                    )
                    done = {
                        row[0] for row in conn.execute(text("SELECT name FROM schema_migrations"))
                    }
                    for migration in MIGRATIONS:
                        if migration.name in done:
                            continue
                        migration.apply(conn)
                        conn.execute(
                            text(
                                "INSERT INTO schema_migrations (name, applied_at) "
                                "VALUES (:name, :at)"
                            ),
                            {"name": migration.name, "at": _utc_now()},
                        )
                        applied.append(migration.name)
        except (OperationalError, ProgrammingError, DatabaseError) as exc:
            raise StoreError(_describe(exc, self)) from None
        return applied

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """A write transaction (`BEGIN IMMEDIATE` on SQLite); rolled back unless committed."""
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{_WRITE: True})
                trans = conn.begin()
                if self.is_postgres:
                    # Serialise writers as BEGIN IMMEDIATE does on SQLite: whoever holds
                    # the head row decides the next seq; the others wait their turn.
                    conn.execute(text("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE"))
                uow = UnitOfWork(conn)
                try:
                    yield uow
                except BaseException:
                    trans.rollback()
                    raise
                if uow.committed:
                    trans.commit()
                else:
                    trans.rollback()
        except (OperationalError, ProgrammingError, DatabaseError) as exc:
            raise StoreError(_describe(exc, self)) from None

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only snapshot (a deferred transaction, always rolled back)."""
        try:
            with self.engine.connect() as conn, conn.begin() as trans:
                yield conn
                trans.rollback()
        except (OperationalError, ProgrammingError, DatabaseError) as exc:
            raise StoreError(_describe(exc, self)) from None

    def dispose(self) -> None:
        self.engine.dispose()


def _utc_now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _describe(exc: DBAPIError, db: Database) -> str:
    detail = str(exc.orig).splitlines()[0] if exc.orig is not None else "unknown error"
    return describe(detail, str(db.path) if db.path is not None else "the database server")
