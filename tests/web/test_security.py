"""Who may use the web interface, and what every response promises: the one-time sign-in
link, sessions (cookie attributes, idle timeout, forged ids), CSRF on every form, the
limit on sign-in attempts, and the security headers (docs/web.md)."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from casereview.web import auth
from casereview.web.app import CSP, create_app

from .conftest import Site, make_site


class Ticking:
    """A monotonic clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _last_seq(site: Site, ref: str) -> int:
    ctx = site.context()
    try:
        from casereview.services.cases import show_case

        return show_case(ctx, ref).version
    finally:
        ctx.close()


# -- sign-in ---------------------------------------------------------------------------


def test_without_a_session_a_page_sends_you_to_the_sign_in_explanation(anonymous):
    response = anonymous.client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/signed-out"
    page = anonymous.client.get("/signed-out")
    assert page.status_code == 200
    assert "sign-in link" in page.text
    assert "Child" not in page.text  # no case data before sign-in


def test_without_a_session_a_case_page_is_not_shown(anonymous):
    response = anonymous.client.get("/cases/2026-001")
    assert response.status_code == 303
    assert "2026-001" not in response.text


def test_the_right_token_starts_a_session_with_a_strict_http_only_cookie(anonymous):
    response = anonymous.client.get(
        f"/sign-in?token={anonymous.links.token}", follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{auth.COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # served over plain http on 127.0.0.1
    assert anonymous.client.get("/").status_code == 200


def test_over_https_the_cookie_is_secure(database):
    site = make_site(database)
    site.client.base_url = "https://testserver"  # type: ignore[misc]
    response = site.client.get(f"https://testserver/sign-in?token={site.links.token}")
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]
    assert "max-age" in response.headers["strict-transport-security"]


def test_a_wrong_token_is_refused_and_starts_no_session(anonymous):
    response = anonymous.client.get("/sign-in?token=not-the-token")
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert anonymous.client.get("/sign-in").status_code == 403  # no token at all
    assert anonymous.client.get("/").status_code == 303


def test_a_token_works_once_and_the_next_one_is_announced(database):
    announced: list[str] = []
    links = auth.SignInLinks(announced.append)
    site = make_site(database)
    site.client.app.state.web.links = links
    first = links.token
    assert announced == [first]
    assert site.client.get(f"/sign-in?token={first}").status_code == 303
    assert len(announced) == 2 and announced[1] != first
    site.client.cookies.clear()
    again = site.client.get(f"/sign-in?token={first}")
    assert again.status_code == 403
    assert site.client.get("/").status_code == 303  # still signed out
    assert site.client.get(f"/sign-in?token={announced[1]}").status_code == 303
    assert site.client.get("/").status_code == 200


def test_sign_in_attempts_are_limited_per_client(database):
    ticking = Ticking()
    site = make_site(database, sign_ins=auth.RateLimit(limit=10, window=60, now=ticking))
    for _ in range(10):
        assert site.client.get("/sign-in?token=guess").status_code == 403
    # The eleventh attempt within the minute is refused even with the right token.
    limited = site.client.get(f"/sign-in?token={site.links.token}")
    assert limited.status_code == 429
    assert "set-cookie" not in limited.headers
    ticking.now += 61
    assert site.client.get(f"/sign-in?token={site.links.token}").status_code == 303


def test_a_forged_session_cookie_is_signed_out_and_cleared(anonymous):
    anonymous.client.cookies.set(auth.COOKIE, "forged-session-id")
    response = anonymous.client.get("/cases")
    assert response.status_code == 303
    assert response.headers["location"] == "/signed-out"
    assert (
        f'{auth.COOKIE}=""' in response.headers["set-cookie"]
        or "Max-Age=0" in (response.headers["set-cookie"])
    )


def test_a_session_does_not_outlive_the_server(database):
    """Sessions live in the server's memory: a restarted server knows none of them."""
    before = make_site(database)
    before.sign_in()
    cookie = before.client.cookies.get(auth.COOKIE)
    after = make_site(database)  # a new server process: a new session store
    after.client.cookies.set(auth.COOKIE, cookie)
    assert after.client.get("/").status_code == 303


def test_a_session_ends_after_thirty_minutes_without_use(database):
    ticking = Ticking()
    site = make_site(database, sessions=auth.SessionStore(now=ticking))
    site.sign_in()
    ticking.now += 29 * 60
    assert site.client.get("/").status_code == 200  # used: the idle time restarts
    ticking.now += 29 * 60
    assert site.client.get("/").status_code == 200
    ticking.now += auth.IDLE_TIMEOUT + 1
    response = site.client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/signed-out"
    assert auth.IDLE_TIMEOUT == 30 * 60  # as docs/web.md says


def test_signing_out_ends_the_session(web):
    assert web.client.post("/sign-out", data={"csrf_token": web.csrf()}).status_code == 303
    assert web.client.get("/").status_code == 303


# -- CSRF ------------------------------------------------------------------------------


def _post_routes(site: Site) -> list[str]:
    found = []
    for route in site.client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route) and route.methods and "POST" in route.methods:
            found.append(route.path.replace("{ref:path}", "2026-008"))
    return found


