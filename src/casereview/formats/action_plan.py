"""The action plan as a document for the partnership board and the scrutiny committee:
Markdown (readable at 80 columns), CSV (one row per action, spreadsheet-safe cells) and
self-contained HTML (progress bars, RAG status, a chart of actions completed over time,
printable on A4). Pure writers of a `domain.actions.Document`; every text that came
from a person is escaped (HTML) or made visible (`formats.text.visible`)."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import textwrap
from collections.abc import Iterable, Sequence

from casereview.domain import actions as plans
from casereview.formats.cells import safe_cell, value_cell
from casereview.formats.text import visible

WIDTH = 78
"""Markdown lines are wrapped to this many characters (readable at 80 columns)."""

STATUS = {
    plans.NOT_STARTED: "not started",
    plans.IN_PROGRESS: "in progress",
    plans.COMPLETED: "completed",
    plans.EVIDENCED: "evidenced",
    plans.CLOSED_WITHOUT: "closed without completion",
}
OUTCOME = {
    plans.MET: "met",
    plans.MET_EXTENDED: "met after agreed extension",
    plans.MISSED: "missed",
    plans.CLOSED_UNMET: "closed without completion",
    plans.OPEN_OVERDUE: "overdue",
    plans.OPEN_ON_TIME: "open",
}


def _text(value: object) -> str:
    return visible(str(value), keep_breaks=False)


def _wrap(text: str, indent: str = "", first: str | None = None) -> list[str]:
    return textwrap.wrap(
        _text(text),
        WIDTH,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first or indent]


def _bar(percent: int, width: int = 10) -> str:
    filled = round(percent * width / 100)
    return "[" + "#" * filled + "." * (width - filled) + f"] {percent:3d}%"


# -- Markdown ------------------------------------------------------------------------------


def markdown(doc: plans.Document) -> str:
    today = doc.today
    lines = [f"# {_text(doc.title)}", ""]
    lines += _wrap(f"As at {doc.as_of}. {doc.scope}")
    lines += ["", "## Summary", ""]
    lines += _summary_lines(doc.figures)
    for case in doc.cases:
        lines += ["", f"## Case {_text(case.ref)} ({_text(case.workflow)})", ""]
        plan = case.plan
        if plan.none_reason:
            lines += _wrap(f"No recommendations: {plan.none_reason}")
        for rec in plan.recommendations.values():
            lines += ["", f"### Recommendation {_text(rec.number)}", ""]
            lines += _wrap(rec.text)
            lines += [""]
            source = rec.source + (f", {rec.section}" if rec.section else "")
            lines += _wrap(f"Source: {source}")
            lines += _wrap(f"Addressed to ({rec.scope}-agency): {', '.join(rec.agencies)}")
            for action in plan.actions.values():
                if action.rec == rec.number:
                    lines += ["", *_action_lines(action, today)]
        for override in plan.overrides:
            lines += [""]
            lines += _wrap(
                f"Override of {override.trigger} on {override.on} by {override.actor}: "
                f"{override.rationale}"
            )
    return "\n".join(lines) + "\n"


def _summary_lines(f: plans.Figures) -> list[str]:
    t = f.total
    lines = [
        f"- Recommendations: {f.recommendations} ({f.multi_agency} multi-agency)",
        f"- Actions: {t.actions} ({t.completed} completed, {t.open} open)",
    ]
    lines += [f"  - {OUTCOME[o]}: {t.by_outcome[o]}" for o in plans.OUTCOMES]
    if f.by_agency:
        lines += ["", "By owner agency:", ""]
        for agency, c in f.by_agency.items():
            counted = ", ".join(
                f"{OUTCOME[o]} {c.by_outcome[o]}" for o in plans.OUTCOMES if c.by_outcome[o]
            )
            lines += _wrap(f"{agency}: {c.actions} action(s): {counted}", "  ", "- ")
    if f.oldest_open:
        lines += ["", "Oldest open actions:", ""]
        for ref, action in f.oldest_open:
            lines += _wrap(
                f"{ref} {action.action} ({action.agency}): due {action.due_on}, "
                f"{STATUS[action.status]}",
                "  ",
                "- ",
            )
    if f.completions:
        lines += ["", "Actions completed, by month:", ""]
        lines += [f"- {month}: {n}" for month, n in f.completions]
    return lines


def _action_lines(action: plans.Action, today: dt.date) -> list[str]:
    rag = plans.rag(action, today)
    lines = _wrap(
        f"{action.action} [{rag.upper()}] {_bar(plans.PROGRESS[action.status])} "
        f"{STATUS[action.status]}",
        "  ",
        "- ",
    )
    lines += _wrap(action.text, "  ", "  ")
    due = f"due {action.due_on}"
    if action.extended:
        due += f" (extended from {action.original_due_on})"
    lines += _wrap(f"Owner: {action.owner} ({action.agency}); {due}", "  ")
    lines += _wrap(f"Against its deadline: {OUTCOME[plans.outcome(action, today)]}", "  ")
    if action.reason:
        lines += _wrap(f"Closed because: {action.reason}", "  ")
    if action.evidence:
        lines += _wrap(f"Evidence: {'; '.join(action.evidence)}", "  ")
    note = action.latest_note
    if note:
        lines += _wrap(f"Latest update: {note}", "  ")
    return lines


# -- CSV -----------------------------------------------------------------------------------


CSV_COLUMNS = (
    "case",
    "rec",
    "recommendation",
    "source",
    "action",
    "text",
    "agency",
    "owner",
    "due_on",
    "original_due_on",
    "status",
    "outcome",
    "rag",
    "progress",
    "completed_on",
    "evidence",
    "latest_update",
)


def csv_text(doc: plans.Document) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for case in doc.cases:
        plan = case.plan
        for action in plan.actions.values():
            rec = plan.recommendations.get(action.rec)
            writer.writerow(
                [
                    safe_cell(case.ref),
                    safe_cell(action.rec),
                    safe_cell(rec.text if rec else ""),
                    safe_cell(rec.source if rec else ""),
                    safe_cell(action.action),
                    safe_cell(action.text),
                    safe_cell(action.agency),
                    safe_cell(action.owner),
                    action.due_on,
                    action.original_due_on,
                    action.status,
                    plans.outcome(action, doc.today),
                    plans.rag(action, doc.today),
                    value_cell(plans.PROGRESS[action.status]),
                    action.completed_on or "",
                    safe_cell("; ".join(action.evidence)),
                    safe_cell(action.latest_note),
                ]
            )
    return out.getvalue()


# -- HTML ----------------------------------------------------------------------------------


CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: system-ui, sans-serif; color: #1a1a1a; margin: 2em auto; max-width: 60em;
       line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { border-bottom: 2px solid #1d4f91; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #bbb; padding: .25em .5em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.rag { display: inline-block; min-width: 5em; padding: .1em .4em; border-radius: 3px;
       color: #fff; font-weight: 600; text-align: center; }
.rag-red { background: #b00020; } .rag-amber { background: #b35c00; }
.rag-green { background: #1b7f5b; } .rag-complete { background: #1d4f91; }
.rag-closed { background: #666; }
.bar { width: 8em; height: .8em; background: #e3e3e3; border-radius: 2px; display: inline-block; }
.bar span { display: block; height: 100%; background: #1d4f91; border-radius: 2px; }
.rec { break-inside: avoid; margin-bottom: 1.2em; }
.chart { margin: 1em 0; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
"""


