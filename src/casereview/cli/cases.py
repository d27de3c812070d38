"""`casereview case open|list|show|advance|correct|undo|void`: the chair's and business
unit's commands.

Each command parses its options and makes one service call; which fields and values a
case takes is the workflow's to say (`--incident-on` and `--nature` are shorthand for
`--set incident_on=…` and `--set nature=…`, checked like any other field). Who may
correct, undo and void is the workflow's `[corrections]` table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casereview.cli.options import (
    DbOption,
    IncludePersonalOption,
    JsonOption,
    WorkflowOption,
    context,
)
from casereview.cli.params import parse_assignments, parse_date
from casereview.infra.workflows import DEFAULT_ENV, DEFAULT_WORKFLOW

RefArgument = Annotated[
    str, typer.Argument(metavar="REF", help="Case reference, or the case's pseudonym.")
]

app = typer.Typer(
    no_args_is_help=True, help="Cases: open, list, find, show, advance; correct, undo, void."
)


@app.command("open")
def case_open(
    ref: Annotated[str, typer.Argument(help="The partnership's case reference, e.g. 2026-014.")],
    aware_on: Annotated[
        str,
        typer.Option(
            "--aware-on",
            metavar="YYYY-MM-DD",
            help="Date the local authority became aware (recorded where the workflow has "
            "an aware_on field).",
        ),
    ],
    pseudonym: Annotated[
        str | None, typer.Option(help="Pseudonym, e.g. 'Child A' (default: next free).")
    ] = None,
    incident_on: Annotated[
        str | None,
        typer.Option(
            "--incident-on",
            metavar="YYYY-MM-DD",
            help="Incident date (the workflow's incident_on field).",
        ),
    ] = None,
    nature: Annotated[
        str | None,
        typer.Option(
            help="Nature of the incident: a value the workflow's nature field allows "
            "(see 'casereview workflow show')."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="FIELD=VALUE", help="Another opening field (repeatable)."),
    ] = None,
    workflow: Annotated[
        str | None,
        typer.Option(
            help="Workflow id (its highest installed version), or id@N for an older "
            f"installed version (e.g. england-lcspr@1). Default: ${DEFAULT_ENV}, else "
            f"{DEFAULT_WORKFLOW}."
        ),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option(
            "--on", metavar="YYYY-MM-DD", help="Date the case was opened (default today)."
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a case in its workflow's first state and start its clocks."""
    from casereview.cli.render import cases as render
    from casereview.services import cases

    fields = parse_assignments(set_)
    if incident_on is not None:
        fields["incident_on"] = parse_date(incident_on, "--incident-on").isoformat()
    if nature is not None:
        fields["nature"] = nature
    view = cases.open_case(
        context(db),
        ref,
        aware_on=parse_date(aware_on, "--aware-on"),
        pseudonym=pseudonym,
        workflow=workflow,
        fields=fields,
        on=parse_date(on, "--on") if on else None,
    )
    render.opened(view, as_json)


