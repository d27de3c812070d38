"""Options shared by many commands, and building the service context from them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from casereview.services.context import ServiceContext

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="PATH",
        help="SQLite database file, or a database URL (default: $CASEREVIEW_DATABASE_URL, "
        "else $CASEREVIEW_DB, else casereview.db in the user data directory).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (stable keys) for scripts.")]


def context(db: str | None) -> ServiceContext:
    # Imported here: the context pulls in the clock and its time zone data, which
    # `--help` and usage errors never need.
    from casereview.services.context import ServiceContext

    return ServiceContext.from_options(db)
