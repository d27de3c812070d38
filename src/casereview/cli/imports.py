"""`casereview import`: bring a tracker's cases in (`services.imports`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casereview.cli.options import DbOption, JsonOption, context

app = typer.Typer(
    no_args_is_help=True,
    help="Bring an existing tracker (.xlsx, .ods, .csv) in as cases with their history.",
)


@app.command("template")
def template(
    workflow: Annotated[
        str | None,
        typer.Option("--workflow", metavar="ID", help="The workflow the cases are opened on."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Print a commented mapping (TOML) to fill in for 'casereview import cases'."""
    from casereview.cli.render import imports as render
    from casereview.services import imports as service

    render.template(service.template(context(db), workflow))


@app.command("cases")
def cases(
    tracker: Annotated[Path, typer.Argument(help="The tracker: an .xlsx, .ods or .csv file.")],
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            metavar="FILE",
            help="Which column holds what (see 'casereview import template'); not needed "
            "for a workbook written by 'casereview case list --xlsx'.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check every row and report; write nothing."),
    ] = False,
    skip_bad_rows: Annotated[
        bool,
        typer.Option(
            "--skip-bad-rows",
            help="Import the rows without problems; list the others in "
            "TRACKER.skipped.csv beside the file.",
        ),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import each row of TRACKER as a case with its history, through the workflow's
    checks, or nothing at all: every problem is listed (sheet, row, column, value, what
    is wrong, what would fix it) and exit 4. Cases already in the database are refused."""
    from casereview.cli.render import imports as render
    from casereview.services import imports as service

    with render.progress() as bar:
        outcome = service.import_cases(
            context(db),
            tracker,
            mapping,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            progress=bar,
        )
    render.result(outcome, as_json)
    if outcome.problems and not outcome.skipped_rows:
        raise service.refused_error(outcome)
