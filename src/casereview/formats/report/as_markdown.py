"""The report as Markdown, for pasting into an annual report or committee paper.

Text typed by people (pseudonyms, references) is escaped twice over: Markdown's own
punctuation gets a backslash, and `<`, `>` and `&` become HTML entities, because most
Markdown renderers pass raw HTML straight through.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from casereview.domain.reporting.figures import (
    NOT_APPLICABLE,
    SECTIONS,
    Cell,
    Figure,
    Report,
    ReviewType,
    display,
    share,
    value_text,
)
from casereview.formats.report import actions as actions_section
from casereview.formats.text import visible

# Enough to stop emphasis, code, links, images, headings and table cells; `<`, `>` and
# `&` are handled by html.escape.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]#!|~])")
_BATCH = 1000  # detail lines per piece: big enough to write efficiently, small in memory


def escape(value: object) -> str:
    """Text made inert in Markdown: no emphasis, links, tables or raw HTML."""
    flat = visible(" ".join(str(value).split()))
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", flat), quote=False)


def _value(report: Report, figure: Figure) -> str:
    text = value_text(figure)
    context = share(report, figure)
    return f"{text} {context}" if context else text


def _cell(value: Cell) -> str:
    return escape(display(value))


def render(report: Report, *, detail: bool) -> str:
    return "".join(chunks(report, detail=detail))


def chunks(report: Report, *, detail: bool) -> Iterator[str]:
    """The document in pieces, each ending in a newline, so a large one can be written
    as it is made (their concatenation is `render`)."""
    period = report.period
    lines = [
        f"# Child safeguarding practice reviews: figures for {escape(period.label)}",
        "",
        *([f"Partnership: {escape(report.partnership)}.", ""] if report.partnership else []),
        f"Period: {period.start.isoformat()} to {period.end.isoformat()}. "
        f'Positions "at period end" are as at {report.as_at.isoformat()}.',
    ]
    if not report.complete:
        lines.append("")
        lines.append(
            f"**The period has not ended: figures are to {report.generated_on.isoformat()}.**"
        )
    lines += ["", "Definitions of every figure: docs/report.md. Children are named by pseudonym."]
    for section_id, title in SECTIONS:
        figures = report.section(section_id)
        lines += ["", f"## {title}", "", "| Figure | Value |", "|---|---:|"]
        lines += [f"| {escape(f.label)} | {_value(report, f)} |" for f in figures]
        if section_id == "rapid_reviews" and report.by_quarter:
            lines += ["", "| Quarter | On time | Late |", "|---|---:|---:|"]
            for q in report.by_quarter:
                label = q.quarter.label + (" (part)" if q.quarter.partial else "")
                on_time, late = (q.on_time, q.late) if q.applicable else (NOT_APPLICABLE,) * 2
                lines.append(f"| {escape(label)} | {on_time} | {late} |")
        if detail:
            for figure in figures:
                yield _lines(lines)
                lines = []
                yield from _detail(figure)
    if report.mixed:
        lines += ["", "## Each review type's figures", ""]
        lines.append("The figures above count every review type together; each type's own follow.")
        for kind in report.review_types:
            lines += _review_type(kind)
    if report.actions is not None:
        lines += actions_section.markdown_lines(report.actions, escape)
    yield _lines(lines)


def _review_type(kind: ReviewType) -> list[str]:
    """A review type's own section: its figure groups, then its links to other cases."""
    lines = ["", f"### {escape(kind.label)}: {escape(kind.title)}"]
    for group in kind.groups:
        lines += ["", f"#### {escape(group.title)}", "", "| Figure | Value |", "|---|---:|"]
        lines += [f"| {escape(f.label)} | {value_text(f)} |" for f in group.figures]
    if kind.linked:
        lines += ["", "Linked to cases of other reviews:", ""]
        for link in kind.linked:
            lines.append(
                f"- {escape(link.ref)} ({escape(link.pseudonym)}) and {escape(link.other)} "
                f"({escape(link.other_type)}): {escape(link.relation)}"
            )
    return lines


def _lines(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def _detail(figure: Figure) -> Iterator[str]:
    lines = ["", f"### {escape(figure.label)} (`{figure.id}`)", ""]
    if not figure.applicable:
        yield _lines([*lines, "Not applicable to the workflows of these cases."])
        return
    if not figure.cases:
        yield _lines([*lines, "No cases."])
        return
    header = ["Ref", "Pseudonym", *(c.replace("_", " ") for c in figure.columns)]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for row in figure.cases:
        cells = [escape(row.ref), escape(row.pseudonym), *(_cell(c) for c in row.cells)]
        lines.append("| " + " | ".join(cells) + " |")
        if len(lines) >= _BATCH:
            yield _lines(lines)
            lines = []
    yield _lines(lines)
