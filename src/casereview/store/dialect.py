"""Where SQLite and PostgreSQL differ at run time: every statement, setting and driver
call that only one of the two has, side by side.

Writers' locks (`for_writing`, `lock_head`), read snapshots and sharing them with workers
(`hold_snapshot`, `export_snapshot`), streaming cursors (`stream_dicts`, `stream_tuples`,
`stream_statement`), placeholders and bulk inserts (`insert_rows`), import settings, lock
waits of workers, the append-only protection's catalogue, and whether an import writes
from a second process. The schema's own differences are DDL in `store.migrations`.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Select, event, text

from casereview.store import write_functions
from casereview.store.migrations import (
    ACTOR_SQL,
    APPEND_ONLY_TRIGGERS_POSTGRES,
    APPEND_ONLY_TRIGGERS_SQLITE,
)
from casereview.store.reading import ROWS_AT_ONCE  # a streamed read's rows at a time
from casereview.store.sqlite_file import PRAGMAS

_WRITE = "casereview_write"
"""Execution option marking a connection whose transactions write (SQLite: IMMEDIATE)."""

_ACTING_FOR = "casereview_acting_for"
"""Execution option naming the person a trusted server login acts for (PostgreSQL): every
transaction of that connection begins with `SET LOCAL ROLE` to them."""


WORKER_LOCK_TIMEOUT = "60s"
"""PostgreSQL: how long a worker process waits for a lock (see `bound_waits`)."""

SQLITE_CACHE_KIB = 65536
"""SQLite page cache for a bulk import's connection (the default is 2 MiB)."""

SQLITE_CHECKPOINT_PAGES = 20000
"""WAL pages (4 KiB each) a bulk import's connection lets accumulate before checkpointing."""

SQLITE_IMPORT_PRAGMAS: tuple[str, ...] = (
    # A batch inserts thousands of index entries at scattered places (the clocks'
    # due-date index, the cases' state index); SQLite's default 2 MiB page cache would
    # send most of those pages back to the file between batches.
    f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}",
    # Each commit of a batch leaves thousands of pages in the WAL; at the default (1,000
    # pages) every commit also copies them into the file. Checkpointing less often
    # writes a page rewritten by several batches to the file once. Durability is
    # unchanged: each batch's commit is synced as before (synchronous = FULL).
    f"PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}",
)
"""Settings of a bulk import's own connection (SQLite), applied once, before its first
transaction (some, like `synchronous`, cannot change inside one)."""


def is_postgres(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "postgresql"


# -- connections and writers -------------------------------------------------------------


def configure(engine: Engine) -> None:
    """Set up a new engine's connections. SQLite: the pragmas on every connect, and
    pysqlite's own transaction handling off, so that casereview begins every transaction
    itself: `BEGIN IMMEDIATE` for writes (Python's deferred `BEGIN` lets two writers
    read the same chain head and then fail), a deferred `BEGIN` for reads, which never
    wait for a writer under WAL."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _postgres_begin)


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


def _postgres_begin(conn: Connection) -> None:
    """A connection acting for a person (`acting_for`) switches to their role as the
    first statement of every transaction, reads and writes alike. `SET LOCAL` lasts until
    the transaction ends (commit or rollback, including the pool's rollback when a
    connection is returned), so a pooled connection never carries one person's role
    into the next person's transaction."""
    person = conn.get_execution_options().get(_ACTING_FOR)
    if person is None:
        return
    from psycopg import sql

    raw = conn.connection.dbapi_connection
    name = sql.Identifier(str(person)).as_string(raw)  # type: ignore[arg-type]
    conn.exec_driver_sql(f"SET LOCAL ROLE {name}")


def acting_for(conn: Connection, person: str) -> Connection:
    """`conn` with every later transaction begun as `person` (PostgreSQL; see
    `_postgres_begin`). On SQLite there are no roles: the option is ignored."""
    return conn.execution_options(**{_ACTING_FOR: person})


def for_writing(conn: Connection) -> Connection:
    """`conn` with its transactions marked as writes (SQLite begins them IMMEDIATE)."""
    return conn.execution_options(**{_WRITE: True})


def lock_head(conn: Connection) -> None:
    """At the start of a write transaction, serialise writers as `BEGIN IMMEDIATE` does
    on SQLite: on PostgreSQL whoever holds the head row decides the next seq; the
    others wait their turn. (Through a function: locking a row takes a write right on
    its table, which application logins do not hold.) SQLite's `BEGIN IMMEDIATE` holds
    the lock already."""
    if is_postgres(conn):
        write_functions.lock_head(conn)


def serialise_migrations(conn: Connection) -> None:
    """PostgreSQL: two processes opening a new database at once must not both migrate
    it; this lock lasts until the transaction ends (SQLite's write lock does as much)."""
    if is_postgres(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))


def session_user(conn: Connection) -> str:
    """PostgreSQL: who records through this connection, as the write functions will
    check it (`migrations.ACTOR_SQL`): the session user, or the role a trusted server
    login switched to."""
    return str(conn.execute(text(f"SELECT {ACTOR_SQL}")).scalar_one())


