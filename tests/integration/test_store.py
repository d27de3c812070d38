"""The SQLite store: pragmas, migrations, append-only events, the chain head."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from casereview.domain import chain
from casereview.errors import NotFound
from casereview.store import event_log
from casereview.store import tables as schema
from casereview.store.database import Database, StoreError
from casereview.store.migrations import MIGRATIONS
from tests.conftest import write_events_directly


@pytest.fixture
def db(database_url):
    database = Database.open(database_url, create=True)
    yield database
    database.dispose()


def _actor(db: Database) -> str:
    """Who may append here: on PostgreSQL the database records its login and refuses an
    event naming anyone else; on SQLite any account."""
    return db.session_user() if db.is_postgres else "root"


def _record(trigger: str = "user_add", actor: str = "root") -> dict:
    """The recorder adding themselves as admin (the bootstrap a log starts with), or
    with `user_change`, changing their own entry: events the PostgreSQL write
    functions accept from that recorder."""
    return {
        "kind": "admin",
        "case_ref": None,
        "trigger": trigger,
        "from_state": None,
        "to_state": None,
        "occurred_on": "2026-01-05",
        "recorded_at": "2026-01-05T10:00:00.000000Z",
        "actor": actor,
        "on_behalf_of": None,
        "role": "admin",
        "rationale": None,
        "fields": {"username": actor, "display_name": actor, "roles": ["admin"], "agency": None},
        "workflow_id": None,
        "workflow_version": None,
        "definition_hash": None,
    }


@pytest.mark.sqlite_only
def test_every_connection_has_the_required_pragmas(db):
    with db.reading() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


@pytest.mark.sqlite_only
def test_opening_a_missing_file_without_create_is_not_found(tmp_path):
    with pytest.raises(NotFound, match="run 'init'"):
        Database.open(f"sqlite:///{tmp_path / 'absent.db'}")
    assert not (tmp_path / "absent.db").exists()


def test_migrations_are_recorded_and_run_once(db):
    with db.reading() as conn:
        names = [r[0] for r in conn.execute(text("SELECT name FROM schema_migrations"))]
    assert names == [m.name for m in MIGRATIONS]
    assert db.migrate() == []


def test_sqlmodel_tables_match_the_migrated_schema(db):
    from sqlalchemy import inspect

    with db.reading() as conn:
        inspector = inspect(conn)
        for table in schema.SQLModel.metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name


def test_events_cannot_be_updated_or_deleted(db):
    with db.unit_of_work() as uow:
        event_log.append_event(uow.conn, _record(actor=_actor(db)), None, None)
        uow.commit()
    statements = ["UPDATE events SET actor = 'mallory'", "DELETE FROM events"]
    if db.is_postgres:
        statements.append("TRUNCATE events CASCADE")
    for statement in statements:
        with (
            pytest.raises((IntegrityError, OperationalError, DatabaseError, StoreError)),
            db.unit_of_work() as uow,
        ):
            uow.conn.execute(text(statement))
            uow.commit()
    with db.reading() as conn:
        assert conn.execute(text("SELECT actor FROM events")).scalar_one() == _actor(db)


def test_append_assigns_gap_free_seq_and_moves_the_head(db):
    with db.unit_of_work() as uow:
        first = event_log.append_event(uow.conn, _record(actor=_actor(db)), None, None)
        second = event_log.append_event(uow.conn, _record("user_change", _actor(db)), None, None)
        uow.commit()
    assert (first.seq, second.seq) == (1, 2)
    with db.reading() as conn:
        assert event_log.chain_head(conn) == (2, second.entry_hash)
        rows = list(event_log.iter_events(conn, batch=1))
    findings, count, _ = chain.verify_chain(rows, (2, second.entry_hash))
    assert findings == [] and count == 2
    assert rows[1]["prev_hash"] == first.entry_hash


def test_uncommitted_unit_of_work_rolls_back(db):
    with db.unit_of_work() as uow:
        event_log.append_event(uow.conn, _record(actor=_actor(db)), None, None)
        # no commit
    with pytest.raises(RuntimeError), db.unit_of_work() as uow:
        event_log.append_event(uow.conn, _record(actor=_actor(db)), None, None)
        raise RuntimeError("boom")
    with db.reading() as conn:
        assert event_log.count_events(conn) == 0
        assert event_log.chain_head(conn) == (0, chain.GENESIS_HASH)


@pytest.mark.sqlite_only
def test_writes_take_the_lock_at_begin(db):
    """A second writer cannot start while the first holds BEGIN IMMEDIATE."""
    assert db.path is not None
    with db.unit_of_work() as uow:
        event_log.append_event(uow.conn, _record(), None, None)
        other = sqlite3.connect(db.path, timeout=0.05, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        # …while a reader still sees the last committed state.
        assert other.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
        other.close()
        uow.commit()


def test_the_driver_only_reader_knows_every_migration():
    from casereview.store import reading

    assert tuple(m.name for m in MIGRATIONS) == reading.MIGRATION_NAMES


@pytest.mark.sqlite_only
def test_a_populated_database_from_before_0003_is_upgraded_by_a_read(tmp_path, monkeypatch):
    """A database at 0002 with cases in it: the first `due` migrates it and answers the
    same as before, now from the covering index. (It also has 0005's and 0009's columns
    and 0007's table, which the code that seeds it writes, and is seeded with 0006's
    columns, since the seed signs; they are then dropped, since the 0004 rebuild would
    not keep them.)"""
    import datetime as dt

    from casereview.infra.now import FixedClock
    from casereview.services import demo, due
    from casereview.services.context import ServiceContext
    from casereview.store import migrations

    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    old = (*migrations.MIGRATIONS[:2], *migrations.MIGRATIONS[4:])
    monkeypatch.setattr(migrations, "MIGRATIONS", old)
    monkeypatch.setattr("casereview.store.database.MIGRATIONS", migrations.MIGRATIONS)
    monkeypatch.setattr("casereview.store.reading.MIGRATION_NAMES", tuple(m.name for m in old))
    demo.seed(url, "bu", dt.date(2026, 11, 23))
    old_ctx = ServiceContext(url=url, account="bu", clock=FixedClock(dt.date(2026, 11, 23)))
    before = due.due_list(old_ctx)
    old_ctx.close()
    monkeypatch.undo()
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE events DROP COLUMN signature")
        conn.execute("ALTER TABLE events DROP COLUMN key_id")
        conn.execute("DELETE FROM schema_migrations WHERE name = '0006_event_signatures'")

    def indexes() -> set[str]:
        with sqlite3.connect(path) as conn:
            return {
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'case_clocks' AND name LIKE 'ix_%'"
                )
            }

    # (0015's and 0018's indexes are there already: only 0003 was left out.)
    later = {"ix_case_clocks_workflow_due", "ix_case_clocks_clock_due"}
    assert indexes() == {"ix_case_clocks_open_due", *later}
    fresh = ServiceContext(url=url, account="bu", clock=FixedClock(dt.date(2026, 11, 23)))
    try:
        after = due.due_list(fresh)
    finally:
        fresh.close()
    assert after == before
    assert len(after.items) == 12
    assert indexes() == {"ix_case_clocks_due", *later}
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert names == [m.name for m in MIGRATIONS]


def _entry_hash_indexes(url: str) -> list[str]:
    """Names of indexes covering events.entry_hash, read from the catalogue itself."""
    from tests.conftest import run_sql

    if url.startswith("sqlite"):
        names = [r[0] for r in run_sql(url, "SELECT name FROM pragma_index_list('events')")]
        return [
            name
            for name in names
            if any(
                col[2] == "entry_hash"
                for col in run_sql(url, f"SELECT * FROM pragma_index_info('{name}')")
            )
        ]
    return [
        r[0]
        for r in run_sql(
            url,
            "SELECT indexname FROM pg_indexes WHERE tablename = 'events' "
            "AND indexdef LIKE '%entry_hash%'",
        )
    ]


def _write_as_before_0008(monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: write as casereview did before the write functions of 0008 existed
    (plain statements), for a test that builds a database at an older migration."""
    write_events_directly(monkeypatch)


