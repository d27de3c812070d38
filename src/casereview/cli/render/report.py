"""The terminal table of `casereview report`: the figures by section with their shares and
ids, rapid reviews by quarter, and with `--detail` one table per figure. Documents (md,
csv, json, html) are written by `casereview.formats.report`, not here.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from casereview.cli.render.console import literal, out
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
    grid = Table("figure", "value", "id", show_edge=False)
    for section_id, title in SECTIONS:
        grid.add_row(Text(title, style="bold"), "", "")
        for figure in figures.section(section_id):
            context = share(figures, figure)
            grid.add_row(
                "  " + figure.label,
                value_text(figure) + (f" {context}" if context else ""),
                Text(figure.id, style="dim"),
            )
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
