"""The report as one self-contained HTML page: headline figures, the figures by section,
a chart of rapid reviews on time and late by quarter, and a timeline of every case open
in the period against its clocks' windows.

Self-contained means: inline CSS and inline SVG only, no scripts, no external files, no
web fonts; the page can be mailed, archived or printed as it is. Print CSS sets A4 pages,
keeps each chart and table whole where it fits, and keeps the colours. Every piece of text
that did not come from this module (pseudonyms, references, workflow labels, states) goes
through `html.escape`, so a pseudonym such as `<script>` is shown literally. Children are
named by pseudonym only; references appear only in the `--detail` tables.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from casereview.domain.clock_status import status_word
from casereview.domain.reporting.figures import (
    NOT_APPLICABLE,
    SECTIONS,
    Cell,
    Figure,
    Lane,
    QuarterCount,
    Report,
    ReviewType,
    TimelineCase,
    display,
    number_text,
    share,
    value_text,
)
from casereview.formats.report import actions as actions_section
from casereview.formats.text import visible

Scale = Callable[[dt.date], float]
"""Where a day starts on the timeline's x axis."""


COLOURS = {
    "on_time": "#1b7f5b",
    "late": "#c2410c",
    "window": "#dbe7f5",
    "window_edge": "#8aa9cf",
    "span": "#334155",
    "overrun": "#c81e1e",
    "due": "#1e3a8a",
    "grid": "#e2e8f0",
    "axis": "#64748b",
    "today": "#7c3aed",
}

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body {
  margin: 0 auto; max-width: 60rem; padding: 1.5rem;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    sans-serif;
  color: #0f172a; background: #ffffff;
}
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 2px solid #cbd5e1;
  padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
