"""PostgreSQL-only guarantees: writers serialise on the chain head, the application role
cannot rewrite events, and the recorded actor is the database session user."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from casereview.services import users
from casereview.services.context import ServiceContext
from casereview.store.database import Database
from tests.conftest import BACKEND, ensure_pg_login, run_sql, with_user

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL only")


@pytest.fixture
def db(database_url):
    database = Database.open(database_url, create=True)
    yield database
    database.dispose()


def test_application_role_cannot_update_delete_or_truncate_events(db, database_url):
    ensure_pg_login("cr_clerk")
    clerk = with_user(database_url, "cr_clerk")
    ctx = ServiceContext.from_options(database_url)  # the superuser installs
    users.init(ctx)
    ctx.close()
    # The admin, their key, then the six shipped workflow versions installed.
    assert run_sql(clerk, "SELECT COUNT(*) FROM events") == [(8,)]
    for statement in ("UPDATE events SET actor = 'x'", "DELETE FROM events", "TRUNCATE events"):
        with pytest.raises(DBAPIError, match="permission denied"):
            run_sql(clerk, statement)
    # The owner is refused too, by the trigger.
    with pytest.raises(DBAPIError, match="append-only"):
        run_sql(database_url, "UPDATE events SET actor = 'x'")


def test_actor_is_the_session_user_not_the_os_account(db, database_url, monkeypatch):
    from casereview.infra import identity

    monkeypatch.setattr(identity, "os_account", lambda: "somebody-else")
    ctx = ServiceContext.from_options(database_url)
    assert ctx.account == "postgres"
    ensure_pg_login("cr_chair")
    assert ServiceContext.from_options(with_user(database_url, "cr_chair")).account == "cr_chair"


def test_writers_wait_for_the_chain_head(db, database_url):
    """A unit of work holds the head row; a second one blocks until the first ends."""
    engine = create_engine(database_url, poolclass=NullPool)
    blocked = threading.Event()
    with db.unit_of_work() as uow:
        uow.conn.execute(text("SELECT 1"))

        def second() -> None:
            with engine.connect() as conn, conn.begin():
                conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
                try:
                    conn.execute(text("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE"))
                except DBAPIError:
                    blocked.set()

        thread = threading.Thread(target=second)
        thread.start()
        thread.join()
    assert blocked.is_set()
    engine.dispose()


def test_opening_an_empty_database_without_init_is_not_found(database_url):
    from casereview.errors import NotFound

    with pytest.raises(NotFound, match="run 'init'"):
        Database.open(database_url)


def test_read_only_login_can_read_and_verify_but_not_write(db, database_url):
    import datetime as dt

    from casereview.services import audit, cases
    from casereview.store.database import StoreError

    owner = ServiceContext.from_options(database_url)
    users.init(owner)
    users.add_user(owner, "cr_scrut", "Scrutineer", ["scrutineer", "business_unit"], None)
    owner.close()
    ensure_pg_login("cr_scrut")
    run_sql(
        database_url, "REVOKE casereview_app FROM cr_scrut", "GRANT casereview_read TO cr_scrut"
    )
    scrut = ServiceContext.from_options(with_user(database_url, "cr_scrut"))
    assert scrut.account == "cr_scrut"
    assert audit.verify(scrut).ok
    assert cases.list_cases(scrut) == []
    # Even holding the business_unit role in casereview, the server refuses the write.
    with pytest.raises(StoreError, match="permission denied"):
        cases.open_case(scrut, "2026-001", aware_on=dt.date(2026, 1, 5))
    scrut.close()
