"""The terminal table of `casereview report`: the figures by section with their shares and
ids, rapid reviews by quarter, and with `--detail` one table per figure. Documents (md,
csv, json, html) are written by `casereview.formats.report`, not here.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from casereview.cli.render.console import compact, literal, out
from casereview.domain.reporting.actions import COUNTS, ActionFigures
from casereview.domain.reporting.figures import (
    NOT_APPLICABLE,
    SECTIONS,
    Report,
    display,
    share,
    value_text,
)


def table(figures: Report, *, detail: bool) -> None:
    console = out()
    period = figures.period
    if figures.partnership:
        console.print(literal(figures.partnership), style="bold")
    console.print(
        Text(f"Figures for {period.label}", style="bold")
        + Text(f"  {period.start.isoformat()} to {period.end.isoformat()}")
    )
    if not figures.complete:
        console.print(
            Text(
                f"The period has not ended: figures are to {figures.generated_on.isoformat()}.",
                style="yellow",
            )
        )
    # Below 100 columns the figure ids (the longest text after the labels, and only a
    # cross-reference to docs/report.md) give way; the values never wrap.
    with_ids = not compact()
    grid = Table(show_edge=False)
    grid.add_column("figure", ratio=1)
    grid.add_column("value", no_wrap=True)
    if with_ids:
        # An id is typed and searched for: kept whole; the labels wrap instead.
        longest = max((len(f.id) for f in figures.figures), default=0)
        grid.add_column("id", no_wrap=True, min_width=longest)
    for section_id, title in SECTIONS:
        grid.add_row(Text(title, style="bold"), "", *([""] if with_ids else []))
        for figure in figures.section(section_id):
            context = share(figures, figure)
            cells: list[str | Text] = [
                "  " + figure.label,
                value_text(figure) + (f" {context}" if context else ""),
            ]
            if with_ids:
                cells.append(Text(figure.id, style="dim"))
            grid.add_row(*cells)
    console.print(grid)
    quarters = Table("quarter", "on time", "late", title="Rapid reviews by quarter")
    for q in figures.by_quarter:
        label = q.quarter.label + (" (part)" if q.quarter.partial else "")
        counts = (str(q.on_time), str(q.late)) if q.applicable else (NOT_APPLICABLE,) * 2
        quarters.add_row(label, *counts)
    console.print(quarters)
    for kind in figures.review_types if figures.mixed else ():
        # Each review type's own figures, after everyone's together.
        own = Table(show_edge=False, title=f"{kind.label}: {kind.title}", title_justify="left")
        own.add_column("figure", ratio=1)
        own.add_column("value", no_wrap=True)
        for group in kind.groups:
            own.add_row(Text(group.title, style="bold"), "")
            for figure in group.figures:
                own.add_row("  " + figure.label, value_text(figure))
        for link in kind.linked:
            own.add_row(
                Text(f"Linked: {link.ref} and {link.other} ({link.other_type})"),
                Text(link.relation),
            )
        console.print(own)
    if figures.actions is not None:
        _actions(figures.actions)
    if not detail:
        return
    for figure in figures.figures:
        if not figure.cases:
            continue
        cases = Table(
            "ref",
            "pseudonym",
            *figure.columns,
            title=f"{figure.label}: {value_text(figure)} ({figure.id})",
            title_justify="left",
        )
        for row in figure.cases:
            cases.add_row(
                literal(row.ref), literal(row.pseudonym), *(literal(display(c)) for c in row.cells)
            )
        console.print(cases)


def _actions(section: ActionFigures) -> None:
    """Recommendations made, actions by owner agency, the oldest open actions."""
    console = out()
    made = f"  {section.recommendations} recommendations made, {section.multi_agency} multi-agency"
    console.print(Text("Recommendations and actions", style="bold") + Text(made))
    # Below 100 columns the counts keep short headings, so each agency stays on one row.
    short = ("on time", "extended", "late", "closed", "open", "overdue")
    headings = short if compact() else tuple(label for _, label in COUNTS)
    grid = Table("owner agency", *headings, title="Actions by owner agency", title_justify="left")
    for agency, counts in (*section.by_agency.items(), ("all agencies", section.total)):
        grid.add_row(literal(agency), *(str(counts.value(name)) for name, _ in COUNTS))
    console.print(grid)
    if section.oldest_open:
        oldest = Table("ref", "action", "agency", "due", "working days overdue",
                       title="Oldest open actions", title_justify="left")  # fmt: skip
        for o in section.oldest_open:
            oldest.add_row(literal(o.ref), literal(o.action), literal(o.agency),
                           o.due_on.isoformat(), str(o.working_days_overdue))  # fmt: skip
        console.print(oldest)
