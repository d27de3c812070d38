"""`casereview rec …` and `casereview action …`: a case's recommendations and actions,
and open actions across cases (`action due`).

Each command parses its options, makes one call into `services.actions` and hands the
result to `cli.render.actions`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from casereview.cli.options import DbOption, JsonOption, context
from casereview.cli.params import parse_date

rec_app = typer.Typer(
    help="A case's recommendations: add, record that there are none, list, show.",
    no_args_is_help=True,
)
action_app = typer.Typer(
    help="Actions under a case's recommendations: add, update, extend, complete, "
    "override, list; and open actions across cases (due).",
    no_args_is_help=True,
)

RefArgument = Annotated[str, typer.Argument(help="Case reference.")]
ActionArgument = Annotated[str, typer.Argument(help="The action's number, e.g. 1.2.")]
OnOption = Annotated[
    str | None,
    typer.Option("--on", metavar="YYYY-MM-DD", help="The day it happened (default today)."),
]
EvidenceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--evidence",
        metavar="REF",
        help="Where evidence of the change lives (a path, a URL, a document id); repeat "
        "for several. casereview keeps the reference, not the document.",
    ),
]
NoteOption = Annotated[str | None, typer.Option("--note", help="What was done; who says so.")]


def _record(
    ref: str,
    trigger: str,
    fields: dict[str, Any],
    on: str | None,
    db: str | None,
    as_json: bool,
    rationale: str | None = None,
) -> None:
    from casereview.cli.render import actions as render
    from casereview.services import actions as service

    result = service.record(
        context(db),
        ref,
        trigger,
        fields,
        on=parse_date(on, "--on") if on else None,
        rationale=rationale,
    )
    render.recorded(result, as_json)


@rec_app.command("add")
def rec_add(
    ref: RefArgument,
    number: Annotated[str, typer.Argument(help="The recommendation's number, e.g. 3.")],
    text: Annotated[str, typer.Option("--text", help="What the review recommends.")],
    source: Annotated[
        str, typer.Option("--source", help="Which report made it (e.g. the LCSPR's title).")
    ],
    agency: Annotated[
        list[str],
        typer.Option("--agency", help="An agency it is addressed to; repeat for several."),
    ],
    section: Annotated[
        str | None, typer.Option("--section", help="Which section of the report.")
    ] = None,
    multi: Annotated[
        bool | None,
        typer.Option(
            "--multi/--single",
            help="Multi-agency or single-agency (default: by the number of agencies).",
        ),
    ] = None,
    on: OnOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Record a recommendation (the chair's step: the plan and its changes)."""
    from casereview.domain import actions as plans

    scope = multi if multi is not None else len(agency) > 1
    fields = {
        "number": number,
        "text": text,
        "source": source,
        "section": section,
        "agencies": list(agency),
        "scope": plans.MULTI if scope else plans.SINGLE,
    }
    _record(ref, plans.REC_ADD, fields, on, db, as_json)


@rec_app.command("none")
def rec_none(
    ref: RefArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why the review made none.")],
    on: OnOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Record that the review made no recommendations, and why."""
    from casereview.domain import actions as plans

    _record(ref, plans.REC_NONE, {"reason": reason}, on, db, as_json)


@rec_app.command("list")
def rec_list(ref: RefArgument, as_json: JsonOption = False, db: DbOption = None) -> None:
    """A case's recommendations, each with its actions' progress."""
    from casereview.cli.render import actions as render
    from casereview.services import actions as service

    render.plan(service.show_plan(context(db), ref), as_json)


@rec_app.command("show")
def rec_show(
    ref: RefArgument,
    number: Annotated[str, typer.Argument(help="The recommendation's number.")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """One recommendation and its actions, with every update."""
    from casereview.cli.render import actions as render
    from casereview.services import actions as service

    render.recommendation(service.show_plan(context(db), ref), number, as_json)


@action_app.command("add")
def action_add(
    ref: RefArgument,
    action: ActionArgument,
    rec: Annotated[str, typer.Option("--rec", help="The recommendation it answers.")],
    text: Annotated[str, typer.Option("--text", help="What will be done.")],
    agency: Annotated[str, typer.Option("--agency", help="The owner agency.")],
    owner: Annotated[str, typer.Option("--owner", help="The named owner (a post or a person).")],
    due: Annotated[str, typer.Option("--due", metavar="YYYY-MM-DD", help="The due date.")],
    on: OnOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Add an action under a recommendation (the chair's step)."""
    from casereview.domain import actions as plans

    due_on = parse_date(due, "--due").isoformat()
    fields = {"action": action, "rec": rec, "text": text, "agency": agency, "owner": owner,
              "due_on": due_on}  # fmt: skip
    _record(ref, plans.ACTION_ADD, fields, on, db, as_json)


@action_app.command("update")
def action_update(
    ref: RefArgument,
    action: ActionArgument,
    note: NoteOption = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="not_started or in_progress (completion: 'complete')."),
    ] = None,
    evidence: EvidenceOption = None,
    on: OnOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Record progress on an action (a partner for their own agency; the business unit
    for any)."""
    from casereview.domain import actions as plans

    fields = {"action": action, "note": note, "status": status,
              "evidence": list(evidence) if evidence else None}  # fmt: skip
    _record(ref, plans.ACTION_UPDATE, fields, on, db, as_json)


@action_app.command("extend")
def action_extend(
    ref: RefArgument,
    action: ActionArgument,
    due: Annotated[str, typer.Option("--due", metavar="YYYY-MM-DD", help="The new due date.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the delay is justified.")],
    agreed_by: Annotated[str, typer.Option("--agreed-by", help="Who agreed the extension.")],
    on: OnOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Extend an action's due date, with the reason and who agreed it (the chair's step)."""
    from casereview.domain import actions as plans

    fields = {"action": action, "due_on": parse_date(due, "--due").isoformat(),
              "reason": reason, "agreed_by": agreed_by}  # fmt: skip
    _record(ref, plans.ACTION_EXTEND, fields, on, db, as_json)


