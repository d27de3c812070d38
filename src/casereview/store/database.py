"""Opening a database, migrating it, and the transactions every other store module
works in: a unit of work (one write transaction, rolled back unless committed) and a
read snapshot.

Every write transaction holds the writers' lock from its first statement (`BEGIN
IMMEDIATE` on SQLite, the chain head row on PostgreSQL: `store.dialect`), so two writers
never read the same head of the chain. Reads never wait for a writer.

A server acting for many people (`Database.shared`, `Database.acting`) shares one pool
of connections; on PostgreSQL each transaction of a person's view begins with `SET
LOCAL ROLE` to that person (docs/deployment.md, "The web interface on a shared
installation").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, RowMapping, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool, QueuePool

from casereview.errors import NotFound, Step
from casereview.store import dialect, location
from casereview.store.errors import StoreError, describe
from casereview.store.migrations import MIGRATIONS
from casereview.store.reading import refuse_unknown
from casereview.store.sqlite_file import (
    BUSY_TIMEOUT_MS,
    check_sqlite_file,
    create_file,
    make_directory,
    share_companions,
    share_with,
)

__all__ = ["BUSY_TIMEOUT_MS", "Connection", "Database", "Row", "StoreError", "UnitOfWork"]

Row = RowMapping
"""A row as the store's readers give it: a read-only mapping of column name to value.
Services name it and `Connection` (what a unit of work or a read snapshot gives, to
hand on to the store) in signatures."""


class UnitOfWork:
    """One write transaction. It rolls back unless `commit()` was called."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.committed = False

    def commit(self) -> None:
        self.committed = True


