"""Options shared by many commands, and building the service context from them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

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
WorkflowOption = Annotated[
    str | None,
    typer.Option(
        "--workflow",
        metavar="ID",
        help="Only cases of this review type: an installed workflow id ('casereview "
        "workflow list'), or id@N for one version.",
    ),
]
IncludePersonalOption = Annotated[
    bool,
    typer.Option(
        "--include-personal",
        help="Also show fields the workflow marks personal (the child's name): only for "
        "roles the workflow allows; the view is recorded in the log.",
    ),
]


def jobs_parameter(work: str, same: str) -> Any:  # typer.Option is typed as Any
    """`--jobs N` of the commands that share a long pass over the log between processes
    (`infra.workers`): `work` is what N processes do, `same` what stays the same."""
    return typer.Option(
        "--jobs",
        "-j",
        metavar="N",
        min=1,
        max=64,
        help=f"{work} in N processes (default: one per CPU, up to 4, for logs of 200,000 "
        f"events or more; 1 keeps everything in one process). {same}",
    )


def context(db: str | None) -> ServiceContext:
    # Imported here: the context pulls in the clock and its time zone data, which
    # `--help` and usage errors never need.
    from casereview.services.context import ServiceContext

    return ServiceContext.from_options(db)
