"""`casereview workdays …`: the working-day calendar from the command line."""

from __future__ import annotations

import typer

app = typer.Typer(
    no_args_is_help=True, help="Working days in England and Wales: add, count back, count, explain."
)
