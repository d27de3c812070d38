"""The web interface in shared mode (#22, item 4): people sign in with an identity
provider (`oidc-provider-mock`, a real OpenID provider on a local port), and each
request acts for the person its session belongs to (`ServiceContext.for_person`),
signing with the key the server holds for them (`infra.server_keys`).

Played as browsers would: each person has their own client (cookie jar) on one app;
the provider's sign-in page is followed with httpx. On SQLite (the web suite's
backend): that the database itself refuses a person recording as another on
PostgreSQL is tests/security/test_acting_for_person.py.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread
from starlette.testclient import TestClient

from casereview.infra.now import FixedClock
from casereview.infra.server_keys import USE_LOG, ServerKeys, read_kek
from casereview.services import cases, identities, keys, timeline, users
from casereview.services.context import ServiceContext, open_shared
from casereview.store.database import Database
from casereview.web import auth, oidc
from casereview.web.app import create_app
from casereview.web.shared import PENDING_COOKIE, SharedSignIn

from .conftest import ACCOUNT, TODAY

# The provider's own server code (not casereview's) uses an authlib call authlib deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")

REDIRECT = "http://testserver/sign-in/callback"
ADMIN = ACCOUNT  # the demo's admin (business unit and chair)
CASE = "2026-008"  # at rapid_review_signoff in the demo


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@dataclass
class Person:
    """One browser: its own cookie jar on the shared app."""

    client: TestClient
    sessions: auth.SessionStore

    def csrf(self) -> str:
        session = self.sessions.get(self.client.cookies.get(auth.COOKIE))
        assert session is not None
        return session.csrf_token


@dataclass
class Shared:
    url: str
    issuer: str
    held: ServerKeys
    database: Database
    sessions: auth.SessionStore
    links: auth.SignInLinks
    app: object
    made: list[str]
    people: list[Person] = field(default_factory=list)

    def ctx(self, name: str = ADMIN) -> ServiceContext:
        return ServiceContext(self.url, name, FixedClock(TODAY))

    def browser(self) -> Person:
        person = Person(TestClient(self.app, follow_redirects=False), self.sessions)  # type: ignore[arg-type]
        self.people.append(person)
        return person

    def sign_in(self, subject: str, person: Person | None = None) -> tuple[Person, httpx.Response]:
        """`person` (a new browser by default) signs in at the provider as `subject`;
        the app's answer to the provider's redirect back."""
        person = person or self.browser()
        begun = person.client.get("/sign-in")
        assert begun.status_code == 303, begun.text
        with httpx.Client(timeout=10) as at_provider:
            assert at_provider.get(begun.headers["location"]).status_code == 200
            answer = at_provider.post(begun.headers["location"], data={"sub": subject})
        assert answer.status_code in (302, 303), answer.text
        back = answer.headers["location"]
        assert back.startswith(REDIRECT)
        return person, person.client.get(back[len("http://testserver") :])

    def signed_in(self, subject: str) -> Person:
        person, answer = self.sign_in(subject)
        assert answer.status_code == 200, answer.text
        assert person.client.cookies.get(auth.COOKIE)
        return person

    def view(self, ref: str = CASE) -> cases.CaseView:
        ctx = self.ctx()
        try:
            return cases.show_case(ctx, ref)
        finally:
            ctx.close()

    def last_event(self, ref: str = CASE):  # type: ignore[no-untyped-def]
        ctx = self.ctx()
        try:
            entries = timeline.timeline(ctx, ref).entries
        finally:
            ctx.close()
        return [e for e in entries if hasattr(e, "actor")][-1]

    def step(self, person: Person, trigger: str, *, csrf: str | None = None, **values: str):  # type: ignore[no-untyped-def]
        view = self.view()
        data = {
            "csrf_token": person.csrf() if csrf is None else csrf,
            "trigger": trigger,
            "expect_state": view.state,
            "expect_version": str(view.version),
            **values,
        }
        return person.client.post(f"/cases/{CASE}", data=data)

    def use_log(self) -> list[dict[str, object]]:
        path = self.held.folder / USE_LOG
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def events(self) -> list[tuple[int, str, str, str | None]]:
        from tests.conftest import run_sql

        rows = run_sql(self.url, "SELECT seq, entry_hash, actor, key_id FROM events ORDER BY seq")
        return [(int(s), str(h), str(a), k) for s, h, a, k in rows]


def _kek(path: Path) -> Path:
    path.write_text(os.urandom(32).hex() + "\n")
    path.chmod(0o600)
    return path


def _held_key(url: str, held: ServerKeys, username: str) -> str:
    """`username`'s key, made and held by the server, enrolled and confirmed by the admin."""
    me = ServiceContext(url, username, FixedClock(TODAY), server_keys=held)
    admin = ServiceContext(url, ADMIN, FixedClock(TODAY))
    try:
        kid = keys.enrol(me).key_id
        keys.confirm(admin, username, kid)
    finally:
        me.close()
        admin.close()
    return kid