def test_a_populated_log_from_before_0004_keeps_every_byte_and_loses_the_hash_index(
    database_url, monkeypatch
):
    """0004 rebuilds the SQLite event table (drops the PostgreSQL constraint): the rows
    are the same, the chain verifies, the log is still append-only and takes new events."""
    from casereview.store import migrations
    from tests.conftest import run_sql

    monkeypatch.setattr("casereview.store.database.MIGRATIONS", MIGRATIONS[:3])
    _write_as_before_0008(monkeypatch)
    old = Database.open(database_url, create=True)
    actor = _actor(old)
    with old.unit_of_work() as uow:
        for trigger in ("user_add", "user_change", "user_change"):
            event_log.append_event(uow.conn, _record(trigger, actor), None, None)
        if old.is_postgres:
            # Before 0008 the store kept the users projection itself, after appending.
            uow.conn.execute(
                text(
                    "INSERT INTO users (username, display_name, roles, agency, active, "
                    "created_seq) VALUES (:u, :u, '[\"admin\"]', NULL, true, 1)"
                ),
                {"u": actor},
            )
        uow.commit()
    old.dispose()
    monkeypatch.undo()
    assert len(_entry_hash_indexes(database_url)) == 1
    # The columns 0004 knew (later migrations add more).
    old_columns = f"SELECT {migrations._EVENT_COLUMNS} FROM events ORDER BY seq"
    before = run_sql(database_url, old_columns)

    upgraded = Database.open(database_url)
    try:
        assert _entry_hash_indexes(database_url) == []
        assert run_sql(database_url, old_columns) == before
        with upgraded.reading() as conn:
            head = event_log.chain_head(conn)
            rows = list(event_log.iter_events(conn, batch=2))
        assert chain.verify_chain(rows, head)[:2] == ([], 3)
        with (
            pytest.raises((IntegrityError, OperationalError, DatabaseError, StoreError)),
            upgraded.unit_of_work() as uow,
        ):
            uow.conn.execute(text("DELETE FROM events WHERE seq = 1"))
            uow.commit()
        with upgraded.unit_of_work() as uow:
            fourth = event_log.append_event(uow.conn, _record("user_change", actor), None, None)
            uow.commit()
        assert fourth.seq == 4
        assert run_sql(database_url, "SELECT prev_hash FROM events WHERE seq = 4") == [(head[1],)]
        names = run_sql(database_url, "SELECT name FROM schema_migrations ORDER BY name")
        assert [r[0] for r in names] == [m.name for m in migrations.MIGRATIONS]
    finally:
        upgraded.dispose()


