"""The annual report's section on recommendations and actions in a real browser:
headless Chromium loads the report page for the national review's plan
(tests/actions_support.py), and the DOM it builds holds the counts by owner agency and
the oldest open actions as counted by hand; the page still prints. Same tools and
rules as test_report_html.py (needs /usr/bin/chromium; skipped without it outside CI)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from tests.actions_support import ACTIONS_DIR, END, build
from tests.browser.test_report_html import run_chromium

from casereview.formats.report import as_html
from casereview.services.report import build_report

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from tests.browser.test_report_html import chromium

    chromium()
    folder = tmp_path_factory.mktemp("report-actions")
    url = f"sqlite:///{folder / 'plan.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CASEREVIEW_WORKFLOWS", str(ACTIONS_DIR))
        desk = build(url)
        try:
            report = build_report(desk.as_("scrut"), start=dt.date(2026, 1, 1), end=END)
        finally:
            desk.close()
    target = folder / "report.html"
    target.write_text(as_html.render(report, detail=False), encoding="utf-8")
    return target


def _rows(dom: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', dom, re.S)
    assert table is not None, f"no table {table_id}"
    body = table.group(0).split("<tbody>", 1)[1]
    return [
        [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_dom_holds_the_hand_count(page, tmp_path):
    result = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert '<section class="figures" id="actions">' in dom
    # met, after extension, late, closed without completion, open, of which overdue
    assert _rows(dom, "actions-by-agency") == [
        ["icb", "1", "1", "0", "0", "0", "0"],
        ["local_authority", "1", "0", "0", "0", "1", "1"],
        ["police", "1", "0", "1", "1", "0", "0"],
        ["All agencies", "3", "1", "1", "1", "1", "1"],
    ]
    assert _rows(dom, "oldest-open-actions") == [
        ["NR-1", "4.1", "local_authority", "2026-09-30", "70"]
    ]
    assert "<script" not in dom.lower()


def test_the_page_with_the_section_prints_to_a4(page, tmp_path):
    pdf = tmp_path / "report.pdf"
    result = run_chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                          page.as_uri())  # fmt: skip
    assert pdf.exists(), result.stderr[-2000:]
    assert pdf.read_bytes().startswith(b"%PDF-")