# -- snapshots ---------------------------------------------------------------------------


def hold_snapshot(conn: Connection, exported: str | None = None) -> None:
    """Make every later statement of this read transaction see the same snapshot: with
    `exported` (from `export_snapshot` in another process), that one.

    SQLite's read transaction does already (under WAL, from its first read on), and
    cannot share it (`exported` is then always None). PostgreSQL's default, READ
    COMMITTED, takes a new snapshot per statement, so a reader making several passes
    could see a writer's event in one pass and not in another; REPEATABLE READ holds
    the first. Must come before any other statement of the transaction.
    """
    if not is_postgres(conn):
        return
    conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    if exported is not None:
        # SET TRANSACTION SNAPSHOT takes no parameter: the id is checked instead.
        conn.execute(text(f"SET TRANSACTION SNAPSHOT '{_snapshot_id(exported)}'"))


def export_snapshot(conn: Connection) -> str | None:
    """PostgreSQL: an id other processes can read this transaction's snapshot by
    (`hold_snapshot(conn, exported=…)`). SQLite has no such call: None."""
    if not is_postgres(conn):
        return None
    return str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())


def _snapshot_id(snapshot: str) -> str:
    """A snapshot id as PostgreSQL prints them (hex digits and dashes), checked before
    it is written into a statement."""
    if not snapshot or any(c not in "0123456789ABCDEFabcdef-" for c in snapshot):
        raise ValueError("not a snapshot id")
    return snapshot


def bound_waits(conn: Connection) -> None:
    """On PostgreSQL, let a worker process's read transaction wait at most
    `WORKER_LOCK_TIMEOUT` for a lock. A worker queued behind someone's exclusive lock on
    the events table (a schema change, `VACUUM FULL`) would otherwise wait as long as
    that holder, while the coordinator, holding its own read lock, waits on the
    worker's pipe, a wait the server cannot see: with the timeout the worker fails and
    the pass reports it. SQLite's busy timeout bounds the wait already."""
    if is_postgres(conn):
        conn.execute(text(f"SET LOCAL lock_timeout = '{WORKER_LOCK_TIMEOUT}'"))


# -- streaming reads ---------------------------------------------------------------------


def stream_dicts(
    conn: Connection, sql: str, rows_at_once: int = ROWS_AT_ONCE
) -> Iterator[dict[str, Any]]:
    """Every row of one query as dicts, streamed, so a whole-table read holds only
    `rows_at_once` rows in memory.

    PostgreSQL needs `stream_results` (a server-side cursor) and explicit partition
    sizes: with `yield_per` and `partitions()` psycopg's rows piled up client-side.
    pysqlite's cursor is lazy anyway, and `yield_per` reads it fastest per row.
    """
    if is_postgres(conn):
        statement = text(sql).execution_options(stream_results=True, max_row_buffer=rows_at_once)
        result = conn.execute(statement)
        partitions = result.partitions(rows_at_once)
    else:
        result = conn.execute(text(sql).execution_options(yield_per=rows_at_once))
        partitions = result.partitions()
    keys = list(result.keys())
    for partition in partitions:
        for row in partition:
            yield dict(zip(keys, row, strict=True))


def stream_tuples(
    conn: Connection, sql: str, rows_at_once: int = ROWS_AT_ONCE
) -> Iterator[Sequence[Any]]:
    """Every row of one query as a plain tuple, streamed (for whole-log reads).

    On SQLite, straight from the driver's cursor on the connection's own transaction:
    SQLAlchemy's result rows cost more per row than the rest of reading one. On
    PostgreSQL, a server-side cursor, which keeps memory flat.
    """
    if not is_postgres(conn):
        driver = conn.connection.driver_connection
        assert driver is not None  # a checked-out connection always has one
        cursor = driver.cursor()
        try:
            cursor.execute(sql)
            while batch := cursor.fetchmany(rows_at_once):
                yield from batch
        finally:
            cursor.close()
        return
    statement = text(sql).execution_options(stream_results=True, max_row_buffer=rows_at_once)
    result = conn.execute(statement)
    for partition in result.partitions(rows_at_once):
        for row in partition:
            yield tuple(row)


def stream_statement(
    conn: Connection, statement: Select[Any], batch: int, cursor_name: str
) -> Generator[list[Any], None, None]:
    """The rows of a SQLAlchemy Core statement as the driver's own tuples, `batch` at a
    time: compiled for the connection's dialect but executed on the driver's cursor in
    the same transaction (SQLAlchemy's row objects would cost a third of reading the
    log). PostgreSQL's cursor is a named (server-side) one, `cursor_name`."""
    compiled = statement.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    args: Any = (
        tuple(params[name] for name in compiled.positiontup or ())
        if compiled.positional
        else params
    )
    driver = conn.connection.driver_connection
    assert driver is not None  # an open connection always has one
    cursor = driver.cursor(name=cursor_name) if is_postgres(conn) else driver.cursor()
    try:
        cursor.execute(compiled.string, args)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


# -- writing many rows -------------------------------------------------------------------