class Database:
    """A casereview database, migrated to the current schema."""

    def __init__(self, url: str, *, pool_size: int | None = None) -> None:
        self.url = url
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        self.path: Path | None = None
        if self.backend == "sqlite":
            self.path = Path(parsed.database) if parsed.database else None
        self.acting_for: str | None = None  # see `acting`
        self._owns_engine = True
        self._schema = _SchemaCheck()
        if pool_size is not None and self.backend == "postgresql":
            # A long-running server: one pool for everyone (`shared`).
            self.engine: Engine = create_engine(
                url, pool_size=pool_size, max_overflow=0, pool_pre_ping=True
            )
        elif pool_size is not None and self.path is not None:
            # A long-running server on a file: connections kept, their pragmas applied
            # once; casereview still begins and ends every transaction itself
            # (`dialect.configure`), so a connection goes back to the pool with none
            # open. Not bounded: the server's worker threads bound it.
            self.engine = create_engine(
                url,
                poolclass=QueuePool,
                pool_size=pool_size,
                max_overflow=-1,
                connect_args={"check_same_thread": False},
            )
        else:
            # One connection per unit of work keeps the SQLite pragmas obviously applied
            # and lets the file be removed or copied between commands in tests.
            self.engine = create_engine(url, poolclass=NullPool)
        dialect.configure(self.engine)
        if self.path is not None:
            from sqlalchemy import event

            path = self.path
            # After the pragmas (listeners run in order): SQLite has made the -wal and
            # -shm files by then; a shared database's must carry its group.
            event.listen(self.engine, "connect", lambda *_: share_companions(path))

    @classmethod
    def open(
        cls,
        url: str,
        *,
        create: bool = False,
        group: int | None = None,
        pool_size: int | None = None,
    ) -> Database:
        """Open (or with `create`, create) the database and apply pending migrations.

        A new SQLite file is created 0600, or 0660 for group id `group`; with `group`,
        an existing file is given to that group (`sqlite_file`). With `pool_size`, a
        long-running server's: its connections are kept and reused."""
        db = cls(url, pool_size=pool_size)
        if db.path is not None:
            if create:
                if not db.path.parent.exists():
                    make_directory(db.path.parent, group)
                if not db.path.exists() and not db.path.is_symlink():
                    create_file(db.path, group)
            # Look before connecting: a connection switches the file to WAL, which would
            # turn an empty or foreign file into something it was not.
            check_sqlite_file(db.path, create=create)
            if group is not None:
                share_with(db.path, group)
        elif db.is_postgres and not create and not db._has_schema():
            raise NotFound(
                "the PostgreSQL database has no casereview schema; run '{init}' to create it",
                init=Step("init"),
            )
        db.migrate()
        return db

    @classmethod
    def shared(cls, url: str, *, pool_size: int = 10) -> Database:
        """The database of a server that acts for many people (`acting`), with one pool
        of `pool_size` connections on PostgreSQL.

        A PostgreSQL server login is never migrated through: it holds no right of its
        own (docs/deployment.md), so the schema is checked, once, in the first
        transaction of a person's view, as that person; the owner migrates with
        `casereview init`. A SQLite file is opened (and migrated) as by any command,
        its connections kept (`pool_size` of them, more while the server needs them):
        the server's operating-system account is the one that uses it."""
        if not location.is_server(url):
            return cls.open(url, pool_size=pool_size)
        return cls(url, pool_size=pool_size)

    def view(self) -> Database:
        """A view of this database that shares its engine (its `dispose()` leaves the
        connections open) and acts as the login itself, as this database does: for a
        server's requests in the server's own name."""
        import copy

        view = copy.copy(self)
        view._owns_engine = False
        return view

    def acting(self, person: str) -> Database:
        """A view of this database that shares its connections and acts for `person`:
        on PostgreSQL every transaction it begins (reads and writes) switches to the
        role of that name first (`dialect.acting_for`), so the database records that
        person and refuses what they may not do, provided the login is a trusted server
        login (a direct member of casereview_server, and of the person's role). On
        SQLite it changes nothing: the file cannot tell people apart."""
        import copy

        view = copy.copy(self)
        view.acting_for = person
        view._owns_engine = False
        return view

    @classmethod
    def acting_alone(cls, url: str, person: str) -> Database:
        """A database of its own (not shared: `dispose()` closes it) acting for
        `person`, as `shared(url).acting(person)` would: for a worker process of a
        server's request."""
        view = cls.shared(url, pool_size=1).acting(person)
        view._owns_engine = True
        return view

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        acting = self.acting_for is not None and self.is_postgres
        if acting and not self._schema.done:
            # In a transaction of its own: a reader's first statement must be free to
            # choose its snapshot (`hold_snapshot`).
            with self.engine.connect() as conn:
                conn = dialect.acting_for(conn, str(self.acting_for))
                with conn.begin():
                    self._check_schema(conn)
        with self.engine.connect() as conn:
            if acting:
                conn = dialect.acting_for(conn, str(self.acting_for))
            yield conn

    def _check_schema(self, conn: Connection) -> None:
        """A person's view of a shared PostgreSQL database, before its first use:
        refuse a schema this casereview does not know, or one behind it."""
        done = {row[0] for row in conn.execute(text("SELECT name FROM schema_migrations"))}
        refuse_unknown(done, self._where())
        behind = [m.name for m in MIGRATIONS if m.name not in done]
        if behind:
            raise StoreError(
                "the PostgreSQL database lacks migration {name}: its owner runs '{init}' "
                "to apply it. Nothing was changed",
                name=behind[0],
                init=Step("init"),
            )
        self._schema.done = True

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
        return self.backend == "postgresql"

    def session_user(self) -> str:
        """The database login of this connection (PostgreSQL's recorded actor)."""
        with self.reading() as conn:
            return dialect.session_user(conn)

    def pending_migrations(self) -> list[str]:
        """Names of migrations not yet applied (read-only: needs no DDL rights).

        Raises `NewerDatabase` if the database records a migration this casereview does
        not know (`store.reading.refuse_unknown`), before anything is written."""
        from sqlalchemy import inspect

        with self.engine.connect() as conn:
            if not inspect(conn).has_table("schema_migrations"):
                return [m.name for m in MIGRATIONS]
            done = {row[0] for row in conn.execute(text("SELECT name FROM schema_migrations"))}
        refuse_unknown(done, self._where())
        return [m.name for m in MIGRATIONS if m.name not in done]

    def _where(self) -> str:
        return str(self.path) if self.path is not None else "the PostgreSQL database"

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
                conn = dialect.for_writing(conn)
                with conn.begin():
                    dialect.serialise_migrations(conn)
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
            with self._connect() as conn:
                conn = dialect.for_writing(conn)
                trans = conn.begin()
                dialect.lock_head(conn)
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
            with self._connect() as conn, conn.begin() as trans:
                yield conn
                trans.rollback()
        except (OperationalError, ProgrammingError, DatabaseError) as exc:
            raise StoreError(_describe(exc, self)) from None

    @contextmanager
    def connection(self, *, write: bool = False) -> Iterator[Connection]:
        """A connection of the caller's own for several transactions, each begun with
        `conn.begin()` (with `write`, as a unit of work's are: see `store.dialect`), its
        errors reported as the store reports them. For work that keeps a connection
        across transactions, such as a bulk import."""
        try:
            with self._connect() as conn:
                yield dialect.for_writing(conn) if write else conn
        except (OperationalError, ProgrammingError, DatabaseError) as exc:
            raise StoreError(_describe(exc, self)) from None

    def dispose(self) -> None:
        """Close the connections; a person's view (`acting`) leaves the shared pool open."""
        if self._owns_engine:
            self.engine.dispose()


class _SchemaCheck:
    """Whether a shared database's schema was checked (one holder for all its views)."""

    done = False


def hold_snapshot(conn: Connection, shared: str | None = None) -> None:
    """Make every later statement of this read transaction see one snapshot: with
    `shared`, the one `share_snapshot` gave another transaction. For a reader making
    several passes, or several processes sharing one; must come first in the
    transaction (how each database does it: `dialect.hold_snapshot`)."""
    dialect.hold_snapshot(conn, shared)


def share_snapshot(conn: Connection) -> str | None:
    """An id by which another process's `hold_snapshot` reads this transaction's
    snapshot, where the database can share one; None where it cannot (SQLite)."""
    return dialect.export_snapshot(conn)


def bound_waits(conn: Connection) -> None:
    """For a worker process's read transaction: a wait for a lock ends in an error after
    a while rather than lasting as long as the holder (`dialect.bound_waits`)."""
    dialect.bound_waits(conn)


def _utc_now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _describe(exc: DBAPIError, db: Database) -> str:
    detail = str(exc.orig).splitlines()[0] if exc.orig is not None else "unknown error"
    return describe(detail, str(db.path) if db.path is not None else "the database server")