@app.command("list")
def case_list(
    state: Annotated[str | None, typer.Option(help="Only cases in this state.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only open cases.")] = False,
    closed_only: Annotated[bool, typer.Option("--closed", help="Only closed cases.")] = False,
    every: Annotated[
        bool, typer.Option("--all", help="Also cases voided as opened in error.")
    ] = False,
    xlsx_file: Annotated[
        Path | None,
        typer.Option(
            "--xlsx",
            metavar="FILE",
            help="Also write the cases to FILE as an Excel workbook (.xlsx): a tracker with "
            "a column per field and clock, and their history ('casereview import cases "
            "FILE' reads it back).",
        ),
    ] = None,
    workflow: WorkflowOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List cases with their state and what is due next, soonest (and overdue) first (not
    those voided as opened in error, unless --all)."""
    from casereview.cli.render import cases as render
    from casereview.errors import InvalidInput
    from casereview.services import cases

    if open_only and closed_only:
        raise InvalidInput("--open and --closed cannot be combined")
    closed = True if closed_only else (False if open_only else None)
    render.case_list(
        cases.list_cases(context(db), state=state, closed=closed, voided=every, workflow=workflow),
        as_json,
    )
    if xlsx_file is not None:
        from casereview.cli import xlsx
        from casereview.services import imports_tracker

        tables = imports_tracker.tracker_tables(
            context(db), state=state, closed=closed, voided=every, workflow=workflow
        )
        xlsx.write(xlsx_file, tables)


@app.command("find")
def case_find(
    text: Annotated[str, typer.Argument(help="Part of a reference, a pseudonym or a name.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find cases by reference or pseudonym, ignoring letter case; roles the workflow lets
    see personal fields also find them by name (never shown; the search is recorded in
    the log when a name matches)."""
    from casereview.cli.render import cases as render
    from casereview.services import find

    render.found(find.find_cases(context(db), text), as_json)


@app.command("show")
def case_show(
    ref: RefArgument,
    as_at: Annotated[
        str | None,
        typer.Option("--as-at", metavar="YYYY-MM-DD", help="Show the case as it stood that day."),
    ] = None,
    include_personal: IncludePersonalOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """State, fields, clocks, and what can happen next (and who may do it). Personal
    fields are left out unless --include-personal."""
    from casereview.cli.render import cases as render
    from casereview.services import cases

    when = parse_date(as_at, "--as-at") if as_at else None
    view = cases.show_case(context(db), ref, as_at=when, include_personal=include_personal)
    render.case(view, as_json)


@app.command("advance")
def case_advance(
    ref: RefArgument,
    trigger: Annotated[str, typer.Argument(help="Trigger id, e.g. submit_rapid_review.")],
    on: Annotated[
        str | None,
        typer.Option("--on", metavar="YYYY-MM-DD", help="Date it happened (default today)."),
    ] = None,
    rationale: Annotated[str | None, typer.Option(help="Why: the decision's reasons.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="FIELD=VALUE", help="A field this trigger records."),
    ] = None,
    on_behalf_of: Annotated[
        str | None,
        typer.Option("--on-behalf-of", metavar="USER", help="Who took the decision."),
    ] = None,
    expect_state: Annotated[
        str | None,
        typer.Option("--expect-state", metavar="STATE", help="Refuse if the case has moved on."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fire a trigger: record one event and move the case."""
    from casereview.cli.render import cases as render
    from casereview.services import cases

    result = cases.advance(
        context(db),
        ref,
        trigger,
        on=parse_date(on, "--on") if on else None,
        rationale=rationale,
        fields=parse_assignments(set_),
        on_behalf_of=on_behalf_of,
        expect_state=expect_state,
    )
    render.advanced(result, as_json)


RationaleOption = Annotated[
    str | None, typer.Option(help="Why: what was wrong, or why the case is voided (required).")
]


@app.command("correct")
def case_correct(
    ref: RefArgument,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            metavar="NAME=VALUE",
            help="The right value of a recorded field (repeatable); without --event, the "
            "latest event that recorded it is corrected.",
        ),
    ] = None,
    event: Annotated[
        int | None,
        typer.Option(
            "--event", metavar="SEQ", help="The event corrected (its number in the timeline)."
        ),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option(
            "--on", metavar="YYYY-MM-DD", help="The right date of --event: when it happened."
        ),
    ] = None,
    event_rationale: Annotated[
        str | None,
        typer.Option("--event-rationale", metavar="TEXT", help="The right rationale of --event."),
    ] = None,
    rationale: RationaleOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Correct what was recorded: a field, an event's date or its rationale.

    One new event says what was wrong, what is right, who said so and why; the case,
    its clocks and every view are worked out again from the corrected record.
    """
    from casereview.cli.render import corrections as render
    from casereview.services import corrections

    result = corrections.correct(
        context(db),
        ref,
        fields=parse_assignments(field, "--field", "NAME"),
        event=event,
        on=parse_date(on, "--on") if on else None,
        event_rationale=event_rationale,
        rationale=rationale,
    )
    render.amended(result, as_json)


@app.command("undo")
def case_undo(
    ref: RefArgument,
    rationale: RationaleOption = None,
    event: Annotated[
        int | None,
        typer.Option(
            "--event", metavar="SEQ", help="Refuse unless this is the step undone (the latest)."
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Undo the case's latest step: a new event reverses it (it stays in the log)."""
    from casereview.cli.render import corrections as render
    from casereview.services import corrections

    render.amended(corrections.undo(context(db), ref, rationale=rationale, event=event), as_json)


@app.command("void")
def case_void(
    ref: RefArgument,
    rationale: RationaleOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Void a case opened in error: it stays in the log but leaves every list and figure."""
    from casereview.cli.render import corrections as render
    from casereview.services import corrections

    render.amended(corrections.void(context(db), ref, rationale=rationale), as_json)


@app.command("migrate")
def case_migrate(
    to: Annotated[
        str,
        typer.Option(
            "--to", metavar="ID@N", help="The installed version to move to, e.g. england-lcspr@2."
        ),
    ],
    case: Annotated[
        list[str] | None,
        typer.Option("--case", metavar="REF", help="A case to move (repeatable)."),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every case on an earlier version of the workflow.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="List each case, its old and new state and clocks; change nothing."
        ),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move cases to a later installed version of their workflow (admin).

    One audited event per case, under the state map in the new version's file; clocks
    are worked out again from the new version's rules. Nothing is written unless every
    selected case can move.
    """
    from casereview.cli.render import migrate as render
    from casereview.services import migrate

    result = migrate.migrate(context(db), to, case or (), every=every, dry_run=dry_run)
    render.migrated(result, as_json)


# -- case process add|update|list: parallel processes ----------------------------------

process_app = typer.Typer(
    no_args_is_help=True,
    help="Parallel processes on a case (a trial, an inquest): add, update, list.",
)
app.add_typer(process_app, name="process")

TypeOption = Annotated[
    str | None,
    typer.Option("--type", help="Process type: one the workflow allows (see 'workflow show')."),
]
ReferenceOption = Annotated[
    str | None, typer.Option("--reference", help="The process's own reference.")
]
LeadOption = Annotated[str | None, typer.Option("--lead", help="The agency leading it.")]
StatusOption = Annotated[str | None, typer.Option("--status", help="Its status, e.g. concluded.")]
DateOption = Annotated[
    list[str] | None,
    typer.Option(
        "--date", metavar="FIELD=YYYY-MM-DD", help="A key date, e.g. trial_on=… (repeatable)."
    ),
]
OnOption = Annotated[
    str | None,
    typer.Option("--on", metavar="YYYY-MM-DD", help="Date it was recorded (default today)."),
]
WhyOption = Annotated[str | None, typer.Option(help="Why: the reasons, kept in the log.")]


@process_app.command("add")
def process_add(
    ref: Annotated[str, typer.Argument(help="Case reference.")],
    process_type: Annotated[
        str,
        typer.Option("--type", help="Process type: one the workflow allows (see 'workflow show')."),
    ],
    reference: ReferenceOption = None,
    lead: LeadOption = None,
    status: StatusOption = None,
    date: DateOption = None,
    on: OnOption = None,
    rationale: WhyOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a parallel process on a case (the workflow's register trigger): it is
    numbered 1, 2, … on the case."""
    from casereview.cli.render import cases as render
    from casereview.services import processes

    result = processes.add_process(
        context(db),
        ref,
        process_type=process_type,
        reference=reference,
        lead=lead,
        status=status,
        dates=parse_assignments(date, "--date"),
        on=parse_date(on, "--on") if on else None,
        rationale=rationale,
    )
    render.process_recorded(result, as_json)


@process_app.command("update")
def process_update(
    ref: Annotated[str, typer.Argument(help="Case reference.")],
    number: Annotated[str, typer.Argument(help="The process's number on the case.")],
    process_type: TypeOption = None,
    reference: ReferenceOption = None,
    lead: LeadOption = None,
    status: StatusOption = None,
    date: DateOption = None,
    on: OnOption = None,
    rationale: WhyOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a parallel process: its key dates, status or reference (the workflow's
    update trigger)."""
    from casereview.cli.render import cases as render
    from casereview.services import processes

    result = processes.update_process(
        context(db),
        ref,
        number,
        process_type=process_type,
        reference=reference,
        lead=lead,
        status=status,
        dates=parse_assignments(date, "--date"),
        on=parse_date(on, "--on") if on else None,
        rationale=rationale,
    )
    render.process_recorded(result, as_json)


@process_app.command("list")
def process_list(
    ref: Annotated[str, typer.Argument(help="Case reference.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A case's parallel processes: type, reference, lead agency, status, key dates."""
    from casereview.cli.render import cases as render
    from casereview.services import processes

    render.process_list(processes.list_processes(context(db), ref), as_json)


@app.command("link")
def case_link(
    ref: Annotated[str, typer.Argument(help="Case reference.")],
    other: Annotated[str, typer.Argument(help="The case it is linked to.")],
    relation: Annotated[
        str,
        typer.Option(help="How they are linked: one the workflow allows, e.g. sibling."),
    ],
    on: OnOption = None,
    rationale: WhyOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Link a case to another (the workflow's link trigger): recorded on REF, shown on
    both cases."""
    from casereview.cli.render import cases as render
    from casereview.services import links

    result = links.link_case(
        context(db),
        ref,
        other,
        relation,
        on=parse_date(on, "--on") if on else None,
        rationale=rationale,
    )
    render.advanced(result, as_json)
