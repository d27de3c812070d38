"""A server acting for the person signed in to it (#22, item 4, shared mode).

`ServiceContext.for_person` over one shared pool: on PostgreSQL every transaction begins
with `SET LOCAL ROLE <person>`, so a trusted server login (a direct member of
casereview_server) records that person, and the database refuses anything else. Tried
against a real server: the role never survives its transaction on a pooled connection,
a person cannot be made to record as another, an untrusted login records as itself,
and a person the login may not switch to cannot be acted for at all. On SQLite the
context records the signed-in name on the server process's word.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from casereview.errors import Refused
from casereview.infra.now import FixedClock
from casereview.services import cases, users
from casereview.services.context import ServiceContext, open_shared
from casereview.store import write_functions
from casereview.store.database import Database, StoreError
from tests.conftest import BACKEND, enrol_keys, ensure_pg_login, run_sql
from tests.security.test_postgres_authority import (
    BU,
    CHAIR,
    PARTNER,
    TODAY,
    WEB,
    Install,
    install,
)

__all__ = ["install"]  # the fixture, shared with the authority tests

postgres_only = pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL only")
UNTRUSTED = "pgs_web_untrusted"


def _server_login(install: Install, login: str, *, trusted: bool, people: tuple[str, ...]) -> str:
    """A server login as docs/deployment.md sets one up: NOINHERIT, outside casereview_app,
    granted each person's role; in casereview_server when `trusted`."""
    ensure_pg_login(login)
    run_sql(
        install.url,
        f"ALTER ROLE {login} NOINHERIT",
        f"REVOKE casereview_app FROM {login}",
        *(f"GRANT {person} TO {login}" for person in people),
        *([f"GRANT casereview_server TO {login}"] if trusted else []),
    )
    return install.login(login)


@pytest.fixture
def shared(install: Install) -> Iterator[Database]:
    """The trusted server login's shared database, with ONE pooled connection, so that
    every request below reuses the same server session."""
    url = _server_login(install, WEB, trusted=True, people=(BU, CHAIR))
    db = open_shared(url, pool_size=1)
    try:
        yield db
    finally:
        db.dispose()


def _person(shared: Database, name: str) -> ServiceContext:
    return ServiceContext.for_person(shared, name, clock=FixedClock(TODAY))


def _last_event(install: Install) -> tuple[str, str]:
    rows = run_sql(install.url, "SELECT actor, trigger FROM events ORDER BY seq DESC LIMIT 1")
    return str(rows[0][0]), str(rows[0][1])


@postgres_only
def test_acting_for_a_person_records_that_person(install, shared):
    bu = _person(shared, BU)
    cases.advance(bu, "P-001", "add_note", fields={"note": "chronology requested"})
    assert _last_event(install) == (BU, "add_note")
    # Reads run as the person too.
    with bu.db().reading() as conn:
        assert conn.execute(text("SELECT current_user, session_user")).one() == (BU, WEB)
    bu.close()  # a request's context leaves the shared pool open
    with _person(shared, CHAIR).db().reading() as conn:
        assert conn.execute(text("SELECT casereview_actor()")).scalar_one() == CHAIR


@postgres_only
def test_two_people_alternating_on_one_pooled_connection_never_share_a_role(install, shared):
    seen = []
    for name in (BU, CHAIR, BU, CHAIR):
        with shared.acting(name).reading() as conn:
            seen.append(
                tuple(conn.execute(text("SELECT casereview_actor(), pg_backend_pid()")).one())
            )
        # Between requests the pooled connection is the server login, as nobody.
        with shared.reading() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() == WEB
    assert [actor for actor, _pid in seen] == [BU, CHAIR, BU, CHAIR]
    assert len({pid for _actor, pid in seen}) == 1  # one connection served them all

    # Writes alternate too, including after a refused one (rolled back mid-transaction).
    cases.advance(_person(shared, BU), "P-001", "add_note", fields={"note": "one"})
    assert _last_event(install) == (BU, "add_note")
    with pytest.raises(Refused):
        cases.advance(_person(shared, BU), "P-002", "decide_not_to_notify", rationale="r")
    with shared.reading() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() == WEB
    cases.advance(_person(shared, CHAIR), "P-002", "decide_not_to_notify", rationale="not met")
    assert _last_event(install) == (CHAIR, "decide_not_to_notify")
    cases.advance(_person(shared, BU), "P-001", "add_note", fields={"note": "two"})
    assert _last_event(install) == (BU, "add_note")


