"""`casereview report`: figures for the annual report and the scrutiny committee.

Parse the period and the output options, make one service call
(`casereview.services.report.build_report`), hand the figures to
`casereview.cli.render.report` (the terminal table) or write the document format piece
by piece (`write_document`). Figure definitions are in docs/report.md.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from casereview.cli.options import DbOption, WorkflowOption, context
from casereview.cli.params import parse_date

if TYPE_CHECKING:
    from casereview.domain.reporting.figures import Report


class ReportFormat(StrEnum):
    table = "table"
    md = "md"
    csv = "csv"
    json = "json"
    html = "html"
    xlsx = "xlsx"


SUFFIXES = {
    ".md": ReportFormat.md,
    ".markdown": ReportFormat.md,
    ".csv": ReportFormat.csv,
    ".json": ReportFormat.json,
    ".html": ReportFormat.html,
    ".htm": ReportFormat.html,
    ".xlsx": ReportFormat.xlsx,
}


def choose_format(given: ReportFormat | None, output: str | None) -> ReportFormat:
    """--format if given; else from --output's extension; else a table on the terminal."""
    from casereview.errors import InvalidInput

    if output is not None and not output.strip():
        raise InvalidInput("--output needs a file name")
    if given is None and output is None:
        return ReportFormat.table
    if given is None:
        suffix = Path(str(output)).suffix.lower()
        if suffix not in SUFFIXES:
            raise InvalidInput(
                f"cannot tell the format from {output!r}; add --format md, csv, json or html"
            )
        return SUFFIXES[suffix]
    if given is ReportFormat.table and output is not None:
        raise InvalidInput(
            "--format table is for the terminal; use md, csv, json or html with --output"
        )
    return given


def register(app: typer.Typer) -> None:
    """Add the `report` command to the root app."""
    app.command("report")(report)


def report(
    from_: Annotated[
        str | None,
        typer.Option("--from", metavar="YYYY-MM-DD", help="First day of the period (with --to)."),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="YYYY-MM-DD", help="Last day of the period (with --from)."),
    ] = None,
    year: Annotated[
        str | None,
        typer.Option(
            "--year",
            metavar="YYYY-YY",
            help="Financial year, e.g. 2025-26 = 2025-04-01 to 2026-03-31 "
            "(default: the current one).",
        ),
    ] = None,
    fmt: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format",
            help="table, md, csv, json, html or xlsx (default: table, or from --output's "
            "extension); xlsx needs --output.",
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace FILE if it already exists.")
    ] = False,
    detail: Annotated[
        bool,
        typer.Option("--detail", help="List the cases (ref, pseudonym, dates) behind each figure."),
    ] = False,
    workflow: WorkflowOption = None,
    db: DbOption = None,
) -> None:
    """Figures for a reporting period: notifications, rapid reviews, decisions, the Panel's
    response, local reviews and action plans (definitions in docs/report.md)."""
    from casereview.cli.render import report as render
    from casereview.domain.reporting.figures import parse_financial_year
    from casereview.infra.output import check_target
    from casereview.services.report import build_report

    start = parse_date(from_, "--from") if from_ is not None else None
    end = parse_date(to, "--to") if to is not None else None
    start_year = parse_financial_year(year) if year is not None else None
    chosen = choose_format(fmt, output)
    if chosen is ReportFormat.xlsx and output is None:
        from casereview.errors import InvalidInput

        raise InvalidInput("--format xlsx writes a workbook: give --output FILE.xlsx")
    if output is not None:
        check_target(Path(output), force=force)
    figures = build_report(context(db), start=start, end=end, year=start_year, workflow=workflow)
    if chosen is ReportFormat.table:
        render.table(figures, detail=detail)
    else:
        write_document(figures, chosen.value, detail=detail, output=output, force=force)


def write_document(
    figures: Report, fmt: str, *, detail: bool, output: str | None, force: bool = False
) -> None:
    """Write an md, csv, json or html report piece by piece as the writer makes it, to
    stdout or (whole or not at all) to `output`: at national scale the page is far too
    large to hold in memory at once."""
    from casereview.cli.render.console import info
    from casereview.cli.streams import DataOut
    from casereview.formats.report import as_csv as csv_out
    from casereview.formats.report import as_html as html
    from casereview.formats.report import as_json as json_out
    from casereview.formats.report import as_markdown as markdown
    from casereview.infra.output import destination

    if fmt == "xlsx" and output is not None:
        from casereview.formats import xlsx_report

        data = xlsx_report.workbook(figures, detail=detail)
        with destination(Path(output), force=force) as stream:
            stream.write(data)
        info(f"Wrote the xlsx report for {figures.period.label} to {output}")
        return
    writers = {
        "md": markdown.chunks,
        "csv": csv_out.chunks,
        "json": json_out.chunks,
        "html": html.chunks,
    }
    pieces = writers[fmt](figures, detail=detail)
    if output is None:
        sink = DataOut()
        for piece in pieces:
            sink.write(piece)
        return
    with destination(Path(output), force=force) as stream:
        for piece in pieces:
            stream.write(piece.encode("utf-8"))
    info(f"Wrote the {fmt} report for {figures.period.label} to {output}")
