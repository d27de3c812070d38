"""`casereview backup` and `casereview restore`: a checked copy of a SQLite database,
and putting one back (`services.backup`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casereview.cli.options import DbOption, JsonOption, context, jobs_parameter
from casereview.errors import ExitCode


def register(app: typer.Typer) -> None:
    """Add the `backup` and `restore` commands to the root app."""
    app.command("backup")(backup)
    app.command("restore")(restore)


def backup(
    dest: Annotated[
        Path,
        typer.Argument(help="The new backup file (never an existing one)."),
    ],
    jobs: Annotated[
        int | None,
        jobs_parameter("Verify the copy", "The findings are the same either way."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Copy the database to DEST while others keep working, verify the copy, and write
    its checkpoint beside it (DEST.checkpoint.json); exit 7 if the copy does not verify."""
    from casereview.cli.render import backup as render
    from casereview.services import backup as service

    result = service.take_backup(context(db), dest, jobs=jobs)
    render.backup_taken(result, as_json)
    if not result.report.ok:
        raise typer.Exit(int(ExitCode.VERIFICATION_FAILED))


def restore(
    backup_file: Annotated[
        Path,
        typer.Argument(help="A backup taken by 'casereview backup'."),
    ],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace the database that is there (it is kept beside itself first).",
        ),
    ] = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            metavar="FILE",
            help="Verify the backup against this checkpoint (default: BACKUP.checkpoint.json "
            "when it exists).",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        jobs_parameter("Verify the backup", "The findings are the same either way."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify BACKUP and put it in place as the database; a backup that does not verify
    is refused (exit 7) and nothing changes."""
    from casereview.cli.render import backup as render
    from casereview.services import backup as service

    result = service.restore(
        context(db), backup_file, replace=replace, checkpoint_file=checkpoint, jobs=jobs
    )
    render.restored(result, as_json)