@action_app.command("complete")
def action_complete(
    ref: RefArgument,
    action: ActionArgument,
    status: Annotated[
        str,
        typer.Option(
            "--status",
            help="completed, evidenced (needs --evidence) or closed_without_completion "
            "(needs --reason; the chair's step).",
        ),
    ] = "completed",
    evidence: EvidenceOption = None,
    note: NoteOption = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why it closes without completion.")
    ] = None,
    on: OnOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Complete an action, evidence it, or close it without completion."""
    from casereview.domain import actions as plans

    fields = {"action": action, "status": status, "note": note, "reason": reason,
              "evidence": list(evidence) if evidence else None}  # fmt: skip
    _record(ref, plans.ACTION_COMPLETE, fields, on, db, as_json)


@action_app.command("override")
def action_override(
    ref: RefArgument,
    trigger: Annotated[str, typer.Argument(help="The step that waits for open actions.")],
    rationale: Annotated[str, typer.Option("--rationale", help="Why it may go ahead.")],
    on: OnOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Let the next TRIGGER go ahead although actions are open (the chair's step; it
    answers the case's next step only)."""
    from casereview.domain import actions as plans

    _record(ref, plans.PLAN_OVERRIDE, {"trigger": trigger}, on, db, as_json, rationale)


@action_app.command("list")
def action_list(ref: RefArgument, as_json: JsonOption = False, db: DbOption = None) -> None:
    """A case's actions: owner, due date, status, RAG and the latest update."""
    from casereview.cli.render import actions as render
    from casereview.services import actions as service

    render.actions(service.show_plan(context(db), ref), as_json)


TABLE_PAGE, JSON_PAGE = 50, 500
"""`action due`'s default number of rows: on the terminal, and with --json."""


@action_app.command("due")
def action_due(
    agency: Annotated[
        str | None, typer.Option("--agency", help="Only this owner agency's actions.")
    ] = None,
    within: Annotated[
        int | None,
        typer.Option(
            "--within",
            metavar="N",
            help="Only those due within N calendar days (and every overdue one).",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            metavar="N",
            min=1,
            help=f"At most N (default: the {TABLE_PAGE} soonest in the table, "
            f"{JSON_PAGE} with --json).",
        ),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Open actions across every case, soonest due first: what each agency owes, when."""
    from casereview.cli.render import actions as render
    from casereview.services import actions as service

    # The table shows a first page, as `due` does: drawing hundreds of rows costs the
    # terminal seconds; a script asks for JSON.
    most = limit or (JSON_PAGE if as_json else TABLE_PAGE)
    rows = service.actions_due(context(db), agency=agency, within=within, limit=most)
    render.due(rows, as_json, more=limit is None and len(rows) == most)


@action_app.command("plan")
def action_plan(
    ref: Annotated[
        str | None, typer.Argument(help="Case reference (omit for every case's plan).")
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="YYYY-MM-DD",
            help="Across cases: recommendations made on or after this day.",
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="YYYY-MM-DD",
            help="Across cases: recommendations made on or before this day.",
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="md, csv, html or xlsx (default: md, or from --output's extension); "
            "xlsx needs --output.",
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace FILE if it already exists.")
    ] = False,
    db: DbOption = None,
) -> None:
    """The action plan as a document for the board and the scrutiny committee: each
    recommendation, its actions, owners, due dates, status, progress, RAG, evidence and
    latest update, with figures and a chart of completions over time (HTML)."""
    from pathlib import Path

    from casereview.cli.render import actions as render
    from casereview.errors import InvalidInput
    from casereview.infra.output import check_target
    from casereview.services import actions as service

    if ref is not None and (from_ or to):
        raise InvalidInput("--from and --to select recommendations across cases; omit REF")
    chosen = fmt
    if chosen is None and output is not None:
        chosen = {".md": "md", ".markdown": "md", ".csv": "csv", ".html": "html",
                  ".htm": "html", ".xlsx": "xlsx"}.get(Path(output).suffix.lower())  # fmt: skip
        if chosen is None:
            raise InvalidInput(f"cannot tell the format from {output!r}; add --format")
    chosen = chosen or "md"
    if chosen not in ("md", "csv", "html", "xlsx"):
        raise InvalidInput(f"--format is md, csv, html or xlsx, not {chosen[:20]!r}")
    if chosen == "xlsx" and output is None:
        raise InvalidInput("--format xlsx writes a workbook: give --output FILE.xlsx")
    if output is not None:
        check_target(Path(output), force=force)
    document = service.plan_document(
        context(db),
        ref,
        start=parse_date(from_, "--from") if from_ else None,
        end=parse_date(to, "--to") if to else None,
    )
    render.document(document, chosen, output, force)


@action_app.command("import")
def action_import(
    ref: RefArgument,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="A CSV file in the layout of docs/actions.md (Importing a plan)."
        ),
    ],
    on: OnOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Record a plan's recommendations and actions from a CSV file, with the same checks
    as each step typed alone, all or nothing (the chair's step)."""
    from pathlib import Path

    from casereview.cli.render import actions as render
    from casereview.infra.files import read_bounded
    from casereview.services import actions as service

    data = read_bounded(Path(file), service.IMPORT_LIMIT, what="an action plan")
    result = service.import_plan(context(db), ref, data, on=parse_date(on, "--on") if on else None)
    render.imported(result, as_json)
