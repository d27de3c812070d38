"""`casereview audit verify|checkpoint`: the scrutineer's checks on the log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casereview.cli.options import DbOption, JsonOption, context, jobs_parameter
from casereview.errors import ExitCode

app = typer.Typer(no_args_is_help=True, help="Verify the audit trail; take checkpoints.")


@app.command("verify")
def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            metavar="FILE",
            help="A checkpoint saved earlier: also detect a shortened log or an older copy.",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        jobs_parameter("Replay the cases", "The findings are the same either way."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Check every signature again, not only those after your last clean "
            "verification of this log (slow on large logs: docs/audit.md).",
        ),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the hash chain, check signatures and replay every case; exit 7 on any
    finding."""
    from casereview.cli.render import audit as render
    from casereview.services import audit

    with render.progress("Verifying events") as advance:
        report = audit.verify(
            context(db), checkpoint_file=checkpoint, progress=advance, jobs=jobs, full=full
        )
    render.verification(report, as_json)
    if not report.ok:
        raise typer.Exit(int(ExitCode.VERIFICATION_FAILED))


@app.command("checkpoint")
def checkpoint(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace FILE if it already exists.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Print the log's size and head hash, for the scrutineer to keep somewhere safe."""
    from casereview.cli.render import audit as render
    from casereview.infra.output import check_target, destination
    from casereview.services import audit

    if output is not None:
        check_target(output, force=force)  # a kept checkpoint is evidence: never replaced unasked
    taken = audit.checkpoint(context(db))
    with destination(output, force=force) as sink:
        sink.write(render.checkpoint_text(taken).encode("utf-8"))
    render.checkpoint_written(taken, output)
