"""The layout, the vendored GOV.UK Frontend and the accessibility statement in a real
browser, on a small Starlette app of their own: sample pages built of the GOV.UK
components the web interface uses, served by uvicorn under the web interface's
Content-Security-Policy. Every page passes the checks of `Pages.check` (conftest)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "src" / "casereview" / "web"
PARTNERSHIP = "Northshire <Safeguarding> & Children's Partnership"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)

# A page with what the web interface's pages hold: a back link, a table, a summary
# list, tags, an error summary and a form with a date input, radios and a text area.
SAMPLE = """\
{% extends "layout.html" %}
{% from "govuk_frontend_jinja/components/back-link/macro.html" import govukBackLink %}
{% from "govuk_frontend_jinja/components/button/macro.html" import govukButton %}
{% from "govuk_frontend_jinja/components/date-input/macro.html" import govukDateInput %}
{% from "govuk_frontend_jinja/components/error-summary/macro.html" import govukErrorSummary %}
{% from "govuk_frontend_jinja/components/radios/macro.html" import govukRadios %}
{% from "govuk_frontend_jinja/components/summary-list/macro.html" import govukSummaryList %}
{% from "govuk_frontend_jinja/components/table/macro.html" import govukTable %}
{% from "govuk_frontend_jinja/components/tag/macro.html" import govukTag %}
{% from "govuk_frontend_jinja/components/textarea/macro.html" import govukTextarea %}
{% block title %}{{ heading }}{% endblock %}
{% block beforeContent %}{{ govukBackLink({"href": "/", "text": "Back"}) }}{% endblock %}
{% block content %}
{% if errors %}
{{ govukErrorSummary({"titleText": "There is a problem", "errorList": errors}) }}
{% endif %}
<h1 class="govuk-heading-l">{{ heading }}</h1>
{{ govukTable({
  "caption": "Clocks due", "captionClasses": "govuk-table__caption--m",
  "head": [{"text": "Case"}, {"text": "Clock"}, {"text": "Due"}, {"text": "Status"},
           {"text": "Notification reference"}],
  "rows": [
    [{"html": '<a class="govuk-link" href="/cases/2026-001">2026-001</a>'},
     {"text": "Rapid review"}, {"text": "16 Feb 2026"},
     {"html": govukTag({"text": "Overdue", "classes": "govuk-tag--red"})},
     {"text": "NORTHSHIRE-SIN-2026-000420"}],
    [{"html": '<a class="govuk-link" href="/cases/2026-002">2026-002</a>'},
     {"text": "Publication"}, {"text": "3 Mar 2026"},
     {"html": govukTag({"text": "On track", "classes": "govuk-tag--green"})},
     {"text": "NORTHSHIRE-SIN-2026-000421"}],
  ],
}) }}
{{ govukSummaryList({"rows": [
  {"key": {"text": "State"}, "value": {"text": "Rapid review"}},
  {"key": {"text": "Pseudonym"}, "value": {"text": "Child A"}},
]}) }}
<form method="post" action="{{ request.url.path }}" novalidate>
  <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
  {{ govukDateInput({"id": "on", "namePrefix": "on",
    "fieldset": {"legend": {"text": "Date it happened", "classes": "govuk-fieldset__legend--s"}},
    "hint": {"text": "For example, 27 3 2026"},
    "errorMessage": {"text": errors[0].text} if errors else none}) }}
  {{ govukRadios({"name": "outcome",
    "fieldset": {"legend": {"text": "Decision", "classes": "govuk-fieldset__legend--s"}},
    "items": [{"value": "review", "text": "Review"},
              {"value": "no-review", "text": "No review"}]}) }}
  {{ govukTextarea({"name": "rationale", "id": "rationale", "label": {"text": "Why"}}) }}
  {{ govukButton({"text": "Record"}) }}
