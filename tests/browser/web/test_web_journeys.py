"""The web interface as people use it, in a real browser: `casereview serve` started as a
subprocess on the demonstration database, signed in with the one-time link it prints,
and every page visited passing the checks of `Pages.check` (axe, keyboard, 400% zoom,
no Content-Security-Policy violation; screenshots under tests/browser/web/artefacts/).

The business unit's week: sign in, see what is due, open a case, open a new one and
record its notification to the Panel with a date. The chair's decision: a proposal
without its rationale is refused and the refusal shown in the error summary, with the
form kept; with the rationale it is recorded. Then signing out ends the session. The
scrutineer's verification (the audit trail from the page; the decision log downloaded,
read back and uploaded to be verified) and the admin adding a user."""

from __future__ import annotations

import datetime as dt
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

SIGN_IN = re.compile(r"Sign in at: (http://\S+/sign-in\?token=\S+)")


@dataclass
class Served:
    """A running `casereview serve`: its address, and the sign-in links it prints."""

    base: str
    process: subprocess.Popen[str]
    lines: queue.Queue[str]
    printed: list[str] = field(default_factory=list)

    def take_link(self, timeout: float = 30) -> str:
        """A sign-in link not used yet: the server prints one at start and the next each
        time one is used."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "\n".join(self.printed)
                continue
            self.printed.append(line)
            found = SIGN_IN.search(line)
            if found:
                assert found.group(1).startswith(f"{self.base}/sign-in?token=")
                return found.group(1)
        raise AssertionError("no sign-in link printed:\n" + "\n".join(self.printed))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Served]:
    """The demonstration cases (dated from today, recorded as this account, which the
    demo makes business unit and chair) served by `casereview serve` on a free port."""
    import casereview
    from casereview.infra.identity import os_account
    from casereview.services import demo

    folder = tmp_path_factory.mktemp("served")
    path = folder / "demo.db"
    demo.seed(f"sqlite:///{path}", os_account(), dt.date.today())
    port = free_port()
    # The casereview these tests import (the launcher keeps it under `python -I`).
    env = {**os.environ, "PYTHONPATH": str(Path(casereview.__file__).resolve().parents[1])}
    process = subprocess.Popen(
        [sys.executable, "-m", "casereview", "serve", "--db", str(path), "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    site = Served(f"http://127.0.0.1:{port}", process, lines)
    try:
        deadline = time.monotonic() + 60
        while not listening(port):
            assert process.poll() is None, f"casereview serve ended: {list(lines.queue)}"
            assert time.monotonic() < deadline, "casereview serve did not start listening"
            time.sleep(0.1)
        yield site
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def heading(page: Any) -> str:
    return page.locator("h1").first.inner_text().strip()


def test_the_sign_in_link_is_needed(open_pages, served):
    """Without the link's token nobody gets in; the accessibility statement is open to
    all (and passes the checks without a session too)."""
    stranger = open_pages(served.base)
    page = stranger.page
    page.goto("/")
    assert page.url == f"{served.base}/signed-out"
    stranger.check("signed-out")
    response = page.goto("/sign-in?token=not-the-token")
    assert response is not None and response.status == 403
    stranger.check("sign-in-refused")
    page.goto("/accessibility")
    assert heading(page) == "Accessibility statement for casereview"
    assert "Signed in as" not in page.locator("header").inner_text()
    stranger.check("accessibility-signed-out")


def test_the_business_unit_week_and_the_chair_decision(open_pages, served):
    person = open_pages(served.base)
    page = person.page

    # Monday: sign in with the link the server printed; What is due is the home page.
    page.goto(served.take_link())
    assert page.url == f"{served.base}/"
    assert "Signed in as" in page.locator("header").inner_text()
    current = page.locator('.govuk-service-navigation [aria-current="page"]')
    assert current.inner_text().strip() == "What is due"
    person.check("due")

    # The due list filtered (a refused filter keeps the form open with its error).
    page.locator("details", has_text="Filter").locator("summary").click()
    page.locator("#within").fill("ten")
    page.locator("main form").first.locator("button").first.click()
    page.wait_for_load_state()
    assert page.title().startswith("Error: ")
    person.check("due-filter-refused")
    page.locator("#within").fill("10")
    page.locator("main form").first.locator("button").first.click()
    page.wait_for_load_state()
    assert "within=10" in page.url
    assert page.locator(".govuk-error-summary").count() == 0
    person.check("due-within-10")
    page.goto("/")

    # A case from the due list.
    first_case = page.locator("main table a[href^='/cases/']").first
    reference = first_case.inner_text().strip()
    case_href = first_case.get_attribute("href")
    assert case_href is not None
    first_case.click()
    page.wait_for_load_state()
    assert reference in page.locator("main").inner_text()
    person.check("case-from-due")

    # Why that date (from the due list), and the case's timeline.
    page.go_back()
    page.locator("main table a", has_text="Why this date").first.click()
    page.wait_for_load_state()
    person.check("explain")
    page.goto(case_href)
    page.get_by_role("link", name="Timeline").click()
    page.wait_for_load_state()
    person.check("timeline")

    # A case that does not exist: the error page.
    response = page.goto("/cases/1999-999")
    assert response is not None and response.status == 404
    person.check("not-found")

    # The cases page, searched, and the accessibility statement in the signed-in layout.
    sections = page.get_by_role("navigation", name="Sections")
    sections.get_by_role("link", name="Cases").click()
    page.wait_for_load_state()
    person.check("cases")
    search = page.locator("main form input[type=search], main form input[name=q]").first
    search.fill("Child")
    search.press("Enter")
    page.wait_for_load_state()
    assert "q=Child" in page.url
    person.check("cases-searched")
    page.get_by_role("link", name="Accessibility statement").click()
    page.wait_for_load_state()
    assert "Signed in as" in page.locator("header").inner_text()
    person.check("accessibility")

    # A new case, then its notification to the Panel, dated.
    page.goto("/open")
    person.check("open-case")
    page.get_by_label("Case reference").fill("2026-420")
    page.get_by_label("Pseudonym").fill("Child W")
    fill_date(page, page.locator("main form").first, dt.date.today() - dt.timedelta(days=3))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert heading(page) == "Child W", page.locator("main").inner_text()[:500]
    case_url = page.url
    person.check("new-case")

    notify = open_step(page, "Notify the Panel")
    notify.get_by_label("Notification reference").fill("SIN-2026-0420")
    notified_on = dt.date.today() - dt.timedelta(days=1)
    fill_date(page, notify, notified_on)
    notify.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.split("#")[0] == case_url  # post, redirect, get
    assert page.locator(".govuk-error-summary").count() == 0
    state = page.locator("#case-state").inner_text()
    assert "Rapid review" in state or "rapid" in state.lower(), state
    person.check("notified")

    # The chair proposes the decision without saying why: refused, shown properly.
    propose = open_step(page, "Propose the rapid review decision")
    choose_first(propose)
    propose.locator("button[type=submit]").click()
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert summary.get_by_role("link").count() >= 1
    assert page.title().startswith("Error: ")
    refused_state = page.locator("#case-state").inner_text()
    assert refused_state == state  # nothing recorded
    person.check("decision-refused")

    # With the rationale it is recorded.
    propose = page.locator("details[open]").filter(has=page.locator("textarea"))
    propose.locator("textarea").first.fill("The threshold for a review is met.")
    choose_first(propose)
    propose.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 0
    assert page.locator("#case-state").inner_text() != state
    person.check("decision-recorded")

    # Sign out, by keyboard: the session ends and the pages are closed to it.
    person.from_the_top()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.innerText") == "Sign out":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"{served.base}/signed-out")
    page.goto(case_url)
    assert page.url == f"{served.base}/signed-out"


def test_the_scrutineer_verifies_and_the_admin_adds_a_user(open_pages, served, tmp_path):
    """The scrutineer's year-end: the audit trail verified from the page (its progress
    page reloads itself until the findings are in), the decision log downloaded and read
    back by the csv module, then uploaded to be verified against the database. The
    admin's task: a new user added, shown in the users' table."""
    import csv

    person = open_pages(served.base)
    page = person.page
    page.goto(served.take_link())
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Scrutiny").click()
    page.wait_for_load_state()
    assert heading(page) == "Scrutiny"
    person.check("scrutiny")

    page.get_by_role("button", name="Verify the audit trail").click()
    page.wait_for_selector("#verdict", timeout=120_000)  # the meta refresh brings it
    verdict = page.locator("#verdict").inner_text()
    assert verdict.startswith("OK: the audit trail verifies"), verdict
    assert page.locator(".govuk-panel--confirmation").count() == 1
    person.check("verification")

    page.goto("/scrutiny")
    with page.expect_download() as download:
        page.get_by_role("link", name="csv (the decision log)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) > 10 and "seq" in rows[0], rows[:2]

    page.locator("#export").set_input_files(str(saved))
    page.get_by_role("button", name="Verify the export").click()
    page.wait_for_load_state()
    assert heading(page) == "An export's verification"
    checked = page.locator("#verdict").inner_text()
    assert checked.startswith("OK: "), page.locator("main").inner_text()
    person.check("export-verified")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Admin").click()
    page.wait_for_load_state()
    assert heading(page) == "Admin"
    person.check("admin")
    page.get_by_label("Login name").fill("sam")
    page.get_by_label("Name", exact=True).fill("Sam Scrutineer")
    page.locator("main form").filter(has_text="Add the user").get_by_label(
        "scrutineer", exact=True
    ).check()
    page.get_by_role("button", name="Add the user").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 0, page.locator("main").inner_text()
    users_table = page.locator("main table").first.inner_text()
    assert "sam" in users_table and "Sam Scrutineer" in users_table, users_table
    banner = page.locator(".govuk-notification-banner--success")
    assert "The user has been added." in banner.inner_text()
    assert "sam" not in page.url.split("?", 1)[1]  # post/redirect/get: no one named
    person.check("admin-user-added")


def test_the_chair_decision_with_a_sign_off_round(open_pages, served):
    """The chair's decision at the decision point with the partners' sign-off round
    between: the decision proposed opens the round; sending the rapid review before every
    partner has signed is refused by the engine, its reason in the error summary; the
    business unit then keys in each partner's sign-off, naming the partner on whose
    behalf (the `on_behalf` rule the workflow gives it: the server acts as one account,
    so the partners' own sign-offs are recorded for them, as a business unit does); with
    the round complete the rapid review goes and the chair's decision is recorded, and
    the timeline shows each step with who took it."""
    person = open_pages(served.base)
    page = person.page
    page.goto(served.take_link())

    # A case at the decision point: opened, notified, its rapid review under way.
    page.goto("/open")
    page.get_by_label("Case reference").fill("2026-430")
    page.get_by_label("Pseudonym").fill("Child S")
    fill_date(page, page.locator("main form").first, dt.date.today() - dt.timedelta(days=5))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    case_url = page.url
    notify = open_step(page, "Notify the Panel")
    notify.get_by_label("Notification reference").fill("SIN-2026-0430")
    fill_date(page, notify, dt.date.today() - dt.timedelta(days=4))
    notify.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 0
    person.check("round-decision-point")

    # The chair proposes the decision, with the reason: the sign-off round is requested.
    propose = open_step(page, "Propose the rapid review decision")
    propose.get_by_label("lcspr", exact=True).check()
    propose.locator("textarea").first.fill("The criteria for a local review are met.")
    propose.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 0
    round_line = page.locator("#round-1").inner_text()
    assert "Rapid review sign-off" in round_line and "signed by nobody yet" in round_line
    waiting = round_line.split("waiting for", 1)[1]
    assert all(a in waiting for a in ("local_authority", "police", "icb")), round_line
    state = page.locator("#case-state").inner_text()
    person.check("round-requested")

    # Sent before the partners have signed: the engine refuses, its reason shown in the
    # error summary (the step named as the form names it), and nothing is recorded.
    early = open_step(page, "Submit the rapid review to the Panel")
    fill_date(page, early, dt.date.today())
    early.locator("button[type=submit]").click()
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    reason = summary.inner_text()
    assert "“Submit the rapid review to the Panel” refused:" in reason, reason
    assert "Rapid review sign-off" in reason, reason
    assert page.title().startswith("Error: ")
    assert page.locator("#case-state").inner_text() == state
    assert page.locator("#round-1").inner_text() == round_line
    person.check("round-submit-refused")

    # Each partner's sign-off, keyed in by the business unit on their behalf.
    page.goto(case_url)
    for partner, agency in (
        ("demo-la", "local_authority"),
        ("demo-police", "police"),
        ("demo-icb", "icb"),
    ):
        sign = open_step(page, "Sign off for an agency")
        sign.get_by_label("On behalf of").select_option(partner)
        sign.get_by_label(agency, exact=True).check()
        sign.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator(".govuk-error-summary").count() == 0, page.locator("main").inner_text()
        assert agency in page.locator("#round-1").inner_text().split("waiting for")[0]
    assert page.locator("#round-1").inner_text().endswith("; complete.")
    person.check("round-signed")

    # With the round complete the rapid review goes to the Panel, and the chair's
    # decision (a local review, on the decision the partners signed) is recorded.
    submit = open_step(page, "Submit the rapid review to the Panel")
    fill_date(page, submit, dt.date.today())
    submit.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 0, page.locator("main").inner_text()
    commission = open_step(page, "Commission a local review")
    commission.get_by_label("agreed", exact=True).check()  # the Panel's position
    commission.locator("textarea").first.fill("The partners signed the decision.")
    commission.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 0, page.locator("main").inner_text()
    decided = page.locator("#case-state").inner_text()
    assert decided != state
    person.check("round-decision-recorded")

    # The timeline: the decision, the round's sign-offs and on whose behalf each was.
    page.get_by_role("link", name="Timeline").click()
    page.wait_for_load_state()
    story = page.locator("main").inner_text()
    for step in (
        "Propose the rapid review decision",
        "Sign off for an agency",
        "Submit the rapid review to the Panel",
        "Commission a local review",
    ):
        assert step in story, step
    assert story.index("Propose the rapid review decision") < story.index(
        "Commission a local review"
    )
    for partner in ("demo-la", "demo-police", "demo-icb"):
        assert "on behalf of" in story and partner.split("-")[1] in story.lower()
    person.check("round-timeline")


def test_the_annual_report_is_styled_inside_the_layout(open_pages, served):
    """The report's own HTML inside the layout takes its styles from a file
    (/static/report.css), since the Content-Security-Policy allows no inline style:
    in Chromium its cards are laid out as a grid and its headings keep the layout's."""
    person = open_pages(served.base)
    page = person.page
    page.goto(served.take_link())
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Reports").click()
    page.wait_for_load_state()
    cards = page.locator("#report .cards").first
    assert cards.count() == 1
    style = cards.evaluate(
        "el => { const s = getComputedStyle(el); return [s.display, s.columnGap]; }"
    )
    assert style == ["grid", "12px"], style  # .75rem of 16px: report.css applied
    card = page.locator("#report .card").first.evaluate("el => getComputedStyle(el).borderTopStyle")
    assert card == "solid"
    # Scoped to the report: the layout's own heading is GOV.UK Frontend's as before.
    header = page.locator("header").first.evaluate("el => getComputedStyle(el).fontFamily")
    assert "system-ui" not in header
    assert person.csp_violations == []
    person.check("reports")


def open_step(page: Any, label: str) -> Any:
    """The form of one step the case page offers (a GOV.UK details element), opened."""
    details = page.locator("details").filter(has_text=label).first
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


def fill_date(page: Any, scope: Any, day: dt.date) -> None:
    """The first GOV.UK date input in `scope`, filled with `day`."""
    date_input = scope.locator(".govuk-date-input").first
    date_input.get_by_label("Day").fill(str(day.day))
    date_input.get_by_label("Month").fill(str(day.month))
    date_input.get_by_label("Year").fill(str(day.year))


def choose_first(scope: Any) -> None:
    """The first choice of every group of radios in `scope`."""
    for fieldset in scope.locator("fieldset:has(.govuk-radios)").all():
        fieldset.locator(".govuk-radios__input").first.check()


def test_the_pages_work_without_javascript(open_pages, served):
    """JavaScript only enhances: with it switched off a person signs in, reads what is
    due and a case, and a refused form still shows its error summary."""
    plain = open_pages(served.base, java_script_enabled=False)
    page = plain.page
    page.goto(served.take_link())
    assert page.url == f"{served.base}/"
    assert page.locator("main table a[href^='/cases/']").count() >= 1
    page.locator("main table a[href^='/cases/']").first.click()
    page.wait_for_load_state()
    assert page.locator("#case-state").is_visible()
    # A form sent empty is refused, and the error summary says why.
    page.goto("/open")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert page.title().startswith("Error: ")
    summary = page.locator(".govuk-error-summary")
    assert "Case reference" in summary.inner_text()
    page.screenshot(path=plain.artefacts / "no-javascript.png", full_page=True)
