"""The personal calendar subscription address: made with a random token shown once and
stored only as its sha256, fetched without a session (`calendar export`'s feed),
revoked (the old address then finds nothing), each change an event its owner signed."""

from __future__ import annotations

import hashlib
import io
import re

from icalendar import Calendar
from starlette.testclient import TestClient

from casereview.services import audit, calendar_feeds, exports
from tests.conftest import run_sql


def _make(site) -> str:
    response = site.client.post("/calendar", data={"csrf_token": site.csrf()})
    assert response.status_code == 200
    url = re.search(r'id="feed-url">([^<]*)<', response.text).group(1)
    assert url.startswith("http://testserver/calendar/") and url.endswith(".ics")
    return url.removeprefix("http://testserver")


def _outsider(site) -> TestClient:
    """A calendar program: no session, no cookie."""
    return TestClient(site.client.app, follow_redirects=False)


def _feed_events(site) -> list[tuple]:
    return run_sql(
        site.url,
        "SELECT kind, trigger, actor, role, case_ref FROM events "
        "WHERE trigger LIKE 'calendar_feed_%' ORDER BY seq",
    )


def test_a_new_address_is_shown_once_and_stored_only_as_its_hash(web):
    assert "You have no calendar address." in web.client.get("/calendar").text
    path = _make(web)
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    assert len(token) >= 43  # 256 random bits
    later = web.client.get("/calendar").text
    assert token not in later and 'id="feed-url"' not in later
    assert "You have a calendar address" in later
    rows = run_sql(web.url, "SELECT username, token_hash, revoked_seq FROM calendar_feeds")
    assert rows == [("demo", hashlib.sha256(token.encode()).hexdigest(), None)]
    dumped = "\n".join(str(r) for r in run_sql(web.url, "SELECT * FROM calendar_feeds"))
    assert token not in dumped
    logged = "\n".join(str(r) for r in run_sql(web.url, "SELECT fields FROM events"))
    assert token not in logged
    assert hashlib.sha256(token.encode()).hexdigest() not in logged


def test_the_address_gives_calendar_exports_feed_without_a_session(web):
    path = _make(web)
    response = _outsider(web).get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    ctx = web.context()
    try:
        sink = io.BytesIO()
        exported = exports.export_calendar(ctx, sink)
    finally:
        ctx.close()
    assert response.content == sink.getvalue()
    found = list(Calendar.from_ical(response.content).walk("VEVENT"))
    assert len(found) == exported.deadlines > 0
    assert response.headers["cache-control"] == "no-store"


def test_an_unknown_token_finds_nothing(web):
    _make(web)
    outsider = _outsider(web)
    assert outsider.get("/calendar/not-a-token.ics").status_code == 404
    assert outsider.get("/calendar/x").status_code == 404
    unknown = outsider.get("/calendar/not-a-token.ics")
    assert unknown.text == "Not found\n"  # nothing of the server's account or partnership
    # The page that makes addresses is not open without a session.
    assert outsider.get("/calendar").status_code == 303


def test_a_revoked_address_finds_nothing(web):
    path = _make(web)
    assert _outsider(web).get(path).status_code == 200
    response = web.client.post("/calendar/revoke", data={"csrf_token": web.csrf()})
    assert response.status_code == 303
    assert _outsider(web).get(path).status_code == 404
    assert "You have no calendar address." in web.client.get("/calendar").text


def test_a_new_address_replaces_the_old(web):
    first = _make(web)
    second = _make(web)
    assert first != second
    outsider = _outsider(web)
    assert outsider.get(first).status_code == 404
    assert outsider.get(second).status_code == 200
    live = run_sql(web.url, "SELECT COUNT(*) FROM calendar_feeds WHERE revoked_seq IS NULL")
    assert live == [(1,)]


def test_making_and_revoking_are_events_the_owner_signed_and_verify(web):
    _make(web)
    web.client.post("/calendar/revoke", data={"csrf_token": web.csrf()})
    assert _feed_events(web) == [
        ("key", "calendar_feed_create", "demo", None, None),
        ("key", "calendar_feed_revoke", "demo", None, None),
    ]
    ctx = web.context()
    try:
        report = audit.verify(ctx, jobs=1)
    finally:
        ctx.close()
    assert report.ok, report.findings


def test_making_or_revoking_without_the_csrf_token_is_refused_and_writes_nothing(web):
    for path in ("/calendar", "/calendar/revoke"):
        assert web.client.post(path, data={}).status_code == 403
        assert web.client.post(path, data={"csrf_token": "wrong"}).status_code == 403
    assert run_sql(web.url, "SELECT COUNT(*) FROM calendar_feeds") == [(0,)]
    assert _feed_events(web) == []


def test_another_accounts_address_is_not_served_by_this_server(web):
    """A server acts as one account: an address made by someone else finds nothing here."""
    from casereview.infra.now import FixedClock
    from casereview.services.context import ServiceContext
    from tests.conftest import enrol_keys

    from .conftest import TODAY

    enrol_keys(web.url, "demo-police", admin="demo")
    other = ServiceContext(web.url, "demo-police", FixedClock(TODAY))
    try:
        made = calendar_feeds.create(other)
    finally:
        other.close()
    assert _outsider(web).get(f"/calendar/{made.token}.ics").status_code == 404


def test_the_service_keeps_a_feed_on_either_backend(database_url):
    """On PostgreSQL the rows are written by the database's own function, for the
    recorder's feed and event (CASEREVIEW_TEST_DATABASE_URL runs this there)."""
    import pytest

    from casereview.errors import NotFound
    from casereview.infra.now import FixedClock
    from casereview.services import users
    from casereview.services.context import ServiceContext
    from tests.conftest import enrol_keys

    from .conftest import TODAY

    boss = ServiceContext(url=database_url, account="boss", clock=FixedClock(TODAY))
    officer = ServiceContext(url=database_url, account="officer", clock=FixedClock(TODAY))
    try:
        users.init(boss)
        users.add_user(boss, "officer", "Officer", ["business_unit"], None)
        enrol_keys(database_url, "officer", admin="boss", clock=boss.clock)
        made = calendar_feeds.create(officer)
        assert calendar_feeds.owner(officer, made.token) == "officer"
        assert calendar_feeds.current(officer) is not None
        again = calendar_feeds.create(officer)
        with pytest.raises(NotFound):
            calendar_feeds.owner(officer, made.token)
        assert calendar_feeds.owner(boss, again.token) == "officer"
        assert calendar_feeds.revoke(officer)
        assert not calendar_feeds.revoke(officer)
        with pytest.raises(NotFound):
            calendar_feeds.owner(officer, again.token)
        assert calendar_feeds.current(officer) is None
        assert audit.verify(boss, jobs=1).ok
    finally:
        boss.close()
        officer.close()