</form>
{% endblock %}
"""

environment = jinja2.Environment(
    loader=jinja2.ChoiceLoader(
        [
            jinja2.DictLoader({"sample.html": SAMPLE}),
            jinja2.FileSystemLoader(WEB / "templates"),
            jinja2.PrefixLoader(
                {"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}
            ),
        ]
    ),
    autoescape=True,
    undefined=jinja2.ChainableUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class User:
    display_name = "Sam Officer"
    roles = ("business_unit",)


def make_app(csrf: str) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.base import BaseHTTPMiddleware
    from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    def render(request: Any, template: str, nav: str | None, **values: Any) -> HTMLResponse:
        body = environment.get_template(template).render(
            request=request,
            partnership_name=PARTNERSHIP,
            user=None if request.cookies.get("signed_out") else User(),
            nav=nav,
            csrf_token=csrf,
            **values,
        )
        return HTMLResponse(body, status_code=values.pop("status", 200))

    async def due(request: Any) -> Any:
        return render(request, "sample.html", "due", heading="What is due")

    async def cases(request: Any) -> Any:
        return render(request, "sample.html", "cases", heading="Cases")

    async def case(request: Any) -> Any:
        if request.method == "POST":
            form = await request.form()
            if form.get("csrf_token") != csrf:
                return PlainTextResponse("Forbidden", status_code=403)
            return render(
                request, "sample.html", "cases", heading="Case 2026-001",
                errors=[{"text": "Enter the date it happened", "href": "#on-day"}], status=400,
            )  # fmt: skip
        return render(request, "sample.html", "cases", heading="Case 2026-001")

    async def accessibility(request: Any) -> Any:
        return render(request, "accessibility.html", None)

    async def sign_out(request: Any) -> Any:
        form = await request.form()
        if form.get("csrf_token") != csrf:
            return PlainTextResponse("Forbidden", status_code=403)
        response = RedirectResponse("/accessibility", status_code=303)
        response.set_cookie("signed_out", "1", httponly=True, samesite="strict")
        return response

    async def headers(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["content-security-policy"] = CSP
        return response

    return Starlette(
        routes=[
            Route("/", due),
            Route("/cases", cases),
            Route("/cases/2026-001", case, methods=["GET", "POST"]),
            Route("/accessibility", accessibility),
            Route("/sign-out", sign_out, methods=["POST"]),
            Mount("/static", StaticFiles(directory=WEB / "static"), name="static"),
        ],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=headers)],
    )


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, str]]:
    """The sample app served by uvicorn on a free port of 127.0.0.1: (base URL, CSRF)."""
    import uvicorn

    csrf = secrets.token_urlsafe(16)
    config = uvicorn.Config(make_app(csrf), host="127.0.0.1", port=0, log_level="warning")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not served.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = served.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", csrf
    served.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def pages(open_pages, server) -> Any:
    return open_pages(server[0])


def test_every_sample_page_passes_axe_keyboard_and_400_percent_zoom(pages):
    page = pages.page
    for path, name in [
        ("/", "due"),
        ("/cases", "cases"),
        ("/cases/2026-001", "case"),
        ("/accessibility", "accessibility"),
    ]:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        pages.check(name)
    assert pages.checked == ["due", "cases", "case", "accessibility"]


def test_a_refused_form_shows_the_error_summary_focused_and_passes_the_checks(pages):
    page = pages.page
    page.goto("/cases/2026-001")
    page.get_by_label("Day").fill("31")
    page.get_by_role("button", name="Record").click()
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert "Enter the date it happened" in summary.inner_text()
    assert page.title().startswith("Error: Case 2026-001 – casereview – ")
    # GOV.UK Frontend's script moves the focus to the summary, for screen readers.
    assert page.evaluate("() => document.activeElement.className").startswith("govuk-error-summary")
    pages.check("case-refused")


def test_the_layout_names_the_partnership_not_gov_uk(pages):
    page = pages.page
    page.goto("/cases/2026-001")
    assert page.evaluate("() => document.documentElement.lang") == "en-GB"
    header = page.locator("header").inner_text()
    assert PARTNERSHIP in header  # escaped in the markup, shown as written
    assert "casereview" in header
    assert "GOV.UK" not in page.content()
    assert page.locator("svg").count() == 0  # no crown, no crest, no licence logo
    for selector in ("h1", ".govuk-generic-header", ".govuk-service-navigation", "footer a"):
        font = page.evaluate(
            f"() => getComputedStyle(document.querySelector('{selector}')).fontFamily"
        )
        assert font == "arial, sans-serif", selector
    # The section is marked: the case page belongs to Cases (active, not the page).
    current = page.locator(".govuk-service-navigation [aria-current]")
    assert current.count() == 1
    assert current.inner_text().strip() == "Cases"
    assert current.get_attribute("aria-current") == "true"
    page.goto("/cases")
    assert page.locator('.govuk-service-navigation [aria-current="page"]').inner_text() == "Cases"
    # Sections the app does not serve are not linked.
    links = page.locator(".govuk-service-navigation__list a").all_inner_texts()
    assert [text.strip() for text in links] == ["What is due", "Cases"]
    footer = page.locator("footer")
    assert footer.get_by_role("link", name="Accessibility statement").count() == 1
    assert "Crown copyright" not in footer.inner_text()


def test_govuk_frontend_runs_as_a_module_without_inline_script(pages):
    page = pages.page
    page.goto("/")
    classes = page.evaluate("() => document.body.className")
    assert "govuk-frontend-supported" in classes and "js-enabled" in classes
    assert page.locator("script:not([src])").count() == 0
    assert page.locator("[style]").count() == 0
    assert page.locator("style").count() == 0
    # On a narrow screen the sections fold behind GOV.UK Frontend's menu button.
    page.set_viewport_size({"width": 320, "height": 800})
    toggle = page.locator(".govuk-service-navigation__toggle")
    toggle.wait_for(state="visible")  # GOV.UK Frontend answers the media query's change
    page.locator("#navigation").wait_for(state="hidden")
    toggle.click()
    page.locator("#navigation").wait_for(state="visible")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert pages.csp_violations == []


def test_every_page_works_without_javascript(open_pages, server, artefacts):
    plain = open_pages(server[0], java_script_enabled=False)
    page = plain.page
    page.goto("/")
    assert "js-enabled" not in (page.locator("body").get_attribute("class") or "")
    # The sections are listed (the menu button is only for JavaScript).
    assert page.get_by_role("link", name="Cases").is_visible()
    assert not page.locator(".govuk-service-navigation__toggle").is_visible()
    page.goto("/cases/2026-001")
    page.get_by_role("button", name="Record").click()
    page.wait_for_load_state()
    assert "Enter the date it happened" in page.locator(".govuk-error-summary").inner_text()
    page.screenshot(path=artefacts / "case-refused-no-javascript.png", full_page=True)


def test_sign_out_is_a_form_with_the_csrf_token(open_pages, server):
    base, csrf = server
    own = open_pages(base)
    page = own.page
    page.goto("/")
    assert "Signed in as Sam Officer" in page.locator("header").inner_text()
    form = page.locator("header form")
    assert form.get_attribute("method") == "post"
    assert form.locator('input[name="csrf_token"]').get_attribute("value") == csrf
    # By keyboard: Tab to the button, Enter.
    own.from_the_top()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.innerText") == "Sign out":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/accessibility")
    assert "Signed in as" not in page.locator("header").inner_text()
    own.check("signed-out")


def test_at_400_percent_a_wide_table_scrolls_within_itself_and_takes_the_focus(pages):
    page = pages.page
    page.goto("/")
    table = page.locator("table.govuk-table")
    assert table.get_attribute("tabindex") is None  # nothing to scroll: no extra Tab stop
    page.set_viewport_size({"width": 320, "height": 800})
    page.evaluate("() => new Promise(done => requestAnimationFrame(done))")  # resized
    sizes = table.evaluate("t => [t.scrollWidth, t.clientWidth]")
    assert sizes[0] > sizes[1], sizes  # it scrolls, the page does not
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    assert table.get_attribute("tabindex") == "0"
    table.focus()
    outline = table.evaluate("t => getComputedStyle(t).outlineStyle + ' ' + t.style.outline")
    assert outline.startswith("solid")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # The keyboard scrolls it (smoothly: wait for it to move).
    page.wait_for_function("() => document.querySelector('table.govuk-table').scrollLeft > 0")
