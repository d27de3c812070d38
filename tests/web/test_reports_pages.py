"""Reports on the web: the annual report inside the layout (the report's own HTML body),
its year and review-type filters, the action plans, and every download, each read back
by its real parser and, where the CLI writes the same file, byte for byte the CLI's."""

from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest
from icalendar import Calendar

from casereview.formats.report import as_html
from casereview.infra.now import FixedClock, SystemClock
from casereview.services import cases, due, report
from casereview.services.context import ServiceContext
from tests.actions_support import ACTIONS_DIR, END, build
from tests.web.conftest import current_section

from .conftest import ACCOUNT, TODAY, make_site

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _built(web, **options):
    ctx = web.context()
    try:
        return report.build_report(ctx, **options)
    finally:
        ctx.close()


def test_the_report_page_shows_the_reports_own_body_inside_the_layout(web):
    response = web.client.get("/reports")
    assert response.status_code == 200
    figures = _built(web)
    body = "".join(as_html.body_chunks(figures, detail=False, inline_style=False))
    assert body in response.text
    assert response.text.count("<html") == 1  # one page, not a page inside a page
    assert current_section(response.text) == "Reports"
    # The demo's 2025-26 as at 16 Feb 2026: one row per figure of every section.
    assert len(re.findall(r'<tr id="', response.text)) == sum(
        len(figures.section(section_id)) for section_id, _ in as_html.SECTIONS
    )
    assert "Figures for 2025-26" in response.text


def test_the_report_page_holds_no_inline_style(web):
    """The report's legends are drawn as SVGs on the web: the policy forbids style
    attributes. The file the CLI writes keeps its own."""
    text = web.client.get("/reports").text
    assert "<style" not in text
    assert not re.search(r"\sstyle=", text)
    assert 'class="swatch"' in text
    assert 'style="background:' in as_html.render(_built(web), detail=False)


def test_the_reports_styles_come_from_a_file_covering_every_class_it_draws(web):
    """The Content-Security-Policy allows no inline style, so the report's look is in
    /static/report.css, linked from the page: each class the report's body uses has a
    rule there, scoped to the report's container so that none reaches the layout."""
    page = web.client.get("/reports").text
    assert '<link rel="stylesheet" href="/static/report.css">' in page
    served = web.client.get("/static/report.css")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/css")
    css = served.text
    body = "".join(as_html.body_chunks(_built(web), detail=True, inline_style=False))
    used = {c for attr in re.findall(r'class="([^"]+)"', body) for c in attr.split()}
    # Classes that only mark parts of the drawing for its SVG (no style of their own).
    drawn_only = {"tick", "lane", "quarters", "timeline", "timeline-part", "linked",
                  "review-type", "case", "detail", "headline", "chart-timeline",
                  "chart-quarters"}  # fmt: skip
    missing = sorted(c for c in used - drawn_only if f".{c}" not in css)
    assert missing == [], missing
    rules = [r.strip() for r in re.sub(r"/\*.*?\*/", "", css, flags=re.S).split("}")]
    selectors = [r.split("{")[0].strip() for r in rules if "{" in r]
    scoped = [s for s in selectors if not s.startswith("@media")]
    assert scoped and all(
        part.strip().startswith(".casereview-report") for s in scoped for part in s.split(",")
    ), scoped


def test_the_year_and_review_type_filters_are_the_clis(web):
    text = web.client.get("/reports?year=2024-25").text
    assert "Figures for 2024-25" in text
    earlier = _built(web, year=2024)
    assert "".join(as_html.body_chunks(earlier, detail=False, inline_style=False)) in text
    assert 'href="/reports/download/report.csv?year=2024-25"' in text
    typed = web.client.get("/reports?workflow=england-lcspr")
    assert typed.status_code == 200
    one_type = _built(web, workflow="england-lcspr")
    assert "".join(as_html.body_chunks(one_type, detail=False, inline_style=False)) in typed.text


