"""The web interface in a real browser: Debian's Chromium driven by Playwright (no browser
download), and the checks every page visited must pass (`Pages.check`):

- axe-core (axe-playwright-python) finds no violation of WCAG 2.2 A/AA or of its
  best-practice rules;
- no Content-Security-Policy violation (no inline script or style);
- by keyboard alone: the first Tab reaches the skip link, which moves the focus to the
  main content; Tab reaches every link, button and field, each with a visible focus;
- at 400% zoom (a 320 CSS-pixel-wide window) the page does not scroll sideways (a wide
  table scrolls within itself), and axe finds no violation there either;
- screenshots at both widths, kept under tests/browser/web/artefacts/ (git-ignored).

The accessibility statement (web/templates/accessibility.html) says these are tested:
change both together. Without /usr/bin/chromium the tests are skipped on a developer's
machine and fail in CI (CI=true), as the other browser tests do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.browser.test_report_html import chromium

ARTEFACTS = Path(__file__).parent / "artefacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDE = {"width": 1280, "height": 900}
ZOOMED = {"width": 320, "height": 900}  # 1,280 CSS pixels at 400%
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for a test module (Playwright's sync API keeps an event loop
    of its own while it runs, so it is not held across modules)."""
    path = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(path), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


# What Tab should reach: every visible, enabled control (a radio group is one stop).
FOCUSABLE = """() => {
  const selector = 'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]),'
    + ' select:not([disabled]), textarea:not([disabled]), summary,'
    + ' [tabindex]:not([tabindex="-1"])';
  const seen = new Set();
  const stops = [];
  for (const el of document.querySelectorAll(selector)) {
    // Not shown (display, visibility, or inside a closed <details>): no Tab stop.
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const key = el.type === 'radio' && el.name ? 'radio:' + el.name : null;
    if (key && seen.has(key)) continue;
    if (key) seen.add(key);
    const text = (el.innerText || el.value || el.name || el.id || '').trim().slice(0, 40);
    stops.push({key: key || mark(el), what: el.tagName.toLowerCase() + ' "' + text + '"'});
  }
  function mark(el) {
    if (!el.dataset.stop) el.dataset.stop = String(Math.random()).slice(2);
    return el.dataset.stop;
  }
  return stops;
}"""

# The element that has the focus: its stop (as FOCUSABLE names it), a description for a
# failure message, and whether it shows the focus (an outline or a box shadow).
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0
    && !/rgba\\(0, 0, 0, 0\\)|transparent/.test(style.outlineColor);
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  const key = el.type === 'radio' && el.name ? 'radio:' + el.name : el.dataset.stop || null;
  const text = (el.innerText || el.value || el.name || el.id || '').trim().slice(0, 40);
  return {key, shows: Boolean(outline || shadow),
          what: el.tagName.toLowerCase() + (text ? ' "' + text + '"' : '')};
}"""

# Moves the sequential-focus starting point to the top of the body (a probe focused and
# removed), so the next Tab goes where the first Tab after loading the page would.
TOP = """() => {
  document.activeElement && document.activeElement.blur && document.activeElement.blur();
  const probe = document.createElement('span');
  probe.tabIndex = -1;
  document.body.prepend(probe);
  probe.focus();
  probe.remove();
  window.scrollTo(0, 0);
}"""

NEXT_FRAME = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"

NO_SIDEWAYS_SCROLL = """() => {
  const root = document.documentElement;
  return {scroll: root.scrollWidth, client: root.clientWidth,
          body: document.body.scrollWidth,
          wide: [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1
                          && getComputedStyle(el).position !== 'fixed')
            .slice(0, 5).map(el => el.tagName.toLowerCase() + '.' + el.className)};
}"""


class Pages:
    """A browser context (one person's cookies) and the checks of every page."""

    def __init__(self, browser: Any, base_url: str, artefacts: Path, **context: Any) -> None:
        self.context = browser.new_context(base_url=base_url, viewport=WIDE, **context)
        self.page = self.context.new_page()
        self.artefacts = artefacts
        self.csp_violations: list[str] = []
        self.page.on("console", self._console)
        self.checked: list[str] = []

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_violations.append(message.text)

    def close(self) -> None:
        self.context.close()

    def check(self, name: str) -> None:
        """Every check, on the page as it is now (nothing is reloaded: the page may be
        the answer to a form); `name` names its screenshots."""
        self.accessible(name)
        self.page.screenshot(path=self.artefacts / f"{name}.png", full_page=True)
        self.keyboard(name)
        self.reflows(name)
        assert self.csp_violations == [], self.csp_violations
        self.checked.append(name)

    def accessible(self, name: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page, options=AXE_OPTIONS)
        violations = results.response["violations"]
        found = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:3])
            for v in violations
        ]
        assert found == [], f"axe on {name} ({self.page.url}): " + "; ".join(found)

    def from_the_top(self) -> None:
        """The next Tab starts from the top of the page, as after loading it."""
        self.page.evaluate(TOP)

    def keyboard(self, name: str) -> None:
        page = self.page
        self.from_the_top()
        page.keyboard.press("Tab")
        first = page.evaluate("() => document.activeElement.className")
        assert "govuk-skip-link" in first, f"{name}: the first Tab reached {first!r}"
        page.keyboard.press("Enter")
        focused = page.evaluate("() => document.activeElement.id")
        assert focused == "main-content", f"{name}: the skip link moved the focus to {focused!r}"
        stops = page.evaluate(FOCUSABLE)
        self.from_the_top()
        reached: list[str] = []
        hidden: list[str] = []
        for _ in range(len(stops) + 3):
            page.keyboard.press("Tab")
            now = page.evaluate(FOCUSED)
            if now is None:
                break  # past the last control: the focus left the page
            if not now["shows"]:
                hidden.append(now["what"])
            if now["key"] is not None and now["key"] in reached:
                break  # round again
            reached.append(now["key"])
        missed = [stop["what"] for stop in stops if stop["key"] not in reached]
        assert missed == [], (
            f"{name}: Tab never reached {len(missed)} of {len(stops)} controls: {missed[:8]}"
        )
        assert hidden == [], f"{name}: no visible focus on {hidden}"
        self.from_the_top()

    def reflows(self, name: str) -> None:
        page = self.page
        page.set_viewport_size(ZOOMED)
        try:
            page.evaluate(NEXT_FRAME)  # after the resize event's handlers
            measured = page.evaluate(NO_SIDEWAYS_SCROLL)
            page.screenshot(path=self.artefacts / f"{name}-400pc.png", full_page=True)
            assert measured["scroll"] <= measured["client"], (
                f"{name} scrolls sideways at 320 px: {measured}"
            )
            self.accessible(f"{name} at 320 px")  # the narrow layout is a page too
        finally:
            page.set_viewport_size(WIDE)
            page.evaluate(NEXT_FRAME)


@pytest.fixture(scope="module")
def artefacts(request: pytest.FixtureRequest) -> Path:
    """Screenshots of this module's pages: tests/browser/web/artefacts/<module>/."""
    module = re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1])
    folder = ARTEFACTS / module
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


@pytest.fixture
def open_pages(browser: Any, artefacts: Path) -> Iterator[Any]:
    """`open_pages(base_url, **context_options)`: a new browser context (a person of
    their own: own cookies) at `base_url`; closed after the test."""
    opened: list[Pages] = []

    def open_one(base_url: str, **context: Any) -> Pages:
        pages = Pages(browser, base_url, artefacts, **context)
        opened.append(pages)
        return pages

    yield open_one
    for pages in opened:
        pages.close()
