"""`casereview calendar export`: open deadlines as an iCalendar file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casereview.cli.options import DbOption, WorkflowOption, context

app = typer.Typer(no_args_is_help=True, help="Deadlines as a calendar feed (iCalendar).")


@app.command("export")
def export(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE.ics", help="Write to FILE.ics instead of stdout."
        ),
    ] = None,
    case: Annotated[
        str | None, typer.Option("--case", metavar="REF", help="Only this case.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the file if it already exists.")
    ] = False,
    workflow: WorkflowOption = None,
    db: DbOption = None,
) -> None:
    """Write every running clock's due date as an all-day event with a reminder.

    Import the file into Outlook or Google Calendar; importing a newer export updates
    the same entries (stable UIDs). Paused clocks are left out.
    """
    from casereview.cli.render import exports as render
    from casereview.infra.output import check_target, destination
    from casereview.services import exports

    if output is not None:
        check_target(output, force=force)
    with destination(output, force=force) as sink:
        result = exports.export_calendar(context(db), sink, case=case, workflow=workflow)
    render.calendar_exported(result, output)
