"""Scrutiny on the web: verifying the audit trail in the background (progress while it
runs, reloading without script; `audit verify`'s findings when done), the decision log's
download, an uploaded export verified against the log, and the corrections made after
the fact."""

from __future__ import annotations

import re
import time

import pytest
from starlette.testclient import TestClient

from casereview.presenters import audit as words
from casereview.services import audit, cases, corrections, users
from casereview.web import auth
from casereview.web.routes import scrutiny
from tests.conftest import unprotected
from tests.web.conftest import current_section


def _finished(site, location: str) -> str:
    """The verification's page once it has finished (it runs in a thread)."""
    for _ in range(600):
        text = site.client.get(location).text
        if 'id="verdict"' in text:
            return text
        time.sleep(0.1)
    raise AssertionError("the verification did not finish")


def _start(site) -> str:
    response = site.client.post("/scrutiny/verify", data={"csrf_token": site.csrf()})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/scrutiny/verify/")
    return location


def test_the_scrutiny_page_offers_each_check(web):
    text = web.client.get("/scrutiny").text
    assert current_section(text) == "Scrutiny"
    assert re.search(r'<form method="post" action="/scrutiny/verify"', text)
    assert 'enctype="multipart/form-data"' in text
    for fmt in ("csv", "json", "md"):
        assert f'href="/reports/download/decision-log.{fmt}"' in text
    forms = re.findall(r"<form method=\"post\".*?</form>", text, re.S)
    assert len(forms) == 3  # verify, upload, sign out
    for form in forms:
        assert f'name="csrf_token" value="{web.csrf()}"' in form


def test_a_verification_reports_what_audit_verify_reports(web):
    ctx = web.context()
    try:
        head = audit.checkpoint(ctx)
        every = cases.list_cases(ctx, voided=True)
        people = users.list_users(ctx)
    finally:
        ctx.close()
    text = _finished(web, _start(web))
    # The demo as at 16 Feb 2026: 113 events, 13 cases, 4 users, nothing wrong.
    assert (head.event_count, len(every), len(people)) == (113, 13, 4)
    verdict = re.search(r'id="verdict">([^<]*)<', text).group(1)
    assert verdict.startswith(
        f"OK: the audit trail verifies. 113 events, 13 cases, 4 users; head {head.head_hash[:16]}…"
    )
    assert 'http-equiv="refresh"' not in text
    assert 'id="findings"' not in text
    # Where the web makes a checkpoint, not a command line the reader may not have.
    assert "cannot be detected; an admin makes one on the Admin page, under Checkpoints." in text
    assert "casereview audit checkpoint" not in text


def test_a_tampered_log_shows_the_findings(web):
    unprotected(web.url, "UPDATE events SET rationale = 'rewritten' WHERE seq = 3")
    text = _finished(web, _start(web))
    verdict = re.search(r'id="verdict">([^<]*)<', text).group(1)
    assert verdict.startswith("FAILED: ")
    findings = re.findall(r"<li>(FAIL \[[a-z_]+\][^<]*)</li>", text.split('id="findings"')[1])
    assert findings
    assert f"FAILED: {len(findings)} finding(s)." in verdict
    assert any("3" in line for line in findings)


def test_while_it_runs_the_page_shows_progress_and_reloads_without_script(web):
    session = web.sessions.get(web.client.cookies.get(auth.COOKIE))
    runs = scrutiny.verifications_of(web.client.app)
    run = runs.add(session.id, 113)
    run.advance(40)
    response = web.client.get(f"/scrutiny/verify/{run.id}")
    assert response.status_code == 200
    assert response.headers["refresh"] == "2"
    assert '<meta http-equiv="refresh" content="2">' in response.text
    assert "40 of 113 events checked" in response.text
    assert "<script>" not in response.text


def test_a_verification_is_seen_only_by_the_session_that_started_it(web, database):
    location = _start(web)
    other = TestClient(web.client.app, follow_redirects=False)
    assert other.get(f"/sign-in?token={web.links.token}").status_code == 303
    assert other.get(location).status_code == 404
    assert web.client.get(location).status_code == 200
    assert web.client.get("/scrutiny/verify/made-up").status_code == 404


def test_starting_a_verification_needs_the_csrf_token(web):
    assert web.client.post("/scrutiny/verify", data={}).status_code == 403
    assert web.client.post("/scrutiny/verify", data={"csrf_token": "wrong"}).status_code == 403
    assert scrutiny.verifications_of(web.client.app).count() == 0


# -- an uploaded export ------------------------------------------------------------------