@pytest.fixture
def shared(database: Path, provider_url: str, tmp_path: Path) -> Iterator[Shared]:
    """The demo's cases served in shared mode: alice (business unit) and chen (chair),
    each with a held key and a linked identity at the provider; dee is a user with a
    linked identity and no key yet."""
    url = f"sqlite:///{database}"
    admin = ServiceContext(url, ADMIN, FixedClock(TODAY))
    try:
        users.add_user(admin, "alice", "Alice Adeyemi", ["business_unit"], None)
        users.add_user(admin, "chen", "Chen Li", ["chair"], None)
        users.add_user(admin, "dee", "Dee Okafor", ["business_unit"], None)
        for name in ("alice", "chen", "dee"):
            identities.link(admin, name, provider_url, f"{name}-at-the-provider")
    finally:
        admin.close()
    folder = tmp_path / "held"
    held = ServerKeys(folder, read_kek(_kek(tmp_path / "kek")))
    for name in ("alice", "chen"):
        _held_key(url, held, name)
    database_ = open_shared(url)

    made: list[str] = []  # whom each context the app made acts for

    def person(username: str) -> ServiceContext:
        made.append(username)
        return ServiceContext.for_person(
            database_, username, clock=FixedClock(TODAY), server_keys=held
        )

    def server_account() -> ServiceContext:
        made.append("<the server>")
        return ServiceContext(url, ADMIN, FixedClock(TODAY))

    def user_for(issuer: str, subject: str) -> str:
        return identities.user_for(database_, issuer, subject)

    sign_in = SharedSignIn(
        oidc.Client(provider_url, "casereview-web", "the client secret", REDIRECT),
        oidc.discover(provider_url),
        user_for,
        person,
        partnership_name="Northshire Safeguarding Children Partnership",
    )
    sessions, links = auth.SessionStore(), auth.SignInLinks()
    app = create_app(
        server_account,
        sessions=sessions,
        links=links,
        shared=sign_in,
    )
    site = Shared(url, provider_url, held, database_, sessions, links, app, made)
    try:
        yield site
    finally:
        database_.dispose()


def test_two_people_signed_in_at_once_each_record_as_themselves(shared):
    alice = shared.signed_in("alice-at-the-provider")
    chen = shared.signed_in("chen-at-the-provider")
    assert "Signed in as <strong>Alice Adeyemi" in alice.client.get("/").text
    assert "Signed in as <strong>Chen Li" in chen.client.get("/").text

    for person, name, note in ((alice, "alice", "Called the school"), (chen, "chen", "Read it")):
        response = shared.step(person, "add_note", **{"field-note": note})
        assert response.status_code == 303, response.text
        event = shared.last_event()
        assert (event.trigger, event.actor) == ("add_note", name)
        assert event.fields.get("note") == note
    # Alternating again: each session still acts for its own person.
    assert shared.step(alice, "add_note", **{"field-note": "Again"}).status_code == 303
    assert shared.last_event().actor == "alice"


def test_every_web_write_has_its_line_in_the_key_use_log(shared):
    alice = shared.signed_in("alice-at-the-provider")
    chen = shared.signed_in("chen-at-the-provider")
    before = len(shared.events())
    for person, note in ((alice, "one"), (chen, "two"), (alice, "three")):
        assert shared.step(person, "add_note", **{"field-note": note}).status_code == 303
    written = shared.events()[before:]
    assert [actor for _seq, _hash, actor, _kid in written] == ["alice", "chen", "alice"]
    lines = {(line["seq"], line["entry_hash"]): line for line in shared.use_log()}
    for seq, entry_hash, actor, kid in written:
        line = lines[(seq, entry_hash)]
        assert (line["username"], line["key_id"]) == (actor, kid)
        assert kid == shared.held.load(actor).key_id  # type: ignore[union-attr]


def _chair_only_trigger(shared: Shared) -> str:
    """A step open now on the case that the chair may record and the business unit may
    not."""
    only = sorted(
        o.trigger
        for o in shared.view().possible
        if "chair" in o.roles and "business_unit" not in o.roles
    )
    assert only, shared.view().possible
    return only[0]


