"""One database and one set of definitions per server (`services.server_contexts`):
every request's context shares them, reads go through the server's pool of SQLite
connections, and who each write records is unchanged (the server's account in local
mode, the person with `for_person`). Against a real SQLite file seeded by the demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from casereview.infra.now import FixedClock
from casereview.services import cases, timeline
from casereview.services.server_contexts import ServerContexts
from casereview.web import auth
from casereview.web.app import create_app
from tests.conftest import enrol_keys

from .conftest import ACCOUNT, TODAY


@pytest.fixture
def contexts(database: Path):
    made = ServerContexts(f"sqlite:///{database}", ACCOUNT, clock=FixedClock(TODAY))
    yield made
    made.close()


def _last_event(ctx, ref: str):
    return [e for e in timeline.timeline(ctx, ref).entries if hasattr(e, "actor")][-1]


def test_requests_share_the_servers_database_and_definitions(contexts):
    first, second = contexts(), contexts()
    try:
        assert first.account == second.account == ACCOUNT
        assert first.db().engine is second.db().engine is contexts.database.engine
        assert first.registry is second.registry is contexts.registry
        assert first.calendar is second.calendar is contexts.calendar
    finally:
        first.close()
    # One request closing its context leaves the server's database open for the next.
    assert cases.show_case(second, "2026-008").ref == "2026-008"
    second.close()


def test_reads_reuse_the_pools_connections_and_see_each_write(contexts):
    ctx = contexts()
    try:
        before = cases.show_case(ctx, "2026-008")
        with ctx.reader() as reader:
            first = reader
        with ctx.reader() as reader:
            assert reader._conn is first._conn  # type: ignore[attr-defined]
        cases.advance(ctx, "2026-008", "add_note", fields={"note": "Called the school"})
        # A snapshot begun after the write, on a kept connection, sees it.
        assert cases.show_case(ctx, "2026-008").version == before.version + 1
    finally:
        ctx.close()


def test_a_write_records_the_servers_account_in_local_mode(contexts):
    ctx = contexts()
    try:
        cases.advance(ctx, "2026-008", "add_note", fields={"note": "As the server"})
        event = _last_event(ctx, "2026-008")
        assert event.actor == ACCOUNT
    finally:
        ctx.close()


def test_a_persons_context_records_that_person_and_no_one_else(contexts, database):
    enrol_keys(f"sqlite:///{database}", "demo-la", admin=ACCOUNT, clock=FixedClock(TODAY))
    ctx = contexts.for_person("demo-la")
    try:
        assert ctx.account == "demo-la"
        cases.advance(ctx, "2026-008", "add_note", fields={"note": "As a partner"})
        assert _last_event(ctx, "2026-008").actor == "demo-la"
    finally:
        ctx.close()
    own = contexts()
    try:
        assert own.account == ACCOUNT
    finally:
        own.close()


def test_the_pages_and_a_step_through_a_server_built_on_it(contexts):
    links = auth.SignInLinks()
    client = TestClient(create_app(contexts, links=links), follow_redirects=False)
    assert client.get(f"/sign-in?token={links.token}").status_code == 303
    for path in ("/", "/cases", "/cases/2026-008", "/timeline/2026-008"):
        assert client.get(path).status_code == 200, path
    session = next(iter(client.cookies.values()))
    csrf = contexts_session_csrf(client, session)
    response = client.post(
        "/cases/2026-008",
        data={"csrf_token": csrf, "trigger": "add_note", "field-note": "From the page"},
    )
    assert response.status_code == 303
    ctx = contexts()
    try:
        event = _last_event(ctx, "2026-008")
        assert (event.actor, event.fields.get("note")) == (ACCOUNT, "From the page")
    finally:
        ctx.close()


def contexts_session_csrf(client: TestClient, session_id: str) -> str:
    sessions: auth.SessionStore = client.app.state.web.sessions  # type: ignore[attr-defined]
    session = sessions.get(session_id)
    assert session is not None
    return session.csrf_token


def test_closing_the_server_closes_its_read_connections(database: Path):
    made = ServerContexts(f"sqlite:///{database}", ACCOUNT, clock=FixedClock(TODAY))
    ctx = made()
    with ctx.reader() as reader:
        kept = reader._conn  # type: ignore[attr-defined]
    ctx.close()
    made.close()
    import sqlite3

    with pytest.raises(sqlite3.ProgrammingError):
        kept.execute("SELECT 1")


def test_a_missing_database_is_refused_when_the_server_starts(tmp_path: Path):
    from casereview.errors import CaseReviewError

    with pytest.raises(CaseReviewError):
        ServerContexts(f"sqlite:///{tmp_path / 'missing.db'}", ACCOUNT)