def test_a_bad_year_is_shown_in_the_error_summary(web):
    response = web.client.get("/reports?year=2025-27")
    assert response.status_code == 400
    assert "govuk-error-summary" in response.text
    assert 'href="#year"' in response.text
    assert "second year must follow the first" in response.text


def test_an_unknown_download_is_not_found(web):
    assert web.client.get("/reports/download/report.exe").status_code == 404
    assert web.client.get("/reports/download/secrets.ics").status_code == 404


def test_downloads_need_a_session(anonymous):
    response = anonymous.client.get("/reports/download/report.csv")
    assert response.status_code == 303
    assert response.headers["location"] == "/signed-out"


# -- downloads against the CLI ----------------------------------------------------------


@pytest.fixture
def cli_as_demo(cli, as_user, monkeypatch):
    """The CLI run by the demo's account on the tests' day, as the server runs."""
    as_user(ACCOUNT)
    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    for name in ("CASEREVIEW_DB", "CASEREVIEW_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return cli


def _download(web, name: str, media_type: str):
    response = web.client.get(f"/reports/download/{name}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    filename = response.headers["content-disposition"]
    assert filename.startswith('attachment; filename="') and filename.endswith('"')
    return response


TEXT_DOWNLOADS = [
    ("report.csv", "text/csv; charset=utf-8", ["report", "--year", "2025-26", "--format", "csv"]),
    ("report.json", "application/json", ["report", "--year", "2025-26", "--format", "json"]),
    (
        "report.md",
        "text/markdown; charset=utf-8",
        ["report", "--year", "2025-26", "--format", "md"],
    ),
    (
        "report.html",
        "text/html; charset=utf-8",
        ["report", "--year", "2025-26", "--format", "html"],
    ),
    ("decision-log.csv", "text/csv; charset=utf-8", ["log", "export", "--format", "csv"]),
    ("decision-log.json", "application/json", ["log", "export", "--format", "json"]),
    ("decision-log.md", "text/markdown; charset=utf-8", ["log", "export", "--format", "md"]),
    ("calendar.ics", "text/calendar; charset=utf-8", ["calendar", "export"]),
]


@pytest.mark.parametrize(("name", "media_type", "command"), TEXT_DOWNLOADS)
def test_a_download_is_byte_for_byte_the_clis_file(
    web, database, cli_as_demo, tmp_path, name, media_type, command
):
    response = _download(web, name, media_type)
    written = tmp_path / f"cli-{name}"
    result = cli_as_demo(*command, "--db", str(database), "--output", str(written))
    assert result.exit_code == 0, result.stderr
    assert response.content == written.read_bytes()


def test_the_report_downloads_read_back(web):
    figures = _built(web)
    rows = list(
        csv.reader(
            io.StringIO(
                _download(web, "report.csv", "text/csv; charset=utf-8").text.lstrip("\ufeff")
            )
        )
    )
    assert len(rows) > 1
    shape = json.loads(_download(web, "report.json", "application/json").content)
    assert shape["period"]["label"] == figures.period.label == "2025-26"
    book = openpyxl.load_workbook(io.BytesIO(_download(web, "report.xlsx", XLSX).content))
    assert book.sheetnames
    response = web.client.get("/reports/download/report.xlsx?year=2024-25")
    assert response.headers["content-disposition"] == 'attachment; filename="report-2024-25.xlsx"'


def test_the_decision_log_downloads_read_back(web):
    ctx = web.context()
    try:
        every = cases.list_cases(ctx, voided=True)
    finally:
        ctx.close()
    shape = json.loads(_download(web, "decision-log.json", "application/json").content)
    refs = {event["case_ref"] for event in shape["events"]}
    assert refs == {c.ref for c in every}
    text = _download(web, "decision-log.csv", "text/csv; charset=utf-8").content.decode("utf-8-sig")
    assert len([r for r in csv.reader(io.StringIO(text)) if r]) > len(shape["events"])
    one = web.client.get("/reports/download/decision-log.json?case=2026-008")
    assert {event["case_ref"] for event in json.loads(one.content)["events"]} == {"2026-008"}


def test_the_due_and_case_list_workbooks_are_the_clis(web, database, cli_as_demo, tmp_path):
    ctx = web.context()
    try:
        every = due.due_list(ctx, limit=None)
    finally:
        ctx.close()
    book = openpyxl.load_workbook(io.BytesIO(_download(web, "due.xlsx", XLSX).content))
    sheet = book["Due"]
    refs = [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert refs == [item.ref for item in every.items]
    written = tmp_path / "due.xlsx"
    assert cli_as_demo("due", "--db", str(database), "--xlsx", str(written)).exit_code == 0
    assert _sheets(written.read_bytes()) == _sheets(_download(web, "due.xlsx", XLSX).content)
    written = tmp_path / "cases.xlsx"
    listed = cli_as_demo("case", "list", "--db", str(database), "--xlsx", str(written))
    assert listed.exit_code == 0, listed.stderr
    assert _sheets(written.read_bytes()) == _sheets(_download(web, "cases.xlsx", XLSX).content)


def _sheets(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    """Every sheet's cells (xlsx files hold their moment of writing, so not the bytes)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


def test_the_calendar_download_reads_back(web):
    feed = Calendar.from_ical(
        _download(web, "calendar.ics", "text/calendar; charset=utf-8").content
    )
    found = list(feed.walk("VEVENT"))
    assert found
    assert all(str(e["uid"]).endswith("@casereview") for e in found)


# -- action plans -------------------------------------------------------------------------


@pytest.fixture
def planned(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(ACTIONS_DIR))
    path = tmp_path / "plan.db"
    build(f"sqlite:///{path}").close()
    site = make_site(path, account="bu", today=END)
    site.sign_in()
    return site


def test_the_action_plans_page_lists_each_cases_plan(planned):
    from casereview.services import actions

    ctx = ServiceContext(planned.url, planned.account, FixedClock(END))
    try:
        document = actions.plan_document(ctx)
    finally:
        ctx.close()
    text = planned.client.get("/reports/action-plans").text
    assert [c.ref for c in document.cases] == ["NR-1"]
    table = text.split('id="plans-table"', 1)[1].split("</table>", 1)[0]
    assert 'href="/cases/NR-1"' in table
    for fmt in ("html", "md", "csv", "xlsx"):
        assert f'href="/reports/download/action-plan.{fmt}?ref=NR-1"' in table
    plan = document.cases[0].plan
    assert f">{len(plan.recommendations)}<" in table and f">{len(plan.actions)}<" in table


def test_an_action_plan_downloads_in_each_format(planned):
    from casereview.formats.action_plan import WRITERS
    from casereview.services import actions

    ctx = ServiceContext(planned.url, planned.account, FixedClock(END))
    try:
        document = actions.plan_document(ctx, "NR-1")
    finally:
        ctx.close()
    for fmt, media_type in (
        ("md", "text/markdown; charset=utf-8"),
        ("csv", "text/csv; charset=utf-8"),
        ("html", "text/html; charset=utf-8"),
    ):
        response = planned.client.get(f"/reports/download/action-plan.{fmt}?ref=NR-1")
        assert response.headers["content-type"] == media_type
        assert response.content == WRITERS[fmt](document).encode("utf-8")
        assert 'filename="action-plan-NR-1.' in response.headers["content-disposition"]
    rows = list(
        csv.reader(
            io.StringIO(planned.client.get("/reports/download/action-plan.csv?ref=NR-1").text)
        )
    )
    assert any("4.1" in row for row in rows)
    book = openpyxl.load_workbook(
        io.BytesIO(planned.client.get("/reports/download/action-plan.xlsx?ref=NR-1").content)
    )
    assert book.sheetnames