@postgres_only
def test_acting_for_one_person_cannot_append_an_event_recorded_as_another(install, shared):
    forged = install.sealed(actor=CHAIR, role="chair", trigger="decide_not_to_notify")
    before = install.snapshot()
    with (
        pytest.raises(StoreError, match="recorded as pgs_chair cannot be appended by pgs_bu"),
        shared.acting(BU).unit_of_work() as uow,
    ):
        write_functions.append(uow.conn, [forged])
        uow.commit()
    assert install.snapshot() == before
    # The refused transaction's role went with it: the pooled connection is nobody again.
    with shared.reading() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() == WEB


@postgres_only
def test_a_login_outside_casereview_server_that_switches_role_records_as_itself(install):
    url = _server_login(install, UNTRUSTED, trusted=False, people=(BU,))
    db = open_shared(url, pool_size=1)
    try:
        bu = ServiceContext.for_person(db, BU, clock=FixedClock(TODAY))
        assert bu.db().session_user() == UNTRUSTED
        before = install.snapshot()
        with pytest.raises(StoreError, match="recorded as pgs_bu cannot be appended by"):
            cases.advance(bu, "P-001", "add_note", fields={"note": "as someone else"})
        assert install.snapshot() == before
    finally:
        db.dispose()


@postgres_only
def test_a_person_the_server_login_may_not_switch_to_cannot_be_acted_for(install, shared):
    partner = _person(shared, PARTNER)  # pgs_web was granted pgs_bu and pgs_chair only
    before = install.snapshot()
    with pytest.raises(StoreError, match="permission denied to set role"):
        cases.advance(partner, "P-001", "add_note", fields={"note": "x"})
    with pytest.raises(StoreError, match="acts only for a person whose database role"):
        partner.db().session_user()
    with pytest.raises(StoreError, match="does not exist"):
        _person(shared, 'nobody"; RESET ROLE; --').db().session_user()
    assert install.snapshot() == before


@postgres_only
def test_a_shared_server_refuses_a_schema_newer_than_itself(install, shared):
    run_sql(
        install.url,
        "INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future', 'x')",
    )
    with pytest.raises(StoreError, match="newer casereview"):
        _person(shared, BU).db().session_user()


@postgres_only
def test_a_shared_server_refuses_a_schema_behind_itself(install, shared):
    run_sql(install.url, "DELETE FROM schema_migrations WHERE name = '0016_identity_links'")
    with pytest.raises(StoreError, match="lacks migration 0016_identity_links"):
        _person(shared, BU).db().session_user()


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite only")
def test_on_sqlite_the_signed_in_name_is_recorded_on_the_server_process_word(database_url):
    admin = ServiceContext(url=database_url, account="admin", clock=FixedClock(TODAY))
    users.init(admin)
    users.add_user(admin, "alice", "Alice", ["business_unit"], None)
    admin.close()
    enrol_keys(database_url, "alice", clock=FixedClock(TODAY))
    db = open_shared(database_url)
    try:
        alice = ServiceContext.for_person(db, "alice", clock=FixedClock(TODAY))
        cases.open_case(alice, "S-001", aware_on=dt.date(2026, 2, 23), fields={"nature": "death"})
        rows = run_sql(database_url, "SELECT actor FROM events ORDER BY seq DESC LIMIT 1")
        assert rows == [("alice",)]
        # Nothing in the file stops the server naming someone else: it is trusted.
        assert ServiceContext.for_person(db, "bob").account == "bob"
    finally:
        db.dispose()


@postgres_only
def test_the_sign_in_lookup_runs_as_casereview_server_which_reads_nothing_else(install, shared):
    from casereview.services import identities

    issuer, subject = "https://idp.example.org/tenant", "sub-0001"
    owner = ServiceContext.from_options(install.url)
    owner.clock = FixedClock(TODAY)
    identities.link(owner, BU, issuer, subject)
    owner.close()
    assert identities.user_for(shared, issuer, subject) == BU
    with pytest.raises(identities.NotLinked, match="ask your admin to add you"):
        identities.user_for(shared, issuer, "sub-0002")
    # Switched to casereview_server, the login may ask that one question and read nothing.
    for table in ("events", "users", "cases"):
        with (
            pytest.raises(StoreError, match="permission denied"),
            shared.acting("casereview_server").reading() as conn,
        ):
            conn.execute(text(f"SELECT * FROM {table}"))


@postgres_only
def test_worker_processes_of_a_request_act_for_the_same_person(install, shared):
    """`audit verify` with several processes: each worker's own connection switches to
    the person too (the server login alone may read nothing)."""
    from casereview.services import audit

    report = audit.verify(_person(shared, BU), jobs=2)
    assert report.ok, [str(f) for f in report.findings]
