"""`casereview log export|verify-export`: the scrutineer's decision log."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from casereview.cli.options import DbOption, context, jobs_parameter
from casereview.cli.params import parse_date
from casereview.errors import ExitCode
from casereview.formats.registry import DECISION_LOG_FORMATS

app = typer.Typer(no_args_is_help=True, help="The decision log: export it, verify an export.")

# The choices are the registry's formats (mypy cannot see members made from data).
LogFormat = StrEnum("LogFormat", [(f.name, f.name) for f in DECISION_LOG_FORMATS])  # type: ignore[misc]
FORMAT_HELP = ", ".join(f"{f.name} ({f.audience})" for f in DECISION_LOG_FORMATS) + "."
DEFAULT_FORMAT = LogFormat(DECISION_LOG_FORMATS[0].name)
LINE_FORMATS = " and ".join(f.name for f in DECISION_LOG_FORMATS if f.lines)


@app.command("export")
def export(
    case: Annotated[
        str | None, typer.Option("--case", metavar="REF", help="Only this case.")
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            metavar="USER",
            help="Only events this user recorded or that were recorded on their behalf.",
        ),
    ] = None,
    trigger: Annotated[
        str | None,
        typer.Option("--trigger", metavar="TRIGGER", help="Only events of this step."),
    ] = None,
    workflow: Annotated[
        str | None,
        typer.Option(
            "--workflow",
            metavar="ID",
            help="Only events recorded under this workflow (an installed id, or id@N for "
            "one version).",
        ),
    ] = None,
    date_from: Annotated[
        str | None,
        typer.Option("--from", metavar="YYYY-MM-DD", help="Only events on or after this date."),
    ] = None,
    date_to: Annotated[
        str | None,
        typer.Option("--to", metavar="YYYY-MM-DD", help="Only events on or before this date."),
    ] = None,
    fmt: Annotated[
        LogFormat,
        typer.Option("--format", help=FORMAT_HELP),
    ] = DEFAULT_FORMAT,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace FILE if it already exists.")
    ] = False,
    include_personal: Annotated[
        bool,
        typer.Option(
            "--include-personal",
            help="Include fields the workflow marks personal (recorded in the export): only "
            "for roles the workflow allows; the export is recorded in the log.",
        ),
    ] = False,
    jobs: Annotated[
        int | None,
        jobs_parameter(f"Lay out {LINE_FORMATS} events", "The file is the same either way."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Export every case event with its rationale, fields and clock positions.

    Events are selected by case, person (--actor), step (--trigger), review type
    (--workflow) and business date
    (--from/--to, inclusive), and read up to the end of the log as it stood when the
    export began. The export carries that chain head, its filter and a sha256 digest
    over both: check it later with 'log verify-export'.
    """
    from casereview.cli.render import exports as render
    from casereview.infra.output import check_target, destination
    from casereview.services import exports

    request = exports.LogExportRequest(
        format=fmt.value,
        case=case,
        date_from=parse_date(date_from, "--from") if date_from else None,
        date_to=parse_date(date_to, "--to") if date_to else None,
        include_personal=include_personal,
        actor=actor,
        trigger=trigger,
        workflow=workflow,
    )
    if output is not None:
        check_target(output, force=force)
    with render.progress("Exporting events") as advance, destination(output, force=force) as sink:
        result = exports.export_log(context(db), request, sink, progress=advance, jobs=jobs)
    render.log_exported(result, output)


@app.command("verify-export")
def verify_export(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A decision-log export.")],
    db: DbOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (keys in docs/exports.md).")
    ] = False,
) -> None:
    """Check an export's digest; with a database named by --db or the environment, also
    check every row against the log. Exit 7 if anything does not verify."""
    from casereview.cli.render import exports as render
    from casereview.services import exports
    from casereview.store import location

    # Only a database the person named is compared with the file: one checked on another
    # machine is checked on its own, never against this account's default database.
    ctx = context(db) if location.named(db) else None
    report = exports.verify_export(file, ctx)
    render.export_verification(report, as_json)
    if not report.ok:
        raise typer.Exit(int(ExitCode.VERIFICATION_FAILED))
