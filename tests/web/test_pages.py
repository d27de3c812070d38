"""The pages over the services: what is due (with the CLI's filters), cases (list,
search, pages), a case, its timeline and why a date is what it is. Each shows what the
service returns, in the presenters' words; child names never appear."""

from __future__ import annotations

import datetime as dt
import html
import re
import subprocess
import sys

from casereview.presenters import due as due_words
from casereview.presenters.words import long_day
from casereview.services import cases, due
from casereview.web import pages
from casereview.web.routes import cases as case_routes

from .conftest import TODAY


def test_due_lists_the_services_rows_with_links_to_the_case_and_why(web):
    response = web.client.get("/")
    assert response.status_code == 200
    ctx = web.context()
    try:
        result = due.due_list(ctx, limit=50)
    finally:
        ctx.close()
    assert due_words.summary_line(result, pages.spell) in response.text.replace("&#39;", "'")
    assert due_words.heading(result) in response.text
    rows = re.findall(r"<tr class=\"govuk-table__row\">\s*<td", response.text)
    assert len(rows) == len(result.items) > 0
    for item in result.items:
        assert f'href="/cases/{item.ref}"' in response.text
        assert f'href="/explain/{item.clock_id}/{item.ref}"' in response.text


def test_due_filters_as_the_cli(web):
    ctx = web.context()
    try:
        overdue = due.due_list(ctx, overdue_only=True, limit=50)
        within = due.due_list(ctx, within=5, limit=50)
        earlier = due.due_list(ctx, as_of=TODAY.replace(day=2), limit=50)
    finally:
        ctx.close()
    text = web.client.get("/?overdue=yes").text
    assert len(re.findall(r'href="/explain/', text)) == len(overdue.items)
    assert due_words.summary_line(overdue, pages.spell) in text
    text = web.client.get("/?within=5").text
    assert due_words.summary_line(within, pages.spell) in text
    text = web.client.get("/?as-of-day=2&as-of-month=2&as-of-year=2026").text
    assert due_words.heading(earlier) in text


def test_due_by_clock_offers_the_installed_clocks_by_name_and_filters_rows_and_counts(web):
    from casereview.services import filters

    ctx = web.context()
    try:
        choices = filters.clock_names(ctx)
        every = due.due_list(ctx, limit=50)
        chosen = sorted({i.clock_id for i in every.items if i.kind != "action"})[:2]
        only = due.due_list(ctx, clocks=chosen, limit=50)
    finally:
        ctx.close()
    page = web.client.get("/").text
    # A checkbox per clock the installed workflows declare, labelled by its name.
    boxes = re.findall(r'name="clock" type="checkbox" value="([^"]+)"', page)
    assert boxes == [i for i, _ in choices] and len(boxes) > 2
    for _, name in choices:
        assert f"{name}</label>" in html.unescape(page)
    # A plain GET form (no JavaScript): the ticked clocks as repeated parameters.
    text = web.client.get("/", params=[("clock", c) for c in chosen]).text
    assert len(re.findall(r'href="/explain/', text)) == len(only.items) > 0
    assert {i.clock_id for i in only.items} == set(chosen)
    line = due_words.summary_line(only, pages.spell, dict(choices))
    assert line in text.replace("&#39;", "'")
    assert f"({only.summary.open} open clock" in line and only.summary.open < every.summary.open
    for clock in chosen:
        assert f'value="{clock}" checked' in text
    refused = web.client.get("/?clock=no_such_clock")
    assert refused.status_code == 400
    assert "govuk-error-summary" in refused.text and 'href="#clock"' in refused.text
    assert 'id="clock-error"' in refused.text and 'id="clock"' in refused.text


def test_a_bad_filter_is_shown_in_the_error_summary(web):
    response = web.client.get("/?within=soon")
    assert response.status_code == 400
    assert "govuk-error-summary" in response.text
    assert 'href="#within"' in response.text
    assert 'id="within-error"' in response.text
    assert "Due within (working days)" in response.text
    both = web.client.get("/?within=3&overdue=yes")
    assert both.status_code == 400
    assert "cannot be combined" in both.text
    half = web.client.get("/?as-of-day=2&as-of-year=2026")
    assert half.status_code == 400
    assert "must include a month" in half.text
    assert 'id="as-of-error"' in half.text


def test_cases_list_and_search(web, monkeypatch):
    ctx = web.context()
    try:
        every = cases.list_cases(ctx)
    finally:
        ctx.close()
    text = web.client.get("/cases").text
    assert f"{len(every)} cases" in text
    for item in every:
        assert f'href="/cases/{item.ref}"' in text
    found = web.client.get("/cases?q=2026-00").text
    assert "found" in found and 'href="/cases/2026-001"' in found
    none = web.client.get("/cases?q=zzzz-nothing").text
    assert "0 cases found" in none


def test_cases_are_listed_a_page_at_a_time(web, monkeypatch):
    monkeypatch.setattr(case_routes, "PAGE", 5)
    first = web.client.get("/cases").text
    assert first.count('<tr class="govuk-table__row">') == 6  # header and five cases
    assert 'href="/cases?page=2"' in first
    second = web.client.get("/cases?page=2").text
    assert 'href="/cases?page=1"' in second
    shown = set(re.findall(r'href="/cases/([^"]+)"', first))
    assert shown.isdisjoint(re.findall(r'href="/cases/([^"]+)"', second))


