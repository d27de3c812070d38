"""The web interface in shared mode on PostgreSQL (#22, item 4): two people signed in
through the identity provider (`oidc-provider-mock`) at once, over one trusted server
login with ONE pooled connection, are each recorded by the database as themselves, and
a step one of them edits into a form that only the other may take is refused with
nothing written. The database's own refusal of an event naming another person is
tests/security/test_acting_for_person.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread
from starlette.testclient import TestClient

from casereview.infra.now import FixedClock
from casereview.services import cases, identities
from casereview.services.context import ServiceContext
from casereview.store.database import Database
from casereview.web import auth, oidc
from casereview.web.app import create_app
from casereview.web.shared import SharedSignIn
from tests.conftest import BACKEND, run_sql
from tests.security.test_acting_for_person import shared
from tests.security.test_postgres_authority import BU, CHAIR, TODAY, WEB, Install, install

__all__ = ["install", "shared"]  # the fixtures, shared with the authority tests

pytestmark = [
    pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL only"),
    pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning"),
]

REDIRECT = "http://testserver/sign-in/callback"


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def _app(install: Install, shared: Database, provider_url: str) -> tuple[object, auth.SessionStore]:
    owner = ServiceContext.from_options(install.url)
    owner.clock = FixedClock(TODAY)
    try:
        for name in (BU, CHAIR):
            identities.link(owner, name, provider_url, f"{name}-sub")
    finally:
        owner.close()
    sign_in = SharedSignIn(
        oidc.Client(provider_url, "casereview-web", "the client secret", REDIRECT),
        oidc.discover(provider_url),
        lambda issuer, subject: identities.user_for(shared, issuer, subject),
        lambda username: ServiceContext.for_person(shared, username, clock=FixedClock(TODAY)),
    )
    sessions = auth.SessionStore()
    app = create_app(
        lambda: ServiceContext(install.url, "nobody", FixedClock(TODAY)),
        sessions=sessions,
        shared=sign_in,
    )
    return app, sessions


def _signed_in(app: object, subject: str) -> TestClient:
    browser = TestClient(app, follow_redirects=False)  # type: ignore[arg-type]
    begun = browser.get("/sign-in")
    with httpx.Client(timeout=10) as at_provider:
        answer = at_provider.post(begun.headers["location"], data={"sub": subject})
    back = browser.get(answer.headers["location"][len("http://testserver") :])
    assert back.status_code == 200, back.text
    return browser


def _step(
    install: Install,
    browser: TestClient,
    sessions: auth.SessionStore,
    ref: str,
    trigger: str,
    **values: str,
):  # type: ignore[no-untyped-def]
    view = cases.show_case(install.ctx(BU), ref)
    session = sessions.get(browser.cookies.get(auth.COOKIE))
    assert session is not None
    data = {
        "csrf_token": session.csrf_token,
        "trigger": trigger,
        "expect_state": view.state,
        "expect_version": str(view.version),
        **values,
    }
    return browser.post(f"/cases/{ref}", data=data)


def _last(install: Install) -> tuple[str, str]:
    rows = run_sql(install.url, "SELECT actor, trigger FROM events ORDER BY seq DESC LIMIT 1")
    return str(rows[0][0]), str(rows[0][1])


def test_two_people_signed_in_at_once_are_recorded_by_the_database_as_themselves(
    install, shared, provider_url
):
    app, sessions = _app(install, shared, provider_url)
    bu, chair = _signed_in(app, f"{BU}-sub"), _signed_in(app, f"{CHAIR}-sub")
    for browser, name in ((bu, BU), (chair, CHAIR), (bu, BU)):
        response = _step(install, browser, sessions, "P-001", "add_note", **{"field-note": name})
        assert response.status_code == 303, response.text
        assert _last(install) == (name, "add_note")
    # Between requests the one pooled connection is the server login, acting for nobody.
    with shared.reading() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT current_user")).scalar_one() == WEB


def test_a_step_edited_into_the_form_is_refused_with_nothing_written(install, shared, provider_url):
    app, sessions = _app(install, shared, provider_url)
    bu = _signed_in(app, f"{BU}-sub")
    before = install.snapshot()
    refused = _step(install, bu, sessions, "P-002", "decide_not_to_notify", rationale="not met")
    assert refused.status_code == 400
    assert "govuk-error-summary" in refused.text
    assert install.snapshot() == before
    chair = _signed_in(app, f"{CHAIR}-sub")
    done = _step(install, chair, sessions, "P-002", "decide_not_to_notify", rationale="not met")
    assert done.status_code == 303, done.text
    assert _last(install) == (CHAIR, "decide_not_to_notify")