def test_one_person_cannot_fire_anothers_trigger_by_editing_the_form(shared):
    trigger = _chair_only_trigger(shared)
    alice = shared.signed_in("alice-at-the-provider")
    before = shared.view()
    refused = shared.step(alice, trigger, rationale="Met the criteria")
    assert refused.status_code == 400
    assert "govuk-error-summary" in refused.text
    label = next(o.label for o in before.possible if o.trigger == trigger)
    # The page names the step by its label (the engine's message names its id).
    assert f"“{label}” needs one of the roles chair" in html.unescape(refused.text)
    assert shared.view().version == before.version  # nothing written
    # Nor by naming the chair as the person signed in through a field of the form.
    refused = shared.step(alice, trigger, rationale="r", actor="chen", username="chen")
    assert refused.status_code == 400
    assert shared.view().version == before.version


def test_one_person_cannot_replay_anothers_csrf_token_or_use_their_cookie_with_their_own(shared):
    alice = shared.signed_in("alice-at-the-provider")
    chen = shared.signed_in("chen-at-the-provider")
    before = shared.view()
    # Alice's session with Chen's CSRF token: the form is refused, nothing written.
    response = shared.step(alice, "add_note", csrf=chen.csrf(), **{"field-note": "x"})
    assert response.status_code == 403
    # Chen's session cookie replayed in Alice's browser, with Alice's token: refused too.
    stolen = Person(TestClient(shared.app, follow_redirects=False), shared.sessions)  # type: ignore[arg-type]
    stolen.client.cookies.set(auth.COOKIE, chen.client.cookies.get(auth.COOKIE))
    response = shared.step(stolen, "add_note", csrf=alice.csrf(), **{"field-note": "y"})
    assert response.status_code == 403
    assert shared.view().version == before.version


def test_an_identity_no_admin_linked_sees_only_ask_your_admin(shared):
    person, answer = shared.sign_in("someone-the-admin-never-linked")
    assert answer.status_code == 403
    assert identities.ASK_YOUR_ADMIN.capitalize() in answer.text
    assert "Ask your admin to add you" in answer.text
    # Nothing else: no session, no name, no section of the service.
    assert auth.COOKIE not in answer.headers.get("set-cookie", "")
    assert "Signed in as" not in answer.text
    assert 'href="/cases"' not in answer.text
    page = person.client.get("/")
    assert (page.status_code, page.headers["location"]) == (303, "/signed-out")
    assert "Northshire Safeguarding Children Partnership" in answer.text


def test_an_unlinked_identity_is_refused_after_its_link_is_removed(shared, provider_url):
    admin = shared.ctx()
    try:
        identities.unlink(admin, "alice", provider_url, "alice-at-the-provider")
    finally:
        admin.close()
    _person, answer = shared.sign_in("alice-at-the-provider")
    assert answer.status_code == 403
    assert "Ask your admin to add you" in answer.text


def test_a_forged_session_cookie_signs_out(shared):
    shared.signed_in("alice-at-the-provider")
    forger = shared.browser()
    forger.client.cookies.set(auth.COOKIE, secrets.token_urlsafe(32))
    page = forger.client.get("/")
    assert (page.status_code, page.headers["location"]) == (303, "/signed-out")
    assert re.search(rf"{auth.COOKIE}=(\"\")?;", page.headers["set-cookie"])  # cleared
    posted = forger.client.post(f"/cases/{CASE}", data={"trigger": "add_note"})
    assert posted.status_code == 403


def test_the_local_one_time_link_does_not_sign_in_on_a_shared_server(shared):
    person = shared.browser()
    response = person.client.get(f"/sign-in?token={shared.links.token}")
    assert response.status_code == 303
    assert response.headers["location"].startswith(shared.issuer)  # off to the provider
    assert person.client.cookies.get(auth.COOKIE) is None
    signed_out = person.client.get("/signed-out")
    assert 'href="/sign-in"' in signed_out.text
    assert "casereview serve" not in signed_out.text  # no console link in shared mode


def test_the_providers_answer_counts_only_in_the_browser_that_began_and_only_once(shared):
    begun = shared.browser()
    start = begun.client.get("/sign-in")
    pending_cookie = start.headers["set-cookie"]
    assert pending_cookie.startswith(f"{PENDING_COOKIE}=")
    for attribute in ("HttpOnly", "Max-Age=600", "Path=/sign-in", "SameSite=lax"):
        assert attribute in pending_cookie
    with httpx.Client(timeout=10) as at_provider:
        answer = at_provider.post(start.headers["location"], data={"sub": "alice-at-the-provider"})
    back = answer.headers["location"][len("http://testserver") :]
    # Another browser (an attacker who got the redirect URL) has no pending sign-in.
    other = shared.browser()
    refused = other.client.get(back)
    assert refused.status_code == 403
    assert other.client.cookies.get(auth.COOKIE) is None
    # The browser that began it is signed in, once; the same answer again is refused.
    assert begun.client.cookies.get(PENDING_COOKIE)
    assert begun.client.get(back).status_code == 200
    again = shared.browser()
    again.client.cookies.set(PENDING_COOKIE, "made-up", path="/sign-in")
    assert again.client.get(back).status_code == 403


