"""Output of `casereview report`: rich tables on the terminal, or a document (Markdown,
CSV, JSON, HTML from `casereview.formats.report`) on stdout or in a file.

Files go through `casereview.infra.output`, like every export: written whole or not
at all, readable by their owner only (a report with `--detail` names cases), and an
existing file is replaced only with `--force`. The confirmation goes to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.table import Table
from rich.text import Text

from casereview.cli.render.console import info, literal, out
from casereview.domain.reporting.figures import SECTIONS, Report, display, share, value_text
from casereview.formats.report import as_csv as csv_out
from casereview.formats.report import as_html as html
from casereview.formats.report import as_json as json_out
from casereview.formats.report import as_markdown as markdown
from casereview.infra.output import destination

WRITERS = {
    "md": markdown.render,
    "csv": csv_out.render,
    "json": json_out.render,
    "html": html.render,
}


def report(
    figures: Report, fmt: str, *, detail: bool, output: str | None, force: bool = False
) -> None:
    if fmt == "table":
        table(figures, detail=detail)
        return
    text = WRITERS[fmt](figures, detail=detail)
    if output is None:
        sys.stdout.write(text)
        return
    with destination(Path(output), force=force) as stream:
        stream.write(text.encode("utf-8"))
    info(f"Wrote the {fmt} report for {figures.period.label} to {output}")


def table(figures: Report, *, detail: bool) -> None:
    console = out()
    period = figures.period
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
        quarters.add_row(label, str(q.on_time), str(q.late))
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
