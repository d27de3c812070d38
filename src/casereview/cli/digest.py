"""`casereview digest`: email each person (and each agency's lead) what is overdue and
what falls due in the coming working days (`services.digest`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casereview.cli.options import DbOption, context
from casereview.cli.params import parse_date
from casereview.errors import ExitCode


def register(app: typer.Typer) -> None:
    """Add the `digest` command to the root app."""
    app.command("digest")(digest)


def digest(
    within: Annotated[
        int | None,
        typer.Option(
            "--within",
            metavar="N",
            min=0,
            help="Look N working days ahead (default: the settings' digest.within, else 5).",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", metavar="YYYY-MM-DD", help="Count from this date (default today)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="The digest settings file (default: $CASEREVIEW_DIGEST_CONFIG, else "
            "digest.toml in the user configuration directory; see docs/digest.md).",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print every digest instead of sending it (no settings file needed).",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Email each person, and each agency's lead, the clocks overdue or due within N
    working days that they must act on. Pseudonyms only; the SMTP password comes from
    an environment variable or the OS keyring, never the command line."""
    from casereview.cli.render import digest as render
    from casereview.services import digest as service

    result = service.digest(
        context(db),
        config=config,
        as_of=parse_date(as_of, "--as-of") if as_of else None,
        within=within,
        dry_run=dry_run,
    )
    render.digest_run(result)
    if result.failures:
        raise typer.Exit(int(ExitCode.ERROR))
