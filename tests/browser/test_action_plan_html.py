"""The HTML action plan in a real browser: headless Chromium renders it (not blank, its
RAG colours and progress bars drawn), dumps its DOM (the completions chart present, no
script from a person's text) and prints it to an A4 PDF. Same tools and rules as
test_report_html.py (needs /usr/bin/chromium; skipped without it outside CI)."""

from __future__ import annotations

import re

import pytest
from tests.actions_support import ACTIONS_DIR, build
from tests.browser.test_report_html import decode_png, run_chromium

from casereview.formats import action_plan
from casereview.services import actions

pytestmark = pytest.mark.browser

RAG_RED = (0xB0, 0x00, 0x20)
PROGRESS_BLUE = (0x1D, 0x4F, 0x91)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from tests.browser.test_report_html import chromium

    chromium()
    folder = tmp_path_factory.mktemp("plan")
    url = f"sqlite:///{folder / 'plan.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CASEREVIEW_WORKFLOWS", str(ACTIONS_DIR))
        desk = build(url)
        try:
            document = actions.plan_document(desk.as_("scrut"), "NR-1")
        finally:
            desk.close()
    target = folder / "plan.html"
    target.write_text(action_plan.html_text(document), encoding="utf-8")
    return target


def test_the_plan_renders_with_colours_and_bars(page, tmp_path):
    shot = tmp_path / "plan.png"
    result = run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1600",
                          page.as_uri())  # fmt: skip
    assert shot.exists(), result.stderr[-2000:]
    width, height, colours = decode_png(shot.read_bytes())
    assert (width, height) == (1280, 1600)
    assert len(colours) > 100, f"only {len(colours)} colours: the page looks blank"
    assert RAG_RED in colours
    assert PROGRESS_BLUE in colours


def test_dom_holds_the_chart_and_no_script(page, tmp_path):
    result = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert dom.count('<svg class="chart" id="completions"') == 1
    assert dom.count("<rect") == 7
    assert "<polyline" in dom
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "<title>Action plan: case NR-1</title>" in dom


def test_prints_to_a4_pdf(page, tmp_path):
    pdf = tmp_path / "plan.pdf"
    result = run_chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                          page.as_uri())  # fmt: skip
    assert pdf.exists(), result.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    boxes = {
        tuple(round(float(n)) for n in box.split()[2:])
        for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)
        for box in [box.decode()]
    }
    assert boxes == {(595, 842)}
