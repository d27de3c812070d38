"""`casereview demo`: build a demonstration database and show it.

Without --db the demo writes `demo.db` in the user data directory, replacing the one
from the last run; it never reads CASEREVIEW_DB or CASEREVIEW_DATABASE_URL, so a real
database cannot be overwritten. With --db PATH it writes a new file and refuses one
that already exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casereview.cli import options
from casereview.errors import InvalidInput


def demo(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH",
            help="Write the demo to this new SQLite file (refused if it exists; default: "
            "demo.db in the user data directory, replaced on every run).",
        ),
    ] = None,
) -> None:
    """Record realistic cases of every review type dated from today, then show the
    dashboard and the timeline of the case whose publication is on hold."""
    from casereview.cli.render import demo as render
    from casereview.services import demo as service

    if db is not None and "://" in db:
        raise InvalidInput("the demo writes a new SQLite file; give --db a file path")
    path = Path(db).expanduser().resolve() if db else service.demo_path()
    with render.seeding():
        result = service.tour(options.context(str(path)), replace=db is None)
    render.tour(result)


def register(app: typer.Typer) -> None:
    """Add the `demo` command to the root app."""
    app.command("demo")(demo)