def _h(value: object) -> str:
    return html.escape(visible(str(value)), quote=True)


def html_text(doc: plans.Document) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_h(doc.title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{_h(doc.title)}</h1>",
        f"<p>As at {_h(doc.as_of)}. {_h(doc.scope)}</p>",
        "<h2>Summary</h2>",
        *_html_summary(doc.figures),
        "<h2>Actions completed over time</h2>",
        _chart(doc.figures.completions),
    ]
    for case in doc.cases:
        parts.append(f"<h2>Case {_h(case.ref)} <small>({_h(case.workflow)})</small></h2>")
        plan = case.plan
        if plan.none_reason:
            parts.append(f"<p>No recommendations: {_h(plan.none_reason)}</p>")
        for rec in plan.recommendations.values():
            parts.append('<section class="rec">')
            parts.append(f"<h3>Recommendation {_h(rec.number)}</h3><p>{_h(rec.text)}</p>")
            source = rec.source + (f", {rec.section}" if rec.section else "")
            parts.append(
                f"<p><small>Source: {_h(source)} · addressed to ({_h(rec.scope)}-agency): "
                f"{_h(', '.join(rec.agencies))}</small></p>"
            )
            mine = [a for a in plan.actions.values() if a.rec == rec.number]
            if mine:
                parts.append(
                    "<table><thead><tr><th>Action</th><th>Owner</th><th>Due</th>"
                    "<th>Status</th><th>Progress</th><th>RAG</th><th>Evidence</th>"
                    "<th>Latest update</th></tr></thead><tbody>"
                )
                parts += [_html_action(a, doc) for a in mine]
                parts.append("</tbody></table>")
            parts.append("</section>")
        for o in plan.overrides:
            parts.append(
                f"<p>Override of {_h(o.trigger)} on {_h(o.on)} by {_h(o.actor)}: "
                f"{_h(o.rationale)}</p>"
            )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_summary(f: plans.Figures) -> list[str]:
    t = f.total
    head = "".join(f"<th>{_h(OUTCOME[o])}</th>" for o in plans.OUTCOMES)
    rows = [
        f'<tr><td>All agencies</td><td class="n">{t.actions}</td>'
        + "".join(f'<td class="n">{t.by_outcome[o]}</td>' for o in plans.OUTCOMES)
        + "</tr>"
    ]
    for agency, c in f.by_agency.items():
        rows.append(
            f'<tr><td>{_h(agency)}</td><td class="n">{c.actions}</td>'
            + "".join(f'<td class="n">{c.by_outcome[o]}</td>' for o in plans.OUTCOMES)
            + "</tr>"
        )
    parts = [
        f"<p>Recommendations: {f.recommendations} ({f.multi_agency} multi-agency). "
        f"Actions: {t.actions} ({t.completed} completed, {t.open} open).</p>",
        f'<table id="figures"><thead><tr><th>Owner agency</th><th>Actions</th>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>",
    ]
    if f.oldest_open:
        items = "".join(
            f"<li>{_h(ref)} {_h(a.action)} ({_h(a.agency)}): due {_h(a.due_on)}, "
            f"{_h(STATUS[a.status])}</li>"
            for ref, a in f.oldest_open
        )
        parts.append(f"<h3>Oldest open actions</h3><ol>{items}</ol>")
    return parts


