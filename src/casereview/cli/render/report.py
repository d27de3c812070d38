"""The terminal table of `casereview report`: the figures by section with their shares and
ids, rapid reviews by quarter, and with `--detail` one table per figure. Documents (md,
csv, json, html) are written by `casereview.formats.report`, not here.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from casereview.cli.render.console import compact, literal, out
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
