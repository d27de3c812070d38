"""`casereview due`, `timeline` and `explain`: what is due, a case's story, a due date's why.

Each command parses its options, makes one call into its service (`services.due`,
`services.timeline`, `services.explain`) and hands the result to `cli.render.dashboard`.
Services and rich are imported inside the commands so `casereview --help` does not pay
for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casereview.cli import options
from casereview.cli.options import DbOption, IncludePersonalOption, JsonOption, WorkflowOption
from casereview.cli.params import parse_date
from casereview.errors import InvalidInput

TABLE_LIMIT = 50
"""Rows the `due` table shows by default: the most urgent screenful, not all of a
national installation's tens of thousands of open clocks."""


def due(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="YYYY-MM-DD",
            help="The clocks as they stood that day, days left counted from it (default today).",
        ),
    ] = None,
    within: Annotated[
        int | None,
        typer.Option(
            "--within",
            metavar="N",
            min=0,
            help="Only clocks due within N working days of the as-of date, and all overdue ones.",
        ),
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue clocks.")] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            metavar="N",
            min=1,
            help=f"Show at most N clocks, the most urgent (default {TABLE_LIMIT} in the "
            "table; --json and --csv list every clock unless --limit is given).",
        ),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Show every matching clock in the table.")
    ] = False,
    as_json: JsonOption = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print CSV with a header row (same keys as --json).")
    ] = False,
    xlsx_file: Annotated[
        Path | None,
        typer.Option(
            "--xlsx",
            metavar="FILE",
            help="Also write every matching clock to FILE as an Excel workbook (.xlsx): "
            "real dates, overdue rows red, due soon amber.",
        ),
    ] = None,
    workflow: WorkflowOption = None,
    clock: Annotated[
        list[str] | None,
        typer.Option(
            "--clock",
            metavar="ID",
            help="Only clocks with this id, as the workflows name them ('casereview workflow "
            "show'); repeat for several. Open actions and parallel processes' dates are then "
            "left out.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Open clocks across all cases, most urgent first, with working days left; the
    summary counts every open clock."""
    from casereview.cli.render import dashboard as render
    from casereview.services import due as service

    if as_json and as_csv:
        raise InvalidInput("--json and --csv cannot be combined; choose one")
    if show_all and limit is not None:
        raise InvalidInput("--all and --limit cannot be combined; choose one")
    table = not (as_json or as_csv)
    result = service.due_list(
        options.context(db),
        as_of=parse_date(as_of, "--as-of") if as_of else None,
        within=within,
        overdue_only=overdue,
        workflow=workflow,
        clocks=clock or (),
        # A person reads a screenful; a script gets everything unless it asks for less.
        limit=limit if limit is not None or show_all or not table else TABLE_LIMIT,
    )
    render.due(result, "json" if as_json else "csv" if as_csv else "table")
    if xlsx_file is not None:
        from casereview.cli import xlsx
        from casereview.presenters.due import due_table

        every = result
        if table and limit is None and not show_all:
            every = service.due_list(
                options.context(db),
                as_of=parse_date(as_of, "--as-of") if as_of else None,
                within=within,
                overdue_only=overdue,
                workflow=workflow,
                clocks=clock or (),
                limit=None,
            )
        xlsx.write(xlsx_file, [due_table(every)])


def timeline(
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="Case reference, or the case's pseudonym.")
    ],
    include_personal: IncludePersonalOption = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """A case's life in order: events, clocks started and stopped, due dates passed,
    and a plan-versus-actual chart. Personal fields are left out unless
    --include-personal."""
    from casereview.cli.render import dashboard as render
    from casereview.services import timeline as service

    view = service.timeline(options.context(db), ref, include_personal=include_personal)
    render.timeline(view, as_json)


def explain(
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="Case reference, or the case's pseudonym.")
    ],
    clock: Annotated[
        str,
        typer.Argument(
            metavar="CLOCK",
            help="Clock id (e.g. rapid_review) or its label; action-N for an action's due date.",
        ),
    ],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """How a clock's due date was reached: anchor, rule, every day counted or skipped,
    pauses and re-projections; for an action (action-N), its due date, extensions with
    reasons and who agreed them, status and owner agency."""
    from casereview.cli.render import dashboard as render
    from casereview.domain.actions import action_of_clock
    from casereview.services import explain as service

    number = action_of_clock(clock)
    if number is not None:  # an action's deadline, as `due` lists it
        from casereview.cli.render import actions as plan_render
        from casereview.services import actions as plan_service

        why = plan_service.explain_action(options.context(db), ref, number)
        plan_render.explanation(why, as_json)
        return
    render.explanation(service.explain(options.context(db), ref, clock), as_json)


def register(app: typer.Typer) -> None:
    """Add this module's top-level commands to the root app."""
    app.command("due")(due)
    app.command("timeline")(timeline)
    app.command("explain")(explain)