def _html_action(a: plans.Action, doc: plans.Document) -> str:
    rag = plans.rag(a, doc.today)
    percent = plans.PROGRESS[a.status]
    due = _h(a.due_on)
    if a.extended:
        due += f"<br><small>extended from {_h(a.original_due_on)}</small>"
    evidence = "<br>".join(_h(e) for e in a.evidence)
    status = _h(STATUS[a.status]) + (f"<br><small>{_h(a.reason)}</small>" if a.reason else "")
    return (
        f"<tr><td><b>{_h(a.action)}</b> {_h(a.text)}</td>"
        f"<td>{_h(a.owner)}<br><small>{_h(a.agency)}</small></td>"
        f"<td>{due}</td><td>{status}</td>"
        f'<td><span class="bar" role="progressbar" aria-valuenow="{percent}">'
        f'<span style="width:{percent}%"></span></span> {percent}%</td>'
        f'<td><span class="rag rag-{rag}">{rag}</span></td>'
        f"<td>{evidence}</td><td>{_h(a.latest_note)}</td></tr>"
    )


def _chart(completions: Sequence[tuple[str, int]]) -> str:
    """An inline SVG: a bar per month with its completions and the running total as a
    line; a month with none is drawn as an empty slot, so the time axis is even."""
    months = _every_month(m for m, _ in completions)
    if not months:
        return '<p class="chart" id="completions">No action has been completed yet.</p>'
    done = dict(completions)
    counts = [done.get(m, 0) for m in months]
    total = sum(counts)
    width, height, pad = max(320, 34 * len(months) + 60), 200, 30
    slot = (width - 2 * pad) / len(months)
    peak = max(counts) or 1
    shapes = []
    running = 0
    points = []
    for i, (month, n) in enumerate(zip(months, counts, strict=True)):
        x = pad + i * slot
        h = (height - 2 * pad) * n / peak
        shapes.append(
            f'<rect x="{x + 3:.1f}" y="{height - pad - h:.1f}" width="{slot - 6:.1f}" '
            f'height="{h:.1f}" fill="#1d4f91"><title>{_h(month)}: {n}</title></rect>'
        )
        running += n
        y = height - pad - (height - 2 * pad) * running / total
        points.append(f"{x + slot / 2:.1f},{y:.1f}")
        if len(months) <= 24 or i % 3 == 0:
            shapes.append(
                f'<text x="{x + slot / 2:.1f}" y="{height - 8}" font-size="9" '
                f'text-anchor="middle">{_h(month)}</text>'
            )
    shapes.append(
        f'<polyline points="{" ".join(points)}" fill="none" stroke="#b35c00" stroke-width="2"/>'
    )
    return (
        f'<svg class="chart" id="completions" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>Actions completed by month (bars) and in all (line)</title>"
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'stroke="#444"/>{"".join(shapes)}</svg>'
    )


def _every_month(months: Iterable[str]) -> list[str]:
    given = sorted(months)
    if not given:
        return []
    year, month = int(given[0][:4]), int(given[0][5:7])
    end = (int(given[-1][:4]), int(given[-1][5:7]))
    found = []
    while (year, month) <= end:
        found.append(f"{year:04d}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return found


WRITERS = {"md": markdown, "csv": csv_text, "html": html_text}
"""Each format's writer of a whole document."""