def test_a_populated_database_from_before_0005_gains_voided_seq_and_reads_the_same(
    database_url,
):
    """0005 adds `cases.voided_seq` to a database with cases in it: every case stays
    unvoided, `due` and `case list` answer as before, and `audit verify` passes."""
    import datetime as dt

    from casereview.infra.now import FixedClock
    from casereview.services import audit, cases, demo, due
    from casereview.services.context import ServiceContext
    from tests.conftest import run_sql

    today = dt.date(2026, 11, 23)
    demo.seed(database_url, "bu", today)
    old = ServiceContext(url=database_url, account="bu", clock=FixedClock(today))
    before = (due.due_list(old), cases.list_cases(old))
    old.close()
    # The database as a casereview before 0005 left it.
    run_sql(
        database_url,
        "ALTER TABLE cases DROP COLUMN voided_seq",
        "DELETE FROM schema_migrations WHERE name = '0005_voided_cases'",
    )
    fresh = ServiceContext(url=database_url, account="bu", clock=FixedClock(today))
    try:
        assert (due.due_list(fresh), cases.list_cases(fresh)) == before
        assert audit.verify(fresh, jobs=1).findings == []
    finally:
        fresh.close()
    assert run_sql(database_url, "SELECT COUNT(*) FROM cases WHERE voided_seq IS NOT NULL") == [
        (0,)
    ]
    names = run_sql(database_url, "SELECT name FROM schema_migrations ORDER BY name")
    assert [r[0] for r in names] == [m.name for m in MIGRATIONS]


@pytest.mark.sqlite_only
def test_a_database_from_before_0015_gets_each_clocks_workflow_and_its_index(tmp_path):
    """Migration 0015 copies each case's workflow onto its clock rows and indexes it;
    `audit verify` then holds the copies to the case rows, so a tampered one is found."""
    import datetime as dt

    from casereview.infra.now import FixedClock
    from casereview.services import audit, demo, due
    from casereview.services.context import ServiceContext

    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    demo.seed(url, "bu", dt.date(2026, 11, 23))
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX ix_case_clocks_workflow_due")
        conn.execute("ALTER TABLE case_clocks DROP COLUMN workflow_id")
        conn.execute("ALTER TABLE case_clocks DROP COLUMN workflow_version")
        conn.execute("DELETE FROM schema_migrations WHERE name = '0015_clock_workflows'")
    ctx = ServiceContext(url=url, account="bu", clock=FixedClock(dt.date(2026, 11, 23)))
    try:
        listed = due.due_list(ctx, workflow="england-lcspr")
        assert listed.summary.open == 12 and len(listed.items) == 12
        assert audit.verify(ctx).ok
    finally:
        ctx.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute(
            "SELECT COUNT(*) FROM case_clocks k JOIN cases c ON c.id = k.case_id "
            "WHERE k.workflow_id IS NOT c.workflow_id "
            "OR k.workflow_version IS NOT c.workflow_version"
        ).fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM case_clocks").fetchone()[0] > 0
        conn.execute("DROP TRIGGER IF EXISTS case_clocks_no_update")
        conn.execute("UPDATE case_clocks SET workflow_id = 'other' WHERE rowid = 1")
    ctx = ServiceContext(url=url, account="bu", clock=FixedClock(dt.date(2026, 11, 23)))
    try:
        found = audit.verify(ctx)
    finally:
        ctx.close()
    assert not found.ok
    assert any("workflow differs from its case's" in f.message for f in found.findings)