def test_every_form_refuses_a_post_without_the_csrf_token(web):
    routes = _post_routes(web)
    assert {"/cases/2026-008", "/open", "/sign-out"} <= set(routes)
    before = _last_seq(web, "2026-008")
    for path in routes:
        missing = web.client.post(path, data={"trigger": "add_note", "field-note": "x"})
        assert missing.status_code == 403, path
        wrong = web.client.post(
            path, data={"trigger": "add_note", "field-note": "x", "csrf_token": "wrong"}
        )
        assert wrong.status_code == 403, path
    assert _last_seq(web, "2026-008") == before  # nothing written
    assert web.client.get("/").status_code == 200  # and still signed in


def test_a_token_from_another_session_is_refused(database):
    one, other = make_site(database), make_site(database)
    one.sign_in()
    other.sign_in()
    stolen = other.csrf()
    response = one.client.post(
        "/cases/2026-008", data={"trigger": "add_note", "field-note": "x", "csrf_token": stolen}
    )
    assert response.status_code == 403


def test_every_form_on_a_page_carries_the_session_token(web):
    page = web.client.get("/cases/2026-008").text
    forms = re.findall(r"<form method=\"post\".*?</form>", page, re.S)
    assert len(forms) >= 2
    for form in forms:
        assert f'name="csrf_token" value="{web.csrf()}"' in form


# -- headers ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/cases", "/cases/2026-008", "/timeline/2026-008", "/nope"])
def test_security_headers_on_every_page(web, path):
    response = web.client.get(path)
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in CSP and "script-src 'self'" in CSP


def test_security_headers_before_sign_in_too(anonymous):
    for path in ("/", "/signed-out", "/sign-in?token=x"):
        response = anonymous.client.get(path)
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["cache-control"] == "no-store"


def test_no_page_holds_inline_script_or_style(web):
    """The policy allows no inline script or style: the pages must not need any."""
    for path in ("/", "/cases", "/cases/2026-008", "/timeline/2026-008", "/open"):
        text = web.client.get(path).text
        assert "<style" not in text, path
        assert not re.search(r"\sstyle=", text), path
        assert not re.search(r"\son[a-z]+=", text), path  # no event-handler attributes
        for script in re.findall(r"<script[^>]*>", text):
            assert 'src="/static/' in script, path


def test_the_app_factory_takes_its_own_context_maker(database):
    made: list[str] = []

    def contexts():
        from casereview.infra.now import FixedClock
        from casereview.services.context import ServiceContext

        from .conftest import TODAY

        made.append("one")
        return ServiceContext(f"sqlite:///{database}", "demo", FixedClock(TODAY))

    from starlette.testclient import TestClient

    links = auth.SignInLinks()
    client = TestClient(create_app(contexts, links=links), follow_redirects=False)
    client.get(f"/sign-in?token={links.token}")
    assert client.get("/").status_code == 200
    assert made  # every request's services ran on a context the factory made


def test_a_loopback_server_refuses_another_host_name(database):
    """DNS rebinding: a page elsewhere that points its own name at 127.0.0.1 sends that
    name as the Host header, and is refused before anything else."""
    from casereview.web.app import hosts_for

    site = make_site(database, hosts=hosts_for("127.0.0.1"))
    evil = site.client.get(
        f"/sign-in?token={site.links.token}", headers={"host": "attacker.example"}
    )
    assert evil.status_code == 400
    assert "set-cookie" not in evil.headers
    ok = site.client.get(f"/sign-in?token={site.links.token}", headers={"host": "127.0.0.1:8000"})
    assert ok.status_code == 303
    assert hosts_for("0.0.0.0") == ("*",)
    assert hosts_for("casereview.partnership.local") == ("casereview.partnership.local",)