def test_a_case_page_shows_its_state_fields_clocks_and_rounds(web):
    ctx = web.context()
    try:
        view = cases.show_case(ctx, "2026-008")
    finally:
        ctx.close()
    text = web.client.get("/cases/2026-008").text
    assert view.pseudonym in text and view.state_label in text
    for clock in view.clocks:
        assert clock.label in text
    for name in view.fields:
        assert f">{name}<" in text
    for rnd in view.rounds:
        assert rnd.label in text
    assert 'href="/timeline/2026-008"' in text


def test_an_unknown_case_is_not_found(web):
    response = web.client.get("/cases/1999-404")
    assert response.status_code == 404
    assert "There is a problem" in response.text


def test_a_child_name_is_never_shown(web):
    ctx = web.context()
    try:
        cases.open_case(
            ctx, "2026-200", aware_on=TODAY, fields={"child_name": "Zebedee Quartermain"}
        )
    finally:
        ctx.close()
    for path in ("/", "/cases", "/cases/2026-200", "/timeline/2026-200", "/cases?q=2026-200"):
        response = web.client.get(path)
        assert response.status_code == 200, path
        assert "Zebedee" not in response.text, path
    assert "Personal fields not shown: child_name" in web.client.get("/cases/2026-200").text


def test_timeline_lists_every_event_and_the_plan_against_what_happened(web):
    from casereview.presenters import timeline as words
    from casereview.services import timeline

    ctx = web.context()
    try:
        view = words.present(timeline.timeline(ctx, "2026-008"))
    finally:
        ctx.close()
    text = web.client.get("/timeline/2026-008").text
    seqs = [e.seq for e in view.entries if e.kind == "event"]
    assert seqs and all(f'id="event-{seq}"' in text for seq in seqs)
    assert 'id="plan-against-actual"' in text
    for bar in view.bars:
        assert bar.label in text
    # The annual report's plan-versus-actual chart, drawn for this case: a lane per run.
    svg = re.search(r'<div class="chart" id="plan-chart">(<svg.*?</svg>)</div>', text, re.S)
    assert svg is not None
    assert 'role="img"' in svg.group(1)
    assert svg.group(1).count('<g class="lane">') == len(view.bars)


def test_explain_says_why_a_due_date_is_what_it_is(web):
    from casereview.presenters import explain as words
    from casereview.services import explain

    ctx = web.context()
    try:
        view = words.present(explain.explain(ctx, "2026-008", "rapid_review"))
    finally:
        ctx.close()
    text = web.client.get("/explain/rapid_review/2026-008").text
    assert view.calculation is not None
    assert view.calculation.summary() in text
    for name, _value in words.facts_table(view):
        assert name in text
    assert 'id="explain-days"' in text


def test_explain_of_an_unknown_clock_is_not_found(web):
    assert web.client.get("/explain/no_such_clock/2026-008").status_code in (400, 404)


def test_due_does_not_import_the_web_packages(seeded):
    """`due`'s fast path stays free of the web interface's packages."""
    code = (
        "import sys\n"
        "from casereview.cli.app import main\n"
        "try:\n"
        f"    main(['due', '--db', {str(seeded)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('starlette', 'jinja2', 'uvicorn', 'casereview.web', 'multipart')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_cases_of_several_review_types_say_which(web):
    ctx = web.context()
    try:
        cases.open_case(ctx, "SAR-1", aware_on=TODAY, workflow="england-sar")
        labels = {i.ref: i.type for i in cases.list_cases(ctx)}
    finally:
        ctx.close()
    text = web.client.get("/cases").text
    assert '<th scope="col" class="govuk-table__header">Type</th>' in text
    assert f'<td class="govuk-table__cell">{labels["SAR-1"]}</td>' in text


def test_due_dates_are_written_as_gov_uk_writes_them(web):
    """Each due date reads `Mon 7 December 2026` and carries its ISO date for machines."""
    ctx = web.context()
    try:
        listed = due.due_list(ctx, limit=50)
    finally:
        ctx.close()
    text = web.client.get("/").text
    dated = [item for item in listed.items if item.due_on]
    assert dated
    for item in dated:
        on = dt.date.fromisoformat(str(item.due_on))
        assert f'<time datetime="{on.isoformat()}">{long_day(on)}</time>' in text
    assert long_day(dt.date(2026, 12, 7)) == "Mon 7 December 2026"


def test_the_demo_names_its_partnership_in_the_header(tmp_path):
    """`casereview demo` (and so `make serve`) builds a partnership with a name, which
    the header shows in place of the service's own."""
    from casereview.infra.now import FixedClock
    from casereview.services import demo
    from casereview.services.context import ServiceContext

    from .conftest import ACCOUNT, make_site

    path = tmp_path / "demo.db"
    ctx = ServiceContext(f"sqlite:///{path}", ACCOUNT, FixedClock(TODAY))
    try:
        demo.tour(ctx, replace=False)
    finally:
        ctx.close()
    site = make_site(path)
    site.sign_in()
    page = site.client.get("/").text
    header = page.split("</header>", 1)[0]
    name = html.escape(demo.PARTNERSHIP, quote=True)
    assert f'class="govuk-generic-header__homepage-link">{name}</a>' in header
    assert f"– casereview – {name}</title>" in page