def _upload(site, data: bytes, name: str = "log.csv", token: str | None = None):
    return site.client.post(
        "/scrutiny/export",
        data={"csrf_token": site.csrf() if token is None else token},
        files={"export": (name, data, "application/octet-stream")},
    )


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_an_uploaded_export_is_verified_against_the_log(web, fmt):
    data = web.client.get(f"/reports/download/decision-log.{fmt}").content
    response = _upload(web, data, f"log.{fmt}")
    assert response.status_code == 200
    verdict = re.search(r'id="verdict">([^<]*)<', response.text).group(1)
    assert verdict.startswith(f"OK: log.{fmt} ({fmt} export of 100 events")
    assert verdict.endswith("at log event 113) is intact.")
    assert words.MATCHES_LOG in response.text


def test_a_changed_export_does_not_verify(web):
    data = web.client.get("/reports/download/decision-log.json").content
    changed = data.replace(b'"case_count": 13', b'"case_count": 12', 1)
    assert changed != data
    response = _upload(web, changed, "log.json")
    verdict = re.search(r'id="verdict">([^<]*)<', response.text).group(1)
    assert verdict.startswith("FAILED: log.json (json export of 100 events")
    assert verdict.endswith("does not verify.")
    assert "FAIL [digest]" in response.text


def test_an_upload_needs_the_csrf_token_and_a_file(web):
    data = web.client.get("/reports/download/decision-log.csv").content
    assert _upload(web, data, token="wrong").status_code == 403
    empty = web.client.post(
        "/scrutiny/export",
        data={"csrf_token": web.csrf()},
        files={"export": ("", b"", "application/octet-stream")},
    )
    assert empty.status_code == 400
    assert "govuk-error-summary" in empty.text and 'href="#export"' in empty.text
    not_export = _upload(web, b"hello", "notes.txt")
    assert re.search(r'id="verdict">FAILED: notes.txt \(file\) does not verify', not_export.text)


def test_an_upload_over_the_limit_is_refused_before_it_is_read(web, monkeypatch):
    monkeypatch.setattr(scrutiny, "UPLOAD_LIMIT", 1000)
    monkeypatch.setattr(scrutiny, "FORM_OVERHEAD", 1000)
    data = web.client.get("/reports/download/decision-log.csv").content
    assert len(data) > 2000
    response = _upload(web, data)
    assert response.status_code == 413
    assert "govuk-error-summary" in response.text


# -- corrections ---------------------------------------------------------------------------


def test_corrections_after_the_fact_are_listed(web):
    none = web.client.get("/scrutiny").text
    assert 'id="corrections-none"' in none
    ctx = web.context()
    try:
        corrections.void(ctx, "2026-010", rationale="Opened twice for the same child")
    finally:
        ctx.close()
    text = web.client.get("/scrutiny").text
    table = text.split('id="corrections-table"', 1)[1].split("</table>", 1)[0]
    assert 'href="/cases/2026-010"' in table
    assert "Opened twice for the same child" in table
    assert len(re.findall(r"<tr class=\"govuk-table__row\">\s*<td", table)) == 1


def test_a_bad_year_for_corrections_is_shown_in_the_error_summary(web):
    response = web.client.get("/scrutiny?year=soon")
    assert response.status_code == 400
    assert 'href="#year"' in response.text


def test_a_run_finishing_while_its_page_is_drawn_never_shows_an_empty_verdict(web):
    """The worker sets the report, then `done`. A page that read the report first and
    `done` after could catch the run in between: finished, with no verdict ("None")."""
    ctx = web.context()
    try:
        report = audit.verify(ctx, jobs=1)
    finally:
        ctx.close()

    class Finishing(scrutiny.Verification):
        """A run whose worker finishes the moment the page looks at it."""

        @property  # type: ignore[override]
        def report(self):
            return self.__dict__.get("_report")

        @report.setter
        def report(self, value) -> None:
            self.__dict__["_report"] = value

        @property  # type: ignore[override]
        def done(self) -> bool:
            finished = self.__dict__.get("_done", False)
            if not finished:  # first look: not done yet, but done from now on
                self.__dict__["_report"] = report
                self.__dict__["_done"] = True
            return finished

        @done.setter
        def done(self, value: bool) -> None:
            self.__dict__["_done"] = value

    session = web.sessions.get(web.client.cookies.get(auth.COOKIE))
    runs = scrutiny.verifications_of(web.client.app)
    run = Finishing("racing", session.id, report.events)
    run.__dict__["_done"] = False
    run.__dict__["_report"] = None
    runs._runs[run.id] = run  # type: ignore[attr-defined]
    first = web.client.get(f"/scrutiny/verify/{run.id}").text
    assert 'id="progress"' in first and 'id="verdict"' not in first
    second = web.client.get(f"/scrutiny/verify/{run.id}").text
    verdict = re.search(r'id="verdict">([^<]*)<', second).group(1)
    assert verdict.startswith("OK: the audit trail verifies.")