def test_a_state_that_is_not_the_one_sent_is_refused(shared):
    person = shared.browser()
    start = person.client.get("/sign-in")
    with httpx.Client(timeout=10) as at_provider:
        answer = at_provider.post(start.headers["location"], data={"sub": "alice-at-the-provider"})
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    forged = person.client.get(f"/sign-in/callback?code={query['code'][0]}&state=not-the-one")
    assert forged.status_code == 403
    assert "You could not be signed in" in forged.text
    assert person.client.cookies.get(auth.COOKIE) is None


def test_sign_in_attempts_are_rate_limited_in_shared_mode(shared):
    shared.app.state.web.sign_ins = auth.RateLimit(limit=2)  # type: ignore[attr-defined]
    person = shared.browser()
    assert person.client.get("/sign-in").status_code == 303
    assert person.client.get("/sign-in").status_code == 303
    assert person.client.get("/sign-in").status_code == 429
    assert person.client.get("/sign-in/callback?code=x&state=y").status_code == 429


def test_a_calendar_feed_is_not_open_without_a_session_on_a_shared_server(shared):
    person = shared.browser()
    response = person.client.get(f"/calendar/{secrets.token_urlsafe(32)}.ics")
    assert (response.status_code, response.headers["location"]) == (303, "/signed-out")


def test_a_person_with_no_key_is_offered_enrolment_and_sees_the_key_id_to_confirm(shared):
    dee = shared.signed_in("dee-at-the-provider")
    before = shared.view()
    refused = shared.step(dee, "add_note", **{"field-note": "First note"})
    assert refused.status_code == 400
    assert "/signing-key" in refused.text
    assert shared.view().version == before.version
    page = dee.client.get("/signing-key")
    assert page.status_code == 200 and 'id="no-key"' in page.text
    enrolled = dee.client.post("/signing-key", data={"csrf_token": dee.csrf()})
    assert (enrolled.status_code, enrolled.headers["location"]) == (303, "/signing-key")
    page = dee.client.get("/signing-key").text
    kid = re.search(r'<code id="key-id">([^<]+)</code>', page)
    assert kid is not None and 'id="ask-to-confirm"' in page
    held = shared.held.load("dee")
    assert held is not None and held.key_id == kid.group(1)  # the server holds it for dee
    # Until an admin confirms it, dee's writes are refused; then they are dee's.
    assert shared.step(dee, "add_note", **{"field-note": "x"}).status_code == 400
    admin = shared.ctx()
    try:
        keys.confirm(admin, "dee", kid.group(1))
    finally:
        admin.close()
    assert shared.step(dee, "add_note", **{"field-note": "Now"}).status_code == 303
    event = shared.last_event()
    assert event.actor == "dee"
    assert shared.use_log()[-1]["username"] == "dee"


def test_signed_in_page_continues_by_a_same_site_navigation(shared):
    _person, answer = shared.sign_in("alice-at-the-provider")
    assert answer.status_code == 200
    assert '<meta http-equiv="refresh" content="0;url=/">' in answer.text
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")


def test_signing_out_ends_only_that_persons_session(shared):
    alice = shared.signed_in("alice-at-the-provider")
    chen = shared.signed_in("chen-at-the-provider")
    out = alice.client.post("/sign-out", data={"csrf_token": alice.csrf()})
    assert (out.status_code, out.headers["location"]) == (303, "/signed-out")
    assert alice.client.get("/").status_code == 303
    assert chen.client.get("/").status_code == 200


def test_the_person_signed_in_is_whom_each_page_reads_as(shared):
    alice = shared.signed_in("alice-at-the-provider")
    admin_page = alice.client.get("/admin")
    assert admin_page.status_code == 403  # alice is no admin; the server's account is


def test_a_verification_started_by_a_person_runs_as_that_person(shared):
    import time

    chen = shared.signed_in("chen-at-the-provider")
    shared.made.clear()
    started = chen.client.post("/scrutiny/verify", data={"csrf_token": chen.csrf()})
    assert started.status_code == 303, started.text
    for _ in range(300):
        if 'id="verdict"' in chen.client.get(started.headers["location"]).text:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the verification did not finish")
    # The request, the thread that verifies and each page since: all chen's.
    assert shared.made and set(shared.made) == {"chen"}, shared.made
    assert len(shared.made) >= 3
