"""The web interface's look without a browser: the vendored GOV.UK Frontend is the
version the Jinja macros are written for, built without the GOV.UK typeface, crown or
crest, with its licence; the layout is a valid GOV.UK-style page with no inline script or
style (the Content-Security-Policy forbids them) and names the partnership, not GOV.UK.
The same pages in Chromium, with axe: tests/browser/web/."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "casereview" / "web"
STATIC = WEB / "static"
VERSION = "6.3.0"


def test_the_static_folder_holds_the_build_its_licence_and_nothing_of_gov_uk_only():
    names = sorted(p.name for p in STATIC.iterdir())
    assert names == [
        "LICENCE",
        "README.md",
        "app.css",
        "app.js",
        "govuk-frontend.min.css",
        "govuk-frontend.min.js",
        "report.css",  # casereview's own: the annual report's styles inside the layout
    ]  # no fonts, no crown or crest, no GOV.UK icons
    licence = (STATIC / "LICENCE").read_text(encoding="utf-8")
    assert "The MIT License (MIT)" in licence
    assert "Crown Copyright (Government Digital Service)" in licence


def test_the_css_is_built_with_arial_and_needs_no_font_or_image():
    css = (STATIC / "govuk-frontend.min.css").read_text(encoding="utf-8")
    assert "GDS Transport" not in css
    assert "@font-face" not in css
    assert "url(" not in css  # nothing to fetch: neither fonts nor the crest
    families = set(re.findall(r"font-family:([^;}]+)", css))
    assert families == {"arial,sans-serif", "sans-serif"}  # sans-serif when printed
    for component in ("govuk-service-navigation", "govuk-error-summary", "govuk-date-input"):
        assert f".{component}" in css


def test_the_versions_agree_with_the_jinja_macros():
    """govuk-frontend-jinja 4.1.0 is written for GOV.UK Frontend 6.3.0: the vendored
    build, its README and the script that rebuilds it name that version."""
    assert importlib.metadata.version("govuk-frontend-jinja") == "4.1.0"
    js = (STATIC / "govuk-frontend.min.js").read_text(encoding="utf-8")
    assert f'const version="{VERSION}"' in js
    assert "export{" in js and "initAll" in js  # an ES module
    assert "sourceMappingURL" not in js
    readme = (STATIC / "README.md").read_text(encoding="utf-8")
    assert f"govuk-frontend@{VERSION}" in readme
    assert "python scripts/vendor_govuk_frontend.py" in readme
    script = (ROOT / "scripts" / "vendor_govuk_frontend.py").read_text(encoding="utf-8")
    assert f'GOVUK_FRONTEND = "{VERSION}"' in script
    assert re.search(r'SASS = "([\d.]+)"', script).group(1) in readme


def test_app_js_starts_govuk_frontend_from_the_vendored_module():
    js = (STATIC / "app.js").read_text(encoding="utf-8")
    assert 'import { initAll } from "./govuk-frontend.min.js";' in js
    assert '"govuk-frontend-supported"' in js
    assert "initAll();" in js


CHILD = """{% extends "layout.html" %}
{% block title %}What is due{% endblock %}
{% block beforeContent %}<a href="/" class="govuk-back-link">Back</a>{% endblock %}
{% block content %}<h1 class="govuk-heading-l">What is due</h1>{% endblock %}"""

BARE = """{% extends "layout.html" %}
{% block title %}Signed out{% endblock %}
{% block content %}<h1 class="govuk-heading-l">Signed out</h1>{% endblock %}"""

environment = jinja2.Environment(
    loader=jinja2.ChoiceLoader(
        [
            jinja2.DictLoader({"child.html": CHILD, "bare.html": BARE}),
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


def request(path: str, served: tuple[str, ...]) -> Any:
    routes = [SimpleNamespace(path=p) for p in served]
    return SimpleNamespace(app=SimpleNamespace(routes=routes), url=SimpleNamespace(path=path))


def render(template: str = "child.html", **values: Any) -> str:
    context: dict[str, Any] = {
        "request": request("/", ("/", "/cases", "/static")),
        "partnership_name": "Northshire <Safeguarding> & Children's Partnership",
        "user": SimpleNamespace(display_name="Sam <Officer>", roles=("business_unit",)),
        "nav": "due",
        "csrf_token": "t0k3n",
    }
    context.update(values)
    return environment.get_template(template).render(context)


def test_the_layout_is_a_gov_uk_style_page_without_inline_script_or_style():
    page = render()
    assert page.startswith('<!DOCTYPE html>\n<html lang="en-GB" class="govuk-template">')
    body = page.split('<body class="govuk-template__body">', 1)[1]
    # The skip link is the first thing in the body and leads to main.
    assert body.lstrip().startswith('<a href="#main-content" class="govuk-skip-link"')
    assert page.count('id="main-content"') == 1
    assert re.search(r'<main class="govuk-main-wrapper" id="main-content">', page)
    # Scripts and styles only from /static (the Content-Security-Policy).
    assert re.findall(r"<script[^>]*>", page) == ['<script type="module" src="/static/app.js">']
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)">', page) == [
        "/static/govuk-frontend.min.css",
        "/static/app.css",
    ]
    assert "<style" not in page
    assert " style=" not in page
    assert not re.search(r"<[^>]+\son[a-z]+=", page)  # no event-handler attributes


def test_the_layout_names_the_partnership_and_the_service_not_gov_uk():
    page = render()
    assert "<title>What is due – casereview – Northshire &lt;Safeguarding&gt; &amp; " in page
    assert (
        'class="govuk-generic-header__homepage-link">Northshire &lt;Safeguarding&gt; &amp; '
        "Children&#39;s Partnership</a>"
    ) in page
    assert "casereview" in page.split("govuk-service-navigation__service-name", 1)[1][:300]
    for gov_uk_only in ("GOV.UK", "<svg", "govuk-header__logotype", "Crown copyright",
                        "copyright-logo", "govuk-footer__crown", "favicon"):  # fmt: skip
        assert gov_uk_only not in page, gov_uk_only
    assert '<a class="govuk-footer__link" href="/accessibility">Accessibility statement</a>' in page


def test_the_section_navigation_marks_the_current_section_and_links_only_served_ones():
    page = render()
    links = re.findall(r'<a class="govuk-service-navigation__link" href="([^"]+)"([^>]*)>', page)
    assert [href for href, _ in links] == ["/", "/cases"]  # no Reports, Scrutiny, Admin yet
    assert 'aria-current="page"' in links[0][1]
    assert "aria-current" not in links[1][1]
    # A page below a section (a case page) marks the section, not the page.
    below = render(request=request("/cases/2026-001", ("/", "/cases")), nav="cases")
    marked = re.findall(r'href="(/[a-z]*)" aria-current="(\w+)"', below)
    assert marked == [("/cases", "true")]
    served = request("/", ("/", "/cases", "/reports", "/scrutiny", "/admin"))
    link = r'govuk-service-navigation__link" href="[^"]+"[^>]*>\s*(?:<strong[^>]*>)?([^<]+)'
    every = render(request=served)
    texts = re.findall(link, every)
    # Admin is linked for an admin only (anyone else would get its 403).
    assert [t.strip() for t in texts] == ["What is due", "Cases", "Reports", "Scrutiny"]
    admin = SimpleNamespace(display_name="Ade", roles=("admin", "business_unit"))
    texts = re.findall(link, render(request=served, user=admin))
    assert [t.strip() for t in texts] == [
        "What is due", "Cases", "Reports", "Scrutiny", "Admin",
    ]  # fmt: skip


def test_a_page_with_errors_has_a_title_starting_error():
    page = render(errors=[{"text": "Enter the date", "href": "#on-day"}])
    assert "<title>Error: What is due – casereview – Northshire" in page
    assert "<title>What is due – casereview – Northshire" in render(errors=[])


def test_the_signed_in_person_and_a_sign_out_form_with_the_csrf_token():
    page = render()
    assert "Signed in as <strong>Sam &lt;Officer&gt;</strong>" in page
    form = re.search(r'<form method="post" action="/sign-out"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None
    assert '<input type="hidden" name="csrf_token" value="t0k3n">' in form.group(1)
    assert ">Sign out</button>" in form.group(1)


@pytest.mark.parametrize("template", ["bare.html", "accessibility.html"])
def test_before_sign_in_there_is_no_person_no_form_and_no_back_link_landmark(template):
    page = render(template, user=None, partnership_name=None, csrf_token="", nav=None)
    assert "Signed in as" not in page
    assert "<form" not in page
    assert 'class="govuk-service-navigation__list"' not in page  # no sections to go to
    assert "casereview-before-content" not in page  # no empty landmark
    assert "<title>" in page and " – casereview</title>" in page
    assert 'class="govuk-generic-header__homepage-link">casereview</a>' in page


def test_a_back_link_is_in_a_landmark_before_main():
    page = render()
    before = page.split('<main class="govuk-main-wrapper"', 1)[0]
    assert re.search(
        r'<nav class="casereview-before-content" aria-label="Page navigation">\s*'
        r'<a href="/" class="govuk-back-link">Back</a>\s*</nav>',
        before,
    )


def test_the_accessibility_statement_follows_the_public_sector_model():
    page = render("accessibility.html", nav=None)
    headings = re.findall(r"<h[23] class=\"govuk-heading-[lm]\"[^>]*>([^<]+)</h[23]>", page)
    assert headings == [
        "How accessible this service is",
        "Feedback and contact information",
        "Enforcement procedure",
        "Technical information about this service’s accessibility",
        "Compliance status",
        "Content that may not be accessible",
        "How we tested this service",
        "What we’re doing to improve accessibility",
        "Preparation of this accessibility statement",
    ]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Equality and Human Rights Commission (EHRC)" in text
    assert "Equality Advisory and Support Service (EASS)" in text
    assert "partially compliant with the Web Content Accessibility Guidelines version 2.2" in text
    assert "This statement was prepared on 7 December 2026." in text
    # It names the partnership that runs the service, escaped.
    assert "run by Northshire &lt;Safeguarding&gt; &amp; Children&#39;s Partnership." in text
    # What it says is tested is what tests/browser/web/conftest.py checks.
    for tested in ("axe-core", "first press of the Tab key", "Skip to main content",
                   "320 pixels wide", "does not scroll sideways"):  # fmt: skip
        assert tested in text, tested