def insert_rows(
    conn: Connection, table: str, columns: Sequence[str], values: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT rows (tuples in `columns` order) straight through the driver's executemany,
    with the driver's own placeholders (sqlite3 `?`, psycopg `%s`).

    SQLAlchemy's `execute(text(…), [dicts])` costs several times as much per row in
    parameter handling alone; the values are the same plain str/int/bool/None either way.
    """
    if values:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        marks = ", ".join([mark] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        conn.exec_driver_sql(sql, list(values))


def pipelined_imports(conn: Connection | Engine) -> bool:
    """Whether a bulk import writes each batch from a second process while this one
    prepares the next. SQLite: yes (sealing, binding and the commit's sync overlap with
    preparing only in two processes). PostgreSQL: no (the server does that work in a
    process of its own already)."""
    return conn.dialect.name == "sqlite"


def prepare_import(conn: Connection) -> None:
    """Apply `SQLITE_IMPORT_PRAGMAS` to a bulk import's own connection (SQLite; before
    its first transaction)."""
    if conn.dialect.name != "sqlite":
        return
    # Straight to the driver: through SQLAlchemy the statement would begin a transaction.
    driver = conn.connection.driver_connection
    assert driver is not None
    for pragma in SQLITE_IMPORT_PRAGMAS:
        driver.execute(pragma)


# -- the append-only protection ----------------------------------------------------------


class Protection(NamedTuple):
    """What became of the triggers that keep events append-only: `missing` names those
    gone (or, on PostgreSQL, disabled), `altered` those still there under their name but
    defined otherwise than casereview made them (a same-named trigger that does nothing
    protects nothing), `can_be_disabled` says whether disabling counts."""

    missing: tuple[str, ...]
    can_be_disabled: bool
    altered: tuple[str, ...] = ()


def _words(sql: str) -> str:
    """SQL text with its white space collapsed: how two definitions are compared (the
    same statement laid out differently is the same trigger)."""
    return " ".join(sql.split())


# What casereview's migrations create (`store.migrations._append_only_triggers`), as
# the catalogues give it back. SQLite keeps the statement's text; PostgreSQL prints the
# trigger (`pg_get_triggerdef`: schema-qualified where the search path needs it, and
# `PROCEDURE` before version 11) and keeps the function's body.
_SQLITE_TRIGGER_SQL = {
    name: _words(
        f"CREATE TRIGGER {name} BEFORE {action} ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )
    for name, action in zip(APPEND_ONLY_TRIGGERS_SQLITE, ("UPDATE", "DELETE"), strict=True)
}
_PG_TRIGGER_DEF = {
    name: re.compile(
        rf"CREATE TRIGGER {name} BEFORE {events} ON (?:\w+\.)?events FOR EACH {each} "
        r"EXECUTE (?:FUNCTION|PROCEDURE) (?:\w+\.)?casereview_events_append_only\(\)"
    )
    for name, events, each in zip(
        APPEND_ONLY_TRIGGERS_POSTGRES,
        ("DELETE OR UPDATE", "TRUNCATE"),
        ("ROW", "STATEMENT"),
        strict=True,
    )
}
_PG_FUNCTION_BODY = "BEGIN RAISE EXCEPTION 'events are append-only'; END"


def missing_protection(conn: Connection) -> Protection:
    """Which append-only triggers on `events` are missing, and which are there but
    defined otherwise: on PostgreSQL from `pg_trigger` (enabled ones), each trigger's
    definition (`pg_get_triggerdef`) and its function's language and body; on SQLite
    from `sqlite_master` (name and statement)."""
    if is_postgres(conn):
        enabled = {
            str(r[0]): (str(r[1]), str(r[2]), _words(str(r[3] or "")))
            for r in conn.execute(
                text(
                    "SELECT t.tgname, pg_get_triggerdef(t.oid), l.lanname, p.prosrc "
                    "FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                    "JOIN pg_language l ON l.oid = p.prolang "
                    "WHERE t.tgrelid = 'events'::regclass "
                    "AND NOT t.tgisinternal AND t.tgenabled <> 'D'"
                )
            )
        }
        missing = tuple(n for n in APPEND_ONLY_TRIGGERS_POSTGRES if n not in enabled)
        altered = tuple(
            n
            for n in APPEND_ONLY_TRIGGERS_POSTGRES
            if n in enabled
            and not (
                _PG_TRIGGER_DEF[n].fullmatch(_words(enabled[n][0]))
                and enabled[n][1] == "plpgsql"
                and enabled[n][2] == _PG_FUNCTION_BODY
            )
        )
        return Protection(missing, can_be_disabled=True, altered=altered)
    found = {
        str(r[0]): _words(str(r[1] or ""))
        for r in conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
            )
        )
    }
    return Protection(
        tuple(n for n in APPEND_ONLY_TRIGGERS_SQLITE if n not in found),
        can_be_disabled=False,
        altered=tuple(
            n
            for n in APPEND_ONLY_TRIGGERS_SQLITE
            if n in found and found[n] != _SQLITE_TRIGGER_SQL[n]
        ),
    )