p { margin: .3rem 0; }
.subtitle { font-size: 1.05rem; color: #334155; }
.partnership { font-size: 1.05rem; font-weight: 600; color: #1e3a8a; margin: 0; }
.note { color: #475569; font-size: .9rem; }
.warning { background: #fef3c7; border-left: 4px solid #d97706; padding: .4rem .6rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr));
  gap: .75rem; margin: 1rem 0; }
.card { border: 1px solid #cbd5e1; border-radius: .4rem; padding: .6rem .8rem;
  background: #f8fafc; }
.card .number { font-size: 1.9rem; font-weight: 700; line-height: 1.1; }
.card .what { font-size: .9rem; }
.card .context { font-size: .85rem; color: #475569; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid #e2e8f0; padding: .25rem .4rem; text-align: left;
  vertical-align: top; }
th { background: #f1f5f9; }
td.num, th.num { text-align: right; white-space: nowrap; }
table.figures { table-layout: fixed; }
.type-label { font-variant-caps: all-small-caps; letter-spacing: 0.05em; margin-right: 0.4em; }
table.figures th:nth-child(2) { width: 9rem; }
table.figures th:nth-child(3) { width: 8rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
code { font-size: .85em; color: #475569; }
figure { margin: 1rem 0; }
figcaption { font-size: .9rem; color: #334155; margin-bottom: .3rem; }
svg.chart { width: 100%; height: auto; display: block; }
svg text { font-family: inherit; }
.legend { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; font-size: .85rem;
  margin: .3rem 0; padding: 0; list-style: none; }
.swatch { display: inline-block; width: 1.4em; height: .8em; vertical-align: middle;
  margin-right: .3em; border: 1px solid #94a3b8; }
footer { margin-top: 2rem; font-size: .8rem; color: #64748b; border-top: 1px solid #e2e8f0;
  padding-top: .5rem; }
@page { size: A4; margin: 16mm 12mm 14mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  .cards, figure, table.figures, .timeline-part, tr {
    break-inside: avoid; page-break-inside: avoid; }
  section.timeline { break-before: page; page-break-before: always; }
  .card { background: #ffffff; }
}
"""


def e(value: object) -> str:
    """Escape any text for HTML content and attribute values."""
    return html.escape(visible(str(value)), quote=True)


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)  # spelled out rather than strftime("%B"), which follows the machine's locale


def _long_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def css_string(text: str) -> str:
    """`text` as a quoted CSS string: quotes and backslashes escaped, and every character
    that could end the string, the rule or the style element (line breaks, `<`, `>`)
    written as a CSS escape."""
    out = []
    for ch in visible(text):
        if ch in '"\\<>&' or not ch.isprintable():
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _print_header(report: Report, span: str) -> str:
    """The partnership and the period at the top of every printed page, and the page
    number at the foot (CSS page margin boxes: the browser repeats them on each page)."""
    who = report.partnership or "Child safeguarding practice reviews"
    what = f"Figures for {report.period.label}: {span}"
    box = "font: 8pt system-ui, sans-serif; color: #475569; font-variant-ligatures: none;"
    return (
        "\n@page {"
        f" @top-left {{ content: {css_string(who)}; {box} }}"
        f" @top-right {{ content: {css_string(what)}; {box} }}"
        f' @bottom-right {{ content: "Page " counter(page) " of " counter(pages); {box} }}'
        " }\n"
    )


def render(report: Report, *, detail: bool) -> str:
    return "".join(chunks(report, detail=detail))


def chunks(report: Report, *, detail: bool) -> Iterator[str]:
    """The page in pieces, so a large one (the timeline, detail tables) can be written
    as it is made; their concatenation is `render`."""
    period = report.period
    span = f"{_long_date(period.start)} to {_long_date(period.end)}"
    title = f"Child safeguarding practice reviews: figures for {period.label} ({span})"
    if report.partnership:
        title = f"{report.partnership} · {title}"
    head = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="casereview">',
        f"<title>{e(title)}</title>",
        f"<style>{CSS}{_print_header(report, span)}</style>",
        "</head>",
        "<body>",
    ]
    body = body_chunks(report, detail=detail)
    yield "\n".join([*head, next(body)])
    yield from body
    yield "\n".join(["</body>", "</html>", ""])


def body_chunks(report: Report, *, detail: bool, inline_style: bool = True) -> Iterator[str]:
    """The page's body without the page around it (no head, no style, no `<body>`): what
    the web interface shows inside its own layout. `chunks` wraps these pieces.
    `inline_style` False draws the legends' colour swatches as small SVGs rather than
    with style attributes, for a page whose Content-Security-Policy forbids them."""
    swatch = _styled_swatch if inline_style else _drawn_swatch
    period = report.period
    parts = [
        "<header>",
        *([f'<p class="partnership">{e(report.partnership)}</p>'] if report.partnership else []),
        "<h1>Child safeguarding practice reviews</h1>",
        f'<p class="subtitle">Figures for {e(period.label)}: '
        f"{e(_long_date(period.start))} to {e(_long_date(period.end))}</p>",
        f'<p class="note">Positions &ldquo;at period end&rdquo; are as at '
        f"{e(_long_date(report.as_at))}. Children are named by pseudonym only.</p>",
    ]
    if not report.complete:
        parts.append(
            '<p class="warning">The period has not ended: these figures are to '
            f"{e(_long_date(report.generated_on))}.</p>"
        )
    parts.append("</header>")
    parts.append(_headline(report))
    yield "\n".join(parts)
    for section_id, heading in SECTIONS:
        yield "\n"
        yield from _section(report, section_id, heading, detail=detail, swatch=swatch)
    for kind in report.review_types if report.mixed else ():
        yield "\n"
        yield _review_type(kind)
    if report.actions is not None:
        yield "\n" + actions_section.html_section(report.actions, e)
    yield "\n"
    yield from _timeline_section(report, swatch)
    footer = (
        "<footer>Produced by casereview on "
        f"{e(report.generated_on.isoformat())} from the case event log. Each figure is "
        "defined in the casereview documentation (docs/report.md); run "
        "<code>casereview report --detail</code> for the cases behind every number.</footer>"
    )
    yield "\n" + footer + "\n"


# -- headline ------------------------------------------------------------------------------


def _card(number: str, what: str, context: str = "") -> str:
    extra = f'<div class="context">{e(context)}</div>' if context else ""
    return (
        f'<div class="card"><div class="number">{e(number)}</div>'
        f'<div class="what">{e(what)}</div>{extra}</div>'
    )


def _headline(report: Report) -> str:
    f = report.figure
    rr, rr_on_time = f("rapid_reviews.completed"), f("rapid_reviews.on_time")
    notes, notes_on_time = f("notifications.made"), f("notifications.on_time")
    panel, agreed = f("panel.responses"), f("panel.agreed_first_response")
    elapsed = f("local_reviews.median_months_elapsed")
    adjusted = f("local_reviews.median_months_adjusted")
    to_publication = (
        f"median {display(elapsed.value)} months; {display(adjusted.value)} excluding holds"
        if elapsed.value is not None
        else "none published"
        if elapsed.applicable
        else ""
    )
    in_progress, on_hold = f("local_reviews.in_progress_at_end"), f("local_reviews.on_hold_at_end")
    plans_open, plans_closed = f("action_plans.open_at_end"), f("action_plans.closed")
    cards = [
        _card(number_text(notes), "notifications to the Panel", _of(notes_on_time, notes)),
        _card(number_text(rr), "rapid reviews sent to the Panel", _of(rr_on_time, rr)),
        _card(number_text(panel), "Panel outcomes", _of(agreed, panel, "agreed first time")),
        _card(number_text(f("local_reviews.commissioned")), "local reviews commissioned"),
        _card(number_text(f("local_reviews.published")), "local reviews published", to_publication),
        _card(
            number_text(in_progress),
            "local reviews in progress at period end",
            f"{number_text(on_hold)} on hold" if on_hold.applicable else "",
        ),
        _card(
            number_text(plans_open),
            "action plans being monitored at period end",
            f"{number_text(plans_closed)} closed in the period" if plans_closed.applicable else "",
        ),
    ]
    return (
        '<section class="headline"><h2>Headline figures</h2><div class="cards">'
        + "".join(cards)
        + "</div></section>"
    )


def _of(part: Figure, whole: Figure, words: str = "on time") -> str:
    if not isinstance(part.value, int) or not isinstance(whole.value, int) or whole.value == 0:
        return ""
    return f"{part.value} {words} ({round(100 * part.value / whole.value)}%)"


# -- sections ------------------------------------------------------------------------------


def _section(
    report: Report,
    section_id: str,
    heading: str,
    *,
    detail: bool,
    swatch: Callable[[str], str],
) -> Iterator[str]:
    figures = report.section(section_id)
    rows = []
    for figure in figures:
        context = share(report, figure) or ""
        rows.append(
            f'<tr id="{e(figure.id)}"><td>{e(figure.label)}</td>'
            f'<td class="num">{e(value_text(figure))}</td><td>{e(context)}</td></tr>'
        )
    parts = [
        f'<section class="figures" id="section-{e(section_id)}">',
        f"<h2>{e(heading)}</h2>",
        '<table class="figures"><thead><tr><th>Figure</th><th class="num">Value</th>'
        "<th>Share</th></tr></thead><tbody>",
        *rows,
        "</tbody></table>",
    ]
    if section_id == "rapid_reviews" and all(q.applicable for q in report.by_quarter):
        parts.append(_quarter_figure(report.by_quarter, swatch))
    elif section_id == "rapid_reviews":
        parts.append(
            f'<p class="note">Rapid reviews by quarter: {NOT_APPLICABLE} (no workflow of '
            "these cases has a rapid review).</p>"
        )
    yield "\n".join(parts)
    if detail:
        for figure in figures:
            yield "\n"
            yield from _detail_table(figure, report.state_labels)
    yield "\n</section>"


def _review_type(kind: ReviewType) -> str:
    """A review type's own figures (after everyone's together): a table per group,
    headed as its workflow says, then its cases' links to other reviews."""
    parts = [
        f'<section class="review-type" id="type-{e(kind.workflow)}">',
        f'<h2><span class="type-label">{e(kind.label)}</span> {e(kind.title)}</h2>',
        '<p class="note">This review type&rsquo;s cases alone.</p>',
    ]
    for group in kind.groups:
        rows = "".join(
            f'<tr id="{e(kind.workflow)}-{e(f.id)}"><td>{e(f.label)}</td>'
            f'<td class="num">{e(value_text(f))}</td></tr>'
            for f in group.figures
        )
        parts.append(
            f"<h3>{e(group.title)}</h3>"
            '<table class="figures"><thead><tr><th>Figure</th><th class="num">Value</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    if kind.linked:
        items = "".join(
            f"<li>{e(link.ref)} ({e(link.pseudonym)}) and {e(link.other)} "
            f"({e(link.other_type)}): {e(_state_words(link.relation, {}))}</li>"
            for link in kind.linked
        )
        parts.append(f'<p>Linked to cases of other reviews:</p><ul class="linked">{items}</ul>')
    parts.append("</section>")
    return "\n".join(parts)


_ROWS_PER_PIECE = 500  # detail rows handed out at a time: small in memory, cheap to write


_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
"""A workflow id in a detail cell (a state, a decision's choice): `other_learning`."""


def _words(cell: Cell, labels: Mapping[str, str]) -> str:
    """A detail cell as people read it: a state by its label, any other workflow id in
    words (`no_lcspr` as "no lcspr"), everything else as `display` gives it."""
    if isinstance(cell, str) and (cell in labels or _IDENTIFIER.fullmatch(cell)):
        return _state_words(cell, labels)
    return display(cell)


def _detail_table(figure: Figure, labels: Mapping[str, str]) -> Iterator[str]:
    caption = f"{e(figure.label)}: {e(value_text(figure))}"
    if not figure.applicable:
        yield (
            f'<h3>{caption}</h3><p class="note">Not applicable to the workflows of these cases.</p>'
        )
        return
    if not figure.cases:
        yield f'<h3>{caption}</h3><p class="note">No cases.</p>'
        return
    head = "".join(f"<th>{e(c.replace('_', ' '))}</th>" for c in figure.columns)
    yield (
        f'<table class="detail"><caption>{caption}</caption><thead><tr><th>Ref</th>'
        f"<th>Pseudonym</th>{head}</tr></thead><tbody>"
    )
    rows: list[str] = []
    for row in figure.cases:
        cells = (_words(cell, labels) for cell in row.cells)
        rows.append(
            f"<tr><td>{e(row.ref)}</td><td>{e(row.pseudonym)}</td>"
            + "".join(f"<td>{e(cell)}</td>" for cell in cells)
            + "</tr>"
        )
        if len(rows) >= _ROWS_PER_PIECE:
            yield "".join(rows)
            rows = []
    yield "".join(rows) + "</tbody></table>"


# -- chart: rapid reviews by quarter -------------------------------------------------------


def _styled_swatch(background: str) -> str:
    return f'<span class="swatch" style="background:{background}"></span>'


_PAUSED = "repeating-linear-gradient(45deg,#475569 0 2px,#ffffff 2px 5px)"


def _drawn_swatch(background: str) -> str:
    """A legend's swatch as an SVG (colours as attributes, which no policy forbids)."""
    if background == _PAUSED:
        fill = (
            '<pattern id="swatch-paused" width="5" height="5" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="5" height="5" fill="#ffffff"/>'
            '<rect width="2" height="5" fill="#475569"/></pattern>'
            '<rect width="22" height="12" fill="url(#swatch-paused)"/>'
        )
    else:
        fill = f'<rect width="22" height="12" fill="{e(background)}"/>'
    return (
        '<svg class="swatch" width="22" height="12" viewBox="0 0 22 12" aria-hidden="true" '
        f'focusable="false">{fill}</svg>'
    )


def _quarter_figure(counts: Sequence[QuarterCount], swatch: Callable[[str], str]) -> str:
    legend = (
        '<ul class="legend">'
        f"<li>{swatch(COLOURS['on_time'])}"
        "within 15 working days</li>"
        f"<li>{swatch(COLOURS['late'])}late</li></ul>"
    )
    return (
        '<figure class="quarters"><figcaption>Rapid reviews sent to the Panel, on time and '
        f"late, by financial quarter (Q1 = April to June).</figcaption>{legend}"
        f"{quarter_chart(counts)}</figure>"
    )


def quarter_chart(counts: Sequence[QuarterCount]) -> str:
    """Stacked bars per quarter: on time below, late above, each labelled with its count."""
    width, height = 640, 250
    left, right, top, bottom = 44, 12, 16, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((c.on_time + c.late for c in counts), default=0)
    step = max(1, math.ceil(highest / 5))
    ceiling = max(step, math.ceil(highest / step) * step)

    def y(value: float) -> float:
        return top + plot_h - value / ceiling * plot_h

    out = [
        f'<svg class="chart chart-quarters" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="quarters-title">',
        '<title id="quarters-title">Rapid reviews sent on time and late, by quarter</title>',
    ]
    for tick in range(0, ceiling + 1, step):
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{COLOURS["grid"]}"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{COLOURS["axis"]}">{tick}</text>'
        )
    slot = plot_w / max(1, len(counts))
    bar = min(70.0, slot * 0.6)
    # "2025-26 Q1" fits under a wide bar; under narrow ones (a long period) the quarter
    # goes on the first line and its financial year on the second, where it changes.
    one_line = slot >= 80
    year = None
    for i, count in enumerate(counts):
        x = left + slot * i + (slot - bar) / 2
        centre = x + bar / 2
        base = y(0)
        for value, colour, word in (
            (count.on_time, COLOURS["on_time"], "on time"),
            (count.late, COLOURS["late"], "late"),
        ):
            if value:
                top_y = base - (y(0) - y(value))
                out.append(
                    f'<rect x="{x:.1f}" y="{top_y:.1f}" width="{bar:.1f}" '
                    f'height="{base - top_y:.1f}" fill="{colour}">'
                    f"<title>{e(count.quarter.label)}: {value} {word}</title></rect>"
                    f'<text x="{centre:.1f}" y="{(top_y + base) / 2 + 4:.1f}" font-size="11" '
                    f'text-anchor="middle" fill="#ffffff" font-weight="700">{value}</text>'
                )
                base = top_y
        mark = "*" if count.quarter.partial else ""
        fy, _, quarter = count.quarter.label.rpartition(" ")
        first = count.quarter.label if one_line else quarter
        out.append(
            f'<text class="tick" x="{centre:.1f}" y="{height - bottom + 16}" font-size="11" '
            f'text-anchor="middle" fill="#0f172a">{e(first + mark)}</text>'
        )
        if not one_line and fy != year:
            year = fy
            out.append(
                f'<text class="tick" x="{centre:.1f}" y="{height - bottom + 30}" '
                f'font-size="10" text-anchor="middle" fill="{COLOURS["axis"]}">{e(fy)}</text>'
            )
        if not count.on_time and not count.late:
            out.append(
                f'<text x="{centre:.1f}" y="{y(0) - 4:.1f}" font-size="10" text-anchor="middle" '
                f'fill="{COLOURS["axis"]}">none</text>'
            )
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
        f'stroke="{COLOURS["axis"]}"/>'
    )
    if any(c.quarter.partial for c in counts):
        out.append(
            f'<text x="{width - right}" y="{height - 6}" font-size="10" text-anchor="end" '
            f'fill="{COLOURS["axis"]}">* part of the quarter is outside the period</text>'
        )
    out.append("</svg>")
    return "".join(out)


# -- chart: timeline -----------------------------------------------------------------------

_WIDTH = 760
_LABEL_W = 200
_PLOT_RIGHT = _WIDTH - 12
_AXIS_H = 40  # two lines of axis labels (month, and the year where it changes)
_CASE_H = 20
_LANE_H = 16
_GAP = 8
_FOOT_H = 16
_PART_HEIGHT = 900  # viewBox units per SVG part: about two thirds of an A4 page


def _timeline_section(report: Report, swatch: Callable[[str], str]) -> Iterator[str]:
    intro = (
        "<h2>Cases against their statutory windows</h2>"
        '<p class="note">Every case open at some time in the period. For each clock, the '
        "pale bar is the window allowed (from the day the clock started to its due date); "
        "the dark bar is the time actually taken (to the day it stopped, or to the end of "
        "the period if it is still running), red beyond the due date; hatching marks a "
        "pause (publication on hold). The axis covers the period only.</p>"
    )
    legend = (
        '<ul class="legend">'
        f"<li>{swatch(COLOURS['window'])}window</li>"
        f"<li>{swatch(COLOURS['span'])}time taken</li>"
        f"<li>{swatch(COLOURS['overrun'])}"
        "beyond the due date</li>"
        f"<li>{swatch(_PAUSED)}paused (on hold)</li></ul>"
    )
    if not report.timeline:
        yield (
            f'<section class="timeline">{intro}'
            '<p class="note">No cases were open during the period.</p></section>'
        )
        return
    yield f'<section class="timeline">{intro}{legend}'
    for n, part in enumerate(_parts(report.timeline), start=1):
        yield f'<div class="timeline-part">{timeline_chart(report, part, n)}</div>'
    yield "</section>"


def _case_height(case: TimelineCase) -> int:
    return _CASE_H + _LANE_H * max(1, len(case.lanes)) + _GAP


def _parts(cases: Sequence[TimelineCase]) -> Iterable[list[TimelineCase]]:
    part: list[TimelineCase] = []
    used = _AXIS_H
    for case in cases:
        if part and used + _case_height(case) > _PART_HEIGHT:
            yield part
            part, used = [], _AXIS_H
        part.append(case)
        used += _case_height(case)
    if part:
        yield part


_TICK_FONT = 10
_TICK_ROOM = 36.0
"""The least distance between two month ticks, in viewBox units: a label ("Sep",
"2026") is at most about 26 wide at font size 10, and the rest keeps them apart."""
_TICK_LABEL_W = 28.0  # the widest label, for keeping the last one inside the chart
_MONTH_STEPS = (1, 2, 3, 6, 12)


def month_step(total_days: int, plot_width: float) -> int:
    """Months between labelled ticks: the fewest that keep the labels `_TICK_ROOM`
    apart on a plot `plot_width` wide covering `total_days` days."""
    per_month = plot_width * 30.44 / max(1, total_days)
    for step in _MONTH_STEPS:
        if per_month * step >= _TICK_ROOM:
            return step
    return 12 * math.ceil(_TICK_ROOM / (per_month * 12))


def _ticks(start: dt.date, end_exclusive: dt.date, every: int = 1) -> list[dt.date]:
    """The first day of every `every`-th month (counted from January) in the period."""
    ticks: list[dt.date] = []
    cursor = dt.date(start.year, start.month, 1)
    while cursor < end_exclusive:
        if cursor >= start and (cursor.month - 1) % every == 0:
            ticks.append(cursor)
        month = cursor.month % 12 + 1
        cursor = dt.date(cursor.year + (cursor.month == 12), month, 1)
    return ticks


def _axis(start: dt.date, stop: dt.date, x: Scale, bottom: int) -> list[str]:
    """The month axis: a grid line per labelled month, its short name on the first line
    and the year on the second wherever it changes (and at the first label)."""
    every = month_step((stop - start).days, _PLOT_RIGHT - _LABEL_W)
    out: list[str] = []
    year = None
    for tick in _ticks(start, stop, every):
        at = x(tick)
        out.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{_AXIS_H - 6}" y2="{bottom}" '
            f'stroke="{COLOURS["grid"]}"/>'
        )
        if at + 2 + _TICK_LABEL_W > _WIDTH:
            continue  # no room for its label inside the chart
        out.append(
            f'<text class="tick" x="{at + 2:.1f}" y="{_AXIS_H - 25}" font-size="{_TICK_FONT}" '
            f'fill="{COLOURS["axis"]}">{MONTHS[tick.month - 1][:3]}</text>'
        )
        if tick.year != year:
            year = tick.year
            out.append(
                f'<text class="tick" x="{at + 2:.1f}" y="{_AXIS_H - 11}" '
                f'font-size="{_TICK_FONT}" fill="{COLOURS["axis"]}">{year}</text>'
            )
    return out


def timeline_chart(report: Report, cases: Sequence[TimelineCase], part: int = 1) -> str:
    """One SVG for some cases: a month axis, then per case a heading and a lane per clock."""
    period = report.period
    return lanes_chart(
        period.start,
        period.end_exclusive,
        report.as_at,
        cases,
        report.state_labels,
        part=part,
        title=f"Timeline of cases against their clocks (part {part})",
        show_today=report.as_at < period.end,
    )


def lanes_chart(
    start: dt.date,
    stop: dt.date,
    as_at: dt.date,
    cases: Sequence[TimelineCase],
    state_labels: Mapping[str, str],
    *,
    part: int,
    title: str,
    show_today: bool,
) -> str:
    """The plan-versus-actual SVG of `cases` from `start` to `stop` (exclusive): per
    clock its window to the due date, the time taken, any overrun and pauses. The
    report draws its timeline with it, and the web interface a case's."""
    total = max(1, (stop - start).days)
    plot_w = _PLOT_RIGHT - _LABEL_W

    def x(day: dt.date) -> float:
        offset = min(max((day - start).days, 0), total)
        return _LABEL_W + offset / total * plot_w

    height = _AXIS_H + sum(_case_height(c) for c in cases) + _FOOT_H
    title_id = f"timeline-title-{part}"
    out = [
        f'<svg class="chart chart-timeline" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_WIDTH} {height}" role="img" aria-labelledby="{title_id}">',
        f'<title id="{title_id}">{e(title)}</title>',
        f'<defs><pattern id="hatch-{part}" width="5" height="5" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="5" height="5" fill="#ffffff" '
        'fill-opacity="0.6"/><line x1="0" y1="0" x2="0" y2="5" stroke="#475569" '
        'stroke-width="2"/></pattern></defs>',
    ]
    out += _axis(start, stop, x, height)
    out.append(
        f'<line x1="{_LABEL_W}" x2="{_PLOT_RIGHT}" y1="{_AXIS_H - 6}" y2="{_AXIS_H - 6}" '
        f'stroke="{COLOURS["axis"]}"/>'
    )
    if show_today:
        today_x = x(as_at + dt.timedelta(days=1))
        out.append(
            f'<line x1="{today_x:.1f}" x2="{today_x:.1f}" y1="{_AXIS_H - 6}" y2="{height}" '
            f'stroke="{COLOURS["today"]}" stroke-dasharray="4 3"/>'
            f'<text x="{today_x - 3:.1f}" y="{height - 4}" font-size="10" text-anchor="end" '
            f'fill="{COLOURS["today"]}">today ({e(as_at.isoformat())})</text>'
        )
    y = _AXIS_H
    for case in cases:
        out.append(_case_rows(case, y, x, as_at, part, state_labels))
        y += _case_height(case)
    out.append("</svg>")
    return "".join(out)


def _state_words(state: str, labels: Mapping[str, str]) -> str:
    """A state as people read it: the workflow's label (its id only if none is known)."""
    return labels.get(state) or state.replace("_", " ")


def _case_rows(
    case: TimelineCase,
    y: int,
    x: Scale,
    as_at: dt.date,
    part: int,
    labels: Mapping[str, str],
) -> str:
    heading = f"{case.pseudonym} · {_state_words(case.state_at_end, labels)}"
    if case.closed_on is not None:
        heading = f"{case.pseudonym} · closed {case.closed_on.isoformat()}"
    out = [
        f'<g class="case"><text x="4" y="{y + 14}" font-size="12" font-weight="700" '
        f'fill="#0f172a">{e(heading)}</text>',
        f'<line x1="4" x2="{_PLOT_RIGHT}" y1="{y + 18}" y2="{y + 18}" stroke="#cbd5e1"/>',
    ]
    lane_y = y + _CASE_H
    if not case.lanes:
        out.append(
            f'<text x="16" y="{lane_y + 11}" font-size="10" fill="{COLOURS["axis"]}">'
            "no clock in the period</text>"
        )
    for lane in case.lanes:
        out.append(_lane(case, lane, lane_y, x, as_at, part))
        lane_y += _LANE_H
    out.append("</g>")
    return "".join(out)


def _lane(case: TimelineCase, lane: Lane, y: int, x: Scale, as_at: dt.date, part: int) -> str:
    one = dt.timedelta(days=1)
    status = status_word(lane.status)
    end = lane.stopped_on or as_at
    tip = (
        f"{case.pseudonym}: {lane.label}, started {lane.started_on.isoformat()}, "
        f"due {lane.due_on.isoformat() if lane.due_on else 'not set'}"
        + (f" if resumed on {as_at.isoformat()}, " if lane.status == "paused" else ", ")
        + (f"stopped {lane.stopped_on.isoformat()}" if lane.stopped_on else "still running")
        + f" ({status})"
    )
    out = [
        f'<g class="lane"><title>{e(tip)}</title>'
        f'<text x="16" y="{y + 11}" font-size="10" fill="#334155">{e(lane.label)}</text>'
    ]

    def rect(a: float, b: float, top: float, h: float, fill: str, extra: str = "") -> None:
        if b - a > 0.2:
            out.append(
                f'<rect x="{a:.1f}" y="{top:.1f}" width="{b - a:.1f}" height="{h}" '
                f'fill="{fill}"{extra}/>'
            )

    if lane.due_on is not None and lane.due_on >= lane.started_on:
        rect(
            x(lane.started_on),
            x(lane.due_on + one),
            y + 2,
            12,
            COLOURS["window"],
            f' stroke="{COLOURS["window_edge"]}" stroke-width="0.6"',
        )
    on_time_end = min(end, lane.due_on) if lane.due_on is not None else end
    rect(x(lane.started_on), x(on_time_end + one), y + 5, 6, COLOURS["span"])
    if lane.due_on is not None and end > lane.due_on:
        rect(x(lane.due_on + one), x(end + one), y + 5, 6, COLOURS["overrun"])
    for paused, resumed in lane.pauses:
        rect(x(paused), x(resumed or as_at + one), y + 2, 12, f"url(#hatch-{part})")
    if lane.due_on is not None:
        due_x = x(lane.due_on + one)
        if _LABEL_W < due_x < _PLOT_RIGHT:
            out.append(
                f'<line x1="{due_x:.1f}" x2="{due_x:.1f}" y1="{y + 1}" y2="{y + 15}" '
                f'stroke="{COLOURS["due"]}" stroke-width="1.5"/>'
            )
    out.append("</g>")
    return "".join(out)
